// The window and field schema (SPEC §1), shared by the in-realm runtime, the sandbox host, the webview and
// the language server. It imports only protocol/: it is bundled into the sheet realm as source.

import { isRecord } from "./json";
import { unitLabel } from "./units";

export const FIELD_TYPES = ["text", "number", "selectOne", "selectMany", "boolean", "textarea"] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

export type OptionValue = string | number | boolean;
export interface FieldOption {
  value: OptionValue;
  label: string;
}

export type FieldValue = string | number | boolean | OptionValue[] | null;

/** A field after normalisation: every optional attribute is either present with the right type or absent. */
export interface Field {
  name: string;
  type: FieldType;
  label: string;
  default?: FieldValue;
  placeholder?: string;
  help?: string;
  required: boolean;
  options?: FieldOption[];
  unit?: string;
  min?: number;
  max?: number;
  step?: number;
}

/** The window as it crosses the wire in `ExecutionResponse.ui`. */
export interface WindowSpec {
  id: string;
  title: string;
  caption?: string;
  fields: Field[];
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export function isFieldType(value: unknown): value is FieldType {
  return typeof value === "string" && (FIELD_TYPES as readonly string[]).includes(value);
}

/**
 * The SPEC's slug rule: lower-case, accents stripped, every run of other characters turned into `-`, trimmed.
 * Returns "" for a title with no usable character; the caller numbers such windows (`window-N`).
 */
export function slugify(title: string): string {
  return title
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

/** How much of a value a message quotes: enough to recognise it, never the whole of a large one. */
const QUOTED_LENGTH = 80;

/** A name or text as a message quotes it: cut at QUOTED_LENGTH characters with "…". */
export function quoted(text: string): string {
  return text.length > QUOTED_LENGTH ? `${text.slice(0, QUOTED_LENGTH)}…` : text;
}

export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return JSON.stringify(quoted(value));
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return `a value of type ${typeof value}`;
}

function isOptionValue(value: unknown): value is OptionValue {
  return typeof value === "string" || (typeof value === "number" && Number.isFinite(value)) || typeof value === "boolean";
}

export interface WindowProblem {
  /** Index of the field the problem is about, or -1 for the window itself. */
  field: number;
  /** Attribute the problem is about (`name`, `default`, `min`, ...), or "" for the whole field. */
  attribute: string;
  message: string;
}

export interface NormalizedWindow {
  window: WindowSpec;
  problems: WindowProblem[];
}

/**
 * Checks a window as written in a sheet and returns its canonical form. Problems are collected, not thrown,
 * so the runtime can report all of them at once and the language server can place each one.
 * `id` is the explicit id or the slug of the title ("" if neither gives one: the caller numbers it).
 */
export function normalizeWindow(raw: unknown): NormalizedWindow {
  const problems: WindowProblem[] = [];
  const windowProblem = (attribute: string, message: string) => problems.push({ field: -1, attribute, message });
  if (!isRecord(raw)) {
    windowProblem("", `Window(...) needs an object like { title, fields }, got ${describeValue(raw)}.`);
    return { window: { id: "", title: "", fields: [] }, problems };
  }
  let title = "";
  if (typeof raw.title === "string" && raw.title.trim() !== "") title = raw.title;
  else windowProblem("title", "A window needs a `title` (a non-empty string).");

  let id = "";
  if (raw.id !== undefined) {
    if (typeof raw.id === "string" && /^[A-Za-z0-9_-]{1,128}$/.test(raw.id)) id = raw.id;
    else windowProblem("id", `Window id ${describeValue(raw.id)} must be 1–128 letters, digits, '_' or '-'.`);
  }
  if (id === "") id = slugify(title);

  let caption: string | undefined;
  if (raw.caption !== undefined && raw.caption !== null) {
    if (typeof raw.caption === "string") caption = raw.caption;
    else windowProblem("caption", "`caption` must be a string.");
  }

  const fields: Field[] = [];
  if (!Array.isArray(raw.fields)) {
    windowProblem("fields", "A window needs `fields`, an array of field specs.");
  } else {
    const seen = new Map<string, number>();
    raw.fields.forEach((rawField: unknown, index: number) => {
      const field = normalizeField(rawField, index, problems);
      if (!field) return;
      const first = seen.get(field.name);
      if (first !== undefined) {
        problems.push({
          field: index,
          attribute: "name",
          message: `Field name '${field.name}' is used twice in window '${title}' (fields ${first + 1} and ${index + 1}).`,
        });
        return;
      }
      seen.set(field.name, index);
      fields.push(field);
    });
  }
  const window: WindowSpec = caption === undefined ? { id, title, fields } : { id, title, caption, fields };
  return { window, problems };
}

function normalizeField(raw: unknown, index: number, problems: WindowProblem[]): Field | undefined {
  const where = `Field ${index + 1}`;
  const problem = (attribute: string, message: string) => problems.push({ field: index, attribute, message });
  if (!isRecord(raw)) {
    problem("", `${where} must be an object like { name, type }, got ${describeValue(raw)}.`);
    return undefined;
  }
  if (typeof raw.name !== "string" || raw.name === "") {
    problem("name", `${where} has no \`name\`.`);
    return undefined;
  }
  const name = raw.name;
  const label = `Field '${name}'`;
  if (!IDENTIFIER.test(name))
    problem("name", `${label}: the name must be an identifier (letters, digits, '_' or '$', not starting with a digit).`);

  let type: FieldType = "text";
  if (raw.type !== undefined) {
    if (isFieldType(raw.type)) type = raw.type;
    else problem("type", `${label}: unknown type ${describeValue(raw.type)}; use one of ${FIELD_TYPES.join(", ")}.`);
  }
  const field: Field = { name, type, label: name, required: false };

  for (const key of ["label", "placeholder", "help", "unit"] as const) {
    const value = raw[key];
    if (value === undefined || value === null) continue;
    if (typeof value === "string") field[key] = value;
    else problem(key, `${label}: \`${key}\` must be a string.`);
  }
  if (raw.required !== undefined && raw.required !== null) {
    if (typeof raw.required === "boolean") field.required = raw.required;
    else problem("required", `${label}: \`required\` must be true or false.`);
  }
  for (const key of ["min", "max", "step"] as const) {
    const value = raw[key];
    if (value === undefined || value === null) continue;
    if (typeof value === "number" && Number.isFinite(value)) field[key] = value;
    else problem(key, `${label}: \`${key}\` must be a finite number.`);
  }
  if (field.step !== undefined && field.step <= 0) problem("step", `${label}: \`step\` must be greater than 0.`);
  if (field.min !== undefined && field.max !== undefined && field.min > field.max) {
    problem("min", `${label}: min (${field.min}) is greater than max (${field.max}).`);
  }

  const isSelect = type === "selectOne" || type === "selectMany";
  if (raw.options !== undefined && raw.options !== null) {
    if (!Array.isArray(raw.options)) {
      problem("options", `${label}: \`options\` must be an array.`);
    } else {
      const options: FieldOption[] = [];
      raw.options.forEach((option: unknown, i: number) => {
        if (isOptionValue(option)) options.push({ value: option, label: String(option) });
        else if (isRecord(option) && isOptionValue(option.value)) {
          options.push({ value: option.value, label: typeof option.label === "string" ? option.label : String(option.value) });
        } else problem("options", `${label}: option ${i + 1} must be a string, a number or { value, label }.`);
      });
      const values = new Set<OptionValue>();
      for (const option of options) {
        if (values.has(option.value)) problem("options", `${label}: option ${describeValue(option.value)} is listed twice.`);
        values.add(option.value);
      }
      if (isSelect) field.options = options;
      else problem("options", `${label}: \`options\` only applies to selectOne and selectMany fields.`);
    }
  } else if (isSelect) {
    problem("options", `${label}: a ${type} field needs \`options\`.`);
    field.options = [];
  }

  if (raw.default !== undefined && raw.default !== null) {
    const fault = checkDefault(field, raw.default);
    if (fault) problem("default", `${label}: ${fault}`);
    else field.default = raw.default as FieldValue;
  }
  return field;
}

function checkDefault(field: Field, value: unknown): string | undefined {
  switch (field.type) {
    case "number": {
      if (typeof value !== "number" || !Number.isFinite(value)) return `default ${describeValue(value)} is not a number.`;
      if (field.min !== undefined && value < field.min) return `default ${value} is below min ${field.min}.`;
      if (field.max !== undefined && value > field.max) return `default ${value} is above max ${field.max}.`;
      return undefined;
    }
    case "boolean":
      return typeof value === "boolean" ? undefined : `default ${describeValue(value)} is not true or false.`;
    case "selectOne": {
      const values = (field.options ?? []).map((o) => o.value);
      return values.includes(value as OptionValue) ? undefined : `default ${describeValue(value)} is not among its options.`;
    }
    case "selectMany": {
      if (!Array.isArray(value)) return `default of a selectMany field must be an array of option values.`;
      const values = (field.options ?? []).map((o) => o.value);
      const stray = value.find((v) => !values.includes(v as OptionValue));
      return stray === undefined ? undefined : `default value ${describeValue(stray)} is not among its options.`;
    }
    default:
      return typeof value === "string" ? undefined : `default ${describeValue(value)} is not a string.`;
  }
}

/** One line naming a field for a message: `span (number, m, required, default 6)`. */
export function describeField(field: Field): string {
  const parts: string[] = [field.type];
  if (field.unit) parts.push(unitLabel(field.unit));
  if (field.required) parts.push("required");
  if (field.options) parts.push(`one of ${field.options.map((o) => JSON.stringify(o.value)).join("|")}`);
  if (field.default !== undefined) parts.push(`default ${JSON.stringify(field.default)}`);
  return `${field.name} (${parts.join(", ")})`;
}

/** One line per problem, for the error a sheet gets when it builds a bad window. */
export function formatWindowProblems(window: WindowSpec, problems: WindowProblem[]): string {
  const head = window.title ? `Window '${window.title}' is not valid:` : "Window is not valid:";
  return [head, ...problems.map((p) => `  - ${p.message}`)].join("\n");
}
