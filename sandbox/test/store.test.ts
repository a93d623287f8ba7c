// Durable sessions (SPEC §6, issue 14): the store contract, run against the in-memory store and a real
// redis-server, and replicas (executors sharing one store, each with its own realms) continuing each other's
// sessions with no affinity.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { ExecutionResponse } from "../../protocol/rpc";
import { Refusal } from "../../protocol/refusal";
import { Executor } from "../session/executor";
import { Metrics } from "../service/metrics";
import { RedisStore } from "../session/redisStore";
import { MemoryStore, type SessionStore, type StoredSession } from "../session/store";
import { startRedis, type TestRedis } from "./support/redis";

const RUNAWAY = path.join(__dirname, "fixtures", "runaway");
const TEN = path.join(RUNAWAY, "ten.calc.ts");
const TTL_MS = 60_000;

function stored(id: string, rev: number, owner = ""): StoredSession {
  return {
    id,
    owner,
    rev,
    status: "waiting_ui",
    created_at: 1,
    updated_at: rev,
    ui_steps: rev,
    filename: "x.calc.ts",
    html_mode: "full",
    report_hash: "h",
    answers: [],
  };
}

async function refusal(promise: Promise<unknown>): Promise<Refusal> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Refusal) return error;
    throw error;
  }
  assert.fail("expected a refusal");
}

let redis: TestRedis;
const stores: { name: string; make: () => SessionStore }[] = [
  { name: "memory", make: () => new MemoryStore(TTL_MS) },
  {
    name: "redis",
    make: () => {
      const store = new RedisStore({ url: redis.url, ttlMs: TTL_MS, prefix: `t${Math.random().toString(36).slice(2)}:` });
      void store.connect();
      return store;
    },
  },
];

async function ready(store: SessionStore): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      await store.ping();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  await store.ping();
}

before(async function () {
  this.timeout(30_000);
  redis = await startRedis();
});
after(async () => redis?.stop());

for (const { name, make } of stores) {
  describe(`session store contract: ${name}`, function () {
    let store: SessionStore;
    beforeEach(async () => {
      store = make();
      await ready(store);
    });
    afterEach(() => store.close());

    it("creates a session once, then moves it on only from the rev it is at", async () => {
      assert.equal(await store.commit("k", undefined, stored("k", 1)), true);
      assert.equal(await store.commit("k", undefined, stored("k", 1)), false, "a second create under one key");
      assert.equal(await store.commit("k", 2, stored("k", 3)), false, "a commit from a rev it is not at");
      assert.equal(await store.commit("k", 1, stored("k", 2)), true);
      assert.equal((await store.get("k"))?.rev, 2);
      assert.equal(await store.get("missing"), undefined);
    });

    it("applies exactly one of many commits from the same rev at once", async () => {
      await store.commit("race", undefined, stored("race", 1));
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.commit("race", 1, { ...stored("race", 2), filename: `w${i}` })),
      );
      assert.equal(results.filter(Boolean).length, 1);
    });

    it("lets every key expire with the session TTL, refreshed by each commit", async function () {
      const short = name === "memory" ? new MemoryStore(300) : new RedisStore({ url: redis.url, ttlMs: 300, prefix: `ttl${Date.now()}:` });
      if (short instanceof RedisStore) await short.connect(5_000);
      await ready(short);
      try {
        const bundle = { hash: "b1", code: "1", scriptName: "s", filename: "f", origin: "f", map: { version: 3 }, sources: [] };
        await short.saveBundle(bundle);
        await short.commit("k", undefined, {
          ...stored("k", 1),
          record: { sheet: { hash: "b1", filename: "f" }, seed: 1, started_at: 1, input_log: [] },
        });
        await new Promise((resolve) => setTimeout(resolve, 200));
        assert.equal(
          await short.commit("k", 1, {
            ...stored("k", 2),
            record: { sheet: { hash: "b1", filename: "f" }, seed: 1, started_at: 1, input_log: [] },
          }),
          true,
        );
        await new Promise((resolve) => setTimeout(resolve, 200));
        assert.equal((await short.get("k"))?.rev, 2, "the commit refreshed the session's expiry");
        assert.ok(await short.loadBundle("b1"), "and its bundle's");
        await new Promise((resolve) => setTimeout(resolve, 400));
        assert.equal(await short.get("k"), undefined, "expired");
        assert.equal(await short.loadBundle("b1"), undefined, "expired with it");
        assert.deepEqual(await short.list(""), []);
      } finally {
        await short.close();
      }
    });

    it("lists an owner's sessions, newest first, and keeps bundles by hash", async () => {
      await store.commit("a", undefined, stored("a", 1, "o1"));
      await store.commit("b", undefined, stored("b", 5, "o1"));
      await store.commit("c", undefined, stored("c", 1, "o2"));
      assert.deepEqual(
        (await store.list("o1")).map((s) => s.id),
        ["b", "a"],
      );
      const bundle = { hash: "abc", code: "1", scriptName: "s", filename: "f", origin: "f", map: { version: 3 }, sources: [] };
      await store.saveBundle(bundle);
      assert.deepEqual(await store.loadBundle("abc"), bundle);
      assert.equal(await store.loadBundle("nope"), undefined);
    });
  });
}

describe("replicas sharing a store (no affinity)", function () {
  this.timeout(60_000);

  for (const { name, make } of stores) {
    describe(name, function () {
      let store: SessionStore;
      let replicas: Executor[];
      const replica = (n: number) => replicas[n % replicas.length]!;
      beforeEach(async () => {
        store = make();
        await ready(store);
        replicas = [0, 1, 2].map(() => new Executor({ safeDirs: [RUNAWAY], store }));
      });
      afterEach(async () => {
        await Promise.all(replicas.map((r) => r.close()));
        await store.close();
      });

      it("any replica answers any step; the report is that of a run on one replica", async () => {
        const alone = new Executor({ safeDirs: [RUNAWAY] });
        let expected = await alone.execute({ file_path: TEN });
        for (let step = 1; step <= 10; step++)
          expected = await alone.resume({ session_id: expected.session_id, user_input: { v: step * 3 } });
        await alone.close();

        let response = await replica(0).execute({ file_path: TEN, html_mode: "delta" });
        let html = response.html_delta ?? "";
        for (let step = 1; step <= 10; step++) {
          response = await replica(step).resume({ session_id: response.session_id, user_input: { v: step * 3 } });
          html += response.html_delta ?? "";
        }
        assert.equal(response.status, "completed");
        assert.equal(html, expected.html, "the deltas across replicas add up to the report");
        assert.equal(response.result!.length > 0, true);
        const info = await replica(2).getSession({ session_id: response.session_id });
        assert.equal(info.status, "completed");
        assert.equal(info.ui_steps, 10);
      });

      it("a replica that already holds the current realm answers without replay; one with a stale realm replays", async () => {
        const first = await replica(0).execute({ file_path: TEN });
        await replica(0).resume({ session_id: first.session_id, user_input: { v: 1 } });
        await replica(0).resume({ session_id: first.session_id, user_input: { v: 2 } });
        assert.equal(replica(0).stats().restores, 0, "the same replica step after step: no replay");
        await replica(1).resume({ session_id: first.session_id, user_input: { v: 3 } });
        assert.equal(replica(1).stats().restores, 1, "a new replica rebuilds once");
        await replica(0).resume({ session_id: first.session_id, user_input: { v: 4 } });
        assert.equal(replica(0).stats().restores, 1, "its realm was stale (the log moved on elsewhere): rebuilt");
        assert.equal(replica(1).replayCounts().new_replica, 1);
        assert.equal(replica(0).replayCounts().stale_realm, 1);
        const metrics = new Metrics(() => replica(0).countByStatus(), {
          replays: () => replica(0).replayCounts(),
          store: () => replica(0).storeStats(),
        });
        const text = await metrics.render();
        assert.match(text, /uzoncalc_replays_total\{cause="stale_realm"\} 1/);
        assert.match(text, /uzoncalc_store_calls_total\{op="commit"\} [1-9]/);
        assert.match(text, /uzoncalc_store_seconds_total\{op="get"\} \d/);
      });

      it("two resumes of one session at once, on two replicas, apply exactly one (the other is 409)", async () => {
        const first = await replica(0).execute({ file_path: TEN });
        await replica(1).getSession({ session_id: first.session_id });
        const results = await Promise.allSettled([
          replica(0).resume({ session_id: first.session_id, user_input: { v: 1 } }),
          replica(1).resume({ session_id: first.session_id, user_input: { v: 2 } }),
        ]);
        const ok = results.filter((r): r is PromiseFulfilledResult<ExecutionResponse> => r.status === "fulfilled");
        const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
        assert.equal(ok.length, 1, JSON.stringify(results.map((r) => r.status)));
        assert.equal((refused[0]!.reason as Refusal).status, 409);
        const info = await replica(2).getSession({ session_id: first.session_id });
        assert.equal(info.ui_steps, 2, "one step applied");
      });

      it("a retry with the same ui_steps and values answers the current state and applies nothing twice", async () => {
        const first = await replica(0).execute({ file_path: TEN });
        const applied = await replica(0).resume({ session_id: first.session_id, user_input: { v: 5 }, ui_steps: first.ui_steps });
        const again = await replica(1).resume({ session_id: first.session_id, user_input: { v: 5 }, ui_steps: first.ui_steps });
        assert.equal(again.ui_steps, applied.ui_steps);
        assert.equal(again.html, applied.html);
        const other = await refusal(replica(2).resume({ session_id: first.session_id, user_input: { v: 6 }, ui_steps: first.ui_steps }));
        assert.equal(other.status, 409);
        assert.match(other.message, /step 1, which took other values/);
        const ahead = await refusal(replica(2).resume({ session_id: first.session_id, user_input: { v: 6 }, ui_steps: 7 }));
        assert.match(ahead.message, /it has not reached/);
        const next = await replica(2).resume({ session_id: first.session_id, user_input: { v: 6 }, ui_steps: applied.ui_steps });
        assert.equal(next.ui_steps, 3);
      });

      it("a session keeps running the code it started with after its sheet file changes; a new one runs the new code", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "uzc-store-"));
        try {
          const file = path.join(dir, "changing.calc.ts");
          const version = (label: string) =>
            `import { UI, Window, p } from "uzoncalc";\nexport async function* sheet() {\n  const a = yield UI(Window({ title: "A", fields: [{ name: "v", type: "number" }] }));\n  p("${label} " + a.v);\n}\n`;
          fs.writeFileSync(file, version("old"));
          const executors = [0, 1].map(() => new Executor({ safeDirs: [dir], store }));
          const first = await executors[0]!.execute({ file_path: file });
          fs.writeFileSync(file, version("new"));
          const done = await executors[1]!.resume({ session_id: first.session_id, user_input: { v: 1 } });
          assert.match(done.html!, /old 1/);
          const fresh = await executors[1]!.execute({ file_path: file, inputs: { a: { v: 2 } } });
          assert.match(fresh.html!, /new 2/);
          await Promise.all(executors.map((e) => e.close()));
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      });

      it("keeps sessions per token: another token's session is not found on any replica", async () => {
        const first = await replica(0).execute({ file_path: TEN }, { owner: "token-a" });
        const other = await refusal(replica(1).resume({ session_id: first.session_id, user_input: { v: 1 } }, { owner: "token-b" }));
        assert.equal(other.status, 404);
        assert.deepEqual((await replica(2).listSessions({}, { owner: "token-b" })).sessions, []);
        assert.equal((await replica(2).listSessions({}, { owner: "token-a" })).sessions.length, 1);
      });
    });
  }
});

describe("a Redis store that goes away and comes back", function () {
  this.timeout(60_000);

  it("answers 503 store_unavailable meanwhile (health too), then continues by itself, losing nothing", async () => {
    const durable = await startRedis({ durable: true });
    const store = new RedisStore({ url: durable.url, ttlMs: TTL_MS });
    await store.connect(5_000);
    await ready(store);
    const executor = new Executor({ safeDirs: [RUNAWAY], store });
    try {
      const first = await executor.execute({ file_path: TEN });
      await executor.resume({ session_id: first.session_id, user_input: { v: 1 } });
      assert.equal((await executor.health()).store, durable.url);
      await durable.kill();
      const down = await refusal(executor.resume({ session_id: first.session_id, user_input: { v: 2 } }));
      assert.equal(down.status, 503);
      assert.equal(down.code, "store_unavailable");
      assert.ok(down.message.includes(`session store (${durable.url}) cannot be reached`), down.message);
      assert.equal((await refusal(executor.health())).status, 503);
      await durable.start();
      await ready(store);
      assert.equal((await executor.health()).status, "healthy");
      const resumed = await executor.resume({ session_id: first.session_id, user_input: { v: 2 } });
      assert.equal(resumed.ui_steps, 3, "the step refused meanwhile was not applied; the one before was kept");
      const other = new Executor({ safeDirs: [RUNAWAY], store });
      const elsewhere = await other.resume({ session_id: first.session_id, user_input: { v: 3 } });
      assert.match(elsewhere.html!, /after step 3/);
      await other.close();
    } finally {
      await executor.close();
      await store.close();
      await durable.stop();
    }
  });
});
