// Input set files (issue 17 item 2) through the built language server over LSP and the built CLI: problems with
// their codes and exact ranges against expected files, quick fixes, completion, hover, definition, re-checking
// when the sheet changes, `uzoncalc check` on sets and `uzoncalc schema` validated by a real JSON Schema validator.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Ajv2020 from "ajv/dist/2020";
import {
  CodeLensRequest,
  type CodeAction,
  type CompletionItem,
  type Diagnostic,
  type LocationLink,
  type MarkupContent,
} from "vscode-languageserver-protocol/node";
import { TestClient } from "./support/lspClient";
import { EXPECTED, FIXTURES, checkLines, formatDiagnostics, messageOf, positionOf } from "./support/expectations";
import { matchSnapshot } from "./support/snapshot";

const ROOT = path.join(__dirname, "..", "..");
const CLI = path.join(ROOT, "dist", "cli.js");
const SETS = path.join(FIXTURES, "sets");
const SHEET = path.join(SETS, "plate.calc.ts");
const SET_FILES = ["plate.inputs.json", "plate.planted.inputs.json", "elsewhere.inputs.json", "orphan.inputs.json", "broken.inputs.json"];

function expectedOf(set: string): string {
  return path.join(EXPECTED, `${set}.txt`);
}

function cli(args: string[], cwd = SETS) {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: "utf8" });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, lines: result.stdout.split("\n").filter(Boolean) };
}

function labels(items: CompletionItem[] | { items: CompletionItem[] } | null): string[] {
  return (Array.isArray(items) ? items : (items?.items ?? [])).map((item) => item.label);
}

function markdown(hover: { contents: unknown } | null): string {
  return hover ? (hover.contents as MarkupContent).value : "";
}

describe("input sets: *.inputs.json checked against their sheet", function () {
  this.timeout(60_000);
  let client: TestClient;

  before(async () => {
    client = await TestClient.start({ transport: "stdio" });
  });
  after(async () => {
    await client?.stop();
  });

  describe("problems, in the editor and in uzoncalc check", () => {
    for (const set of SET_FILES) {
      it(set, async () => {
        const uri = await client.open(path.join(SETS, set));
        const diagnostics = await client.diagnostics(uri);
        await client.close(uri);
        matchSnapshot(expectedOf(set), formatDiagnostics(diagnostics));
        assert.ok(diagnostics.every((d) => d.source === "uzoncalc"));
        const checked = cli(["check", set]);
        assert.deepEqual(checked.lines, checkLines(set, fs.readFileSync(expectedOf(set), "utf8")));
        assert.equal(checked.status, diagnostics.length > 0 ? 1 : 0, checked.stderr);
      });
    }

    it("the planted set has one problem of each kind, each with its code, at the value or key it is about", async () => {
      const text = fs.readFileSync(path.join(SETS, "plate.planted.inputs.json"), "utf8");
      const uri = await client.open(path.join(SETS, "plate.planted.inputs.json"));
      const diagnostics = await client.diagnostics(uri);
      await client.close(uri);
      const at = (code: string, needle: string) => {
        const found = diagnostics.find((d) => d.code === code && d.range.start.line === positionOf(text, needle).line);
        assert.ok(found, `no ${code} on the line of ${needle}: ${formatDiagnostics(diagnostics)}`);
        assert.deepEqual(found.range.start, positionOf(text, needle), `${code} starts at ${needle}`);
        return messageOf(found);
      };
      assert.match(at("UZC4008", '"2 m"'), /Thickness must be at most 60 mm, got 2000 mm/);
      assert.match(at("UZC4005", '"widht"'), /did you mean 'width'/);
      assert.match(at("UZC4006", '"four"'), /Anchors must be a number/);
      assert.match(at("UZC4009", '"zinc"'), /one of black, galvanised, duplex/);
      assert.match(at("UZC4007", '"12 kN"'), /'kN' is a force, but this field is a length/);
      assert.match(at("UZC4010", '"plate"'), /needs 'ref' \(required\)/);
      assert.match(at("UZC4004", '"steal"'), /did you mean 'steel'/);
      assert.match(at("UZC4004", '"nothing"'), /its windows are plate, steel, loads/);
      // A computed option list is not guessed: "S275" is not called wrong.
      assert.ok(!diagnostics.some((d) => messageOf(d).includes("S275")));
    });

    it("the examples' input sets pass", () => {
      const sets = fs.readdirSync(path.join(ROOT, "examples")).filter((name) => name.endsWith(".inputs.json"));
      assert.ok(sets.length >= 6);
      const checked = cli(["check", ...sets.map((set) => path.join("examples", set))], ROOT);
      assert.equal(checked.status, 0, checked.stdout + checked.stderr);
      assert.equal(checked.stdout, "");
    });
  });

  it("quick fixes rename a misspelled window and field to the sheet's", async () => {
    const file = path.join(SETS, "plate.planted.inputs.json");
    const uri = await client.open(file);
    const diagnostics = await client.diagnostics(uri);
    for (const [code, wrong, right] of [
      ["UZC4004", '"steal"', '"steel"'],
      ["UZC4005", '"widht"', '"width"'],
    ] as const) {
      const diagnostic = diagnostics.find((d) => d.code === code && messageOf(d).includes(wrong.slice(1, -1)))!;
      const actions = (await client.codeActions(uri, [diagnostic])) as CodeAction[];
      assert.equal(actions.length, 1);
      const edit = actions[0]!.edit!.changes![uri]![0]!;
      assert.equal(edit.newText, right);
      assert.deepEqual(edit.range, diagnostic.range);
    }
    // No fix where nothing is close.
    const far = diagnostics.find((d) => messageOf(d).includes("'nothing'"))!;
    assert.deepEqual(await client.codeActions(uri, [far]), []);
    await client.close(uri);
  });

  it("completes window ids, field names, options and units", async () => {
    const file = path.join(SETS, "plate.inputs.json");
    const text = '{\n  "": {},\n  "plate": { "t": "25 ", "": 1, "finish": "" },\n  "steel": {}\n}\n';
    const uri = await client.open(file, text);
    try {
      // Ids not yet in the set (plate and steel are).
      assert.deepEqual(labels(await client.completion(uri, positionOf(text, '""', 1))), ["loads"]);
      assert.deepEqual(labels(await client.completion(uri, positionOf(text, '"": 1', 1))), ["width", "count", "checks", "grouted", "ref"]);
      assert.deepEqual(labels(await client.completion(uri, positionOf(text, '"finish": ""', 11))), ["black", "galvanised", "duplex"]);
      const units = labels(await client.completion(uri, positionOf(text, '"25 "', 4)));
      assert.equal(units[0], "25 mm", "the field's own unit first");
      assert.ok(units.includes("25 m") && units.includes("25 cm"), units.join(", "));
      assert.ok(!units.some((unit) => unit.endsWith("kN")), "only units of the field's kind");
    } finally {
      await client.close(uri);
    }
  });

  it("hovers show the window, the field and what the sheet receives", async () => {
    const file = path.join(SETS, "plate.inputs.json");
    const text = fs.readFileSync(file, "utf8");
    const uri = await client.open(file);
    try {
      const window = markdown(await client.hover(uri, positionOf(text, '"plate"', 2)));
      assert.match(window, /\*\*Plate\*\* \(window `plate`\)/);
      assert.match(window, /`t`: Thickness, number \[mm\], required/);
      assert.match(
        markdown(await client.hover(uri, positionOf(text, '"t"', 1))),
        /Thickness.*\n\nnumber \[mm\], required · 8 mm … 60 mm · default 20/,
      );
      assert.match(markdown(await client.hover(uri, positionOf(text, '"450 mm"', 2))), /The sheet receives `0.45` \(0.45 m\)/);
      assert.match(markdown(await client.hover(uri, positionOf(text, '"S235"', 2))), /computed: its value is checked when the set runs/);
    } finally {
      await client.close(uri);
    }
  });

  it("goes from a window id or field name to its spec in the sheet, and in the helper module that shows it", async () => {
    const file = path.join(SETS, "plate.inputs.json");
    const text = fs.readFileSync(file, "utf8");
    const uri = await client.open(file);
    try {
      const sheet = fs.readFileSync(SHEET, "utf8");
      const [field] = (await client.definition(uri, positionOf(text, '"ref"', 1))) as LocationLink[];
      assert.equal(field!.targetUri, client.uriOf(SHEET));
      assert.deepEqual(field!.targetSelectionRange.start, positionOf(sheet, '"ref", type: "text"'));
      const [loads] = (await client.definition(uri, positionOf(text, '"loads"', 1))) as LocationLink[];
      assert.equal(loads!.targetUri, client.uriOf(path.join(SETS, "lib", "loads.ts")));
    } finally {
      await client.close(uri);
    }
  });

  it("a lens above each window of the sheet says which sets answer it", async () => {
    const text = fs.readFileSync(SHEET, "utf8");
    const uri = await client.open(SHEET);
    try {
      const lenses = await client.connection.sendRequest(CodeLensRequest.type, { textDocument: { uri } });
      assert.deepEqual(
        lenses?.map((lens) => [lens.range.start.line, lens.command?.title]),
        [
          [positionOf(text, 'Window({\n      title: "Plate"').line, "2 input sets answer 'plate': default, planted"],
          [positionOf(text, 'Window({\n      title: "Steel"').line, "1 input set answers 'steel': default"],
        ],
      );
      assert.deepEqual(lenses?.[1]?.command?.arguments, [[client.uriOf(path.join(SETS, "plate.inputs.json"))]]);
    } finally {
      await client.close(uri);
    }
  });

  it("an edit to the sheet re-checks the open set without reopening it", async () => {
    const setUri = await client.open(path.join(SETS, "plate.inputs.json"));
    assert.deepEqual(await client.diagnostics(setUri), []);
    const sheetText = fs.readFileSync(SHEET, "utf8");
    const sheetUri = await client.open(SHEET);
    const refreshes = client.refreshes;
    // The sheet renames `count` to `anchors`: the set's "count" no longer fits.
    await client.change(sheetUri, sheetText.replace('name: "count"', 'name: "anchors"'));
    const deadline = Date.now() + 5000;
    while (client.refreshes === refreshes && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(client.refreshes > refreshes, "the server asked the client to pull diagnostics again");
    const after: Diagnostic[] = await client.diagnostics(setUri);
    assert.deepEqual(
      after.map((d) => `${d.code} ${messageOf(d)}`),
      ["UZC4005 'count' is not a field of window 'plate'; its fields are t, width, anchors, finish, checks, grouted, ref."],
    );
    await client.close(sheetUri);
    // Closed, the sheet is read from the disk again, where `count` is still a field.
    assert.deepEqual(await client.diagnostics(setUri), []);
    await client.close(setUri);
  });

  describe("uzoncalc schema", () => {
    it("prints a JSON Schema 2020-12 that accepts the good set and rejects the planted one", () => {
      const result = cli(["schema", "plate.calc.ts"]);
      assert.equal(result.status, 0, result.stderr);
      const schema = JSON.parse(result.stdout) as { $schema: string; properties: Record<string, { description?: string }> };
      matchSnapshot(path.join(EXPECTED, "plate.schema.json"), result.stdout);
      assert.equal(schema.$schema, "https://json-schema.org/draft/2020-12/schema");
      assert.match(schema.properties.steel!.description ?? JSON.stringify(schema.properties.steel), /./);
      const validate = new Ajv2020({ strict: true, allErrors: true }).compile(schema);
      const read = (set: string) => JSON.parse(fs.readFileSync(path.join(SETS, set), "utf8")) as unknown;
      assert.ok(validate(read("plate.inputs.json")), JSON.stringify(validate.errors));
      assert.ok(!validate(read("plate.planted.inputs.json")));
      const wrong = new Set((validate.errors ?? []).map((error) => error.instancePath));
      // "2 m" passes the schema (a limit after unit conversion is beyond JSON Schema); the language server catches it.
      for (const where of ["/plate", "/plate/finish", "/plate/count", "/plate/grouted", "/loads/N"])
        assert.ok(wrong.has(where), `${where} in ${[...wrong].join(" ")}`);
    });

    it("every example's input set is valid against its sheet's schema", () => {
      for (const set of fs.readdirSync(path.join(ROOT, "examples")).filter((name) => name.endsWith(".inputs.json"))) {
        const sheet = set.replace(/(\.[^.]+)?\.inputs\.json$/, ".calc.ts");
        const result = cli(["schema", path.join("examples", sheet)], ROOT);
        assert.equal(result.status, 0, `${sheet}: ${result.stderr}`);
        const validate = new Ajv2020({ strict: true }).compile(JSON.parse(result.stdout) as object);
        const values = JSON.parse(fs.readFileSync(path.join(ROOT, "examples", set), "utf8")) as unknown;
        assert.ok(validate(values), `${set}: ${JSON.stringify(validate.errors)}`);
      }
    });

    it("a window built at run time allows any object and says so; a bad argument is named", () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "uzoncalc-schema-"));
      try {
        fs.writeFileSync(
          path.join(dir, "dyn.calc.ts"),
          'import { UI, Window } from "uzoncalc";\nconst FIELDS = [{ name: "x", type: "number" }];\nexport async function* sheet() {\n  yield UI(Window({ title: "Built", fields: FIELDS }));\n}\n',
        );
        const result = cli(["schema", "dyn.calc.ts"], dir);
        const schema = JSON.parse(result.stdout) as {
          properties: Record<string, { type: string; description: string; properties?: unknown }>;
        };
        assert.equal(schema.properties.built!.type, "object");
        assert.equal(schema.properties.built!.properties, undefined);
        assert.match(schema.properties.built!.description, /builds its fields at run time.*any object is allowed/);
        const missing = cli(["schema", "nope.calc.ts"], dir);
        assert.equal(missing.status, 1);
        assert.match(missing.stderr, /cannot read nope\.calc\.ts/);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
