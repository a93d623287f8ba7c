// `npm run bench`: figures for the sandbox, printed, no pass/fail. Ratios within one run are what to compare;
// absolute numbers move with the machine's load (printed first).
import { execFileSync } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { Executor } from "../sandbox/src/executor";
import { fmt, row, summarize } from "./util";

const SHEETS = path.join(__dirname, "sheets");
const STEPS_SHEET = path.join(SHEETS, "steps.calc.ts");

async function stepLatency(): Promise<void> {
  const executor = new Executor({ safeDirs: [SHEETS] });
  try {
    const steps = 3000;
    let response = await executor.execute({ file_path: STEPS_SHEET, params: { steps: steps + 2500 }, html_mode: "delta" });
    const samples: number[] = [];
    for (let i = 0; i < steps; i++) {
      const started = performance.now();
      response = await executor.resume({ session_id: response.session_id, user_input: { x: "1500 mm" } });
      samples.push(performance.now() - started);
    }
    const warm = samples.slice(200);
    const s = summarize(warm);
    console.log("In-process step (executor.resume: validate, inject, run to next pause; delta HTML)");
    row("median", fmt(s.median));
    row("p99", fmt(s.p99));
    row("steps/s (sequential)", `${Math.round(1000 / s.mean)}`);

    const engine = executor.engine;
    const engineSamples: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const started = performance.now();
      await engine.resume(response.session_id, { x: 1.5 });
      engineSamples.push(performance.now() - started);
    }
    const e = summarize(engineSamples.slice(200));
    console.log("Realm step alone (engine.resume: timed runInContext + outcome read)");
    row("median", fmt(e.median));
    row("p99", fmt(e.p99));
  } finally {
    await executor.close();
  }
}

async function loadTimes(): Promise<void> {
  const executor = new Executor({ safeDirs: [SHEETS, path.join(__dirname, "..", "examples")] });
  try {
    const beam = path.join(__dirname, "..", "examples", "beam.calc.ts");
    const first = await executor.loader.loadFile(beam);
    const warm: number[] = [];
    for (let i = 0; i < 300; i++) warm.push((await executor.loader.loadFile(beam)).ms);
    const toFirstPause: number[] = [];
    for (let i = 0; i < 300; i++) {
      const started = performance.now();
      const r = await executor.execute({ file_path: beam });
      toFirstPause.push(performance.now() - started);
      await executor.cancel({ session_id: r.session_id });
    }
    console.log("Sheet load (examples/beam.calc.ts with one local import)");
    row("cold in this process (esbuild service start + bundle)", fmt(first.ms));
    row("warm (cache hit: stat of every input file), median", fmt(summarize(warm).median));
    row("warm execute to first pause (load + new realm + step), median", fmt(summarize(toFirstPause).median));
    row("warm execute to first pause, p99", fmt(summarize(toFirstPause).p99));
  } finally {
    await executor.close();
  }
  const cold: number[] = [];
  const cli = path.join(__dirname, "..", "dist", "cli.js");
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    execFileSync(process.execPath, [cli, "run", path.join(__dirname, "..", "examples", "beam.calc.ts"), "--inputs", path.join(__dirname, "..", "examples", "beam.inputs.json"), "-o", path.join(os.tmpdir(), "uzc-bench-beam.html")], { stdio: "ignore" });
    cold.push(performance.now() - started);
  }
  row("cold CLI run of the demo, whole process, median of 5", fmt(summarize(cold).median));
}

async function main(): Promise<void> {
  const load = os.loadavg().map((l) => l.toFixed(2)).join(" ");
  console.log(`UzonCalc bench · node ${process.version} · ${os.cpus().length} cores · load average ${load}\n`);
  await loadTimes();
  console.log();
  await stepLatency();
}

void main();
