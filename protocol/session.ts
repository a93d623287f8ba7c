// A session as a record: what it takes to run it again and get the same report, byte for byte. Sheets are
// deterministic (the session fixes `Date` and `Math.random`), so the bundle, the call, the seed, the clock and
// the values each window took are the whole of a session. The executor keeps one per session and rebuilds a
// realm from it when the realm is gone (evicted, its member died); the local sandbox client keeps a copy, so a
// session outlives the child process it ran in. Snake_case: it crosses processes as JSON.

import type { FieldValue, WindowSpec } from "./fields";
import { isRecord, type JsonObject } from "./json";
import { parseSessionId, type Parsed } from "./rpc";

/**
 * One answered window, with the values as the sheet received them (validated and converted); with `unknown`
 * values, as they were given (a run driver's answers, before the sandbox checked them).
 */
export interface InputLogEntry<Value = FieldValue> {
  window: string;
  values: Record<string, Value>;
  /** How the window read, for the report's table of inputs; not needed to replay it. */
  legend?: WindowLegend;
}

/**
 * A window's title, and each field's label, unit and the labels of its options where they differ from their
 * values: what a reader of the report knows an input by.
 */
export interface WindowLegend {
  title: string;
  fields: Record<string, FieldLegend>;
}

export interface FieldLegend {
  label: string;
  unit?: string;
  /** Option label by the option's value as text, for the options whose label is not that text. */
  options?: Record<string, string>;
}

export function windowLegend(window: WindowSpec): WindowLegend {
  const fields: WindowLegend["fields"] = {};
  for (const field of window.fields) {
    const legend: FieldLegend = { label: field.label };
    if (field.unit) legend.unit = field.unit;
    for (const option of field.options ?? []) {
      if (option.label !== String(option.value)) (legend.options ??= {})[String(option.value)] = option.label;
    }
    fields[field.name] = legend;
  }
  return { title: window.title, fields };
}

function isStrings(value: unknown): boolean {
  return isRecord(value) && Object.values(value).every((text) => typeof text === "string");
}

function isLegend(value: unknown): value is WindowLegend {
  return (
    isRecord(value) &&
    typeof value.title === "string" &&
    isRecord(value.fields) &&
    Object.values(value.fields).every(
      (field) =>
        isRecord(field) &&
        typeof field.label === "string" &&
        (field.unit === undefined || typeof field.unit === "string") &&
        (field.options === undefined || isStrings(field.options)),
    )
  );
}

/**
 * Which code a session runs: the bundle's content hash, and where the sheet came from, so a process that does not
 * hold the bundle can build it again and check that it is the same code.
 */
export interface SheetRef {
  /** sha256 of the bundle (the sheet, its imports and the runtime): a rebuild must give the same. */
  hash: string;
  /** The sheet's name as the user knows it ("beam.calc.ts"). */
  filename: string;
  /** A sheet read from a safe dir, as the request named it. */
  file_path?: string;
  /** A sheet sent as text, with its local imports. */
  source?: string;
  files?: Record<string, string>;
}

export interface SessionRecord {
  sheet: SheetRef;
  func_name?: string;
  params?: JsonObject;
  /** The seed of the session's `Math.random`. */
  seed: number;
  /** The session's clock: `Date` inside the sheet starts here (ms since the epoch). */
  started_at: number;
  input_log: InputLogEntry[];
  /** The execute request's batch `inputs`: a window found here is answered without pausing, now and after a replay. */
  inputs?: Record<string, Record<string, unknown>>;
  /** The session answers with `trace` (ExecuteRequest.trace). */
  trace?: true;
}

/**
 * Runs a recorded session again, under `session_id` (else a new id). With `expect`, the rebuilt session must wait
 * at that window with exactly that report, or it is not the same run and is refused (409): how the local sandbox
 * client brings its sessions back in a new child. A trusted method: only the local child answers it.
 */
export interface ReplayRequest {
  session_id?: string;
  record: SessionRecord;
  expect?: { window: string; report: string };
}

function isStringMap(value: unknown): value is Record<string, string> {
  return isRecord(value) && Object.values(value).every((v) => typeof v === "string");
}

function isInputLog(value: unknown): value is InputLogEntry[] {
  return (
    Array.isArray(value) &&
    value.every(
      (entry) =>
        isRecord(entry) &&
        typeof entry.window === "string" &&
        isRecord(entry.values) &&
        (entry.legend === undefined || isLegend(entry.legend)),
    )
  );
}

export function parseSessionRecord(value: unknown): Parsed<SessionRecord> {
  const bad = (what: string): Parsed<SessionRecord> => ({ ok: false, message: `\`record\` ${what}.` });
  if (!isRecord(value)) return bad("must be an object");
  const sheet = value.sheet;
  if (!isRecord(sheet) || typeof sheet.hash !== "string" || typeof sheet.filename !== "string")
    return bad("needs `sheet: { hash, filename }`");
  if ((sheet.file_path === undefined) === (sheet.source === undefined)) return bad("needs the sheet as `file_path` or as `source`");
  if (sheet.file_path !== undefined && typeof sheet.file_path !== "string") return bad("has a `sheet.file_path` that is not a string");
  if (sheet.source !== undefined && typeof sheet.source !== "string") return bad("has a `sheet.source` that is not a string");
  if (sheet.files !== undefined && !isStringMap(sheet.files)) return bad("has `sheet.files` that are not { path: text }");
  if (typeof value.seed !== "number" || typeof value.started_at !== "number") return bad("needs a numeric `seed` and `started_at`");
  if (value.func_name !== undefined && typeof value.func_name !== "string") return bad("has a `func_name` that is not a string");
  if (value.params !== undefined && !isRecord(value.params)) return bad("has `params` that are not an object");
  if (!isInputLog(value.input_log)) return bad("needs an `input_log` of { window, values }");
  if (value.inputs !== undefined && !(isRecord(value.inputs) && Object.values(value.inputs).every(isRecord)))
    return bad("has `inputs` that are not { window_id: values }");
  if (value.trace !== undefined && value.trace !== true) return bad("has a `trace` that is not true");
  return { ok: true, value: value as unknown as SessionRecord };
}

export function parseReplayRequest(body: unknown): Parsed<ReplayRequest> {
  if (!isRecord(body)) return { ok: false, message: "The request body must be a JSON object." };
  const record = parseSessionRecord(body.record);
  if (!record.ok) return record;
  const request: ReplayRequest = { record: record.value };
  if (body.session_id !== undefined) {
    const id = parseSessionId(body.session_id);
    if (!id.ok) return id;
    request.session_id = id.value;
  }
  if (body.expect !== undefined) {
    const expect = body.expect;
    if (!isRecord(expect) || typeof expect.window !== "string" || typeof expect.report !== "string")
      return { ok: false, message: "`expect` must be { window, report }." };
    request.expect = { window: expect.window, report: expect.report };
  }
  return { ok: true, value: request };
}
