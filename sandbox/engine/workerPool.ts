// Sheet realms in a pool of resource-limited members (child processes, or worker threads). A runaway allocation
// or a loop the vm timeout cannot stop kills one member, never the sandbox: the session that caused it ends
// with an error naming the limit, and every other session that lived in that member answers `lost`, which the
// executor turns into a rebuild by replay in a fresh member. A member killed from outside (the OS, an operator)
// charges nobody: every session in it is rebuilt.
//
// The pool holds each member's queue and sends a member a few requests ahead only while the step it runs is
// young, so a request that waits behind a long step is still here and can move: its session is rebuilt by replay
// in a member that is not stuck (see `relieve`).

import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import type { RealmInit, RealmOutcome, RealmStart } from "../runtime/abi";
import { retryLost, type EngineOutcome, type QueueStats, type RealmEngine, type SheetCode } from "./realmEngine";
import { LIMITS } from "../../protocol/limits";
import type { InputLogEntry } from "../../protocol/session";
import { batchedSender, eachMessage } from "./worker/batch";
import type { FromWorker, ProbeResult, ToWorker } from "./worker/messages";
import { errorOutcome, memoryLimitOutcome, timeLimitOutcome } from "./sheetRealm";
import { memberConfinement, sheetProcessCommand, sheetWorkerOptions, type MemberConfinement } from "./worker/options";

export interface WorkerPoolOptions {
  /** The built worker entry (dist/sandbox-worker.js). */
  workerScript: string;
  stepTimeoutMs: number;
  /**
   * Memory cap of each member, MB: its V8 heap, and (child processes on Linux, where `prlimit` exists) its whole
   * data segment with typed arrays' backing stores, plus what Node itself needs. Default LIMITS.memoryLimitMb.
   */
  memoryLimitMb?: number;
  /** Most members at once. Default: the cores this process may use (os.availableParallelism). */
  maxWorkers?: number;
  /** Most live realms in one member; past that a new member starts, or (all full) the least recently used realm is evicted. Default 250. */
  sessionsPerWorker?: number;
  /**
   * How long past the step limit a silent member is given before it is terminated (with `timeEveryStep: false`
   * this watchdog is the step limit for a sheet's first runaway). Default 250 ms.
   */
  watchdogGraceMs?: number;
  /**
   * A request queued behind another session's step that has run this long moves: its session is rebuilt by
   * replay in a member with nothing running, if there is one (or one can start). Default 100 ms.
   */
  migrateAfterMs?: number;
  /** Start workers under the permission model (default true; turned off only where a start-up check found it unsupported). */
  permission?: boolean;
  /** Cap each member process's whole memory and take its network away where the OS allows (default true). */
  confine?: boolean;
  /**
   * What a pool member is. `process` (default): a child process per member, so even a fatal V8 out-of-memory
   * (a large allocation inside a microtask overshoots a worker's heap cap and aborts the whole process: see the
   * note on issue 3) takes down one member, never the sandbox. `thread`: a worker thread per member, lighter and
   * faster per step, for hosts that accept that risk (no cap on typed arrays, no network namespace).
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

interface Request {
  seq: number;
  message: ToWorker;
  sessionId: string | undefined;
  resolve: (reply: FromWorker) => void;
  /** How many steps the request runs (a restore runs many): its share of watchdog time. */
  steps: number;
  queuedAt: number;
}

type DeathCause = "memory" | "time" | "crash";

interface SlotLimits {
  memoryLimitMb: number;
  stepTimeoutMs: number;
  watchdogGraceMs: number;
  migrateAfterMs: number;
}

let nextWorkerId = 1;

/** Requests a member holds at once: the one it runs and a few sent ahead (see WorkerSlot.pump). */
const MAX_IN_FLIGHT = 16;
/** Requests are sent ahead only while the running one has run less than this. */
const SEND_AHEAD_MS = 5;

/** A pool member's channel: a worker thread or a child process, seen the same way. */
interface Transport {
  /** The member's process id (a child process), for diagnostics and benchmarks. */
  readonly pid: number | undefined;
  send(message: ToWorker): void;
  ref(): void;
  unref(): void;
  kill(): Promise<void>;
}

function memberArgs(limits: SlotLimits): string[] {
  return [`--uzc-step-timeout=${limits.stepTimeoutMs}`, `--uzc-memory-limit=${limits.memoryLimitMb}`];
}

function threadTransport(slot: WorkerSlot, script: string, limits: SlotLimits, permission: boolean): Transport {
  const worker = new Worker(script, {
    ...sheetWorkerOptions(script, { memoryLimitMb: limits.memoryLimitMb }, permission),
    argv: memberArgs(limits),
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
  limits: SlotLimits,
  permission: boolean,
  confine: MemberConfinement,
): Transport {
  const command = sheetProcessCommand(script, memberArgs(limits), { memoryLimitMb: limits.memoryLimitMb }, permission, confine);
  const child: ChildProcess = spawn(command.file, command.args, command.options);
  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    if (stderr.length < 64_000) stderr += chunk;
  });
  child.on("message", (replies: FromWorker | FromWorker[]) => eachMessage(replies, (reply) => slot.onReply(reply)));
  child.on("error", () => slot.noteCause("crash"));
  child.on("exit", () => {
    // V8's heap cap and the OS data limit both end in a fatal out-of-memory report.
    if (/heap out of memory|Reached heap limit|allocation failed|out of memory/i.test(stderr)) slot.noteCause("memory");
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
    send: batchedSender<ToWorker>((messages) => {
      if (child.connected) child.send(messages);
    }),
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
  /** Bundles (by hash) whose code this member has been sent: later opens send the hash alone. */
  readonly knownCode = new Set<string>();
  /** Requests not yet sent, oldest first: these can still move to another member. */
  private readonly queue: Request[] = [];
  /** Requests sent, oldest first: the oldest unanswered one is the one timed as running. */
  private readonly inFlight: Request[] = [];
  /** When the member started the request it is running (the previous answer came, or it was sent to an idle member). */
  private headStartedAt = 0;
  private seq = 0;
  private watchdog: NodeJS.Timeout | undefined;
  private slowTimer: NodeJS.Timeout | undefined;
  private dead = false;
  private cause: DeathCause | undefined;
  /**
   * The member's memory (heap used + external, bytes) after its last answer, and each session's estimated share
   * of it: what the member grew by during that session's requests. A fall (garbage collected) shrinks every
   * share in proportion. Used to charge a memory death to the session that held the memory.
   */
  private memory = 0;
  private readonly held = new Map<string, number>();

  constructor(
    private readonly pool: WorkerPoolEngine,
    workerScript: string,
    private readonly limits: SlotLimits,
    permission: boolean,
    isolation: "process" | "thread",
    confine: MemberConfinement,
  ) {
    this.transport =
      isolation === "process"
        ? processTransport(this, workerScript, limits, permission, confine)
        : threadTransport(this, workerScript, limits, permission);
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

  /** A step in flight or waiting: a session placed here now waits its turn behind it. */
  get busy(): boolean {
    return this.inFlight.length > 0 || this.queue.length > 0;
  }

  /** Running another session's step that has taken longer than a request should wait. */
  blockedFor(sessionId: string | undefined, now = performance.now()): boolean {
    const head = this.inFlight[0];
    return !!head && head.sessionId !== sessionId && now - this.headStartedAt >= this.limits.migrateAfterMs;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Queues a request; `steps` scales the watchdog for a restore that runs many steps in one request. */
  request(message: DistributiveOmit<ToWorker, "seq">, sessionId: string | undefined, steps = 1): Promise<FromWorker> {
    const seq = ++this.seq;
    return new Promise((resolve) => {
      if (this.dead) {
        resolve(lostReply(seq));
        return;
      }
      this.queue.push({
        seq,
        message: { ...message, seq } as ToWorker,
        sessionId,
        resolve,
        steps: Math.max(1, steps),
        queuedAt: performance.now(),
      });
      this.pump();
    });
  }

  post(message: ToWorker): void {
    if (!this.dead) this.transport.send(message);
  }

  /** The session's realm is no longer in this member (finished, dropped or moved). */
  release(sessionId: string): void {
    this.sessions.delete(sessionId);
    this.held.delete(sessionId);
  }

  /** Removes a session from this member: its realm is dropped here, and its waiting requests answer `lost`. */
  evict(sessionId: string): void {
    this.release(sessionId);
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const request = this.queue[i]!;
      if (request.sessionId !== sessionId) continue;
      this.queue.splice(i, 1);
      request.resolve(lostReply(request.seq));
    }
    this.post({ op: "drop", sessionId });
  }

  /** Sessions with requests waiting behind a long step of another session. */
  waitingSessions(): string[] {
    const head = this.inFlight[0]?.sessionId;
    return [...new Set(this.queue.map((r) => r.sessionId).filter((id): id is string => id !== undefined && id !== head))];
  }

  async terminate(): Promise<void> {
    this.cause ??= "crash";
    await this.transport.kill();
  }

  /**
   * Sends what may go now. A few requests are sent ahead of the answer to the one running (the member then goes
   * from one to the next without waiting for this process: on a busy core that is a context switch saved per
   * request), but only while the running step is young: behind a step that has run SEND_AHEAD_MS, requests
   * stay here, where a long step cannot hold them (they move, see `relieve`).
   */
  private pump(): void {
    if (this.dead) return;
    const now = performance.now();
    while (this.queue.length > 0 && this.inFlight.length < MAX_IN_FLIGHT) {
      if (this.inFlight.length > 0 && now - this.headStartedAt >= SEND_AHEAD_MS) break;
      const request = this.queue.shift()!;
      this.pool.noteQueueWait(now - request.queuedAt);
      this.inFlight.push(request);
      if (this.inFlight.length === 1) this.startHead(now);
      this.transport.ref();
      this.transport.send(request.message);
    }
    if (this.inFlight.length === 0) this.transport.unref(); // an idle member must not keep the process alive
  }

  /** Times the request the member runs now: its step limit (the watchdog), and when others behind it should move. */
  private startHead(now: number): void {
    const head = this.inFlight[0]!;
    this.headStartedAt = now;
    clearTimeout(this.watchdog);
    clearTimeout(this.slowTimer);
    this.watchdog = setTimeout(() => this.onWatchdog(head.seq), this.limits.stepTimeoutMs * head.steps + this.limits.watchdogGraceMs);
    this.watchdog.unref();
    this.slowTimer = setTimeout(() => this.pool.relieve(this), this.limits.migrateAfterMs);
    this.slowTimer.unref();
  }

  /** The running request is done (answered, or its member died): the next one in flight, if any, runs now. */
  private finishRunning(): Request | undefined {
    const request = this.inFlight.shift();
    clearTimeout(this.watchdog);
    clearTimeout(this.slowTimer);
    if (this.inFlight.length > 0 && !this.dead) this.startHead(performance.now());
    return request;
  }

  onReply(reply: FromWorker): void {
    // Matched by seq: a member may answer out of order (an operation that awaits lets the next message in), and
    // the oldest unanswered request is the one timed.
    const index = this.inFlight.findIndex((r) => r.seq === reply.seq);
    if (index < 0) return;
    const request = index === 0 ? this.finishRunning()! : this.inFlight.splice(index, 1)[0]!;
    let answer = reply;
    if ("outcome" in reply && reply.memory !== undefined) {
      const grown = reply.memory - this.memory;
      this.memory = reply.memory;
      if (reply.outcome.kind === "error" && reply.outcome.error.limit === "memory" && request.sessionId !== undefined) {
        answer = { ...reply, outcome: this.chargeMemory(request.sessionId, grown, reply.outcome) };
      }
      this.account(request.sessionId, grown);
    }
    request.resolve(answer);
    this.pump();
  }

  /** Adds what the member grew by during a request to its session's share; a fall shrinks every share in proportion. */
  private account(sessionId: string | undefined, grown: number): void {
    if (grown >= 0) {
      if (sessionId !== undefined) this.held.set(sessionId, (this.held.get(sessionId) ?? 0) + grown);
      return;
    }
    let total = 0;
    for (const share of this.held.values()) total += share;
    if (total <= 0) return;
    const keep = Math.max(0, (total + grown) / total);
    for (const [id, share] of this.held) this.held.set(id, share * keep);
  }

  /**
   * The member ran out of memory during `head`'s request, which had grown it by `grown` bytes. The session with
   * the largest share (counting the head's growth) is charged; if that is not the head, the head's realm was
   * interrupted mid-step through no fault of its own and answers `lost` (it is rebuilt and tried again).
   */
  private chargeMemory(head: string, grown: number, outcome: RealmOutcome): EngineOutcome {
    let culprit = head;
    let largest = (this.held.get(head) ?? 0) + Math.max(0, grown);
    for (const [id, share] of this.held) {
      if (id !== head && share > largest) {
        culprit = id;
        largest = share;
      }
    }
    if (culprit === head) return outcome;
    this.pool.charge(culprit, memoryLimitOutcome(this.limits.memoryLimitMb, "held"));
    this.pool.log("warn", `member ${this.id}: out of memory during ${head}'s step; charged to ${culprit}, which held the most`);
    this.evict(culprit);
    this.evict(head);
    return { kind: "lost" };
  }

  /** The vm timeout should have ended the step already; a member still silent past it is stopped from outside. */
  private onWatchdog(seq: number): void {
    if (this.inFlight[0]?.seq !== seq || this.dead) return;
    this.cause ??= "time";
    this.pool.log("warn", `member ${this.id}: no answer ${this.limits.watchdogGraceMs} ms past the step limit; terminating it`);
    void this.transport.kill();
  }

  onExit(): void {
    if (this.dead) return;
    this.dead = true;
    const cause = this.cause ?? "crash";
    const head = this.finishRunning();
    const headSession = head?.sessionId;
    if (head) {
      // Only the request the member was running can have caused its death, and only a limit is the sheet's
      // doing: a member killed from outside charges nobody.
      let outcome: EngineOutcome = { kind: "lost", running: true };
      if (headSession !== undefined && cause === "time") {
        this.pool.noteRunaway(headSession);
        outcome = timeLimitOutcome(this.limits.stepTimeoutMs);
      } else if (headSession !== undefined && cause === "memory") {
        const grown = this.limits.memoryLimitMb * 1_048_576 - this.memory;
        outcome = this.chargeMemory(headSession, grown, memoryLimitOutcome(this.limits.memoryLimitMb, "step"));
      }
      head.resolve({ seq: head.seq, outcome });
    }
    // Sent but not started, or never sent: waiting their turn, they caused nothing.
    for (const request of [...this.inFlight.splice(0), ...this.queue.splice(0)]) request.resolve(lostReply(request.seq));
    if (cause !== "crash" || this.sessions.size > 0) {
      this.pool.log(
        "warn",
        `member ${this.id} stopped (${cause === "memory" ? "memory limit" : cause === "time" ? "watchdog" : "exited"}); ${this.sessions.size} session(s) in it will be rebuilt on demand`,
      );
    }
    this.pool.forget(this);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function lostReply(seq: number): FromWorker {
  return { seq, outcome: { kind: "lost" } };
}

export class WorkerPoolEngine implements RealmEngine {
  private readonly slots: WorkerSlot[] = [];
  private readonly placement = new Map<string, WorkerSlot>();
  /** Live realms, least recently used first, for eviction when every member is full. */
  private readonly recency = new Map<string, true>();
  private readonly options: Required<Omit<WorkerPoolOptions, "log">> & Pick<WorkerPoolOptions, "log">;
  private readonly confinement: MemberConfinement;
  /** Bundles that once ran past the step limit: their steps run under vm's timeout from then on. */
  private readonly runawayBundles = new Set<string>();
  /** Tenants one of whose sheets ran past the step limit: all their steps are timed from then on. */
  private readonly runawayTenants = new Set<string>();
  private readonly bundleOf = new Map<string, SheetCode>();
  /** Sessions charged with a member's death while not running: their next request answers this instead of a rebuild. */
  private readonly charged = new Map<string, RealmOutcome>();
  private readonly waits: QueueStats = { requests: 0, waitSeconds: 0, moved: 0 };
  private closed = false;

  constructor(options: WorkerPoolOptions) {
    if (!fs.existsSync(options.workerScript)) throw new Error(`Sheet worker script not found: ${options.workerScript} (run the build)`);
    this.options = {
      memoryLimitMb: LIMITS.memoryLimitMb.default,
      maxWorkers: os.availableParallelism(),
      sessionsPerWorker: 250,
      watchdogGraceMs: 250,
      migrateAfterMs: 100,
      permission: true,
      confine: true,
      isolation: "process",
      timeEveryStep: true,
      ...options,
    };
    this.confinement =
      this.options.confine && this.options.isolation === "process" ? memberConfinement() : { dataLimit: false, network: undefined };
  }

  get liveRealms(): number {
    return this.placement.size;
  }

  get workers(): number {
    return this.slots.length;
  }

  /** What the OS adds around each member (see worker/options.ts). */
  get memberConfinement(): MemberConfinement {
    return this.confinement;
  }

  /** Process ids of the members that are child processes. */
  get memberPids(): number[] {
    return this.slots.map((s) => s.pid).filter((pid): pid is number => pid !== undefined);
  }

  queueStats(): QueueStats & { waiting: number } {
    let waiting = 0;
    for (const slot of this.slots) waiting += slot.queued;
    return { ...this.waits, waiting };
  }

  log(level: "info" | "warn", message: string): void {
    this.options.log?.(level, message);
  }

  noteQueueWait(ms: number): void {
    this.waits.requests++;
    this.waits.waitSeconds += ms / 1000;
  }

  /** A member died of the watchdog while running this session's step: time its sheet from now on. */
  noteRunaway(sessionId: string): void {
    const sheet = this.bundleOf.get(sessionId);
    if (sheet === undefined) return;
    this.runawayBundles.add(sheet.hash);
    if (sheet.tenant !== undefined) this.runawayTenants.add(sheet.tenant);
  }

  /** Ends a session that is not running now with `outcome` the next time it is asked for. */
  charge(sessionId: string, outcome: RealmOutcome): void {
    this.charged.set(sessionId, outcome);
    this.unplace(sessionId);
  }

  /**
   * A member's step has run past `migrateAfterMs`: the sessions waiting behind it move to members not stuck in a
   * long step (their realms are rebuilt there by replay), while there is such a member or room to start one.
   */
  relieve(slot: WorkerSlot): void {
    if (this.closed || !slot.alive) return;
    for (const sessionId of slot.waitingSessions()) {
      if (!this.hasFreeMemberBesides(slot, sessionId)) return;
      this.move(sessionId, slot);
    }
  }

  /** Takes a session out of a member that is stuck: its next request rebuilds it by replay wherever `place` puts it. */
  private move(sessionId: string, slot: WorkerSlot): void {
    this.waits.moved++;
    this.unplace(sessionId);
    slot.evict(sessionId);
  }

  /** Another member, or room for one, that is not itself stuck in a long step. */
  private hasFreeMemberBesides(slot: WorkerSlot, sessionId: string): boolean {
    if (this.slots.length < this.options.maxWorkers) return true;
    const now = performance.now();
    return this.slots.some((s) => s !== slot && s.alive && !s.blockedFor(sessionId, now) && s.load < this.options.sessionsPerWorker);
  }

  private withTiming(sessionId: string, sheet: SheetCode): SheetCode {
    this.bundleOf.set(sessionId, sheet);
    const known = this.runawayBundles.has(sheet.hash) || (sheet.tenant !== undefined && this.runawayTenants.has(sheet.tenant));
    return this.options.timeEveryStep || known ? { ...sheet, timed: true } : sheet;
  }

  async open(sessionId: string, sheet: SheetCode, init: RealmInit, start: RealmStart): Promise<RealmOutcome> {
    // A member that dies while this open waits its turn (or runs it, killed from outside) answers `lost`: start it again in another.
    const outcome = await retryLost(async () => {
      const slot = this.place(sessionId);
      const reply = await this.withCode(slot, this.withTiming(sessionId, sheet), (code) =>
        slot.request({ op: "open", sessionId, sheet: code, init, start }, sessionId),
      );
      return this.settle(sessionId, slot, outcomeOf(reply), true);
    });
    if (outcome.kind !== "lost") return outcome;
    return errorOutcome({
      name: "SandboxError",
      message: "The sandbox could not start a member for this sheet: each one it started stopped.",
    });
  }

  async restore(
    sessionId: string,
    sheet: SheetCode,
    init: RealmInit,
    start: RealmStart,
    inputLog: readonly InputLogEntry[],
  ): Promise<EngineOutcome> {
    const charged = this.charged.get(sessionId);
    if (charged) {
      this.charged.delete(sessionId);
      this.bundleOf.delete(sessionId);
      return charged;
    }
    const slot = this.place(sessionId);
    const reply = await this.withCode(slot, this.withTiming(sessionId, sheet), (code) =>
      slot.request({ op: "restore", sessionId, sheet: code, init, start, inputLog: [...inputLog] }, sessionId, inputLog.length + 1),
    );
    return this.settle(sessionId, slot, outcomeOf(reply), true);
  }

  /**
   * Sends a sheet to a member by its hash alone when the member has had its code before (a bundle with rendering
   * is ~130 KB, every session would send it again); a member that has let it go answers `needCode`, and gets it.
   */
  private async withCode(slot: WorkerSlot, sheet: SheetCode, send: (sheet: SheetCode) => Promise<FromWorker>): Promise<FromWorker> {
    if (slot.knownCode.has(sheet.hash)) {
      const reply = await send({ ...sheet, code: "" });
      if (!("needCode" in reply)) return reply;
      slot.knownCode.delete(sheet.hash);
    }
    const reply = await send(sheet);
    if ("outcome" in reply && reply.outcome.kind !== "lost") slot.knownCode.add(sheet.hash);
    return reply;
  }

  async resume(sessionId: string, values: unknown): Promise<EngineOutcome> {
    const slot = this.placement.get(sessionId);
    if (!slot?.alive || this.moveIfBlocked(sessionId, slot)) return this.lose(sessionId);
    this.touch(sessionId);
    const reply = await slot.request({ op: "resume", sessionId, values }, sessionId);
    return this.settle(sessionId, slot, outcomeOf(reply), false);
  }

  async cancel(sessionId: string): Promise<EngineOutcome> {
    const slot = this.placement.get(sessionId);
    if (!slot?.alive || this.moveIfBlocked(sessionId, slot)) return this.lose(sessionId);
    const reply = await slot.request({ op: "cancel", sessionId }, sessionId);
    return this.settle(sessionId, slot, outcomeOf(reply), false);
  }

  /** A request that would wait behind another session's long step moves instead, if a member is free. */
  private moveIfBlocked(sessionId: string, slot: WorkerSlot): boolean {
    if (!slot.blockedFor(sessionId) || !this.hasFreeMemberBesides(slot, sessionId)) return false;
    this.move(sessionId, slot);
    return true;
  }

  drop(sessionId: string): void {
    const slot = this.placement.get(sessionId);
    this.bundleOf.delete(sessionId);
    this.charged.delete(sessionId);
    this.unplace(sessionId);
    if (!slot) return;
    slot.release(sessionId);
    slot.post({ op: "drop", sessionId });
  }

  /**
   * Sends the bundle to every member running now, to compile ahead of its first open there; that open then sends
   * its hash alone. A member that has let it go by then answers `needCode` as usual (withCode).
   */
  preload(sheet: SheetCode): void {
    for (const slot of this.slots) {
      if (!slot.alive || slot.knownCode.has(sheet.hash)) continue;
      slot.post({ op: "load", sheet });
      slot.knownCode.add(sheet.hash);
    }
  }

  /** Asks a member started exactly like the sheet members what protections hold in it. */
  async probe(connectPort?: number): Promise<ProbeResult> {
    const slot = this.slots.find((s) => s.alive) ?? this.startWorker();
    const reply = await slot.request({ op: "probe", ...(connectPort !== undefined ? { connectPort } : {}) }, undefined);
    if ("probe" in reply) return reply.probe;
    throw new Error("The sheet member did not answer the start-up probe.");
  }

  async close(): Promise<void> {
    this.closed = true;
    const slots = [...this.slots];
    this.slots.length = 0;
    this.placement.clear();
    this.recency.clear();
    await Promise.all(slots.map((s) => s.terminate()));
  }

  /** Called by a slot whose member exited: its sessions are no longer anywhere. */
  forget(slot: WorkerSlot): void {
    const index = this.slots.indexOf(slot);
    if (index >= 0) this.slots.splice(index, 1);
    for (const sessionId of slot.sessions) if (this.placement.get(sessionId) === slot) this.unplace(sessionId);
    slot.sessions.clear();
  }

  private lose(sessionId: string): EngineOutcome {
    this.unplace(sessionId);
    return { kind: "lost" };
  }

  /** The session's realm is in no member as far as placement and eviction order know. */
  private unplace(sessionId: string): void {
    this.placement.delete(sessionId);
    this.recency.delete(sessionId);
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
      this.unplace(sessionId);
      slot.release(sessionId);
    }
    return outcome;
  }

  /**
   * A member for a session: a live one with room, preferring one not stuck in another session's long step, then
   * the least loaded, then one with nothing to do. Under the cap, a new member starts unless some member holds no
   * session and is idle, so sessions spread over as many members (cores) as the cap allows: sessions opened at
   * once, or opened one by one and then stepped at once, do not queue behind each other in the first member, and
   * one runaway costs fewer rebuilds. A member also starts when every member is stuck. At the cap with no room,
   * the least recently used realm is evicted (it is rebuilt by replay if its session comes back).
   */
  private place(sessionId: string): WorkerSlot {
    if (this.closed) throw new Error("The sandbox is shutting down.");
    this.drop(sessionId);
    const cap = this.options.sessionsPerWorker;
    const now = performance.now();
    let best: WorkerSlot | undefined;
    let bestRank = Infinity;
    for (const slot of this.slots) {
      if (!slot.alive || slot.load >= cap) continue;
      // Lower is better: stuck outranks load, load outranks busy.
      const rank = (slot.blockedFor(sessionId, now) ? 4 * cap : 0) + 2 * slot.load + (slot.busy ? 1 : 0);
      if (rank < bestRank) {
        best = slot;
        bestRank = rank;
      }
    }
    const roomToStart = this.slots.length < this.options.maxWorkers;
    if (roomToStart && (!best || bestRank > 0)) return this.startWorker();
    if (best) return best;
    const stalest = this.recency.keys().next().value;
    const slot = stalest !== undefined ? this.placement.get(stalest) : undefined;
    if (stalest === undefined || !slot) return this.startWorker();
    this.drop(stalest);
    this.log("info", `all ${this.slots.length} members are full: evicted the realm of the least recently used session ${stalest}`);
    return slot;
  }

  private startWorker(): WorkerSlot {
    const limits: SlotLimits = this.options;
    const slot = new WorkerSlot(this, this.options.workerScript, limits, this.options.permission, this.options.isolation, this.confinement);
    this.slots.push(slot);
    return slot;
  }
}

function outcomeOf(reply: FromWorker): EngineOutcome {
  return "outcome" in reply
    ? reply.outcome
    : errorOutcome({ name: "SandboxError", message: "The sheet member gave an unexpected answer." });
}

/** Where the built worker entry is: beside this bundle in dist/, or in dist/ when running from source. */
export function defaultWorkerScript(): string {
  const beside = path.join(__dirname, "sandbox-worker.js");
  if (fs.existsSync(beside)) return beside;
  return path.resolve(__dirname, "..", "..", "dist", "sandbox-worker.js");
}
