// The injection grammars (syntaxes/) tokenized with VS Code's own TextMate engine over VS Code's TypeScript and
// JavaScript grammars, against committed snapshots. UPDATE_SNAPSHOTS=1 rewrites the snapshots.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as oniguruma from "vscode-oniguruma";
import * as textmate from "vscode-textmate";
import { matchSnapshot } from "./support/snapshot";

const ROOT = path.join(__dirname, "..", "..");
const FIXTURES = path.join(__dirname, "fixtures", "grammar");
const GRAMMARS = path.join(__dirname, "fixtures", "grammars");

const grammarFiles: Record<string, string> = {
  "source.ts": path.join(GRAMMARS, "TypeScript.tmLanguage.json"),
  "source.js": path.join(GRAMMARS, "JavaScript.tmLanguage.json"),
  "uzoncalc.injection.ts": path.join(ROOT, "syntaxes", "uzoncalc.ts.injection.tmLanguage.json"),
  "uzoncalc.injection.js": path.join(ROOT, "syntaxes", "uzoncalc.js.injection.tmLanguage.json"),
  "uzoncalc.injection.fields": path.join(ROOT, "syntaxes", "uzoncalc.fields.injection.tmLanguage.json"),
};

/** As package.json's contributes.grammars[].injectTo declares them. */
const injections: Record<string, string[]> = {
  "source.ts": ["uzoncalc.injection.ts", "uzoncalc.injection.fields"],
  "source.js": ["uzoncalc.injection.js", "uzoncalc.injection.fields"],
};

let registry: textmate.Registry;

before(async () => {
  const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm"));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength) as ArrayBuffer);
  registry = new textmate.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => oniguruma.createOnigScanner(patterns),
      createOnigString: (text) => oniguruma.createOnigString(text),
    }),
    loadGrammar: async (scopeName) => {
      const file = grammarFiles[scopeName];
      return file ? textmate.parseRawGrammar(fs.readFileSync(file, "utf8"), file) : null;
    },
    getInjections: (scopeName) => injections[scopeName],
  });
});

/** One `>` line per source line, then one line per token: its columns, its text and its scopes below the root. */
async function tokenize(file: string, rootScope: string): Promise<string> {
  const grammar = await registry.loadGrammar(rootScope);
  assert.ok(grammar, `no grammar for ${rootScope}`);
  const out: string[] = [];
  let state = textmate.INITIAL;
  for (const line of fs.readFileSync(file, "utf8").replace(/\n$/, "").split("\n")) {
    out.push(`>${line}`);
    const result = grammar.tokenizeLine(line, state);
    for (const token of result.tokens) {
      const text = line.slice(token.startIndex, token.endIndex);
      if (text.trim() === "") continue;
      out.push(
        ` ${String(token.startIndex).padStart(3)}-${String(token.endIndex).padEnd(3)} ${JSON.stringify(text)}  ${token.scopes.slice(1).join(" ")}`,
      );
    }
    state = result.ruleStack;
  }
  return out.join("\n") + "\n";
}

function scopesOf(snapshot: string, text: string): string[] {
  return snapshot
    .split("\n")
    .filter((line) => line.includes(` ${JSON.stringify(text)}  `))
    .map((line) => line.split(`${JSON.stringify(text)}  `)[1]!);
}

describe("grammar: the UzonCalc injection into TypeScript and JavaScript", () => {
  it("marks pause points, window specs and field names in a TypeScript sheet (snapshot)", async () => {
    const snapshot = await tokenize(path.join(FIXTURES, "sample.calc.ts"), "source.ts");
    matchSnapshot(path.join(FIXTURES, "sample.calc.ts.snap"), snapshot);
    // The same facts, stated outright, so a snapshot rewritten carelessly still cannot hide a regression.
    assert.deepEqual(scopesOf(snapshot, "yield").filter((s) => s.includes("uzoncalc")).length, 2);
    assert.ok(scopesOf(snapshot, "*").some((s) => s.endsWith("meta.pause-point.uzoncalc keyword.generator.asterisk.uzoncalc")));
    assert.ok(scopesOf(snapshot, "span").some((s) => s.includes("meta.window-spec.uzoncalc") && s.endsWith("entity.name.field.uzoncalc")));
    assert.ok(
      scopesOf(snapshot, "grade").some((s) => s.endsWith("entity.name.field.uzoncalc")),
      "single-quoted names too",
    );
    assert.ok(!scopesOf(snapshot, "not a field").some((s) => s.includes("uzoncalc")), "a `name` outside a window spec is not a field");
    assert.ok(!snapshot.split("\n").some((line) => line.includes("comment") && line.includes("uzoncalc")), "nothing inside comments");
    assert.ok(
      scopesOf(snapshot, "title").every((s) => s.includes("meta.window-spec.uzoncalc") && s.includes("meta.object-literal.key")),
      "the spec's own keys keep TypeScript's scopes",
    );
  });

  it("does the same in a JavaScript sheet (snapshot)", async () => {
    const snapshot = await tokenize(path.join(FIXTURES, "sample.calc.js"), "source.js");
    matchSnapshot(path.join(FIXTURES, "sample.calc.js.snap"), snapshot);
    assert.ok(scopesOf(snapshot, "height").some((s) => s.endsWith("entity.name.field.uzoncalc")));
    assert.ok(scopesOf(snapshot, "UI").some((s) => s.endsWith("meta.pause-point.uzoncalc entity.name.function.ui.uzoncalc")));
  });
});
