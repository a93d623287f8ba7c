// `uzoncalc study` against what it replaces (issue 17 item 7): a 100-case sweep of examples/rc-beam.calc.ts as one
// study (the machine's cores as jobs, then one job) beside the same 100 cases as 100 `uzoncalc run` processes one
// after the other, each with its own inputs file. Wall time of each, whole processes included. Then what --jobs
// buys when the sheet, not the study's own bookkeeping, takes the time: 20 cases of a sheet computing ~0.2 s each.
// `UZC_CLI=/path/to/dist/cli.js` runs the same bench against another build.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadAverage } from "./util";

const CLI = process.env.UZC_CLI ?? path.join(__dirname, "..", "dist", "cli.js");
const SHEET = path.join(__dirname, "..", "examples", "rc-beam.calc.ts");
const SPIN = path.join(__dirname, "..", "sandbox", "test", "fixtures", "study", "spin.calc.ts");
const DEPTHS = [400, 450, 500, 550, 600];
// Up to 300 kN·m: past about 360 kN·m the shallowest section has no neutral axis (μ > 0.5) and the sheet stops.
const MOMENTS = Array.from({ length: 20 }, (_, i) => 15 * (i + 1));

interface Case {
  name: string;
  h: number;
  M: number;
}

const CASES: Case[] = DEPTHS.flatMap((h) => MOMENTS.map((M) => ({ name: `h${h}-M${M}`, h, M })));

function section(h: number) {
  return { b: 300, h, c: 30, n: 3, phi: "20", s: 200, concrete: "C30/37" };
}

/** Runs `node CLI args` to its end; its exit code (a study with checks NOT OK still exits 0). */
function cli(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(code) : reject(new Error(`uzoncalc ${args[0]} exited ${code}:\n${stderr}`))));
  });
}

async function timed(what: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await what();
  return performance.now() - started;
}

async function main(): Promise<void> {
  const cores = os.availableParallelism();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "uzc-bench-study-"));
  try {
    const casesFile = path.join(dir, "cases.csv");
    fs.writeFileSync(
      casesFile,
      ["case,section.b,section.h,section.c,section.n,section.phi,section.s,section.concrete,actions.M,actions.V"]
        .concat(CASES.map(({ name, h, M }) => `${name},300,${h},30,3,20,200,C30/37,${M},110`))
        .join("\n") + "\n",
    );
    for (const { name, h, M } of CASES)
      fs.writeFileSync(path.join(dir, `${name}.inputs.json`), JSON.stringify({ section: section(h), actions: { M, V: 110 } }));

    console.log(
      `\nuzoncalc study: ${CASES.length} cases of rc-beam.calc.ts (${path.relative(process.cwd(), CLI)}) · load average ${loadAverage()} · ${cores} cores`,
    );
    // One warm-up of each, so neither pays for the first esbuild and disk cache alone.
    await cli(["run", SHEET, "--inputs", path.join(dir, `${CASES[0]!.name}.inputs.json`), "-o", path.join(dir, "warm.html")]);
    const study = await timed(() => cli(["study", SHEET, "--cases", casesFile, "-o", path.join(dir, "study")]));
    const oneJob = await timed(() => cli(["study", SHEET, "--cases", casesFile, "--jobs", "1", "-o", path.join(dir, "study-1")]));
    const runs = await timed(async () => {
      for (const { name } of CASES)
        await cli(["run", SHEET, "--inputs", path.join(dir, `${name}.inputs.json`), "-o", path.join(dir, "runs", `${name}.report.html`)]);
    });
    const line = (label: string, ms: number, cases = CASES.length) =>
      console.log(`  ${label.padEnd(52)} ${(ms / 1000).toFixed(2)} s (${(ms / cases).toFixed(1)} ms a case)`);
    line(`study, --jobs ${cores} (the default)`, study);
    line("study, --jobs 1", oneJob);
    line(`${CASES.length} sequential uzoncalc run processes`, runs);
    console.log(`  study ${(runs / study).toFixed(1)}× faster than the runs · load average after ${loadAverage()}`);

    const spinCases = path.join(dir, "spin.csv");
    fs.writeFileSync(spinCases, "work.n\n" + "50000000\n".repeat(20));
    const spinOne = await timed(() => cli(["study", SPIN, "--cases", spinCases, "--jobs", "1", "-o", path.join(dir, "spin-1")]));
    const spinAll = await timed(() => cli(["study", SPIN, "--cases", spinCases, "-o", path.join(dir, "spin")]));
    console.log(`20 cases of a sheet computing about 0.2 s each (sandbox/test/fixtures/study/spin.calc.ts):`);
    line("study, --jobs 1", spinOne, 20);
    line(`study, --jobs ${cores} (the default)`, spinAll, 20);
    console.log(`  ${(spinOne / spinAll).toFixed(2)}× with ${cores} jobs · load average after ${loadAverage()}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
