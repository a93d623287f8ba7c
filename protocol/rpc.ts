// Wire shapes of the sandbox RPC (SPEC §2). Field names are snake_case because they cross HTTP as JSON.

import type { WindowSpec } from "./fields";
import { isRecord, nestsWithin, type JsonObject, type JsonValue } from "./json";
import { MAX_JSON_DEPTH } from "./limits";

export const SESSION_STATUSES = ["idle", "running", "waiting_ui", "completed", "error", "cancelled"] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];
export type ResponseStatus = "waiting_ui" | "completed" | "error" | "cancelled";

export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

export type HtmlMode = "full" | "delta";

export interface ExecuteRequest {
  file_path?: string;
  source?: string;
  filename?: string;
  /** Local imports of a `source` sheet, by path relative to it. */
  files?: Record<string, string>;
  func_name?: string;
  session_id?: string;
  params?: JsonObject;
  /** `{ [window_id]: values }`: windows found here are answered without pausing. */
  inputs?: Record<string, Record<string, unknown>>;
  html_mode?: HtmlMode;
  /**
   * Answer with `trace` (the values beside the code, with each line's formula as text) for this session: the
   * editor asks for it. Off by default: building it costs about a quarter of a rendered step.
   */
  trace?: boolean;
}

export interface ResumeRequest {
  session_id: string;
  user_input: Record<string, unknown>;
  html_mode?: HtmlMode;
  /**
   * The `ui_steps` of the answer whose window these values fill (SPEC §6): a retry of a step already applied
   * with the same values answers the session's current state; other values for it, or any other stale step, are 409.
   */
  ui_steps?: number;
}

/** A request about one session: cancel it, or read its status. */
export interface SessionRequest {
  session_id: string;
}

/** A request that takes nothing (health, the session list). */
export type NoRequest = Record<string, never>;

export interface InvalidateCacheRequest {
  file_path?: string;
}

/** Bundles a sheet ahead of its first run (the local child's only: the editor sends it when a sheet opens or is saved). */
export interface PrepareRequest {
  file_path: string;
}

/**
 * A study (the local child's only: the editor's Run Study): the sheet run once per case of `cases_path`, the study's
 * files written into `output_dir` as `uzoncalc study` writes them. Every path must be inside the child's safe dirs.
 */
export interface StudyRequest {
  file_path: string;
  cases_path: string;
  output_dir: string;
  /** How many cases run at once; default 1 (the editor's child shares its members with the runs). */
  jobs?: number;
}

/** Where and why a sheet failed. line/column are 1-based in the sheet's own source. */
export interface SheetError {
  message: string;
  name?: string;
  line?: number;
  column?: number;
  /** Set when the error is in an imported file: its path relative to the sheet. */
  file?: string;
  stack?: string;
  /** Which sandbox limit ended the run, when one did. */
  limit?: "time" | "memory" | "report";
}

export interface ExecutionResponse {
  status: ResponseStatus;
  session_id: string;
  ui_steps: number;
  ui?: WindowSpec;
  html?: string;
  html_delta?: string;
  result?: string;
  value?: JsonValue;
  error?: SheetError;
  /** Field errors for a window that batch `inputs` answered wrongly; the session waits at that window. */
  input_errors?: Record<string, string>;
  /** Lines the sheet wrote with console.log and friends during this response's steps. */
  logs?: string[];
  /**
   * Values in the editor: the last value of each rendered (line, name) pair, ordered by line. With
   * `html_mode: "delta"` only what this response's steps evaluated (merge it over what you had: later wins);
   * with full html the whole run so far. Absent when empty. At most MAX_TRACE_ENTRIES entries.
   */
  trace?: TraceEntry[];
  /** Set when `trace` was cut at MAX_TRACE_ENTRIES (the first entries by line are kept). */
  trace_truncated?: true;
}

/** One scalar of a traced value: a finite number, boolean, string (first 200 characters, then "…") or null. */
export type TraceScalar = number | string | boolean | null;
/** A traced value as JSON: a scalar, or a short flat array of scalars (as the report shows arrays). */
export type TraceValue = TraceScalar | TraceScalar[];

/**
 * The value one rendered assignment (`const x = e`, `x = e`, `x += e`, `o.p = e`, a bare `x;` or `a < b;`)
 * had when the step ended, for showing beside the code.
 */
export interface TraceEntry {
  /** 1-based line, in the sheet's own source file, where the statement starts. */
  line: number;
  /** The target as written (`x`, `M_Ed`, `o.p`); "" for a bare expression such as `a < b;`. */
  name: string;
  /**
   * The value as JSON: a finite number, boolean, string (cut at 200 characters with "…"), or a short array of
   * those; null for null, undefined, NaN, ±Infinity and bigint (`display` shows what they are).
   */
  value: TraceValue;
  /**
   * The value as the report shows it, plain text (no markup): the sheet's number format ("2.592×10⁶", "−0.35",
   * "1 250,5"), a quantity with its unit ("3.2 m"), strings in quotes ("“C30/37”"), "true", "—" for
   * null/undefined, "[1, 2, 3]".
   */
  display: string;
  /** A quantity's unit as the report shows it ("kN·m"), which `display` already ends with; absent for plain values. */
  unit?: string;
  /**
   * The report's line for this value as one line of plain text, for a hover: `M = (g.q · b²)/8 = (10 · 7.5²)/8 =
   * 70.313` (fractions as a/b, powers as superscripts or ^, √, subscripts as `_`, cases as `{ a if …; b`). Absent
   * when the last evaluation was not drawn in the report (a line in a loop past its render cap). At most 500
   * characters, then "…".
   */
  formula?: string;
}

/** Entries per response (and kept per session): a sheet with more rendered lines gets `trace_truncated`. */
export const MAX_TRACE_ENTRIES = 2000;

export interface SessionInfo {
  session_id: string;
  status: SessionStatus;
  ui_steps: number;
  has_error: boolean;
  error_message: string | null;
  created_at: string;
  updated_at: string;
}

export interface CancelResponse {
  status: "cancelled";
  session_id: string;
}

export interface HealthResponse {
  status: "healthy";
  active_sessions: number;
  version: string;
  /** Where sessions live (SPEC §6): "memory", or the store's URL without its password. */
  store?: string;
}

export interface InvalidateCacheResponse {
  status: "ok";
  message: string;
}

/** Whether the sheet is bundled and cached; a sheet that does not compile says why on its run, not here. */
export interface PrepareResponse {
  status: "ok" | "error";
}

/** How a study ended: its files (absent when it could not run), how many cases ran and failed, one line about it. */
export interface StudyResponse {
  status: "completed" | "failed";
  html?: string;
  csv?: string;
  cases: number;
  failed: number;
  message: string;
}

export interface SessionListResponse {
  sessions: SessionInfo[];
}

// ---- request parsing: one place that turns an untrusted body into a typed request or a 400 message ----

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

function optionalString(body: Record<string, unknown>, key: string): string | undefined | Error {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  return typeof value === "string" ? value : new Error(`\`${key}\` must be a string.`);
}

function parseHtmlMode(value: unknown): HtmlMode | undefined | Error {
  if (value === undefined || value === null) return undefined;
  return value === "full" || value === "delta" ? value : new Error('`html_mode` must be "full" or "delta".');
}

export function parseSessionId(value: unknown, key = "session_id"): Parsed<string> {
  if (typeof value !== "string") return { ok: false, message: `\`${key}\` is required (a string).` };
  if (!SESSION_ID_PATTERN.test(value)) return { ok: false, message: `\`${key}\` must be 1–128 letters, digits, '_' or '-'.` };
  return { ok: true, value };
}

export function parseExecuteRequest(body: unknown): Parsed<ExecuteRequest> {
  if (!isRecord(body)) return { ok: false, message: "The request body must be a JSON object." };
  const request: ExecuteRequest = {};
  for (const key of ["file_path", "source", "filename", "func_name"] as const) {
    const value = optionalString(body, key);
    if (value instanceof Error) return { ok: false, message: value.message };
    if (value !== undefined) request[key] = value;
  }
  if (request.file_path === undefined && request.source === undefined) {
    return { ok: false, message: "Give the sheet as `file_path` or as `source`." };
  }
  if (request.file_path !== undefined && request.source !== undefined) {
    return { ok: false, message: "Give either `file_path` or `source`, not both." };
  }
  if (request.func_name !== undefined && !/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(request.func_name)) {
    return { ok: false, message: "`func_name` must be an identifier." };
  }
  if (body.session_id !== undefined && body.session_id !== null) {
    const id = parseSessionId(body.session_id);
    if (!id.ok) return id;
    request.session_id = id.value;
  }
  if (body.files !== undefined && body.files !== null) {
    if (!isRecord(body.files) || Object.values(body.files).some((v) => typeof v !== "string")) {
      return { ok: false, message: "`files` must be an object of { relative_path: text }." };
    }
    if (request.source === undefined) return { ok: false, message: "`files` goes with `source`." };
    request.files = body.files as Record<string, string>;
  }
  if (body.params !== undefined && body.params !== null) {
    if (!isRecord(body.params)) return { ok: false, message: "`params` must be a JSON object." };
    if (!nestsWithin(body.params, MAX_JSON_DEPTH)) return { ok: false, message: `\`params\` nest deeper than ${MAX_JSON_DEPTH} levels.` };
    request.params = body.params as JsonObject;
  }
  if (body.inputs !== undefined && body.inputs !== null) {
    if (!isRecord(body.inputs) || Object.values(body.inputs).some((v) => !isRecord(v))) {
      return { ok: false, message: "`inputs` must be an object of { window_id: { field: value } }." };
    }
    if (!nestsWithin(body.inputs, MAX_JSON_DEPTH)) return { ok: false, message: `\`inputs\` nest deeper than ${MAX_JSON_DEPTH} levels.` };
    request.inputs = body.inputs as Record<string, Record<string, unknown>>;
  }
  if (body.trace !== undefined) {
    if (typeof body.trace !== "boolean") return { ok: false, message: "`trace` must be true or false." };
    if (body.trace) request.trace = true;
  }
  const mode = parseHtmlMode(body.html_mode);
  if (mode instanceof Error) return { ok: false, message: mode.message };
  if (mode !== undefined) request.html_mode = mode;
  return { ok: true, value: request };
}

export function parseResumeRequest(body: unknown): Parsed<ResumeRequest> {
  if (!isRecord(body)) return { ok: false, message: "The request body must be a JSON object." };
  const id = parseSessionId(body.session_id);
  if (!id.ok) return id;
  if (!isRecord(body.user_input)) return { ok: false, message: "`user_input` is required: an object of { field: value }." };
  if (!nestsWithin(body.user_input, MAX_JSON_DEPTH))
    return { ok: false, message: `\`user_input\` nests deeper than ${MAX_JSON_DEPTH} levels.` };
  const mode = parseHtmlMode(body.html_mode);
  if (mode instanceof Error) return { ok: false, message: mode.message };
  const request: ResumeRequest = { session_id: id.value, user_input: body.user_input };
  if (mode !== undefined) request.html_mode = mode;
  if (body.ui_steps !== undefined) {
    if (typeof body.ui_steps !== "number" || !Number.isInteger(body.ui_steps) || body.ui_steps < 0)
      return {
        ok: false,
        message: "`ui_steps` must be a whole number, at least 0: the ui_steps of the answer whose window these values fill.",
      };
    request.ui_steps = body.ui_steps;
  }
  return { ok: true, value: request };
}

export function parseSessionRequest(body: unknown): Parsed<SessionRequest> {
  if (!isRecord(body)) return { ok: false, message: "The request body must be a JSON object." };
  const id = parseSessionId(body.session_id);
  return id.ok ? { ok: true, value: { session_id: id.value } } : id;
}

export function parseInvalidateCacheRequest(body: unknown): Parsed<InvalidateCacheRequest> {
  if (body === undefined || body === null) return { ok: true, value: {} };
  if (!isRecord(body)) return { ok: false, message: "The request body must be a JSON object." };
  const path = optionalString(body, "file_path");
  if (path instanceof Error) return { ok: false, message: path.message };
  return { ok: true, value: path === undefined ? {} : { file_path: path } };
}

export function parsePrepareRequest(body: unknown): Parsed<PrepareRequest> {
  if (!isRecord(body)) return { ok: false, message: "The request body must be a JSON object." };
  const path = optionalString(body, "file_path");
  if (path instanceof Error) return { ok: false, message: path.message };
  if (path === undefined) return { ok: false, message: "`file_path` is required." };
  return { ok: true, value: { file_path: path } };
}

export function parseStudyRequest(body: unknown): Parsed<StudyRequest> {
  if (!isRecord(body)) return { ok: false, message: "The request body must be a JSON object." };
  const paths: Partial<Record<"file_path" | "cases_path" | "output_dir", string>> = {};
  for (const key of ["file_path", "cases_path", "output_dir"] as const) {
    const value = optionalString(body, key);
    if (value instanceof Error) return { ok: false, message: value.message };
    if (value === undefined) return { ok: false, message: `\`${key}\` is required.` };
    paths[key] = value;
  }
  const jobs = body.jobs;
  if (jobs !== undefined && (typeof jobs !== "number" || !Number.isInteger(jobs) || jobs < 1 || jobs > 64))
    return { ok: false, message: "`jobs` must be a whole number from 1 to 64." };
  return {
    ok: true,
    value: {
      file_path: paths.file_path!,
      cases_path: paths.cases_path!,
      output_dir: paths.output_dir!,
      ...(jobs !== undefined ? { jobs } : {}),
    },
  };
}

/** Health and the session list take no body; whatever comes is ignored. */
export function parseNoRequest(): Parsed<NoRequest> {
  return { ok: true, value: {} };
}
