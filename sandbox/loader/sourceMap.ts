// Maps positions in a sheet bundle back to the sheet's own files, and V8 stack traces with them.

import * as path from "node:path";
import { originalPositionFor } from "@jridgewell/trace-mapping";
import type { SheetError } from "../../protocol/rpc";
import type { RealmErrorData } from "../runtime/abi";
import type { LoadedSheet } from "./sheetLoader";

export interface SourcePosition {
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** Set only for imported files, relative to the sheet. */
  file?: string;
  display: string;
}

/** `line` 1-based and `column` 0-based, in the bundle, as V8 and acorn count them. */
export function originalPosition(sheet: LoadedSheet, line: number, column: number): SourcePosition | undefined {
  const mapped = originalPositionFor(sheet.map, { line, column });
  if (mapped.source === null || mapped.line === null || mapped.column === null) return undefined;
  const index = sheet.map.sources.indexOf(mapped.source);
  const source = sheet.sources[index];
  if (!source || source.isRuntime) return undefined;
  const position: SourcePosition = { line: mapped.line, column: mapped.column + 1, display: source.display };
  if (!source.isEntry) position.file = source.display;
  return position;
}

const FRAME = /^(\s*at\s+)(?:(.*?)\s+\()?(.+?):(\d+):(\d+)\)?\s*$/;

/**
 * Turns an error from inside the realm into the SheetError the user sees: positions are the first frame in
 * the sheet's own code, and the stack keeps only the sheet's frames, each at its original file:line:column.
 */
export function mapSheetError(sheet: LoadedSheet, raw: RealmErrorData): SheetError {
  const error: SheetError = { name: raw.name, message: raw.message };
  if (raw.limit) error.limit = raw.limit;
  if (!raw.stack) return error;
  const frames: string[] = [];
  for (const line of raw.stack.split("\n")) {
    const match = FRAME.exec(line);
    if (!match || match[3] !== sheet.scriptName) continue;
    const position = originalPosition(sheet, Number(match[4]), Number(match[5]) - 1);
    if (!position) continue;
    if (error.line === undefined) {
      error.line = position.line;
      error.column = position.column;
      if (position.file) error.file = position.file;
    }
    const where = `${position.display}:${position.line}:${position.column}`;
    frames.push(match[2] ? `    at ${match[2]} (${where})` : `    at ${where}`);
  }
  error.stack = [`${raw.name}: ${raw.message}`, ...frames].join("\n");
  return error;
}

/** "beam.calc.ts:12:5" or "lib/sections.ts:3:9", for messages and the CLI. */
export function formatErrorLocation(filename: string, error: SheetError): string {
  if (error.line === undefined) return error.file ?? filename;
  return `${error.file ?? filename}:${error.line}:${error.column ?? 1}`;
}

/**
 * `file:line:col` as a terminal names it: `sheetLabel` is the sheet as named from where the user stands, and an error
 * in a file the sheet imports (`error.file`, relative to the sheet) is named from there too.
 */
export function errorLocationFrom(sheetLabel: string, error: SheetError): string {
  return error.file
    ? formatErrorLocation(path.join(path.dirname(sheetLabel), error.file), { ...error, file: undefined })
    : formatErrorLocation(sheetLabel, error);
}
