// The product's limits, defaults and file-name rules, in one place. The CLI's flags, both services, the local
// sandbox child, the extension's settings and the language server read them here. package.json repeats the
// setting defaults and the sheet pattern (VS Code reads them before any code runs); a test keeps those equal.

import type { HtmlMode } from "./rpc";

/** A number a user can set: its default and the smallest value accepted (with the unit the setting is in). */
export interface Limit {
  readonly default: number;
  readonly min: number;
}

export const LIMITS = {
  /** Longest a sheet may compute between two windows (a step), ms. */
  stepTimeoutMs: { default: 10_000, min: 100 },
  /** Heap cap of each isolated process or thread sheets run in, MB. */
  memoryLimitMb: { default: 256, min: 16 },
  /** Largest HTTP request body a service accepts, bytes. */
  maxBodyBytes: { default: 1_048_576, min: 1024 },
  /** Sessions running or waiting for input at once in one sandbox. */
  maxSessions: { default: 1_000, min: 1 },
  /**
   * Longest one request may keep computing, ms: a request that answers windows from batch `inputs` runs a step
   * per window, each under the step limit; between two steps past this, the run ends with an error naming it.
   */
  requestTimeoutMs: { default: 60_000, min: 1_000 },
  /** The largest report one session may write, in characters (about bytes): past it the run ends with an error. */
  maxReportBytes: { default: 16_777_216, min: 65_536 },
  /** After SIGTERM, requests in flight get this long to finish before they are answered 503 and the service stops, ms. */
  shutdownGraceMs: { default: 20_000, min: 0 },
  /** An idle session is cancelled (its `finally` runs) and forgotten after this, ms. */
  sessionTtlMs: { default: 3_600_000, min: 1_000 },
} as const satisfies Record<string, Limit>;

/** The largest value a sheet may return, as JSON characters: large results belong in the report. */
export const MAX_VALUE_LENGTH = 1_048_576;

/** The deepest nesting accepted in `params`, `inputs` and `user_input`: no real form or parameter set comes near. */
export const MAX_JSON_DEPTH = 32;

/** A paused session idle this long has its realm dropped from memory (rebuilt by replay when next used), ms. */
export const EVICT_AFTER_MS = 600_000;

/**
 * How long past the step limit a client waits for a sandbox to answer before it gives up on it, ms: a step may
 * take the whole step limit, then bundling, replay and the trip itself need some room.
 */
export const ANSWER_GRACE_MS = 30_000;

/** How long a client waits for a remote sandbox, whose step limit it does not know, when not told otherwise, ms. */
export const REMOTE_ANSWER_TIMEOUT_MS = 60_000;

export const DEFAULT_PORTS = { sandbox: 3346, api: 8000 } as const;

/** What a request that names no `html_mode` is answered with (SPEC §2): the whole report so far. */
export const WIRE_HTML_MODE: HtmlMode = "full";

/**
 * What the product's own clients ask for when their caller names no mode: each answer carries only what its
 * steps added, so a long report does not travel again on every step.
 */
export const CLIENT_HTML_MODE: HtmlMode = "delta";

/** A calculation sheet's file name (SPEC §1). Case matters, as in VS Code's own globs. */
export const SHEET_FILE_PATTERN = /\.calc\.(ts|js)$/;

/** The same rule as a glob, for VS Code's document selectors and file watchers. */
export const SHEET_GLOB = "**/*.calc.{ts,js}";

export function isSheetFileName(fileName: string): boolean {
  return SHEET_FILE_PATTERN.test(fileName);
}

/** The paper a printed or exported report is set on (`--paper`, `uzoncalc.export.paperSize`). */
export const PAPER_SIZES = ["A4", "Letter"] as const;
export type PaperSize = (typeof PAPER_SIZES)[number];

/** Where a sheet's Word export goes by default: beside it, `beam.calc.ts` → `beam.report.docx`. */
export function wordFileName(sheetPath: string): string {
  return reportFileName(sheetPath).replace(/\.html$/, ".docx");
}

/** Where a sheet's report goes by default: beside it, `beam.calc.ts` → `beam.report.html`. */
export function reportFileName(sheetPath: string): string {
  return sheetPath.replace(/(\.calc)?\.(ts|js|mts|mjs)$/i, "") + ".report.html";
}

/** Where a sheet's study goes by default, beside it and named as its report is: `beam.calc.ts` → `beam.study`. */
export function studyFolderName(sheetPath: string): string {
  return reportFileName(sheetPath).replace(/\.report\.html$/, ".study");
}

/** An input set: the values of a sheet's windows, `{ window_id: { field: value } }`, kept as a file beside it. */
export const INPUT_SET_SUFFIX = ".inputs.json";
export const INPUT_SET_GLOB = "**/*.inputs.json";

export function isInputSetFileName(fileName: string): boolean {
  return fileName.endsWith(INPUT_SET_SUFFIX) && fileName.length > INPUT_SET_SUFFIX.length;
}

/** A sheet's input set files: `beam.calc.ts` → `beam.inputs.json` (its default set), `beam.heavy.inputs.json` (a case). */
export function inputSetFileName(sheetPath: string, caseName?: string): string {
  return sheetPath.replace(SHEET_FILE_PATTERN, "") + (caseName === undefined ? "" : `.${caseName}`) + INPUT_SET_SUFFIX;
}

/** A case name users may give (`Save Inputs As…`): it becomes part of a file name. */
export const CASE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/**
 * Which sheets an input set file may belong to, without a `"$sheet"` key, most specific first: the set
 * `my.beam.inputs.json` is the default set of `my.beam.calc.ts|js` if that sheet exists, else the case `beam` of
 * `my.calc.ts|js`. Each candidate's `sheetBase` takes `.calc.ts` or `.calc.js`.
 */
export function inputSetSheetCandidates(setPath: string): { sheetBase: string; caseName: string | undefined }[] {
  if (!isInputSetFileName(setPath)) return [];
  const base = setPath.slice(0, -INPUT_SET_SUFFIX.length);
  const candidates: { sheetBase: string; caseName: string | undefined }[] = [{ sheetBase: base, caseName: undefined }];
  const dot = base.lastIndexOf(".");
  const slash = Math.max(base.lastIndexOf("/"), base.lastIndexOf("\\"));
  if (dot > slash + 1) candidates.push({ sheetBase: base.slice(0, dot), caseName: base.slice(dot + 1) });
  return candidates;
}

/**
 * The input sets of a sheet among the files of its folder, the default set first, then cases by name. A file
 * belongs to the sheet its name points at first (inputSetSheetCandidates). `exists` answers for a sheet path.
 */
export function inputSetsOfSheet(
  sheetPath: string,
  folderFiles: readonly string[],
  exists: (fileName: string) => boolean,
): { name: string | undefined; file: string }[] {
  const sets: { name: string | undefined; file: string }[] = [];
  for (const file of folderFiles) {
    if (!isInputSetFileName(file)) continue;
    const owner = inputSetSheetCandidates(file).find(({ sheetBase }) => exists(`${sheetBase}.calc.ts`) || exists(`${sheetBase}.calc.js`));
    if (owner && sheetPath.replace(SHEET_FILE_PATTERN, "") === owner.sheetBase) sets.push({ name: owner.caseName, file });
  }
  return sets.sort((a, b) => (a.name === undefined ? -1 : b.name === undefined ? 1 : a.name.localeCompare(b.name)));
}
