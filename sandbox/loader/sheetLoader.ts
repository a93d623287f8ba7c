// The sheet loader: turns a sheet (a file inside the safe dirs, or source text with its imports) into one
// classic script plus a source map. This runs in trusted code only; sheet code never runs here.

import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import * as acorn from "acorn";
import * as walk from "acorn-walk";
import * as esbuild from "esbuild";
import { TraceMap } from "@jridgewell/trace-mapping";
import { Refusal } from "../../protocol/refusal";
import type { SheetError } from "../../protocol/rpc";
import { REALM, RUNTIME_EXPORTS } from "../runtime/abi";
import { instrumentSheet } from "./instrument";
import { unitsModuleSource } from "../runtime/units/unitNames";
import { SafeDirs } from "./safeDirs";
import { originalPosition } from "./sourceMap";

const RUNTIME_NAMESPACE = "uzoncalc-runtime";
const SOURCE_NAMESPACE = "uzon-src";
const BANNER = "try {";
const FOOTER = `} catch (__uzon_error) { ${REALM.fail}(__uzon_error); }`;
const SHEET_EXTENSIONS = [".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs"];

/** Where a source in the bundle's map came from. */
export interface SheetSource {
  /** Path relative to the sheet's folder, with '/' separators ("beam.calc.ts", "lib/sections.ts"). */
  display: string;
  isEntry: boolean;
  isRuntime: boolean;
}

export interface LoadedSheet {
  /** sha256 of the bundle: what a session records and a replay needs. */
  hash: string;
  code: string;
  /** The name V8 gives the bundle's frames; stack frames with it are mapped back to the sheet. */
  scriptName: string;
  /** The sheet's name as the user knows it ("beam.calc.ts"). */
  filename: string;
  /** The sheet's real path (file sheets) or its name (source sheets). */
  origin: string;
  map: TraceMap;
  sources: SheetSource[];
}

export type LoadResult = { ok: true; sheet: LoadedSheet; cached: boolean; ms: number } | { ok: false; error: SheetError; ms: number };

interface Dependency {
  path: string;
  mtimeMs: number;
  size: number;
  sha256: string;
}

interface FileCacheEntry {
  /** The sheet's real path. */
  entry: string;
  sheet: LoadedSheet;
  dependencies: Dependency[];
}

const SOURCE_CACHE_LIMIT = 200;

function sha256(text: string | Buffer): string {
  return createHash("sha256").update(text).digest("hex");
}

function runtimeShim(): string {
  return `const m = globalThis.${REALM.module};\n` + RUNTIME_EXPORTS.map((name) => `export const ${name} = m.${name};`).join("\n");
}

let unitsShimSource: string | undefined;

/** "uzoncalc/units": `unit()` and the named units, from the realm's units object (runtime/units). */
function unitsShim(): string {
  return (unitsShimSource ??= unitsModuleSource(REALM.units));
}

function loaderFor(file: string): esbuild.Loader {
  const ext = path.extname(file).toLowerCase();
  if (ext === ".ts" || ext === ".mts" || ext === ".cts") return "ts";
  if (ext === ".tsx") return "tsx";
  if (ext === ".jsx") return "jsx";
  if (ext === ".json") return "json";
  return "js";
}

/** What esbuild reads as code and follows `sourceMappingURL` comments in; the loader hands it these itself. */
const CODE_EXTENSIONS = new Set([...SHEET_EXTENSIONS, ".json"]);

const SOURCE_MAP_COMMENT = /^[ \t]*\/\/[#@][ \t]*sourceMappingURL=(\S*)[ \t]*$/gm;

/**
 * A module's text with every `//# sourceMappingURL=` that points at a file `readable` refuses made inert: the
 * bundler would read that map (and echo its sources in errors). Inline `data:` maps stay.
 */
function withoutOutsideSourceMaps(text: string, file: string, readable: (file: string) => boolean): string {
  return text.replace(SOURCE_MAP_COMMENT, (comment, url: string) => {
    if (url.startsWith("data:")) return comment;
    let target: string;
    try {
      target = url.startsWith("file:") ? fileURLToPath(url) : path.resolve(path.dirname(file), decodeURIComponent(url));
    } catch {
      return "";
    }
    return readable(target) ? comment : "";
  });
}

function isLocalSpecifier(specifier: string): boolean {
  return specifier.startsWith("./") || specifier.startsWith("../") || specifier === "." || specifier === "..";
}

function notAllowedImport(specifier: string): string {
  return `Sheets can import only "uzoncalc" and their own relative files ("./x", "../x"), and "uzoncalc/units"; "${specifier}" is not allowed.`;
}

/** The shared part of the esbuild plugin: `uzoncalc` is always the in-realm runtime, bare imports are refused. */
function runtimePlugin(setupLocal: (build: esbuild.PluginBuild) => void): esbuild.Plugin {
  return {
    name: "uzoncalc",
    setup(build) {
      build.onResolve({ filter: /^uzoncalc(?:\/units)?$/ }, (args) => ({ path: args.path, namespace: RUNTIME_NAMESPACE }));
      build.onLoad({ filter: /.*/, namespace: RUNTIME_NAMESPACE }, (args) => ({
        contents: args.path === "uzoncalc/units" ? unitsShim() : runtimeShim(),
        loader: "js",
      }));
      setupLocal(build);
    },
  };
}

/** Explicit options: a sheet's own tsconfig must not change how it is bundled or resolved. */
export const TSCONFIG_RAW = { compilerOptions: { target: "ES2022", useDefineForClassFields: true, verbatimModuleSyntax: false } } as const;

/**
 * The sheet's own module as the bundler gets it: instrumented for the calculation report (its sheet functions'
 * statements render), or as written when there is nothing to render or `render` is false.
 */
async function sheetModule(
  source: string,
  file: string,
  render: boolean,
): Promise<{ result: esbuild.OnLoadResult; instrumented: boolean }> {
  const instrumented = render
    ? await instrumentSheet({ source, sourceName: path.basename(file), loader: loaderFor(file), tsconfigRaw: TSCONFIG_RAW })
    : undefined;
  return instrumented
    ? { result: { contents: instrumented.contents, loader: "js" }, instrumented: true }
    : { result: { contents: source, loader: loaderFor(file) }, instrumented: false };
}

function baseOptions(workingDir: string): esbuild.BuildOptions {
  return {
    bundle: true,
    write: false,
    format: "iife",
    globalName: REALM.sheet,
    platform: "neutral",
    target: "es2022",
    outfile: path.join(workingDir, "__uzon_sheet.js"),
    absWorkingDir: workingDir,
    sourcemap: "external",
    sourcesContent: false,
    metafile: true,
    charset: "utf8",
    legalComments: "none",
    logLevel: "silent",
    // esbuild turns import.meta into {} in an IIFE (so the bundle check never sees it): refuse it at the source.
    logOverride: { "empty-import-meta": "error" },
    banner: { js: BANNER },
    footer: { js: FOOTER },
    tsconfigRaw: TSCONFIG_RAW,
    mainFields: [],
    conditions: [],
    resolveExtensions: SHEET_EXTENSIONS,
  };
}

export interface SheetLoaderOptions {
  safeDirs: SafeDirs;
}

export class SheetLoader {
  private readonly fileCache = new Map<string, FileCacheEntry>();
  private readonly sourceCache = new Map<string, LoadedSheet>();
  private readonly inFlight = new Map<string, Promise<LoadResult>>();

  constructor(private readonly options: SheetLoaderOptions) {}

  get cachedSheets(): number {
    return this.fileCache.size + this.sourceCache.size;
  }

  /**
   * Loads a sheet file. Throws a Refusal for a missing file (404) or one outside the safe dirs (403). `scope` keeps
   * a cache of its own (one per token on a shared service): no caller can tell by the time it takes whether
   * another one loaded the same sheet.
   */
  async loadFile(requested: string, scope = ""): Promise<LoadResult> {
    const started = performance.now();
    // The hot path of a service: a sheet resolved a moment ago whose bundle is cached and still fresh.
    const lately = this.options.safeDirs.resolvedLately(requested);
    const hit = lately !== undefined ? this.freshHit(`${scope}\0${lately}`, started) : undefined;
    if (hit) return hit;
    const entry = this.options.safeDirs.resolveSheet(requested);
    const key = `${scope}\0${entry}`;
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const work = this.loadFileUncoalesced(entry, key).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, work);
    return work;
  }

  async loadSource(source: string, filename = "sheet.calc.ts", files: Record<string, string> = {}, scope = ""): Promise<LoadResult> {
    const started = performance.now();
    const key = sha256(JSON.stringify([scope, filename, source, Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1))]));
    const hit = this.sourceCache.get(key);
    if (hit) {
      this.sourceCache.delete(key);
      this.sourceCache.set(key, hit); // most recently used last
      return { ok: true, sheet: hit, cached: true, ms: performance.now() - started };
    }
    const result = await this.bundleSource(source, filename, files);
    if (result.ok) {
      this.sourceCache.set(key, result.sheet);
      if (this.sourceCache.size > SOURCE_CACHE_LIMIT) this.sourceCache.delete(this.sourceCache.keys().next().value!);
    }
    const ms = performance.now() - started;
    return result.ok ? { ok: true, sheet: result.sheet, cached: false, ms } : { ok: false, error: result.error, ms };
  }

  /** Drops cached bundles of a file (and of every sheet that imports it), or all of them. */
  invalidate(filePath?: string): number {
    if (filePath === undefined) {
      const count = this.fileCache.size + this.sourceCache.size;
      this.fileCache.clear();
      this.sourceCache.clear();
      return count;
    }
    let real: string;
    try {
      real = fs.realpathSync.native(path.resolve(filePath));
    } catch {
      real = path.resolve(filePath);
    }
    let count = 0;
    for (const [key, entry] of this.fileCache) {
      if (entry.entry === real || entry.dependencies.some((d) => d.path === real)) {
        this.fileCache.delete(key);
        count++;
      }
    }
    return count;
  }

  private async loadFileUncoalesced(entry: string, key: string): Promise<LoadResult> {
    const started = performance.now();
    const hit = this.freshHit(key, started);
    if (hit) return hit;
    const result = await this.bundleFile(entry);
    if (result.ok) this.fileCache.set(key, { entry, sheet: result.sheet, dependencies: result.dependencies });
    else this.fileCache.delete(key);
    return result.ok
      ? { ok: true, sheet: result.sheet, cached: false, ms: performance.now() - started }
      : { ok: false, error: result.error, ms: performance.now() - started };
  }

  /** The cached bundle under `key`, when it is there and still fresh. */
  private freshHit(key: string, started: number): LoadResult | undefined {
    const cached = this.fileCache.get(key);
    return cached && this.isFresh(cached) ? { ok: true, sheet: cached.sheet, cached: true, ms: performance.now() - started } : undefined;
  }

  /** A cached bundle is fresh when every file it was built from still has the same content. */
  private isFresh(entry: FileCacheEntry): boolean {
    for (const dependency of entry.dependencies) {
      let stat: fs.Stats;
      try {
        stat = fs.statSync(dependency.path);
      } catch {
        return false;
      }
      if (stat.mtimeMs === dependency.mtimeMs && stat.size === dependency.size) continue;
      // The timestamp moved: the content decides (an editor's save without changes keeps the bundle).
      if (sha256(fs.readFileSync(dependency.path)) !== dependency.sha256) return false;
      dependency.mtimeMs = stat.mtimeMs;
      dependency.size = stat.size;
    }
    return true;
  }

  /**
   * Bundles a sheet file. A bundle that fails with the instrumented sheet is made again from the sheet as written,
   * so a compile error points at the sheet's own line (esbuild places it in the code it was given).
   */
  private async bundleFile(
    entry: string,
    render = true,
  ): Promise<{ ok: true; sheet: LoadedSheet; dependencies: Dependency[] } | { ok: false; error: SheetError }> {
    const workingDir = path.dirname(entry);
    const safeDirs = this.options.safeDirs;
    let violation: Refusal | undefined;
    let instrumented = false;
    // The same refusal for every way a file outside the safe dirs would be read, and the same as a plain `../` import.
    const refuse = (file: string, what: string) => {
      const shown = path.relative(workingDir, file) || path.basename(file);
      violation ??= new Refusal("forbidden", `${shown} ${what}, outside the safe directories (${safeDirs.describe()}).`);
      return { errors: [{ text: violation.message }] };
    };
    const plugin = runtimePlugin((build) => {
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.kind === "entry-point" || (args.pluginData as { inner?: boolean } | undefined)?.inner) return undefined;
        if (!isLocalSpecifier(args.path) && !path.isAbsolute(args.path)) return { errors: [{ text: notAllowedImport(args.path) }] };
        const resolved = await build.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: { inner: true },
        });
        if (resolved.errors.length > 0) return { errors: resolved.errors };
        const real = safeDirs.realInside(resolved.path);
        if (real === undefined) return refuse(args.importer, `imports "${args.path}", which resolves to ${resolved.path}`);
        return { path: real };
      });
      // Every file the bundler reads comes through here, also those a glob import (`require("../data/" + name)`)
      // expands to without asking onResolve: each must be inside the safe dirs.
      build.onLoad({ filter: /.*/, namespace: "file" }, async (args) => {
        const real = safeDirs.realInside(args.path);
        if (real === undefined) return refuse(args.path, "is read by the bundler (a glob import expands to it)");
        if (!CODE_EXTENSIONS.has(path.extname(real).toLowerCase())) return undefined;
        const text = withoutOutsideSourceMaps(
          await fs.promises.readFile(real, "utf8"),
          real,
          (file) => safeDirs.realInside(file) !== undefined,
        );
        if (args.path !== entry) return { contents: text, loader: loaderFor(real) };
        const loaded = await sheetModule(text, entry, render);
        instrumented = loaded.instrumented;
        return loaded.result;
      });
    });
    let output: esbuild.BuildResult<{ write: false; metafile: true }>;
    try {
      output = (await esbuild.build({ ...baseOptions(workingDir), entryPoints: [entry], plugins: [plugin] })) as esbuild.BuildResult<{
        write: false;
        metafile: true;
      }>;
    } catch (failure) {
      if (violation) throw violation;
      if (instrumented) return this.bundleFile(entry, false);
      return { ok: false, error: compileError(failure, (file) => this.displayFileSource(file, workingDir, entry)) };
    }
    const sources = (file: string) => this.displayFileSource(file, workingDir, entry);
    const made = finishBundle(output, path.basename(entry), entry, sources);
    if (!made.ok) return made;
    const dependencies: Dependency[] = [];
    for (const input of Object.keys(output.metafile.inputs)) {
      if (input.startsWith(RUNTIME_NAMESPACE + ":")) continue;
      const file = safeDirs.realInside(path.resolve(workingDir, input));
      // Every input came through onLoad's check; one that did not is refused rather than read here.
      if (file === undefined)
        throw new Refusal("forbidden", `The bundle read ${input}, outside the safe directories (${safeDirs.describe()}).`);
      const content = fs.readFileSync(file);
      const stat = fs.statSync(file);
      dependencies.push({ path: file, mtimeMs: stat.mtimeMs, size: stat.size, sha256: sha256(content) });
    }
    return { ok: true, sheet: made.sheet, dependencies };
  }

  private displayFileSource(source: string, workingDir: string, entry: string): SheetSource {
    if (source.startsWith(RUNTIME_NAMESPACE + ":")) return { display: "uzoncalc", isEntry: false, isRuntime: true };
    const absolute = path.resolve(workingDir, source);
    return { display: path.relative(workingDir, absolute).split(path.sep).join("/"), isEntry: absolute === entry, isRuntime: false };
  }

  private async bundleSource(
    source: string,
    filename: string,
    files: Record<string, string>,
    render = true,
  ): Promise<{ ok: true; sheet: LoadedSheet } | { ok: false; error: SheetError }> {
    let instrumented = false;
    const entryKey = path.posix.basename(filename.split("\\").join("/")) || "sheet.calc.ts";
    const virtualFiles = new Map<string, string>();
    for (const [key, text] of Object.entries(files))
      virtualFiles.set(path.posix.normalize(key.split("\\").join("/")).replace(/^\.\//, ""), text);
    virtualFiles.set(entryKey, source);
    const plugin = runtimePlugin((build) => {
      build.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === "entry-point") return { path: entryKey, namespace: SOURCE_NAMESPACE };
        if (!isLocalSpecifier(args.path)) return { errors: [{ text: notAllowedImport(args.path) }] };
        const base = path.posix.normalize(path.posix.join(path.posix.dirname(args.importer), args.path));
        const candidates = [base, ...SHEET_EXTENSIONS.map((ext) => base + ext), ...SHEET_EXTENSIONS.map((ext) => `${base}/index${ext}`)];
        const found = candidates.find((candidate) => virtualFiles.has(candidate));
        if (found === undefined) {
          return {
            errors: [{ text: `Could not resolve "${args.path}": the request's \`files\` has no ${base} (give it as files["${base}"]).` }],
          };
        }
        return { path: found, namespace: SOURCE_NAMESPACE };
      });
      build.onLoad({ filter: /.*/, namespace: SOURCE_NAMESPACE }, async (args) => {
        // A sheet sent as text reads nothing from this disk, its source maps included.
        const noDisk = () => false;
        if (args.path !== entryKey) {
          return {
            contents: withoutOutsideSourceMaps(virtualFiles.get(args.path) ?? "", `/${args.path}`, noDisk),
            loader: loaderFor(args.path),
          };
        }
        const loaded = await sheetModule(withoutOutsideSourceMaps(source, `/${entryKey}`, noDisk), entryKey, render);
        instrumented = loaded.instrumented;
        return loaded.result;
      });
    });
    // No file is read in this mode: a remote sandbox must never look at its own disk for a user's sheet.
    const workingDir = path.resolve("/uzoncalc-source");
    const display = (file: string): SheetSource => {
      if (file.startsWith(RUNTIME_NAMESPACE + ":")) return { display: "uzoncalc", isEntry: false, isRuntime: true };
      const key = file.startsWith(SOURCE_NAMESPACE + ":") ? file.slice(SOURCE_NAMESPACE.length + 1) : file;
      return { display: key === entryKey ? filename : key, isEntry: key === entryKey, isRuntime: false };
    };
    let output: esbuild.BuildResult<{ write: false; metafile: true }>;
    try {
      output = (await esbuild.build({ ...baseOptions(workingDir), entryPoints: [entryKey], plugins: [plugin] })) as esbuild.BuildResult<{
        write: false;
        metafile: true;
      }>;
    } catch (failure) {
      if (instrumented) return this.bundleSource(source, filename, files, false);
      return { ok: false, error: compileError(failure, display) };
    }
    return finishBundle(output, filename, filename, display);
  }
}

function finishBundle(
  output: esbuild.BuildResult<{ write: false; metafile: true }>,
  filename: string,
  origin: string,
  display: (source: string) => SheetSource,
): { ok: true; sheet: LoadedSheet } | { ok: false; error: SheetError } {
  const js = output.outputFiles.find((f) => f.path.endsWith(".js"));
  const mapFile = output.outputFiles.find((f) => f.path.endsWith(".js.map"));
  if (!js || !mapFile) return { ok: false, error: { name: "CompileError", message: "The bundler produced no output." } };
  const code = js.text.replace(/\n\/\/# sourceMappingURL=.*\n?$/, "\n");
  const map = new TraceMap(mapFile.text);
  const sources = map.sources.map((s) => display(s ?? ""));
  const hash = sha256(code);
  const sheet: LoadedSheet = {
    hash,
    code,
    scriptName: `uzoncalc://sheet/${hash.slice(0, 16)}/${filename}`,
    filename,
    origin,
    map,
    sources,
  };
  const forbidden = findForbiddenSyntax(code);
  if (forbidden) {
    const position = originalPosition(sheet, forbidden.line, forbidden.column);
    const error: SheetError = { name: "CompileError", message: forbidden.message };
    if (position) {
      error.line = position.line;
      error.column = position.column;
      if (position.file) error.file = position.file;
    }
    return { ok: false, error };
  }
  return { ok: true, sheet };
}

/**
 * `import()` and `import.meta` are refused in the final bundle: inside a vm context an `import()` rejects with
 * an error from the host realm, a way to the host's `process` (traps.md item 1).
 */
function findForbiddenSyntax(code: string): { line: number; column: number; message: string } | undefined {
  // Both need the keyword, and a keyword is written whole (escapes in one are a syntax error), so a bundle without
  // the word is not parsed again: most are not (esbuild names a sheet's imports import_x). The parse was the
  // largest part of a sandbox's first bundle: ~45 ms of its cold start on this machine.
  if (!/\bimport\b/.test(code)) return undefined;
  let found: { line: number; column: number; message: string } | undefined;
  let ast: acorn.Node;
  try {
    ast = acorn.parse(code, { ecmaVersion: "latest", sourceType: "script", locations: true });
  } catch (error) {
    return { line: 1, column: 0, message: `The bundled sheet could not be parsed: ${(error as Error).message}` };
  }
  const report = (node: acorn.Node, message: string) => {
    if (!found && node.loc) found = { line: node.loc.start.line, column: node.loc.start.column, message };
  };
  walk.simple(ast, {
    ImportExpression(node) {
      report(node, 'Dynamic import() is not allowed in a sheet. Import local files statically: import { x } from "./file".');
    },
    MetaProperty(node) {
      const meta = node as unknown as { meta: { name: string } };
      if (meta.meta.name === "import") report(node, "import.meta is not available in a sheet.");
    },
  });
  return found;
}

function compileError(failure: unknown, display: (source: string) => SheetSource): SheetError {
  const errors = (failure as { errors?: esbuild.Message[] }).errors;
  const first = errors?.[0];
  if (!first) return { name: "CompileError", message: failure instanceof Error ? failure.message : String(failure) };
  const error: SheetError = { name: "CompileError", message: first.text };
  if (errors && errors.length > 1) error.message += ` (and ${errors.length - 1} more error${errors.length > 2 ? "s" : ""})`;
  if (first.location) {
    const source = display(first.location.file);
    error.line = first.location.line;
    error.column = first.location.column + 1;
    if (!source.isEntry && !source.isRuntime) error.file = source.display;
  }
  return error;
}
