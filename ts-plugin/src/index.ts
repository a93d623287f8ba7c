// A TypeScript server plugin, loaded by VS Code's own TypeScript for every project (contributes.typescriptServerPlugins).
// It gives sheets full IntelliSense with no npm install: a `"uzoncalc"` import that resolves to nothing else
// resolves to the runtime's declarations shipped beside this file. A project that has a real `uzoncalc`
// package keeps it. In sheets (`*.calc.ts|js`) it also drops TS7057 on `yield UI(...)`: under `noImplicitAny` an
// un-annotated generator makes every `yield` an error, although the UzonCalc language server types what the
// form resumes with.

import * as path from "node:path";
import type * as ts from "typescript/lib/tsserverlibrary";
import { isSheetFileName } from "../../protocol/limits";

const RUNTIME_MODULE = /^uzoncalc(\/.*)?$/;
/** "'yield' expression implicitly results in an 'any' type because its containing generator lacks a return-type annotation." */
const YIELD_IMPLICIT_ANY = 7057;
const YIELD_UI = /^yield\s*\*?\s*UI\s*\(/;

/** The runtime's declarations beside this plugin, by module name; its "./uzoncalc" imports resolve beside them. */
const DECLARATIONS: Record<string, string> = { uzoncalc: "uzoncalc.d.ts", "uzoncalc/units": "uzoncalc-units.d.ts" };

function declarationsFor(moduleName: string): string | undefined {
  const file = DECLARATIONS[moduleName];
  return file ? path.join(__dirname, "..", file) : undefined;
}

function init(modules: { typescript: typeof ts }): ts.server.PluginModule {
  const typescript = modules.typescript;

  function create(info: ts.server.PluginCreateInfo): ts.LanguageService {
    const host = info.languageServiceHost;
    const log = (message: string) => info.project.projectService.logger.info(`[uzoncalc] ${message}`);

    const fallback = (name: string, resolved: ts.ResolvedModuleFull | undefined): ts.ResolvedModuleFull | undefined => {
      if (resolved || !RUNTIME_MODULE.test(name)) return resolved;
      const file = declarationsFor(name);
      return file ? { resolvedFileName: file, extension: typescript.Extension.Dts, isExternalLibraryImport: true } : undefined;
    };

    const original = host.resolveModuleNameLiterals?.bind(host);
    if (original) {
      host.resolveModuleNameLiterals = (literals, containingFile, redirected, options, sourceFile, reused) => {
        const results = original(literals, containingFile, redirected, options, sourceFile, reused);
        return results.map((result, index) => {
          const resolvedModule = fallback(literals[index]!.text, result.resolvedModule);
          return resolvedModule === result.resolvedModule ? result : { ...result, resolvedModule };
        });
      };
    } else {
      // Hosts without the literal-based API resolve through the compiler's own resolution.
      host.resolveModuleNameLiterals = (literals, containingFile, redirected, options) =>
        literals.map((literal) => {
          const result = typescript.resolveModuleName(literal.text, containingFile, options, typescript.sys, undefined, redirected);
          const resolvedModule = fallback(literal.text, result.resolvedModule);
          return resolvedModule === result.resolvedModule ? result : { ...result, resolvedModule };
        });
    }

    const service = info.languageService;
    const proxy: ts.LanguageService = Object.create(null);
    for (const key of Object.keys(service) as (keyof ts.LanguageService)[]) {
      const member = service[key];
      (proxy as unknown as Record<string, unknown>)[key] =
        typeof member === "function" ? (member as (...args: unknown[]) => unknown).bind(service) : member;
    }
    proxy.getSemanticDiagnostics = (fileName) => {
      const diagnostics = service.getSemanticDiagnostics(fileName);
      if (!isSheetFileName(fileName)) return diagnostics;
      return diagnostics.filter(
        (d) =>
          !(d.code === YIELD_IMPLICIT_ANY && d.file && d.start !== undefined && YIELD_UI.test(d.file.text.slice(d.start, d.start + 64))),
      );
    };
    log(`active for ${info.project.getProjectName()}`);
    return proxy;
  }

  return { create };
}

export = init;
