// Values in the editor (issue 8 item 5, sandbox side): the `trace` of an ExecutionResponse, through the
// in-process engine and the process pool, across eviction and rebuild, and at its bounds. The same fixture
// runs through every transport in contract.test.ts.

import assert from "node:assert/strict";
import * as path from "node:path";
import type { ExecuteRequest, ExecutionResponse } from "../../../protocol/rpc";
import { MAX_TRACE_ENTRIES } from "../../../protocol/rpc";
import { InProcessEngine } from "../../engine/realmEngine";
import { Executor } from "../../session/executor";
import { defaultWorkerScript, WorkerPoolEngine } from "../../engine/workerPool";
import { parseTrace } from "../../engine/sheetRealm";
import { TRACE_STEP_1 as STEP_1, TRACE_STEP_2 as STEP_2 } from "../support/traceExpected";

const CONTRACT = path.join(__dirname, "..", "fixtures", "contract");
const TRACE = path.join(CONTRACT, "trace.calc.ts");

function source(text: string, extra: Partial<ExecuteRequest> = {}): ExecuteRequest {
  return { source: text, filename: "t.calc.ts", html_mode: "delta", trace: true, ...extra };
}

describe("trace: values in the editor", function () {
  this.timeout(60_000);

  describe("in-process executor", () => {
    let now = 1_000_000;
    let executor: Executor;
    before(() => {
      executor = new Executor({
        safeDirs: [CONTRACT],
        evictAfterMs: 60_000,
        clock: () => now,
        engine: new InProcessEngine({ stepTimeoutMs: 5_000 }),
      });
    });
    after(() => executor.close());

    it("rebuilding an evicted session keeps its report byte-identical and sends no replayed values", async () => {
      const delta = await executor.execute({ file_path: TRACE, html_mode: "delta", trace: true });
      const full = await executor.execute({ file_path: TRACE, html_mode: "full", trace: true });
      assert.deepEqual(delta.trace, STEP_1);
      now += 120_000;
      await executor.sweep();
      assert.equal(executor.stats().evicted, 2);
      const deltaEnd = await executor.resume({ session_id: delta.session_id, user_input: { q: 10 } });
      const fullEnd = await executor.resume({ session_id: full.session_id, user_input: { q: 10 } });
      assert.equal(executor.stats().restores, 2, "both were rebuilt by replay (their reports compared equal)");
      assert.deepEqual(deltaEnd.trace, STEP_2, "the replayed first step is not sent again");
      assert.deepEqual(fullEnd.trace, [...STEP_1, ...STEP_2], "full html: the whole run's values, once each");
    });

    it("a replay of a recorded session gives the same report and the same trace", async () => {
      const first = await executor.execute({ file_path: TRACE, html_mode: "full", trace: true });
      const end = await executor.resume({ session_id: first.session_id, user_input: { q: 10 } });
      const again = await executor.replay({ record: executor.sessionRecord(first.session_id) });
      assert.equal(again.html, end.html);
      assert.equal(again.result, end.result);
      assert.deepEqual(again.trace, end.trace);
    });

    it("leaves out hidden lines, objects, functions, _private names, and sheets that turn rendering off", async () => {
      const text = [
        'import { hide, show } from "uzoncalc";',
        "export async function* sheet() {",
        "  const a = 1;",
        "  hide();",
        "  const b = 2;",
        "  show();",
        "  const o = { a };",
        "  const f = () => a;",
        "  const _p = 3;",
        "  const s = '<x> & \"y\"';",
        "  const u = undefined;",
        "  a < 2;",
        "  return b + _p;",
        "}",
      ].join("\n");
      const on = await executor.execute(source(text));
      assert.equal(on.status, "completed", JSON.stringify(on.error));
      assert.deepEqual(on.trace, [
        { line: 3, name: "a", value: 1, display: "1", formula: "a = 1" },
        { line: 10, name: "s", value: '<x> & "y"', display: '“<x> & "y"”', formula: 's = “<x> & "y"”' },
        { line: 11, name: "u", value: null, display: "—", formula: "u = —" },
        { line: 12, name: "", value: true, display: "true", formula: "a < 2 = 1 < 2 = true" },
      ]);
      const off = await executor.execute(source(text + "\nexport const render = false;\n"));
      assert.equal(off.status, "completed");
      assert.equal(off.trace, undefined);
    });

    it("a line in a loop gives its last value, also past its render cap (then without a formula), in the sheet's format", async () => {
      const text = [
        'import { format } from "uzoncalc";',
        "export async function* sheet() {",
        '  format({ decimals: 1, decimal: "," });',
        "  let x = 0;",
        "  for (let i = 1; i <= 250; i++) {",
        "    x = i / 3;",
        "  }",
        "}",
      ].join("\n");
      const response = await executor.execute(source(text));
      assert.equal(response.status, "completed", JSON.stringify(response.error));
      assert.deepEqual(response.trace, [
        { line: 4, name: "x", value: 0, display: "0", formula: "x = 0" },
        { line: 6, name: "x", value: 250 / 3, display: "83,3" },
      ]);
    });

    it("a step that throws still sends the values it computed", async () => {
      const text = ["export async function* sheet() {", "  const a = 2;", "  const b = a * 3;", "  throw new Error('stop');", "}"].join(
        "\n",
      );
      const response = await executor.execute(source(text));
      assert.equal(response.status, "error");
      assert.deepEqual(response.trace, [
        { line: 2, name: "a", value: 2, display: "2", formula: "a = 2" },
        { line: 3, name: "b", value: 6, display: "6", formula: "b = a · 3 = 2 · 3 = 6" },
      ]);
    });

    it(`caps a response at ${MAX_TRACE_ENTRIES} entries and says so`, async () => {
      const count = MAX_TRACE_ENTRIES + 50;
      const lines = ["export async function* sheet() {"];
      for (let i = 0; i < count; i++) lines.push(`  const v${i} = ${i};`);
      lines.push("}");
      const response = await executor.execute(source(lines.join("\n")));
      assert.equal(response.status, "completed", JSON.stringify(response.error));
      assert.equal(response.trace?.length, MAX_TRACE_ENTRIES);
      assert.equal(response.trace_truncated, true);
      assert.deepEqual(response.trace![0], { line: 2, name: "v0", value: 0, display: "0", formula: "v0 = 0" });
      assert.equal(response.trace!.at(-1)!.line, MAX_TRACE_ENTRIES + 1, "the first entries by line are kept");
    });
  });

  describe("process pool", () => {
    let executor: Executor;
    before(() => {
      const engine = new WorkerPoolEngine({
        workerScript: defaultWorkerScript(),
        stepTimeoutMs: 5_000,
        memoryLimitMb: 128,
        maxWorkers: 1,
        sessionsPerWorker: 4,
      });
      executor = new Executor({ safeDirs: [CONTRACT], engine });
    });
    after(() => executor.close());

    it("carries the trace from a pool member, in delta and full mode", async () => {
      let response: ExecutionResponse = await executor.execute({ file_path: TRACE, html_mode: "delta", trace: true });
      assert.deepEqual(response.trace, STEP_1);
      response = await executor.resume({ session_id: response.session_id, user_input: { q: 10 } });
      assert.deepEqual(response.trace, STEP_2);
      const batch = await executor.execute({ file_path: TRACE, inputs: { load: { q: 10 } }, trace: true });
      assert.deepEqual(batch.trace, [...STEP_1, ...STEP_2]);
    });
  });

  describe("the host's reading of a realm's trace (rows: a sheet can corrupt its own driver, not the host's view)", () => {
    it("reads rows into entries, a unit after a null formula included", () => {
      assert.deepEqual(
        parseTrace([
          [3, "L", 7.5, "7.5", "L = 7.5"],
          [4, "w", 10, "10", null, "kN/m"],
          [5, "ok", true, "true"],
          [6, "xs", [1, 2], "[1, 2]", "xs = [1, 2]"],
        ]),
        [
          { line: 3, name: "L", value: 7.5, display: "7.5", formula: "L = 7.5" },
          { line: 4, name: "w", value: 10, display: "10", unit: "kN/m" },
          { line: 5, name: "ok", value: true, display: "true" },
          { line: 6, name: "xs", value: [1, 2], display: "[1, 2]", formula: "xs = [1, 2]" },
        ],
      );
    });

    it("drops what is not a well-formed row, and cuts what is too long", () => {
      const good = [9, "a", 1, "1"];
      const entries = parseTrace([
        { line: 2, name: "a", value: 1, display: "1" },
        [2, "a", 1],
        [2, "a", 1, "1", "f", "u", "extra"],
        [0, "a", 1, "1"],
        [2.5, "a", 1, "1"],
        ["2", "a", 1, "1"],
        [2, "x".repeat(201), 1, "1"],
        [2, "a", { toJSON: 1 }, "1"],
        [2, "a", Array.from({ length: 13 }, () => 1), "1"],
        [2, "a", Infinity, "1"],
        [2, "a", 1, 1],
        [7, "long", 1, "9".repeat(500), "f".repeat(1_200), "u".repeat(101)],
        good,
      ]);
      assert.equal(entries?.length, 2);
      assert.equal(entries[0]!.display, "9".repeat(400) + "…");
      assert.equal(entries[0]!.formula, "f".repeat(1_000) + "…");
      assert.equal(entries[0]!.unit, undefined);
      assert.deepEqual(entries[1], { line: 9, name: "a", value: 1, display: "1" });
      assert.equal(parseTrace("[]"), undefined);
      assert.equal(parseTrace([]), undefined);
      assert.equal(parseTrace([null, 5]), undefined);
    });

    it(`keeps at most ${MAX_TRACE_ENTRIES} + 1 rows, so the executor can tell the trace was cut`, () => {
      const rows = Array.from({ length: MAX_TRACE_ENTRIES + 20 }, (_, i) => [i + 1, `v${i}`, i, String(i)]);
      assert.equal(parseTrace(rows)?.length, MAX_TRACE_ENTRIES + 1);
    });
  });
});
