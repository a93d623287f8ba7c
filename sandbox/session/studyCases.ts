// The cases of `uzoncalc study` (SPEC §4), read from a CSV file (a column per `window.field`, an optional `case`
// column) or a JSON file (an array of input sets `{ window_id: { field: value } }`, an optional `case` key). Values
// go to the sandbox as written: its validation reads `300 mm` into a field in m, `yes` into a checkbox and
// `dead, live` into a multiple choice, and refuses the rest with the field's own message.

import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseCsv } from "csv-parse/sync";
import { isRecord } from "../../protocol/json";

/** One input of the study: a column of the CSV file, a `window.field` of the JSON input sets. */
export interface StudyColumn {
  /** `window.field`, as the cases file and the study's tables name it. */
  key: string;
  window: string;
  field: string;
}

export interface StudyCase {
  /** The name the cases file gives it (`case`), else `case-N`. */
  name: string;
  /** `name` made a safe file name, unique in the study whatever the file system's case rules: `<fileBase>.report.html`. */
  fileBase: string;
  /** What the run is answered with: `{ window_id: { field: value } }`. */
  inputs: Record<string, Record<string, unknown>>;
}

export interface StudyCases {
  columns: StudyColumn[];
  cases: StudyCase[];
}

/** A cases file that cannot be read as one: said in one line naming the file and what to fix. */
export class CasesFileError extends Error {}

/** The column (CSV) or key (JSON) that names a case rather than an input. */
const CASE_KEY = "case";

export function readCases(file: string): StudyCases {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    throw new CasesFileError(`cannot read the cases file ${file}`);
  }
  const extension = path.extname(file).toLowerCase();
  if (extension === ".csv") return readCsvCases(text, file);
  if (extension === ".json") return readJsonCases(text, file);
  throw new CasesFileError(`the cases file must be .csv or .json, got ${file}`);
}

/** The value a cell or a JSON input holds, as the study's tables show it. */
export function givenText(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

function readCsvCases(text: string, file: string): StudyCases {
  let rows: string[][];
  try {
    rows = parseCsv(text, {
      bom: true,
      delimiter: delimiterOf(text),
      // A whole line starting with # is a note to the reader (what the sweep is for); a # inside a value is a value.
      comment: "#",
      comment_no_infix: true,
      skip_empty_lines: true,
      trim: true,
    });
  } catch (error) {
    throw new CasesFileError(`${file}: ${(error as Error).message}`);
  }
  const [header, ...records] = rows;
  if (!header) throw new CasesFileError(`${file} is empty: it needs a header row of window.field columns and a row per case`);
  const caseIndex = header.findIndex((name) => name.toLowerCase() === CASE_KEY);
  const columns: (StudyColumn | undefined)[] = header.map((name, index) => (index === caseIndex ? undefined : columnOf(name, index, file)));
  const seen = new Set<string>();
  for (const column of columns) {
    if (!column) continue;
    if (seen.has(column.key)) throw new CasesFileError(`${file}: column '${column.key}' appears twice`);
    seen.add(column.key);
  }
  if (records.length === 0) throw new CasesFileError(`${file} has a header but no cases: add a row per case`);
  const names = records.map((record, index) => (caseIndex >= 0 ? record[caseIndex]! : "") || `case-${index + 1}`);
  const fileBases = caseFileBases(names);
  const cases = records.map((record, index): StudyCase => {
    const inputs: StudyCase["inputs"] = {};
    columns.forEach((column, at) => {
      if (!column) return;
      // Every window with a column is answered, an empty cell leaving its field to the default: the columns, not
      // the cells, say which windows the study answers, the same for every case.
      const values = (inputs[column.window] ??= {});
      if (record[at] !== "") values[column.field] = record[at];
    });
    return { name: names[index]!, fileBase: fileBases[index]!, inputs };
  });
  return { columns: columns.filter((column) => column !== undefined), cases };
}

/** Comma, or what a spreadsheet saved in a locale that writes decimal commas: semicolons; or tabs. */
function delimiterOf(text: string): string {
  const header = text.split(/\r?\n/).find((line) => line.trim() !== "" && !line.startsWith("#")) ?? "";
  const counts = [",", ";", "\t"].map((delimiter) => ({ delimiter, count: header.split(delimiter).length - 1 }));
  return counts.reduce((best, next) => (next.count > best.count ? next : best)).delimiter;
}

function columnOf(name: string, index: number, file: string): StudyColumn {
  // Field names are identifiers, so the last dot ends the window id (an id given by hand may hold dots).
  const dot = name.lastIndexOf(".");
  if (name === "") throw new CasesFileError(`${file}: column ${index + 1} has no name; name it window.field, or case`);
  if (dot <= 0 || dot === name.length - 1)
    throw new CasesFileError(`${file}: column '${name}' must be named window.field (e.g. section.h), or case for the case's name`);
  return { key: name, window: name.slice(0, dot), field: name.slice(dot + 1) };
}

function readJsonCases(text: string, file: string): StudyCases {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CasesFileError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  const shape = 'an array of input sets, [{ "case": "name", "window_id": { "field": value } }, …]';
  if (!Array.isArray(parsed)) throw new CasesFileError(`${file} must hold ${shape}`);
  if (parsed.length === 0) throw new CasesFileError(`${file} holds no cases: it needs ${shape}`);
  const columns = new Map<string, StudyColumn>();
  const named = parsed.map((entry: unknown, index) => {
    const where = `${file}: case ${index + 1}`;
    if (!isRecord(entry)) throw new CasesFileError(`${where} must be an input set { "window_id": { "field": value } }`);
    const inputs: StudyCase["inputs"] = {};
    let name = "";
    for (const [key, value] of Object.entries(entry)) {
      if (key === CASE_KEY) {
        if (typeof value !== "string" && typeof value !== "number") throw new CasesFileError(`${where}: "case" must be a name (a string)`);
        name = String(value).trim();
        continue;
      }
      // An input set may say which sheet and schema it is for ("$sheet", "$schema"): not windows.
      if (key.startsWith("$")) continue;
      if (!isRecord(value)) throw new CasesFileError(`${where}: "${key}" must be { "field": value } (the window's values)`);
      inputs[key] = value;
      for (const field of Object.keys(value)) {
        const column = { key: `${key}.${field}`, window: key, field };
        if (!columns.has(column.key)) columns.set(column.key, column);
      }
    }
    return { name: name || `case-${index + 1}`, inputs };
  });
  const fileBases = caseFileBases(named.map((entry) => entry.name));
  return { columns: [...columns.values()], cases: named.map((entry, index) => ({ ...entry, fileBase: fileBases[index]! })) };
}

/** Longest file base a case gets: room for `.report.html` and a folder under any file system's name limit. */
const MAX_FILE_BASE = 80;

/**
 * Each case's name as a file base: letters, digits, `.`, `_` and `-` (accents dropped, any other run of characters
 * one `-`), not starting with a dot, unique without regard to letter case (Windows and macOS file systems ignore it):
 * a later `A` beside `a` is `A-2`. An empty result takes `case-N`.
 */
export function caseFileBases(names: readonly string[]): string[] {
  const taken = new Set<string>();
  return names.map((name, index) => {
    const safe = name
      .normalize("NFKD")
      .replace(/[\u0300-\u036f]/g, "")
      .replace(/[^A-Za-z0-9._-]+/g, "-")
      .replace(/^[-.]+|[-.]+$/g, "")
      .slice(0, MAX_FILE_BASE)
      .replace(/[-.]+$/, "");
    const base = safe || `case-${index + 1}`;
    let unique = base;
    for (let n = 2; taken.has(unique.toLowerCase()); n++) unique = `${base}-${n}`;
    taken.add(unique.toLowerCase());
    return unique;
  });
}
