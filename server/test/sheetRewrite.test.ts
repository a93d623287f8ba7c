// The rewrite from a sheet to its virtual TypeScript text: a golden file of one rewritten sheet, and the offset
// map's contract (identity outside inserted text, nothing inside it).
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { OffsetMap } from "../src/offsetMap";
import { rewriteSheet } from "../src/sheetRewrite";
import { findRuntimeBindings, parseSheet } from "../src/sheetSyntax";
import { FIXTURES, SHEETS } from "./support/expectations";
import { matchSnapshot } from "./support/snapshot";

function rewrite(fileName: string, text: string) {
  const sourceFile = parseSheet(fileName, text);
  return rewriteSheet(sourceFile, findRuntimeBindings(sourceFile));
}

describe("sheet rewrite: the virtual sheet TypeScript checks", () => {
  it("turns every pause point into yield* and nothing else (golden file)", () => {
    const file = path.join(SHEETS, "fields.calc.ts");
    const source = fs.readFileSync(file, "utf8");
    const virtual = rewrite(file, source);
    matchSnapshot(path.join(FIXTURES, "expected", "fields.calc.ts.virtual.ts"), virtual.text);
    assert.equal(virtual.pausePoints.length, 4);
    assert.equal(virtual.text.length, source.length + 4);
    assert.equal(virtual.text.replace(/yield\* UI\(/g, "yield UI("), source);
  });

  it("follows how UI was imported: renamed, through a namespace, and not a sheet's own UI", () => {
    const renamed = rewrite(
      "a.calc.ts",
      'import { UI as ask, Window } from "uzoncalc";\nfunction* s() { const a = yield ask(Window({ title: "A", fields: [] })); const b = yield (ask({ title: "B", fields: [] })); }',
    );
    assert.equal(renamed.pausePoints.length, 2);
    assert.match(renamed.text, /yield\* ask\(Window/);
    assert.match(renamed.text, /yield\* \(ask\(\{/);
    const namespaced = rewrite(
      "b.calc.js",
      'import * as uz from "uzoncalc";\nasync function* s() { const a = yield uz.UI(uz.Window({ title: "A", fields: [] })); }',
    );
    assert.match(namespaced.text, /yield\* uz\.UI\(/);
    const own = rewrite(
      "c.calc.ts",
      "function UI(x: unknown) { return x; }\nfunction* s() { const a = yield UI(1); const b = yield* UI(2); }",
    );
    assert.equal(own.pausePoints.length, 0, "no import from uzoncalc: nothing is a pause point");
    const already = rewrite(
      "d.calc.ts",
      'import { UI } from "uzoncalc";\nfunction* s() { const b = yield* UI({ title: "A", fields: [] }); const c = yield 5; }',
    );
    assert.equal(already.pausePoints.length, 0, "yield* is typed already; yield of anything else is left alone");
  });
});

describe("offset map", () => {
  const source = "const g = yield UI(w);\nconst h = yield UI(v);\n";
  const insertions = [
    { sourceOffset: source.indexOf("yield") + 5, text: "*" },
    { sourceOffset: source.lastIndexOf("yield") + 5, text: "/*long insertion*/" },
  ];
  const map = new OffsetMap(insertions);
  const generated =
    source.slice(0, insertions[0]!.sourceOffset) +
    "*" +
    source.slice(insertions[0]!.sourceOffset, insertions[1]!.sourceOffset) +
    "/*long insertion*/" +
    source.slice(insertions[1]!.sourceOffset);

  it("is the identity outside inserted text, both ways, for every offset", () => {
    for (let offset = 0; offset <= source.length; offset++) {
      const there = map.toGenerated(offset);
      assert.equal(map.toSource(there), offset, `offset ${offset}`);
      if (offset < source.length) assert.equal(generated[there], source[offset], `character at ${offset}`);
    }
  });

  it("maps nothing strictly inside inserted text, and drops ranges that lie within it", () => {
    const second = generated.indexOf("/*long insertion*/");
    assert.equal(
      map.toGenerated(insertions[1]!.sourceOffset),
      second + 18,
      "a source offset maps to where its character went: after text inserted before it",
    );
    for (let inside = second + 1; inside < second + "/*long insertion*/".length; inside++) assert.equal(map.toSource(inside), undefined);
    assert.equal(map.rangeToSource(second, second + 18), undefined);
    assert.equal(map.rangeToSource(second + 2, second + 5), undefined);
    const first = generated.indexOf("*");
    assert.equal(map.rangeToSource(first, first + 1), undefined, "a diagnostic on the inserted * alone");
    assert.deepEqual(
      map.rangeToSource(first - 5, first + 4),
      { start: first - 5, end: first + 3 },
      "a range around an insertion keeps both ends",
    );
  });

  it("is the identity with no insertions", () => {
    const identity = OffsetMap.identity();
    assert.equal(identity.toSource(42), 42);
    assert.equal(identity.toGenerated(42), 42);
  });
});
