// The formula text of a traced line is filled from templates the instrumentation made beside the MathML
// (protocol/formulaText.ts). It must read exactly as the line's MathML reads: every rendered equation of every
// sheet in the project is rendered here with many kinds of values, and each line's filled text is compared
// with the text read from the markup the report got. Sheets are instrumented with the loader's own options.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import type { EquationDescriptor, RenderDescriptor, TemplatePart } from "../../../protocol/reportTemplate";
import { instrumentSheet } from "../../loader/instrument";
import { TSCONFIG_RAW } from "../../loader/sheetLoader";
import { connectOutput, renderApi, setTracing, show, takeTrace } from "../../runtime/report/record";
import { formulaText } from "../../../protocol/formulaText";
import { installUnits } from "../../runtime/units";
import { unit, unitOps } from "../../runtime/units/quantity";

const ROOT = path.join(__dirname, "..", "..", "..");
const { mul } = unitOps([]);

function sheetFiles(dir: string, out: string[] = []): string[] {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name.startsWith(".") || entry.name === "out" || entry.name === "dist") continue;
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) sheetFiles(file, out);
    else if (/\.calc\.[jt]s$/.test(entry.name)) out.push(file);
  }
  return out;
}

/** The temps a template reads (holes, tests of branches, guards), so a line gets one value for each. */
function tempCount(parts: readonly TemplatePart[] | undefined): number {
  let count = 0;
  for (const part of parts ?? []) {
    if (typeof part === "string") continue;
    if ("t" in part) count = Math.max(count, part.t + 1);
    else if ("c" in part) count = Math.max(count, part.c + 1, tempCount(part.y), tempCount(part.n));
    else count = Math.max(count, part.g + 1, tempCount(part.r));
  }
  return count;
}

describe("formula text templates", function () {
  this.timeout(120_000);
  const written: string[] = [];
  before(() => {
    installUnits();
    connectOutput((markup) => written.push(markup));
    show();
    setTracing(true);
  });
  after(() => setTracing(false));

  it("fill in to the same text the line's MathML reads as, for every rendered equation of every sheet here", async () => {
    const values: unknown[] = [
      1,
      2.5,
      -3,
      0,
      -0.5,
      2.5e7,
      -4.2e-6,
      1e6,
      123456.789,
      0.1 + 0.2,
      NaN,
      -Infinity,
      "a < b & c",
      "",
      true,
      false,
      null,
      undefined,
      {},
      () => 1,
      [1, -2, 3.5],
      [-1e7],
      mul(3.2, unit("m")),
      mul(-27, unit("kN")),
      mul(18, unit("kN/m^3")),
      mul(2.5e-7, unit("m^4")),
    ];
    let seed = 7;
    const pick = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return values[seed % values.length];
    };
    let templated = 0;
    let compared = 0;
    for (const file of sheetFiles(ROOT)) {
      const source = fs.readFileSync(file, "utf8");
      const result = await instrumentSheet({
        source,
        sourceName: path.basename(file),
        loader: file.endsWith(".ts") ? "ts" : "js",
        tsconfigRaw: TSCONFIG_RAW,
      });
      const json = result && /\.formulas\(("(?:[^"\\]|\\.)*")\)/.exec(result.contents)?.[1];
      if (!json) continue;
      const table = renderApi.formulas(JSON.parse(json) as string) as readonly RenderDescriptor[];
      for (const descriptor of table) {
        if (descriptor.k !== "eq") continue;
        const line: EquationDescriptor = descriptor;
        if (line.tl !== undefined || line.ts !== undefined || line.tb !== undefined) templated++;
        const temps = tempCount(line.sub);
        for (let round = 0; round < 20; round++) {
          const args: unknown[] = [];
          for (let i = 0; i < temps; i++) args.push(pick());
          const before = written.length;
          renderApi.eq(line, pick(), ...args);
          const [entry] = takeTrace();
          if (written.length === before || entry?.formula === undefined) continue;
          compared++;
          assert.equal(
            entry.formula,
            formulaText(written[written.length - 1]!),
            `${path.relative(ROOT, file)}:${line.line} with ${String(args)}`,
          );
        }
      }
    }
    assert.ok(templated > 200, `templated lines: ${templated}`);
    assert.ok(compared > 4000, `lines compared: ${compared}`);
  });
});
