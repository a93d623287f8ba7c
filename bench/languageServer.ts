// `npm run bench` (language server part): the built server (dist/server.js) over a real LSP connection, on
// generated sheets of 100, 300, 600 and 2000 lines. Prints figures, no pass/fail; load average printed first.
//   first check  — a fresh server: initialize, then open the sheet and pull its diagnostics (includes the
//                  start-up warm-up, which the first request queues behind); and the same once the server is warm.
//                  From 500 lines the first answer is the top screen's and the whole sheet's follows: both are timed
//   per edit     — one character changed in the middle of the sheet, then a diagnostic pull (what typing costs).
//                  From 500 lines the first answer checks what the editor shows (server/src/regionCheck.ts) and the
//                  whole sheet's answer follows on the server's refresh: both are timed, and beside them the same
//                  server with a client that cannot be asked to pull again, which gets only whole checks (as before)
//   memory       — the server's heap (after a full GC) and RSS with the sheet open
// `BENCH_RUNS=N` sets how many fresh servers per size (default 5).
import * as os from "node:os";
import * as path from "node:path";
import type { CheckCost } from "../server/src/customRequests";
import { TestClient } from "../server/test/support/lspClient";
import { loadAverage, median, percentile, row } from "./util";
import { dimensionFindings } from "../server/src/dimensions";
import { FormTypes } from "../server/src/formTypes";
import { SheetWorkspace } from "../server/src/sheetWorkspace";
import { loadTypeScriptLibs } from "../server/src/typescriptLibs";

const SIZES = [100, 300, 600, 2000];
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const EDITS = 60;
const WARM_UP_EDITS = 5;

/** A sheet like a real one: windows every ~25 lines, arithmetic on their fields, helpers, report output. */
export function generateSheet(lines: number, options: { units?: boolean } = {}): string {
  const out = [
    'import { UI, Window, h2, p, table } from "uzoncalc";',
    ...(options.units ? ['import { kN, m, mm, MPa } from "uzoncalc/units";'] : []),
    "",
    "function round(value: number, digits = 3): number {",
    "  const factor = 10 ** digits;",
    "  return Math.round(value * factor) / factor;",
    "}",
    "",
    "export async function* sheet(params: { loadFactor?: number } = {}) {",
    "  const gammaQ = params.loadFactor ?? 1.5;",
    "  let total = 0;",
  ];
  for (let i = 0; out.length < lines - 2; i++) {
    out.push(
      `  const w${i} = yield UI(Window({`,
      `    title: "Member ${i}",`,
      `    fields: [`,
      `      { name: "span", type: "number", label: "Span", unit: "m", default: 6, min: 0.5, max: 40, required: true },`,
      `      { name: "load", type: "number", label: "Load", unit: "kN/m", default: 2, min: 0, required: true },`,
      `      { name: "grade", type: "selectOne", options: ["C24", "C30", "GL28h"], default: "C24" },`,
      `      { name: "propped", type: "boolean" },`,
      `      { name: "note", type: "text" },`,
      `    ],`,
      `  }));`,
      `  const factor${i} = 1.35 * gammaQ;`,
      ...(options.units
        ? [
            // The same calculation with quantities, for the unit inference (issue 18 item 1): a length, a line load,
            // a moment and a stress per member, all checked.
            `  const L${i} = w${i}.span * m;`,
            `  const q${i} = w${i}.load * (kN / m);`,
            `  const M${i} = (q${i} * factor${i} * L${i} ** 2) / 8;`,
            `  const sigma${i} = M${i} / ((100 * mm) * (300 * mm) ** 2 / 6) + 0 * MPa;`,
          ]
        : []),
      `  const moment${i} = (w${i}.load * factor${i} * w${i}.span ** 2) / 8;`,
      `  const shear${i} = (w${i}.load * factor${i} * w${i}.span) / 2;`,
      `  const strength${i} = w${i}.grade === "C24" ? 24 : w${i}.grade === "C30" ? 30 : 28;`,
      `  const section${i} = { b: 100 + ${i}, h: 300 };`,
      `  const modulus${i} = (section${i}.b * section${i}.h ** 2) / 6;`,
      `  const stress${i} = (moment${i} * 1e6) / modulus${i};`,
      `  const ratio${i} = stress${i} / strength${i};`,
      `  total += ratio${i} * (w${i}.propped ? 0.8 : 1);`,
      `  h2(\`Member ${i}\${w${i}.note ? \` (\${w${i}.note.trim()})\` : ""}\`);`,
      `  p(\`M = \${round(moment${i})} kN·m, V = \${round(shear${i})} kN, σ = \${round(stress${i}, 2)} MPa\`);`,
      `  table(["Check", "Ratio"], [["Bending", round(ratio${i}, 3)], ["Grade", w${i}.grade]]);`,
      "",
    );
  }
  out.push("  return { total: round(total) };", "}");
  return out.join("\n") + "\n";
}

function summary(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  return `p50 ${percentile(sorted, 0.5).toFixed(0)} ms · p95 ${percentile(sorted, 0.95).toFixed(0)} ms (n=${samples.length})`;
}

async function timed<T>(run: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await run();
  return [result, performance.now() - started];
}

interface FirstCheck {
  /** Open → the first diagnostics (from 500 lines, the top screen's: server/src/regionCheck.ts). */
  first: number;
  /** Open → the whole sheet's diagnostics (the same answer below 500 lines). */
  whole: number;
}

/** Opens a sheet and times its first and whole diagnostics (TestClient.openAndPull); the generated sheets have none. */
async function openAndCheck(client: TestClient, fileName: string, text: string, regionBefore: CheckCost | undefined): Promise<FirstCheck> {
  const opened = await client.openAndPull(fileName, text, regionBefore);
  const found = [...opened.first, ...opened.whole];
  if (found.length > 0) throw new Error(`the generated sheet has diagnostics: ${found[0]!.message}`);
  return { first: opened.firstMs, whole: opened.wholeMs };
}

async function firstChecks(fileName: string, text: string): Promise<{ cold: FirstCheck[]; warm: FirstCheck[]; ready: number[] }> {
  const cold: FirstCheck[] = [];
  const warm: FirstCheck[] = [];
  const ready: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const [client, started] = await timed(() => TestClient.start({ nodeArgs: ["--expose-gc"] }));
    try {
      cold.push(await openAndCheck(client, fileName, text, undefined));
      ready.push(started + ((await client.stats()).warmUpMs ?? 0));
      await client.close(client.uriOf(fileName));
      // A second sheet in the same (now warm) server: the first check a user pays after start-up.
      const regionBefore = (await client.stats()).lastRegionCheck;
      warm.push(await openAndCheck(client, fileName.replace(/\.calc\.ts$/, "-again.calc.ts"), text, regionBefore));
    } finally {
      await client.stop();
    }
  }
  return { cold, warm, ready };
}

interface EditSamples {
  /** Edit sent → the first diagnostics received, as the client sees it (a region check's, from 500 lines). */
  roundTrip: number[];
  /** Edit sent → the whole sheet's diagnostics (after the server's refresh, when the first answer was a region's). */
  whole: number[];
  /** The server's own work for the whole check, wall and CPU. */
  serverMs: number[];
  serverCpuMs: number[];
  /** The same for the region check, when there was one. */
  regionMs: number[];
  regionCpuMs: number[];
}

/** Lines an editor shows around the edit, as VS Code reports them (uzoncalc/visibleRanges). */
const SHOWN_LINES = 50;

async function perEdit(client: TestClient, fileName: string, text: string): Promise<EditSamples> {
  const uri = await client.open(fileName, text);
  await client.diagnostics(uri);
  // One digit of a factor in the middle of the sheet, toggled: a real change every time, the text stays valid.
  const lines = text.split("\n");
  const line = lines.findIndex((l, i) => i >= lines.length / 2 && l.includes("= 1.35 * gammaQ"));
  const character = lines[line]!.indexOf("1.35") + 3;
  await client.visibleLines(uri, Math.max(0, line - SHOWN_LINES / 2), line + SHOWN_LINES / 2);
  const samples: EditSamples = { roundTrip: [], whole: [], serverMs: [], serverCpuMs: [], regionMs: [], regionCpuMs: [] };
  for (let i = 0; i < EDITS + WARM_UP_EDITS; i++) {
    const regionBefore = (await client.stats()).lastRegionCheck;
    const refreshed = client.nextRefresh();
    const started = performance.now();
    await client.edit(uri, { line, character }, { line, character: character + 1 }, i % 2 === 0 ? "6" : "5");
    await client.diagnostics(uri);
    const first = performance.now() - started;
    const stats = await client.stats();
    const region = stats.lastRegionCheck !== regionBefore ? stats.lastRegionCheck : undefined;
    if (region) {
      await refreshed;
      await client.diagnostics(uri);
    }
    const whole = performance.now() - started;
    const check = (await client.stats()).lastCheck;
    if (i < WARM_UP_EDITS || !check) continue;
    samples.roundTrip.push(first);
    samples.whole.push(whole);
    samples.serverMs.push(check.ms);
    samples.serverCpuMs.push(check.cpuMs);
    if (region) {
      samples.regionMs.push(region.ms);
      samples.regionCpuMs.push(region.cpuMs);
    }
  }
  return samples;
}

function reportEdits(label: string, samples: EditSamples): void {
  const twoSteps = samples.regionMs.length > 0;
  row(`${label}: edit → ${twoSteps ? "first diagnostics (the region shown)" : "diagnostics"}`, summary(samples.roundTrip));
  if (twoSteps) {
    row(`${label}: edit → the whole sheet's diagnostics`, summary(samples.whole));
    row(
      `${label}: server work, region check (wall / CPU, p50)`,
      `${median(samples.regionMs).toFixed(0)} ms / ${median(samples.regionCpuMs).toFixed(0)} ms`,
    );
  }
  row(
    `${label}: server work${twoSteps ? ", whole check" : ""} (wall / CPU, p50)`,
    `${median(samples.serverMs).toFixed(0)} ms / ${median(samples.serverCpuMs).toFixed(0)} ms`,
  );
}

async function main(): Promise<void> {
  console.log(`UzonCalc language server bench · node ${process.version} · ${os.cpus().length} cores · load average ${loadAverage()}\n`);
  const dir = os.tmpdir();
  console.log("First check (a fresh server per run; generated sheets, 0 diagnostics; default `fields` mode)");
  for (const size of SIZES) {
    const fileName = path.join(dir, `bench-${size}.calc.ts`).replace(/\\/g, "/");
    const { cold, warm, ready } = await firstChecks(fileName, generateSheet(size));
    row(`${size} lines: spawn → server warm`, summary(ready));
    const twoSteps = cold.some((check) => check.whole !== check.first);
    const first = twoSteps ? "first diagnostics (the top screen)" : "first check";
    row(`${size} lines: ${first}, server just started`, summary(cold.map((check) => check.first)));
    if (twoSteps) row(`${size} lines: the whole sheet's, server just started`, summary(cold.map((check) => check.whole)));
    row(`${size} lines: ${first} of a sheet, server warm`, summary(warm.map((check) => check.first)));
    if (twoSteps) row(`${size} lines: the whole sheet's, server warm`, summary(warm.map((check) => check.whole)));
  }
  console.log("\nPer-edit re-check (one character changed mid-sheet, then a diagnostic pull; after 5 warm-up edits)");
  const client = await TestClient.start({ nodeArgs: ["--expose-gc"] });
  try {
    for (const size of SIZES) {
      const fileName = path.join(dir, `bench-edit-${size}.calc.ts`).replace(/\\/g, "/");
      reportEdits(`${size} lines, fields mode`, await perEdit(client, fileName, generateSheet(size)));
      const stats = await client.stats(true);
      row(
        `  server memory with the ${size}-line sheet open`,
        `heap ${stats.heapUsedMb.toFixed(0)} MB · RSS ${stats.rssMb.toFixed(0)} MB (${stats.openSheets} sheets open)`,
      );
      await client.close(client.uriOf(fileName));
    }
    // The same server, a client that cannot be asked to pull again: every answer is a whole check, as before the
    // region check existed (and as for a client other than VS Code that lacks refresh support).
    const plain = await TestClient.start({ nodeArgs: ["--expose-gc"], refreshSupport: false });
    try {
      const fileName = path.join(dir, "bench-edit-plain-600.calc.ts").replace(/\\/g, "/");
      reportEdits("600 lines, whole checks only (no refresh support)", await perEdit(plain, fileName, generateSheet(600)));
    } finally {
      await plain.stop();
    }
    client.settings = { typeCheck: "all" };
    await client.configurationChanged();
    const fileName = path.join(dir, "bench-edit-all-600.calc.ts").replace(/\\/g, "/");
    reportEdits("600 lines, all mode", await perEdit(client, fileName, generateSheet(600)));
    client.settings = {};
    await client.configurationChanged();
    const withUnits = path.join(dir, "bench-edit-units-600.calc.ts").replace(/\\/g, "/");
    reportEdits("600 lines with units, fields mode", await perEdit(client, withUnits, generateSheet(600, { units: true })));
    unitInference(withUnits, generateSheet(600, { units: true }));
  } finally {
    await client.stop();
  }
  console.log(`\nload average at the end: ${loadAverage()}`);
}

/**
 * The unit inference alone (server/src/dimensions.ts), in this process on the checked 600-line sheet with units: what
 * it adds to each re-check, beside the whole check's figure above.
 */
function unitInference(fileName: string, text: string): void {
  const workspace = new SheetWorkspace({ libs: loadTypeScriptLibs() });
  workspace.setDocument(fileName, text, 1);
  void workspace.diagnostics(fileName, "fields").then(() => {
    const program = workspace["service"].getProgram()!;
    const checker = program.getTypeChecker();
    const sourceFile = program.getSourceFile(fileName)!;
    const forms = new FormTypes(checker, workspace.files.runtime.runtimeFile);
    const map = workspace.files.state(fileName)!.virtual.map;
    const samples: number[] = [];
    let findings = 0;
    for (let i = 0; i < 30; i++) {
      const started = performance.now();
      findings = dimensionFindings(sourceFile, checker, forms, map).length;
      samples.push(performance.now() - started);
    }
    row("600 lines with units: unit inference alone, in process", `${summary(samples)} (${findings} findings)`);
  });
}

if (require.main === module) void main();
