// A sheet's input sets as files beside it (SPEC §4): `beam.inputs.json` (the default set) and
// `beam.<case>.inputs.json` (named sets), `{ window_id: { field: value } }`. Listed for the run panel's "Run with",
// read for a run, and written by Save Inputs As… in a form that reads well in a git diff.

import * as fs from "node:fs";
import * as path from "node:path";
import { isRecord } from "../protocol/json";
import { inputSetFileName, inputSetsOfSheet } from "../protocol/limits";
import type { InputLogEntry } from "../protocol/session";

export interface InputSetFile {
  /** "default" for `<base>.inputs.json`, else the case name. */
  name: string;
  file: string;
}

export type InputSetValues = Record<string, Record<string, unknown>>;

export const DEFAULT_SET = "default";

/** The sets beside a sheet, the default first (the naming rule is protocol/limits.ts's). */
export function listInputSets(sheetPath: string): InputSetFile[] {
  const folder = path.dirname(sheetPath);
  let names: string[];
  try {
    names = fs.readdirSync(folder);
  } catch {
    return [];
  }
  return inputSetsOfSheet(
    sheetPath,
    names.map((name) => path.join(folder, name)),
    (file) => fs.existsSync(file),
  ).map(({ name, file }) => ({ name: name ?? DEFAULT_SET, file }));
}

/** A set's windows and values; keys starting with `$` (`$sheet`, `$schema`) are not windows. */
export function readInputSet(file: string): InputSetValues {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(`${path.basename(file)} cannot be read as JSON: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  if (!isRecord(parsed)) throw new Error(`${path.basename(file)} must hold { "window_id": { "field": value } }`);
  const values: InputSetValues = {};
  for (const [id, fields] of Object.entries(parsed)) {
    if (id.startsWith("$")) continue;
    if (!isRecord(fields)) throw new Error(`${path.basename(file)}: the values of window '${id}' must be an object of fields`);
    values[id] = fields;
  }
  return values;
}

/**
 * A run's answers as a set: windows in the order the run met them, fields in each window's order, values as the
 * user gave them (`"300 mm"` stays as typed), two-space JSON with a final newline, so a changed value is one line
 * of diff.
 */
export function inputSetText(answered: readonly InputLogEntry<unknown>[]): string {
  const set: InputSetValues = {};
  for (const entry of answered) {
    const order = Object.keys(entry.legend?.fields ?? {});
    const given = entry.values;
    const known = order.filter((name) => Object.prototype.hasOwnProperty.call(given, name));
    const rest = Object.keys(given).filter((name) => !order.includes(name));
    set[entry.window] = Object.fromEntries([...known, ...rest].map((name) => [name, given[name]]));
  }
  return `${JSON.stringify(set, null, 2)}\n`;
}

export function inputSetPath(sheetPath: string, name: string): string {
  return inputSetFileName(sheetPath, name === DEFAULT_SET ? undefined : name);
}
