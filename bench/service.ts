// HTTP figures for `uzoncalc serve`, measured as the seed's own harness measures its sandbox: closed-loop
// clients, each running whole sessions (execute with a fresh session id, then a resume per window) back to back,
// with the whole service (its members included) pinned to one core and this load generator on the other.
// Opening sessions is part of the load: a bench that only resumes long-lived sessions hides the realm's cost.
// The sheet has three windows and a hundred float statements after each, rendered (formula = substitution =
// value) or not (`export const render = false`).
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { fmt, postJson, row, summarize } from "./util";

const CLI = process.env.UZC_CLI ?? path.join(__dirname, "..", "dist", "cli.js");
const SHEETS = path.join(__dirname, "sheets");
// The same sheet with rendering off, made beside it in a scratch folder (one source for both).
const PLAIN = fs.mkdtempSync(path.join(os.tmpdir(), "uzc-bench-"));
fs.writeFileSync(
  path.join(PLAIN, "hundred-plain.calc.ts"),
  fs.readFileSync(path.join(SHEETS, "hundred.calc.ts"), "utf8") + "\nexport const render = false;\n",
);
process.on("exit", () => fs.rmSync(PLAIN, { recursive: true, force: true }));

function startPinned(): Promise<{ url: string; stop: () => void }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      "taskset",
      [
        "-c",
        "0",
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
      { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, LOG_LEVEL: "info" } },
    );
    let buffer = "";
    let found = false;
    child.stdout!.on("data", (chunk: Buffer) => {
      if (found) return; // the request log lines are drained, not kept
      buffer += chunk.toString();
      const match = /"port":(\d+)[^\n]*listening/.exec(buffer);
      if (match) {
        found = true;
        buffer = "";
        resolve({ url: `http://127.0.0.1:${match[1]}`, stop: () => child.kill("SIGTERM") });
      }
    });
    child.once("exit", (code) => reject(new Error(`serve exited ${code}`)));
  });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function post(url: string, body: unknown): Promise<{ status: number; data: { session_id: string; status: string } }> {
  return postJson(agent, url, body);
}

async function main(): Promise<void> {
  // The load generator (this process) runs on core 1; the service and its members on core 0.
  spawn("taskset", ["-p", "-c", "1", String(process.pid)], { stdio: "ignore" });
  console.log(
    `\nHTTP service (uzoncalc serve on core 0, this client on core 1) · load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  const cold: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    const service = await startPinned();
    cold.push(performance.now() - started);
    service.stop();
    await new Promise((r) => setTimeout(r, 200));
  }
  row("service start to listening (permission re-exec + member probe), median", fmt(summarize(cold).median));
  const service = await startPinned();
  try {
    for (const [label, sheet] of [
      ["render off", path.join(PLAIN, "hundred-plain.calc.ts")],
      ["render on", path.join(SHEETS, "hundred.calc.ts")],
    ] as const) {
      for (const clients of [10, 64]) {
        const { steps, seconds, latencies } = await closedLoop(service.url, sheet, clients, 1, 5);
        const s = summarize(latencies);
        row(`${label}, ${clients} clients: steps/s (every request is a step)`, `${Math.round(steps / seconds)}`);
        row(`${label}, ${clients} clients: p50 / p99`, `${fmt(s.median)} / ${fmt(s.p99)}`);
      }
    }
  } finally {
    service.stop();
    agent.destroy();
  }
}

/**
 * `clients` loops, each running sessions of the three-window sheet back to back (execute, three resumes) for
 * `warmup` + `measure` seconds; what happens in the measured part is counted.
 */
async function closedLoop(
  url: string,
  sheet: string,
  clients: number,
  warmup: number,
  measure: number,
): Promise<{ steps: number; seconds: number; latencies: number[] }> {
  const start = performance.now();
  const from = start + warmup * 1000;
  const until = from + measure * 1000;
  const latencies: number[] = [];
  let steps = 0;
  const timed = async (request: () => Promise<{ status: number; data: { session_id: string; status: string } }>) => {
    const sent = performance.now();
    const response = await request();
    if (response.status !== 200) throw new Error(`answered ${response.status}: ${JSON.stringify(response.data)}`);
    const done = performance.now();
    if (sent >= from && done <= until) {
      latencies.push(done - sent);
      steps++;
    }
    return response.data;
  };
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      while (performance.now() < until) {
        let answer = await timed(() => post(`${url}/sandbox/execute`, { file_path: sheet, html_mode: "delta" }));
        for (let w = 1; w <= 3 && answer.status === "waiting_ui"; w++)
          answer = await timed(() =>
            post(`${url}/sandbox/resume`, { session_id: answer.session_id, user_input: { x: c + w }, html_mode: "delta" }),
          );
      }
    }),
  );
  return { steps, seconds: measure, latencies };
}

void main();
