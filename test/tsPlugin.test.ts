// The TypeScript server plugin (ts-plugin/src/index.ts), loaded the way tsserver loads it, over a real language
// service: in a sheet it leaves to the UzonCalc language server what the server says better (issue 16 item 8).
import assert from "node:assert/strict";
import * as path from "node:path";
import * as ts from "typescript";
import init from "../ts-plugin/src/index";

const SHEET = path.join(__dirname, "virtual", "wall.calc.ts");
const TEXT = [
  'import { UI, Window, p } from "uzoncalc";',
  "export async function* sheet() {",
  '  const g = yield UI(Window({ title: "Wall", fields: [{ name: "span", type: "numbr", default: 6 }] }));',
  "  p(`Span ${g.span}`);",
  '  const planted: number = "not a number";',
  "  p(String(planted));",
  "}",
  "",
].join("\n");

function services(): { plain: ts.LanguageService; withPlugin: ts.LanguageService } {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    strict: true,
    noEmit: true,
  };
  const host: ts.LanguageServiceHost = {
    getCompilationSettings: () => options,
    getScriptFileNames: () => [SHEET],
    getScriptVersion: () => "1",
    getScriptSnapshot: (file) => {
      const text = file === SHEET ? TEXT : ts.sys.readFile(file);
      return text === undefined ? undefined : ts.ScriptSnapshot.fromString(text);
    },
    getCurrentDirectory: () => path.dirname(SHEET),
    getDefaultLibFileName: (o) => ts.getDefaultLibFilePath(o),
    fileExists: (file) => file === SHEET || ts.sys.fileExists(file),
    readFile: (file) => (file === SHEET ? TEXT : ts.sys.readFile(file)),
  };
  const plain = ts.createLanguageService(host);
  const info = {
    languageService: plain,
    languageServiceHost: host,
    project: { getProjectName: () => "test", projectService: { logger: { info: () => undefined } } },
  } as unknown as ts.server.PluginCreateInfo;
  // The plugin resolves "uzoncalc" for the host it is given; the plain service shares that host.
  const withPlugin = init({ typescript: ts as unknown as typeof import("typescript/lib/tsserverlibrary") }).create(info);
  return { plain, withPlugin };
}

describe("the TypeScript plugin in a sheet", function () {
  this.timeout(60_000);

  it("drops TypeScript's complaint about a literal in a window spec (the server's UZC1001 says it), keeps every other error", () => {
    const { plain, withPlugin } = services();
    const codes = (service: ts.LanguageService) => service.getSemanticDiagnostics(SHEET).map((d) => d.code);
    assert.ok(codes(plain).includes(2820) || codes(plain).includes(2322), `TypeScript flags "numbr": ${codes(plain).join(", ")}`);
    const kept = withPlugin.getSemanticDiagnostics(SHEET);
    assert.deepEqual(
      kept.map((d) => [d.code, ts.getLineAndCharacterOfPosition(d.file!, d.start!).line + 1]),
      [[2322, 5]],
      "only the planted error on line 5",
    );
  });

  it("gives no hover of its own over a window's value, which it can only call any", () => {
    const { plain, withPlugin } = services();
    const at = TEXT.indexOf("g.span") + 3;
    assert.match(ts.displayPartsToString(plain.getQuickInfoAtPosition(SHEET, at)?.displayParts), /any/);
    assert.equal(withPlugin.getQuickInfoAtPosition(SHEET, at), undefined);
    // Elsewhere its hover stays.
    assert.match(ts.displayPartsToString(withPlugin.getQuickInfoAtPosition(SHEET, TEXT.indexOf("planted") + 1)?.displayParts), /number/);
  });
});
