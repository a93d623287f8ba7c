import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { ExecutionResponse } from "../../protocol/rpc";
import { Executor } from "../session/executor";
import { createSandboxEngine, describeProtections } from "../engine/protections";
import { defaultWorkerScript, WorkerPoolEngine } from "../engine/workerPool";

const RUNAWAY = path.join(__dirname, "fixtures", "runaway");
const STEP_LIMIT_MS = 500;

function newPool(overrides: Partial<ConstructorParameters<typeof WorkerPoolEngine>[0]> = {}): WorkerPoolEngine {
  return new WorkerPoolEngine({
    workerScript: defaultWorkerScript(),
    stepTimeoutMs: STEP_LIMIT_MS,
    memoryLimitMb: 64,
    maxWorkers: 2,
    sessionsPerWorker: 6,
    ...overrides,
  });
}

/** Every sheet a pool sends to open in a member, as sent (`code` "" is the hash alone), and whether it answered `needCode`. */
function watchSheetsSent(pool: WorkerPoolEngine): { code: string; needCode: boolean }[] {
  const sent: { code: string; needCode: boolean }[] = [];
  type Send = (sheet: { code: string }) => Promise<{ needCode?: true }>;
  const watched = pool as unknown as { withCode: (slot: unknown, sheet: unknown, send: Send) => Promise<unknown> };
  const original = watched.withCode.bind(pool);
  watched.withCode = async (slot, sheet, send) =>
    original(slot, sheet, async (s) => {
      const reply = await send(s);
      sent.push({ code: s.code, needCode: reply.needCode === true });
      return reply;
    });
  return sent;
}

/** Ten sessions of the steady sheet, each paused at its second window. */
async function pauseTen(executor: Executor): Promise<{ id: string; n: number }[]> {
  const paused: { id: string; n: number }[] = [];
  for (let i = 0; i < 10; i++) {
    const first = await executor.execute({ file_path: path.join(RUNAWAY, "steady.calc.ts") });
    const n = 1000 + i;
    const second = await executor.resume({ session_id: first.session_id, user_input: { n } });
    assert.equal(second.ui?.id, "b");
    paused.push({ id: first.session_id, n });
  }
  return paused;
}

describe("worker pool: runaway battery", function () {
  this.timeout(120_000);
  let executor: Executor;
  let pool: WorkerPoolEngine;
  let reference: Map<number, ExecutionResponse>;

  before(async () => {
    // What each steady session must end with: the same sheet and inputs, run undisturbed in this thread.
    const quiet = new Executor({ safeDirs: [RUNAWAY] });
    reference = new Map();
    for (let i = 0; i < 10; i++) {
      const n = 1000 + i;
      reference.set(n, await quiet.execute({ file_path: path.join(RUNAWAY, "steady.calc.ts"), inputs: { a: { n }, b: { k: 3 } } }));
    }
    await quiet.close();
  });
  beforeEach(() => {
    pool = newPool();
    executor = new Executor({ safeDirs: [RUNAWAY], stepTimeoutMs: STEP_LIMIT_MS, engine: pool });
  });
  afterEach(() => executor.close());

  const cases: { sheet: string; limit: "time" | "memory" | "stack"; pauseFirst?: boolean }[] = [
    { sheet: "sync-loop.calc.ts", limit: "time" },
    { sheet: "loop-after-await.calc.ts", limit: "time" },
    { sheet: "await-loop.calc.ts", limit: "time" },
    { sheet: "then-chain.calc.ts", limit: "time" },
    { sheet: "allocation.calc.ts", limit: "memory" },
    { sheet: "allocation-after-await.calc.ts", limit: "memory" },
    { sheet: "huge-string.calc.ts", limit: "memory" },
    { sheet: "deep-recursion.calc.ts", limit: "stack" },
  ];

  for (const runaway of cases) {
    it(`${runaway.sheet}: ends with an error naming the ${runaway.limit} limit, and ten paused sessions resume with identical reports`, async () => {
      // Each case gets room only in the limit it is about. A runaway allocation on a busy machine can reach a short
      // time limit before the heap cap: memory cases get a long step limit. A loop that allocates as it spins (a
      // promise chain grows by one promise a turn) can fill 64 MB within the step limit: time cases get a roomy heap.
      const stepLimit = runaway.limit === "memory" ? 8_000 : STEP_LIMIT_MS;
      await executor.close();
      pool = runaway.limit === "memory" ? newPool({ stepTimeoutMs: stepLimit }) : newPool({ memoryLimitMb: 512 });
      executor = new Executor({ safeDirs: [RUNAWAY], stepTimeoutMs: stepLimit, engine: pool });
      const paused = await pauseTen(executor);
      const workersBefore = pool.workers;
      assert.equal(workersBefore, 2, "the paused sessions are spread over both workers");

      const started = performance.now();
      const failed = await executor.execute({ file_path: path.join(RUNAWAY, runaway.sheet) });
      const elapsed = performance.now() - started;
      assert.equal(failed.status, "error", JSON.stringify(failed));
      if (runaway.limit === "time") {
        assert.equal(failed.error!.limit, "time");
        assert.match(failed.error!.message, new RegExp(`step time limit of ${STEP_LIMIT_MS} ms`));
      } else if (runaway.limit === "memory") {
        assert.equal(failed.error!.limit, "memory");
        assert.match(failed.error!.message, /memory limit of 64 MB|limit of 64 MB/);
      } else {
        assert.equal(failed.error!.name, "RangeError");
        assert.match(failed.error!.message, /Maximum call stack size exceeded/);
        assert.equal(failed.error!.line, 2);
      }
      assert.ok(elapsed < (runaway.limit === "memory" ? 3_000 : STEP_LIMIT_MS + 1_000), `ended after ${Math.round(elapsed)} ms`);

      for (const { id, n } of paused) {
        const done = await executor.resume({ session_id: id, user_input: { k: 3 } });
        assert.equal(done.status, "completed", `${id}: ${JSON.stringify(done.error)}`);
        const expected = reference.get(n)!;
        assert.equal(done.html, expected.html);
        assert.deepEqual(done.value, expected.value);
        assert.equal((await executor.replay({ record: executor.sessionRecord(id) })).result, done.result, "byte-identical with a replay");
      }
      const { restores } = executor.stats();
      if (runaway.limit === "memory") assert.ok(restores >= 1, "the sessions that shared the dead member were rebuilt");
      else assert.equal(restores, 0, "vm's timeout stops the step, not the member");
    });
  }

  it("with untimed steps, a runaway whose source differs every time is timed after the first (issue 13 item 11)", async () => {
    await executor.close();
    pool = newPool({ timeEveryStep: false });
    executor = new Executor({ safeDirs: [RUNAWAY], stepTimeoutMs: STEP_LIMIT_MS, engine: pool });
    const runaway = (n: number) => ({
      source: `import { p } from "uzoncalc";\nexport async function* sheet() {\n  p("variant ${n}");\n  await 0;\n  for (;;) {}\n}\n`,
      filename: `variant-${n}.calc.ts`,
    });
    const first = await executor.execute(runaway(1));
    assert.equal(first.error?.limit, "time");
    const members = pool.memberPids;
    for (let n = 2; n <= 4; n++) {
      const variant = await executor.execute(runaway(n));
      assert.equal(variant.error?.limit, "time");
      assert.match(variant.html!, new RegExp(`variant ${n}`), "stopped by vm's timeout: what the step wrote is kept");
    }
    for (const pid of members) assert.ok(pool.memberPids.includes(pid), `member ${pid} still runs: no variant took one down`);
  });

  it("with untimed steps, stops a first runaway by the watchdog and times that sheet from then on", async () => {
    await executor.close();
    pool = newPool({ timeEveryStep: false });
    executor = new Executor({ safeDirs: [RUNAWAY], stepTimeoutMs: STEP_LIMIT_MS, engine: pool });
    const paused = await pauseTen(executor);
    let started = performance.now();
    const first = await executor.execute({ file_path: path.join(RUNAWAY, "loop-after-await.calc.ts") });
    assert.equal(first.error?.limit, "time");
    assert.ok(performance.now() - started < STEP_LIMIT_MS + 1_000);
    const members = pool.memberPids;
    started = performance.now();
    const again = await executor.execute({ file_path: path.join(RUNAWAY, "loop-after-await.calc.ts") });
    assert.equal(again.error?.limit, "time");
    assert.match(again.html!, /before/, "stopped by vm's timeout, what the step wrote is kept");
    assert.ok(performance.now() - started < STEP_LIMIT_MS + 1_000);
    for (const pid of members) assert.ok(pool.memberPids.includes(pid), `member ${pid} is still running: the repeat did not take it down`);
    for (const { id, n } of paused) {
      const done = await executor.resume({ session_id: id, user_input: { k: 3 } });
      assert.equal(done.html, reference.get(n)!.html);
    }
    assert.ok(executor.stats().restores >= 1, "the first runaway's member took its other sessions with it; they were rebuilt");
  });

  for (const isolation of ["process", "thread"] as const) {
    it(`terminates a pool member (${isolation}) that stops answering, past the step limit plus the grace`, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "uzc-hang-"));
      try {
        // A member that answers the first message and then spins: what a step the vm timeout missed looks like.
        const hanging = path.join(dir, "hanging-worker.js");
        fs.writeFileSync(
          hanging,
          [
            'const { parentPort } = require("node:worker_threads");',
            "const send = parentPort ? (m) => parentPort.postMessage(m) : (m) => process.send(m);",
            "let answered = 0;",
            // A member process gets its messages in batches (worker/batch.ts).
            "const each = (received, handle) => (Array.isArray(received) ? received.forEach(handle) : handle(received));",
            '(parentPort ?? process).on("message", (received) => each(received, (m) => { if (m.op === "drop") return; if (answered++ === 0) send({ seq: m.seq, outcome: { kind: "ui", window: { id: "w", title: "W", fields: [] }, html: "", logs: [] } }); else for (;;) {} }));',
          ].join("\n"),
        );
        const stuck = newPool({ workerScript: hanging, maxWorkers: 1, watchdogGraceMs: 300, isolation });
        const sheet = { hash: "h", code: "", scriptName: "s" };
        const init = { seed: 1, now: 0 };
        assert.equal((await stuck.open("a", sheet, init, { filename: "x" })).kind, "ui");
        const started = performance.now();
        const outcome = await stuck.resume("a", {});
        const elapsed = performance.now() - started;
        assert.ok(elapsed >= STEP_LIMIT_MS && elapsed < STEP_LIMIT_MS + 300 + 500, `terminated after ${Math.round(elapsed)} ms`);
        assert.ok(
          outcome.kind === "error" && outcome.error.limit === "time" && /step time limit/.test(outcome.error.message),
          JSON.stringify(outcome),
        );
        assert.equal(stuck.workers, 0, "the stuck member is gone");
        assert.deepEqual(await stuck.resume("a", {}), { kind: "lost" });
        await stuck.close();
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it("opens a bundle a member already has by its hash alone, and sends the code again when the member let it go", async () => {
    await executor.close();
    pool = newPool({ maxWorkers: 1, sessionsPerWorker: 100 });
    const quiet = new Executor({ safeDirs: [RUNAWAY], engine: pool });
    const sent = watchSheetsSent(pool);
    const needed = () => sent.filter((s) => s.needCode).length;
    try {
      const first = await quiet.execute({ file_path: path.join(RUNAWAY, "steady.calc.ts") });
      const second = await quiet.execute({ file_path: path.join(RUNAWAY, "steady.calc.ts") });
      assert.equal(second.html, first.html, "the same sheet, opened by its hash, runs the same");
      assert.equal(needed(), 0);
      // 32 other bundles waiting in the member fill its script cache; then the steady sheet's last session ends,
      // and the member lets its script go.
      const others = [];
      for (let n = 0; n < 32; n++)
        others.push(
          await quiet.execute({
            source: `import { UI, Window, p } from "uzoncalc";\nexport async function* sheet() { p("other ${n}"); yield UI(Window({ title: "W", fields: [] })); }\n`,
            filename: `other-${n}.calc.ts`,
          }),
        );
      await quiet.cancel({ session_id: first.session_id });
      await quiet.cancel({ session_id: second.session_id });
      const again = await quiet.execute({ file_path: path.join(RUNAWAY, "steady.calc.ts") });
      assert.equal(needed(), 1, "the member asked for the code it no longer had");
      assert.equal(again.status, "waiting_ui", JSON.stringify(again.error));
      assert.equal(again.html, first.html);
      for (const other of others) await quiet.cancel({ session_id: other.session_id });
    } finally {
      await quiet.close();
    }
  });

  it("sends a prepared sheet to the running members ahead of its first run, which then opens it by its hash alone", async () => {
    await executor.close();
    pool = newPool({ maxWorkers: 1, sessionsPerWorker: 100 });
    const quiet = new Executor({ safeDirs: [RUNAWAY], engine: pool });
    const sent = watchSheetsSent(pool);
    try {
      await pool.probe(); // the member the local sandbox starts with its first health check
      assert.deepEqual(await quiet.prepare({ file_path: path.join(RUNAWAY, "steady.calc.ts") }), { status: "ok" });
      const first = await quiet.execute({ file_path: path.join(RUNAWAY, "steady.calc.ts") });
      assert.equal(first.status, "waiting_ui", JSON.stringify(first.error));
      assert.deepEqual(sent, [{ code: "", needCode: false }], "the first open sent the hash alone, and the member had the code");
      assert.equal(pool.workers, 1);
      await quiet.cancel({ session_id: first.session_id });
    } finally {
      await quiet.close();
    }
  });

  it("spreads sessions over as many members as it may start: opened at once or one by one, they do not queue in the first", async () => {
    await executor.close();
    // Room for 250 sessions a member: by load alone, the first member would take all four.
    pool = newPool({ sessionsPerWorker: 250 });
    executor = new Executor({ safeDirs: [RUNAWAY], engine: pool });
    const opened = await Promise.all(
      Array.from({ length: 4 }, () => executor.execute({ file_path: path.join(RUNAWAY, "steady.calc.ts") })),
    );
    for (const response of opened) assert.equal(response.ui?.id, "a");
    assert.equal(pool.workers, 2, "the second member started for the opens the first was busy with");
    assert.equal(pool.liveRealms, 4);
    // Each session's later steps go to the member it lives in, and it finishes there.
    for (const [i, response] of opened.entries()) {
      await executor.resume({ session_id: response.session_id, user_input: { n: 5 + i } });
      const done = await executor.resume({ session_id: response.session_id, user_input: { k: 1 } });
      assert.equal(done.status, "completed");
      assert.equal((done.value as { n: number }).n, 5 + i);
    }
    assert.equal(executor.stats().restores, 0, "no session was rebuilt elsewhere");

    // Opened one after another while the pool was quiet, two sessions still get a member each, so their steps can
    // run at once later.
    await executor.close();
    pool = newPool({ sessionsPerWorker: 250 });
    executor = new Executor({ safeDirs: [RUNAWAY], engine: pool });
    await executor.execute({ file_path: path.join(RUNAWAY, "steady.calc.ts") });
    assert.equal(pool.workers, 1);
    await executor.execute({ file_path: path.join(RUNAWAY, "steady.calc.ts") });
    assert.equal(pool.workers, 2, "the second session in a member of its own");
    assert.equal(pool.workers, 2, "never more than the cap");
  });

  it("evicts the least recently used realm when every worker is full, and rebuilds it on demand", async () => {
    await executor.close();
    pool = newPool({ maxWorkers: 1, sessionsPerWorker: 3 });
    executor = new Executor({ safeDirs: [RUNAWAY], engine: pool });
    const paused = [];
    for (let i = 0; i < 5; i++) {
      const first = await executor.execute({ file_path: path.join(RUNAWAY, "steady.calc.ts") });
      await executor.resume({ session_id: first.session_id, user_input: { n: 10 + i } });
      paused.push(first.session_id);
    }
    assert.equal(pool.liveRealms, 3);
    for (const [i, id] of paused.entries()) {
      const done = await executor.resume({ session_id: id, user_input: { k: 1 } });
      assert.equal(done.status, "completed");
      assert.equal((done.value as { n: number }).n, 10 + i);
    }
    assert.ok(executor.stats().restores >= 2);
  });
});

describe("worker pool: start-up checks", () => {
  it("reports which protections hold, from inside a worker started like the sheet workers", async () => {
    const warnings: string[] = [];
    const { engine, protections } = await createSandboxEngine({
      stepTimeoutMs: 1_000,
      memoryLimitMb: 96,
      log: (_level, message) => warnings.push(message),
    });
    try {
      assert.deepEqual(protections, {
        dontContextify: true,
        workers: true,
        isolation: "process",
        workerPermission: true,
        workerHeapLimitMb: protections.workerHeapLimitMb,
        workerEnvEmpty: true,
        memberMemoryCapped: true,
        memberNetworkIsolated: true,
      });
      assert.ok(
        protections.workerHeapLimitMb! >= 96 && protections.workerHeapLimitMb! < 200,
        `heap limit ${protections.workerHeapLimitMb}`,
      );
      assert.match(
        describeProtections(protections),
        /vm DONT_CONTEXTIFY: yes; sheets in isolated child processes with a heap cap: \d+ MB; permission model in them: yes/,
      );
      assert.deepEqual(warnings, []);
      assert.ok(engine instanceof WorkerPoolEngine);
    } finally {
      await engine.close();
    }
  });

  it("falls back to sheets in this thread, with a warning, when workers cannot start", async () => {
    const warnings: string[] = [];
    const { engine, protections } = await createSandboxEngine({
      stepTimeoutMs: 1_000,
      workerScript: "/nonexistent/sandbox-worker.js",
      log: (_level, message) => warnings.push(message),
    });
    try {
      assert.equal(protections.workers, false);
      assert.match(warnings.join("\n"), /could not start[\s\S]*no memory cap/);
      const executor = new Executor({ safeDirs: [RUNAWAY], engine });
      const run = await executor.execute({ file_path: path.join(RUNAWAY, "steady.calc.ts"), inputs: { a: { n: 4 } } });
      assert.equal(run.ui?.id, "b");
      await executor.close();
    } finally {
      await engine.close();
    }
  });
});
