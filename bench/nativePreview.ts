// `npm run bench` (checker part): the language server's per-edit re-check is bounded below by TypeScript's
// checker (issue 15 item 6), so this measures the checker alone, two ways, on what the server checks: the
// language-server bench's 600-line sheet as the server rewrites it (server/src/sheetRewrite.ts), the server's own
// `uzoncalc` declarations, the same one-character edit and the sheet compiler options (server/src/sheetHost.ts):
//   TypeScript 6   — the classic language service in this process (what the server uses); then the same with
//                    every window's type written out, which shows what inferring the windows costs and what
//                    the rest of the sheet costs the checker without it
//   native preview — TypeScript 7's Go checker (`tsgo`) through its synchronous JS API, a child process
// The preview is not a dependency (about 27 MB per platform, an unstable API): set UZC_TSGO_DIR to a folder where
// `npm i @typescript/native-preview@7.0.0-dev.20260707.2` was run, or the second half is skipped with a note.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as ts from "typescript";
import { createRuntimeModule } from "../server/src/runtimeModule";
import { SheetFiles } from "../server/src/sheetFiles";
import { sheetCompilerOptions } from "../server/src/sheetHost";
import { loadTypeScriptLibs } from "../server/src/typescriptLibs";
import { generateSheet } from "./languageServer";
import { loadAverage, median, percentile, row } from "./util";

const EDITS = 60;
const WARM_UP_EDITS = 5;
const TSGO_DIR = process.env.UZC_TSGO_DIR;

/**
 * The sheet compiler options (the server's own) as a tsconfig, for the preview: it reads projects, not option
 * objects. Enum values become their names, lib files their short names.
 */
function sheetTsconfig(): object {
  const options = sheetCompilerOptions();
  const names: Record<string, Record<number, string>> = {
    target: ts.ScriptTarget,
    module: ts.ModuleKind,
    moduleResolution: ts.ModuleResolutionKind,
    moduleDetection: ts.ModuleDetectionKind,
  };
  const compilerOptions: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (key === "lib") compilerOptions.lib = (value as string[]).map((file) => file.replace(/^lib\.|\.d\.ts$/g, ""));
    else compilerOptions[key] = typeof value === "number" && names[key] ? names[key][value] : value;
  }
  return { compilerOptions, files: ["sheet.calc.ts"] };
}

/** The sheet with one digit toggled mid-sheet (as bench/languageServer.ts edits it). */
function edited(text: string, index: number): string {
  const at = text.indexOf("= 1.35 * gammaQ", text.length / 2) + 5;
  return text.slice(0, at) + (index % 2 === 0 ? "6" : "5") + text.slice(at + 1);
}

/**
 * What the checkers are given: the sheet, then each edit of it, as the server rewrites them (made before any
 * timing: the rewrite is the server's own work, not the checker's).
 */
function virtualTexts(sheet: string, source: string): string[] {
  const files = new SheetFiles(loadTypeScriptLibs(), createRuntimeModule(path.dirname(sheet)));
  const texts: string[] = [];
  for (let i = -1; i < EDITS + WARM_UP_EDITS; i++) {
    files.setOpen(sheet, i < 0 ? source : edited(source, i), i + 2);
    texts.push(files.state(sheet)!.virtual.text);
  }
  return texts;
}

function report(label: string, first: number, samples: number[], diagnostics: number): void {
  const sorted = [...samples].sort((a, b) => a - b);
  row(`${label}: first check`, `${first.toFixed(0)} ms (${diagnostics} diagnostics)`);
  row(`${label}: per edit p50 / p90`, `${percentile(sorted, 0.5).toFixed(1)} ms / ${percentile(sorted, 0.9).toFixed(1)} ms`);
}

function typeScript6(dir: string, sheet: string, texts: readonly string[], label = "TypeScript 6 language service (in process)"): number {
  let text = texts[0]!;
  let version = 0;
  const options = sheetCompilerOptions();
  const host: ts.LanguageServiceHost = {
    getCompilationSettings: () => options,
    getScriptFileNames: () => [sheet],
    getScriptVersion: (file) => (file === sheet ? String(version) : "0"),
    getScriptSnapshot: (file) => {
      const content = file === sheet ? text : ts.sys.readFile(file);
      return content === undefined ? undefined : ts.ScriptSnapshot.fromString(content);
    },
    getCurrentDirectory: () => dir,
    getDefaultLibFileName: (o) => ts.getDefaultLibFilePath(o),
    fileExists: (file) => file === sheet || ts.sys.fileExists(file),
    readFile: (file) => (file === sheet ? text : ts.sys.readFile(file)),
  };
  const service = ts.createLanguageService(host, ts.createDocumentRegistry());
  const started = performance.now();
  const count = service.getSemanticDiagnostics(sheet).length;
  const first = performance.now() - started;
  const samples: number[] = [];
  for (let i = 0; i < EDITS + WARM_UP_EDITS; i++) {
    text = texts[i + 1]!;
    version++;
    const at = performance.now();
    service.getSyntacticDiagnostics(sheet);
    service.getSemanticDiagnostics(sheet);
    if (i >= WARM_UP_EDITS) samples.push(performance.now() - at);
  }
  report(label, first, samples, count);
  return median(samples);
}

/**
 * The same texts with every window's `yield* UI(Window({...}))` replaced by a value of the type the checker gave
 * it: what checking the sheet costs without inferring the windows' types (the generic, const-typed field lists),
 * so the bench shows how much of the per-edit time that inference is, and what is left for the rest of the sheet.
 */
function windowsTyped(dir: string, sheet: string, texts: readonly string[]): string[] {
  const host = ts.createCompilerHost(sheetCompilerOptions());
  const readFile = host.readFile.bind(host);
  host.readFile = (file) => (file === sheet ? texts[0] : readFile(file));
  host.getCurrentDirectory = () => dir;
  const exists = host.fileExists.bind(host);
  host.fileExists = (file) => file === sheet || exists(file);
  const program = ts.createProgram([sheet], sheetCompilerOptions(), host);
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(sheet)!;
  const replacements: [string, string][] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && node.initializer && ts.isYieldExpression(node.initializer) && node.initializer.asteriskToken) {
      // Spelled out property by property: printed whole, it would name the runtime's ValuesOf<…> again.
      const values = checker.getTypeAtLocation(node.name);
      const properties = checker.getPropertiesOfType(values).map((property) => {
        const type = checker.getTypeOfSymbolAtLocation(property, node);
        return `${property.name}: ${checker.typeToString(type, undefined, ts.TypeFormatFlags.NoTruncation)}`;
      });
      const type = `{ ${properties.join("; ")} }`;
      replacements.push([node.initializer.getText(source), `yield* (null! as import("uzoncalc").UIRequest<${type}>)`]);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return texts.map((text) => replacements.reduce((out, [from, to]) => out.replace(from, to), text));
}

interface PreviewApi {
  updateSnapshot(params: object): PreviewSnapshot;
  close(): void;
}
interface PreviewSnapshot {
  getProject(config: string): {
    program: { getSyntacticDiagnostics(file: string): unknown[]; getSemanticDiagnostics(file: string): unknown[] };
  };
  dispose(): void;
}

async function nativePreview(dir: string, sheet: string, texts: readonly string[]): Promise<number | undefined> {
  const entry = TSGO_DIR && path.join(TSGO_DIR, "node_modules", "@typescript", "native-preview", "dist", "api", "sync", "api.js");
  if (!entry || !fs.existsSync(entry)) {
    console.log(
      "  (set UZC_TSGO_DIR to a folder with @typescript/native-preview@7.0.0-dev.20260707.2 installed to measure TypeScript 7's checker beside it)",
    );
    return undefined;
  }
  const { API } = (await import(entry)) as { API: new (options: object) => PreviewApi };
  let text = texts[0]!;
  const config = path.join(dir, "tsconfig.json");
  const started = performance.now();
  // The sheet's text comes from memory, as an editor's unsaved text would; everything else from disk.
  const api = new API({ cwd: dir, fs: { readFile: (file: string) => (file === sheet ? text : undefined) } });
  let snapshot = api.updateSnapshot({ openProjects: [config] });
  const count = snapshot.getProject(config).program.getSemanticDiagnostics(sheet).length;
  const first = performance.now() - started;
  const samples: number[] = [];
  try {
    for (let i = 0; i < EDITS + WARM_UP_EDITS; i++) {
      text = texts[i + 1]!;
      const at = performance.now();
      snapshot.dispose();
      snapshot = api.updateSnapshot({ fileChanges: { changed: [sheet] } });
      const { program } = snapshot.getProject(config);
      program.getSyntacticDiagnostics(sheet);
      program.getSemanticDiagnostics(sheet);
      if (i >= WARM_UP_EDITS) samples.push(performance.now() - at);
    }
  } finally {
    api.close();
  }
  report("TypeScript 7 native preview (tsgo, sync API, its own process)", first, samples, count);
  return median(samples);
}

async function main(): Promise<void> {
  console.log(
    `\nChecker alone, 600-line sheet, one-character edits (${EDITS} after ${WARM_UP_EDITS} warm-up) · load average ${loadAverage()}`,
  );
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "uzc-bench-checker-"));
  try {
    const sheet = path.join(dir, "sheet.calc.ts");
    const texts = virtualTexts(sheet, generateSheet(600));
    fs.writeFileSync(sheet, texts[0]!);
    fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify(sheetTsconfig()));
    // The server's own `uzoncalc` declarations (its wrapper of UI, the runtime's and the units' types), where a
    // checker reading the disk finds the package.
    const types = path.join(dir, "node_modules", "uzoncalc");
    fs.mkdirSync(types, { recursive: true });
    for (const [file, text] of createRuntimeModule(dir).files) fs.writeFileSync(path.join(types, path.basename(file)), text);
    const classic = typeScript6(dir, sheet, texts);
    typeScript6(dir, sheet, windowsTyped(dir, sheet, texts), "TypeScript 6, each window's type given (no inference)");
    const native = await nativePreview(dir, sheet, texts);
    if (native !== undefined) row("per edit, TypeScript 6 ÷ native preview (p50)", `${(classic / native).toFixed(1)}×`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main();
