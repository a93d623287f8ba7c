// How a value reads in the report, in MathML (formulas) and in HTML text (paragraphs, table cells). This is
// the one place values are turned into markup: a value type (quantities with units, later) plugs in with
// `addValueFormatter`, ahead of the built-in rules.
//
// What is shown: numbers (formatted), bigints, booleans, strings (quoted in formulas), null/undefined (—) and
// short arrays of those. Objects, functions, symbols and long or nested arrays are not shown: an equation
// whose value is one of them is left out of the report, and inside a substitution the symbol stays.

import { escapeHtml } from "../../../protocol/html";
import { DEFAULT_NUMBER_FORMAT, formatNumber, isCompound, numberMath, numberText, type NumberFormat } from "./numbers";

export interface FormattedValue {
  math: string;
  text: string;
  /** Reads with a leading minus: parenthesised as a right operand (a − (−2)). */
  negative: boolean;
  /** More than one token (2.5×10⁶): parenthesised as the base of a power. */
  compound: boolean;
  /** Its text in a traced line (protocol/formulaText.ts), made the first time a line asks. */
  formula?: string;
}

/**
 * Formats an object of a value type (a quantity with its unit); returns undefined to let the next formatter (and
 * finally the built-in rules) decide. Only objects reach one: anything else takes the built-in rules directly, as
 * most of the values a rendered line shows do.
 */
export type ValueFormatter = (value: unknown, key: string | undefined) => FormattedValue | undefined;

const isArray = Array.isArray;
const MAX_ARRAY = 12;
const MAX_STRING = 200;

let sheetFormat: NumberFormat = { ...DEFAULT_NUMBER_FORMAT };
let nameFormats: Record<string, NumberFormat> = Object.create(null) as Record<string, NumberFormat>;
/** Whether any name has a format of its own: until one does, no value's name is looked up. */
let anyNameFormat = false;
const formatters: ValueFormatter[] = [];

export function addValueFormatter(formatter: ValueFormatter): void {
  formatters.push(formatter);
}

function checkedFormat(base: NumberFormat, options: unknown): NumberFormat {
  if (typeof options !== "object" || options === null)
    throw new TypeError("format(options, ...names): `options` must be an object such as { decimals: 2 }.");
  const o = options as Record<string, unknown>;
  const next = { ...base };
  const known = ["decimals", "sciAbove", "sciBelow", "thousands", "decimal"];
  for (const key of Object.keys(o)) {
    if (known.indexOf(key) < 0) throw new TypeError(`format(): unknown option '${key}'; the options are ${known.join(", ")}.`);
  }
  if (o.decimals !== undefined) {
    if (typeof o.decimals !== "number" || !Number.isInteger(o.decimals) || o.decimals < 0 || o.decimals > 12)
      throw new TypeError("format(): `decimals` must be a whole number from 0 to 12.");
    next.decimals = o.decimals;
  }
  if (o.sciAbove !== undefined) {
    if (typeof o.sciAbove !== "number" || !(o.sciAbove > 0))
      throw new TypeError("format(): `sciAbove` must be a positive number (Infinity: never).");
    next.sciAbove = o.sciAbove;
  }
  if (o.sciBelow !== undefined) {
    if (typeof o.sciBelow !== "number" || !(o.sciBelow >= 0) || o.sciBelow === Infinity)
      throw new TypeError("format(): `sciBelow` must be a number ≥ 0 (0: never).");
    next.sciBelow = o.sciBelow;
  }
  for (const key of ["thousands", "decimal"] as const) {
    const value = o[key];
    if (value === undefined) continue;
    if (typeof value !== "string" || value.length > 3 || /[0-9<>&]/.test(value))
      throw new TypeError(`format(): \`${key}\` must be a short separator such as " " or ",".`);
    next[key] = value;
  }
  if (next.decimal === "") throw new TypeError("format(): `decimal` cannot be empty.");
  return next;
}

/** `format(options)` for every value from here on; `format(options, "sigma", ...)` for values of those names. */
export function setFormat(options: unknown, names: readonly unknown[]): void {
  if (names.length === 0) {
    sheetFormat = checkedFormat(sheetFormat, options);
    return;
  }
  for (const name of names) {
    if (typeof name !== "string" || name === "")
      throw new TypeError("format(options, ...names): each name must be a variable's name, as a string.");
    nameFormats[name] = checkedFormat(nameFormats[name] ?? sheetFormat, options);
    anyNameFormat = true;
  }
}

/** Back to the defaults: for a fresh realm, and for tests of the formatter. */
export function resetFormats(): void {
  clearNumberCache();
  sheetFormat = { ...DEFAULT_NUMBER_FORMAT };
  nameFormats = Object.create(null) as Record<string, NumberFormat>;
  anyNameFormat = false;
}

function formatFor(key: string | undefined): NumberFormat {
  return (anyNameFormat && key !== undefined ? nameFormats[key] : undefined) ?? sheetFormat;
}

/**
 * Numbers formatted in this step, for the format in force: a rendered line shows its operands, which are mostly
 * values earlier lines showed (its inputs, the line before's result, a constant), so most lookups hit. Emptied
 * at the end of every step, so a paused session keeps none of it.
 */
let numberCache = new Map<number, FormattedValue>();
let numberCacheFormat: NumberFormat | undefined;
const NUMBER_CACHE_LIMIT = 1024;

export function clearNumberCache(): void {
  if (numberCache.size > 0) numberCache = new Map<number, FormattedValue>();
  numberCacheFormat = undefined;
}

function formatNumberValue(value: number, format: NumberFormat): FormattedValue {
  if (format !== numberCacheFormat || numberCache.size >= NUMBER_CACHE_LIMIT) {
    clearNumberCache();
    numberCacheFormat = format;
  }
  let formatted = numberCache.get(value);
  if (formatted === undefined) {
    const parts = formatNumber(value, format);
    const negative = typeof parts === "string" ? parts.charCodeAt(0) === 0x2212 : parts.negative;
    const text = numberText(parts, format);
    // Without a power of ten the text has no markup and reads as the MathML does (a sign, the digits, ∞, NaN),
    // so a traced line need not parse it back out of the MathML (inlineText) for every value it shows.
    const formula = typeof parts === "string" || parts.exponent === undefined ? text : undefined;
    formatted = { math: numberMath(parts, format), text, negative, compound: isCompound(parts), formula };
    numberCache.set(value, formatted);
  }
  return formatted;
}

function formatScalar(value: unknown, key: string | undefined): FormattedValue | undefined {
  switch (typeof value) {
    case "number":
      return formatNumberValue(value, formatFor(key));
    case "bigint": {
      const digits = String(value);
      const negative = digits.charCodeAt(0) === 45;
      const body = negative ? digits.slice(1) : digits;
      return {
        math: negative ? `<mrow><mo>−</mo><mn>${body}</mn></mrow>` : `<mn>${body}</mn>`,
        text: (negative ? "−" : "") + body,
        negative,
        compound: false,
      };
    }
    case "boolean":
      return { math: `<mtext>${value}</mtext>`, text: String(value), negative: false, compound: false };
    case "string": {
      const shown = value.length > MAX_STRING ? value.slice(0, MAX_STRING) + "…" : value;
      const escaped = escapeHtml(shown);
      // Quoted by hand: MathML Core draws no quotes around <ms>.
      return { math: `<mtext>“${escaped}”</mtext>`, text: escaped, negative: false, compound: false };
    }
    case "undefined":
      return { math: "<mtext>—</mtext>", text: "—", negative: false, compound: false };
    case "object":
      return value === null ? { math: "<mtext>—</mtext>", text: "—", negative: false, compound: false } : undefined;
    default:
      return undefined;
  }
}

function formatArray(value: unknown[], key: string | undefined): FormattedValue | undefined {
  const length = value.length;
  if (length === 0 || length > MAX_ARRAY) return undefined;
  let math = "<mo>[</mo>";
  let text = "[";
  for (let i = 0; i < length; i++) {
    const item = value[i];
    if (typeof item === "object" && item !== null) return undefined;
    const formatted = formatScalar(item, key);
    if (!formatted) return undefined;
    if (i > 0) {
      math += "<mo>,</mo>";
      text += ", ";
    }
    math += formatted.math;
    text += formatted.text;
  }
  return { math: `<mrow>${math}<mo>]</mo></mrow>`, text: text + "]", negative: false, compound: false };
}

/**
 * The value's markup, or undefined when it is not shown. Never throws: a value that fails to format (a revoked
 * proxy, a getter that throws) is simply not shown.
 */
export function formatValue(value: unknown, key?: string): FormattedValue | undefined {
  try {
    if (typeof value !== "object" || value === null) return formatScalar(value, key);
    for (let i = 0; i < formatters.length; i++) {
      const formatted = formatters[i]!(value, key);
      if (formatted) return formatted;
    }
    return isArray(value) ? formatArray(value, key) : undefined;
  } catch {
    return undefined;
  }
}
