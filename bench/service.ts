// HTTP figures for `uzoncalc serve`: steps/s and latency under concurrent load with the whole service (its
// members included) pinned to one core and this load generator on the other.
import { spawn } from "node:child_process";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { fmt, postJson, row, summarize } from "./util";

const CLI = path.join(__dirname, "..", "dist", "cli.js");
const SHEETS = path.join(__dirname, "sheets");

function startPinned(): Promise<{ url: string; stop: () => void }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      "taskset",
      ["-c", "0", process.execPath, CLI, "serve", "--port", "0", "--safe-dir", SHEETS, "--max-sessions", "2000"],
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
    for (const concurrency of [1, 16, 64]) {
      const sessions: string[] = [];
      for (let i = 0; i < concurrency; i++)
        sessions.push(
          (
            await post(`${service.url}/sandbox/execute`, {
              file_path: path.join(SHEETS, "steps.calc.ts"),
              params: { steps: 100000 },
              html_mode: "delta",
            })
          ).data.session_id,
        );
      const latencies: number[] = [];
      const deadline = performance.now() + 4_000;
      let count = 0;
      const warmupUntil = performance.now() + 500;
      await Promise.all(
        sessions.map(async (id) => {
          while (performance.now() < deadline) {
            const started = performance.now();
            const response = await post(`${service.url}/sandbox/resume`, { session_id: id, user_input: { x: 1 }, html_mode: "delta" });
            if (response.status !== 200) throw new Error(`resume answered ${response.status}`);
            if (started > warmupUntil) {
              latencies.push(performance.now() - started);
              count++;
            }
          }
        }),
      );
      const s = summarize(latencies);
      row(`${concurrency} session(s) at once: steps/s`, `${Math.round(count / 3.5)}`);
      row(`${concurrency} session(s) at once: p50 / p99`, `${fmt(s.median)} / ${fmt(s.p99)}`);
      for (const id of sessions) await post(`${service.url}/sandbox/cancel`, { session_id: id });
    }
  } finally {
    service.stop();
    agent.destroy();
  }
}

void main();
