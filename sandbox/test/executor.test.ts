import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as v8 from "node:v8";
import * as vm from "node:vm";
import type { ExecutionResponse } from "../../protocol/rpc";
import type { RealmInit, RealmStart } from "../runtime/abi";
import { InProcessEngine, type EngineOutcome, type RealmEngine, type SheetCode } from "../engine/realmEngine";
import type { InputLogEntry } from "../../protocol/session";
import { Refusal } from "../../protocol/refusal";
import { Executor } from "../session/executor";

const FIXTURES = path.join(__dirname, "fixtures", "sheets");
const fixture = (name: string) => path.join(FIXTURES, name);

/** 1-based line and column of `token` on the line carrying `marker` in a fixture file. */
function locate(file: string, marker: string, token: string): { line: number; column: number } {
  const lines = fs.readFileSync(file, "utf8").split("\n");
  const index = lines.findIndex((l) => l.includes(marker));
  assert.ok(index >= 0, `marker ${marker} not in ${file}`);
  const column = lines[index]!.indexOf(token);
  assert.ok(column >= 0, `token ${token} not on the marker line of ${file}`);
  return { line: index + 1, column: column + 1 };
}

async function refused(promise: Promise<unknown> | (() => unknown), code: string, status: number): Promise<Refusal> {
  try {
    await (typeof promise === "function" ? promise() : promise);
  } catch (error) {
    assert.ok(error instanceof Refusal, `expected Refusal, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.equal(error.status, status);
    return error;
  }
  assert.fail(`expected a ${status} refusal`);
}

/** The real in-process engine, with every outcome recorded so tests can see what `finally` blocks wrote. */
class RecordingEngine implements RealmEngine {
  readonly outcomes: { op: string; sessionId: string; outcome: EngineOutcome }[] = [];
  constructor(private readonly inner: RealmEngine) {}
  get liveRealms() {
    return this.inner.liveRealms;
  }
  private note<T extends EngineOutcome>(op: string, sessionId: string, outcome: T): T {
    this.outcomes.push({ op, sessionId, outcome });
    return outcome;
  }
  async open(id: string, sheet: SheetCode, init: RealmInit, start: RealmStart) {
    return this.note("open", id, await this.inner.open(id, sheet, init, start));
  }
  async resume(id: string, values: unknown) {
    return this.note("resume", id, await this.inner.resume(id, values));
  }
  async cancel(id: string) {
    return this.note("cancel", id, await this.inner.cancel(id));
  }
  async restore(id: string, sheet: SheetCode, init: RealmInit, start: RealmStart, inputs: readonly InputLogEntry[]) {
    return this.note("restore", id, await this.inner.restore(id, sheet, init, start, inputs));
  }
  drop(id: string) {
    this.inner.drop(id);
  }
  close() {
    return this.inner.close();
  }
}

describe("executor: running sheets", () => {
  let executor: Executor;
  beforeEach(() => {
    executor = new Executor({ safeDirs: [FIXTURES], stepTimeoutMs: 2_000 });
  });
  afterEach(() => executor.close());

  it("lists the inputs in the document by window title, field label and value with its unit, options by their labels (issue 16 item 6)", async () => {
    const source = [
      'import { UI, Window, p } from "uzoncalc";',
      "export async function* sheet() {",
      '  const g = yield UI(Window({ title: "Geometry", fields: [',
      '    { name: "H", type: "number", label: "Retained height", unit: "m", required: true },',
      '    { name: "gamma", type: "number", label: "Unit weight", unit: "kN/m^3", required: true },',
      '    { name: "note", type: "text", label: "Note" },',
      '    { name: "kind", type: "selectOne", label: "Kind", options: [{ value: "rc", label: "Reinforced" }, "plain"] },',
      '    { name: "wet", type: "boolean", label: "Wet" },',
      "  ] }));",
      "  p(`H = ${g.H}`);",
      "}",
    ].join("\n");
    const first = await executor.execute({ source, filename: "wall.calc.ts" });
    const done = await executor.resume({
      session_id: first.session_id,
      user_input: { H: "3200 mm", gamma: 18, note: "A", kind: "rc", wet: true },
    });
    assert.equal(done.status, "completed", JSON.stringify(done.error));
    const inputs = done.result!.slice(done.result!.indexOf("<th>Inputs</th>"));
    assert.match(inputs, /<td>Geometry<\/td><td>Retained height<\/td><td>3\.2 m<\/td>/);
    assert.match(inputs, /<td>Geometry<\/td><td>Unit weight<\/td><td>18 kN\/m³<\/td>/);
    assert.match(inputs, /<td>Geometry<\/td><td>Note<\/td><td>A<\/td>/);
    assert.match(inputs, /<td>Geometry<\/td><td>Kind<\/td><td>Reinforced<\/td>/, "an option by its label");
    assert.match(inputs, /<td>Geometry<\/td><td>Wet<\/td><td>yes<\/td>/);
  });

  it("pauses and resumes across three windows, the report growing at each step", async () => {
    const first = await executor.execute({ file_path: fixture("three-windows.calc.ts") });
    assert.equal(first.status, "waiting_ui");
    assert.equal(first.ui_steps, 1);
    assert.deepEqual(first.ui, {
      id: "first-window",
      title: "First window",
      fields: [{ name: "x", type: "number", label: "x", required: false, default: 1 }],
    });
    assert.match(first.html!, /<h1>Three windows<\/h1>/);
    assert.doesNotMatch(first.html!, /x = /);

    const second = await executor.resume({ session_id: first.session_id, user_input: { x: 2 } });
    assert.equal(second.status, "waiting_ui");
    assert.equal(second.ui?.id, "second");
    assert.equal(second.ui_steps, 2);
    assert.ok(second.html!.startsWith(first.html!), "the report keeps what came before");
    assert.match(second.html!, /<p>x = 2<\/p>/);

    const third = await executor.resume({ session_id: first.session_id, user_input: { y: "250 cm" } });
    assert.equal(third.ui?.id, "third");
    assert.match(third.html!, /<p>y = 2\.5 m<\/p>/);

    const done = await executor.resume({ session_id: first.session_id, user_input: { label: "A&B" } });
    assert.equal(done.status, "completed");
    assert.equal(done.ui_steps, 3);
    assert.deepEqual(done.value, { sum: 4.5, label: "A&B" });
    assert.match(done.html!, /label = A&amp;B/, "p() escapes text");
    assert.ok(done.result!.startsWith("<!DOCTYPE html>"));
    assert.ok(done.result!.includes(done.html!), "the document holds the whole report");
    assert.doesNotMatch(done.result!, /<script/i);

    const info = await executor.getSession({ session_id: first.session_id });
    assert.equal(info.status, "completed");
    assert.equal(info.ui_steps, 3);
    assert.equal(info.has_error, false);
    assert.equal(info.error_message, null);
    assert.match(info.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it("passes params to the sheet function", async () => {
    const response = await executor.execute({
      file_path: fixture("three-windows.calc.ts"),
      params: { factor: 10 },
      inputs: { "first-window": { x: 1 }, second: { y: 2 }, third: { label: "p" } },
    });
    assert.equal(response.status, "completed");
    assert.deepEqual(response.value, { sum: 30, label: "p" });
  });

  it("answers windows from `inputs` without pausing and pauses where inputs are invalid", async () => {
    const batch = await executor.execute({
      file_path: fixture("three-windows.calc.ts"),
      inputs: { "first-window": { x: 5 }, second: { y: 100 } },
    });
    assert.equal(batch.status, "waiting_ui");
    assert.equal(batch.ui?.id, "third");
    assert.equal(batch.ui_steps, 3);
    assert.match(batch.html!, /x = 5[\s\S]*y = 100 m/);

    const invalid = await executor.execute({
      file_path: fixture("three-windows.calc.ts"),
      inputs: { "first-window": { x: 1 }, second: { y: "two metres" } },
    });
    assert.equal(invalid.status, "waiting_ui");
    assert.equal(invalid.ui?.id, "second");
    assert.deepEqual(Object.keys(invalid.input_errors ?? {}), ["y"]);
    const fixed = await executor.resume({ session_id: invalid.session_id, user_input: { y: 3 } });
    assert.equal(fixed.ui?.id, "third");
  });

  it("coerces every field type and fills missing values as SPEC §1 says", async () => {
    const start = await executor.execute({ file_path: fixture("all-fields.calc.ts") });
    assert.equal(start.ui?.fields.length, 7);
    await executor.resume({
      session_id: start.session_id,
      user_input: {
        span: "3000 mm",
        grade: "C25/30",
        count: "2",
        loads: ["wind", "dead", "wind"],
        propped: "yes",
        ref: 42,
        notes: "line 1\nline 2",
      },
    });
    const done = await executor.resume({ session_id: start.session_id, user_input: { n: "", flag: null, t: "" } });
    assert.equal(done.status, "completed");
    assert.deepEqual(done.value, {
      all: { span: 3, grade: "C25/30", count: 2, loads: ["dead", "wind"], propped: true, ref: "42", notes: "line 1\nline 2" },
      missing: { n: null, n2: 4, flag: false, pick: null, many: [], t: null, t2: "dflt" },
    });
  });

  it("refuses invalid input with every field error and keeps the session waiting", async () => {
    const start = await executor.execute({ file_path: fixture("all-fields.calc.ts") });
    const error = await refused(
      executor.resume({
        session_id: start.session_id,
        user_input: { span: 100, grade: "C99", count: 3, loads: ["snow"], propped: "maybe", notes: {}, spna: 1 },
      }),
      "invalid_input",
      422,
    );
    assert.deepEqual(Object.keys(error.fields!).sort(), ["count", "grade", "loads", "notes", "propped", "span", "spna"]);
    assert.match(error.fields!.span!, /at most 40 m/);
    assert.match(error.fields!.grade!, /C25\/30, C30\/37/);
    assert.match(error.fields!.spna!, /did you mean 'span'/);
    const missingRequired = await refused(executor.resume({ session_id: start.session_id, user_input: {} }), "invalid_input", 422);
    assert.match(missingRequired.fields!.span!, /required/);
    assert.equal((await executor.getSession({ session_id: start.session_id })).status, "waiting_ui");
    const next = await executor.resume({ session_id: start.session_id, user_input: { span: 6 } });
    assert.equal(next.status, "waiting_ui");
    assert.equal(next.ui?.title, "Missing values");
  });

  it("sends only what is new with html_mode delta", async () => {
    const first = await executor.execute({ file_path: fixture("three-windows.calc.ts"), html_mode: "delta" });
    assert.equal(first.html, undefined);
    assert.match(first.html_delta!, /<h1>Three windows/);
    const second = await executor.resume({ session_id: first.session_id, user_input: { x: 3 } });
    assert.equal(second.html_delta, "<p>x = 3</p>\n");
  });

  it("runs a sheet sent as source with its imports as files, reading nothing from disk", async () => {
    const response = await executor.execute({
      source:
        'import { p } from "uzoncalc";\nimport { twice } from "./lib/math";\nexport async function* sheet() { p(`twice ${twice(21)}`); return twice(2); }\n',
      filename: "remote.calc.ts",
      files: { "lib/math.ts": "export const twice = (x: number): number => 2 * x;\n" },
    });
    assert.equal(response.status, "completed", JSON.stringify(response.error));
    assert.equal(response.value, 4);
    assert.match(response.html!, /twice 42/);

    const missing = await executor.execute({
      source: 'import { x } from "./nope";\nexport async function* sheet() { return x; }\n',
      filename: "r.calc.ts",
    });
    assert.equal(missing.status, "error");
    assert.match(missing.error!.message, /nope/);
    assert.equal(missing.error!.line, 1);

    const bare = await executor.execute({
      source: 'import fs from "fs";\nexport async function* sheet() { return typeof fs; }\n',
      filename: "r.calc.ts",
    });
    assert.equal(bare.status, "error");
    assert.match(bare.error!.message, /only "uzoncalc" and their own relative files/);
  });

  it("runs plain JavaScript sheets", async () => {
    const response = await executor.execute({ file_path: fixture("plain.calc.js"), inputs: { "js-sheet": { n: 4 } } });
    assert.equal(response.status, "completed");
    assert.equal(response.value, 4);
    assert.match(response.html!, /<caption><span class="uzc-num">Table 1<\/span> Squares<\/caption>.*<td>4<\/td><td>16<\/td>/s);
  });

  it("picks the function named by func_name, else `sheet`, else the default export", async () => {
    const other = await executor.execute({ file_path: fixture("exports.calc.ts"), func_name: "other", inputs: { other: {} } });
    assert.deepEqual(other.value, { k: 7, from: "other" });
    const fallback = await executor.execute({ file_path: fixture("exports.calc.ts") });
    assert.deepEqual(fallback.value, { from: "default" });
  });

  it("explains a missing or wrong func_name by listing what the module exports", async () => {
    const missing = await executor.execute({ file_path: fixture("exports.calc.ts"), func_name: "nope" });
    assert.equal(missing.status, "error");
    assert.match(missing.error!.message, /does not export a function named 'nope'/);
    assert.match(
      missing.error!.message,
      /It exports: PI \(number\), default \(async generator function\), helper \(function\), other \(async generator function\), plainAsync \(function\)\./,
    );
    const plain = await executor.execute({ file_path: fixture("exports.calc.ts"), func_name: "plainAsync" });
    assert.equal(plain.status, "error");
    assert.match(plain.error!.message, /'plainAsync' .* is a function, not an async generator function/);
  });
});

describe("executor: errors point at the sheet's own source", () => {
  let executor: Executor;
  beforeEach(() => {
    executor = new Executor({ safeDirs: [FIXTURES], stepTimeoutMs: 2_000 });
  });
  afterEach(() => executor.close());

  it("gives a throwing sheet's line and column, and keeps the report so far", async () => {
    const start = await executor.execute({ file_path: fixture("throws.calc.ts") });
    const failed = await executor.resume({ session_id: start.session_id, user_input: {} });
    assert.equal(failed.status, "error");
    const expected = locate(fixture("throws.calc.ts"), "THROW-HERE", "new RangeError");
    assert.equal(failed.error!.name, "RangeError");
    assert.equal(failed.error!.message, "ratio 0.5 is too small");
    assert.equal(failed.error!.line, expected.line);
    assert.equal(failed.error!.column, expected.column);
    assert.equal(failed.error!.file, undefined);
    assert.match(failed.error!.stack!, new RegExp(`at sheet \\(throws\\.calc\\.ts:${expected.line}:${expected.column}\\)`));
    assert.match(failed.html!, /<h1>Before the error<\/h1>[\s\S]*<p>g = 1<\/p>/);
    const info = await executor.getSession({ session_id: start.session_id });
    assert.equal(info.has_error, true);
    assert.equal(info.error_message, "ratio 0.5 is too small");
  });

  it("names the imported file when the error is there", async () => {
    const failed = await executor.execute({ file_path: fixture("throws-in-import.calc.ts"), inputs: { divide: {} } });
    const expected = locate(fixture("lib/bad.ts"), "THROW-HERE", "new Error");
    assert.equal(failed.status, "error");
    assert.equal(failed.error!.file, "lib/bad.ts");
    assert.equal(failed.error!.line, expected.line);
    assert.equal(failed.error!.column, expected.column);
    assert.match(failed.error!.stack!, /at checkedDivide \(lib\/bad\.ts:3:/);
    assert.match(failed.error!.stack!, /at sheet \(throws-in-import\.calc\.ts:6:/);
  });

  it("reports compile errors with their position", async () => {
    const failed = await executor.execute({ file_path: fixture("syntax-error.calc.ts") });
    assert.equal(failed.status, "error");
    assert.equal(failed.error!.name, "CompileError");
    assert.equal(failed.error!.line, 2);
    assert.equal(failed.error!.column, 13);
  });

  it("refuses a bundle with import() at the import's line", async () => {
    const failed = await executor.execute({ file_path: fixture("dynamic-import.calc.ts") });
    const expected = locate(fixture("dynamic-import.calc.ts"), "IMPORT-HERE", "import(");
    assert.equal(failed.status, "error");
    assert.match(failed.error!.message, /Dynamic import\(\) is not allowed/);
    assert.equal(failed.error!.line, expected.line);
  });

  it("refuses import() and import.meta however they are spaced, and bundles whose names only contain the word", async () => {
    // The bundle is parsed again only when it has the word `import`: spacing and comments must not hide one.
    for (const [body, refusal] of [
      ["const name = 'x';\n  return await import /* a */ (\n name);", /Dynamic import\(\) is not allowed/],
      ["return import\n    .meta;", /import\.meta/],
    ] as const) {
      const source = `export async function* sheet() {\n  ${body}\n}\n`;
      const failed = await executor.execute({ source, filename: "spaced.calc.ts" });
      assert.equal(failed.status, "error", body);
      assert.match(failed.error!.message, refusal);
      assert.equal(failed.error!.line, source.split("\n").findIndex((line) => line.includes("import")) + 1);
    }
    const named = await executor.execute({
      source: 'const imports = ["important"];\nexport async function* sheet() { const import_x = imports[0]; return import_x; }\n',
      filename: "words.calc.ts",
    });
    assert.equal(named.status, "completed", JSON.stringify(named.error));
    assert.equal(named.value, "important");
  });

  it("reports every problem of a bad window at the sheet's line", async () => {
    const failed = await executor.execute({ file_path: fixture("bad-window.calc.ts") });
    assert.equal(failed.status, "error");
    assert.equal(failed.error!.name, "TypeError");
    assert.match(failed.error!.message, /min \(5\) is greater than max \(1\)/);
    assert.match(failed.error!.message, /Field name 'a' is used twice/);
    assert.equal(failed.error!.line, locate(fixture("bad-window.calc.ts"), "WINDOW-HERE", "Window").line);
  });

  it("makes a window id reached twice a sheet error that suggests setting `id`", async () => {
    const start = await executor.execute({ file_path: fixture("duplicate-id.calc.ts") });
    const failed = await executor.resume({ session_id: start.session_id, user_input: {} });
    assert.equal(failed.status, "error");
    assert.match(failed.error!.message, /Window id 'loads' is reached twice/);
    assert.match(failed.error!.message, /own `id`/);
    assert.equal(failed.error!.line, locate(fixture("duplicate-id.calc.ts"), "DUPLICATE-HERE", "UI").line);
  });

  it("makes yielding anything but UI(...) an error at the yield", async () => {
    const failed = await executor.execute({ file_path: fixture("bad-yield.calc.ts") });
    assert.equal(failed.status, "error");
    assert.match(failed.error!.message, /can only yield UI\(Window\(\{ \.\.\. \}\)\); this one yielded a number/);
    // V8 records a stack where an error is made, and this one is made by the driver, not at the yield:
    // the message has to carry it (see the note on issue 2).
  });

  it("ends a sheet that waits for a promise that never settles", async () => {
    const failed = await executor.execute({ file_path: fixture("never-settles.calc.ts") });
    assert.equal(failed.status, "error");
    assert.match(failed.error!.message, /never settles/);
  });

  it("keeps the host out of reach of sheet code", async () => {
    const response = await executor.execute({ file_path: fixture("escape-host.calc.ts"), inputs: { probe: {} } });
    assert.equal(response.status, "completed", JSON.stringify(response.error));
    assert.deepEqual(response.value, []);
    assert.match(response.html!, /reachable: none/);
  });
});

describe("executor: safe directories and files", () => {
  let root: string;
  let executor: Executor;
  before(() => {
    root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "uzc-safe-")));
    for (const dir of ["safe/lib", "safe2", "outside"]) fs.mkdirSync(path.join(root, dir), { recursive: true });
    const sheet = 'import { p } from "uzoncalc";\nexport async function* sheet() { p("ran"); }\n';
    fs.writeFileSync(path.join(root, "safe", "ok.calc.ts"), sheet);
    fs.writeFileSync(path.join(root, "safe2", "prefix.calc.ts"), sheet);
    fs.writeFileSync(path.join(root, "outside", "secret.calc.ts"), sheet);
    fs.writeFileSync(path.join(root, "outside", "helper.ts"), "export const v = 1;\n");
    fs.symlinkSync(path.join(root, "outside", "secret.calc.ts"), path.join(root, "safe", "link.calc.ts"));
    fs.writeFileSync(
      path.join(root, "safe", "imports-out.calc.ts"),
      'import { v } from "../outside/helper";\nexport async function* sheet() { return v; }\n',
    );
    fs.symlinkSync(path.join(root, "outside", "helper.ts"), path.join(root, "safe", "lib", "linked.ts"));
    fs.writeFileSync(
      path.join(root, "safe", "imports-link.calc.ts"),
      'import { v } from "./lib/linked";\nexport async function* sheet() { return v; }\n',
    );
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));
  beforeEach(() => {
    executor = new Executor({ safeDirs: [path.join(root, "safe")] });
  });
  afterEach(() => executor.close());

  it("runs a sheet inside a safe dir, by absolute or relative path", async () => {
    assert.equal((await executor.execute({ file_path: path.join(root, "safe", "ok.calc.ts") })).status, "completed");
    assert.equal((await executor.execute({ file_path: "ok.calc.ts" })).status, "completed");
  });

  it("refuses paths outside the safe dirs: via .., via a symlink, via a name prefix, via an import", async () => {
    await refused(executor.execute({ file_path: path.join(root, "safe", "..", "outside", "secret.calc.ts") }), "forbidden", 403);
    await refused(executor.execute({ file_path: "../outside/secret.calc.ts" }), "forbidden", 403);
    await refused(executor.execute({ file_path: path.join(root, "safe", "link.calc.ts") }), "forbidden", 403);
    await refused(executor.execute({ file_path: path.join(root, "safe2", "prefix.calc.ts") }), "forbidden", 403);
    const viaImport = await refused(executor.execute({ file_path: path.join(root, "safe", "imports-out.calc.ts") }), "forbidden", 403);
    assert.match(viaImport.message, /imports "\.\.\/outside\/helper"/);
    await refused(executor.execute({ file_path: path.join(root, "safe", "imports-link.calc.ts") }), "forbidden", 403);
    assert.equal(executor.sessionCount, 0, "a refused request makes no session");
  });

  it("checks a sheet's path afresh the moment it changes, though a run a moment ago resolved it (the cached path check)", async () => {
    const file = path.join(root, "safe", "swapped.calc.ts");
    fs.writeFileSync(file, 'export async function* sheet() { return "inside"; }\n');
    assert.equal((await executor.execute({ file_path: file })).status, "completed");
    assert.equal((await executor.execute({ file_path: "swapped.calc.ts" })).status, "completed");
    // Within the second the path is taken as resolved: a file turned into a symlink to outside is still refused.
    fs.rmSync(file);
    fs.symlinkSync(path.join(root, "outside", "secret.calc.ts"), file);
    await refused(executor.execute({ file_path: file }), "forbidden", 403);
    await refused(executor.execute({ file_path: "swapped.calc.ts" }), "forbidden", 403);
    // And one removed is not found, not run from its cached bundle.
    fs.rmSync(file);
    await refused(executor.execute({ file_path: file }), "not_found", 404);
    fs.writeFileSync(file, 'export async function* sheet() { return "again"; }\n');
    const again = await executor.execute({ file_path: file });
    assert.deepEqual([again.status, again.value], ["completed", "again"]);
    fs.rmSync(file);
  });

  it("answers 404 for a missing sheet and 403 when no safe dir is configured", async () => {
    await refused(executor.execute({ file_path: path.join(root, "safe", "missing.calc.ts") }), "not_found", 404);
    const open = new Executor();
    try {
      await refused(open.execute({ file_path: path.join(root, "safe", "ok.calc.ts") }), "forbidden", 403);
    } finally {
      await open.close();
    }
  });

  it("picks up an edited sheet and an edited import without a restart, and honours invalidate", async () => {
    const file = path.join(root, "safe", "edited.calc.ts");
    const lib = path.join(root, "safe", "lib", "value.ts");
    fs.writeFileSync(lib, "export const value = 1;\n");
    fs.writeFileSync(file, 'import { value } from "./lib/value";\nexport async function* sheet() { return ["v1", value]; }\n');
    assert.deepEqual((await executor.execute({ file_path: file })).value, ["v1", 1]);
    assert.deepEqual((await executor.execute({ file_path: file })).value, ["v1", 1]);
    fs.writeFileSync(file, 'import { value } from "./lib/value";\nexport async function* sheet() { return ["v2", value]; }\n');
    assert.deepEqual((await executor.execute({ file_path: file })).value, ["v2", 1]);
    fs.writeFileSync(lib, "export const value = 2;\n");
    assert.deepEqual((await executor.execute({ file_path: file })).value, ["v2", 2]);
    assert.match((await executor.invalidateCache({ file_path: lib })).message, /Cache invalidated for .*value\.ts \(1 entry\)/);
    assert.match((await executor.invalidateCache({})).message, /Cache cleared/);
    assert.deepEqual((await executor.execute({ file_path: file })).value, ["v2", 2]);
  });
});

describe("executor: session lifecycle", () => {
  it("refuses malformed requests, unknown sessions and wrong states with the SPEC's codes", async () => {
    const executor = new Executor({ safeDirs: [FIXTURES] });
    try {
      await refused(executor.execute({}), "bad_request", 400);
      await refused(executor.execute("nope"), "bad_request", 400);
      await refused(executor.execute({ file_path: fixture("three-windows.calc.ts"), source: "x" }), "bad_request", 400);
      await refused(executor.execute({ file_path: fixture("three-windows.calc.ts"), session_id: "bad id!" }), "bad_request", 400);
      await refused(executor.resume({ session_id: "x" }), "bad_request", 400);
      await refused(executor.resume({ session_id: "unknown", user_input: {} }), "not_found", 404);
      await refused(() => executor.getSession({ session_id: "unknown" }), "not_found", 404);
      await refused(executor.cancel({ session_id: "unknown" }), "not_found", 404);

      const run = await executor.execute({ file_path: fixture("three-windows.calc.ts"), session_id: "fixed-id_1" });
      assert.equal(run.session_id, "fixed-id_1");
      await refused(executor.execute({ file_path: fixture("three-windows.calc.ts"), session_id: "fixed-id_1" }), "conflict", 409);

      const done = await executor.execute({ file_path: fixture("exports.calc.ts") });
      await refused(executor.resume({ session_id: done.session_id, user_input: {} }), "conflict", 409);
      await refused(executor.cancel({ session_id: done.session_id }), "conflict", 409);

      assert.deepEqual(
        (await executor.listSessions()).sessions.map((s) => [s.session_id, s.status]).sort(),
        [
          [done.session_id, "completed"],
          ["fixed-id_1", "waiting_ui"],
        ].sort(),
      );
      assert.equal((await executor.health()).status, "healthy");
      assert.equal((await executor.health()).active_sessions, 1);
    } finally {
      await executor.close();
    }
  });

  it("cancel runs the sheet's finally, and cancelling again answers the same", async () => {
    const engine = new RecordingEngine(new InProcessEngine({ stepTimeoutMs: 2_000 }));
    const executor = new Executor({ safeDirs: [FIXTURES], engine });
    try {
      const run = await executor.execute({ file_path: fixture("finally.calc.ts") });
      assert.equal(run.status, "waiting_ui");
      assert.deepEqual(await executor.cancel({ session_id: run.session_id }), { status: "cancelled", session_id: run.session_id });
      const cancel = engine.outcomes.find((o) => o.op === "cancel");
      assert.equal(cancel?.outcome.kind, "cancelled");
      assert.equal(cancel?.outcome.kind === "cancelled" && cancel.outcome.html, "<p>finally ran</p>\n");
      assert.equal((await executor.getSession({ session_id: run.session_id })).status, "cancelled");
      assert.deepEqual(await executor.cancel({ session_id: run.session_id }), { status: "cancelled", session_id: run.session_id });
      await refused(executor.resume({ session_id: run.session_id, user_input: { x: 1 } }), "conflict", 409);
      assert.equal(engine.liveRealms, 0);
    } finally {
      await executor.close();
    }
  });

  it("keeps no answer once it is sent: a session waiting or finished holds its report, not its last response", async () => {
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as () => void;
    const executor = new Executor({ safeDirs: [FIXTURES] });
    try {
      const answers: WeakRef<ExecutionResponse>[] = [];
      const ask = async (request: Promise<ExecutionResponse>): Promise<{ id: string; status: string }> => {
        const answer = await request;
        answers.push(new WeakRef(answer));
        return { id: answer.session_id, status: answer.status };
      };
      const run = await ask(executor.execute({ file_path: fixture("three-windows.calc.ts"), html_mode: "delta" }));
      await ask(executor.resume({ session_id: run.id, user_input: { x: 2 }, html_mode: "delta" }));
      const done = await ask(executor.execute({ file_path: fixture("exports.calc.ts") }));
      assert.equal(done.status, "completed");
      // WeakRefs are cleared only after the job that made them, and after a full collection.
      await new Promise((resolve) => setTimeout(resolve, 0));
      gc();
      assert.deepEqual(
        answers.map((answer) => answer.deref() === undefined),
        [true, true, true],
        "an answer still reachable from the executor after it was sent",
      );
      assert.equal((await executor.getSession({ session_id: run.id })).status, "waiting_ui");
      assert.equal((await executor.getSession({ session_id: done.id })).status, "completed");
    } finally {
      await executor.close();
    }
  });

  it("compiles a prepared sheet in its member realm ahead of the first run, running none of its code there", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "uzc-prepare-"));
    const engine = new InProcessEngine({ stepTimeoutMs: 2_000 });
    const executor = new Executor({ safeDirs: [dir], engine });
    try {
      // Top-level code is the sheet's, run per session: evaluated at the preload, this throw would retire the realm.
      const file = path.join(dir, "top-level.calc.ts");
      fs.writeFileSync(
        file,
        'import { UI, Window } from "uzoncalc";\nconst started = Date.now();\nif (started > 0) throw new Error("top level ran");\nexport async function* sheet() {\n  yield UI(Window({ title: "W", fields: [] }));\n}\n',
      );
      assert.deepEqual(await executor.prepare({ file_path: file }), { status: "ok" });
      const loaded = await executor.loader.loadFile(file);
      assert.ok(loaded.ok);
      assert.ok(engine.holdsScript(loaded.sheet.hash), "the bundle is compiled before its first run");
      assert.equal(engine.memberRealmsMade, 1, "the member realm was made, and the preload did not retire it");
      const run = await executor.execute({ file_path: file });
      assert.equal(run.status, "error");
      assert.match(run.error?.message ?? "", /top level ran/);
      assert.equal(run.error?.line, 3);
      assert.equal(engine.memberRealmsMade, 1, "the throw came from the run, not from compiling");
    } finally {
      await executor.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("keeps at most 32 compiled sheets beside those in use, dropping the least recently opened idle one first", async () => {
    const engine = new InProcessEngine({ stepTimeoutMs: 2_000 });
    const executor = new Executor({ safeDirs: [FIXTURES], engine });
    try {
      const code = async (n: number) => {
        const loaded = await executor.loader.loadSource(
          `import { UI, Window, p } from "uzoncalc";\nexport async function* sheet() { p("sheet ${n}"); yield UI(Window({ title: "W", fields: [] })); }\n`,
          `sheet-${n}.calc.ts`,
        );
        assert.ok(loaded.ok);
        return { hash: loaded.sheet.hash, code: loaded.sheet.code, scriptName: loaded.sheet.scriptName };
      };
      const sheets = await Promise.all(Array.from({ length: 40 }, (_, n) => code(n)));
      const start = { filename: "sheet.calc.ts" };
      // Sheet 0 has a session waiting; sheet 1 ran and ended; then 38 more are compiled ahead (the editor's warm-up).
      assert.equal((await engine.open("in-use", sheets[0]!, { seed: 1, now: 0 }, start)).kind, "ui");
      assert.equal((await engine.open("ended", sheets[1]!, { seed: 1, now: 0 }, start)).kind, "ui");
      engine.drop("ended");
      for (const sheet of sheets.slice(2)) engine.preload(sheet);
      const held = sheets.map((sheet) => engine.holdsScript(sheet.hash));
      assert.equal(held.filter(Boolean).length, 32);
      assert.ok(held[0], "a sheet in use stays compiled");
      assert.deepEqual(held.slice(1, 9), Array(8).fill(false), "the least recently opened idle ones went first");
      assert.ok(held.slice(9).every(Boolean));
      // Opening a sheet makes it the most recent: the next one compiled ahead pushes out another.
      assert.equal((await engine.open("again", sheets[9]!, { seed: 1, now: 0 }, start)).kind, "ui");
      engine.drop("again");
      engine.preload(sheets[1]!);
      assert.ok(engine.holdsScript(sheets[9]!.hash));
      assert.ok(!engine.holdsScript(sheets[10]!.hash));
    } finally {
      await executor.close();
    }
  });

  it("expires idle sessions after the TTL, running their finally", async () => {
    let now = Date.parse("2026-01-01T00:00:00Z");
    const engine = new RecordingEngine(new InProcessEngine({ stepTimeoutMs: 2_000 }));
    const executor = new Executor({ safeDirs: [FIXTURES], engine, sessionTtlMs: 60_000, clock: () => now });
    try {
      const idle = await executor.execute({ file_path: fixture("finally.calc.ts") });
      now += 30_000;
      const fresh = await executor.execute({ file_path: fixture("finally.calc.ts") });
      now += 45_000; // idle: 75 s untouched; fresh: 45 s
      assert.equal(await executor.sweep(), 1);
      await refused(() => executor.getSession({ session_id: idle.session_id }), "not_found", 404);
      assert.equal((await executor.getSession({ session_id: fresh.session_id })).status, "waiting_ui");
      const finals = engine.outcomes.filter((o) => o.op === "cancel");
      assert.deepEqual(
        finals.map((o) => [o.sessionId, o.outcome.kind === "lost" ? "lost" : o.outcome.html]),
        [[idle.session_id, "<p>finally ran</p>\n"]],
      );
      now += 20_000; // fresh is now 65 s idle: lazy expiry on access, without a sweep
      await refused(executor.resume({ session_id: fresh.session_id, user_input: { x: 1 } }), "not_found", 404);
      assert.equal(executor.sessionCount, 0);
    } finally {
      await executor.close();
    }
  });

  it("refuses a new session beyond maxSessions with 429", async () => {
    const executor = new Executor({ safeDirs: [FIXTURES], maxSessions: 2 });
    try {
      await executor.execute({ file_path: fixture("finally.calc.ts") });
      await executor.execute({ file_path: fixture("finally.calc.ts") });
      await refused(executor.execute({ file_path: fixture("finally.calc.ts") }), "too_many_sessions", 429);
    } finally {
      await executor.close();
    }
  });

  it("keeps no report once a completed run is answered: a retry of that answer replays the run for it", async () => {
    const engine = new RecordingEngine(new InProcessEngine({ stepTimeoutMs: 5_000 }));
    const executor = new Executor({ safeDirs: [FIXTURES], engine });
    try {
      const first = await executor.execute({ file_path: fixture("three-windows.calc.ts"), html_mode: "delta" });
      let html = first.html_delta ?? "";
      let last = first;
      for (const values of [{ x: 7 }, { y: "1200 mm" }, { label: "kept?" }]) {
        last = await executor.resume({ session_id: first.session_id, user_input: values, ui_steps: last.ui_steps, html_mode: "delta" });
        html += last.html_delta ?? "";
      }
      assert.equal(last.status, "completed");
      assert.equal(engine.outcomes.filter((o) => o.op === "restore").length, 0);
      const again = await executor.resume({
        session_id: first.session_id,
        user_input: { label: "kept?" },
        ui_steps: 3,
        html_mode: "delta",
      });
      assert.deepEqual(
        engine.outcomes.filter((o) => o.op === "restore").map((o) => o.outcome.kind),
        ["done"],
        "the run was replayed to answer again",
      );
      assert.equal(executor.replayCounts().answer_again, 1);
      assert.equal(again.html, html, "the report made again by replay is the one the run sent, byte for byte");
      assert.equal(again.result, last.result);
      assert.deepEqual(again.value, last.value);
      assert.equal((await executor.getSession({ session_id: first.session_id })).status, "completed");
    } finally {
      await executor.close();
    }
  });

  it("replays a session's input log into a byte-identical report, clock and random numbers included", async () => {
    const executor = new Executor({ safeDirs: [FIXTURES] });
    try {
      const run = async (): Promise<ExecutionResponse> => {
        const first = await executor.execute({ file_path: fixture("three-windows.calc.ts") });
        await executor.resume({ session_id: first.session_id, user_input: { x: "7" } });
        await executor.resume({ session_id: first.session_id, user_input: { y: "1200 mm" } });
        return executor.resume({ session_id: first.session_id, user_input: { label: "replayed" } });
      };
      const original = await run();
      assert.equal(original.status, "completed");
      const record = executor.sessionRecord(original.session_id);
      assert.deepEqual(record.input_log, [
        { window: "first-window", values: { x: 7 }, legend: { title: "First window", fields: { x: { label: "x" } } } },
        { window: "second", values: { y: 1.2 }, legend: { title: "Second", fields: { y: { label: "y", unit: "m" } } } },
        { window: "third", values: { label: "replayed" }, legend: { title: "Third", fields: { label: { label: "label" } } } },
      ]);
      await new Promise((r) => setTimeout(r, 5)); // the wall clock moves on; the session's does not
      const replayed = await executor.replay({ record });
      assert.equal(replayed.status, "completed");
      assert.equal(replayed.result, original.result);
      assert.equal(replayed.html, original.html);
      const another = await run();
      assert.notEqual(another.html, original.html, "a new session gets its own seed and clock");

      const diverging = await executor.replay({ record: { ...record, input_log: [{ window: "nope", values: {} }] } });
      assert.equal(diverging.status, "error");
      assert.match(
        diverging.error!.message,
        /Replay diverged at step 1: the sheet asks for window 'first-window', the log answered 'nope'/,
      );
    } finally {
      await executor.close();
    }
  });
});

describe("executor: the session's clock", () => {
  it("gives Date, Date.now and Intl's 'now' the session's start time", async () => {
    const started = Date.parse("2031-05-06T07:08:09.000Z");
    const executor = new Executor({ safeDirs: [FIXTURES], clock: () => started });
    try {
      const response = await executor.execute({ file_path: fixture("clock.calc.ts") });
      assert.equal(response.status, "completed", JSON.stringify(response.error));
      const value = response.value as { now: number; intl: string; reference: string };
      assert.equal(value.now, started);
      assert.equal(value.intl, value.reference);
      assert.match(response.html!, /intl 6 May 2031, 07:08:09 \| parts 6 May 2031, 07:08:09 \| date 2031-05-06T07:08:09.000Z/);
    } finally {
      await executor.close();
    }
  });
});

describe("executor: eviction and rebuild by replay", () => {
  it("drops idle paused realms and rebuilds them transparently on the next request", async () => {
    let now = Date.parse("2026-01-01T00:00:00Z");
    const executor = new Executor({ safeDirs: [FIXTURES], evictAfterMs: 60_000, clock: () => now });
    try {
      const run = await executor.execute({ file_path: fixture("three-windows.calc.ts") });
      const second = await executor.resume({ session_id: run.session_id, user_input: { x: 2 } });
      const reference = await executor.execute({ file_path: fixture("three-windows.calc.ts") });
      now += 30_000;
      await executor.resume({ session_id: reference.session_id, user_input: { x: 2 } }); // keeps `reference` fresh
      now += 40_000;
      await executor.sweep();
      assert.deepEqual(executor.stats(), { sessions: 2, liveRealms: 1, evicted: 1, restores: 0 });
      const third = await executor.resume({ session_id: run.session_id, user_input: { y: 3 } });
      assert.equal(third.status, "waiting_ui");
      assert.equal(third.ui?.id, "third");
      assert.ok(third.html!.startsWith(second.html!));
      const done = await executor.resume({ session_id: run.session_id, user_input: { label: "after eviction" } });
      assert.equal(done.status, "completed");
      assert.deepEqual(done.value, { sum: 5, label: "after eviction" });
      assert.deepEqual(executor.stats(), { sessions: 2, liveRealms: 1, evicted: 0, restores: 1 });
      // The rebuilt run's report is the one an uninterrupted run gives.
      const replay = await executor.replay({ record: executor.sessionRecord(run.session_id) });
      assert.equal(replay.result, done.result);
    } finally {
      await executor.close();
    }
  });

  it("cancels an evicted session through its finally after rebuilding it", async () => {
    const engine = new RecordingEngine(new InProcessEngine({ stepTimeoutMs: 2_000 }));
    const executor = new Executor({ safeDirs: [FIXTURES], engine });
    try {
      const run = await executor.execute({ file_path: fixture("finally.calc.ts") });
      executor.evict(run.session_id);
      assert.equal(engine.liveRealms, 0);
      await executor.cancel({ session_id: run.session_id });
      const ops = engine.outcomes.map((o) => `${o.op}:${o.outcome.kind}`);
      assert.deepEqual(ops, ["open:ui", "cancel:lost", "restore:ui", "cancel:cancelled"]);
    } finally {
      await executor.close();
    }
  });
});

describe("executor: time limits", () => {
  it("ends a synchronous infinite loop and a loop after an await with an error naming the limit; other sessions go on", async () => {
    const executor = new Executor({ safeDirs: [FIXTURES], stepTimeoutMs: 300 });
    try {
      const paused = await executor.execute({ file_path: fixture("three-windows.calc.ts") });
      assert.equal(paused.status, "waiting_ui");

      let started = Date.now();
      const spinning = await executor.execute({ file_path: fixture("loop-sync.calc.ts") });
      assert.equal(spinning.status, "error");
      assert.equal(spinning.error!.limit, "time");
      assert.match(spinning.error!.message, /step time limit of 300 ms/);
      assert.ok(Date.now() - started < 300 + 1_000, "stopped within the limit plus a second");

      const afterAwait = await executor.execute({ file_path: fixture("loop-after-await.calc.ts") });
      assert.equal(afterAwait.status, "waiting_ui");
      started = Date.now();
      const stopped = await executor.resume({ session_id: afterAwait.session_id, user_input: { x: 1 } });
      assert.equal(stopped.status, "error");
      assert.equal(stopped.error!.limit, "time");
      assert.match(stopped.error!.message, /step time limit of 300 ms/);
      assert.match(stopped.html!, /about to spin/, "the report so far is kept");
      assert.ok(Date.now() - started < 300 + 1_000);

      const resumed = await executor.resume({ session_id: paused.session_id, user_input: { x: 1 } });
      assert.equal(resumed.status, "waiting_ui");
      assert.equal(resumed.ui?.id, "second");
      assert.equal(executor.engine.liveRealms, 1, "the runaway realms are gone");
    } finally {
      await executor.close();
    }
  });
});

describe("executor: a request cannot compute forever (issue 13 item 5)", () => {
  it("refuses a window answered again in the same run, even when the sheet yields an old request itself", async () => {
    const executor = new Executor({ safeDirs: [FIXTURES] });
    try {
      const started = performance.now();
      const batch = await executor.execute({ file_path: fixture("reyield.calc.ts"), inputs: { again: {} } });
      assert.equal(batch.status, "error");
      assert.match(batch.error!.message, /Window id 'again' is reached twice in this run: it was answered already/);
      assert.ok(performance.now() - started < 5_000);
      const stepwise = await executor.execute({ file_path: fixture("reyield.calc.ts") });
      const second = await executor.resume({ session_id: stepwise.session_id, user_input: {} });
      assert.equal(second.status, "error", "the same without batch inputs");
      assert.match(second.html!, /round 0/, "the report so far is kept");
    } finally {
      await executor.close();
    }
  });

  it("ends a batch request past the request time limit, between steps, with an error naming it", async () => {
    const executor = new Executor({ safeDirs: [FIXTURES], requestTimeoutMs: 500 });
    try {
      const inputs = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`w${i + 1}`, {}]));
      const started = performance.now();
      const response = await executor.execute({ file_path: fixture("many-windows.calc.ts"), inputs });
      const ms = performance.now() - started;
      assert.equal(response.status, "error");
      assert.equal(response.error!.limit, "time");
      assert.match(response.error!.message, /request time limit of 500 ms and was stopped at window 'w\d+'.*--request-timeout/);
      assert.ok(ms < 500 + 5_000, `stopped after ${Math.round(ms)} ms: the limit plus one step`);
      assert.match(response.html!, /window 1 answered/, "the report so far is kept");
    } finally {
      await executor.close();
    }
  });
});

describe("executor: the session limit holds for requests that arrive together (issue 13 item 9)", () => {
  it("admits exactly maxSessions of 30 concurrent executes; the rest are 429", async () => {
    const executor = new Executor({ safeDirs: [FIXTURES], maxSessions: 5 });
    try {
      executor.loader.invalidate(); // every request loads the sheet: the await the race used to cross
      const answers = await Promise.allSettled(
        Array.from({ length: 30 }, () => executor.execute({ file_path: fixture("three-windows.calc.ts") })),
      );
      const admitted = answers.filter((a) => a.status === "fulfilled");
      const refused = answers.filter((a): a is PromiseRejectedResult => a.status === "rejected");
      assert.equal(admitted.length, 5);
      assert.equal(refused.length, 25);
      for (const r of refused) assert.ok(r.reason instanceof Refusal && r.reason.status === 429, String(r.reason));
      assert.equal((await executor.health()).active_sessions, 5);
    } finally {
      await executor.close();
    }
  });
});

describe("executor: what one token can learn of another's (issue 13 item 16)", () => {
  it("keeps a bundle cache per token: a sheet another token ran is not warm for this one", async () => {
    const executor = new Executor({ safeDirs: [FIXTURES] });
    try {
      const source = 'import { p } from "uzoncalc";\nexport async function* sheet() { p("private"); }\n';
      assert.equal((await executor.loader.loadSource(source, "p.calc.ts", {}, "a")).ok, true);
      const again = await executor.loader.loadSource(source, "p.calc.ts", {}, "a");
      const other = await executor.loader.loadSource(source, "p.calc.ts", {}, "b");
      assert.ok(again.ok && again.cached, "warm for the token that ran it");
      assert.ok(other.ok && !other.cached, "cold for another token: it pays what the first one paid");
      const file = fixture("three-windows.calc.ts");
      await executor.loader.loadFile(file, "a");
      assert.ok((await executor.loader.loadFile(file, "a")).ok);
      const fileOther = await executor.loader.loadFile(file, "b");
      assert.ok(fileOther.ok && !fileOther.cached);
      assert.equal(executor.loader.invalidate(file), 2, "invalidating a file drops it for every token");
    } finally {
      await executor.close();
    }
  });
});

describe("executor: what crosses into and out of a sheet is bounded (issue 13 items 6 and 7)", () => {
  it("refuses params, inputs and user_input nested deeper than 32 levels with 400", async () => {
    const executor = new Executor({ safeDirs: [FIXTURES] });
    try {
      let deep: unknown = 1;
      for (let i = 0; i < 5_000; i++) deep = { d: deep };
      const params = await refused(executor.execute({ file_path: fixture("three-windows.calc.ts"), params: { deep } }), "bad_request", 400);
      assert.match(params.message, /`params` nest deeper than 32 levels/);
      await refused(
        executor.execute({ file_path: fixture("three-windows.calc.ts"), inputs: { "first-window": { x: deep } } }),
        "bad_request",
        400,
      );
      const run = await executor.execute({ file_path: fixture("three-windows.calc.ts") });
      await refused(executor.resume({ session_id: run.session_id, user_input: { x: deep } }), "bad_request", 400);
      assert.equal((await executor.getSession({ session_id: run.session_id })).status, "waiting_ui", "the session keeps waiting");
    } finally {
      await executor.close();
    }
  });

  it("ends a run whose return value is larger than a sheet may return, with a sheet error", async () => {
    const executor = new Executor({ safeDirs: [FIXTURES] });
    try {
      const started = performance.now();
      const response = await executor.execute({ file_path: fixture("big-output.calc.ts"), params: { bigValue: true } });
      assert.equal(response.status, "error");
      assert.match(response.error!.message, /returned a value of \d+ characters as JSON; a sheet returns at most 1048576/);
      assert.equal(response.value, undefined);
      assert.ok(performance.now() - started < 5_000);
    } finally {
      await executor.close();
    }
  });

  it("ends a run whose report would pass the report size limit, keeping the report so far", async () => {
    const executor = new Executor({ safeDirs: [FIXTURES], maxReportBytes: 4 * 1_048_576 });
    try {
      const inputs = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`c${i + 1}`, {}]));
      const response = await executor.execute({ file_path: fixture("big-output.calc.ts"), inputs, html_mode: "full" });
      assert.equal(response.status, "error");
      assert.equal(response.error!.limit, "report");
      assert.match(
        response.error!.message,
        /past the report size limit of 4\.0 MB; the run was stopped before this step's output.*--max-report/,
      );
      assert.ok(
        response.html!.length <= 4 * 1_048_576 && response.html!.length > 3 * 1_048_576,
        `${response.html!.length} characters kept`,
      );
    } finally {
      await executor.close();
    }
  });
});
