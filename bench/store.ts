// Durable sessions (issue 14): what Redis adds to a step, what replicas behind nginx do on this machine, what a
// replica switch costs, and what a paused session costs in Redis. Real redis-server, real nginx, real `serve`
// processes (the test helpers start them).
import * as os from "node:os";
import * as path from "node:path";
import { createClient } from "redis";
import { startNginx } from "../sandbox/test/support/nginx";
import { startService, type RunningService } from "../sandbox/test/support/processes";
import { startRedis, type TestRedis } from "../sandbox/test/support/redis";
import { fmt, loadAverage, percentile } from "./util";

const TEN = path.join(__dirname, "..", "sandbox", "test", "fixtures", "runaway", "ten.calc.ts");
const SAFE = path.dirname(TEN);

interface Answer {
  session_id: string;
  ui_steps: number;
  status: string;
}

async function post(url: string, body: object, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  if (response.status !== 200) throw new Error(`${response.status} ${await response.text()}`);
  return (await response.json()) as Answer;
}

/**
 * `clients` closed loops, each running sessions of ten steps for `seconds`: step latencies (resume only) and
 * steps/s. `hint`: resumes carry x-uzoncalc-session, as the extension's and the CLI's do.
 */
async function load(base: string, clients: number, seconds: number, hint = true): Promise<{ latencies: number[]; stepsPerSecond: number }> {
  const latencies: number[] = [];
  const until = performance.now() + seconds * 1000;
  let steps = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      while (performance.now() < until) {
        let answer = await post(`${base}/sandbox/execute`, { file_path: TEN, html_mode: "delta" });
        steps++;
        for (let step = 1; step <= 10 && performance.now() < until; step++) {
          const sent = performance.now();
          answer = await post(
            `${base}/sandbox/resume`,
            { session_id: answer.session_id, user_input: { v: c + step }, ui_steps: answer.ui_steps, html_mode: "delta" },
            hint ? { "x-uzoncalc-session": answer.session_id } : {},
          );
          latencies.push(performance.now() - sent);
          steps++;
        }
      }
    }),
  );
  return { latencies: latencies.sort((a, b) => a - b), stepsPerSecond: steps / ((performance.now() - started) / 1000) };
}

function serveArgs(store: string | undefined, extra: string[] = []): string[] {
  return ["serve", "--port", "0", "--safe-dir", SAFE, "--max-sessions", "5000", ...(store ? ["--store", store] : []), ...extra];
}

async function latency(redis: TestRedis): Promise<void> {
  const rows: string[] = [];
  const p50: Record<string, number> = {};
  for (const [label, store] of [
    ["memory", undefined],
    ["redis", redis.url],
  ] as const) {
    const service = await startService(serveArgs(store));
    try {
      await load(service.url, 4, 2); // warm-up
      const { latencies, stepsPerSecond } = await load(service.url, 4, 6);
      p50[label] = percentile(latencies, 0.5);
      rows.push(
        `  ${label.padEnd(8)} step p50 ${fmt(percentile(latencies, 0.5))}, p99 ${fmt(percentile(latencies, 0.99))}, ${stepsPerSecond.toFixed(0)} steps/s (4 clients)`,
      );
    } finally {
      await service.stop();
    }
  }
  console.log("one service, memory vs Redis store:");
  for (const row of rows) console.log(row);
  console.log(`  Redis adds ${fmt(p50.redis! - p50.memory!)} at p50`);
}

async function replicas(redis: TestRedis): Promise<void> {
  const results: string[] = [];
  for (const [count, hint] of [
    [1, true],
    [3, true],
    [3, false],
  ] as const) {
    const services: RunningService[] = [];
    for (let i = 0; i < count; i++) services.push(await startService(serveArgs(redis.url, ["--members", "1"])));
    const nginx = await startNginx(services.map((s) => s.port));
    try {
      await load(nginx.url, 8, 2, hint);
      const { latencies, stepsPerSecond } = await load(nginx.url, 8, 6, hint);
      const how = count === 1 ? "" : hint ? ", routed by the session hint" : ", no hint (a step may land elsewhere and replay)";
      results.push(
        `  ${count} replica${count > 1 ? "s" : ""}${how}: ${stepsPerSecond.toFixed(0)} steps/s, p50 ${fmt(percentile(latencies, 0.5))}, p99 ${fmt(percentile(latencies, 0.99))}`,
      );
    } finally {
      await nginx.stop();
      await Promise.all(services.map((s) => s.stop()));
    }
  }
  console.log(`through nginx, one Redis, 8 clients (${os.availableParallelism()} cores for everything):`);
  for (const row of results) console.log(row);
}

async function switchCost(redis: TestRedis): Promise<void> {
  const a = await startService(serveArgs(redis.url, ["--members", "1"]));
  const b = await startService(serveArgs(redis.url, ["--members", "1"]));
  try {
    const same: number[] = [];
    const switched: number[] = [];
    for (let run = 0; run < 20; run++) {
      let answer = await post(`${a.url}/sandbox/execute`, { file_path: TEN });
      for (let step = 1; step <= 9; step++)
        answer = await post(`${a.url}/sandbox/resume`, { session_id: answer.session_id, user_input: { v: step } });
      // The tenth step: on the replica that holds the realm, or on one that must replay nine steps first.
      const onSame = run % 2 === 0;
      const sent = performance.now();
      await post(`${(onSame ? a : b).url}/sandbox/resume`, { session_id: answer.session_id, user_input: { v: 10 } });
      (onSame ? same : switched).push(performance.now() - sent);
    }
    same.sort((x, y) => x - y);
    switched.sort((x, y) => x - y);
    console.log(
      `replica switch, the 10th window of a 10-window session: same replica ${fmt(percentile(same, 0.5))}, another replica (replays 9 steps) ${fmt(percentile(switched, 0.5))} (medians)`,
    );
  } finally {
    await a.stop();
    await b.stop();
  }
}

async function bytesPerSession(redis: TestRedis): Promise<void> {
  const service = await startService(serveArgs(redis.url));
  const client = createClient({ url: redis.url });
  await client.connect();
  try {
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) {
      let answer = await post(`${service.url}/sandbox/execute`, { file_path: TEN, session_id: `mem${i}` });
      for (let step = 1; step <= 5; step++)
        answer = await post(`${service.url}/sandbox/resume`, { session_id: answer.session_id, user_input: { v: step } });
      ids.push(answer.session_id);
    }
    let sessions = 0;
    for (const id of ids) sessions += (await client.memoryUsage(`uzc:s:${id}`)) ?? 0;
    const bundles = await client.keys("uzc:b:*");
    let bundleBytes = 0;
    for (const key of bundles) bundleBytes += (await client.memoryUsage(key)) ?? 0;
    // The owner index holds every session of the bench's runs so far: its cost per entry.
    const index = ((await client.memoryUsage("uzc:o:")) ?? 0) / Math.max(1, await client.zCard("uzc:o:"));
    console.log(
      `Redis memory per paused session (5 of 10 windows answered): ${(sessions / ids.length / 1024).toFixed(2)} KB, plus ${index.toFixed(0)} B in the owner index; ` +
        `the shared bundle ${(bundleBytes / 1024).toFixed(0)} KB once (${bundles.length} bundle)`,
    );
  } finally {
    await client.quit();
    await service.stop();
  }
}

async function main(): Promise<void> {
  console.log(
    `\nDurable sessions (a real redis-server, nginx and serve processes) · load average ${loadAverage()} · ${os.availableParallelism()} cores`,
  );
  const redis = await startRedis();
  try {
    await latency(redis);
    await replicas(redis);
    await switchCost(redis);
    await bytesPerSession(redis);
  } finally {
    await redis.stop();
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
