// The executor: sessions (the seed's generator manager) over a realm engine, with the SPEC §2 semantics.
// Every public method takes an untrusted request, answers an ExecutionResponse (a sheet that fails is a
// normal answer with status "error") or throws SandboxError for a request the sandbox refuses (4xx).

import { randomBytes, randomUUID } from "node:crypto";
import type { FieldValue, WindowSpec } from "../../protocol/fields";
import {
  parseCancelRequest,
  parseExecuteRequest,
  parseInvalidateCacheRequest,
  parseResumeRequest,
  parseSessionId,
  type CancelResponse,
  type ExecutionResponse,
  type HealthResponse,
  type HtmlMode,
  type InputLogEntry,
  type InvalidateCacheResponse,
  type JsonObject,
  type JsonValue,
  type SessionInfo,
  type SessionListResponse,
  type SessionStatus,
  type SheetError,
  type TraceEntry,
  MAX_TRACE_ENTRIES,
} from "../../protocol/rpc";
import { checkWindowInput, summarizeFieldErrors } from "../../protocol/validate";
import type { RealmOutcome, RealmStart } from "../runtime/abi";
import { InProcessEngine, replayDivergence, type EngineOutcome, type RealmEngine } from "../engine/realmEngine";
import { SandboxError } from "./errors";
import { SheetLoader, type LoadedSheet, type LoadResult } from "../loader/sheetLoader";
import { errorOutcome } from "../engine/sheetRealm";
import { renderReportDocument } from "./reportDocument";
import { SafeDirs } from "../loader/safeDirs";
import { mapSheetError } from "../loader/sourceMap";
import { VERSION } from "../version";

export interface ExecutorOptions {
  /** Folders `file_path` sheets may come from. None: `file_path` is refused. */
  safeDirs?: readonly string[];
  /** Time limit of one step (from a resume to the next pause). Default 10 s. */
  stepTimeoutMs?: number;
  /** A session untouched this long is cancelled (its `finally` runs) and forgotten. Default 1 h. */
  sessionTtlMs?: number;
  /**
   * Sessions running or waiting for input at once; one more is refused with 429. Default 1 000. Finished
   * sessions (completed, error, cancelled) do not count; the newest `maxSessions` of them are kept for status
   * queries until their TTL.
   */
  maxSessions?: number;
  /**
   * A paused session untouched this long has its realm dropped from memory; its next request rebuilds it by
   * replaying its input log. Default 10 min; 0 turns eviction off.
   */
  evictAfterMs?: number;
  engine?: RealmEngine;
  /** The wall clock, replaceable in tests. */
  clock?: () => number;
}

/** Who is asking. With tokens configured, a session is visible only to the token that created it. */
export interface RequestContext {
  owner?: string;
}

/**
 * A session's report body, kept as the pieces each step added. Appending is O(1) and a delta is the pieces
 * since the last response, so a long run does not re-copy its whole report on every step; the full text is
 * joined once when it is needed and cached.
 */
class ReportBody {
  private readonly parts: string[] = [];
  private joined = "";
  private joinedParts = 0;

  append(html: string): void {
    if (html !== "") this.parts.push(html);
  }

  /** A position to take a delta from later. */
  get mark(): number {
    return this.parts.length;
  }

  since(mark: number): string {
    return mark === 0 ? this.text : this.parts.slice(mark).join("");
  }

  get text(): string {
    if (this.joinedParts !== this.parts.length) {
      this.joined += this.parts.slice(this.joinedParts).join("");
      this.joinedParts = this.parts.length;
    }
    return this.joined;
  }
}

/**
 * A session's values for the editor: the last value of each rendered (line, name), over the whole run (for
 * full-html responses) and since the last response (for deltas). Bounded by the sheet's rendered statements
 * and by MAX_TRACE_ENTRIES; an entry past the bound is dropped and the response says `trace_truncated`.
 */
class RunTrace {
  private readonly run = new Map<string, TraceEntry>();
  private readonly fresh = new Map<string, TraceEntry>();
  private runCut = false;
  private freshCut = false;

  add(entries: readonly TraceEntry[] | undefined): void {
    if (!entries) return;
    if (entries.length > MAX_TRACE_ENTRIES) this.runCut = this.freshCut = true;
    for (const entry of entries.slice(0, MAX_TRACE_ENTRIES)) {
      const key = `${entry.line}\n${entry.name}`;
      if (!RunTrace.put(this.run, key, entry)) this.runCut = true;
      if (!RunTrace.put(this.fresh, key, entry)) this.freshCut = true;
    }
  }

  /** What a response carries (by line; the same line keeps the order its statements first ran in); the fresh part starts again. */
  take(whole: boolean): { entries: TraceEntry[]; truncated: boolean } {
    const entries = [...(whole ? this.run : this.fresh).values()].sort((a, b) => a.line - b.line);
    const truncated = whole ? this.runCut : this.freshCut;
    this.fresh.clear();
    this.freshCut = false;
    return { entries, truncated };
  }

  /** A finished run sends no more responses: its values need not be kept. */
  clear(): void {
    this.run.clear();
    this.fresh.clear();
  }

  private static put(map: Map<string, TraceEntry>, key: string, entry: TraceEntry): boolean {
    if (map.size >= MAX_TRACE_ENTRIES && !map.has(key)) return false;
    map.set(key, entry);
    return true;
  }
}

/** Everything needed to run a session again and get the same report: the bundle, params, seed and inputs. */
export interface SessionRecord {
  sheet: LoadedSheet;
  funcName?: string;
  params?: JsonObject;
  seed: number;
  startedAt: number;
  inputLog: InputLogEntry[];
}

interface Session {
  id: string;
  status: SessionStatus;
  createdAt: number;
  updatedAt: number;
  lastActivity: number;
  uiSteps: number;
  report: ReportBody;
  /** The report's mark at the last response, for `html_mode: "delta"`. */
  sent: number;
  trace: RunTrace;
  htmlMode: HtmlMode;
  window?: WindowSpec;
  batchInputs?: Record<string, Record<string, unknown>>;
  record?: SessionRecord;
  filename: string;
  error?: SheetError;
  value?: JsonValue;
  result?: string;
  /** Field errors of a window that batch inputs answered wrongly, for the next response. */
  inputErrors?: Record<string, string>;
  owner: string | undefined;
  /** Its realm was dropped to save memory; the next request rebuilds it. */
  evicted?: boolean;
  /** The operation in flight, so cancel and expiry wait for a step instead of racing it. */
  pending: Promise<unknown>;
}

const DEFAULTS = { stepTimeoutMs: 10_000, sessionTtlMs: 3_600_000, maxSessions: 1_000, evictAfterMs: 600_000 };

function isFinished(status: SessionStatus): boolean {
  return status === "completed" || status === "error" || status === "cancelled";
}

function sandboxFailure(message: string): RealmOutcome {
  return errorOutcome({ name: "SandboxError", message });
}

export class Executor {
  readonly loader: SheetLoader;
  readonly engine: RealmEngine;
  readonly safeDirs: SafeDirs;
  private readonly sessions = new Map<string, Session>();
  private readonly stepTimeoutMs: number;
  private readonly sessionTtlMs: number;
  private readonly maxSessions: number;
  private readonly evictAfterMs: number;
  private readonly clock: () => number;
  private restores = 0;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(options: ExecutorOptions = {}) {
    this.stepTimeoutMs = options.stepTimeoutMs ?? DEFAULTS.stepTimeoutMs;
    this.sessionTtlMs = options.sessionTtlMs ?? DEFAULTS.sessionTtlMs;
    this.maxSessions = options.maxSessions ?? DEFAULTS.maxSessions;
    this.evictAfterMs = options.evictAfterMs ?? DEFAULTS.evictAfterMs;
    this.clock = options.clock ?? Date.now;
    this.safeDirs = new SafeDirs(options.safeDirs ?? []);
    this.loader = new SheetLoader({ safeDirs: this.safeDirs });
    this.engine = options.engine ?? new InProcessEngine({ stepTimeoutMs: this.stepTimeoutMs });
    const interval = Math.max(10, Math.min(60_000, Math.floor(this.sessionTtlMs / 2)));
    this.sweeper = setInterval(() => void this.sweep(), interval);
    this.sweeper.unref();
  }

  /**
   * `start` fixes the session's seed and clock instead of drawing new ones: for a trusted caller that re-runs a
   * session it recorded (the local sandbox client restoring sessions after its child process died). It is not
   * part of the wire request.
   */
  async execute(body: unknown, context: RequestContext = {}, start?: { seed: number; startedAt: number }): Promise<ExecutionResponse> {
    const parsed = parseExecuteRequest(body);
    if (!parsed.ok) throw new SandboxError("bad_request", parsed.message);
    const request = parsed.value;
    const id = request.session_id ?? randomUUID();
    this.expireIfIdle(id);
    if (this.sessions.has(id)) throw new SandboxError("conflict", `Session '${id}' already exists; choose another session_id or leave it out.`);
    if (this.liveSessions() >= this.maxSessions) {
      await this.sweep();
      if (this.liveSessions() >= this.maxSessions) {
        throw new SandboxError("too_many_sessions", `The sandbox is running its limit of ${this.maxSessions} sessions; finish or cancel one, or try again later.`);
      }
    }
    this.forgetOldestFinished();
    // Loading throws 403/404 for a file that is outside the safe dirs or missing: no session is made for those.
    const loaded: LoadResult = request.file_path !== undefined
      ? await this.loader.loadFile(request.file_path)
      : await this.loader.loadSource(request.source!, request.filename, request.files);
    if (this.sessions.has(id)) throw new SandboxError("conflict", `Session '${id}' already exists; choose another session_id or leave it out.`);
    const now = this.clock();
    const filename = loaded.ok ? loaded.sheet.filename : (request.filename ?? request.file_path ?? "sheet");
    const session: Session = {
      id,
      status: "idle",
      createdAt: now,
      updatedAt: now,
      lastActivity: now,
      uiSteps: 0,
      report: new ReportBody(),
      sent: 0,
      trace: new RunTrace(),
      htmlMode: request.html_mode ?? "full",
      filename,
      owner: context.owner,
      pending: Promise.resolve(),
    };
    if (request.inputs) session.batchInputs = request.inputs;
    this.sessions.set(id, session);
    if (!loaded.ok) {
      this.fail(session, loaded.error);
      return this.respond(session);
    }
    const record: SessionRecord = { sheet: loaded.sheet, seed: start?.seed ?? randomBytes(4).readUInt32LE(0), startedAt: start?.startedAt ?? now, inputLog: [] };
    if (request.func_name !== undefined) record.funcName = request.func_name;
    if (request.params !== undefined) record.params = request.params;
    session.record = record;
    return this.exclusive(session, () => this.runFromStart(session));
  }

  async resume(body: unknown, context: RequestContext = {}): Promise<ExecutionResponse> {
    const parsed = parseResumeRequest(body);
    if (!parsed.ok) throw new SandboxError("bad_request", parsed.message);
    const session = this.require(parsed.value.session_id, context);
    if (session.status !== "waiting_ui" || !session.window) {
      throw new SandboxError("conflict", `Session '${session.id}' is not waiting for input (status: ${session.status}).`);
    }
    const check = checkWindowInput(session.window, parsed.value.user_input);
    if (!check.ok) {
      throw new SandboxError("invalid_input", `Invalid input for window '${session.window.id}': ${summarizeFieldErrors(check.errors)}`, check.errors);
    }
    if (parsed.value.html_mode) session.htmlMode = parsed.value.html_mode;
    const window = session.window;
    return this.exclusive(session, async () => {
      const logs: string[] = [];
      let outcome = await this.inject(session, window, check.values, logs);
      outcome = await this.answerFromBatch(session, outcome, logs);
      return this.respond(session, logs);
    });
  }

  async cancel(body: unknown, context: RequestContext = {}): Promise<CancelResponse> {
    const parsed = parseCancelRequest(body);
    if (!parsed.ok) throw new SandboxError("bad_request", parsed.message);
    const session = this.require(parsed.value.session_id, context);
    await session.pending.catch(() => undefined);
    if (session.status === "cancelled") return { status: "cancelled", session_id: session.id };
    if (session.status === "completed" || session.status === "error") {
      throw new SandboxError("conflict", `Session '${session.id}' has already finished (status: ${session.status}); there is nothing to cancel.`);
    }
    await this.exclusive(session, () => this.cancelRun(session));
    return { status: "cancelled", session_id: session.id };
  }

  getSession(id: string, context: RequestContext = {}): SessionInfo {
    const parsed = parseSessionId(id);
    if (!parsed.ok) throw new SandboxError("bad_request", parsed.message);
    return this.info(this.require(parsed.value, context));
  }

  listSessions(context: RequestContext = {}): SessionListResponse {
    for (const id of [...this.sessions.keys()]) this.expireIfIdle(id);
    return { sessions: [...this.sessions.values()].filter((s) => s.owner === context.owner).map((s) => this.info(s)) };
  }

  private liveSessions(): number {
    let live = 0;
    for (const session of this.sessions.values()) if (!isFinished(session.status)) live++;
    return live;
  }

  /** Keeps at most `maxSessions` finished sessions (a Map iterates oldest first). */
  private forgetOldestFinished(): void {
    let finished = 0;
    for (const session of this.sessions.values()) if (isFinished(session.status)) finished++;
    for (const session of this.sessions.values()) {
      if (finished < this.maxSessions) break;
      if (!isFinished(session.status)) continue;
      this.sessions.delete(session.id);
      finished--;
    }
  }

  /** Sessions by status, for metrics. */
  countByStatus(): Record<SessionStatus, number> {
    const counts = { idle: 0, running: 0, waiting_ui: 0, completed: 0, error: 0, cancelled: 0 };
    for (const session of this.sessions.values()) counts[session.status]++;
    return counts;
  }

  health(): HealthResponse {
    const active = [...this.sessions.values()].filter((s) => s.status === "waiting_ui" || s.status === "running" || s.status === "idle").length;
    return { status: "healthy", active_sessions: active, version: VERSION };
  }

  invalidateCache(body: unknown): InvalidateCacheResponse {
    const parsed = parseInvalidateCacheRequest(body);
    if (!parsed.ok) throw new SandboxError("bad_request", parsed.message);
    const path = parsed.value.file_path;
    const count = this.loader.invalidate(path);
    return { status: "ok", message: path === undefined ? `Cache cleared (${count} sheet${count === 1 ? "" : "s"}).` : `Cache invalidated for ${path} (${count} entr${count === 1 ? "y" : "ies"}).` };
  }

  /** What it takes to run this session again (for replay and recovery). */
  sessionRecord(id: string, context: RequestContext = {}): SessionRecord {
    const session = this.require(id, context);
    if (!session.record) throw new SandboxError("conflict", `Session '${id}' has no sheet to replay (it failed to load).`);
    return { ...session.record, inputLog: [...session.record.inputLog] };
  }

  /**
   * Runs a recorded session again in a new session: same bundle, params, seed and clock, and the logged inputs
   * fed to the same windows. A window that differs from the log is an error that says so.
   */
  async replay(record: SessionRecord, sessionId: string = randomUUID()): Promise<ExecutionResponse> {
    if (this.sessions.has(sessionId)) throw new SandboxError("conflict", `Session '${sessionId}' already exists.`);
    const now = this.clock();
    const session: Session = {
      id: sessionId, status: "idle", createdAt: now, updatedAt: now, lastActivity: now, uiSteps: 0, report: new ReportBody(), sent: 0, trace: new RunTrace(),
      htmlMode: "full", filename: record.sheet.filename, owner: undefined, pending: Promise.resolve(),
      record: { ...record, inputLog: [] },
    };
    this.sessions.set(sessionId, session);
    return this.exclusive(session, async () => {
      const logs: string[] = [];
      let outcome = await this.open(session, logs);
      for (const [index, entry] of record.inputLog.entries()) {
        const divergence = replayDivergence(outcome, entry, index, record.inputLog.length);
        if (divergence || !session.window) {
          this.fail(session, divergence ?? { name: "ReplayError", message: "Replay diverged: the session has no window to answer." });
          break;
        }
        outcome = await this.inject(session, session.window, entry.values, logs);
      }
      return this.respond(session, logs);
    });
  }

  /**
   * Cancels and forgets sessions idle for longer than the TTL (their `finally` runs, unless their realm was
   * already evicted: a sheet has no effects outside its report, so rebuilding it only to discard it is skipped),
   * and evicts the realms of paused sessions idle for longer than `evictAfterMs`. Returns how many expired.
   */
  async sweep(): Promise<number> {
    const now = this.clock();
    const idle = [...this.sessions.values()].filter((s) => s.lastActivity < now - this.sessionTtlMs);
    for (const session of idle) {
      this.sessions.delete(session.id);
      if (session.status === "waiting_ui" && !session.evicted) await this.engine.cancel(session.id).catch(() => undefined);
      this.engine.drop(session.id);
    }
    if (this.evictAfterMs > 0) {
      for (const session of this.sessions.values()) {
        if (session.status === "waiting_ui" && !session.evicted && session.lastActivity < now - this.evictAfterMs) this.evict(session.id);
      }
    }
    return idle.length;
  }

  /** Drops a paused session's realm from memory; it is rebuilt by replay when next needed. */
  evict(sessionId: string): void {
    const session = this.sessions.get(sessionId);
    if (!session || session.status !== "waiting_ui") return;
    this.engine.drop(sessionId);
    session.evicted = true;
  }

  stats(): { sessions: number; liveRealms: number; evicted: number; restores: number } {
    let evicted = 0;
    for (const session of this.sessions.values()) if (session.evicted) evicted++;
    return { sessions: this.sessions.size, liveRealms: this.engine.liveRealms, evicted, restores: this.restores };
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
    for (const session of this.sessions.values()) this.engine.drop(session.id);
    this.sessions.clear();
    await this.engine.close();
  }

  // ---- internals -------------------------------------------------------------------------------------------

  private require(id: string, context: RequestContext = {}): Session {
    this.expireIfIdle(id);
    const session = this.sessions.get(id);
    // Another token's session is answered exactly like a missing one: its existence is not disclosed.
    if (!session || session.owner !== context.owner) throw new SandboxError("not_found", `Unknown session '${id}' (it may have expired).`);
    return session;
  }

  /** Lazy expiry, so a TTL holds even between sweeps. The realm is dropped; its finally runs in the next sweep's place. */
  private expireIfIdle(id: string): void {
    const session = this.sessions.get(id);
    if (!session || session.lastActivity >= this.clock() - this.sessionTtlMs) return;
    this.sessions.delete(id);
    if (session.status === "waiting_ui" && !session.evicted) void this.engine.cancel(id).catch(() => undefined).finally(() => this.engine.drop(id));
    else this.engine.drop(id);
  }

  private async exclusive<T>(session: Session, work: () => Promise<T>): Promise<T> {
    session.status = "running";
    const run = session.pending.catch(() => undefined).then(work);
    session.pending = run;
    try {
      return await run;
    } catch (error) {
      if (session.status === "running") {
        this.fail(session, { name: "SandboxError", message: `The sandbox failed while running this step: ${error instanceof Error ? error.message : String(error)}` });
      }
      throw error;
    } finally {
      session.lastActivity = this.clock();
      session.updatedAt = session.lastActivity;
    }
  }

  private async runFromStart(session: Session): Promise<ExecutionResponse> {
    const logs: string[] = [];
    const outcome = await this.open(session, logs);
    await this.answerFromBatch(session, outcome, logs);
    return this.respond(session, logs);
  }

  private startOf(record: SessionRecord): RealmStart {
    return { filename: record.sheet.filename, ...(record.funcName !== undefined ? { func: record.funcName } : {}), ...(record.params !== undefined ? { params: record.params } : {}) };
  }

  private async open(session: Session, logs: string[]): Promise<RealmOutcome> {
    const record = session.record!;
    const outcome = await this.engine.open(session.id, record.sheet, { seed: record.seed, now: record.startedAt }, this.startOf(record));
    this.apply(session, outcome, logs);
    return outcome;
  }

  private async inject(session: Session, window: WindowSpec, values: Record<string, FieldValue>, logs: string[]): Promise<RealmOutcome> {
    session.status = "running";
    const outcome = await this.onRealm(session, () => this.engine.resume(session.id, values));
    // Logged once the realm has taken the values, so a rebuild before this step replays only what came before.
    session.record!.inputLog.push({ window: window.id, values });
    session.window = undefined;
    this.apply(session, outcome, logs);
    return outcome;
  }

  /**
   * Runs an operation on a session's realm. A realm the engine no longer holds (evicted, or its worker died)
   * is rebuilt by replaying the input log, checked against the session's report, and the operation retried.
   */
  private async onRealm(session: Session, operation: () => Promise<EngineOutcome>): Promise<RealmOutcome> {
    const first = await operation();
    if (first.kind !== "lost") return first;
    const failed = await this.restore(session);
    if (failed) return failed;
    const second = await operation();
    if (second.kind !== "lost") return second;
    return sandboxFailure("The sandbox lost this session's sheet again right after rebuilding it; start the run again.");
  }

  private async restore(session: Session): Promise<RealmOutcome | undefined> {
    const record = session.record!;
    const expected = session.window;
    const outcome = await this.engine.restore(session.id, record.sheet, { seed: record.seed, now: record.startedAt }, this.startOf(record), record.inputLog);
    if (outcome.kind === "lost") return sandboxFailure("The sandbox could not rebuild this session's sheet.");
    if (outcome.kind === "error") return outcome;
    if (outcome.kind !== "ui" || outcome.window.id !== expected?.id) {
      this.engine.drop(session.id);
      return errorOutcome({ name: "ReplayError", message: `Replay diverged: rebuilding the session did not stop at window '${expected?.id}' again.` });
    }
    if (outcome.html !== session.report.text) {
      this.engine.drop(session.id);
      return errorOutcome({ name: "ReplayError", message: "Replay diverged: rebuilding the session gave a different report than the original run." });
    }
    this.restores++;
    session.evicted = false;
    return undefined;
  }

  /** Answers windows from the request's `inputs` without pausing; invalid inputs leave the session waiting there. */
  private async answerFromBatch(session: Session, outcome: RealmOutcome, logs: string[]): Promise<RealmOutcome> {
    while (outcome.kind === "ui" && session.window && session.batchInputs && Object.prototype.hasOwnProperty.call(session.batchInputs, session.window.id)) {
      const window = session.window;
      const check = checkWindowInput(window, session.batchInputs[window.id]!);
      if (!check.ok) {
        session.inputErrors = check.errors;
        return outcome;
      }
      outcome = await this.inject(session, window, check.values, logs);
    }
    return outcome;
  }

  private async cancelRun(session: Session): Promise<void> {
    const outcome = await this.onRealm(session, () => this.engine.cancel(session.id));
    this.engine.drop(session.id);
    session.report.append(outcome.html);
    session.window = undefined;
    session.status = "cancelled";
    session.trace.clear();
  }

  private apply(session: Session, outcome: RealmOutcome, logs: string[]): void {
    session.report.append(outcome.html);
    logs.push(...outcome.logs);
    session.trace.add(outcome.trace);
    switch (outcome.kind) {
      case "ui":
        session.status = "waiting_ui";
        session.window = outcome.window;
        session.uiSteps++;
        return;
      case "done": {
        session.status = "completed";
        session.value = outcome.value as JsonValue;
        session.window = undefined;
        const record = session.record!;
        session.result = renderReportDocument({
          body: session.report.text,
          sheetName: record.sheet.filename,
          sheetHash: record.sheet.hash,
          createdAt: record.startedAt,
          inputs: record.inputLog,
          version: VERSION,
          ...(record.params !== undefined ? { params: record.params } : {}),
        });
        return;
      }
      case "cancelled":
        session.status = "cancelled";
        session.window = undefined;
        return;
      case "error":
        this.fail(session, mapSheetError(session.record!.sheet, outcome.error));
        return;
    }
  }

  private fail(session: Session, error: SheetError): void {
    session.status = "error";
    session.error = error;
    session.window = undefined;
    this.engine.drop(session.id);
  }

  private respond(session: Session, logs: string[] = []): ExecutionResponse {
    const status = session.status === "waiting_ui" || session.status === "completed" || session.status === "error" || session.status === "cancelled" ? session.status : "error";
    const response: ExecutionResponse = { status, session_id: session.id, ui_steps: session.uiSteps };
    if (session.status === "waiting_ui" && session.window) response.ui = session.window;
    if (session.htmlMode === "delta") response.html_delta = session.report.since(session.sent);
    else response.html = session.report.text;
    session.sent = session.report.mark;
    if (session.status === "completed") {
      response.result = session.result!;
      response.value = session.value ?? null;
    }
    if (session.error) response.error = session.error;
    if (session.inputErrors) {
      response.input_errors = session.inputErrors;
      delete session.inputErrors;
    }
    if (logs.length > 0) response.logs = logs;
    // Delta responses carry what their steps evaluated; full ones the whole run's values, like `html`.
    const trace = session.trace.take(session.htmlMode !== "delta");
    if (trace.entries.length > 0) response.trace = trace.entries;
    if (trace.truncated) response.trace_truncated = true;
    if (isFinished(session.status)) session.trace.clear();
    return response;
  }

  private info(session: Session): SessionInfo {
    return {
      session_id: session.id,
      status: session.status,
      ui_steps: session.uiSteps,
      has_error: session.status === "error",
      error_message: session.error?.message ?? null,
      created_at: new Date(session.createdAt).toISOString(),
      updated_at: new Date(session.updatedAt).toISOString(),
    };
  }
}
