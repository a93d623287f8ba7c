// Units (issue 8 item 2): quantities through the instrumented operators, errors that name the line and both
// units, quantities that reach code that is not rewritten, yield/await, `render = false`, and the types of
// "uzoncalc/units" kept in step with what the loader exports. The report's rendering of quantities is in the
// goldens (fixtures/report/51-55).

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import type { ExecuteRequest, ExecutionResponse } from "../../../protocol/rpc";
import { InProcessEngine } from "../../engine/realmEngine";
import { Executor } from "../../session/executor";
import { unitExports } from "../../runtime/units/unitNames";
import { convertValue } from "../../../protocol/units";

async function run(executor: Executor, request: ExecuteRequest): Promise<ExecutionResponse> {
  let response = await executor.execute(request);
  for (let step = 0; step < 10 && response.status === "waiting_ui"; step++)
    response = await executor.resume({ session_id: response.session_id, user_input: {} });
  return response;
}

function sheet(body: string, extra: Partial<ExecuteRequest> = {}): ExecuteRequest {
  return {
    source: `import { UI, Window } from "uzoncalc";\nimport { m, mm, kN, MPa, unit } from "uzoncalc/units";\n${body}`,
    filename: "u.calc.ts",
    ...extra,
  };
}

describe("units: quantities in sheets", function () {
  let executor: Executor;

  before(() => {
    executor = new Executor({ engine: new InProcessEngine({ stepTimeoutMs: 10_000 }) });
  });

  after(async () => {
    await executor.close();
  });

  it("computes with quantities and returns them as { value, unit }", async () => {
    const response = await run(
      executor,
      sheet(
        `export async function* sheet() {\n  const M = 2 * kN * (3 * m);\n  const A = 300 * mm * (500 * mm);\n  return { M, A, s: (M / (A * 0.5 * m)).to("MPa").in("MPa"), n: (3 * m) / (300 * mm), r: (5 * kN) / (2 * MPa * (1 * mm ** 2)), t: (2 * kN * m) / (1 * MPa * (1000 * mm ** 3)) };\n}\n`,
      ),
    );
    assert.equal(response.status, "completed", JSON.stringify(response.error));
    // Dimensionless results whose units do not cancel term by term are still the SI ratio (kN / (MPa·mm²) is 1000).
    assert.deepEqual(response.value, {
      M: { value: 6, unit: "kN·m" },
      A: { value: 150000, unit: "mm²" },
      s: 0.08,
      n: 10,
      r: 2500,
      t: 2000,
    });
  });

  it("adding metres to newtons is an error naming the line and both units", async () => {
    const response = await run(
      executor,
      sheet(`export async function* sheet() {\n  const L = 3 * m;\n  const F = 2 * kN;\n  const x = L + F;\n}\n`),
    );
    assert.equal(response.status, "error");
    assert.equal(response.error?.name, "UnitError");
    assert.equal(response.error?.line, 6);
    assert.equal(response.error?.message, "Line 6: cannot add 3 m (a length) and 2 kN (a force): a length and a force do not mix.");
  });

  it("a quantity reaching arithmetic in another file throws instead of losing its unit", async () => {
    const response = await run(
      executor,
      sheet(`import { twice } from "./lib";\nexport async function* sheet() {\n  const L = twice(3 * m);\n}\n`, {
        files: { "lib.ts": "export function twice(x: number) {\n  return x * 2;\n}\n" },
      }),
    );
    assert.equal(response.status, "error");
    assert.match(response.error?.message ?? "", /The quantity 3 m was used in arithmetic that keeps no units/);
    assert.equal(response.error?.file, "lib.ts");
    assert.equal(response.error?.line, 2);
  });

  it("works across yield and await, with rendering off, and values typed into a form stay numbers", async () => {
    const body = `export const render = false;\nexport async function* sheet() {\n  const g = yield UI(Window({ title: "G", fields: [{ name: "b", type: "number", unit: "mm", default: 300 }] }));\n  const b = g.b * mm;\n  const x = (yield UI(Window({ title: "H", fields: [{ name: "k", type: "number", default: 2 }] }))).k * b;\n  const y = (await Promise.resolve(2 * mm)) * 3;\n  let s = 0;\n  for (let i = 0; i < 3; i++) s += b;\n  return { x: x.in("m"), y: y.in("mm"), s: s.in("mm"), k: unit("kN*m").to("J").in("J"), neg: (-b).in("mm"), r: Math.sqrt(b * b).in("mm") };\n}\n`;
    const response = await run(executor, sheet(body));
    assert.equal(response.status, "completed", JSON.stringify(response.error));
    assert.deepEqual(response.value, { x: 0.6, y: 6, s: 900, k: 1000, neg: -300, r: 300 });
  });

  it(".to() on a plain number, an unknown unit and a conversion between kinds say what is wrong", async () => {
    for (const [expr, pattern] of [
      [`(5).to("m")`, /a plain number has no unit to convert/],
      [`unit("furlong")`, /unknown unit 'furlong'/],
      [`(2 * kN).to("m")`, /Cannot convert 2 kN to m: a force is not a length/],
    ] as const) {
      const response = await run(executor, sheet(`export async function* sheet() {\n  const x = ${expr};\n}\n`));
      assert.equal(response.status, "error", expr);
      assert.match(response.error?.message ?? "", pattern);
      assert.equal(response.error?.line, 4, expr);
    }
  });

  it("the trace carries the unit and the value in it", async () => {
    const response = await run(executor, sheet(`export async function* sheet() {\n  const M = 2 * kN * (3 * m);\n}\n`, { trace: true }));
    const entry = response.trace?.find((e) => e.name === "M");
    assert.deepEqual(entry && { value: entry.value, unit: entry.unit, display: entry.display }, {
      value: 6,
      unit: "kN·m",
      display: "6 kN·m",
    });
  });

  it("reads units with the same parser as typed inputs", async () => {
    const response = await run(executor, sheet(`export async function* sheet() {\n  return (300 * mm).in("m");\n}\n`));
    assert.equal(response.value, convertValue(300, "mm", "m").ok ? 0.3 : NaN);
  });

  it("uzoncalc-units.d.ts declares exactly what the loader exports", () => {
    const text = fs.readFileSync(path.join(__dirname, "..", "..", "runtime", "uzoncalc-units.d.ts"), "utf8");
    const declared = [...text.matchAll(/^export declare const (\S+): Quantity;$/gmu)].map((match) => match[1]);
    assert.deepEqual(
      declared,
      unitExports().map(([name]) => name),
    );
  });
});
