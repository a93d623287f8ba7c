// The built language server (dist/server.js) over a real LSP connection, on fixture sheets paired with their
// exact expected diagnostics (fixtures/expected/, UPDATE_SNAPSHOTS=1 rewrites them), plus hover, completion,
// definition, quick fixes, settings, cancellation and both transports.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  CancellationTokenSource,
  LSPErrorCodes,
  ResponseError,
  type CodeAction,
  type CompletionItem,
  type Diagnostic,
  type LocationLink,
  type MarkupContent,
} from "vscode-languageserver-protocol/node";
import { TestClient } from "./support/lspClient";
import { SHEETS, expectedFile, formatDiagnostics, messageOf, positionOf } from "./support/expectations";
import { matchSnapshot } from "./support/snapshot";

const ROOT = path.join(__dirname, "..", "..");
const FIELDS_TS = path.join(SHEETS, "fields.calc.ts");
const FIELDS_JS = path.join(SHEETS, "fields.calc.js");
const SPECS_TS = path.join(SHEETS, "window-specs.calc.ts");

function byCode(diagnostics: Diagnostic[], code: string): Diagnostic[] {
  return diagnostics.filter((d) => d.code === code);
}

describe("language server: dist/server.js over LSP", function () {
  this.timeout(60_000);
  let client: TestClient;

  before(async () => {
    client = await TestClient.start({ transport: "stdio" });
  });
  after(async () => {
    await client?.stop();
  });

  describe("diagnostics in the default `fields` mode, against the expected files", () => {
    for (const sheet of [FIELDS_TS, FIELDS_JS, SPECS_TS]) {
      it(path.basename(sheet), async () => {
        const uri = await client.open(sheet);
        const diagnostics = await client.diagnostics(uri);
        await client.close(uri);
        matchSnapshot(expectedFile(path.basename(sheet), "fields"), formatDiagnostics(diagnostics));
        assert.ok(diagnostics.every((d) => d.source === "uzoncalc"));
      });
    }

    it("an unknown field is UZC2001 with the window and a suggestion, at its exact UTF-16 range", async () => {
      const uri = await client.open(FIELDS_TS);
      const diagnostics = await client.diagnostics(uri);
      await client.close(uri);
      const text = fs.readFileSync(FIELDS_TS, "utf8");
      const spna = positionOf(text, "g.spna", 2);
      // The line holds an emoji before the field: 🏗️ is three UTF-16 code units.
      assert.equal(spna.character, 13);
      assert.deepEqual(byCode(diagnostics, "UZC2001")[0], {
        range: { start: spna, end: { line: spna.line, character: spna.character + 4 } },
        severity: 1,
        code: "UZC2001",
        source: "uzoncalc",
        message: "Unknown field 'spna' in window 'geometry'. Did you mean 'span'?",
        data: { fix: { title: "Change 'spna' to 'span'", newText: "span" } },
      });
      const messages = diagnostics.map((d) => `${d.range.start.line + 1} ${d.code} ${messageOf(d)}`);
      for (const expected of [
        "Property 'toUpperCase' does not exist on type 'number'.",
        `This comparison appears to be unintentional because the types '"C25/30" | "C30/37"' and '"C99"' have no overlap.`,
        "Unknown field 'lenght' in window 'again'. Did you mean 'length'?",
        "Unknown field 'grde' in window 'geometry'. Did you mean 'grade'?",
        "Unknown field 'depht' in window 'imported'. Did you mean 'depth'?",
        "Unknown field 'spam' in window 'geometry'. Did you mean 'span'?",
        "'g.ref' is possibly 'null'.",
        "'span' is possibly 'null'.",
      ]) {
        assert.ok(
          messages.some((m) => m.endsWith(expected)),
          `missing: ${expected}\n${messages.join("\n")}`,
        );
      }
      assert.ok(!messages.some((m) => m.includes("seven")), "a plain TypeScript error not about fields is left to VS Code's TypeScript");
      assert.ok(!messages.some((m) => m.includes("anything") || m.includes("goes")), "a run-time field list is Record<string, any>");
    });

    it("reports nothing on the example sheets (plain code that does not misuse forms)", async () => {
      const examples = fs.readdirSync(path.join(ROOT, "examples")).filter((f) => f.endsWith(".calc.ts") || f.endsWith(".calc.js"));
      assert.ok(examples.length > 0);
      for (const sheet of [...examples.map((f) => path.join(ROOT, "examples", f)), path.join(ROOT, "bench", "sheets", "steps.calc.ts")]) {
        const uri = await client.open(sheet);
        assert.deepEqual(await client.diagnostics(uri), [], sheet);
        await client.close(uri);
      }
    });

    it("ignores files that are not sheets", async () => {
      const plain = path.join(ROOT, "examples", "lib", "sections.ts");
      const uri = await client.open(plain, "const x: number = 'not a number';\n");
      assert.deepEqual(await client.diagnostics(uri), []);
      assert.equal(await client.hover(uri, { line: 0, character: 7 }), null);
      await client.close(uri);
    });
  });

  describe("the uzoncalc.typeCheck setting", () => {
    afterEach(async () => {
      client.settings = {};
      await client.configurationChanged();
    });

    for (const [sheet, mode] of [
      [FIELDS_TS, "all"],
      [FIELDS_JS, "all"],
      [SPECS_TS, "off"],
      [FIELDS_TS, "off"],
    ] as const) {
      it(`${mode}: ${path.basename(sheet)}`, async () => {
        client.settings = { typeCheck: mode };
        await client.configurationChanged();
        const uri = await client.open(sheet);
        const diagnostics = await client.diagnostics(uri);
        await client.close(uri);
        matchSnapshot(expectedFile(path.basename(sheet), mode), formatDiagnostics(diagnostics));
      });
    }

    it("all adds the plain TypeScript errors; off keeps only window spec checks; a change applies on the next pull", async () => {
      const uri = await client.open(FIELDS_TS);
      const fields = await client.diagnostics(uri);
      client.settings = { typeCheck: "all" };
      await client.configurationChanged();
      const all = await client.diagnostics(uri);
      client.settings = { typeCheck: "off" };
      await client.configurationChanged();
      const off = await client.diagnostics(uri);
      await client.close(uri);
      assert.ok(all.some((d) => d.message === "Type 'string' is not assignable to type 'number'." && d.code === "TS2322"));
      assert.ok(!fields.some((d) => d.message === "Type 'string' is not assignable to type 'number'."));
      assert.equal(all.length, fields.length + 1);
      assert.deepEqual(off, []);
    });

    it("off still reports window spec problems", async () => {
      client.settings = { typeCheck: "off" };
      await client.configurationChanged();
      const uri = await client.open(SPECS_TS);
      const diagnostics = await client.diagnostics(uri);
      await client.close(uri);
      assert.ok(diagnostics.length >= 15);
      assert.ok(diagnostics.every((d) => String(d.code).startsWith("UZC1")));
    });
  });

  describe("hover, completion, definition", () => {
    const text = fs.readFileSync(FIELDS_TS, "utf8");
    let uri: string;
    before(async () => {
      uri = await client.open(FIELDS_TS);
    });
    after(async () => {
      await client.close(uri);
    });

    it("hover on a field use shows its label, window, type, unit, range, default and options", async () => {
      const at = positionOf(text, "g.span.toUpperCase", 3);
      const hover = await client.hover(uri, at);
      assert.ok(hover);
      assert.deepEqual(hover.range, {
        start: { line: at.line, character: at.character - 1 },
        end: { line: at.line, character: at.character + 3 },
      });
      assert.equal(
        (hover.contents as MarkupContent).value,
        [
          "```ts",
          "(field) span: number",
          "```",
          "**Span**, field of window 'Beam geometry' (`geometry`)",
          "",
          "type number · unit m · range 0.5 … 40 · default 6 · required",
        ].join("\n"),
      );
      const grade = await client.hover(uri, positionOf(text, 'g.grade === "C99"', 3));
      assert.equal(
        (grade!.contents as MarkupContent).value,
        [
          "```ts",
          '(field) grade: "C25/30" | "C30/37"',
          "```",
          "**Concrete**, field of window 'Beam geometry' (`geometry`)",
          "",
          'type selectOne · default "C30/37"',
          "",
          'options: "C25/30", "C30/37"',
        ].join("\n"),
      );
      const loads = await client.hover(uri, positionOf(text, "g.loads[0]", 3));
      assert.match(
        (loads!.contents as MarkupContent).value,
        /\(field\) loads: \("dead" \| "live" \| "wind"\)\[\]\n[\s\S]*options: "dead", "live", "wind" \(Wind\)$/,
      );
    });

    it("hover on a destructured field, and nothing on plain code", async () => {
      const span = await client.hover(uri, positionOf(text, "const { span, lenght }", 9));
      assert.match(
        (span!.contents as MarkupContent).value,
        /^```ts\n\(field\) span: number \| null\n```\nField of window 'Again' \(`again`\)\n\ntype number$/,
      );
      assert.equal(await client.hover(uri, positionOf(text, "halfSpan(values", 2)), null);
      assert.equal(await client.hover(uri, positionOf(text, "dyn.anything", 5)), null, "no spec, no field hover");
    });

    it("completes field names after `g.` and inside a destructuring pattern", async () => {
      const lines = text.split("\n");
      const at = lines.findIndex((line) => line.includes("const shout"));
      const edited = [...lines.slice(0, at), "  g.", ...lines.slice(at)].join("\n");
      await client.change(uri, edited);
      const items = (await client.completion(uri, { line: at, character: 4 })) as CompletionItem[];
      assert.deepEqual(
        items.map((i) => [i.label, i.detail]),
        [
          ["span", "number (m)"],
          ["grade", '"C25/30" | "C30/37"'],
          ["loads", '("dead" | "live" | "wind")[]'],
          ["propped", "boolean"],
          ["ref", "string | null"],
        ],
      );
      assert.equal(items[0]!.kind, 5);
      assert.match((items[0]!.documentation as MarkupContent).value, /range 0\.5 … 40/);

      const pattern = [...lines.slice(0, at), "  const { span: s,  } = g;", ...lines.slice(at)].join("\n");
      await client.change(uri, pattern);
      const inPattern = (await client.completion(uri, { line: at, character: 20 })) as CompletionItem[];
      assert.deepEqual(
        inPattern.map((i) => i.label),
        ["grade", "loads", "propped", "ref"],
        "span is taken already",
      );
      assert.equal(await client.completion(uri, { line: at + 3, character: 2 }), null, "nothing outside field positions");
      await client.change(uri, text);
    });

    it("goes from a field use to its spec, in this sheet and in an imported module", async () => {
      const use = positionOf(text, "alias.grde", 0);
      const local = (await client.definition(uri, positionOf(text, "g.span.toUpperCase", 3))) as LocationLink[];
      const specStart = positionOf(text, '{ name: "span", type: "number", label: "Span"');
      assert.equal(local.length, 1);
      assert.equal(local[0]!.targetUri, uri);
      assert.deepEqual(local[0]!.targetSelectionRange, {
        start: { line: specStart.line, character: specStart.character + 8 },
        end: { line: specStart.line, character: specStart.character + 14 },
      });
      assert.deepEqual(local[0]!.targetRange.start, specStart);
      assert.ok(use.line > specStart.line);

      const imported = (await client.definition(uri, positionOf(text, "geo.width", 4))) as LocationLink[];
      const helpers = path.join(SHEETS, "lib", "helpers.ts");
      const helperText = fs.readFileSync(helpers, "utf8");
      assert.equal(imported[0]!.targetUri, client.uriOf(helpers));
      assert.deepEqual(imported[0]!.targetSelectionRange.start, positionOf(helperText, '"width"'));
      assert.equal(await client.definition(uri, positionOf(text, "halfSpan(g)", 1)), null, "other symbols are VS Code's TypeScript's job");
    });
  });

  describe("quick fixes", () => {
    it("replaces a misspelled field, keeps a destructured variable's name, and fixes a field type", async () => {
      const uri = await client.open(FIELDS_TS);
      const diagnostics = byCode(await client.diagnostics(uri), "UZC2001");
      const [spna, lenght] = diagnostics;
      const spnaFix = (await client.codeActions(uri, [spna!])) as CodeAction[];
      assert.equal(spnaFix.length, 1);
      assert.equal(spnaFix[0]!.title, "Change 'spna' to 'span'");
      assert.equal(spnaFix[0]!.kind, "quickfix");
      assert.equal(spnaFix[0]!.isPreferred, true);
      assert.deepEqual(spnaFix[0]!.edit!.changes![uri], [{ range: spna!.range, newText: "span" }]);
      // VS Code moves a diagnostic's range as lines are inserted above it; the fix follows that range.
      const moved = {
        ...spna!,
        range: {
          start: { line: spna!.range.start.line + 2, character: spna!.range.start.character },
          end: { line: spna!.range.end.line + 2, character: spna!.range.end.character },
        },
      };
      const movedFix = (await client.codeActions(uri, [moved])) as CodeAction[];
      assert.deepEqual(movedFix[0]!.edit!.changes![uri], [{ range: moved.range, newText: "span" }]);
      const lenghtFix = (await client.codeActions(uri, [lenght!])) as CodeAction[];
      assert.deepEqual(lenghtFix[0]!.edit!.changes![uri], [{ range: lenght!.range, newText: "length: lenght" }]);

      // Applying the fix removes the diagnostic.
      const text = fs.readFileSync(FIELDS_TS, "utf8");
      await client.edit(uri, spna!.range.start, spna!.range.end, "span");
      const after = await client.diagnostics(uri);
      assert.ok(!after.some((d) => messageOf(d).includes("'spna'")));
      assert.equal(byCode(after, "UZC2001").length, diagnostics.length - 1);
      await client.change(uri, text);
      await client.close(uri);

      const specs = await client.open(SPECS_TS);
      const numbr = byCode(await client.diagnostics(specs), "UZC1001")[0]!;
      const typeFix = (await client.codeActions(specs, [numbr])) as CodeAction[];
      assert.equal(typeFix[0]!.title, "Change type to 'number'");
      assert.deepEqual(typeFix[0]!.edit!.changes![specs], [{ range: numbr.range, newText: '"number"' }]);
      await client.close(specs);
    });
  });

  describe("edits and cancellation", () => {
    it("re-checks after incremental edits", async () => {
      const text =
        'import { UI, Window, p } from "uzoncalc";\nexport async function* sheet() {\n  const g = yield UI(Window({ title: "T", fields: [{ name: "a", type: "number", required: true }] }));\n  p(String(g.a));\n}\n';
      const file = path.join(SHEETS, "scratch-edits.calc.ts");
      const uri = await client.open(file, text);
      assert.deepEqual(await client.diagnostics(uri), []);
      await client.edit(uri, { line: 3, character: 13 }, { line: 3, character: 14 }, "b");
      const [unknown] = await client.diagnostics(uri);
      assert.equal(unknown?.message, "Unknown field 'b' in window 't'. Did you mean 'a'?");
      assert.deepEqual(unknown.range, { start: { line: 3, character: 13 }, end: { line: 3, character: 14 } });
      await client.edit(uri, { line: 3, character: 13 }, { line: 3, character: 14 }, "a.toFixed(2)");
      assert.deepEqual(await client.diagnostics(uri), []);
      await client.close(uri);
    });

    it("a sheet closed and opened again with other text (changed on disk meanwhile) is checked as it is now", async () => {
      // The editor numbers versions from 1 on every open: version 1 twice must not mean the same text.
      const file = path.join(SHEETS, "scratch-reopen.calc.ts");
      const sheet = (field: string) =>
        `import { UI, Window, p } from "uzoncalc";\nexport async function* sheet() {\n  const g = yield UI(Window({ title: "T", fields: [{ name: "a", type: "number", required: true }] }));\n  p(String(g.${field}));\n}\n`;
      let uri = await client.open(file, sheet("b"));
      assert.equal((await client.diagnostics(uri)).length, 1);
      await client.close(uri);
      uri = await client.open(file, sheet("a"));
      assert.deepEqual(await client.diagnostics(uri), []);
      await client.close(uri);
    });

    it("a cancelled diagnostic request ends with RequestCancelled, and the server keeps serving", async () => {
      const uri = await client.open(FIELDS_TS);
      const source = new CancellationTokenSource();
      const pending = client.diagnostics(uri, source.token);
      source.cancel();
      await assert.rejects(pending, (error: unknown) => error instanceof ResponseError && error.code === LSPErrorCodes.RequestCancelled);
      assert.ok((await client.diagnostics(uri)).length > 0);
      await client.close(uri);
    });
  });

  it("works over Node IPC, the extension's transport, and warms up at start", async () => {
    const ipc = await TestClient.start({ transport: "ipc", linkSupport: false });
    try {
      const uri = await ipc.open(FIELDS_JS);
      const diagnostics = await ipc.diagnostics(uri);
      matchSnapshot(expectedFile("fields.calc.js", "fields"), formatDiagnostics(diagnostics));
      const text = fs.readFileSync(FIELDS_JS, "utf8");
      const location = await ipc.definition(uri, positionOf(text, "c.height.toUpperCase", 3));
      assert.deepEqual(location, [
        {
          uri,
          range: {
            start: positionOf(text, '"height"'),
            end: { line: positionOf(text, '"height"').line, character: positionOf(text, '"height"').character + 8 },
          },
        },
      ]);
      const stats = await ipc.stats();
      assert.ok(stats.warmUpMs !== undefined && stats.warmUpMs > 0, "the warm-up ran before the first request was answered");
      assert.ok(ipc.configurationRequests > 0, "the setting is read through workspace/configuration");
    } finally {
      await ipc.stop();
    }
  });

  it("runs below normal priority, so its checks yield the CPU to the editor and to runs", () => {
    // The stdio client's server: it set its priority before loading TypeScript, and says so once warm.
    assert.equal(os.getPriority(client.pid), os.constants.priority.PRIORITY_BELOW_NORMAL);
    assert.ok(
      client.logs.some((line) => /checker ready .*below normal priority/.test(line)),
      `the warm-up's log line names the priority: ${client.logs.join(" | ")}`,
    );
  });
});
