// The names through which the trusted host drives a sheet realm. Shared by the in-realm runtime and the host
// so the two cannot drift. Imports nothing: it is bundled into the realm.

export const REALM = {
  /** The `uzoncalc` module object the sheet bundle imports from (on the session's own global scope). */
  module: "__uzoncalc",
  /** The sheet bundle's exports (esbuild's IIFE `globalName`). */
  sheet: "__uzon_sheet",
  /** A string the host writes before a driver call: the call's JSON argument. */
  input: "__uzon_in",
  /**
   * A string the host writes before a driver call: the member realm's secret, then the session's number. The
   * realm clears both mailboxes before any sheet code runs, so no session can drive another one.
   */
  call: "__uzon_call",
  /** Before `open`: the compiled sheet function (a value of the realm itself, handed back to it). */
  sheetFunction: "__uzon_fn",
  /** Starts a session in the member realm: its own runtime, clock, random sequence and the sheet's top level. */
  open: "__uzon_open",
  /** Forgets a paused session (evicted, or dropped by the engine). */
  drop: "__uzon_drop",
  /** A session's own drivers, on its global scope, for the member realm to call (runtime/driver.ts). */
  drivers: "__uzon_drivers",
  start: "__uzon_start",
  resume: "__uzon_resume",
  cancel: "__uzon_cancel",
  /** Returns and clears the last outcome (a JSON string), or "" while the sheet is still pending. */
  out: "__uzon_out",
  /** Returns and clears the output written since the last outcome: what a step that hit a limit had written. */
  partial: "__uzon_partial",
  /** Called by the bundle's own try/catch when the sheet's top-level code throws. */
  fail: "__uzon_fail",
  /** The renderer instrumented sheet code calls (protocol/reportTemplate.ts RenderApi). */
  render: "__uzon_render",
  /**
   * Returns and clears the trace of rendered values as JSON (RealmTraceEntry[]). Outcomes carry it too, as `trace`,
   * in rows (RealmTraceRow); the host reads only those.
   */
  trace: "__uzon_trace",
  /** The "uzoncalc/units" operations and `unit()` (runtime/units): the units module and instrumented operators use it. */
  units: "__uzon_units",
} as const;

/**
 * The parameters of a compiled sheet (engine/sheetRealm.ts compileSheetScript), in order: its global scope (the
 * bundle's `uzoncalc` imports read `globalThis.__uzoncalc`) and the renderer, units and failure report the
 * instrumentation and the bundle's wrapper name. The session's runtime passes them (driver.ts load).
 */
export const SHEET_PARAMETERS = ["globalThis", REALM.render, REALM.units, REALM.fail] as const;

/** What `import { … } from "uzoncalc"` can name. */
export const RUNTIME_EXPORTS = [
  "UI",
  "Window",
  "h1",
  "h2",
  "h3",
  "p",
  "table",
  "html",
  "check",
  "hide",
  "show",
  "note",
  "titleBlock",
  "format",
  "plot",
] as const;

export interface RealmInit {
  seed: number;
  now: number;
}

/** What a session's runtime hands the member realm (runtime/driver.ts), called only with the session current. */
export interface SessionDrivers {
  init(input: string): void;
  /** Runs the sheet's top level (the compiled sheet function) on this session's scope. */
  load(sheetFunction: unknown): void;
  start(input: string): void;
  resume(input: string): void;
  cancel(): void;
  out(): string;
  partial(): string;
  /** True once the run ended and its outcome was taken: the session can be forgotten. */
  over(): boolean;
  now(): number;
  random(): number;
  log(...args: unknown[]): void;
}

export interface RealmStart {
  func?: string;
  /** Absent: the sheet function is called with no argument, so its own default applies. */
  params?: unknown;
  /** The sheet's file name, for messages about its exports. */
  filename: string;
  /** Build each step's trace (the values beside the code); without it the values are dropped unread. */
  trace?: boolean;
}

export interface RealmErrorData {
  name: string;
  message: string;
  stack?: string;
  /** Set by the host when a sandbox limit, not the sheet, ended the run. */
  limit?: "time" | "memory";
}

/** What a step's rendered assignments were worth at its end (protocol/rpc.ts TraceEntry). */
export type RealmTraceEntry = import("../../protocol/rpc").TraceEntry;

/**
 * A trace entry as the realm writes it in its outcome: `[line, name, value, display, formula, unit]`, the last two
 * left off (formula null when only unit follows). Rows, not objects: a hundred traced lines a step made the
 * realm's JSON.stringify and the host's JSON.parse of entries with named keys ~40 % slower (measured).
 */
export type RealmTraceRow = [
  line: number,
  name: string,
  value: RealmTraceEntry["value"],
  display: string,
  formula?: string | null,
  unit?: string,
];

/**
 * What one driver call ends with, as JSON from inside the realm. `html` and `logs` are what the step added;
 * `trace` (absent when empty; in the JSON as RealmTraceRow) the last value of each rendered assignment the step
 * evaluated, in the order of the sheet's descriptor table, at most MAX_TRACE_ENTRIES + 1 of them (one more says
 * it was cut).
 */
export type RealmOutcome = (
  | { kind: "ui"; window: import("../../protocol/fields").WindowSpec; html: string; logs: string[]; trace?: RealmTraceEntry[] }
  | { kind: "done"; value: unknown; html: string; logs: string[]; trace?: RealmTraceEntry[] }
  | { kind: "cancelled"; html: string; logs: string[]; trace?: RealmTraceEntry[] }
  | { kind: "error"; error: RealmErrorData; html: string; logs: string[]; trace?: RealmTraceEntry[] }
) & {
  /**
   * The session has written a figure (`plot()`) at some point: its report needs drawing where it is handed out.
   * Said by the realm so the host need not search every step's markup for figures.
   */
  figures?: true;
};
