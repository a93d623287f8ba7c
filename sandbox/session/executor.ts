// The executor: sessions (the seed's generator manager) over a realm engine, with the SPEC §2 semantics.
// Every public method takes an untrusted request, answers an ExecutionResponse (a sheet that fails is a
// normal answer with status "error") or throws SandboxError for a request the sandbox refuses (4xx).

import { createHash, hash, randomBytes, randomUUID, type Hash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { FieldValue, WindowSpec } from "../../protocol/fields";
import type { JsonValue } from "../../protocol/json";
import { EVICT_AFTER_MS, LIMITS, WIRE_HTML_MODE } from "../../protocol/limits";
import { parseRequest, type AnswerOf, type MethodName, type RequestOf } from "../../protocol/methods";
import { Refusal } from "../../protocol/refusal";
import {
  MAX_TRACE_ENTRIES,
  type CancelResponse,
  type ExecuteRequest,
  type ExecutionResponse,
  type HealthResponse,
  type HtmlMode,
  type InvalidateCacheResponse,
  type PrepareResponse,
  type SessionInfo,
  type SessionListResponse,
  type SessionStatus,
  type StudyResponse,
  type SheetError,
  type TraceEntry,
} from "../../protocol/rpc";
import { windowLegend, type InputLogEntry, type SessionRecord, type SheetRef } from "../../protocol/session";
import { checkWindowInput, summarizeFieldErrors } from "../../protocol/validate";
import type { RealmOutcome, RealmStart } from "../runtime/abi";
import { InProcessEngine, LOST_RETRY, retryLost, type EngineOutcome, type RealmEngine, type SheetCode } from "../engine/realmEngine";
import { replayMismatch, type ReplayExpectation } from "../engine/replay";
import { errorOutcome } from "../engine/sheetRealm";
import { SheetLoader, type LoadedSheet, type LoadResult } from "../loader/sheetLoader";
import { SafeDirs } from "../loader/safeDirs";
import { mapSheetError } from "../loader/sourceMap";
import { ownBundle } from "../ownBundle";
import { VERSION } from "../version";
import { documentText, reportDocumentParts, wholeDocument, type ReportDocumentParts } from "./reportDocument";
import { StoreUnavailableError, type SessionStore, type StoredSession } from "./store";
import { loadedFromStore, storedBundle } from "./storedBundle";
import { runStudy, type StudySandbox } from "./study";
import { CasesFileError, readCases } from "./studyCases";
import { mayJoinSurrogates, repeatedWireString, wireString, withWireFields, type WireString } from "./wireJson";

export interface ExecutorOptions {
  /** Folders `file_path` sheets may come from. None: `file_path` is refused. */
  safeDirs?: readonly string[];
  /** Time limit of one step (from a resume to the next pause). Default LIMITS.stepTimeoutMs. */
  stepTimeoutMs?: number;
  /** Time limit of one request's steps together (batch `inputs` run many). Default LIMITS.requestTimeoutMs. */
  requestTimeoutMs?: number;
  /** The largest report one session may write, characters. Default LIMITS.maxReportBytes. */
  maxReportBytes?: number;
  /** A session untouched this long is cancelled (its `finally` runs) and forgotten. Default LIMITS.sessionTtlMs. */
  sessionTtlMs?: number;
  /**
   * Sessions running or waiting for input at once; one more is refused with 429. Finished sessions (completed,
   * error, cancelled) do not count; the newest `maxSessions` of them are kept for status queries until their TTL.
   */
  maxSessions?: number;
  /**
   * A paused session untouched this long has its realm dropped from memory; its next request rebuilds it by
   * replaying its input log. Default EVICT_AFTER_MS; 0 turns eviction off.
   */
  evictAfterMs?: number;
  engine?: RealmEngine;
  /**
   * Where sessions outlive this process (SPEC §6): every step is committed there before it is answered, and a
   * session this executor does not hold, or holds at an older rev, is taken from there and rebuilt by replay.
   * None: sessions live in this process only.
   */
  store?: SessionStore;
  /** Close the store when the executor closes (a service's own store; replicas in one test share theirs). */
  ownsStore?: boolean;
  /** The wall clock, replaceable in tests. */
  clock?: () => number;
  /**
   * Hand each answer's report text over escaped and encoded for JSON as well (wireJson.ts), for a server that sends
   * answers as JSON: a completed run's document is then written from the bytes its steps' answers made. In-process
   * callers leave it off.
   */
  wireAnswers?: boolean;
}

/** Who is asking. With tokens configured, a session is visible only to the token that created it. */
export interface RequestContext {
  owner?: string;
}

/**
 * The sandbox RPC's handlers, one per method of the table (protocol/methods.ts): each takes the untrusted request
 * and answers, or throws a Refusal. Every transport (HTTP, the local child's IPC, the in-process client) calls
 * these and nothing else.
 */
export type SandboxHandlers = { readonly [M in MethodName]: (input: unknown, context?: RequestContext) => Promise<AnswerOf<M>> };

/**
 * A session's report body, kept as the pieces each step added. Appending is O(1) and a delta is the pieces
 * since the last response, so a long run does not re-copy its whole report on every step. The full text is joined
 * only where it is asked for (a full-html answer, the store) and cached while the run goes on; a completed run's
 * document is made and sent from the pieces (piecedText.ts says why).
 */
class ReportBody {
  private parts: string[] = [];
  private joined = "";
  private joinedParts = 0;
  private count = 0;
  /** The pieces were let go (forget): what is left is how long they were and how many. */
  forgotten = false;
  /**
   * sha256 of the text so far, kept as it grows when a store records it (a replay elsewhere must reproduce it);
   * without a store nothing is hashed.
   */
  private readonly hasher: Hash | undefined;
  /** Characters so far: what the report size limit counts. */
  length = 0;
  /** The report has figures to draw where it is handed out (the realm says so: RealmOutcome.figures). */
  figures = false;

  /** `figures`: the realm says the session has written figures (RealmOutcome.figures). */
  append(html: string, figures = false): void {
    if (figures) this.figures = true;
    if (html === "") return;
    // Taken first: a forgotten report refuses the piece before its length or hash move.
    const parts = this.kept();
    this.length += html.length;
    this.hasher?.update(html);
    parts.push(html);
    this.count++;
  }

  constructor(hashed: boolean) {
    this.hasher = hashed ? createHash("sha256") : undefined;
  }

  get hash(): string {
    return this.hasher ? this.hasher.copy().digest("base64url") : reportHash(this.text);
  }

  /** A position to take a delta from later. */
  get mark(): number {
    return this.count;
  }

  /** The pieces so far, as they were appended (the same array while the report grows). */
  get pieces(): readonly string[] {
    return this.kept();
  }

  since(mark: number): string {
    // Not through `text`, even from the start: that would join (and cache) a second copy of the pieces.
    return mark >= this.count ? "" : this.pieces.slice(mark).join("");
  }

  get text(): string {
    if (this.joinedParts !== this.count) {
      this.joined += this.pieces.slice(this.joinedParts).join("");
      this.joinedParts = this.count;
    }
    return this.joined;
  }

  /**
   * Each piece's text as its answer sent it in JSON (wireJson.ts), kept until the run is over; made when a response
   * first carries the piece. Not exact (left unused) once a piece could join a surrogate pair with its neighbour.
   */
  private wire: (Buffer | undefined)[] | undefined;
  private wireExact = true;

  /** The pieces from `mark` on as a wire string; undefined when that could not be exactly JSON.stringify's. */
  wireSince(mark: number): WireString | undefined {
    const out: Buffer[] = [];
    for (let i = mark; i < this.count; i++) out.push(this.pieceWire(i, this.pieces[i]!));
    return this.wireExact ? out : undefined;
  }

  /** Characters `from` to `to` of the text as a wire string: kept pieces as they are, a cut one made afresh. */
  wireRange(from: number, to: number): WireString | undefined {
    const out: Buffer[] = [];
    let start = 0;
    for (let i = 0; i < this.count && start < to; i++) {
      const text = this.pieces[i]!;
      const end = start + text.length;
      if (end > from && start >= from && end <= to) out.push(this.pieceWire(i, text));
      else if (end > from) {
        const cut = text.slice(Math.max(from, start) - start, Math.min(to, end) - start);
        if (mayJoinSurrogates(cut)) return undefined;
        out.push(wireString(cut));
      }
      start = end;
    }
    return this.wireExact ? out : undefined;
  }

  /** The wire strings are not needed again (the run is over, or its realm went and it may be rebuilt). */
  dropWire(): void {
    this.wire = undefined;
  }

  private pieceWire(i: number, text: string): Buffer {
    this.wire ??= [];
    let bytes = this.wire[i];
    if (bytes === undefined) {
      if (mayJoinSurrogates(text)) this.wireExact = false;
      bytes = this.wire[i] = wireString(text);
    }
    return bytes;
  }

  private kept(): string[] {
    if (this.forgotten) throw new Error("This report was let go once answered (ReportBody.forget): replay the run to read it.");
    return this.parts;
  }

  /** The run is over: no joined copy of the pieces is kept with it. */
  seal(): void {
    this.joined = "";
    this.joinedParts = 0;
    this.dropWire();
  }

  /**
   * Lets the pieces go; their length, count and figures stay. A completed run's report, once answered, is only ever
   * asked for again by a retry of that answer, which replays the run (Executor.recall). Kept, a rendered run's 200 KB
   * stayed on the heap as long as the run was kept (up to --max-sessions of them: 0.3 GB), copied by the collector
   * as it aged; the one string that was kept instead cost its own 0.3 ms to join (piecedText.ts).
   */
  forget(): void {
    this.seal();
    this.parts = [];
    this.forgotten = true;
  }
}

/** The figures' drawing (ECharts): dist/plots.js, loaded by the first report that has a figure. */
const plots = ownBundle<typeof import("./plots")>(__filename, "plots.js", "./plots");

/**
 * What a session's `pending` settles to once its step is over, whichever way: nothing. Holding the step's answer
 * there kept every session's last response alive with it (a finished rendered session's last step: ~67 KB).
 */
function settledQuietly(): void {}

/** Report markup as it is handed out: with its figures drawn, when the report has any. */
function drawn(report: ReportBody, html: string): string {
  return report.figures ? plots().drawFigures(html) : html;
}

/** The completed report document (a session whose record is known: every run the executor started). */
function completedDocument(session: Session): ReportDocumentParts {
  const record = session.record!;
  return reportDocumentParts({
    // Figures are drawn into the markup whole; otherwise the pieces go as they are, never joined (piecedText.ts).
    body: session.report.figures ? drawn(session.report, session.report.text) : session.report.pieces,
    sheetName: record.sheet.filename,
    sheetHash: record.sheet.hash,
    createdAt: record.started_at,
    inputs: record.input_log,
    version: VERSION,
    ...(record.params !== undefined ? { params: record.params } : {}),
  });
}

/**
 * A report shorter than this goes out as JSON.stringify writes it: one escape of a short answer costs less than
 * writing it in pieces (wireJson.ts). A completed document goes out in pieces whatever its report's length: its
 * head alone is 5 KB, the same for every run of a sheet, and its bytes are made once (documentWire).
 */
const WIRE_MIN_CHARS = 4_096;

/**
 * The completed document as the contents of its JSON string, its body from the bytes the steps' answers made
 * (wireJson.ts). Undefined where the body is not the steps' text as they sent it: figures drawn in it, markup made
 * inert, or a document that came back from the store whole.
 */
function documentWire(document: ReportDocumentParts, report: ReportBody): WireString | undefined {
  if (report.figures || document.whole || document.body !== report.pieces) return undefined;
  const { contents } = document;
  const body = contents
    ? [report.wireRange(0, contents.at), [wireString(contents.nav)], report.wireRange(contents.at, report.length)]
    : [report.wireRange(0, report.length)];
  if (body.some((part) => part === undefined)) return undefined;
  return [repeatedWireString(document.before), ...body.flatMap((part) => part!), wireString(document.after)];
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

interface Session {
  /** The id the caller gave or got. */
  id: string;
  /** The id within this executor and its engine: the id scoped by its owner, so two tokens never share one. */
  key: string;
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
  /** What it takes to run the session again; absent when its sheet failed to load. */
  record?: SessionRecord;
  /** The bundle the record's hash names. */
  bundle?: LoadedSheet;
  filename: string;
  error?: SheetError;
  value?: JsonValue;
  result?: ReportDocumentParts;
  /** Field errors of a window that batch inputs answered wrongly, for the next response. */
  inputErrors?: Record<string, string>;
  owner: string | undefined;
  /** The bundle as the engine runs it: its cache key scoped by the owner (see codeFor). */
  code?: SheetCode;
  /** The windows of its input log: a window answered once is never answered again in the same run. */
  answered: Set<string>;
  /** Its realm was dropped to save memory; the next request rebuilds it. */
  evicted?: boolean;
  /** The operation in flight, so cancel and expiry wait for a step instead of racing it; never rejects. */
  pending: Promise<void>;
  /** The store's rev this session is at (0: never committed). */
  rev: number;
  /** sha256 of each applied answer's raw input, by step (SPEC §6 ui_steps). */
  answers: string[];
  /** Taken from this process's memory without asking the store in this request (see Executor.session). */
  trusted?: boolean;
  /** Why its realm is gone, for the replay counts (absent: its member died). */
  replayCause?: ReplayCause;
  /**
   * Taken from the store without its report: the hash the report must have once a replay rebuilds it. Until
   * then `report` is empty.
   */
  reportHash?: string;
}

/**
 * Why a realm had to be rebuilt: its member died, it was evicted while idle, this replica never held it, another
 * replica moved it on, a client replayed its saved record (`reload`: the local sandbox after its process
 * restarted or the window reloaded), or a completed run's answer was asked for again (`answer_again`: its report
 * is let go once answered, ReportBody.forget).
 */
export type ReplayCause = "member" | "evicted" | "new_replica" | "stale_realm" | "reload" | "answer_again";

export type StoreOp = "get" | "commit" | "list" | "ping" | "save_bundle" | "load_bundle";

function isFinished(status: SessionStatus): boolean {
  return status === "completed" || status === "error" || status === "cancelled";
}

/**
 * The sessions of an executor, with the finished ones kept in the order they finished, so counting the live ones
 * and forgetting the oldest finished ones cost no scan of every session on each execute.
 */
class SessionTable {
  private readonly all = new Map<string, Session>();
  private readonly finished = new Set<string>();

  get size(): number {
    return this.all.size;
  }

  /** Sessions running or waiting for input. */
  get live(): number {
    return this.all.size - this.finished.size;
  }

  get(key: string): Session | undefined {
    return this.all.get(key);
  }

  has(key: string): boolean {
    return this.all.has(key);
  }

  set(key: string, session: Session): void {
    this.finished.delete(key);
    this.all.set(key, session);
    this.settled(session);
  }

  delete(key: string): boolean {
    this.finished.delete(key);
    return this.all.delete(key);
  }

  clear(): void {
    this.all.clear();
    this.finished.clear();
  }

  values(): IterableIterator<Session> {
    return this.all.values();
  }

  keys(): IterableIterator<string> {
    return this.all.keys();
  }

  /** Called where a session's status may have become final (it never leaves a final status). */
  settled(session: Session): void {
    if (!isFinished(session.status)) return;
    session.report.seal();
    if (this.all.get(session.key) === session) this.finished.add(session.key);
  }

  /** Forgets the sessions that finished first until at most `keep` finished ones are left. */
  trimFinished(keep: number): void {
    for (const key of this.finished) {
      if (this.finished.size <= keep) return;
      this.finished.delete(key);
      this.all.delete(key);
    }
  }
}

function sandboxFailure(message: string): RealmOutcome {
  return errorOutcome({ name: "SandboxError", message });
}

function startOf(record: SessionRecord): RealmStart {
  return {
    filename: record.sheet.filename,
    ...(record.trace ? { trace: true } : {}),
    ...(record.func_name !== undefined ? { func: record.func_name } : {}),
    ...(record.params !== undefined ? { params: record.params } : {}),
  };
}

/** sha256 of a JSON value with its keys sorted: the same answer sent again hashes the same. */
function answerHash(value: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v !== null && typeof v === "object"
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
          )
        : v;
  // One-shot: a Hash object per answer cost twice as much (each resume makes one).
  return hash("sha256", JSON.stringify(canonical(value)), "base64url").slice(0, 22);
}

/**
 * Random bytes drawn a page at a time: a session's seed needs four, and asking the generator for four on every
 * execute cost more than the seed is worth (node's randomUUID pools its bytes the same way).
 */
const randomPool = { bytes: Buffer.alloc(0), at: 0 };

function randomSeed(): number {
  if (randomPool.at + 4 > randomPool.bytes.length) {
    randomPool.bytes = randomBytes(4_096);
    randomPool.at = 0;
  }
  const seed = randomPool.bytes.readUInt32LE(randomPool.at);
  randomPool.at += 4;
  return seed;
}

function alreadyExists(id: string): Refusal {
  return new Refusal("conflict", `Session '${id}' already exists; choose another session_id or leave it out.`);
}

export class Executor implements SandboxHandlers {
  readonly loader: SheetLoader;
  readonly engine: RealmEngine;
  readonly safeDirs: SafeDirs;
  private readonly sessions = new SessionTable();
  private readonly stepTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private readonly maxReportBytes: number;
  private readonly sessionTtlMs: number;
  private readonly maxSessions: number;
  private readonly evictAfterMs: number;
  private readonly clock: () => number;
  private readonly wireAnswers: boolean;
  private readonly store: SessionStore | undefined;
  private readonly ownsStore: boolean;
  /** Bundles this process has put in the store, and when (the store lets them expire with their sessions). */
  private readonly storedBundles = new Map<string, number>();
  /** Sessions whose copy here was found behind the store: their next adoption counts as a stale realm. */
  private readonly staleKeys = new Set<string>();
  /** Sessions being taken from the store, so two requests at once take one. */
  private readonly adopting = new Map<string, Promise<Session>>();
  /** Rebuilds by replay, by why the realm was missing, for /metrics. */
  private readonly replays: Record<ReplayCause, number> = {
    member: 0,
    evicted: 0,
    new_replica: 0,
    stale_realm: 0,
    reload: 0,
    answer_again: 0,
  };
  private readonly storeTimings: Partial<Record<StoreOp, { calls: number; seconds: number }>> = {};
  /** Places held by requests whose sheet is still loading (admit). */
  private admitting = 0;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(options: ExecutorOptions = {}) {
    this.stepTimeoutMs = options.stepTimeoutMs ?? LIMITS.stepTimeoutMs.default;
    this.requestTimeoutMs = options.requestTimeoutMs ?? LIMITS.requestTimeoutMs.default;
    this.maxReportBytes = options.maxReportBytes ?? LIMITS.maxReportBytes.default;
    this.sessionTtlMs = options.sessionTtlMs ?? LIMITS.sessionTtlMs.default;
    this.maxSessions = options.maxSessions ?? LIMITS.maxSessions.default;
    this.evictAfterMs = options.evictAfterMs ?? EVICT_AFTER_MS;
    this.clock = options.clock ?? Date.now;
    this.wireAnswers = options.wireAnswers ?? false;
    this.store = options.store;
    this.ownsStore = options.ownsStore ?? false;
    this.safeDirs = new SafeDirs(options.safeDirs ?? []);
    this.loader = new SheetLoader({ safeDirs: this.safeDirs });
    this.engine = options.engine ?? new InProcessEngine({ stepTimeoutMs: this.stepTimeoutMs });
    const interval = Math.max(10, Math.min(60_000, Math.floor(this.sessionTtlMs / 2)));
    this.sweeper = setInterval(() => void this.sweep(), interval);
    this.sweeper.unref();
  }

  async execute(input: unknown, context: RequestContext = {}): Promise<ExecutionResponse> {
    const request = parseRequest("execute", input);
    const id = request.session_id ?? randomUUID();
    const key = keyOf(id, context.owner);
    const release = await this.admit(key, id);
    // Loading throws 403/404 for a file that is outside the safe dirs or missing: no session is made for those.
    const loaded = await this.load(request, context.owner).finally(release);
    if (this.sessions.has(key) || (this.store && (await this.fromStore("get", () => this.store!.get(key))))) throw alreadyExists(id);
    const session = this.open(
      id,
      key,
      loaded.ok ? loaded.sheet.filename : (request.filename ?? request.file_path ?? "sheet"),
      request.html_mode ?? WIRE_HTML_MODE,
      context,
    );
    if (!loaded.ok) {
      this.fail(session, loaded.error);
      return this.answer(session);
    }
    session.bundle = loaded.sheet;
    session.code = codeFor(loaded.sheet, context.owner);
    session.record = {
      sheet: sheetRef(loaded.sheet, request),
      seed: randomSeed(),
      started_at: session.createdAt,
      input_log: [],
      ...(request.func_name !== undefined ? { func_name: request.func_name } : {}),
      ...(request.params !== undefined ? { params: request.params } : {}),
      ...(request.inputs !== undefined ? { inputs: request.inputs } : {}),
      ...(request.trace ? { trace: true as const } : {}),
    };
    const deadline = performance.now() + this.requestTimeoutMs;
    return this.exclusive(session, async () => {
      const logs: string[] = [];
      const outcome = await this.step(session, logs, () =>
        this.engine.open(session.key, session.code!, this.initOf(session.record!), startOf(session.record!)),
      );
      await this.answerFromBatch(session, outcome, logs, deadline);
      return this.answer(session, logs);
    });
  }

  /**
   * Runs a recorded session again under its id (else a new one): the same bundle (rebuilt from where the sheet
   * came from, refused with 409 if it is no longer the same code), seed, clock and answered windows. With
   * `expect`, the session must come back waiting at that window with that report, else it is not the same run:
   * 409, and no session is kept.
   */
  async replay(input: unknown, context: RequestContext = {}): Promise<ExecutionResponse> {
    const request = parseRequest("replay", input);
    const record = request.record;
    const id = request.session_id ?? randomUUID();
    const key = keyOf(id, context.owner);
    const release = await this.admit(key, id);
    let loaded: LoadResult;
    try {
      loaded = await this.load(record.sheet, context.owner).finally(release);
    } catch (error) {
      if (error instanceof Refusal) throw new Refusal("conflict", `starting it again was refused: ${error.message}`);
      throw error;
    }
    if (!loaded.ok) throw new Refusal("conflict", `the sheet no longer builds: ${loaded.error.message}`);
    if (loaded.sheet.hash !== record.sheet.hash)
      throw new Refusal("conflict", "the sheet (or one of its imports) changed since the run started");
    if (this.sessions.has(key)) throw alreadyExists(id);
    const session = this.open(id, key, loaded.sheet.filename, WIRE_HTML_MODE, context);
    session.bundle = loaded.sheet;
    session.code = codeFor(loaded.sheet, context.owner);
    session.record = { ...record, input_log: [...record.input_log] };
    session.answered = new Set(record.input_log.map((entry) => entry.window));
    return this.exclusive(session, async () => {
      const outcome = await retryLost(() =>
        this.engine.restore(key, session.code!, this.initOf(record), startOf(record), record.input_log),
      );
      const mismatch = request.expect ? replayMismatch(outcome, request.expect) : undefined;
      if (mismatch) {
        this.forget(session);
        throw new Refusal("conflict", mismatch.message);
      }
      session.uiSteps = record.input_log.length;
      if (outcome.kind === "ui") this.replays.reload++;
      const logs: string[] = [];
      this.apply(
        session,
        outcome.kind === "lost" ? sandboxFailure("The sandbox lost this session while replaying it; start the run again.") : outcome,
        logs,
      );
      return this.answer(session, logs);
    });
  }

  async resume(input: unknown, context: RequestContext = {}): Promise<ExecutionResponse> {
    const request = parseRequest("resume", input);
    try {
      return await this.resumeOn(await this.session(request.session_id, context, true), request);
    } catch (error) {
      // The copy this process held was behind the store: the request runs again on the stored state.
      if (!(error instanceof StaleCopy)) throw error;
      return this.resumeOn(await this.session(request.session_id, context, false), request);
    }
  }

  private async resumeOn(session: Session, request: RequestOf<"resume">): Promise<ExecutionResponse> {
    // Anything refused on a copy not checked against the store is checked first: it may be the copy that is old.
    const refuse: (refusal: Refusal) => never = (refusal) => {
      if (session.trusted) throw new StaleCopy();
      throw refusal;
    };
    // A finished run's last step, sent again after its answer was lost, is a retry too (its ui_steps is the current one).
    if (request.ui_steps !== undefined && (request.ui_steps !== session.uiSteps || isFinished(session.status))) {
      if (session.trusted) throw new StaleCopy();
      return this.retried(session, request.ui_steps, request.user_input);
    }
    if (session.status !== "waiting_ui" || !session.window) {
      refuse(new Refusal("conflict", `Session '${session.id}' is not waiting for input (status: ${session.status}).`));
    }
    const check = checkWindowInput(session.window, request.user_input);
    if (!check.ok) {
      refuse(
        new Refusal(
          "invalid_input",
          `Invalid input for window '${session.window.id}': ${summarizeFieldErrors(check.errors)}`,
          check.errors,
        ),
      );
    }
    if (request.html_mode) session.htmlMode = request.html_mode;
    const window = session.window;
    const deadline = performance.now() + this.requestTimeoutMs;
    return this.exclusive(session, async () => {
      const logs: string[] = [];
      const outcome = await this.inject(session, window, check.values, request.user_input, logs);
      await this.answerFromBatch(session, outcome, logs, deadline);
      return this.answer(session, logs);
    });
  }

  /**
   * A resume for another step than the one the session waits at (SPEC §6): the same values again for a step
   * already applied (a retry after a lost answer) get the session's current state, whole; anything else is 409.
   */
  private async retried(session: Session, uiSteps: number, userInput: Record<string, unknown>): Promise<ExecutionResponse> {
    await session.pending;
    const applied = session.answers[uiSteps - 1];
    if (uiSteps < 1 || applied === undefined || applied !== answerHash(userInput)) {
      throw new Refusal(
        "conflict",
        `Session '${session.id}' is at step ${session.uiSteps} (status: ${session.status}); these values are for step ${uiSteps}, which ${applied === undefined ? "it has not reached" : "took other values"}.`,
      );
    }
    if (session.reportHash !== undefined) {
      const rebuilt = await retryLost(() => this.rebuild(session));
      if (rebuilt.kind !== "rebuilt") throw new Refusal("conflict", `Session '${session.id}' could not be rebuilt to answer again.`);
    }
    if (session.report.forgotten) {
      // One replay for retries that arrive together: the others find the report back.
      const recalled = session.pending.then(() => this.recall(session));
      session.pending = recalled.then(settledQuietly, settledQuietly);
      await recalled;
    }
    return this.respond(session, [], true);
  }

  /**
   * A completed run's report, let go once it was answered (ReportBody.forget), made again by replaying the run for
   * a retry of that answer. The replay must end the same way: done, with a report as long and the same value.
   */
  private async recall(session: Session): Promise<void> {
    if (!session.report.forgotten) return;
    const { record, code } = session;
    const outcome =
      record && code
        ? await retryLost(() => this.engine.restore(session.key, code, this.initOf(record), startOf(record), record.input_log))
        : undefined;
    this.engine.drop(session.key);
    if (
      outcome?.kind !== "done" ||
      outcome.html.length !== session.report.length ||
      JSON.stringify(outcome.value ?? null) !== JSON.stringify(session.value ?? null)
    ) {
      throw new Refusal("conflict", `Session '${session.id}' could not be rebuilt to answer again: its replay did not end as the run did.`);
    }
    const report = new ReportBody(this.store !== undefined);
    report.append(outcome.html, outcome.figures);
    session.report = report;
    this.replays.answer_again++;
  }

  async cancel(input: unknown, context: RequestContext = {}): Promise<CancelResponse> {
    const request = parseRequest("cancel", input);
    const session = await this.session(request.session_id, context);
    await session.pending;
    if (session.status === "cancelled") return { status: "cancelled", session_id: session.id };
    if (session.status === "completed" || session.status === "error") {
      throw new Refusal(
        "conflict",
        `Session '${session.id}' has already finished (status: ${session.status}); there is nothing to cancel.`,
      );
    }
    await this.exclusive(session, () => this.cancelRun(session));
    await this.commit(session);
    return { status: "cancelled", session_id: session.id };
  }

  async getSession(input: unknown, context: RequestContext = {}): Promise<SessionInfo> {
    const request = parseRequest("getSession", input);
    if (this.store) {
      const stored = await this.fromStore("get", () => this.store!.get(keyOf(request.session_id, context.owner)));
      if (!stored) throw notFound(request.session_id);
      return sessionInfo(stored);
    }
    return this.info(this.require(request.session_id, context));
  }

  async listSessions(_input?: unknown, context: RequestContext = {}): Promise<SessionListResponse> {
    if (this.store) return { sessions: (await this.fromStore("list", () => this.store!.list(ownerScope(context.owner)))).map(sessionInfo) };
    for (const key of [...this.sessions.keys()]) this.expireIfIdle(key);
    return { sessions: [...this.sessions.values()].filter((s) => s.owner === context.owner).map((s) => this.info(s)) };
  }

  async health(): Promise<HealthResponse> {
    const active = this.sessions.live;
    if (this.store) await this.fromStore("ping", () => this.store!.ping());
    return { status: "healthy", active_sessions: active, version: VERSION, store: this.store?.description ?? "memory" };
  }

  /**
   * The editor's Run Study, in the local child: the cases run here as `uzoncalc study` runs them, `jobs` at a time,
   * and the study's files are written into `output_dir`. The sheet, the cases file and the folder must all be inside
   * the safe dirs (the workspace): the child writes nowhere else.
   */
  async study(input: unknown, context: RequestContext = {}): Promise<StudyResponse> {
    const request = parseRequest("study", input);
    const sheetPath = this.safeDirs.resolveSheet(request.file_path);
    const casesPath = this.safeDirs.resolveSheet(request.cases_path);
    const outputDir = path.resolve(request.output_dir);
    if (!this.safeDirs.contains(outputDir))
      throw new Refusal("forbidden", `${request.output_dir} is outside the safe directories (${this.safeDirs.describe()}).`);
    let study;
    try {
      study = readCases(casesPath);
    } catch (error) {
      if (error instanceof CasesFileError) throw new Refusal("bad_request", error.message);
      throw error;
    }
    fs.mkdirSync(outputDir, { recursive: true });
    const sandbox: StudySandbox = {
      execute: (request) => this.execute(request, context),
      cancel: (request) => this.cancel(request, context),
      inputLog: (sessionId) => this.inputLog(sessionId, context),
    };
    // No terminal to draw progress on: the outcome's own line says how the study went.
    const outcome = await runStudy({ sheetPath, casesFile: casesPath, study, outputDir }, sandbox, request.jobs ?? 1, {
      write: () => undefined,
    });
    return {
      status: outcome.code === 0 ? "completed" : "failed",
      ...(outcome.html !== undefined ? { html: outcome.html } : {}),
      ...(outcome.csv !== undefined ? { csv: outcome.csv } : {}),
      cases: outcome.cases,
      failed: outcome.failed,
      message: outcome.message,
    };
  }

  /**
   * Bundles the sheet into the cache and compiles it in the members running now, so its first run waits for neither
   * (the editor asks when it opens one).
   */
  async prepare(input: unknown, context: RequestContext = {}): Promise<PrepareResponse> {
    const loaded = await this.load(parseRequest("prepare", input), context.owner);
    if (loaded.ok) this.engine.preload?.(codeFor(loaded.sheet, context.owner));
    return { status: loaded.ok ? "ok" : "error" };
  }

  async invalidateCache(input: unknown): Promise<InvalidateCacheResponse> {
    const path = parseRequest("invalidateCache", input).file_path;
    const count = this.loader.invalidate(path);
    return {
      status: "ok",
      message:
        path === undefined
          ? `Cache cleared (${count} sheet${count === 1 ? "" : "s"}).`
          : `Cache invalidated for ${path} (${count} entr${count === 1 ? "y" : "ies"}).`,
    };
  }

  /** What it takes to run this session again: for the local sandbox client, which keeps it across child restarts. */
  sessionRecord(id: string, context: RequestContext = {}): SessionRecord {
    const session = this.require(id, context);
    if (!session.record) throw new Refusal("conflict", `Session '${id}' has no sheet to replay (it failed to load).`);
    return { ...session.record, input_log: [...session.record.input_log] };
  }

  /** The session's input log as it grows (not a copy): for the local child, which sends the client what is new. */
  inputLog(id: string, context: RequestContext = {}): readonly InputLogEntry[] {
    return this.require(id, context).record?.input_log ?? [];
  }

  /** Sessions by status, for metrics. */
  countByStatus(): Record<SessionStatus, number> {
    const counts = { idle: 0, running: 0, waiting_ui: 0, completed: 0, error: 0, cancelled: 0 };
    for (const session of this.sessions.values()) counts[session.status]++;
    return counts;
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
      this.sessions.delete(session.key);
      if (session.status === "waiting_ui" && !session.evicted) await this.engine.cancel(session.key).catch(() => undefined);
      this.engine.drop(session.key);
    }
    if (this.evictAfterMs > 0) {
      for (const session of this.sessions.values()) {
        if (session.status === "waiting_ui" && !session.evicted && session.lastActivity < now - this.evictAfterMs) this.dropRealm(session);
      }
    }
    return idle.length;
  }

  /** Drops a paused session's realm from memory; it is rebuilt by replay when next needed. */
  evict(sessionId: string, context: RequestContext = {}): void {
    const session = this.sessions.get(keyOf(sessionId, context.owner));
    if (session) this.dropRealm(session);
  }

  private dropRealm(session: Session): void {
    if (session.status !== "waiting_ui") return;
    this.engine.drop(session.key);
    session.report.dropWire();
    session.evicted = true;
    session.replayCause = "evicted";
  }

  stats(): { sessions: number; liveRealms: number; evicted: number; restores: number } {
    let evicted = 0;
    for (const session of this.sessions.values()) if (session.evicted) evicted++;
    // Rebuilds of sessions this executor held or took over; a client's replay of its own record is not one.
    const { member, evicted: idle, new_replica, stale_realm } = this.replays;
    return {
      sessions: this.sessions.size,
      liveRealms: this.engine.liveRealms,
      evicted,
      restores: member + idle + new_replica + stale_realm,
    };
  }

  /** Rebuilds by replay so far, by cause. */
  replayCounts(): Record<ReplayCause, number> {
    return { ...this.replays };
  }

  /** Calls to the session store so far and the time they took, by operation (none without a store). */
  storeStats(): Partial<Record<StoreOp, { calls: number; seconds: number }>> {
    return structuredClone(this.storeTimings);
  }

  /** Queueing in front of the engine's members, when it has members. */
  queueStats(): ReturnType<NonNullable<RealmEngine["queueStats"]>> | undefined {
    return this.engine.queueStats?.();
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
    for (const session of this.sessions.values()) this.engine.drop(session.key);
    this.sessions.clear();
    await this.engine.close();
    if (this.ownsStore) await this.store?.close();
  }

  // ---- internals -------------------------------------------------------------------------------------------

  /** Room for a new session under `id`: not taken, and under the limit of live sessions. */
  /**
   * Holds a place for a new session under `id` while its sheet loads, counted with the live sessions, so requests
   * that arrive together cannot all pass the limit before any of them is a session. The caller releases it when
   * the load is done: the session is made right after, with no await between.
   */
  private async admit(key: string, id: string): Promise<() => void> {
    this.expireIfIdle(key);
    if (this.sessions.has(key)) throw alreadyExists(id);
    if (this.liveSessions() + this.admitting >= this.maxSessions) {
      await this.sweep();
      if (this.liveSessions() + this.admitting >= this.maxSessions) {
        throw new Refusal(
          "too_many_sessions",
          `The sandbox is running its limit of ${this.maxSessions} sessions; finish or cancel one, or try again later.`,
        );
      }
    }
    this.forgetOldestFinished();
    this.admitting++;
    let held = true;
    return () => {
      if (held) this.admitting--;
      held = false;
    };
  }

  /** Loads through the owner's own bundle cache: whether another token ran a sheet does not show in the timing. */
  private load(sheet: Pick<ExecuteRequest, "file_path" | "source" | "filename" | "files">, owner: string | undefined): Promise<LoadResult> {
    const scope = ownerScope(owner);
    return sheet.file_path !== undefined
      ? this.loader.loadFile(sheet.file_path, scope)
      : this.loader.loadSource(sheet.source ?? "", sheet.filename, sheet.files, scope);
  }

  private open(id: string, key: string, filename: string, htmlMode: HtmlMode, context: RequestContext): Session {
    const now = this.clock();
    const session: Session = {
      id,
      key,
      status: "idle",
      createdAt: now,
      updatedAt: now,
      lastActivity: now,
      uiSteps: 0,
      report: new ReportBody(this.store !== undefined),
      sent: 0,
      trace: new RunTrace(),
      answered: new Set(),
      htmlMode,
      filename,
      owner: context.owner,
      pending: Promise.resolve(),
      rev: 0,
      answers: [],
    };
    this.sessions.set(key, session);
    return session;
  }

  private forget(session: Session): void {
    this.sessions.delete(session.key);
    this.engine.drop(session.key);
  }

  private liveSessions(): number {
    return this.sessions.live;
  }

  /** Keeps fewer than `maxSessions` finished sessions, forgetting the ones that finished first. */
  private forgetOldestFinished(): void {
    this.sessions.trimFinished(this.maxSessions - 1);
  }

  private require(id: string, context: RequestContext = {}): Session {
    const key = keyOf(id, context.owner);
    this.expireIfIdle(key);
    const session = this.sessions.get(key);
    if (!session) throw notFound(id);
    return session;
  }

  /**
   * The session to act on. With a store, the store says where the session is: the one this process holds if it
   * is at the stored rev, else the stored one, taken over (its realm rebuilt by replay when first needed).
   */
  private async session(id: string, context: RequestContext, trust = false): Promise<Session> {
    if (!this.store) return this.require(id, context);
    const key = keyOf(id, context.owner);
    const cached = this.sessions.get(key);
    // `trust`: the copy this process holds is used without a round trip to the store; the commit's rev check
    // catches a copy another replica moved past (StaleCopy), and the request then runs on the stored state.
    if (trust && cached && cached.rev > 0 && !this.adopting.has(key)) {
      cached.trusted = true;
      return cached;
    }
    const stored = await this.fromStore("get", () => this.store!.get(key));
    const local = this.sessions.get(key);
    if (!stored) {
      if (local) this.forget(local);
      throw notFound(id);
    }
    if (local && local.rev === stored.rev) {
      local.trusted = false;
      return local;
    }
    let adopting = this.adopting.get(key);
    if (!adopting) {
      adopting = this.adopt(key, stored, context).finally(() => this.adopting.delete(key));
      this.adopting.set(key, adopting);
    }
    return adopting;
  }

  /** A stored session made this process's own: everything but the realm and the report, which a replay rebuilds. */
  private async adopt(key: string, stored: StoredSession, context: RequestContext): Promise<Session> {
    const previous = this.sessions.get(key);
    const wasStale = this.staleKeys.delete(key);
    if (previous) this.forget(previous);
    let bundle: LoadedSheet | undefined;
    if (stored.record) {
      const saved = await this.fromStore("load_bundle", () => this.store!.loadBundle(stored.record!.sheet.hash));
      if (!saved) {
        throw new Refusal(
          "conflict",
          `Session '${stored.id}' cannot be continued: the code it started with is no longer in the session store; start the run again.`,
        );
      }
      bundle = loadedFromStore(saved);
    }
    const session = this.open(stored.id, key, stored.filename, stored.html_mode, context);
    session.status = stored.status;
    session.createdAt = stored.created_at;
    session.updatedAt = stored.updated_at;
    session.uiSteps = stored.ui_steps;
    session.rev = stored.rev;
    session.answers = [...stored.answers];
    if (stored.window) session.window = stored.window;
    if (stored.error) session.error = stored.error;
    if (stored.record && bundle) {
      session.record = stored.record;
      session.bundle = bundle;
      session.code = codeFor(bundle, context.owner);
      session.answered = new Set(stored.record.input_log.map((entry) => entry.window));
    }
    if (stored.finished) {
      // A finished report comes back from the store without its realm's word on figures: this once, it is looked at.
      session.report.append(stored.finished.html, stored.finished.html.includes('data-plot="'));
      if (stored.finished.value !== undefined) session.value = stored.finished.value;
      if (stored.finished.result !== undefined) session.result = wholeDocument(stored.finished.result);
    } else if (stored.status === "waiting_ui") {
      session.reportHash = stored.report_hash;
      session.evicted = true;
      session.replayCause = previous || wasStale ? "stale_realm" : "new_replica";
    }
    session.sent = session.report.mark;
    this.sessions.settled(session);
    return session;
  }

  /** Commits a step to the store (if any), then answers it: nothing is acknowledged that the store does not hold. */
  private async answer(session: Session, logs: string[] = []): Promise<ExecutionResponse> {
    await this.commit(session);
    return this.respond(session, logs);
  }

  /**
   * Writes the session at rev+1 if the store still has it at its rev. A session another request moved on first,
   * or one the store could not take, is dropped here: this process must not answer from a state the store does
   * not have.
   */
  private async commit(session: Session): Promise<void> {
    if (!this.store) return;
    const next = this.stored(session, session.rev + 1);
    let written: boolean;
    try {
      if (session.bundle && this.bundleStale(session.bundle.hash)) {
        const bundle = session.bundle;
        await this.fromStore("save_bundle", () => this.store!.saveBundle(storedBundle(bundle)));
        this.storedBundles.set(bundle.hash, this.clock());
      }
      written = await this.fromStore("commit", () => this.store!.commit(session.key, session.rev === 0 ? undefined : session.rev, next));
    } catch (error) {
      this.forget(session);
      throw error;
    }
    if (!written) {
      this.forget(session);
      if (session.trusted) {
        this.staleKeys.add(session.key);
        throw new StaleCopy();
      }
      throw session.rev === 0
        ? alreadyExists(session.id)
        : new Refusal(
            "conflict",
            `Session '${session.id}' was moved on by another request first (one step is applied, the other refused); get its status and answer the window it waits at.`,
          );
    }
    session.rev = next.rev;
    session.trusted = false;
  }

  /** A bundle not put in the store by this process within half a TTL (the store may have let it expire). */
  private bundleStale(hash: string): boolean {
    const saved = this.storedBundles.get(hash);
    return saved === undefined || saved < this.clock() - this.sessionTtlMs / 2;
  }

  private stored(session: Session, rev: number): StoredSession {
    const stored: StoredSession = {
      id: session.id,
      owner: ownerScope(session.owner),
      rev,
      status: session.status,
      created_at: session.createdAt,
      updated_at: session.updatedAt,
      ui_steps: session.uiSteps,
      filename: session.filename,
      html_mode: session.htmlMode,
      report_hash: session.reportHash ?? session.report.hash,
      answers: session.answers,
    };
    if (session.status === "waiting_ui" && session.window) stored.window = session.window;
    if (session.record) {
      const { source: _source, files: _files, ...sheet } = session.record.sheet;
      stored.record = { ...session.record, sheet };
    }
    if (session.error) stored.error = session.error;
    if (isFinished(session.status)) {
      stored.finished = { html: session.report.text };
      if (session.value !== undefined) stored.finished.value = session.value;
      if (session.status === "completed") stored.finished.result = documentText(session.result ?? completedDocument(session));
    }
    return stored;
  }

  /** Runs a store call, timed for /metrics; a store that cannot be reached is the request's 503. */
  private async fromStore<T>(op: StoreOp, call: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await call();
    } catch (error) {
      throw this.storeRefusal(error);
    } finally {
      const timing = (this.storeTimings[op] ??= { calls: 0, seconds: 0 });
      timing.calls++;
      timing.seconds += (performance.now() - started) / 1000;
    }
  }

  private storeRefusal(error: unknown): unknown {
    if (!(error instanceof StoreUnavailableError)) return error;
    return new Refusal(
      "store_unavailable",
      `The session store (${this.store?.description ?? "?"}) cannot be reached: ${error.message}. Nothing was applied; send the request again.`,
      undefined,
      "The service recovers by itself when the store is back.",
    );
  }

  /** Lazy expiry, so a TTL holds even between sweeps. The realm is dropped; its finally runs in the next sweep's place. */
  private expireIfIdle(key: string): void {
    const session = this.sessions.get(key);
    if (!session || session.lastActivity >= this.clock() - this.sessionTtlMs) return;
    this.sessions.delete(key);
    if (session.status === "waiting_ui" && !session.evicted)
      void this.engine
        .cancel(key)
        .catch(() => undefined)
        .finally(() => this.engine.drop(key));
    else this.engine.drop(key);
  }

  private async exclusive<T>(session: Session, work: () => Promise<T>): Promise<T> {
    session.status = "running";
    const run = session.pending.then(work);
    session.pending = run.then(settledQuietly, settledQuietly);
    try {
      return await run;
    } catch (error) {
      if (session.status === "running") {
        this.fail(session, {
          name: "SandboxError",
          message: `The sandbox failed while running this step: ${error instanceof Error ? error.message : String(error)}`,
        });
      }
      throw error;
    } finally {
      session.lastActivity = this.clock();
      session.updatedAt = session.lastActivity;
      this.sessions.settled(session);
    }
  }

  private initOf(record: SessionRecord): { seed: number; now: number } {
    return { seed: record.seed, now: record.started_at };
  }

  /** Runs one operation on the session's realm and applies what it gave. */
  private async step(session: Session, logs: string[], operation: () => Promise<EngineOutcome>): Promise<RealmOutcome> {
    session.status = "running";
    const outcome = await this.onRealm(session, operation);
    this.apply(session, outcome, logs);
    return outcome;
  }

  private async inject(
    session: Session,
    window: WindowSpec,
    values: Record<string, FieldValue>,
    raw: unknown,
    logs: string[],
  ): Promise<RealmOutcome> {
    session.status = "running";
    const outcome = await this.onRealm(session, () => this.engine.resume(session.key, values));
    // Logged once the realm has taken the values, so a rebuild before this step replays only what came before.
    session.record!.input_log.push({ window: window.id, values, legend: windowLegend(window) });
    session.answers.push(answerHash(raw));
    session.answered.add(window.id);
    session.window = undefined;
    this.apply(session, outcome, logs);
    return outcome;
  }

  /**
   * Runs an operation on a session's realm. A realm the engine no longer holds (evicted, or its member died) is
   * rebuilt by replay, checked against the session's report, and the operation tried again; a member killed
   * again meanwhile (even during the rebuild) costs another try, with a growing wait, up to a bound.
   */
  private async onRealm(session: Session, operation: () => Promise<EngineOutcome>): Promise<RealmOutcome> {
    const outcome = await retryLost(async (retry) => {
      if (retry > 0) {
        const rebuilt = await this.rebuild(session);
        if (rebuilt.kind !== "rebuilt") return rebuilt;
      }
      return operation();
    });
    if (outcome.kind !== "lost") return outcome;
    return sandboxFailure(
      outcome.running
        ? `The sandbox member running this session's step stopped ${LOST_RETRY.maxRunningLosses} times in a row; start the run again, and if it happens again, look for what in this step could crash its process.`
        : `The sandbox could not rebuild this session's sheet within ${LOST_RETRY.budgetMs / 1000} s: its members kept stopping; start the run again.`,
    );
  }

  /**
   * Builds the session's realm again from its record (replay.ts): `rebuilt`, or an outcome to end the session
   * with (`lost`: try again) if it cannot be.
   */
  private async rebuild(session: Session): Promise<EngineOutcome | { kind: "rebuilt" }> {
    const record = session.record!;
    const outcome = await this.engine.restore(session.key, session.code!, this.initOf(record), startOf(record), record.input_log);
    if (outcome.kind === "lost" || outcome.kind === "error") return outcome;
    // A session taken from the store has no report yet: the replay's must hash to the one the store recorded.
    const adopted = session.reportHash !== undefined;
    const report = adopted && outcome.kind === "ui" && reportHash(outcome.html) === session.reportHash ? outcome.html : session.report.text;
    const expected: ReplayExpectation = { window: session.window?.id ?? "", report };
    const mismatch = replayMismatch(outcome, expected);
    if (mismatch) {
      this.engine.drop(session.key);
      return errorOutcome(mismatch);
    }
    if (adopted && outcome.kind === "ui") {
      session.report = new ReportBody(this.store !== undefined);
      session.report.append(outcome.html, outcome.figures);
      session.reportHash = undefined;
      session.sent = session.report.mark;
    }
    this.replays[session.replayCause ?? "member"]++;
    session.replayCause = undefined;
    session.evicted = false;
    return { kind: "rebuilt" };
  }

  /**
   * Answers windows from the request's `inputs` without pausing; invalid inputs leave the session waiting there.
   * Past the request's deadline the run ends, so no request computes for longer than that plus one step.
   */
  private async answerFromBatch(session: Session, outcome: RealmOutcome, logs: string[], deadline: number): Promise<RealmOutcome> {
    const batch = session.record?.inputs;
    while (outcome.kind === "ui" && session.window && batch && Object.prototype.hasOwnProperty.call(batch, session.window.id)) {
      const window = session.window;
      if (performance.now() > deadline) {
        this.fail(session, {
          name: "TimeoutError",
          message: `This request answered windows from \`inputs\` for longer than the request time limit of ${this.requestTimeoutMs} ms and was stopped at window '${window.id}'. Send fewer windows in one request, or raise the limit (--request-timeout).`,
          limit: "time",
        });
        return outcome;
      }
      const check = checkWindowInput(window, batch[window.id]!);
      if (!check.ok) {
        session.inputErrors = check.errors;
        return outcome;
      }
      outcome = await this.inject(session, window, check.values, batch[window.id], logs);
    }
    return outcome;
  }

  private async cancelRun(session: Session): Promise<void> {
    const outcome = await this.onRealm(session, () => this.engine.cancel(session.key));
    this.engine.drop(session.key);
    session.report.append(outcome.html, outcome.figures);
    session.window = undefined;
    session.status = "cancelled";
    session.trace.clear();
  }

  private apply(session: Session, outcome: RealmOutcome, logs: string[]): void {
    if (session.report.length + outcome.html.length > this.maxReportBytes) {
      // The step's output is left out: the report so far is kept, and the run ends here.
      const mb = (n: number) => `${(n / 1_048_576).toFixed(1)} MB`;
      this.fail(session, {
        name: "ReportLimitError",
        message: `The report would grow to ${mb(session.report.length + outcome.html.length)}, past the report size limit of ${mb(this.maxReportBytes)}; the run was stopped before this step's output. Write less per step, or raise the limit (--max-report).`,
        limit: "report",
      });
      return;
    }
    session.report.append(outcome.html, outcome.figures);
    logs.push(...outcome.logs);
    session.trace.add(outcome.trace);
    switch (outcome.kind) {
      case "ui":
        // The realm refuses a window id reached twice; a sheet that yields an old request again gets past that.
        if (session.answered.has(outcome.window.id)) {
          this.fail(session, {
            name: "Error",
            message: `Window id '${outcome.window.id}' is reached twice in this run: it was answered already. Give each window its own \`id\`.`,
          });
          return;
        }
        session.status = "waiting_ui";
        session.window = outcome.window;
        session.uiSteps++;
        return;
      case "done": {
        session.status = "completed";
        session.value = outcome.value as JsonValue;
        session.window = undefined;
        session.result = completedDocument(session);
        return;
      }
      case "cancelled":
        session.status = "cancelled";
        session.window = undefined;
        return;
      case "error":
        this.fail(
          session,
          session.bundle ? mapSheetError(session.bundle, outcome.error) : { name: outcome.error.name, message: outcome.error.message },
        );
        return;
    }
  }

  private fail(session: Session, error: SheetError): void {
    session.status = "error";
    session.error = error;
    session.window = undefined;
    this.sessions.settled(session);
    this.engine.drop(session.key);
  }

  /** `whole`: the whole report whatever the session's html mode (an answer sent again after it was lost). */
  private respond(session: Session, logs: string[] = [], whole = false): ExecutionResponse {
    const status =
      session.status === "waiting_ui" || session.status === "completed" || session.status === "error" || session.status === "cancelled"
        ? session.status
        : "error";
    const response: ExecutionResponse = { status, session_id: session.id, ui_steps: session.uiSteps };
    const report = session.report;
    // The report text also as the JSON server will write it (wireJson.ts), where it is the steps' text as sent.
    const wire: Record<string, WireString> = {};
    const wireOf = (field: string, bytes: WireString | undefined) => {
      if (bytes !== undefined) wire[field] = bytes;
    };
    const wired = this.wireAnswers && !report.figures && report.length >= WIRE_MIN_CHARS;
    if (session.status === "waiting_ui" && session.window) response.ui = session.window;
    // The report as handed out has its figures drawn (plots.ts); the session keeps it as the realm wrote it.
    if (session.htmlMode === "delta" && !whole) {
      response.html_delta = drawn(report, report.since(session.sent));
      if (wired) wireOf("html_delta", report.wireSince(session.sent));
    } else {
      response.html = drawn(report, report.text);
      if (wired) wireOf("html", report.wireSince(0));
    }
    session.sent = report.mark;
    if (session.status === "completed") {
      const document = session.result ?? completedDocument(session);
      response.result = documentText(document);
      if (this.wireAnswers) wireOf("result", documentWire(document, report));
      // Not kept past the answer that carries it: the document repeats the whole report, and a busy service
      // keeps many finished sessions (measured: 1.3 GB of them). A later request builds it again.
      session.result = undefined;
      response.value = session.value ?? null;
    }
    if (session.status === "completed") report.forget();
    else if (isFinished(session.status)) report.seal();
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
    return Object.keys(wire).length > 0 ? withWireFields(response, wire) : response;
  }

  private info(session: Session): SessionInfo {
    return sessionInfo({ ...session, ui_steps: session.uiSteps, created_at: session.createdAt, updated_at: session.updatedAt });
  }
}

/** The session copy a request ran on was behind the store: nothing was applied, and the request runs again. */
class StaleCopy extends Error {
  override readonly name = "StaleCopy";
}

function notFound(id: string): Refusal {
  // Another token's session is not found under this token's key: its existence is not disclosed.
  return new Refusal("not_found", `Unknown session '${id}' (it may have expired).`);
}

/** The same hash ReportBody keeps as it grows, of a whole text. */
function reportHash(text: string): string {
  return hash("sha256", text, "base64url");
}

/** SessionInfo (SPEC §2) of a session held here or in the store. */
function sessionInfo(session: Pick<StoredSession, "id" | "status" | "ui_steps" | "error" | "created_at" | "updated_at">): SessionInfo {
  return {
    session_id: session.id,
    status: session.status,
    ui_steps: session.ui_steps,
    has_error: session.status === "error",
    error_message: session.error?.message ?? null,
    created_at: new Date(session.created_at).toISOString(),
    updated_at: new Date(session.updated_at).toISOString(),
  };
}

/** Which code a session runs and where it came from (protocol/session.ts SheetRef). */
function sheetRef(bundle: LoadedSheet, request: ExecuteRequest): SheetRef {
  const origin =
    request.file_path !== undefined
      ? { file_path: request.file_path }
      : { source: request.source ?? "", ...(request.files !== undefined ? { files: request.files } : {}) };
  return { hash: bundle.hash, filename: bundle.filename, ...origin };
}

/** Scopes of the tokens seen: only tokens that passed authentication get here, so these are the configured few. */
const scopes = new Map<string, string>();

/**
 * A short, stable name for a token: scopes ids and caches without the token itself travelling to sheet members.
 * Hashed once per token, not on every request.
 */
function ownerScope(owner: string | undefined): string {
  if (owner === undefined) return "";
  let scope = scopes.get(owner);
  if (scope === undefined) scopes.set(owner, (scope = hash("sha256", owner, "base64url").slice(0, 22)));
  return scope;
}

/** A session's key: its id within its owner's sessions. */
function keyOf(id: string, owner: string | undefined): string {
  return owner === undefined ? id : `${ownerScope(owner)}:${id}`;
}

/**
 * The bundle as an engine runs it: cached per owner (a compiled script another token left warm does not show),
 * and charged to its owner's scope when it runs away.
 */
function codeFor(bundle: LoadedSheet, owner: string | undefined): SheetCode {
  const tenant = ownerScope(owner);
  const scopedHash = owner === undefined ? bundle.hash : hash("sha256", `${tenant}:${bundle.hash}`, "hex");
  return { hash: scopedHash, code: bundle.code, scriptName: bundle.scriptName, tenant };
}
