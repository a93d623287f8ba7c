// Validation and coercion of user input against a waiting window (SPEC §1 "Values injected").
// The sandbox runs this before a value reaches a sheet; the webview runs the same code as the user types.

import { describeValue, quoted, type Field, type FieldValue, type OptionValue, type WindowSpec } from "./fields";
import { convertValue, parseQuantity, unitLabel, valueWithUnit } from "./units";

/**
 * What kind of refusal a message is, for callers that sort them (the language server gives each kind its own code
 * in an input set); the message alone is what users read.
 */
export type FieldProblem = "required" | "type" | "unit" | "range" | "option";

export type FieldCheck = { ok: true; value: FieldValue } | { ok: false; problem: FieldProblem; message: string };

export type InputCheck = { ok: true; values: Record<string, FieldValue> } | { ok: false; errors: Record<string, string> };

/** An empty string counts as missing (SPEC §1). */
export function isMissing(raw: unknown): boolean {
  return raw === undefined || raw === null || (typeof raw === "string" && raw.trim() === "");
}

/** The value a missing optional field takes. */
export function missingValue(field: Field): FieldValue {
  if (field.default !== undefined) return field.default;
  if (field.type === "boolean") return false;
  if (field.type === "selectMany") return [];
  return null;
}

function fieldLabel(field: Field): string {
  return field.label && field.label !== field.name ? field.label : field.name;
}

function optionList(field: Field): string {
  return (field.options ?? []).map((o) => (o.label === String(o.value) ? String(o.value) : `${o.value} (${o.label})`)).join(", ");
}

/** A field's options found by value, by the value's text and by label: built once, so each lookup is O(1). */
interface OptionIndex {
  byValue: Map<unknown, OptionValue>;
  byText: Map<string, OptionValue>;
  /** null: two options share the label, which then names neither. */
  byLabel: Map<string, OptionValue | null>;
}

const optionIndexes = new WeakMap<Field, OptionIndex>();

function optionIndex(field: Field): OptionIndex {
  let index = optionIndexes.get(field);
  if (index) return index;
  index = { byValue: new Map(), byText: new Map(), byLabel: new Map() };
  for (const option of field.options ?? []) {
    if (!index.byValue.has(option.value)) index.byValue.set(option.value, option.value);
    if (!index.byText.has(String(option.value))) index.byText.set(String(option.value), option.value);
    index.byLabel.set(option.label, index.byLabel.has(option.label) ? null : option.value);
  }
  optionIndexes.set(field, index);
  return index;
}

function matchOption(field: Field, raw: unknown): OptionValue | undefined {
  const index = optionIndex(field);
  const exact = index.byValue.get(raw);
  if (exact !== undefined) return exact;
  if (typeof raw !== "string" && typeof raw !== "number") return undefined;
  const text = String(raw).trim();
  return index.byText.get(text) ?? index.byLabel.get(text) ?? undefined;
}

function checkNumber(field: Field, raw: unknown): FieldCheck {
  const label = fieldLabel(field);
  let value: number;
  if (typeof raw === "number") {
    if (!Number.isFinite(raw))
      return { ok: false, problem: "type", message: `${label} must be a finite number, got ${describeValue(raw)}.` };
    value = raw;
  } else if (typeof raw === "string") {
    const parsed = parseQuantity(raw);
    if (!parsed) return { ok: false, problem: "type", message: `${label} must be a number, got ${describeValue(raw)}.` };
    value = parsed.value;
    if (parsed.unit !== undefined) {
      if (!field.unit)
        return { ok: false, problem: "unit", message: `${label} must be a plain number, without a unit, got ${describeValue(raw)}.` };
      const converted = convertValue(parsed.value, parsed.unit, field.unit);
      if (!converted.ok)
        return {
          ok: false,
          problem: "unit",
          message: `${label} must be in ${unitLabel(field.unit)} or a unit of its kind, got ${describeValue(raw)}: ${converted.message}.`,
        };
      value = converted.value;
      // A value that overflows in the field's unit (1e308 km in m) is not a number the sheet can use.
      if (!Number.isFinite(value))
        return {
          ok: false,
          problem: "range",
          message: `${label} must be a finite number of ${unitLabel(field.unit)}, got ${describeValue(raw)}.`,
        };
    }
  } else {
    return { ok: false, problem: "type", message: `${label} must be a number, got ${describeValue(raw)}.` };
  }
  if (field.min !== undefined && value < field.min) {
    return {
      ok: false,
      problem: "range",
      message: `${label} must be at least ${valueWithUnit(field.min, field.unit)}, got ${valueWithUnit(value, field.unit)}.`,
    };
  }
  if (field.max !== undefined && value > field.max) {
    return {
      ok: false,
      problem: "range",
      message: `${label} must be at most ${valueWithUnit(field.max, field.unit)}, got ${valueWithUnit(value, field.unit)}.`,
    };
  }
  return { ok: true, value };
}

/** The words a yes/no field takes, in any case (an input set written by hand says "yes"). */
export const TRUE_WORDS: ReadonlySet<string> = new Set(["true", "yes", "y", "on", "1"]);
export const FALSE_WORDS: ReadonlySet<string> = new Set(["false", "no", "n", "off", "0"]);

function checkBoolean(field: Field, raw: unknown): FieldCheck {
  if (typeof raw === "boolean") return { ok: true, value: raw };
  if (raw === 1 || raw === 0) return { ok: true, value: raw === 1 };
  if (typeof raw === "string") {
    const word = raw.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return { ok: true, value: true };
    if (FALSE_WORDS.has(word)) return { ok: true, value: false };
  }
  return { ok: false, problem: "type", message: `${fieldLabel(field)} must be yes or no (true/false), got ${describeValue(raw)}.` };
}

function checkSelectOne(field: Field, raw: unknown): FieldCheck {
  const value = matchOption(field, raw);
  if (value !== undefined) return { ok: true, value };
  return { ok: false, problem: "option", message: `${fieldLabel(field)} must be one of ${optionList(field)}, got ${describeValue(raw)}.` };
}

function checkSelectMany(field: Field, raw: unknown): FieldCheck {
  const options = field.options ?? [];
  let items: unknown[];
  if (Array.isArray(raw)) items = raw;
  else if (typeof raw === "string")
    items =
      matchOption(field, raw) !== undefined
        ? [raw]
        : raw
            .split(",")
            .map((s) => s.trim())
            .filter(Boolean);
  else return { ok: false, problem: "type", message: `${fieldLabel(field)} must be a list of options, got ${describeValue(raw)}.` };
  // Each option at most once: more values than twice the options cannot be a choice, and are not read one by one.
  if (items.length > 2 * options.length) {
    return {
      ok: false,
      problem: "option",
      message: `${fieldLabel(field)} must be at most ${options.length} options, got ${items.length} values.`,
    };
  }
  const chosen = new Set<OptionValue>();
  const unknown: unknown[] = [];
  for (const item of items) {
    const value = matchOption(field, item);
    if (value === undefined) unknown.push(item);
    else chosen.add(value);
  }
  if (unknown.length > 0) {
    const what = unknown.map(describeValue).join(", ");
    return { ok: false, problem: "option", message: `${fieldLabel(field)} must be among ${optionList(field)}, got ${what}.` };
  }
  if (field.required && chosen.size === 0)
    return { ok: false, problem: "required", message: `${fieldLabel(field)} must have at least one option chosen.` };
  // The options' own order, so the sheet sees the same array whatever order the user clicked in.
  return { ok: true, value: options.map((o) => o.value).filter((value) => chosen.has(value)) };
}

function checkText(field: Field, raw: unknown): FieldCheck {
  if (typeof raw === "string") return { ok: true, value: raw };
  if (typeof raw === "number" || typeof raw === "boolean") return { ok: true, value: String(raw) };
  return { ok: false, problem: "type", message: `${fieldLabel(field)} must be text, got ${describeValue(raw)}.` };
}

/** Validates and coerces one field's raw value (as typed or as sent) into what the sheet receives. */
export function checkField(field: Field, raw: unknown): FieldCheck {
  if (isMissing(raw)) {
    if (field.required) return { ok: false, problem: "required", message: `${fieldLabel(field)} is required.` };
    return { ok: true, value: missingValue(field) };
  }
  switch (field.type) {
    case "number":
      return checkNumber(field, raw);
    case "boolean":
      return checkBoolean(field, raw);
    case "selectOne":
      return checkSelectOne(field, raw);
    case "selectMany":
      return checkSelectMany(field, raw);
    default:
      return checkText(field, raw);
  }
}

/** Validates a whole form. Unknown keys are errors too: a typo in an inputs file must not pass silently. */
export function checkWindowInput(window: WindowSpec, input: Record<string, unknown>): InputCheck {
  const errors: Record<string, string> = {};
  const values: Record<string, FieldValue> = {};
  const names = window.fields.map((f) => f.name);
  const known = new Set(names);
  for (const key of Object.keys(input)) {
    if (known.has(key)) continue;
    const guess = closestName(key, names);
    errors[key] =
      `'${quoted(key)}' is not a field of window '${window.id}'` +
      (guess ? `; did you mean '${guess}'?` : `; its fields are ${names.join(", ")}.`);
  }
  for (const field of window.fields) {
    const check = checkField(field, Object.prototype.hasOwnProperty.call(input, field.name) ? input[field.name] : undefined);
    if (check.ok) values[field.name] = check.value;
    else errors[field.name] = check.message;
  }
  return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, values };
}

/**
 * Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of two neighbouring
 * characters each cost 1, so the commonest typo ("spna" for "span") is one edit away.
 */
export function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      let d = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2]! + 1);
      current.push(d);
    }
    before = previous;
    previous = current;
  }
  return previous[b.length]!;
}

/** The most similar name, if one is close enough to be a plausible typo. */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    // The distance is at least the difference in length: a name much longer or shorter is no typo of this one,
    // and measuring it would cost the product of the two lengths.
    if (Math.abs(name.length - candidate.length) > Math.max(1, Math.floor(candidate.length / 3))) continue;
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(best.length / 3)) ? best : undefined;
}

export function summarizeFieldErrors(errors: Record<string, string>): string {
  return Object.entries(errors)
    .map(([name, message]) => `${name}: ${message}`)
    .join("; ");
}
