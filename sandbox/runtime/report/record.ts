// The renderer the instrumented sheet calls (RenderApi): each rendered statement becomes one line of the
// report, built from its descriptor (made at load time) and the values recorded during the statement's one
// evaluation. Rendering never throws into the sheet and never changes what the sheet computes.

import type {
  CheckDescriptor,
  EquationDescriptor,
  RenderApi,
  RenderDescriptor,
  TemplatePart,
  TextDescriptor,
} from "../../../protocol/reportTemplate";
import { EQUALS, EQUATION_CLOSE, EQUATION_OPEN, bracketed, choiceTaken, guardRan } from "../../../protocol/reportTemplate";
import type { TraceEntry, TraceScalar } from "../../../protocol/rpc";
import { escapeHtml } from "../../../protocol/html";
import { formatValue, type FormattedValue } from "./values";
import {
  fillText,
  finishFormula,
  formulaText,
  plainText,
  startsWithOperator,
  inlineText,
  type TextValues,
} from "../../../protocol/formulaText";
import { isQuantity } from "../units/quantity";
import { descriptorTable } from "../sessionShared";

/** A line in a loop renders this many times; after that one note says so and the line stays quiet. */
export const MAX_RENDERS_PER_LINE = 100;

export type { TraceEntry };

export interface PendingCheck {
  descriptor: CheckDescriptor;
  temps: unknown[];
}

/** What this session recorded for an assignment in the current step (the seam for values in the editor). */
interface Recorded {
  v: unknown;
  /** The text the report showed for `v`, when this evaluation rendered (the format in force then). */
  d?: string;
  /** The line the report showed, as text (formulaText.ts), when this evaluation rendered. */
  f?: string;
}

let emit: (markup: string) => void = () => undefined;
let hidden = false;
/** The session asked for the trace (values in the editor): only then is each line's value kept and its text made. */
let tracing = false;
let pendingCheck: PendingCheck | undefined;
/** The tables this session's modules registered, in order: the trace walks them. */
const tables: (readonly RenderDescriptor[])[] = [];
/** How often each line rendered in this session (a line in a loop stops at MAX_RENDERS_PER_LINE). */
const renders = new Map<RenderDescriptor, number>();
/** What each assignment recorded since the last trace was taken. */
let recorded = new Map<RenderDescriptor, Recorded>();

let enterWorking: () => void = () => undefined;
let leaveWorking: () => void = () => undefined;

/**
 * Where rendered lines go (the runtime's report output), and where a `@render` helper's working starts and ends
 * (the runtime's, since a helper's working is part of its output).
 */
export function connectOutput(output: (markup: string) => void, enter?: () => void, leave?: () => void): void {
  emit = output;
  if (enter) enterWorking = enter;
  if (leave) leaveWorking = leave;
}

export function setTracing(on: boolean): void {
  tracing = on;
}

export function hide(): void {
  hidden = true;
}

export function show(): void {
  hidden = false;
}

/** The details `check()` renders its condition with, if the instrumentation recorded them just before. */
export function takePendingCheck(): PendingCheck | undefined {
  const pending = pendingCheck;
  pendingCheck = undefined;
  return pending;
}

const isArray = Array.isArray;
const MAX_TRACE_STRING = 200;
const MAX_TRACE_ARRAY = 12;

function traceScalar(value: unknown): TraceScalar {
  if (typeof value === "number") return value === value && value !== Infinity && value !== -Infinity ? value : null;
  if (typeof value === "string") return value.length > MAX_TRACE_STRING ? value.slice(0, MAX_TRACE_STRING) + "…" : value;
  if (typeof value === "boolean") return value;
  return null;
}

/** The value as JSON (TraceEntry.value): scalars, a short flat array of them, null for anything else. */
function traceJson(value: unknown): TraceEntry["value"] {
  if (!isArray(value)) return traceScalar(value);
  const out: TraceScalar[] = [];
  const length = value.length < MAX_TRACE_ARRAY ? value.length : MAX_TRACE_ARRAY;
  for (let i = 0; i < length; i++) out.push(traceScalar(value[i]));
  return out;
}

function traceEntry(
  descriptor: EquationDescriptor,
  value: unknown,
  shown: string | undefined,
  formula: string | undefined,
): TraceEntry | undefined {
  const text = shown ?? formatValue(value, descriptor.name === "" ? undefined : descriptor.name)?.text;
  // Not shown in the report (an object, a function, a long array): not traced either.
  if (text === undefined) return undefined;
  const plain = plainText(text);
  const quantity = isQuantity(value);
  const entry: TraceEntry = {
    line: descriptor.line,
    name: descriptor.name,
    value: traceJson(quantity ? value.value : value),
    display: typeof value === "string" ? `“${plain}”` : plain,
  };
  if (quantity) entry.unit = value.unit;
  if (formula !== undefined) entry.formula = formula;
  return entry;
}

/**
 * The last value of every rendered assignment evaluated since the previous call, in descriptor-table order
 * (source order within the sheet module), at most `limit` entries; every recorded value is cleared either way.
 * A line evaluated while rendering is off (`hide()`) is not recorded; a line past its render cap in a loop is
 * (its last value, formatted as the report would).
 */
export function takeTrace(limit = Infinity): TraceEntry[] {
  const entries: TraceEntry[] = [];
  if (recorded.size === 0) return entries;
  const taken = recorded;
  recorded = new Map<RenderDescriptor, Recorded>();
  for (const table of tables) {
    for (const descriptor of table) {
      if (descriptor.k !== "eq" || entries.length >= limit) continue;
      const state = taken.get(descriptor);
      if (state === undefined) continue;
      const entry = traceEntry(descriptor, state.v, state.d, state.f);
      if (entry) entries.push(entry);
    }
  }
  return entries;
}

/**
 * Counts a descriptor's renders; false once past the cap (the first time past it, says so in the report). `before`
 * is its count so far when the caller has just read it (eq does, for its fast path): one map read per line.
 */
function withinCap(descriptor: RenderDescriptor, before = renders.get(descriptor) ?? 0): boolean {
  const count = before + 1;
  renders.set(descriptor, count);
  if (count <= MAX_RENDERS_PER_LINE) return true;
  if (count === MAX_RENDERS_PER_LINE + 1) {
    emit(`<p class="uzc-more">Line ${descriptor.line} is shown for its first ${MAX_RENDERS_PER_LINE} evaluations only.</p>\n`);
  }
  return false;
}

/** The substitution: the template with each hole's recorded value (or its symbol when the value is not shown). */
export function fill(parts: readonly TemplatePart[], temps: readonly unknown[]): string {
  let out = "";
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (typeof part === "string") {
      out += part;
    } else if ("s" in part && "t" in part) {
      const value = formatValue(temps[part.t], part.k);
      if (!value) out += part.s;
      else if (bracketed(part.f, value)) out += `<mrow><mo>(</mo>${value.math}<mo>)</mo></mrow>`;
      else out += value.math;
    } else if ("c" in part) {
      out += fill(choiceTaken(part.nn, temps[part.c]) ? part.y : part.n, temps);
    } else {
      out += guardRan(part.op, temps[part.g]) ? fill(part.r, temps) : part.s;
    }
  }
  return out;
}

function equationMarkup(parts: string[]): string {
  let out = "";
  for (let i = 0; i < parts.length; i++) out += (i > 0 ? EQUALS : "") + parts[i];
  return EQUATION_OPEN + out + EQUATION_CLOSE;
}

/** Lines with less markup than this are never long (a cheap test before the text is measured). */
const LONG_MARKUP = 450;
/** Characters of text a line may have before it is written to wrap; a side longer than half of it splits too. */
const LONG_TEXT = 50;

/** The length of markup's text (tags left out): what the line shows, roughly how wide it is. */
function textLength(markup: string): number {
  let length = 0;
  let inTag = false;
  for (let i = 0; i < markup.length; i++) {
    const c = markup.charCodeAt(i);
    if (c === 60) inTag = true;
    else if (c === 62) inTag = false;
    else if (!inTag) length++;
  }
  return length;
}

/** `markup` cut before each + and − that is not inside an element (its top-level terms), keeping the operators. */
function topLevelTerms(markup: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = markup.indexOf("<"); i >= 0; i = markup.indexOf("<", i + 1)) {
    if (markup.charCodeAt(i + 1) === 47) {
      depth--;
      continue;
    }
    if (depth === 0 && i > start && (markup.startsWith("<mo>+</mo>", i) || markup.startsWith("<mo>−</mo>", i))) {
      terms.push(markup.slice(start, i));
      start = i;
    }
    const end = markup.indexOf(">", i);
    if (end < 0) break;
    if (markup.charCodeAt(end - 1) !== 47) depth++;
  }
  terms.push(markup.slice(start));
  return terms;
}

/** First in its <math>, an operator would read as a sign (no space after it): this gives it a binary one's space. */
const LEADING_OPERATOR = '<mo rspace="0.2222em">';

/**
 * A long line as pieces the page wraps between as its width requires, each its own <math> (MathML does not break
 * a line inside one): at each `=` (the name stays with the first side), and inside a long side before each of its
 * top-level + and −. The report's CSS (.uzc-eq-wrap) lays the pieces out in a row that wraps.
 */
function wrappedMarkup(parts: string[]): string | undefined {
  let length = 0;
  for (let i = 0; i < parts.length; i++) length += parts[i]!.length;
  if (length < LONG_MARKUP) return undefined;
  const texts = parts.map(textLength);
  if (texts.reduce((sum, n) => sum + n, 0) <= LONG_TEXT) return undefined;
  const pieces: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const side = parts[i]!;
    const terms = i > 0 && texts[i]! > LONG_TEXT / 2 ? topLevelTerms(side) : [side];
    for (let k = 1; k < terms.length; k++) terms[k] = LEADING_OPERATOR + terms[k]!.slice("<mo>".length);
    terms[0] = (i > 0 ? "<mo>=</mo>" : "") + terms[0];
    // The name is never alone on its line: it goes with the first piece of the first side.
    if (i === 1 && pieces.length === 1) terms[0] = pieces.pop()! + terms[0];
    pieces.push(...terms);
  }
  return `<div class="uzc-eq uzc-eq-wrap">${pieces.map((piece) => `<math displaystyle="true">${piece}</math>`).join("")}</div>\n`;
}

/** Appends `part` unless it repeats the last one (`b = a = 3`, never `a = 3 = 3`); true when appended. */
export function pushDistinct(parts: string[], part: string): boolean {
  if (parts.at(-1) === part) return false;
  parts.push(part);
  return true;
}

/** The temps of the line whose text is being filled (one line at a time: no closure per line). */
let textTemps: readonly unknown[] = [];

const lineValues: TextValues<FormattedValue> = {
  hole: (temp, key) => formatValue(textTemps[temp], key),
  text: (value) => (value.formula ??= inlineText(value.math)),
  temp: (temp) => textTemps[temp],
};

const LHS = 1;
const SYM = 2;
const SUB = 4;
const VALUE = 8;

/**
 * The line as text, from the texts the instrumentation made beside the MathML (descriptor tl, ts, tb) and the
 * values' own texts; `shown` says which of the four parts the line shows. Where a text was not made (a part
 * that starts with an operator reads differently at the start of the line), it is read from the MathML.
 */
function lineText(
  descriptor: EquationDescriptor,
  shown: number,
  result: FormattedValue,
  temps: readonly unknown[],
  markup: string,
): string {
  const first = shown & -shown;
  let text = "";
  if (shown & LHS) {
    if (descriptor.tl === undefined) return formulaText(markup);
    text = descriptor.tl;
  }
  if (shown & SYM) {
    if (descriptor.ts === undefined) return formulaText(markup);
    text += (first === SYM ? "" : " = ") + descriptor.ts;
  }
  if (shown & SUB) {
    if (descriptor.tb === undefined) return formulaText(markup);
    textTemps = temps;
    text += (first === SUB ? "" : " = ") + fillText(descriptor.tb, lineValues);
  }
  if (shown & VALUE) {
    if (first === VALUE && startsWithOperator(result.math)) return formulaText(markup);
    text += (first === VALUE ? "" : " = ") + lineValues.text(result);
  }
  return finishFormula(text);
}

/** Which parts the last line headedMarkup made shows (one line at a time: no object per line). */
let headedShown = 0;

/**
 * Most of a report's lines: a target and a formula that differ (the member made their head once: sessionShared.ts),
 * a substitution, and short enough not to wrap. The markup equationMarkup would make from the same parts, but
 * from the head and at most four more pieces: less to build, and a smaller rope for the host to read. Undefined
 * for any other line (the general way below decides it).
 */
function headedMarkup(descriptor: EquationDescriptor, sub: string, result: FormattedValue): string | undefined {
  const head = descriptor.head;
  const sym = descriptor.sym;
  if (head === undefined || sym === undefined) return undefined;
  let shown = LHS | SYM;
  let length = descriptor.lhs.length + sym.length;
  let last = sym;
  let tail = "";
  if (sub !== last) {
    shown |= SUB;
    length += sub.length;
    last = sub;
    tail = EQUALS + sub;
  }
  if (!descriptor.lit && result.math !== last) {
    shown |= VALUE;
    length += result.math.length;
    tail += EQUALS + result.math;
  }
  // A long line may wrap (wrappedMarkup): the general way measures it.
  if (length >= LONG_MARKUP) return undefined;
  headedShown = shown;
  return head + tail + EQUATION_CLOSE;
}

function renderEquation(
  descriptor: EquationDescriptor,
  value: unknown,
  temps: unknown[],
  state: Recorded | undefined,
  rendered: number,
): void {
  if (hidden || !withinCap(descriptor, rendered)) return;
  const result = formatValue(value, descriptor.name === "" ? undefined : descriptor.name);
  if (!result) return;
  const sub = descriptor.sub !== undefined ? fill(descriptor.sub, temps) : undefined;
  let markup = sub !== undefined ? headedMarkup(descriptor, sub, result) : undefined;
  let shown = headedShown;
  if (markup === undefined) {
    const parts: string[] = descriptor.lhs !== "" ? [descriptor.lhs] : [];
    shown = descriptor.lhs !== "" ? LHS : 0;
    if (descriptor.sym !== undefined && pushDistinct(parts, descriptor.sym)) shown |= SYM;
    if (sub !== undefined && pushDistinct(parts, sub)) shown |= SUB;
    if ((!descriptor.lit || descriptor.sym === undefined) && pushDistinct(parts, result.math)) shown |= VALUE;
    // One markup for the report and, where the text is read from it, for the hover (formulaText reads pieces as one line).
    markup = wrappedMarkup(parts) ?? equationMarkup(parts);
  }
  if (state) {
    state.d = result.text;
    state.f = lineText(descriptor, shown, result, temps, markup);
  }
  emit(markup);
}

function paragraphs(html: string): string {
  let out = "<p>";
  let i = 0;
  // Blank lines in a sheet's text start a new paragraph.
  while (i < html.length) {
    const c = html[i]!;
    if (c === "\n") {
      let j = i + 1;
      while (j < html.length && (html[j] === " " || html[j] === "\t" || html[j] === "\r")) j++;
      if (html[j] === "\n") {
        while (j < html.length && (html[j] === "\n" || html[j] === " " || html[j] === "\t" || html[j] === "\r")) j++;
        out += "</p>\n<p>";
        i = j;
        continue;
      }
    }
    out += c;
    i++;
  }
  return out + "</p>\n";
}

function renderText(descriptor: TextDescriptor, text: unknown, temps: unknown[]): void {
  if (hidden || !withinCap(descriptor)) return;
  let html = "";
  for (let i = 0; i < descriptor.parts.length; i++) {
    const part = descriptor.parts[i]!;
    if (typeof part === "string") {
      html += part;
      continue;
    }
    const value = temps[part.t];
    // Objects were turned into text by the template itself (their toString ran once, there): use its result.
    if (((typeof value === "object" && value !== null) || typeof value === "function" || typeof value === "symbol") && !isQuantity(value)) {
      html = escapeHtml(String(text));
      break;
    }
    html +=
      typeof value === "string"
        ? escapeHtml(value)
        : value === null || value === undefined
          ? String(value)
          : (formatValue(value, part.k)?.text ?? escapeHtml(String(value)));
  }
  if (html.trim() !== "") emit(paragraphs(html));
}

/**
 * The renderer instrumented code calls. One literal, frozen as it is by the runtime: copying it with a spread
 * (to add members) made an object V8 froze ~4x slower, once per session.
 */
export const renderApi: RenderApi = {
  formulas(json) {
    const table = descriptorTable(json);
    tables.push(table);
    return table;
  },
  // No rest parameter: a line in a hot loop returns before its temps are needed, and `arguments` is only read
  // (not materialised as an array) once the line really renders.
  eq(descriptor: EquationDescriptor, value: unknown) {
    // Rendering off: neither shown nor traced.
    if (hidden) return;
    const table = iterationTables.at(-1);
    if (table) {
      fillCell(table, descriptor, value);
      return;
    }
    let state: Recorded | undefined;
    if (tracing) {
      state = recorded.get(descriptor);
      if (state === undefined) recorded.set(descriptor, (state = { v: value }));
      else {
        state.v = value;
        state.d = undefined;
        state.f = undefined;
      }
    }
    // The fast path of a line in a long loop: past its cap, nothing more to do.
    const rendered = renders.get(descriptor) ?? 0;
    if (rendered > MAX_RENDERS_PER_LINE) return;
    try {
      const temps: unknown[] = [];
      // eslint-disable-next-line prefer-rest-params -- a rest parameter would build its array for every call, also past the cap
      for (let i = 2; i < arguments.length; i++) temps.push(arguments[i]);
      renderEquation(descriptor, value, temps, state, rendered);
    } catch {
      // A line that cannot be rendered is left out; the calculation goes on.
    }
  },
  text(descriptor, text, ...temps) {
    try {
      renderText(descriptor, text, temps);
    } catch {
      // As above.
    }
  },
  c(descriptor, condition, ...temps) {
    pendingCheck = { descriptor, temps };
    return condition;
  },
  tableStart() {
    iterationTables.push({ columns: [], rows: [], cut: false });
  },
  row() {
    const table = iterationTables.at(-1);
    if (!table) return;
    if (table.rows.length < MAX_TABLE_ROWS) table.rows.push(new Map());
    else table.cut = true;
  },
  tableEnd() {
    const table = iterationTables.pop();
    if (table && !hidden) emitIterationTable(table);
  },
  enter() {
    enterWorking();
  },
  leave() {
    leaveWorking();
  },
};

/** A `@render table` loop being filled: a column per line it renders, a row per iteration. */
interface IterationTable {
  /** Each column's name as MathML (the line's left side), in the order the lines first rendered. */
  columns: string[];
  rows: Map<string, string>[];
  /** Iterations past MAX_TABLE_ROWS were not recorded. */
  cut: boolean;
}

/** Innermost last: a loop in a loop fills its own table. */
const iterationTables: IterationTable[] = [];
const MAX_TABLE_ROWS = 200;

function fillCell(table: IterationTable, descriptor: EquationDescriptor, value: unknown): void {
  // A bare expression has no name to head a column; a row past the cap is not kept.
  if (descriptor.lhs === "" || table.cut) return;
  const row = table.rows.at(-1);
  if (!row) return;
  if (!table.columns.includes(descriptor.lhs)) table.columns.push(descriptor.lhs);
  row.set(descriptor.lhs, formatValue(value)?.math ?? escapeHtml(String(value)));
}

function emitIterationTable(table: IterationTable): void {
  const rows = table.rows.filter((row) => row.size > 0);
  if (rows.length === 0 || table.columns.length === 0) return;
  const head = table.columns.map((column) => `<th><math>${column}</math></th>`).join("");
  const body = rows
    .map(
      (row) => `<tr>${table.columns.map((column) => `<td>${row.has(column) ? `<math>${row.get(column)}</math>` : ""}</td>`).join("")}</tr>`,
    )
    .join("");
  emit(`<table class="uzc-table uzc-iterations"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>\n`);
  if (table.cut) emit(`<p class="uzc-more">The loop is shown for its first ${MAX_TABLE_ROWS} iterations only.</p>\n`);
}
