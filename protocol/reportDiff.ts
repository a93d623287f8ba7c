// How the calculation in one report differs from another's: what `uzoncalc diff --json` prints, and what the
// extension's diff panel shows. Plain JSON: an absent `old` or `new` is the side the block is missing from.

/** `uzoncalc diff --json`: `same` when there is no change, and then the command exits 0. */
export interface ReportDiff {
  same: boolean;
  /** In report order: the inputs first, then the body's blocks as they stand in the new report. */
  changes: ReportChange[];
  /**
   * The sheet each report ran. Not part of the calculation: an edit to the sheet that changes no result differs
   * only here, and the reports are still the same.
   */
  sheet: { old: SheetStamp; new: SheetStamp };
}

export interface SheetStamp {
  name?: string;
  /** `sha256:…` of the sheet's source, as the report's provenance prints it. */
  hash?: string;
}

/** Added: only in the new report. Removed: only in the old one. Changed: in both, in the same place, differing. */
export type Change = "added" | "removed" | "changed";

export type ReportChange = InputChange | ParamsChange | LineChange | CheckChange | BlockChange | TableChange;

/** A value in the report's inputs table (window and input as the form labelled them, the value with its unit). */
export interface InputChange {
  kind: "input";
  change: Change;
  window: string;
  input: string;
  old?: string;
  new?: string;
}

/** The run's `--params`, as the JSON the report prints. */
export interface ParamsChange {
  kind: "params";
  change: Change;
  old?: string;
  new?: string;
}

/** The heading a body block sits under (as the new report numbers it; the old one's for a removed block). */
interface InSection {
  section?: string;
}

/** A line of working (name = formula = substitution = value); changed means its value or substitution differs. */
export interface LineChange extends InSection {
  kind: "line";
  change: Change;
  /** What the line defines; absent for a bare expression. */
  name?: string;
  old?: ReportLine;
  new?: ReportLine;
}

export interface ReportLine {
  text: string;
  value: string;
}

export interface CheckChange extends InSection {
  kind: "check";
  change: Change;
  /** Passed on one side and failed on the other: what a checker looks for first. */
  verdictChanged: boolean;
  old?: ReportCheck;
  new?: ReportCheck;
}

export interface ReportCheck {
  label: string;
  ok: boolean;
  /** `OK` or `NOT OK`. */
  verdict: string;
  /** Demand over capacity, for a check that compares two positive values. */
  utilisation?: number;
  /** The condition as formula ⇒ substitution ⇒ values. */
  text: string;
}

/** A heading, a paragraph or note, or the error a run stopped with. */
export interface BlockChange extends InSection {
  kind: "heading" | "text" | "error";
  change: Change;
  old?: string;
  new?: string;
}

export interface TableChange extends InSection {
  kind: "table";
  change: Change;
  old?: ReportTable;
  new?: ReportTable;
  /** For a changed table: the rows that differ, matched by their first cell; the header is each side's first row. */
  rows?: TableRowChange[];
}

export interface ReportTable {
  caption?: string;
  rows: string[][];
}

export interface TableRowChange {
  old?: string[];
  new?: string[];
}
