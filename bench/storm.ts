// What `uzoncalc serve` does under faults and abuse, over real HTTP (issue 13): a member SIGKILLed every 2 s under
// 200 sessions × 10 steps (completed, lost, reports identical to an undisturbed run), how long bystanders wait
// while another session's step runs for 1.5 s, and how much memory a sheet hoarding typed arrays gets to hold
// under --memory-limit 128. `UZC_CLI=/path/to/dist/cli.js` runs the same bench against another build.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { descendantsOf, residentMb } from "../sandbox/test/support/processes";
import { fmt, loadAverage, postJson } from "./util";

const round = (n: number) => String(Math.round(n));

const CLI = process.env.UZC_CLI ?? path.join(__dirname, "..", "dist", "cli.js");
const SHEETS = path.join(__dirname, "..", "sandbox", "test", "fixtures", "runaway");
const sheet = (name: string) => path.join(SHEETS, name);

interface Served {
  url: string;
  child: ChildProcess;
  stop: () => Promise<void>;
}

function serve(args: string[]): Promise<Served> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, "serve", "--port", "0", "--safe-dir", SHEETS, "--max-sessions", "2000", ...args], {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, LOG_LEVEL: "info" },
    });
    let buffer = "";
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      const match = /"port":(\d+)[^\n]*listening/.exec(buffer);
      if (!match) return;
      child.stdout!.off("data", onData);
      child.stdout!.resume();
      resolve({
        url: `http://127.0.0.1:${match[1]}`,
        child,
        stop: () =>
          new Promise((done) => {
            child.once("exit", () => done());
            child.kill("SIGTERM");
          }),
      });
    };
    child.stdout!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`serve exited ${code}`)));
  });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });

interface Answer {
  session_id: string;
  status: string;
  html?: string;
  error?: { message: string };
}

async function post(url: string, body: unknown): Promise<Answer> {
  const { status, data } = await postJson<Answer & { error?: { message: string } }>(agent, url, body);
  return status === 200 ? data : { session_id: "", status: `http ${status}`, error: { message: data.error?.message ?? "" } };
}

/** The pool members under a process: descendants whose command line runs the sheet worker. */
function memberPids(root: number): number[] {
  return descendantsOf(root).filter((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("sandbox-worker.js");
    } catch {
      return false; // gone meanwhile
    }
  });
}

async function tenSteps(url: string, n: number, think: boolean): Promise<Answer> {
  let answer = await post(`${url}/sandbox/execute`, { file_path: sheet("ten.calc.ts"), html_mode: "full" });
  for (let step = 1; step <= 10 && answer.status === "waiting_ui"; step++) {
    if (think) await new Promise((resolve) => setTimeout(resolve, (n * 37 + step * 53) % 3_000));
    answer = await post(`${url}/sandbox/resume`, { session_id: answer.session_id, user_input: { v: n * 7 + step }, html_mode: "full" });
  }
  return answer;
}

async function storm(): Promise<void> {
  const SESSIONS = 200;
  const quiet = await serve([]);
  const reference = await Promise.all(Array.from({ length: SESSIONS }, (_, n) => tenSteps(quiet.url, n, false)));
  await quiet.stop();

  const service = await serve([]);
  let kills = 0;
  const killer = setInterval(() => {
    const pids = memberPids(service.child.pid!);
    if (pids.length === 0) return;
    try {
      process.kill(pids[kills % pids.length]!, "SIGKILL");
      kills++;
    } catch {
      // already gone
    }
  }, 2_000);
  const started = performance.now();
  const stormed = await Promise.all(Array.from({ length: SESSIONS }, (_, n) => tenSteps(service.url, n, true)));
  clearInterval(killer);
  const seconds = (performance.now() - started) / 1000;
  await service.stop();
  const completed = stormed.filter((a) => a.status === "completed").length;
  const identical = stormed.filter((a, n) => a.status === "completed" && a.html === reference[n]!.html).length;
  const reasons = new Map<string, number>();
  for (const a of stormed)
    if (a.status !== "completed") reasons.set(a.error?.message ?? a.status, (reasons.get(a.error?.message ?? a.status) ?? 0) + 1);
  console.log(
    `storm: ${SESSIONS} sessions × 10 steps, a member SIGKILLed every 2 s (${kills} kills in ${round(seconds)} s): ` +
      `${completed} completed, ${SESSIONS - completed} lost, ${identical} with the undisturbed report`,
  );
  for (const [reason, count] of reasons) console.log(`  lost ×${count}: ${reason}`);
}

async function stall(): Promise<void> {
  const service = await serve(["--step-timeout", "30000"]);
  try {
    // Spins for a step of about 1.5 s, measured first on this service.
    const calibrate = await post(`${service.url}/sandbox/execute`, { file_path: sheet("slow.calc.ts") });
    let started = performance.now();
    await post(`${service.url}/sandbox/resume`, { session_id: calibrate.session_id, user_input: { spins: 20_000_000 } });
    const spins = Math.round((20_000_000 * 1_500) / (performance.now() - started));
    const bystanders = [];
    for (let i = 0; i < 20; i++)
      bystanders.push((await post(`${service.url}/sandbox/execute`, { file_path: sheet("steady.calc.ts") })).session_id);
    const slow = await post(`${service.url}/sandbox/execute`, { file_path: sheet("slow.calc.ts") });
    started = performance.now();
    const long = post(`${service.url}/sandbox/resume`, { session_id: slow.session_id, user_input: { spins } }).then(
      () => performance.now() - started,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const waits = await Promise.all(
      bystanders.map(async (id, i) => {
        const sent = performance.now();
        await post(`${service.url}/sandbox/resume`, { session_id: id, user_input: { n: 50 + i } });
        return performance.now() - sent;
      }),
    );
    const longMs = await long;
    waits.sort((a, b) => a - b);
    console.log(
      `stall: 20 bystanders' steps while another session's step runs ${fmt(longMs)}: median ${fmt(waits[10]!)}, worst ${fmt(waits[19]!)}`,
    );
  } finally {
    await service.stop();
  }
}

async function memoryHeld(): Promise<void> {
  const service = await serve(["--memory-limit", "128", "--step-timeout", "30000"]);
  try {
    let peak = 0;
    const watch = setInterval(() => {
      for (const pid of memberPids(service.child.pid!)) {
        try {
          peak = Math.max(peak, residentMb(pid));
        } catch {
          // gone meanwhile
        }
      }
    }, 20);
    const answer = await post(`${service.url}/sandbox/execute`, { file_path: sheet("typed-hoard.calc.ts") });
    clearInterval(watch);
    console.log(
      `memory: a sheet hoarding 2 GB of typed arrays under --memory-limit 128: ${answer.status}` +
        `${answer.error ? ` (${answer.error.message.slice(0, 90)}…)` : ""}; largest member RSS seen ${round(peak)} MB`,
    );
  } finally {
    await service.stop();
  }
}

async function main(): Promise<void> {
  console.log(
    `\nFaults and abuse against uzoncalc serve (${path.relative(process.cwd(), CLI)}) · load average ${loadAverage()} · ${os.availableParallelism()} cores`,
  );
  await memoryHeld();
  await stall();
  await storm();
  agent.destroy();
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
