// A SandboxClient over a child process on this machine: the bundled dist/sandbox.js, forked over IPC with
// `serialization: "advanced"` (structured clone: about 3× faster than JSON for a 200 KB report). It is started
// with `process.execPath` and ELECTRON_RUN_AS_NODE=1, so inside desktop VS Code it runs on VS Code's own
// Electron as plain Node and needs no Node on the system. Sheets are bundled in the child's trusted main
// thread; they run in its resource-limited pool members. Nothing here imports node:vm.
//
// A child that dies fails every request in flight at once (never a hang) and is forked again on the next call.
// The sessions that waited for input in it are brought back on their next use: the child sends each waiting
// session's record (protocol/session.ts) with its answers, the client folds what the session said into a
// transcript, and the new child replays the record under the same session id, expected to wait at the same
// window with a byte-identical report. Anything else is answered with an error that says the session was lost
// with the sandbox restart and the sheet must be run again.

import { fork, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ANSWER_GRACE_MS, LIMITS } from "../../protocol/limits";
import { SANDBOX_RPC, type AnswerOf, type MethodName, type PublicMethod, type RequestOf } from "../../protocol/methods";
import { Refusal, REFUSAL_STATUS } from "../../protocol/refusal";
import type { ExecutionResponse, SessionStatus, StudyRequest, StudyResponse } from "../../protocol/rpc";
import type { SessionRecord } from "../../protocol/session";
import { asIpcReply, childArgs, type IpcFailure, type IpcSuccessOf } from "./childProtocol";
import { RunTranscript, type WaitingAt } from "./runTranscript";
import { RpcClient, SandboxUnavailableError, withClientDefaults } from "./sandboxClient";

export interface LocalSandboxOptions {
  /** The built child entry. Default: dist/sandbox.js beside the running bundle. */
  sandboxScript?: string;
  /** Folders `file_path` sheets may come from (the workspace folders). */
  safeDirs: string[];
  /** Time limit of one step, ms. Default the executor's (10 s). */
  stepTimeoutMs?: number;
  /** Heap cap of each sheet process, MB. Default LIMITS.memoryLimitMb. */
  memoryLimitMb?: number;
  /**
   * A hang guard: a request the child has not answered in this long fails with a timeout and the child is
   * restarted. Default stepTimeoutMs + 30 s.
   */
  requestTimeoutMs?: number;
  /** Lines the child writes to stderr (warnings), and the client's own notes on restarts. */
  log?: (line: string) => void;
  /** Sessions the child runs at once (default 1 000). */
  maxSessions?: number;
  /** The child's sheet members: worker threads (default; the client restarts a child that dies) or processes. */
  isolation?: "process" | "thread";
}

/** dist/sandbox.js beside the running bundle (dist/extension.js, dist/cli.js), or the repository's dist/ from source. */
export function defaultSandboxScript(): string {
  const beside = path.join(__dirname, "sandbox.js");
  if (fs.existsSync(beside)) return beside;
  return path.resolve(__dirname, "..", "..", "dist", "sandbox.js");
}

const RESTART_HINT = "Run the sheet again; the local sandbox was restarted.";
/** Finished sessions remembered (only their id and status), so a lookup after a restart can say what happened. */
const MAX_FINISHED = 1_000;

interface Pending {
  method: MethodName;
  resolve: (reply: IpcSuccessOf<MethodName>) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

interface Child {
  process: ChildProcess;
  generation: number;
  pending: Map<number, Pending>;
  stderrTail: string[];
  dead: boolean;
  /** dispose() is closing it gracefully. */
  stopping?: boolean;
}

/** What the client keeps of a session to bring it back in a new child. */
interface TrackedSession {
  /** The child generation the session lives in. */
  generation: number;
  status: SessionStatus;
  lastActivity: number;
  /** While the session waits for input: its record, from the child, for the replay. */
  record?: SessionRecord;
  /** While the session waits for input: what it said so far, which the replay must say again. */
  transcript?: RunTranscript;
  /** Why it cannot come back, once that is known. */
  lost?: string;
  restoring?: Promise<void>;
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal) return `killed by ${signal}`;
  if (code !== null) return `exit code ${code}`;
  return "its channel closed";
}

export class LocalSandboxClient extends RpcClient {
  private readonly script: string;
  private readonly stepTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private readonly log: (line: string) => void;
  private child: Child | undefined;
  private generation = 0;
  private seq = 0;
  private disposed = false;
  private readonly sessions = new Map<string, TrackedSession>();

  constructor(private readonly options: LocalSandboxOptions) {
    super();
    this.script = options.sandboxScript ?? defaultSandboxScript();
    this.stepTimeoutMs = options.stepTimeoutMs ?? LIMITS.stepTimeoutMs.default;
    this.requestTimeoutMs = options.requestTimeoutMs ?? this.stepTimeoutMs + ANSWER_GRACE_MS;
    this.log = options.log ?? (() => undefined);
  }

  /** The running child's process id (diagnostics and tests); undefined when none runs. */
  get pid(): number | undefined {
    return this.child && !this.child.dead ? this.child.process.pid : undefined;
  }

  /** How many children have been started (1 after the first call; more after restarts). */
  get starts(): number {
    return this.generation;
  }

  /**
   * Sends a request to the child, bringing back first the sessions it is about (all of them, for the session
   * list) if they lived in a child that died. Steps that name no `html_mode` ask for deltas.
   */
  override async call<M extends PublicMethod>(method: M, request: RequestOf<M>): Promise<AnswerOf<M>> {
    this.prune();
    if (method === "listSessions") for (const id of [...this.sessions.keys()]) await this.live(id).catch(() => undefined);
    const sessionId = (request as { session_id?: unknown }).session_id;
    if (method !== "execute" && typeof sessionId === "string") await this.live(sessionId);
    const { reply, generation } = await this.send(method, withClientDefaults(method, request));
    if (SANDBOX_RPC[method].step) this.track(method === "execute", reply.answer as ExecutionResponse, reply, generation);
    else if (method === "cancel" && typeof sessionId === "string") this.finish(this.sessions.get(sessionId), "cancelled");
    return reply.answer as AnswerOf<M>;
  }

  /**
   * Bundles the sheet at `filePath` in the child (starting it if needed), so that its first run waits for neither
   * (the editor asks when a sheet is opened or saved). False when it could not be, which the run will explain.
   */
  async prepare(filePath: string): Promise<boolean> {
    try {
      const { reply } = await this.send("prepare", { file_path: filePath });
      return reply.answer.status === "ok";
    } catch {
      return false;
    }
  }

  /**
   * Runs a study in the child (the editor's Run Study): each case one request there, the study's files written in
   * the workspace. Its time bound grows with the cases, each of which may take a whole step.
   */
  async study(request: StudyRequest, cases: number): Promise<StudyResponse> {
    const { reply } = await this.send("study", request, this.requestTimeoutMs + this.stepTimeoutMs * Math.max(1, cases));
    return reply.answer;
  }

  /** A waiting session's record (a copy), to keep it beyond this client (a window reload); undefined if none. */
  recordOf(sessionId: string): SessionRecord | undefined {
    const record = this.sessions.get(sessionId)?.record;
    return record ? structuredClone(record) : undefined;
  }

  /**
   * Takes on a session another client (before a window reload) left waiting at `window` with `report`: its next
   * use replays `record` in this client's child under the same id, checked to wait there with that report, as
   * after a child restart. A sheet that changed since makes it answer that the session was lost.
   */
  adopt(sessionId: string, record: SessionRecord, waiting: WaitingAt): void {
    const transcript = new RunTranscript();
    transcript.resumeWaiting(sessionId, waiting);
    // Generation 0 is no child's: the first call for it replays it.
    this.sessions.set(sessionId, {
      generation: 0,
      status: "waiting_ui",
      lastActivity: Date.now(),
      record: structuredClone(record),
      transcript,
    });
  }

  /** Stops the child (it closes its pool members) and fails whatever was in flight. */
  override async dispose(): Promise<void> {
    this.disposed = true;
    const child = this.child;
    this.child = undefined;
    this.sessions.clear();
    if (!child) return;
    this.failPending(
      child,
      () => new SandboxUnavailableError("The local sandbox was shut down before it answered.", "Run the sheet again.", "unreachable"),
    );
    await this.stopChild(child);
  }

  // ---- sessions ------------------------------------------------------------------------------------------

  /** Folds an answer into what the client keeps of its session: a new session for `execute`. */
  private track(
    started: boolean,
    response: ExecutionResponse,
    reply: Pick<IpcSuccessOf<MethodName>, "record" | "logged">,
    generation: number,
  ): void {
    let tracked = started ? undefined : this.sessions.get(response.session_id);
    if (!tracked) {
      tracked = { generation, status: response.status, lastActivity: Date.now(), transcript: new RunTranscript() };
      this.sessions.set(response.session_id, tracked);
    }
    tracked.generation = generation;
    if (response.status !== "waiting_ui") return this.finish(tracked, response.status);
    tracked.status = response.status;
    tracked.lastActivity = Date.now();
    if (reply.record) tracked.record = reply.record;
    else if (reply.logged) tracked.record?.input_log.splice(reply.logged.from, Infinity, ...reply.logged.entries);
    tracked.transcript?.absorb(response);
  }

  private finish(tracked: TrackedSession | undefined, status: SessionStatus): void {
    if (!tracked) return;
    tracked.status = status;
    delete tracked.record;
    delete tracked.transcript;
    tracked.lastActivity = Date.now();
  }

  /** Forgets sessions the child's TTL has ended, and all but the last MAX_FINISHED finished ones. */
  private prune(): void {
    const now = Date.now();
    let finished = 0;
    for (const [id, tracked] of [...this.sessions.entries()].reverse()) {
      if (tracked.lastActivity < now - LIMITS.sessionTtlMs.default) this.sessions.delete(id);
      else if (!tracked.record && ++finished > MAX_FINISHED) this.sessions.delete(id);
    }
  }

  private lostError(sessionId: string, reason: string): Refusal {
    return new Refusal(
      "not_found",
      `Session '${sessionId}' was lost when the local sandbox stopped and restarted (${reason}). Run the sheet again to start a new session.`,
    );
  }

  /**
   * Makes sure a session this client started lives in the running child: a session of a dead child is replayed,
   * or answered with the error that it was lost. Sessions this client does not know are left to the child.
   */
  private async live(sessionId: string): Promise<TrackedSession | undefined> {
    const tracked = this.sessions.get(sessionId);
    if (!tracked) return undefined;
    if (tracked.lost) throw this.lostError(sessionId, tracked.lost);
    const child = this.ensureChild();
    if (tracked.generation === child.generation) return tracked;
    if (!tracked.record || !tracked.transcript?.window) {
      tracked.lost =
        tracked.status === "waiting_ui" ? "it cannot be replayed" : `it had already ended (${tracked.status}) and its result is gone`;
      throw this.lostError(sessionId, tracked.lost);
    }
    tracked.restoring ??= this.restore(sessionId, tracked, tracked.record, tracked.transcript).finally(() => {
      tracked.restoring = undefined;
    });
    await tracked.restoring;
    return tracked;
  }

  /** Replays the session in the running child; the child refuses (and keeps nothing) unless it is the same run. */
  private async restore(sessionId: string, tracked: TrackedSession, record: SessionRecord, transcript: RunTranscript): Promise<void> {
    const started = Date.now();
    const steps = record.input_log.length;
    let outcome: { reply: IpcSuccessOf<"replay">; generation: number };
    try {
      const expect = { window: transcript.window!.id, report: transcript.report };
      outcome = await this.send("replay", { session_id: sessionId, record, expect }, this.requestTimeoutMs + this.stepTimeoutMs * steps);
    } catch (error) {
      if (error instanceof Refusal) {
        tracked.lost = error.message;
        delete tracked.record;
        delete tracked.transcript;
        this.log(`could not restore session ${sessionId}: ${error.message}`);
        throw this.lostError(sessionId, error.message);
      }
      throw error; // the new child died or hung too: the session stays restorable for the next call
    }
    tracked.generation = outcome.generation;
    this.log(
      `restored session ${sessionId} in the new local sandbox by replaying ${steps} input${steps === 1 ? "" : "s"} (${Date.now() - started} ms)`,
    );
  }

  // ---- the child ----------------------------------------------------------------------------------------

  private ensureChild(): Child {
    if (this.disposed)
      throw new SandboxUnavailableError("The local sandbox was shut down.", "Reload the window to start it again.", "unreachable");
    if (this.child && !this.child.dead) return this.child;
    const generation = ++this.generation;
    const args = childArgs({
      safeDirs: this.options.safeDirs,
      ...(this.options.stepTimeoutMs !== undefined ? { stepTimeoutMs: this.options.stepTimeoutMs } : {}),
      ...(this.options.memoryLimitMb !== undefined ? { memoryLimitMb: this.options.memoryLimitMb } : {}),
      ...(this.options.maxSessions !== undefined ? { maxSessions: this.options.maxSessions } : {}),
      ...(this.options.isolation !== undefined ? { isolation: this.options.isolation } : {}),
    });
    const proc = fork(this.script, args, {
      execPath: process.execPath,
      // Not the host's flags (an extension host being debugged has --inspect-port: the child would clash with it).
      execArgv: [],
      serialization: "advanced",
      env: { ...process.env, ELECTRON_RUN_AS_NODE: "1" },
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    const child: Child = { process: proc, generation, pending: new Map(), stderrTail: [], dead: false };
    this.child = child;
    if (generation > 1) this.log(`local sandbox restarted (start ${generation})`);

    let partial = "";
    proc.stderr?.setEncoding("utf8");
    proc.stderr?.on("data", (chunk: string) => {
      const lines = (partial + chunk).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) this.noteStderr(child, line);
    });
    proc.stderr?.on("end", () => {
      if (partial !== "") this.noteStderr(child, partial);
      partial = "";
    });
    proc.on("message", (message: unknown) => this.onMessage(child, message));
    proc.on("error", (error: Error) => {
      this.log(`local sandbox process error: ${error.message}`);
      this.onDeath(child, `it could not be started or reached: ${error.message}`);
    });
    proc.on("disconnect", () => {
      if (child.dead || child.stopping) return;
      // Its exit (with the signal or code that says why) normally follows at once. A child that lives on without
      // its channel is of no use: it is killed and counted dead.
      setTimeout(() => {
        if (child.dead) return;
        proc.kill("SIGKILL");
        this.onDeath(child, "its channel closed");
      }, 250).unref();
    });
    proc.on("exit", (code, signal) => this.onDeath(child, describeExit(code, signal)));
    this.setRef(child, false);
    return child;
  }

  private noteStderr(child: Child, line: string): void {
    if (line.trim() === "") return;
    child.stderrTail.push(line);
    if (child.stderrTail.length > 20) child.stderrTail.shift();
    this.log(line);
  }

  /** The child keeps this process alive only while a request waits for it. */
  private setRef(child: Child, on: boolean): void {
    const proc = child.process;
    const channel = proc.channel as { ref?: () => void; unref?: () => void } | undefined | null;
    const stderr = proc.stderr as unknown as { ref?: () => void; unref?: () => void } | null;
    if (on) {
      proc.ref();
      channel?.ref?.();
      stderr?.ref?.();
    } else {
      proc.unref();
      channel?.unref?.();
      stderr?.unref?.();
    }
  }

  private onDeath(child: Child, how: string): void {
    if (child.dead) return;
    child.dead = true;
    if (this.child === child) this.child = undefined;
    if (this.disposed) return;
    const lastLine = child.stderrTail.filter((l) => !/^\s+at /.test(l)).at(-1);
    this.log(`local sandbox stopped (${how})${child.pending.size > 0 ? `; failing ${child.pending.size} request(s) in flight` : ""}`);
    this.failPending(
      child,
      () =>
        new SandboxUnavailableError(
          `The local sandbox stopped (${how}) before it answered.${lastLine ? ` Its last words: ${lastLine}` : ""}`,
          RESTART_HINT,
          "crashed",
        ),
    );
  }

  private failPending(child: Child, error: () => Error): void {
    const pending = [...child.pending.values()];
    child.pending.clear();
    for (const request of pending) {
      clearTimeout(request.timer);
      request.reject(error());
    }
  }

  private onMessage(child: Child, message: unknown): void {
    const reply = asIpcReply(message);
    if (!reply) {
      this.log("local sandbox sent a message that is not a reply; ignored");
      return;
    }
    const pending = child.pending.get(reply.id);
    if (!pending) return;
    child.pending.delete(reply.id);
    clearTimeout(pending.timer);
    if (child.pending.size === 0 && !child.dead) this.setRef(child, false);
    if (reply.ok) pending.resolve(reply);
    else pending.reject(this.refusal(reply));
  }

  private refusal(reply: IpcFailure): Error {
    const { code, message, fields, hint } = reply.error;
    const refusal = Refusal.fromBody(REFUSAL_STATUS[code] ?? 500, { error: { code, message, fields, hint } });
    if (refusal.status >= 500) {
      return new SandboxUnavailableError(
        `The local sandbox failed: ${message}`,
        "Run the sheet again; if it keeps failing, the sandbox log (UzonCalc output) has the details.",
        "server",
      );
    }
    return refusal;
  }

  private send<M extends MethodName>(
    method: M,
    params: RequestOf<M>,
    timeoutMs = this.requestTimeoutMs,
  ): Promise<{ reply: IpcSuccessOf<M>; generation: number }> {
    let child: Child;
    try {
      child = this.ensureChild();
    } catch (error) {
      return Promise.reject(error);
    }
    const id = ++this.seq;
    return new Promise<{ reply: IpcSuccessOf<M>; generation: number }>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!child.pending.delete(id)) return;
        reject(
          new SandboxUnavailableError(
            `The local sandbox did not answer within ${Math.round(timeoutMs / 1000)} s.`,
            "The local sandbox was restarted; run the sheet again.",
            "timeout",
          ),
        );
        this.log(`local sandbox did not answer ${method} within ${timeoutMs} ms; restarting it`);
        // A child that does not answer is of no use to anyone: stop it, so the next call gets a fresh one.
        if (!child.dead) child.process.kill("SIGKILL");
      }, timeoutMs);
      child.pending.set(id, {
        method,
        // The reply answers this id, so it carries this method's result.
        resolve: (reply) => resolve({ reply: reply as IpcSuccessOf<M>, generation: child.generation }),
        reject,
        timer,
      });
      if (child.pending.size === 1) this.setRef(child, true);
      const fail = (error: Error) => {
        if (!child.pending.delete(id)) return;
        clearTimeout(timer);
        reject(new SandboxUnavailableError(`The local sandbox could not be sent the request: ${error.message}`, RESTART_HINT, "crashed"));
      };
      try {
        child.process.send({ id, method, params }, undefined, undefined, (error: Error | null) => {
          if (error) fail(error);
        });
      } catch (error) {
        fail(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  private stopChild(child: Child): Promise<void> {
    return new Promise<void>((resolve) => {
      const proc = child.process;
      child.stopping = true;
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      this.setRef(child, true);
      const forced = setTimeout(() => proc.kill("SIGKILL"), 1_000);
      proc.once("exit", () => {
        clearTimeout(forced);
        child.dead = true;
        resolve();
      });
      // Closing the channel lets the child close its pool members before it exits; SIGKILL if it does not.
      if (proc.connected) proc.disconnect();
      else proc.kill("SIGKILL");
    });
  }
}
