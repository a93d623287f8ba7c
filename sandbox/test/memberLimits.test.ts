// The pool's members as a whole (issue 13 items 8, 11, 12, 13 and the network namespace): memory capped with
// typed arrays included, a memory death charged to the session that held the memory, a long step that does
// not hold other sessions' requests, recovery through any number of member deaths, and no network in members.

import assert from "node:assert/strict";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { Executor } from "../session/executor";
import { createSandboxEngine, describeProtections } from "../engine/protections";
import { defaultWorkerScript, WorkerPoolEngine } from "../engine/workerPool";
import { Metrics } from "../service/metrics";
import { residentMb } from "./support/processes";

const RUNAWAY = path.join(__dirname, "fixtures", "runaway");
const sheet = (name: string) => path.join(RUNAWAY, name);

function newPool(overrides: Partial<ConstructorParameters<typeof WorkerPoolEngine>[0]> = {}): WorkerPoolEngine {
  return new WorkerPoolEngine({
    workerScript: defaultWorkerScript(),
    stepTimeoutMs: 8_000,
    memoryLimitMb: 128,
    maxWorkers: 1,
    sessionsPerWorker: 50,
    ...overrides,
  });
}

const linux = process.platform === "linux";

describe("pool members: memory capped as a whole (issue 13 items 8 and 11)", function () {
  this.timeout(120_000);
  let executor: Executor;
  let pool: WorkerPoolEngine;
  afterEach(() => executor.close());

  it("a sheet that holds 2 GB in typed arrays under --memory-limit 128 is stopped and told the limit; its neighbours carry on", async function () {
    if (!linux) this.skip();
    pool = newPool();
    executor = new Executor({ safeDirs: [RUNAWAY], stepTimeoutMs: 8_000, engine: pool });
    const neighbours = [];
    for (let i = 0; i < 5; i++) {
      const first = await executor.execute({ file_path: sheet("steady.calc.ts") });
      neighbours.push((await executor.resume({ session_id: first.session_id, user_input: { n: 100 + i } })).session_id);
    }
    const member = pool.memberPids[0]!;
    const hoard = await executor.execute({ file_path: sheet("typed-hoard.calc.ts") });
    assert.equal(hoard.status, "error", JSON.stringify(hoard.error));
    assert.equal(hoard.error!.limit, "memory");
    assert.equal(hoard.error!.name, "MemoryLimitError");
    assert.match(hoard.error!.message, /limit of 128 MB per member \(JavaScript objects and typed arrays together\)/);
    assert.match(hoard.html!, /hoarding/, "what the step wrote before it is kept");
    assert.ok(residentMb(member) < 128 + 200, `the member holds ${Math.round(residentMb(member))} MB`);
    for (const id of neighbours) assert.equal((await executor.resume({ session_id: id, user_input: { k: 2 } })).status, "completed");
  });

  it("a member out of memory charges the session that held the most, not the small step that tipped it over", async function () {
    if (!linux) this.skip();
    pool = newPool();
    executor = new Executor({ safeDirs: [RUNAWAY], stepTimeoutMs: 8_000, engine: pool });
    // A holds 110 MB between steps; B's step wants 90 MB more, past what the member may have (128 MB + Node's own).
    const a = await executor.execute({ file_path: sheet("holder.calc.ts") });
    const holding = await executor.resume({ session_id: a.session_id, user_input: { mb: 110 } });
    assert.match(holding.html!, /holding 110 MB/);
    const b = await executor.execute({ file_path: sheet("holder.calc.ts") });
    const small = await executor.resume({ session_id: b.session_id, user_input: { mb: 90 } });
    assert.equal(small.status, "waiting_ui", JSON.stringify(small.error));
    assert.match(small.html!, /holding 90 MB/, "B's step was run again once A's memory was freed");
    const charged = await executor.resume({ session_id: a.session_id, user_input: { k: 1 } });
    assert.equal(charged.status, "error");
    assert.equal(charged.error!.limit, "memory");
    assert.match(charged.error!.message, /memory limit of 128 MB .* this run held the most of it/);
    assert.equal((await executor.resume({ session_id: b.session_id, user_input: { k: 2 } })).status, "completed");
  });
});

describe("pool members: one session's long step does not hold the others (issue 13 item 12)", function () {
  this.timeout(120_000);

  it("moves requests queued behind a long step to a free member, and reports queueing in /metrics", async () => {
    // How many spins make a step of about 2 s on this machine, measured in this thread. The faster of two probes:
    // one slowed by a busy moment gave too few spins, and the real step ended in under a second (seen in CI).
    const probe = new Executor({ safeDirs: [RUNAWAY] });
    let fastest = Infinity;
    for (let i = 0; i < 2; i++) {
      const calibrate = await probe.execute({ file_path: sheet("slow.calc.ts") });
      const at = performance.now();
      await probe.resume({ session_id: calibrate.session_id, user_input: { spins: 20_000_000 } });
      fastest = Math.min(fastest, performance.now() - at);
    }
    const spins = Math.round((20_000_000 * 2_000) / Math.max(1, fastest));
    await probe.close();

    const pool = newPool({ maxWorkers: 2, stepTimeoutMs: 20_000 });
    const executor = new Executor({ safeDirs: [RUNAWAY], stepTimeoutMs: 20_000, engine: pool });
    const metrics = new Metrics(() => executor.countByStatus(), { queue: () => executor.queueStats() });
    try {
      const bystanders = [];
      for (let i = 0; i < 8; i++) bystanders.push((await executor.execute({ file_path: sheet("steady.calc.ts") })).session_id);
      const slow = await executor.execute({ file_path: sheet("slow.calc.ts") });
      const started = performance.now();
      const long = executor.resume({ session_id: slow.session_id, user_input: { spins } }).then((response) => ({
        response,
        ms: performance.now() - started,
      }));
      await new Promise((resolve) => setTimeout(resolve, 200));
      const latencies = await Promise.all(
        bystanders.map(async (id, i) => {
          const sent = performance.now();
          const response = await executor.resume({ session_id: id, user_input: { n: 50 + i } });
          assert.equal(response.status, "waiting_ui", JSON.stringify(response.error));
          return performance.now() - sent;
        }),
      );
      const { response, ms } = await long;
      assert.equal(response.status, "waiting_ui", JSON.stringify(response.error));
      assert.ok(ms > 1_000, `the long step took ${Math.round(ms)} ms (it must outlast the bystanders for this test to mean anything)`);
      const worst = Math.max(...latencies);
      assert.ok(worst < ms / 3, `a bystander waited ${Math.round(worst)} ms while a ${Math.round(ms)} ms step ran`);
      const text = await metrics.render();
      assert.match(text, /uzoncalc_member_queue_wait_seconds_total \d/);
      assert.match(text, /uzoncalc_member_requests_total [1-9]/);
      assert.match(text, /uzoncalc_member_requests_moved_total [1-9]/, "requests behind the long step moved");
      assert.match(text, /uzoncalc_member_queue_depth 0/);
    } finally {
      await executor.close();
    }
  });

  it("sizes the pool to the cores by default", () => {
    const pool = new WorkerPoolEngine({ workerScript: defaultWorkerScript(), stepTimeoutMs: 1_000 });
    assert.equal((pool as unknown as { options: { maxWorkers: number } }).options.maxWorkers, os.availableParallelism());
    void pool.close();
  });
});

describe("pool members: recovery that does not give up (issue 13 item 13)", function () {
  this.timeout(300_000);

  it("a member killed every second under 60 sessions × 10 steps: every session completes with the report of an undisturbed run", async () => {
    const SESSIONS = 60;
    const value = (n: number, step: number) => n * 7 + step;
    // Users think between windows (up to 800 ms here), so the storm spans several kills.
    const think = (n: number, step: number) => new Promise((resolve) => setTimeout(resolve, (n * 37 + step * 53) % 800));
    const runAll = async (executor: Executor, pace: boolean) =>
      Promise.all(
        Array.from({ length: SESSIONS }, async (_, n) => {
          let response = await executor.execute({ file_path: sheet("ten.calc.ts") });
          for (let step = 1; step <= 10; step++) {
            if (pace) await think(n, step);
            response = await executor.resume({ session_id: response.session_id, user_input: { v: value(n, step) } });
            if (response.status !== "waiting_ui") break;
          }
          return response;
        }),
      );
    const quiet = new Executor({ safeDirs: [RUNAWAY] });
    const reference = await runAll(quiet, false);
    await quiet.close();

    const pool = newPool({ maxWorkers: 2, isolation: "process", stepTimeoutMs: 5_000 });
    const executor = new Executor({ safeDirs: [RUNAWAY], stepTimeoutMs: 5_000, engine: pool });
    let kills = 0;
    const killer = setInterval(() => {
      const pids = pool.memberPids;
      if (pids.length === 0) return;
      try {
        process.kill(pids[kills % pids.length]!, "SIGKILL");
        kills++;
      } catch {
        // already gone
      }
    }, 1_000);
    try {
      const stormed = await runAll(executor, true);
      clearInterval(killer);
      assert.ok(kills >= 4, `only ${kills} kills: the storm was too short to test anything`);
      const lost = stormed.filter((r) => r.status !== "completed");
      assert.deepEqual(
        lost.map((r) => r.error?.message),
        [],
        `${lost.length} of ${SESSIONS} sessions lost under ${kills} kills`,
      );
      stormed.forEach((r, n) => assert.equal(r.html, reference[n]!.html, `session ${n}: the same report as undisturbed`));
      assert.ok(executor.stats().restores > 0, "sessions were rebuilt");
    } finally {
      clearInterval(killer);
      await executor.close();
    }
  });
});

describe("pool members: no network (issue 13, network namespace)", function () {
  this.timeout(60_000);

  it("a member cannot open a socket, even to 127.0.0.1, and start-up says so", async function () {
    if (!linux) this.skip();
    const server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    const confined = newPool();
    const open = newPool({ confine: false });
    try {
      const inside = await confined.probe(port);
      assert.equal(inside.networkIsolated, true);
      assert.notEqual(inside.connect, "connected", "a member reached a listener on the host");
      assert.match(inside.connect!, /ENETUNREACH|ECONNREFUSED|EACCES|EPERM/);
      // The same probe without the namespace does connect: the check above can fail.
      assert.equal((await open.probe(port)).connect, "connected");
      const { engine, protections } = await createSandboxEngine({ stepTimeoutMs: 1_000, memoryLimitMb: 96 });
      await engine.close();
      assert.equal(protections.memberNetworkIsolated, true);
      assert.match(describeProtections(protections), /no network in them: yes \(an empty network namespace\)/);
    } finally {
      await confined.close();
      await open.close();
      server.close();
    }
  });
});
