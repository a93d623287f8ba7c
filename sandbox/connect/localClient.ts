// A SandboxClient over a child process on this machine: the bundled dist/sandbox.js, forked over IPC with
// `serialization: "advanced"` (structured clone: about 3× faster than JSON for a 200 KB report). It is started
// with `process.execPath` and ELECTRON_RUN_AS_NODE=1, so inside desktop VS Code it runs on VS Code's own
// Electron as plain Node and needs no Node on the system. Sheets are bundled in the child's trusted main
// thread; they run in its resource-limited pool members. Nothing here imports node:vm.
//
// A child that dies fails every request in flight at once (never a hang) and is forked again on the next call.
// The sessions that waited for input in it are restored on their next use by replay: the client keeps each
// session's execute request, its seed and clock (sent back by the child), the inputs it accepted and the report
// it sent; the new child runs the same request with the same seed and inputs under the same session id, and the
// session is back only if it stops at the same window with a byte-identical report. Anything else is answered
// with an error that says the session was lost with the sandbox restart and the sheet must be run again.

import { fork, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { isDeepStrictEqual } from "node:util";
import type { WindowSpec } from "../../protocol/fields";
import type { ExecuteRequest, ExecutionResponse, ResponseStatus, ResumeRequest } from "../../protocol/rpc";
import { asIpcReply, childArgs, type IpcFailure, type IpcSuccessOf, type Method, type MethodMap, type ReplayStart } from "./childProtocol";
import { SandboxRequestError, SandboxUnavailableError, type SandboxClient } from "./sandboxClient";

export interface LocalSandboxOptions {
  /** The built child entry. Default: dist/sandbox.js beside the running bundle. */
  sandboxScript?: string;
  /** Folders `file_path` sheets may come from (the workspace folders). */
  safeDirs: string[];
  /** Time limit of one step, ms. Default the executor's (10 s). */
  stepTimeoutMs?: number;
  /** Heap cap of each sheet process, MB. Default the pool's (256). */
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
const DEFAULT_STEP_TIMEOUT_MS = 10_000;
/** A tracked session untouched this long is forgotten here: the child's own session TTL (1 h) has ended it. */
const SESSION_TTL_MS = 3_600_000;
/** Finished sessions remembered (only their id and status), so a lookup after a restart can say what happened. */
const MAX_FINISHED = 1_000;

interface Pending {
  method: Method;
  resolve: (reply: IpcSuccessOf<Method>) => void;
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

/** What the client keeps of a session to restore it in a new child. */
interface TrackedSession {
  /** The child generation the session lives in. */
  generation: number;
  status: ResponseStatus;
  lastActivity: number;
  /** Set while the session waits for input and can be replayed. */
  replay?: {
    request: ExecuteRequest & { session_id: string };
    start: ReplayStart;
    userInputs: Record<string, unknown>[];
    /** The report body as sent so far (deltas joined). */
    report: string;
    window: WindowSpec | undefined;
  };
  /** Why it cannot come back, once that is known. */
  lost?: string;
  restoring?: Promise<void>;
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal) return `killed by ${signal}`;
  if (code !== null) return `exit code ${code}`;
  return "its channel closed";
}

export class LocalSandboxClient implements SandboxClient {
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
    this.script = options.sandboxScript ?? defaultSandboxScript();
    this.stepTimeoutMs = options.stepTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
    this.requestTimeoutMs = options.requestTimeoutMs ?? this.stepTimeoutMs + 30_000;
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

  async execute(request: ExecuteRequest): Promise<ExecutionResponse> {
    this.prune();
    const body: ExecuteRequest = { ...request, html_mode: request.html_mode ?? "delta" };
    const { reply, generation } = await this.call("execute", body);
    const response = reply.result;
    const tracked: TrackedSession = { generation, status: response.status, lastActivity: Date.now() };
    if (response.status === "waiting_ui" && reply.replay) {
      tracked.replay = { request: { ...structuredClone(request), session_id: response.session_id }, start: reply.replay, userInputs: [], report: "", window: undefined };
    }
    this.sessions.set(response.session_id, tracked);
    this.apply(tracked, response);
    return response;
  }

  async resume(request: ResumeRequest): Promise<ExecutionResponse> {
    const tracked = await this.live(request.session_id);
    const body: ResumeRequest = { ...request, html_mode: request.html_mode ?? "delta" };
    const { reply } = await this.call("resume", body);
    if (tracked && this.sessions.get(request.session_id) === tracked) {
      tracked.replay?.userInputs.push(structuredClone(request.user_input));
      this.apply(tracked, reply.result);
    }
    return reply.result;
  }

  async cancel(sessionId: string) {
    const tracked = await this.live(sessionId);
    const { reply } = await this.call("cancel", { session_id: sessionId });
    if (tracked && this.sessions.get(sessionId) === tracked) this.finish(tracked, "cancelled");
    return reply.result;
  }

  async getSession(sessionId: string) {
    await this.live(sessionId);
    return (await this.call("getSession", { session_id: sessionId })).reply.result;
  }

  /** Restores the sessions a dead child held first (those that cannot come back are left out). */
  async listSessions() {
    this.prune();
    for (const id of [...this.sessions.keys()]) await this.live(id).catch(() => undefined);
    const { sessions } = (await this.call("listSessions", {})).reply.result;
    // A replay that diverged was cancelled in the child; to the caller that session is lost, not cancelled.
    return { sessions: sessions.filter((s) => this.sessions.get(s.session_id)?.lost === undefined) };
  }

  /** Starts the child if none runs, so it also measures a cold start. */
  async health() {
    return (await this.call("health", {})).reply.result;
  }

  async invalidateCache(filePath?: string) {
    return (await this.call("invalidateCache", filePath === undefined ? {} : { file_path: filePath })).reply.result;
  }

  /** Stops the child (it closes its pool members) and fails whatever was in flight. */
  async dispose(): Promise<void> {
    this.disposed = true;
    const child = this.child;
    this.child = undefined;
    this.sessions.clear();
    if (!child) return;
    this.failPending(child, () => new SandboxUnavailableError("The local sandbox was shut down before it answered.", "Run the sheet again.", "unreachable"));
    await this.stopChild(child);
  }

  // ---- sessions ------------------------------------------------------------------------------------------

  private apply(tracked: TrackedSession, response: ExecutionResponse): void {
    tracked.lastActivity = Date.now();
    if (response.status !== "waiting_ui") {
      this.finish(tracked, response.status);
      return;
    }
    tracked.status = response.status;
    const replay = tracked.replay;
    if (!replay) return;
    if (response.html !== undefined) replay.report = response.html;
    else if (response.html_delta !== undefined) replay.report += response.html_delta;
    replay.window = response.ui;
  }

  private finish(tracked: TrackedSession, status: ResponseStatus): void {
    tracked.status = status;
    delete tracked.replay;
    tracked.lastActivity = Date.now();
  }

  /** Forgets sessions the child's TTL has ended, and all but the last MAX_FINISHED finished ones. */
  private prune(): void {
    const now = Date.now();
    let finished = 0;
    for (const [id, tracked] of [...this.sessions.entries()].reverse()) {
      if (tracked.lastActivity < now - SESSION_TTL_MS) this.sessions.delete(id);
      else if (!tracked.replay && ++finished > MAX_FINISHED) this.sessions.delete(id);
    }
  }

  private lostError(sessionId: string, reason: string): SandboxRequestError {
    return new SandboxRequestError("not_found", 404, `Session '${sessionId}' was lost when the local sandbox stopped and restarted (${reason}). Run the sheet again to start a new session.`);
  }

  /**
   * Makes sure a session this client started lives in the running child: a session of a dead child is restored
   * by replay, or answered with the error that it was lost. Sessions this client does not know are left to the
   * child to answer.
   */
  private async live(sessionId: string): Promise<TrackedSession | undefined> {
    const tracked = this.sessions.get(sessionId);
    if (!tracked) return undefined;
    if (tracked.lost) throw this.lostError(sessionId, tracked.lost);
    const child = this.ensureChild();
    if (tracked.generation === child.generation) return tracked;
    if (!tracked.replay) {
      tracked.lost = tracked.status === "waiting_ui" ? "it cannot be replayed" : `it had already ended (${tracked.status}) and its result is gone`;
      throw this.lostError(sessionId, tracked.lost);
    }
    tracked.restoring ??= this.restore(sessionId, tracked).finally(() => {
      tracked.restoring = undefined;
    });
    await tracked.restoring;
    return tracked;
  }

  private async restore(sessionId: string, tracked: TrackedSession): Promise<void> {
    const replay = tracked.replay!;
    const started = Date.now();
    let outcome: { reply: IpcSuccessOf<"restore">; generation: number };
    try {
      outcome = await this.call("restore", { request: replay.request, start: replay.start, user_inputs: replay.userInputs }, this.requestTimeoutMs + this.stepTimeoutMs * replay.userInputs.length);
    } catch (error) {
      if (error instanceof SandboxRequestError) return this.giveUp(sessionId, tracked, `replaying it failed: ${error.message}`, false);
      throw error; // the new child died or hung too: the session stays restorable for the next call
    }
    const response = outcome.reply.result;
    if (response.status !== "waiting_ui" || !response.ui) {
      return this.giveUp(sessionId, tracked, `the replay ended with status ${response.status}${response.error ? ` (${response.error.message})` : ""} instead of waiting at window '${replay.window?.id}'`, response.status === "waiting_ui");
    }
    if (!isDeepStrictEqual(response.ui, replay.window)) {
      return this.giveUp(sessionId, tracked, `the replay stopped at window '${response.ui.id}' instead of '${replay.window?.id}', or the window changed`, true);
    }
    if (response.html !== replay.report) {
      return this.giveUp(sessionId, tracked, "the replay gave a different report than the original run", true);
    }
    tracked.generation = outcome.generation;
    this.log(`restored session ${sessionId} in the new local sandbox by replaying ${replay.userInputs.length} input${replay.userInputs.length === 1 ? "" : "s"} (${Date.now() - started} ms)`);
  }

  private async giveUp(sessionId: string, tracked: TrackedSession, reason: string, cancel: boolean): Promise<never> {
    tracked.lost = reason;
    delete tracked.replay;
    this.log(`could not restore session ${sessionId}: ${reason}`);
    if (cancel) await this.call("cancel", { session_id: sessionId }).catch(() => undefined);
    throw this.lostError(sessionId, reason);
  }

  // ---- the child ----------------------------------------------------------------------------------------

  private ensureChild(): Child {
    if (this.disposed) throw new SandboxUnavailableError("The local sandbox was shut down.", "Reload the window to start it again.", "unreachable");
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
      () => new SandboxUnavailableError(`The local sandbox stopped (${how}) before it answered.${lastLine ? ` Its last words: ${lastLine}` : ""}`, RESTART_HINT, "crashed"),
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
    const { code, status, message, fields } = reply.error;
    if (code === "internal" || status >= 500) {
      return new SandboxUnavailableError(`The local sandbox failed: ${message}`, "Run the sheet again; if it keeps failing, the sandbox log (UzonCalc output) has the details.", "server");
    }
    return new SandboxRequestError(code, status, message, fields);
  }

  private call<M extends Method>(method: M, params: MethodMap[M]["params"], timeoutMs = this.requestTimeoutMs): Promise<{ reply: IpcSuccessOf<M>; generation: number }> {
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
        reject(new SandboxUnavailableError(`The local sandbox did not answer within ${Math.round(timeoutMs / 1000)} s.`, "The local sandbox was restarted; run the sheet again.", "timeout"));
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
