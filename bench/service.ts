// HTTP figures for `uzoncalc serve`, measured as the seed's own harness measures its sandbox: closed-loop
// clients, each running whole sessions (execute with a fresh session id, then a resume per window) back to back,
// with the whole service (its members included) pinned to one core and this load generator on the other.
// Opening sessions is part of the load: a bench that only resumes long-lived sessions hides the realm's cost.
// Each service gets BENCH_WARMUP_S (10) seconds of that load before the 5 s it is measured over (its first
// seconds are printed as well), and the service process's CPU is read over those 5 s only.
// The sheet has three windows and a hundred float statements after each, rendered (formula = substitution =
// value) or not (`export const render = false`).
//
// Side by side with the seed's Python sandbox (what we replace), under the same harness, when UZC_SEED_DIR
// names a UzonCalc checkout (bench/original/serve.py says which revision and which Debian packages): the same
// sheet, made into Python from ours (bench/original/sheet.ts). It always renders, and answers with the whole
// report every time; ours answers with what the step added (html_mode "delta", as the run panel asks).
import { spawn } from "node:child_process";
import * as esbuild from "esbuild";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { writePythonSheet } from "./original/sheet";
import { fmt, loadAverage, postJson, renderOffSheet, row, summarize } from "./util";

const CLI = process.env.UZC_CLI ?? path.join(__dirname, "..", "dist", "cli.js");
const SHEETS = path.join(__dirname, "sheets");
// The same sheet with rendering off, made in a scratch folder (which also takes the seed's Python sheets).
const PLAIN = fs.mkdtempSync(path.join(os.tmpdir(), "uzc-bench-"));
const RENDER_OFF_SHEET = renderOffSheet(PLAIN);
process.on("exit", () => fs.rmSync(PLAIN, { recursive: true, force: true }));

const SEED_DIR = process.env.UZC_SEED_DIR;
/**
 * Seconds of load before the measured window. A fresh service of ours answers 700-1100 steps/s in its first second and
 * settles at its rate only after 5-8 s of load (V8 optimising the service's and the members' code); the seed's
 * Python has nothing to warm. A team's service runs warm, so the window is its steady state; the first seconds are
 * printed beside it.
 */
const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 10);
/**
 * Rounds of ours and the seed's at each level (BENCH_SERVICE_ROUNDS; 3 with the seed, else 1): the ratios printed
 * are their medians. One round's ratio ranged 1.7-3.0 at render off, 10 clients, on this machine.
 */
const ROUNDS = Math.max(1, Number(process.env.BENCH_SERVICE_ROUNDS ?? (SEED_DIR ? 3 : 1)));
const PYTHON = process.env.UZC_PYTHON ?? "/usr/bin/python3";

interface Started {
  url: string;
  /** The process that answers requests (ours: the server the launcher re-executed, not the sheet members). */
  pid: number;
  stop: () => void;
}

/**
 * Starts a service on core 0 and resolves once its output matches `listening` (group 1 or `port`: the port; a
 * `pid` group names the answering process, else it is the one started).
 */
function startPinned(command: string[], listening: RegExp, env: NodeJS.ProcessEnv = process.env): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = spawn("taskset", ["-c", "0", ...command], { stdio: ["ignore", "pipe", "inherit"], env });
    let buffer = "";
    let found = false;
    child.stdout!.on("data", (chunk: Buffer) => {
      if (found) return; // the request log lines are drained, not kept
      buffer += chunk.toString();
      const match = listening.exec(buffer);
      if (match) {
        found = true;
        buffer = "";
        const pid = Number(match.groups?.pid ?? child.pid);
        resolve({ url: `http://127.0.0.1:${match.groups?.port ?? match[1]}`, pid, stop: () => child.kill("SIGTERM") });
      }
    });
    child.once("exit", (code) => reject(new Error(`${command.join(" ")} exited ${code}`)));
  });
}

/** CPU time (user + system) a process has used so far, from /proc: what one process costs, wherever it ran. */
function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime, in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** A process's resident memory, MB (VmRSS). */
function residentMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? NaN) / 1024;
}

function startServe(): Promise<Started> {
  return startPinned(
    [
      process.execPath,
      CLI,
      "serve",
      "--port",
      "0",
      "--safe-dir",
      SHEETS,
      "--safe-dir",
      PLAIN,
      "--max-sessions",
      "2000",
      ...(process.env.UZC_SERVE_ARGS ?? "").split(" ").filter(Boolean),
    ],
    /"pid":(?<pid>\d+)[^\n]*"port":(?<port>\d+)[^\n]*listening/,
    { ...process.env, LOG_LEVEL: "info" },
  );
}

/**
 * The floors under our "CPU per request", one server script run two ways, so that they differ by the hop alone:
 * node:http on the same core, reading and parsing each JSON body and answering a small JSON (a finished run, so
 * each client only opens), either itself or, with process isolation, by handing each parsed request to a child
 * process over an IPC channel as the pool talks to its members (V8 serialisation, what one turn of the event loop
 * sends going as one message each way) and answering with what the child sends back. The child does nothing else;
 * its CPU is not counted, as our members' is not. Side by side the hop cost 0-19 µs a request (three runs, issue 15
 * note of session 12): what our service costs above these two is its own handling of requests, not the isolation.
 */
const FLOOR_ANSWER = `({ seq }) => JSON.stringify({ status: "completed", session_id: String(seq), ui_steps: 0, html_delta: "", value: null })`;

const FLOOR_MEMBER = `
const answer = ${FLOOR_ANSWER};
let out;
process.on("message", (batch) => {
  for (const request of batch) {
    if (!out) {
      out = [];
      setImmediate(() => { const replies = out; out = undefined; process.send(replies); });
    }
    out.push({ seq: request.seq, answer: answer(request) });
  }
});
`;

const FLOOR_SERVER = `
const { spawn } = require("node:child_process");
const http = require("node:http");
const answer = ${FLOOR_ANSWER};
const member = process.env.MEMBER
  ? spawn(process.execPath, ["-e", process.env.MEMBER], { stdio: ["ignore", "inherit", "inherit", "ipc"], serialization: "advanced" })
  : undefined;
const waiting = new Map();
let seq = 0;
let pending;
const send = (res, text) => {
  const body = Buffer.from(text);
  res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": body.length }).end(body);
};
member?.on("message", (replies) => {
  for (const reply of replies) {
    const res = waiting.get(reply.seq);
    waiting.delete(reply.seq);
    send(res, reply.answer);
  }
});
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    const request = { seq: ++seq, body: JSON.parse(Buffer.concat(chunks).toString()) };
    if (!member) return send(res, answer(request));
    waiting.set(request.seq, res);
    if (!pending) {
      pending = [];
      setImmediate(() => { const batch = pending; pending = undefined; member.send(batch); });
    }
    pending.push(request);
  });
});
server.listen(0, "127.0.0.1", () => console.log("listening " + server.address().port));
`;

/**
 * A layer of our service alone (bench/layers/): bundled as the product is, run on core 0 like the rest. The layers
 * split what the service process spends a request on between its HTTP plumbing, its executor and the members' hop.
 */
function startLayer(entry: string, args: string[] = []): Promise<Started> {
  const outfile = path.join(PLAIN, `${path.basename(entry, ".ts")}.js`);
  esbuild.buildSync({
    entryPoints: [entry],
    bundle: true,
    platform: "node",
    format: "cjs",
    outfile,
    external: ["esbuild"],
    logLevel: "error",
  });
  // The bundle sits in a scratch folder: esbuild, left out of it, is found through NODE_PATH.
  const env = { ...process.env, LOG_LEVEL: "info", NODE_PATH: path.join(__dirname, "..", "node_modules") };
  return startPinned([process.execPath, outfile, ...args], /"pid":(?<pid>\d+)[^\n]*"port":(?<port>\d+)/, env);
}

function startBare(): Promise<Started> {
  return startPinned([process.execPath, "-e", FLOOR_SERVER], /listening (\d+)/, { ...process.env, MEMBER: "" });
}

function startBareIpc(): Promise<Started> {
  return startPinned([process.execPath, "-e", FLOOR_SERVER], /listening (\d+)/, { ...process.env, MEMBER: FLOOR_MEMBER });
}

async function startOriginal(port: number): Promise<Started> {
  return startPinned([PYTHON, path.join(__dirname, "original", "serve.py"), String(port)], /listening (\d+)/);
}

/** A service measured: how it starts, how a client talks to it, and whose CPU "CPU per request" counts. */
interface Contender {
  label: string;
  start: () => Promise<Started>;
  protocol: Protocol;
  cpuLabel: string;
  /** One of ours: its /metrics' GC sum is read at the window's edges and printed under its CPU per request. */
  scrapeGc?: true;
}

/** How a client walks one session of the three-window sheet: the first request, then one per window. */
interface Protocol {
  open(url: string): Promise<Answer>;
  next(url: string, answer: Answer, window: number, client: number): Promise<Answer>;
}

interface Answer {
  id: string;
  waiting: boolean;
}

/** `trace`: each step also asks for the values beside the code, as the run panel does. */
function ours(sheet: string, trace = false): Protocol {
  const answer = (data: { session_id: string; status: string }): Answer => ({ id: data.session_id, waiting: data.status === "waiting_ui" });
  const asked = { html_mode: "delta", ...(trace ? { trace: true } : {}) };
  return {
    open: async (url) => answer(checked(await post(`${url}/sandbox/execute`, { file_path: sheet, ...asked }))),
    next: async (url, previous, w, c) =>
      answer(checked(await post(`${url}/sandbox/resume`, { session_id: previous.id, user_input: { x: c + w }, ...asked }))),
  };
}

function original(script: string): Protocol {
  type Data = { executionId: string; isCompleted: boolean; windows: unknown[] };
  const answer = (data: Data): Answer => ({ id: data.executionId, waiting: !data.isCompleted && data.windows.length > 0 });
  return {
    open: async (url) => answer(checked(await postJson<Data>(agent, `${url}/sandbox/execute`, { script_path: script, defaults: {} }))),
    next: async (url, previous, w, c) =>
      answer(
        checked(
          await postJson<Data>(agent, `${url}/sandbox/continue`, {
            execution_id: previous.id,
            defaults: { [`Window ${w}`]: { x: c + w } },
          }),
        ),
      ),
  };
}

function checked<T>(response: { status: number; data: T }): T {
  if (response.status !== 200) throw new Error(`answered ${response.status}: ${JSON.stringify(response.data)}`);
  return response.data;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function post(url: string, body: unknown): Promise<{ status: number; data: { session_id: string; status: string } }> {
  return postJson(agent, url, body);
}

async function main(): Promise<void> {
  // The load generator (this process) runs on core 1; the service and its members on core 0.
  spawn("taskset", ["-p", "-c", "1", String(process.pid)], { stdio: "ignore" });
  console.log(`\nHTTP service (uzoncalc serve on core 0, this client on core 1) · load average ${loadAverage()}`);
  const cold: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    const service = await startServe();
    cold.push(performance.now() - started);
    service.stop();
    await new Promise((r) => setTimeout(r, 200));
  }
  row("service start to listening (permission re-exec + member probe), median", fmt(summarize(cold).median));
  // A fresh service for every load level: what earlier levels left behind (up to 2 000 finished sessions and
  // their reports) would otherwise weigh on the later ones, and the second level measured would look slower
  // whichever it was (measured: render on, 64 then 10 clients as much as 10 then 64).
  // Ours: the service process alone, its sheet members not counted (issue 15 item 3: the service's overhead).
  // The seed's: its one process, sheets included.
  // The service process's CPU per request at render off, by clients, every round: set beside the floors at the end.
  const ownCpu = new Map<number, number[]>();
  const measure = async (
    contender: Contender,
    clients: number,
    round: string,
  ): Promise<{ stepsPerSecond: number; p99: number; cpu: number }> => {
    const service = await contender.start();
    try {
      const { steps, seconds, latencies, windowCpuMs, windowGcMs, residentAtEnd, perSecond } = await closedLoop(
        service.url,
        contender.protocol,
        clients,
        WARMUP_S,
        5,
        service.pid,
        contender.scrapeGc === true,
      );
      const s = summarize(latencies);
      const label = `${contender.label}, ${clients} clients${round}`;
      row(`${label}: steps/s (every request is a step)`, `${Math.round(steps / seconds)}`);
      row(`${label}: p50 / p99`, `${fmt(s.median)} / ${fmt(s.p99)}`);
      row(`${label}: CPU per request, ${contender.cpuLabel}`, fmt(windowCpuMs / steps));
      if (windowGcMs !== undefined) row(`${label}: of which garbage collection (its /metrics)`, fmt(windowGcMs / steps));
      // Finished runs a service keeps (ours: up to --max-sessions, 1 000) weigh here; a rendered run's report is 200 KB.
      row(`${label}: resident memory at the window's end, ${contender.cpuLabel}`, `${residentAtEnd.toFixed(0)} MB`);
      row(`${label}: steps/s in each second from the start`, perSecond.join(" "));
      const cpuPerRequest = windowCpuMs / steps;
      if (contender.label === "render off") ownCpu.set(clients, [...(ownCpu.get(clients) ?? []), cpuPerRequest]);
      return { stepsPerSecond: steps / seconds, p99: s.p99, cpu: cpuPerRequest };
    } finally {
      service.stop();
      await new Promise((r) => setTimeout(r, 300));
    }
  };
  const modes = ["render off", "render on"] as const;
  let port = 39_000 + (process.pid % 1000);
  const seed = (mode: (typeof modes)[number]): Contender | undefined => {
    if (!SEED_DIR) return undefined;
    const render = mode === "render on";
    const script = path.join(PLAIN, `hundred-${render ? "rendered" : "hidden"}.py`);
    writePythonSheet(path.join(SHEETS, "hundred.calc.ts"), script, render);
    // The seed always instruments: its render off is its own hide().
    const label = `the seed's Python sandbox, ${mode}${render ? "" : " (hide())"}`;
    return { label, start: () => startOriginal(port++), protocol: original(script), cpuLabel: "whole process" };
  };
  // Ours and the seed's back to back at each level (whoever went first goes second in the next round), so the
  // ratio compares minutes of the same machine: measured one after the other, minutes apart, they drifted.
  const ratios: { level: string; steps: number[]; p99: number[] }[] = [];
  for (const mode of modes) {
    const sheet = mode === "render on" ? path.join(SHEETS, "hundred.calc.ts") : RENDER_OFF_SHEET;
    const ourService: Contender = {
      label: mode,
      start: startServe,
      protocol: ours(sheet),
      cpuLabel: "the service process only",
      scrapeGc: true,
    };
    const theirs = seed(mode);
    for (const clients of [10, 64]) {
      const level = { level: `${mode}, ${clients} clients`, steps: [] as number[], p99: [] as number[] };
      for (let r = 0; r < ROUNDS; r++) {
        const round = ROUNDS > 1 ? ` (round ${r + 1})` : "";
        if (!theirs) {
          await measure(ourService, clients, round);
          continue;
        }
        const [first, second] = r % 2 === 0 ? [ourService, theirs] : [theirs, ourService];
        const a = await measure(first, clients, round);
        const b = await measure(second, clients, round);
        const [mine, seeds] = first === ourService ? [a, b] : [b, a];
        level.steps.push(mine.stepsPerSecond / seeds.stepsPerSecond);
        level.p99.push(mine.p99 / seeds.p99);
      }
      ratios.push(level);
    }
  }
  // What a team's service does for the extension's run panel, which asks every step for its trace (the values
  // beside the code, each line's formula as text): ours only, the seed has nothing like it.
  const traced: Contender = {
    label: "render on, with the trace (as the run panel asks)",
    start: startServe,
    protocol: ours(path.join(SHEETS, "hundred.calc.ts"), true),
    cpuLabel: "the service process only",
    scrapeGc: true,
  };
  for (let r = 0; r < ROUNDS; r++) await measure(traced, 10, ROUNDS > 1 ? ` (round ${r + 1})` : "");
  const floors: Contender[] = [
    {
      label: "bare node:http, no sandbox (the floor under CPU per request)",
      start: startBare,
      protocol: ours(RENDER_OFF_SHEET),
      cpuLabel: "its one process",
    },
    {
      label: "bare node:http + IPC to a child, no sandbox (the floor with process isolation)",
      start: startBareIpc,
      protocol: ours(RENDER_OFF_SHEET),
      cpuLabel: "the server process only",
    },
  ];
  const floorCpu = new Map<string, number>();
  for (const floor of floors)
    for (const clients of [10, 64]) floorCpu.set(`${floor.label} ${clients}`, (await measure(floor, clients, "")).cpu);

  // Issue 15 item 3: what the service adds per request above bare node:http, and above the hop to a child.
  for (const [clients, samples] of ownCpu) {
    const own = summarize(samples).median;
    const bare = floorCpu.get(`${floors[0]!.label} ${clients}`);
    const ipc = floorCpu.get(`${floors[1]!.label} ${clients}`);
    if (bare === undefined || ipc === undefined) continue;
    row(
      `render off, ${clients} clients: the service's own CPU per request above bare node:http / above node:http + IPC${samples.length > 1 ? ` (median of ${samples.length})` : ""}`,
      `${fmt(own - bare)} / ${fmt(own - ipc)}`,
    );
  }
  // Where it goes, render off at 10 clients: bare node:http, our HTTP plumbing alone, our service over an engine
  // that answers at once, and the service itself, measured back to back (the machine drifts over minutes: set
  // beside figures measured earlier in the run, a layer's share could even come out below zero).
  const layers: Contender[] = [
    floors[0]!,
    {
      label: "our HTTP plumbing alone (jsonServer.ts), routes that answer at once",
      start: () => startLayer(path.join(__dirname, "layers", "httpLayer.ts")),
      protocol: ours(RENDER_OFF_SHEET),
      cpuLabel: "its one process",
      scrapeGc: true,
    },
    {
      label: "our service over an engine that answers at once (no realm, no member)",
      start: () => startLayer(path.join(__dirname, "layers", "instantEngine.ts"), [PLAIN]),
      protocol: ours(RENDER_OFF_SHEET),
      cpuLabel: "its one process",
      scrapeGc: true,
    },
    {
      label: "the service, render off, beside its layers",
      start: startServe,
      protocol: ours(RENDER_OFF_SHEET),
      cpuLabel: "the service process only",
      scrapeGc: true,
    },
  ];
  // ROUNDS passes, each layer after the other in every pass: one pass's differences moved by 100 µs from one run to
  // the next on this machine, so each difference is the median of its passes.
  const passes: number[][] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const pass: number[] = [];
    for (const layer of layers) pass.push((await measure(layer, 10, ROUNDS > 1 ? ` (layers, pass ${r + 1})` : " (layers)")).cpu);
    passes.push(pass);
  }
  const above = (upper: number, lower: number) => fmt(summarize(passes.map((pass) => pass[upper]! - pass[lower]!)).median);
  row(
    `render off, 10 clients, per request above bare node:http: our HTTP plumbing / the executor / the members and the hop${ROUNDS > 1 ? ` (medians of ${ROUNDS} passes)` : ""}`,
    `${above(1, 0)} / ${above(2, 1)} / ${above(3, 2)} (all: ${above(3, 0)})`,
  );
  if (SEED_DIR) {
    console.log(
      `Ratios to the seed's Python sandbox (same sheet, same harness, one core each; ours / theirs${ROUNDS > 1 ? `; median of ${ROUNDS} rounds, each round's in brackets` : ""})`,
    );
    const shown = (values: number[]) =>
      `${summarize(values).median.toFixed(2)}×${values.length > 1 ? ` [${values.map((v) => v.toFixed(2)).join(" ")}]` : ""}`;
    for (const { level, steps, p99 } of ratios) row(`${level}: steps/s · p99`, `${shown(steps)} · ${shown(p99)}`);
  } else {
    console.log("  (set UZC_SEED_DIR to a UzonCalc checkout to measure the seed's Python sandbox beside it: bench/original/serve.py)");
  }
  agent.destroy();
}

/**
 * `clients` loops, each running sessions of the three-window sheet back to back (execute, three resumes) for
 * `warmup` + `measure` seconds; what happens in the measured part is counted, and the service process's CPU
 * (`pid`) over it.
 */
async function closedLoop(
  url: string,
  protocol: Protocol,
  clients: number,
  warmup: number,
  measure: number,
  pid: number,
  scrapeGc: boolean,
): Promise<{
  steps: number;
  seconds: number;
  latencies: number[];
  windowCpuMs: number;
  windowGcMs: number | undefined;
  residentAtEnd: number;
  perSecond: number[];
}> {
  const start = performance.now();
  const from = start + warmup * 1000;
  const until = from + measure * 1000;
  const latencies: number[] = [];
  let steps = 0;
  let answered = 0;
  // Answers in each whole second from the start: how a fresh service warms up (its JIT), which the window skips.
  const perSecond: number[] = [];
  const ticker = setInterval(() => perSecond.push(answered - perSecond.reduce((sum, n) => sum + n, 0)), 1000);
  let cpuAtFrom = 0;
  let cpuAtUntil = 0;
  let residentAtEnd = NaN;
  // Our services' garbage collection, from their /metrics: read at the same edges.
  let gcAtFrom: Promise<number | undefined> = Promise.resolve(undefined);
  let gcAtUntil: Promise<number | undefined> = Promise.resolve(undefined);
  const edges = [
    setTimeout(() => {
      cpuAtFrom = cpuMs(pid);
      if (scrapeGc) gcAtFrom = gcMs(url);
    }, from - start),
    setTimeout(() => {
      cpuAtUntil = cpuMs(pid);
      residentAtEnd = residentMb(pid);
      if (scrapeGc) gcAtUntil = gcMs(url);
    }, until - start),
  ];
  // Throughput counts the answers that arrive within the window; latency, every request sent within it, however
  // late its answer (clients finish their session after the window). Counting only requests both sent and
  // answered within it left out the slowest answers of a slow service (a 64-client queue longer than the window),
  // which made its p99 look better than its p50 warranted, and its steps/s lower.
  const timed = async (request: () => Promise<Answer>) => {
    const sent = performance.now();
    const answer = await request();
    answered++;
    const done = performance.now();
    if (sent >= from && sent < until) latencies.push(done - sent);
    if (done >= from && done <= until) steps++;
    return answer;
  };
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      while (performance.now() < until) {
        let answer = await timed(() => protocol.open(url));
        for (let w = 1; w <= 3 && answer.waiting; w++) {
          const previous = answer;
          answer = await timed(() => protocol.next(url, previous, w, c));
        }
      }
    }),
  );
  clearInterval(ticker);
  for (const edge of edges) clearTimeout(edge);
  const [gcFrom, gcUntil] = [await gcAtFrom, await gcAtUntil];
  const windowGcMs = gcFrom !== undefined && gcUntil !== undefined ? gcUntil - gcFrom : undefined;
  return { steps, seconds: measure, latencies, windowCpuMs: cpuAtUntil - cpuAtFrom, windowGcMs, residentAtEnd, perSecond };
}

/** Milliseconds a service of ours has spent collecting garbage (nodejs_gc_duration_seconds); undefined if unread. */
async function gcMs(url: string): Promise<number | undefined> {
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    const sums = [...text.matchAll(/^nodejs_gc_duration_seconds_sum\{[^}]*\} ([\d.e+-]+)$/gm)].map((m) => Number(m[1]));
    return sums.length > 0 ? sums.reduce((a, b) => a + b, 0) * 1000 : undefined;
  } catch {
    return undefined;
  }
}

void main();
