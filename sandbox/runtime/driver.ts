// The `uzoncalc` runtime and the step driver of ONE session. The member realm (realm.ts) evaluates this whole
// module once per session, inside a function whose `globalThis` parameter is the session's own global scope (an
// object inheriting from the shared, frozen realm global), so every `let` below is the session's alone. What
// the module defines there is what the sheet bundle reads (the `uzoncalc` module, the renderer, the units); the
// drivers go to the member realm, which calls them only for the session it is running.
//
// Nothing from the host is ever put in here: the host writes one JSON string, the member realm hands it to one
// driver, and the host reads one JSON string back. The realm's intrinsics are frozen before any sheet runs, so
// the captured built-ins below are belt and braces: a sheet can only garble its own session, which the host
// re-validates anyway.

import { formatWindowProblems, normalizeWindow, type WindowSpec } from "../../protocol/fields";
import { escapeHtml } from "../../protocol/html";
import { MAX_VALUE_LENGTH } from "../../protocol/limits";
import { MAX_TRACE_ENTRIES } from "../../protocol/rpc";
import {
  REALM,
  type RealmErrorData,
  type RealmInit,
  type RealmOutcome,
  type RealmStart,
  type RealmTraceEntry,
  type RealmTraceRow,
  type SessionDrivers,
  SHEET_PARAMETERS,
} from "./abi";
import { cellText, checkMarkup, figureMarkup, noteMarkup, numberedHeading, tableCaption, titleBlockMarkup } from "./report/document";
import { normalizePlot } from "../../protocol/plot";
import { isQuantity } from "./units/quantity";
import { connectOutput, hide, renderApi, setTracing, show, takeTrace } from "./report/record";
import { clearNumberCache, setFormat } from "./report/values";
import { installUnits, unitsApi } from "./units";
import { WindowRequest } from "./sessionShared";

type AnyFunction = (...args: unknown[]) => unknown;
type AsyncGen = AsyncGenerator<unknown, unknown, unknown>;

const G = globalThis as unknown as Record<string, unknown>;
const apply = Reflect.apply;
const defineProperty = Object.defineProperty;
const getPrototypeOf = Object.getPrototypeOf;
const objectKeys = Object.keys;
const freeze = Object.freeze;
const jsonParse = JSON.parse;
const jsonStringify = JSON.stringify;
const StringCtor = String;
const promiseThen = Promise.prototype.then;
const weakMapGet = WeakMap.prototype.get;
const weakMapSet = WeakMap.prototype.set;
const weakMapHas = WeakMap.prototype.has;
const arrayPush = Array.prototype.push;
const arrayJoin = Array.prototype.join;
// Taken per session on purpose. Taking these from the member library instead (sessionShared.ts) made every
// session's open ~1.5x slower, host code included, until the session again made one async generator function and
// read its prototype; measured (bench realm section, interleaved), not understood: a V8 effect to re-check.
const asyncGeneratorFunctionPrototype = getPrototypeOf(async function* () {}) as object;
const asyncGeneratorPrototype = getPrototypeOf(async function* () {}.prototype) as AsyncGen;
const generatorNext = asyncGeneratorPrototype.next;
const generatorReturn = asyncGeneratorPrototype.return;
const generatorThrow = asyncGeneratorPrototype.throw;

const MAX_LOG_LINES = 200;
const MAX_LOG_LINE = 4000;

let chunks: string[] = [];
/** Whether this session has written a figure: every outcome from then on says so (see RealmOutcome.figures). */
let figuresWritten = false;
let logs: string[] = [];
let outcome = "";
let generator: AsyncGen | undefined;
let finished = false;
let cancelling = false;
let uiCount = 0;
/** The sheet bundle's exports, once its top level ran. */
let sheetExports: Record<string, unknown> = {};
/** The session's clock (RealmInit.now) and random sequence: the realm's Date and Math.random read them. */
let sessionNow = 0;
let random: () => number = () => 0;
const seenWindowIds: Record<string, number> = {};
const windows = new WeakMap<object, WindowSpec>();
const requests = new WeakMap<object, WindowSpec>();

function define(name: string, value: unknown, writable = false): void {
  defineProperty(G, name, { value, writable, enumerable: false, configurable: false });
}

function push<T>(list: T[], item: T): void {
  apply(arrayPush, list, [item]);
}

function join(list: string[]): string {
  return apply(arrayJoin, list, [""]) as string;
}

/**
 * Markup as one string, by appending: each rendered line is a rope (made with `+`), and Array.prototype.join
 * first flattens every element that is one into a string of its own, then copies it again. Appending makes one
 * rope, flattened once where it is first read (by the host, sheetRealm.ts parseOutcome). Measured on a step of
 * 100 rendered lines (33 000 characters of two-byte MathML): alone, the join 55-75 µs against ~15 µs to append
 * and flatten; in a step, the realm's part ~80 µs less and the host's first read ~60 µs more.
 */
function concatenate(first: string, list: string[]): string {
  let text = first;
  for (let i = 0; i < list.length; i++) text += list[i]!;
  return text;
}

// ---- output -------------------------------------------------------------------------------------------

/** Output calls take any value; the sheet may have replaced String.prototype, so the captured String is used. */
function escapeText(value: unknown): string {
  return escapeHtml(StringCtor(value ?? ""));
}

/**
 * A helper that shows its working (`@render`) writes into a level of its own while it runs; when it returns, what
 * it wrote waits as one indented block and follows the next block written at the caller's level (the caller's line,
 * which renders once the call has returned): its working appears under the call, with the caller's values.
 */
interface WorkingLevel {
  chunks: string[];
  /** The working of the helpers called at this level, to follow this level's next block. */
  pending: string[];
}
const working: WorkingLevel[] = [];
/** The top level's working waiting for its next block (the report itself is the top level). */
let topPending: string[] = [];

function emit(markup: string): void {
  const level = working.at(-1);
  const target = level ? level.chunks : chunks;
  push(target, markup);
  const pending = level ? level.pending : topPending;
  if (pending.length === 0) return;
  for (const block of pending) push(target, block);
  if (level) level.pending = [];
  else topPending = [];
}

/** A `@render` helper starts: what it writes is its working. */
function enterWorking(): void {
  push(working, { chunks: [], pending: [] });
}

/** A `@render` helper returns (or throws): its working waits for the caller's next block. */
function leaveWorking(): void {
  const level = working.pop();
  if (!level) return;
  const body = concatenate(concatenate("", level.chunks), level.pending);
  if (body === "") return;
  const block = `<div class="uzc-working">\n${body}</div>\n`;
  const parent = working.at(-1);
  push(parent ? parent.pending : topPending, block);
}

/** At the end of a step, working no line followed yet is written where it stands. */
function flushWorking(): void {
  while (working.length > 0) leaveWorking();
  for (const block of topPending) push(chunks, block);
  topPending = [];
}

function h1(text: unknown): void {
  emit(`<h1>${escapeText(text)}</h1>\n`);
}
function h2(text: unknown): void {
  emit(numberedHeading(2, text));
}
function h3(text: unknown): void {
  emit(numberedHeading(3, text));
}
function p(text: unknown): void {
  emit(`<p>${escapeText(text)}</p>\n`);
}
function html(markup: unknown): void {
  emit(StringCtor(markup ?? "") + "\n");
}

function table(headers: unknown, rows: unknown, caption?: unknown): void {
  if (!Array.isArray(headers)) throw new TypeError("table(headers, rows, caption?): `headers` must be an array of column titles.");
  if (!Array.isArray(rows)) throw new TypeError("table(headers, rows, caption?): `rows` must be an array of rows (arrays of cells).");
  const out: string[] = ['<table class="uzc-table">'];
  if (caption !== undefined && caption !== null) push(out, tableCaption(caption));
  const head: string[] = [];
  for (const cell of headers) push(head, `<th>${cellText(cell)}</th>`);
  push(out, `<thead><tr>${join(head)}</tr></thead><tbody>`);
  let index = 0;
  for (const row of rows) {
    index++;
    if (!Array.isArray(row)) throw new TypeError(`table(): row ${index} must be an array of cells.`);
    const cells: string[] = [];
    for (const cell of row) push(cells, `<td>${cellText(cell)}</td>`);
    push(out, `<tr>${join(cells)}</tr>`);
  }
  push(out, "</tbody></table>\n");
  emit(join(out));
}

/** `check(cond, label)`: renders ✓/✗ with the condition (as a formula, when the sheet is instrumented); returns it. */
function check(condition: unknown, label?: unknown): boolean {
  emit(checkMarkup(condition, label));
  return !!condition;
}

function note(text: unknown): void {
  emit(noteMarkup(text));
}

/**
 * `plot(spec)`: a numbered figure. The sheet only describes it; the report carries the description and trusted code
 * outside the realm draws it (sandbox/session/plots.ts). Quantities are read in their axis' unit.
 */
function plot(spec: unknown): void {
  const check = normalizePlot(spec, (value, axis, unit) => {
    if (!isQuantity(value)) return value;
    if (unit === undefined)
      throw new TypeError(
        `plot(): the ${axis} values are quantities; give ${axis}.unit (e.g. "m") to say in which unit the axis reads them.`,
      );
    return value.in(unit);
  });
  if (!check.ok) throw new TypeError(check.message);
  emit(figureMarkup(check.spec));
  figuresWritten = true;
}

function titleBlock(info: unknown): void {
  emit(titleBlockMarkup(info));
}

/** `format({ decimals: 2 })` from here on; `format({ decimals: 1 }, "sigma")` for values named sigma. */
function format(options: unknown, ...names: unknown[]): void {
  setFormat(options, names);
}

function formatLogArgument(value: unknown): string {
  if (typeof value === "string") return value;
  try {
    const text = jsonStringify(value);
    return text === undefined ? StringCtor(value) : text;
  } catch {
    return StringCtor(value);
  }
}

function log(...args: unknown[]): void {
  if (logs.length >= MAX_LOG_LINES) return;
  const parts: string[] = [];
  for (const arg of args) push(parts, formatLogArgument(arg));
  const line = apply(arrayJoin, parts, [" "]) as string;
  push(logs, line.length > MAX_LOG_LINE ? line.slice(0, MAX_LOG_LINE) + "…" : line);
  if (logs.length === MAX_LOG_LINES) push(logs, `(more console output in this step was dropped after ${MAX_LOG_LINES} lines)`);
}

// ---- windows --------------------------------------------------------------------------------------------

function normalizeOrThrow(spec: unknown): WindowSpec {
  const { window, problems } = normalizeWindow(spec);
  if (problems.length > 0) throw new TypeError(formatWindowProblems(window, problems));
  return window;
}

function Window(spec: unknown): object {
  const window = normalizeOrThrow(spec);
  const handle = freeze({ ...(spec as object) });
  apply(weakMapSet, windows, [handle, window]);
  return handle;
}

function UI(windowOrSpec: unknown): object {
  const known = typeof windowOrSpec === "object" && windowOrSpec !== null && (apply(weakMapHas, windows, [windowOrSpec]) as boolean);
  const spec = known ? (apply(weakMapGet, windows, [windowOrSpec]) as WindowSpec) : normalizeOrThrow(windowOrSpec);
  uiCount++;
  const id = spec.id !== "" ? spec.id : `window-${uiCount}`;
  const earlier = seenWindowIds[id];
  if (earlier !== undefined) {
    throw new Error(
      `Window id '${id}' is reached twice in this run (windows ${earlier} and ${uiCount}). ` +
        `Window ids come from the title unless set: give each window its own \`id\`, e.g. Window({ id: "${id}-${uiCount}", title: ... }).`,
    );
  }
  seenWindowIds[id] = uiCount;
  const request = new WindowRequest();
  apply(weakMapSet, requests, [request, { ...spec, id }]);
  return request;
}

// ---- determinism ------------------------------------------------------------------------------------------

/** sfc32 seeded through splitmix32: small, fast, and the same sequence for the same seed on every machine. */
function sessionRandom(seed: number): () => number {
  let state = seed >>> 0;
  const splitmix = () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix(),
    b = splitmix(),
    c = splitmix(),
    d = splitmix();
  return function random(): number {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
}

// ---- outcomes ------------------------------------------------------------------------------------------------

function errorData(error: unknown): RealmErrorData {
  try {
    if (typeof error === "object" && error !== null) {
      const record = error as { name?: unknown; message?: unknown; stack?: unknown };
      const stack = typeof record.stack === "string" ? record.stack : undefined;
      const name = typeof record.name === "string" ? record.name : "Error";
      const message = record.message === undefined ? StringCtor(error) : StringCtor(record.message);
      return stack === undefined ? { name, message } : { name, message, stack };
    }
    return { name: "Error", message: `Uncaught ${typeof error === "string" ? jsonStringify(error) : StringCtor(error)}` };
  } catch {
    return { name: "Error", message: "The sheet threw a value that could not be read." };
  }
}

/**
 * The sheet's return value as JSON. At most MAX_VALUE_LENGTH characters: a larger one would stall the service
 * that copies and sends it (a million keys took seconds); it ends the run with an error instead.
 */
function jsonValue(value: unknown): unknown {
  if (value === undefined) return null;
  let text: string | undefined;
  try {
    text = jsonStringify(value);
  } catch (error) {
    log(`The sheet's return value is not JSON (${errorData(error).message}); the response's \`value\` is null.`);
    return null;
  }
  if (text !== undefined && text.length > MAX_VALUE_LENGTH) {
    throw new RangeError(
      `The sheet returned a value of ${text.length} characters as JSON; a sheet returns at most ${MAX_VALUE_LENGTH}. Put large results in the report (table(), p()) and return a summary.`,
    );
  }
  try {
    return text === undefined ? null : jsonParse(text);
  } catch (error) {
    log(`The sheet's return value is not JSON (${errorData(error).message}); the response's \`value\` is null.`);
    return null;
  }
}

type OutcomeCore = RealmOutcome extends infer O ? (O extends RealmOutcome ? Omit<O, "html" | "logs" | "trace"> : never) : never;

/** The step's trace, as rows: one entry past the limit tells the host it was cut. */
function stepTrace(): RealmTraceRow[] {
  try {
    // Unwanted (setTracing at start), nothing was recorded: the trace is empty.
    const entries = takeTrace(MAX_TRACE_ENTRIES + 1);
    const rows: RealmTraceRow[] = [];
    for (let i = 0; i < entries.length; i++) rows.push(traceRow(entries[i]!));
    return rows;
  } catch {
    return [];
  }
}

function traceRow({ line, name, value, display, formula, unit }: RealmTraceEntry): RealmTraceRow {
  if (unit !== undefined) return [line, name, value, display, formula ?? null, unit];
  return formula !== undefined ? [line, name, value, display, formula] : [line, name, value, display];
}

function settle(result: OutcomeCore): void {
  flushWorking();
  clearNumberCache();
  const trace = stepTrace();
  const markup = chunks;
  const head = { ...result, logs, ...(trace.length > 0 ? { trace } : {}), ...(figuresWritten ? { figures: true } : {}) };
  chunks = [];
  logs = [];
  let json: string;
  try {
    json = jsonStringify(head);
  } catch (error) {
    json = jsonStringify({ kind: "error", error: errorData(error), logs: head.logs });
  }
  // The step's markup follows the JSON after its first newline (JSON text has none of its own): tens of KB of
  // MathML are then neither escaped here nor unescaped by the host (sheetRealm.ts parseOutcome). One string holds
  // both: the JSON and the markup as two strings would be copied again by the host's first search of them.
  outcome = concatenate(`${json}\n`, markup);
}

function describeYield(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return Array.isArray(value) ? "an array" : "an object";
  return `a ${typeof value}`;
}

function onStepSettled(result: IteratorResult<unknown, unknown>): void {
  if (cancelling) {
    finished = true;
    settle({ kind: "cancelled" });
    return;
  }
  if (result.done) {
    finished = true;
    let value: unknown;
    try {
      value = jsonValue(result.value);
    } catch (error) {
      settle({ kind: "error", error: errorData(error) });
      return;
    }
    settle({ kind: "done", value });
    return;
  }
  const value = result.value;
  const window = typeof value === "object" && value !== null ? (apply(weakMapGet, requests, [value]) as WindowSpec | undefined) : undefined;
  if (window === undefined) {
    // Thrown into the generator, so the error's stack points at the sheet's own `yield`.
    const problem = new TypeError(`A sheet can only yield UI(Window({ ... })); this one yielded ${describeYield(value)}.`);
    advance(apply(generatorThrow, generator, [problem]) as Promise<IteratorResult<unknown>>);
    return;
  }
  settle({ kind: "ui", window });
}

function onStepFailed(error: unknown): void {
  finished = true;
  settle(cancelling ? { kind: "cancelled" } : { kind: "error", error: errorData(error) });
}

function advance(step: Promise<IteratorResult<unknown>>): void {
  apply(promiseThen, step, [onStepSettled, onStepFailed]);
}

function readInput(text: string): unknown {
  return text !== "" ? jsonParse(text) : undefined;
}

function fail(message: string): void {
  finished = true;
  settle({ kind: "error", error: { name: "SheetError", message } });
}

function describeExport(value: unknown): string {
  if (typeof value === "function") {
    if (getPrototypeOf(value) === asyncGeneratorFunctionPrototype) return "async generator function";
    return "function";
  }
  return value === null ? "null" : typeof value;
}

function exportList(exports: Record<string, unknown>): string {
  const names = objectKeys(exports);
  if (names.length === 0) return "It exports nothing.";
  const parts: string[] = [];
  for (const name of names) push(parts, `${name} (${describeExport(exports[name])})`);
  return `It exports: ${apply(arrayJoin, parts, [", "]) as string}.`;
}

function start(input: string): void {
  try {
    const request = readInput(input) as RealmStart;
    setTracing(request.trace === true);
    const exports = sheetExports;
    let name = request.func;
    if (name === undefined) name = "sheet" in exports ? "sheet" : "default" in exports ? "default" : "sheet";
    const fn = exports[name];
    if (fn === undefined || !Object.prototype.hasOwnProperty.call(exports, name)) {
      const what = request.func === undefined ? "a function named 'sheet' or a default export" : `a function named '${name}'`;
      fail(`${request.filename} does not export ${what}. ${exportList(exports)}`);
      return;
    }
    if (typeof fn !== "function" || getPrototypeOf(fn) !== asyncGeneratorFunctionPrototype) {
      fail(
        `'${name}' in ${request.filename} is a ${describeExport(fn)}, not an async generator function. ` +
          `Declare it as \`export async function* ${name === "default" ? "sheet" : name}() { ... }\`. ${exportList(exports)}`,
      );
      return;
    }
    generator = (
      request.params === undefined ? apply(fn as AnyFunction, undefined, []) : apply(fn as AnyFunction, undefined, [request.params])
    ) as AsyncGen;
    advance(apply(generatorNext, generator, []) as Promise<IteratorResult<unknown>>);
  } catch (error) {
    finished = true;
    settle({ kind: "error", error: errorData(error) });
  }
}

function resume(input: string): void {
  try {
    if (generator === undefined || finished) {
      fail("The sheet is not waiting for input.");
      return;
    }
    advance(apply(generatorNext, generator, [readInput(input)]) as Promise<IteratorResult<unknown>>);
  } catch (error) {
    finished = true;
    settle({ kind: "error", error: errorData(error) });
  }
}

/** Ends the run through `return()`, so the sheet's `finally` blocks run (and may still write output). */
function cancel(): void {
  try {
    cancelling = true;
    if (generator === undefined || finished) {
      settle({ kind: "cancelled" });
      return;
    }
    advance(apply(generatorReturn, generator, [undefined]) as Promise<IteratorResult<unknown>>);
  } catch (error) {
    finished = true;
    settle({ kind: "error", error: errorData(error) });
  }
}

function init(input: string): void {
  const config = readInput(input) as RealmInit;
  sessionNow = config.now;
  random = sessionRandom(config.seed);
}

/**
 * Runs the sheet's top level on this session's scope: the compiled bundle is a function of the names it reads
 * (see sheetRealm.ts), so each session gets the sheet's module-level state afresh while the code is shared.
 */
function load(sheetFunction: unknown): void {
  try {
    const args: unknown[] = [];
    for (const name of SHEET_PARAMETERS) push(args, name === "globalThis" ? G : G[name]);
    const exports = apply(sheetFunction as AnyFunction, undefined, args);
    sheetExports = (typeof exports === "object" && exports !== null ? exports : {}) as Record<string, unknown>;
  } catch (error) {
    topLevelFailure(error);
  }
}

function takePartialOutput(): string {
  const text = concatenate("", chunks);
  chunks = [];
  return text;
}

function takeTraceJson(): string {
  return jsonStringify(takeTrace());
}

function takeOutcome(): string {
  const text = outcome;
  outcome = "";
  return text;
}

/** The bundle wraps the sheet's top-level code in try/catch and reports here, so nothing is thrown at the host. */
function topLevelFailure(error: unknown): void {
  finished = true;
  settle({ kind: "error", error: errorData(error) });
}

connectOutput(emit, enterWorking, leaveWorking);
define(REALM.module, freeze({ UI, Window, h1, h2, h3, p, table, html, check, hide, show, note, titleBlock, format, plot }));
define(REALM.render, freeze(renderApi));
define(REALM.trace, takeTraceJson);
installUnits();
define(REALM.units, unitsApi);
define(REALM.fail, topLevelFailure);
const drivers: SessionDrivers = {
  init,
  load,
  start,
  resume,
  cancel,
  out: takeOutcome,
  partial: takePartialOutput,
  over: () => finished && outcome === "",
  now: () => sessionNow,
  random: () => random(),
  log,
};
define(REALM.drivers, freeze(drivers));
