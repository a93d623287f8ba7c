// A TypeScript server plugin, loaded by VS Code's own TypeScript for every project (contributes.typescriptServerPlugins).
// It gives sheets full IntelliSense with no npm install: a `"uzoncalc"` import that resolves to nothing else
// resolves to the runtime's declarations shipped beside this file. A project that has a real `uzoncalc`
// package keeps it. In sheets (`*.calc.ts|js`) it also drops TS7057 on `yield UI(...)`: under `noImplicitAny` an
// un-annotated generator makes every `yield` an error, although the UzonCalc language server types what the
// form resumes with. And it leaves to the language server what the server says better: TypeScript's complaint about
// a literal in a window spec (`type: "numbr"`, ts(2820)), which the server reports as UZC1xxx in the author's terms,
// and its hover over a window's value (`g.span`), which it can only call `any`.

import * as path from "node:path";
import type * as ts from "typescript/lib/tsserverlibrary";
import { isSheetFileName } from "../../protocol/limits";

const RUNTIME_MODULE = /^uzoncalc(\/.*)?$/;
/** "'yield' expression implicitly results in an 'any' type because its containing generator lacks a return-type annotation." */
const YIELD_IMPLICIT_ANY = 7057;
const YIELD_UI = /^yield\s*\*?\s*UI\s*\(/;
/** Not assignable (2322, 2820 "did you mean"), not a known property (2353, 2561): what the spec check says in its own words. */
const SPEC_TYPE_ERRORS = new Set([2322, 2820, 2353, 2561]);
const SPEC_CALLS = new Set(["Window", "UI"]);

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
      return diagnostics.filter((d) => {
        if (!d.file || d.start === undefined) return true;
        if (d.code === YIELD_IMPLICIT_ANY) return !YIELD_UI.test(d.file.text.slice(d.start, d.start + 64));
        return !(SPEC_TYPE_ERRORS.has(d.code) && inStaticSpec(d.file, d.start));
      });
    };
    proxy.getQuickInfoAtPosition = (fileName, position) => {
      const info = service.getQuickInfoAtPosition(fileName, position);
      if (!info || !isSheetFileName(fileName)) return info;
      const sourceFile = service.getProgram()?.getSourceFile(fileName);
      const node = sourceFile && deepestAt(sourceFile, position);
      return node && readsWindowValues(node) ? undefined : info;
    };

    /** The innermost node that spans `position`. */
    function deepestAt(sourceFile: ts.SourceFile, position: number): ts.Node | undefined {
      let found: ts.Node | undefined;
      const visit = (node: ts.Node): void => {
        if (position < node.getStart(sourceFile) || position >= node.end) return;
        found = node;
        typescript.forEachChild(node, visit);
      };
      typescript.forEachChild(sourceFile, visit);
      return found;
    }

    /** `Window({...})` or `UI({...})`, by the callee's name. */
    function isSpecCall(node: ts.Node | undefined): boolean {
      return (
        !!node && typescript.isCallExpression(node) && typescript.isIdentifier(node.expression) && SPEC_CALLS.has(node.expression.text)
      );
    }

    function isLiteral(node: ts.Expression): boolean {
      if (typescript.isArrayLiteralExpression(node)) return node.elements.every((element) => isLiteral(element));
      return (
        typescript.isStringLiteralLike(node) ||
        typescript.isNumericLiteral(node) ||
        node.kind === typescript.SyntaxKind.TrueKeyword ||
        node.kind === typescript.SyntaxKind.FalseKeyword ||
        (typescript.isPrefixUnaryExpression(node) && typescript.isNumericLiteral(node.operand))
      );
    }

    /**
     * Whether `position` is in an attribute of a window or field spec written inline in `Window(...)`/`UI(...)`
     * whose value is a literal: what the language server's spec check reads and reports (UZC1xxx).
     */
    function inStaticSpec(sourceFile: ts.SourceFile, position: number): boolean {
      let node = deepestAt(sourceFile, position);
      while (node && !typescript.isPropertyAssignment(node)) node = node.parent;
      if (!node || !typescript.isPropertyAssignment(node) || !isLiteral(node.initializer)) return false;
      const owner = node.parent;
      if (!typescript.isObjectLiteralExpression(owner)) return false;
      if (isSpecCall(owner.parent)) return true;
      const list = owner.parent;
      const fields = list?.parent;
      return (
        !!list &&
        typescript.isArrayLiteralExpression(list) &&
        !!fields &&
        typescript.isPropertyAssignment(fields) &&
        typescript.isIdentifier(fields.name) &&
        fields.name.text === "fields" &&
        typescript.isObjectLiteralExpression(fields.parent) &&
        isSpecCall(fields.parent.parent)
      );
    }

    /** `g` or `g.span` where `const g = yield UI(...)`: TypeScript types it `any`; the language server's hover knows the field. */
    function readsWindowValues(node: ts.Node): boolean {
      const target =
        typescript.isIdentifier(node) && node.parent && typescript.isPropertyAccessExpression(node.parent) && node.parent.name === node
          ? node.parent.expression
          : node;
      if (!typescript.isIdentifier(target)) return false;
      const declaration = service.getProgram()?.getTypeChecker().getSymbolAtLocation(target)?.valueDeclaration;
      if (!declaration || !typescript.isVariableDeclaration(declaration) || !declaration.initializer) return false;
      const init = declaration.initializer;
      return (
        typescript.isYieldExpression(init) &&
        !init.asteriskToken &&
        !!init.expression &&
        typescript.isCallExpression(init.expression) &&
        typescript.isIdentifier(init.expression.expression) &&
        init.expression.expression.text === "UI"
      );
    }
    log(`active for ${info.project.getProjectName()}`);
    return proxy;
  }

  return { create };
}

export = init;
