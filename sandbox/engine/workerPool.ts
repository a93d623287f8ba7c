// Sheet realms in a pool of resource-limited worker threads. A runaway allocation or a loop the vm timeout
// cannot stop kills one worker, never the sandbox: the session that caused it ends with an error naming the
// limit, and every other session that lived in that worker answers `lost`, which the executor turns into a
// rebuild by replay in a fresh worker.

import { fork, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import type { RealmInit, RealmOutcome, RealmStart } from "../runtime/abi";
import type { EngineOutcome, RealmEngine, SheetCode } from "./realmEngine";
import { LIMITS } from "../../protocol/limits";
import type { InputLogEntry } from "../../protocol/session";
import type { FromWorker, ProbeResult, ToWorker } from "./worker/messages";
import { errorOutcome, timeLimitOutcome } from "./sheetRealm";
import { sheetProcessOptions, sheetWorkerOptions } from "./worker/options";

export interface WorkerPoolOptions {
  /** The built worker entry (dist/sandbox-worker.js). */
  workerScript: string;
  stepTimeoutMs: number;
  /** Heap cap of each worker, MB. Default LIMITS.memoryLimitMb. */
  memoryLimitMb?: number;
  /** Most workers at once. Default 4. */
  maxWorkers?: number;
  /** Most live realms in one worker; past that a new worker starts, or (all full) the least recently used realm is evicted. Default 250. */
  sessionsPerWorker?: number;
  /**
   * How long past the step limit a silent member is given before it is terminated (with `timeEveryStep: false`
   * this watchdog is the step limit for a sheet's first runaway). Default 250 ms.
   */
  watchdogGraceMs?: number;
  /** Start workers under the permission model (default true; turned off only where a start-up check found it unsupported). */
  permission?: boolean;
  /**
   * What a pool member is. `process` (default): a child process per member, so even a fatal V8 out-of-memory
   * (a large allocation inside a microtask overshoots a worker's heap cap and aborts the whole process: see the
   * note on issue 3) takes down one member, never the sandbox. `thread`: a worker thread per member, lighter and
   * faster per step, for hosts that accept that risk.
   */
  isolation?: "process" | "thread";
  /**
   * Run every step under vm's per-call timeout (default true): precise, and a runaway step keeps what it wrote.
   * false: steps run untimed (vm's timeout starts a thread per call, ~80–110 µs) and this pool's watchdog is
   * the limit for a sheet's first runaway (the member is replaced, its other sessions rebuilt by replay); from
   * then on that sheet's steps are timed. For a busy shared service, where the step rate matters.
   */
  timeEveryStep?: boolean;
  log?: (level: "info" | "warn", message: string) => void;
}

interface Pending {
  sessionId: string | undefined;
  resolve: (reply: FromWorker) => void;
  /** How many steps the request runs (a restore runs many): its share of watchdog time. */
  steps: number;
}

type DeathCause = "memory" | "time" | "crash";

const DEFAULTS = { memoryLimitMb: LIMITS.memoryLimitMb.default, maxWorkers: 4, sessionsPerWorker: 250, watchdogGraceMs: 250 };

let nextWorkerId = 1;

/** A pool member's channel: a worker thread or a child process, seen the same way. */
interface Transport {
  /** The member's process id (a child process), for diagnostics and benchmarks. */
  readonly pid: number | undefined;
  send(message: ToWorker): void;
  ref(): void;
  unref(): void;
  kill(): Promise<void>;
}

function threadTransport(
  slot: WorkerSlot,
  script: string,
  limits: { memoryLimitMb: number; stepTimeoutMs: number },
  permission: boolean,
): Transport {
  const worker = new Worker(script, {
    ...sheetWorkerOptions(script, { memoryLimitMb: limits.memoryLimitMb }, permission),
    workerData: { stepTimeoutMs: limits.stepTimeoutMs },
  });
  worker.on("message", (reply: FromWorker) => slot.onReply(reply));
  worker.on("error", (error: Error & { code?: string }) => slot.noteCause(error.code === "ERR_WORKER_OUT_OF_MEMORY" ? "memory" : "crash"));
  worker.on("exit", () => slot.onExit());
  worker.unref();
  return {
    pid: undefined,
    send: (message) => worker.postMessage(message),
    ref: () => worker.ref(),
    unref: () => worker.unref(),
    kill: async () => {
      worker.ref(); // an unref'd worker would let the process exit while we wait for it to stop
      await worker.terminate();
    },
  };
}

function processTransport(
  slot: WorkerSlot,
  script: string,
  limits: { memoryLimitMb: number; stepTimeoutMs: number },
  permission: boolean,
): Transport {
  const child: ChildProcess = fork(
    script,
    [`--uzc-step-timeout=${limits.stepTimeoutMs}`],
    sheetProcessOptions(script, { memoryLimitMb: limits.memoryLimitMb }, permission),
  );
  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    if (stderr.length < 64_000) stderr += chunk;
  });
  child.on("message", (reply: FromWorker) => slot.onReply(reply));
  child.on("error", () => slot.noteCause("crash"));
  child.on("exit", () => {
    if (/heap out of memory|Reached heap limit|allocation failed/i.test(stderr)) slot.noteCause("memory");
    slot.onExit();
  });
  const unref = () => {
    child.unref();
    (child.channel as { unref?: () => void } | undefined)?.unref?.();
    (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
  };
  unref();
  return {
    pid: child.pid,
    send: (message) => {
      if (child.connected) child.send(message);
    },
    ref: () => {
      child.ref();
      (child.channel as { ref?: () => void } | undefined)?.ref?.();
      (child.stderr as unknown as { ref?: () => void } | null)?.ref?.();
    },
    unref,
    kill: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.ref(); // an unref'd child would let the process exit while we wait for it to stop
        child.once("exit", () => resolve());
        child.kill("SIGKILL");
      }),
  };
}

class WorkerSlot {
  readonly id = nextWorkerId++;
  private readonly transport: Transport;
  readonly sessions = new Set<string>();
  /** Requests in the order they were sent: the worker answers in order, so the first is the one running. */
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private watchdog: NodeJS.Timeout | undefined;
  private dead = false;
  private cause: DeathCause | undefined;

  constructor(
    private readonly pool: WorkerPoolEngine,
    workerScript: string,
    private readonly limits: { memoryLimitMb: number; stepTimeoutMs: number; watchdogGraceMs: number },
    permission: boolean,
    isolation: "process" | "thread",
  ) {
    this.transport = (isolation === "process" ? processTransport : threadTransport)(this, workerScript, limits, permission);
  }

  noteCause(cause: DeathCause): void {
    this.cause ??= cause;
  }

  get alive(): boolean {
    return !this.dead;
  }

  get pid(): number | undefined {
    return this.transport.pid;
  }

  get load(): number {
    return this.sessions.size;
  }

  /** Sends a request; `steps` scales the watchdog for a restore that runs many steps in one request. */
  request(message: DistributiveOmit<ToWorker, "seq">, sessionId: string | undefined, steps = 1): Promise<FromWorker> {
    const seq = ++this.seq;
    return new Promise((resolve) => {
      if (this.dead) {
        resolve(lostReply(seq));
        return;
      }
      this.pending.set(seq, { sessionId, resolve, steps: Math.max(1, steps) });
      this.transport.send({ ...message, seq } as ToWorker);
      if (this.pending.size === 1) this.armWatchdog();
    });
  }

  post(message: ToWorker): void {
    if (!this.dead) this.transport.send(message);
  }

  async terminate(): Promise<void> {
    this.cause ??= "crash";
    await this.transport.kill();
  }

  onReply(reply: FromWorker): void {
    const pending = this.pending.get(reply.seq);
    if (!pending) return;
    this.pending.delete(reply.seq);
    this.armWatchdog();
    pending.resolve(reply);
  }

  /**
   * Times the request the worker is running now (the oldest unanswered one), so time spent queued behind other
   * sessions' steps is never counted against a step.
   */
  private armWatchdog(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = undefined;
    const head = this.pending.entries().next().value as [number, Pending] | undefined;
    // An idle worker must not keep the process alive; one with work in hand must.
    if (!head || this.dead) {
      this.transport.unref();
      return;
    }
    this.transport.ref();
    const [seq, pending] = head;
    this.watchdog = setTimeout(() => this.onWatchdog(seq), this.limits.stepTimeoutMs * pending.steps + this.limits.watchdogGraceMs);
    this.watchdog.unref();
  }

  /** The vm timeout should have ended the step already; a worker still silent past it is stopped from outside. */
  private onWatchdog(seq: number): void {
    if (!this.pending.has(seq) || this.dead) return;
    this.cause ??= "time";
    this.pool.log("warn", `worker ${this.id}: no answer ${this.limits.watchdogGraceMs} ms past the step limit; terminating it`);
    void this.transport.kill();
  }

  onExit(): void {
    if (this.dead) return;
    this.dead = true;
    const cause = this.cause ?? "crash";
    if (this.watchdog) clearTimeout(this.watchdog);
    let first = true;
    for (const [seq, pending] of this.pending) {
      if (first && pending.sessionId !== undefined && cause === "time") this.pool.noteRunaway(pending.sessionId);
      // Only the request the worker was running caused its death; the rest were waiting their turn.
      pending.resolve(first && pending.sessionId !== undefined ? { seq, outcome: deathOutcome(cause, this.limits) } : lostReply(seq));
      first = false;
    }
    this.pending.clear();
    if (cause !== "crash" || this.sessions.size > 0) {
      this.pool.log(
        "warn",
        `worker ${this.id} stopped (${cause === "memory" ? "memory limit" : cause === "time" ? "watchdog" : "exited"}); ${this.sessions.size} session(s) in it will be rebuilt on demand`,
      );
    }
    this.pool.forget(this);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function lostReply(seq: number): FromWorker {
  return { seq, outcome: { kind: "lost" } };
}

function deathOutcome(cause: DeathCause, limits: { memoryLimitMb: number; stepTimeoutMs: number }): RealmOutcome {
  if (cause === "time") return timeLimitOutcome(limits.stepTimeoutMs);
  if (cause === "memory") {
    return errorOutcome({
      name: "MemoryLimitError",
      message: `The sheet used more memory than the sandbox's limit of ${limits.memoryLimitMb} MB and was stopped. Look for an array or string that grows without end, or raise the limit (uzoncalc.sandbox.memoryLimitMb).`,
      limit: "memory",
    });
  }
  return errorOutcome({ name: "SandboxError", message: "The sandbox worker running this sheet stopped unexpectedly." });
}

export class WorkerPoolEngine implements RealmEngine {
  private readonly slots: WorkerSlot[] = [];
  private readonly placement = new Map<string, WorkerSlot>();
  /** Live realms, least recently used first, for eviction when every worker is full. */
  private readonly recency = new Map<string, true>();
  private readonly options: Required<Omit<WorkerPoolOptions, "log">> & Pick<WorkerPoolOptions, "log">;
  /** Bundles that once ran past the step limit: their steps run under vm's timeout from then on. */
  private readonly runawayBundles = new Set<string>();
  /** Tenants one of whose sheets ran past the step limit: all their steps are timed from then on. */
  private readonly runawayTenants = new Set<string>();
  private readonly bundleOf = new Map<string, SheetCode>();
  private closed = false;

  constructor(options: WorkerPoolOptions) {
    if (!fs.existsSync(options.workerScript)) throw new Error(`Sheet worker script not found: ${options.workerScript} (run the build)`);
    this.options = {
      memoryLimitMb: DEFAULTS.memoryLimitMb,
      maxWorkers: DEFAULTS.maxWorkers,
      sessionsPerWorker: DEFAULTS.sessionsPerWorker,
      watchdogGraceMs: DEFAULTS.watchdogGraceMs,
      permission: true,
      isolation: "process",
      timeEveryStep: true,
      ...options,
    };
  }

  get liveRealms(): number {
    return this.placement.size;
  }

  get workers(): number {
    return this.slots.length;
  }

  /** Process ids of the members that are child processes. */
  get memberPids(): number[] {
    return this.slots.map((s) => s.pid).filter((pid): pid is number => pid !== undefined);
  }

  log(level: "info" | "warn", message: string): void {
    this.options.log?.(level, message);
  }

  /** A member died of the watchdog while running this session's step: time its sheet from now on. */
  noteRunaway(sessionId: string): void {
    const sheet = this.bundleOf.get(sessionId);
    if (sheet === undefined) return;
    this.runawayBundles.add(sheet.hash);
    if (sheet.tenant !== undefined) this.runawayTenants.add(sheet.tenant);
  }

  private withTiming(sessionId: string, sheet: SheetCode): SheetCode {
    this.bundleOf.set(sessionId, sheet);
    const known = this.runawayBundles.has(sheet.hash) || (sheet.tenant !== undefined && this.runawayTenants.has(sheet.tenant));
    return this.options.timeEveryStep || known ? { ...sheet, timed: true } : sheet;
  }

  async open(sessionId: string, sheet: SheetCode, init: RealmInit, start: RealmStart): Promise<RealmOutcome> {
    // A worker that dies while this open waits its turn answers `lost`: start it again in another worker.
    for (let attempt = 0; attempt < 3; attempt++) {
      const slot = this.place(sessionId);
      const message = { op: "open" as const, sessionId, sheet: this.withTiming(sessionId, sheet), init, start };
      const outcome = this.settle(sessionId, slot, outcomeOf(await slot.request(message, sessionId)), true);
      if (outcome.kind !== "lost") return outcome;
    }
    return errorOutcome({ name: "SandboxError", message: "The sandbox could not start a worker for this sheet." });
  }

  async restore(
    sessionId: string,
    sheet: SheetCode,
    init: RealmInit,
    start: RealmStart,
    inputLog: readonly InputLogEntry[],
  ): Promise<EngineOutcome> {
    const slot = this.place(sessionId);
    const reply = await slot.request(
      { op: "restore", sessionId, sheet: this.withTiming(sessionId, sheet), init, start, inputLog: [...inputLog] },
      sessionId,
      inputLog.length + 1,
    );
    return this.settle(sessionId, slot, outcomeOf(reply), true);
  }

  async resume(sessionId: string, values: unknown): Promise<EngineOutcome> {
    const slot = this.placement.get(sessionId);
    if (!slot?.alive) return this.lose(sessionId);
    this.touch(sessionId);
    const reply = await slot.request({ op: "resume", sessionId, values }, sessionId);
    return this.settle(sessionId, slot, outcomeOf(reply), false);
  }

  async cancel(sessionId: string): Promise<EngineOutcome> {
    const slot = this.placement.get(sessionId);
    if (!slot?.alive) return this.lose(sessionId);
    const reply = await slot.request({ op: "cancel", sessionId }, sessionId);
    return this.settle(sessionId, slot, outcomeOf(reply), false);
  }

  drop(sessionId: string): void {
    const slot = this.placement.get(sessionId);
    this.bundleOf.delete(sessionId);
    this.placement.delete(sessionId);
    this.recency.delete(sessionId);
    if (!slot) return;
    slot.sessions.delete(sessionId);
    slot.post({ op: "drop", sessionId });
  }

  /** Asks a worker started exactly like the sheet workers what protections hold in it. */
  async probe(): Promise<ProbeResult> {
    const slot = this.slots.find((s) => s.alive) ?? this.startWorker();
    const reply = await slot.request({ op: "probe" }, undefined);
    if ("probe" in reply) return reply.probe;
    throw new Error("The sheet worker did not answer the start-up probe.");
  }

  async close(): Promise<void> {
    this.closed = true;
    const slots = [...this.slots];
    this.slots.length = 0;
    this.placement.clear();
    this.recency.clear();
    await Promise.all(slots.map((s) => s.terminate()));
  }

  /** Called by a slot whose worker exited: its sessions are no longer anywhere. */
  forget(slot: WorkerSlot): void {
    const index = this.slots.indexOf(slot);
    if (index >= 0) this.slots.splice(index, 1);
    for (const sessionId of slot.sessions) {
      if (this.placement.get(sessionId) === slot) {
        this.placement.delete(sessionId);
        this.recency.delete(sessionId);
      }
    }
    slot.sessions.clear();
  }

  private lose(sessionId: string): EngineOutcome {
    this.placement.delete(sessionId);
    this.recency.delete(sessionId);
    return { kind: "lost" };
  }

  private touch(sessionId: string): void {
    this.recency.delete(sessionId);
    this.recency.set(sessionId, true);
  }

  private settle(sessionId: string, slot: WorkerSlot, outcome: EngineOutcome, opened: boolean): EngineOutcome {
    if (outcome.kind === "ui") {
      if (opened && slot.alive) {
        this.placement.set(sessionId, slot);
        slot.sessions.add(sessionId);
      }
      this.touch(sessionId);
    } else if (this.placement.get(sessionId) === slot || opened) {
      if (outcome.kind !== "lost") {
        slot.post({ op: "drop", sessionId });
        this.bundleOf.delete(sessionId);
      }
      this.placement.delete(sessionId);
      this.recency.delete(sessionId);
      slot.sessions.delete(sessionId);
    }
    return outcome;
  }

  /**
   * The least loaded live worker with room. A new worker starts while under the cap once every worker is half
   * full (sessions spread, so one runaway costs fewer rebuilds); at the cap with no room, the least recently
   * used realm is evicted (it is rebuilt by replay if its session comes back).
   */
  private place(sessionId: string): WorkerSlot {
    if (this.closed) throw new Error("The sandbox is shutting down.");
    this.drop(sessionId);
    const cap = this.options.sessionsPerWorker;
    let best: WorkerSlot | undefined;
    for (const slot of this.slots) if (slot.alive && slot.load < cap && (!best || slot.load < best.load)) best = slot;
    if ((!best || best.load >= cap / 2) && this.slots.length < this.options.maxWorkers) return this.startWorker();
    if (best) return best;
    const stalest = this.recency.keys().next().value;
    const slot = stalest !== undefined ? this.placement.get(stalest) : undefined;
    if (stalest === undefined || !slot) return this.startWorker();
    this.drop(stalest);
    this.log("info", `all ${this.slots.length} workers are full: evicted the realm of the least recently used session ${stalest}`);
    return slot;
  }

  private startWorker(): WorkerSlot {
    const slot = new WorkerSlot(this, this.options.workerScript, this.options, this.options.permission, this.options.isolation);
    this.slots.push(slot);
    return slot;
  }
}

function outcomeOf(reply: FromWorker): EngineOutcome {
  return "outcome" in reply
    ? reply.outcome
    : errorOutcome({ name: "SandboxError", message: "The sheet worker gave an unexpected answer." });
}

/** Where the built worker entry is: beside this bundle in dist/, or in dist/ when running from source. */
export function defaultWorkerScript(): string {
  const beside = path.join(__dirname, "sandbox-worker.js");
  if (fs.existsSync(beside)) return beside;
  return path.resolve(__dirname, "..", "..", "dist", "sandbox-worker.js");
}
