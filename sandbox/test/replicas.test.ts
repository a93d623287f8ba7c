// `uzoncalc serve` replicas as real processes on one real redis-server (SPEC §6, issue 14): no affinity, any
// replica SIGKILLed and restarted while sessions run, directly and behind a real nginx running the project's own
// deploy/nginx/nginx.conf.

import assert from "node:assert/strict";
import * as path from "node:path";
import type { ExecutionResponse } from "../../protocol/rpc";
import { startNginx } from "./support/nginx";
import { startService, type RunningService } from "./support/processes";
import { startRedis, type TestRedis } from "./support/redis";

const TEN = path.join(__dirname, "fixtures", "runaway", "ten.calc.ts");
const FIVE = path.join(__dirname, "fixtures", "contract", "five.calc.ts");
const SAFE = [path.dirname(TEN), path.dirname(FIVE)];

/** Three replicas on one Redis, and a killer that SIGKILLs one every second and starts it again on its port. */
async function replicated(redis: TestRedis) {
  const args = (port: number) => [
    "serve",
    "--port",
    String(port),
    ...SAFE.flatMap((d) => ["--safe-dir", d]),
    "--store",
    redis.url,
    "--members",
    "1",
  ];
  const replicas: RunningService[] = [];
  for (let i = 0; i < 3; i++) replicas.push(await startService(args(0)));
  const ports = replicas.map((r) => r.port);
  let kills = 0;
  let killer: NodeJS.Timeout | undefined;
  let restarting = Promise.resolve();
  return {
    ports,
    startKilling() {
      killer = setInterval(() => {
        restarting = restarting.then(async () => {
          const index = kills++ % replicas.length;
          const victim = replicas[index]!;
          const exited = new Promise((resolve) => victim.process.once("exit", resolve));
          victim.process.kill("SIGKILL");
          // It may have gone already (and its "exit" with it): then there is nothing to wait for.
          if (victim.process.exitCode === null && victim.process.signalCode === null) await exited;
          replicas[index] = await startService(args(ports[index]!));
        });
      }, 1_000);
    },
    async stopKilling(): Promise<number> {
      clearInterval(killer);
      await restarting;
      return kills;
    },
    // The killer first: a test that failed mid-storm must not leave it restarting replicas after the test.
    async stop(): Promise<void> {
      clearInterval(killer);
      await restarting.catch(() => undefined);
      await Promise.all(replicas.map((r) => r.stop()));
    },
    killAll: () =>
      Promise.all(
        replicas.map(async (r) => {
          r.process.kill("SIGKILL");
          if (r.process.exitCode === null && r.process.signalCode === null) await new Promise((resolve) => r.process.once("exit", resolve));
        }),
      ),
  };
}

async function postJson(
  url: string,
  body: object,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: ExecutionResponse }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as ExecutionResponse };
}

/** A user's pause before a step; `spanMs` long enough that a storm outlasts the kills it counts on. */
const think = (n: number, step: number, spanMs = 500) => new Promise((resolve) => setTimeout(resolve, (n * 37 + step * 53) % spanMs));

describe("serve replicas on one Redis (real processes, no affinity)", function () {
  this.timeout(240_000);
  let redis: TestRedis;
  before(async () => {
    redis = await startRedis({ durable: true });
  });
  after(() => redis.stop());

  it("50 sessions × 10 steps, each step on the next replica, while one is SIGKILLed and restarted every second: every report as undisturbed", async () => {
    const cluster = await replicated(redis);
    try {
      const post = async (n: number, route: string, body: object): Promise<ExecutionResponse> => {
        // A replica that is down is skipped, as a proxy's next-upstream would: the same request goes to the next.
        let lastError: unknown;
        for (let attempt = 0; attempt < 30; attempt++) {
          try {
            const { status, json } = await postJson(`http://127.0.0.1:${cluster.ports[(n + attempt) % 3]}/sandbox/${route}`, body);
            if (status === 200) return json;
            lastError = new Error(`${status} ${JSON.stringify(json)}`);
            if (status !== 503) throw lastError;
          } catch (error) {
            if (error === lastError) throw error;
            lastError = error;
          }
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        throw lastError;
      };
      const run = async (n: number, disturbed: boolean) => {
        let response = await post(n, "execute", { file_path: TEN, session_id: `s${n}-${disturbed ? "d" : "q"}` });
        for (let step = 1; step <= 10; step++) {
          if (disturbed) await think(n, step);
          response = await post(n + step, "resume", {
            session_id: response.session_id,
            user_input: { v: n * 7 + step },
            ui_steps: response.ui_steps,
          });
        }
        return response;
      };
      const quiet = await Promise.all(Array.from({ length: 50 }, (_, n) => run(n, false)));
      cluster.startKilling();
      const stormed = await Promise.all(Array.from({ length: 50 }, (_, n) => run(n, true)));
      const kills = await cluster.stopKilling();
      assert.ok(kills >= 3, `only ${kills} kills`);
      stormed.forEach((response, n) => {
        assert.equal(response.status, "completed", `session ${n}: ${JSON.stringify(response.error)}`);
        assert.equal(response.html, quiet[n]!.html, `session ${n}: the same report as undisturbed`);
      });
    } finally {
      await cluster.stop();
    }
  });

  it("every replica SIGKILLed at once and new ones started: the paused sessions go on, nothing applied twice", async () => {
    const first = await replicated(redis);
    const paused: ExecutionResponse[] = [];
    let stopped = false;
    try {
      for (let n = 0; n < 20; n++) {
        let { json } = await postJson(`http://127.0.0.1:${first.ports[n % 3]}/sandbox/execute`, { file_path: TEN, session_id: `all${n}` });
        for (let step = 1; step <= 4; step++)
          ({ json } = await postJson(`http://127.0.0.1:${first.ports[(n + step) % 3]}/sandbox/resume`, {
            session_id: json.session_id,
            user_input: { v: step },
            ui_steps: json.ui_steps,
          }));
        paused.push(json);
      }
      await first.killAll();
      stopped = true;
    } finally {
      if (!stopped) await first.stop();
    }
    const second = await replicated(redis);
    try {
      for (const [n, before] of paused.entries()) {
        // The last step again (its answer "lost" with the replicas): the current state, not a second application.
        const again = await postJson(`http://127.0.0.1:${second.ports[n % 3]}/sandbox/resume`, {
          session_id: before.session_id,
          user_input: { v: 4 },
          ui_steps: before.ui_steps - 1,
        });
        assert.equal(again.status, 200, JSON.stringify(again.json));
        assert.equal(again.json.ui_steps, before.ui_steps);
        let json = again.json;
        for (let step = 5; step <= 10; step++)
          ({ json } = await postJson(`http://127.0.0.1:${second.ports[(n + step) % 3]}/sandbox/resume`, {
            session_id: json.session_id,
            user_input: { v: step },
            ui_steps: json.ui_steps,
          }));
        assert.equal(json.status, "completed");
        assert.match(json.html!, /after step 10: /);
      }
    } finally {
      await second.stop();
    }
  });

  it("uzoncalc api runs its in-process sandbox on the store too: a session outlives the API process", async () => {
    // The store named by the environment, as a container sets it.
    const args = ["api", "--port", "0", ...SAFE.flatMap((d) => ["--safe-dir", d]), "--members", "1"];
    const api = await startService(args, { UZONCALC_STORE: redis.url });
    let started: ExecutionResponse;
    try {
      ({ json: started } = await postJson(`${api.url}/v1/calc/execution/start`, { file_path: FIVE, session_id: "via-api" }));
      assert.equal(started.status, "waiting_ui");
      const health = (await (await fetch(`${api.url}/v1/calc/execution/health`)).json()) as { store?: string };
      assert.equal(health.store, redis.url);
    } finally {
      api.process.kill("SIGKILL");
      await new Promise((resolve) => api.process.once("exit", resolve));
    }
    const again = await startService(args, { UZONCALC_STORE: redis.url });
    try {
      const { status, json } = await postJson(`${again.url}/v1/calc/execution/resume`, { session_id: "via-api", user_input: { v: 1 } });
      assert.equal(status, 200, JSON.stringify(json));
      assert.equal(json.ui_steps, 2);
    } finally {
      await again.stop();
    }
  });

  it("through nginx (deploy/nginx/nginx.conf): 100 sessions × 5 windows while a replica is killed every second and restarted", async () => {
    const cluster = await replicated(redis);
    const nginx = await startNginx(cluster.ports);
    try {
      const run = async (n: number, disturbed: boolean) => {
        const tag = `#${n}`;
        let { status, json } = await postJson(`${nginx.url}/sandbox/execute`, {
          file_path: FIVE,
          params: { tag },
          session_id: `n${n}-${disturbed ? "d" : "q"}`,
        });
        assert.equal(status, 200, JSON.stringify(json));
        for (let step = 1; step <= 5; step++) {
          // Five steps of up to a second: the storm lasts 2–5 s, whatever the service's speed, so it sees two kills.
          if (disturbed) await think(n, step, 1_000);
          // Half the sessions name themselves in the routing hint the extension sends; the rest are spread at random.
          const hint: Record<string, string> = n % 2 === 0 ? { "x-uzoncalc-session": json.session_id } : {};
          ({ status, json } = await postJson(
            `${nginx.url}/sandbox/resume`,
            { session_id: json.session_id, user_input: { v: n * 10 + step }, ui_steps: json.ui_steps },
            hint,
          ));
          assert.equal(status, 200, `session ${n} step ${step}: ${JSON.stringify(json)}`);
        }
        return json;
      };
      const quiet = await Promise.all(Array.from({ length: 100 }, (_, n) => run(n, false)));
      cluster.startKilling();
      const stormed = await Promise.all(Array.from({ length: 100 }, (_, n) => run(n, true)));
      const kills = await cluster.stopKilling();
      assert.ok(kills >= 2, `only ${kills} kills`);
      stormed.forEach((response, n) => {
        assert.equal(response.status, "completed", `session ${n}: ${JSON.stringify(response.error)}`);
        assert.equal(response.html!.replace(/n\d+-d/g, ""), quiet[n]!.html!.replace(/n\d+-q/g, ""), `session ${n}: the same report`);
      });
    } finally {
      await nginx.stop();
      await cluster.stop();
    }
  });
});
