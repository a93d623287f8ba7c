// `uzoncalc diff`: what changed in a calculation between two of its reports, as a checker asks it ("what changed
// since the last issue?"): inputs, values old → new, lines added and removed, checks whose verdict changed.
//
// The two bodies are aligned block by block with jsdiff's diffArrays, on an identity that leaves the values out
// (a line's name and formula, a check's label, a heading's title), so a value that changed stays one block that
// changed rather than one removed and one added. The provenance's date and runtime are not the calculation and
// are never compared; the sheet's content hash is reported beside the result but decides nothing on its own.

import { diffArrays } from "diff";
import type {
  Change,
  ReportChange,
  ReportCheck,
  ReportDiff,
  ReportLine,
  ReportTable,
  SheetStamp,
  TableRowChange,
} from "../../protocol/reportDiff";
import type { ReadReport, ReportItem } from "./reportReading";

const EQUALS = " = ";
const IMPLIES = " ⇒ ";

export function diffReports(oldReport: ReadReport, newReport: ReadReport): ReportDiff {
  const changes = [
    ...diffParams(oldReport.params, newReport.params),
    ...diffInputs(oldReport, newReport),
    ...diffBody(oldReport, newReport),
  ];
  return { same: changes.length === 0, changes, sheet: { old: stampOf(oldReport), new: stampOf(newReport) } };
}

function stampOf(report: ReadReport): SheetStamp {
  return { ...(report.sheet !== undefined ? { name: report.sheet } : {}), ...(report.hash !== undefined ? { hash: report.hash } : {}) };
}

/** One block of either report, matched with its counterpart when the other report has one. */
interface Pair<T> {
  old?: T;
  new?: T;
}

/** The two lists in one sequence, matched where their identities agree (the longest run of matches, as diff does). */
function align<T>(olds: readonly T[], news: readonly T[], identity: (item: T) => string): Pair<T>[] {
  const pairs: Pair<T>[] = [];
  let oldAt = 0;
  let newAt = 0;
  // A common run carries only the new side's tokens, so both sides are walked by count.
  for (const run of diffArrays(olds.map(identity), news.map(identity))) {
    for (let i = 0; i < run.count; i++) {
      if (run.removed) pairs.push({ old: olds[oldAt++]! });
      else if (run.added) pairs.push({ new: news[newAt++]! });
      else pairs.push({ old: olds[oldAt++]!, new: news[newAt++]! });
    }
  }
  return pairs;
}

function changeOf<T>(pair: Pair<T>): Change {
  return pair.old === undefined ? "added" : pair.new === undefined ? "removed" : "changed";
}

/** `old`/`new` as the protocol writes them: a side the block is missing from is absent, not undefined. */
function sides<T, U>(pair: Pair<T>, convert: (item: T) => U): { old?: U; new?: U } {
  return { ...(pair.old !== undefined ? { old: convert(pair.old) } : {}), ...(pair.new !== undefined ? { new: convert(pair.new) } : {}) };
}

function diffParams(oldParams: string | undefined, newParams: string | undefined): ReportChange[] {
  if (oldParams === newParams) return [];
  const pair: Pair<string> = {
    ...(oldParams !== undefined ? { old: oldParams } : {}),
    ...(newParams !== undefined ? { new: newParams } : {}),
  };
  return [{ kind: "params", change: changeOf(pair), ...pair }];
}

function diffInputs(oldReport: ReadReport, newReport: ReadReport): ReportChange[] {
  // By window and input, in order: a window answered twice (a loop) lists its inputs twice.
  const pairs = align(oldReport.inputs, newReport.inputs, (input) => `${input.window}\u0000${input.input}`);
  return pairs
    .filter((pair) => pair.old?.value !== pair.new?.value)
    .map((pair) => {
      const { window, input } = (pair.new ?? pair.old)!;
      return { kind: "input", change: changeOf(pair), window, input, ...sides(pair, (row) => row.value) };
    });
}

function diffBody(oldReport: ReadReport, newReport: ReadReport): ReportChange[] {
  const changes: ReportChange[] = [];
  let section: string | undefined;
  for (const pair of align(oldReport.items, newReport.items, identityOf)) {
    const change = blockChange(pair, section);
    if (change) changes.push(change);
    const item = (pair.new ?? pair.old)!;
    if (item.kind === "heading") section = item.text;
  }
  return changes;
}

/** What a block is, whatever values it shows: what the two reports are aligned on. */
function identityOf(item: ReportItem): string {
  switch (item.kind) {
    case "heading":
      return `heading ${item.level} ${unnumbered(item.text, item.number)}`;
    case "line":
      return `line ${lineIdentity(item.text, item.name)}`;
    case "check":
      return `check ${withoutNumbers(item.label)} ${withoutNumbers(item.text.split(IMPLIES)[0]!)}`;
    case "text":
      return `text ${withoutNumbers(item.text)}`;
    case "table":
      return `table ${withoutNumbers(captionOf(item))} ${withoutNumbers(item.rows[0]?.[0] ?? "")}`;
    case "error":
      // A run stops at most once: its error is the same block whatever it says.
      return "error";
  }
}

/**
 * A line is its name and formula: `A_s = (n · π · φ²)/4 = (3 · π · (20 mm)²)/4 = 942.478 mm²` is `A_s = (n · π ·
 * φ²)/4`. With three parts the middle one may be a bare expression's substitution (`x/h < ξ_b = 30/100 < 0.5 =
 * true`), so numbers are left out of it; a line that only names a value (`b = 300 mm`) is its name.
 */
function lineIdentity(text: string, name: string | undefined): string {
  if (name === undefined) return withoutNumbers(text);
  const parts = text.split(EQUALS);
  return parts.length >= 3 ? `${name}${EQUALS}${withoutNumbers(parts[1]!)}` : name;
}

/** The line's formula, when the text shows one apart from its substitution (name = formula = substitution = value). */
function formulaOf(line: ReportLine): string | undefined {
  const parts = line.text.split(EQUALS);
  return parts.length >= 4 ? parts[1] : undefined;
}

function withoutNumbers(text: string): string {
  return text.replace(/[0-9⁰¹²³⁴⁵⁶⁷⁸⁹]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?/gi, "#");
}

/** A heading or caption without the number the report gave it, which moves when one is added before it. */
function unnumbered(text: string, number: string | undefined): string {
  return number !== undefined && text.startsWith(number) ? text.slice(number.length).trim() : text;
}

function blockChange(pair: Pair<ReportItem>, section: string | undefined): ReportChange | undefined {
  const change = changeOf(pair);
  const placed = section !== undefined ? { section } : {};
  const kind = (pair.new ?? pair.old)!.kind;
  switch (kind) {
    case "heading":
      // Aligned headings have the same level and title: only their number can differ, and that is not a change.
      return change === "changed" ? undefined : { kind, change, ...placed, ...sides(pairOf(pair, kind), (item) => item.text) };
    case "text":
    case "error": {
      const text = pairOf(pair, kind);
      if (text.old?.text === text.new?.text) return undefined;
      return { kind, change, ...placed, ...sides(text, (item) => item.text) };
    }
    case "line": {
      const line = pairOf(pair, kind);
      if (line.old?.text === line.new?.text) return undefined;
      const name = (line.new ?? line.old)!.name;
      return {
        kind,
        change,
        ...placed,
        ...(name !== undefined ? { name } : {}),
        ...sides(line, (item): ReportLine => ({ text: item.text, value: item.value })),
      };
    }
    case "check": {
      const check = sides(pairOf(pair, kind), toCheck);
      if (check.old !== undefined && check.new !== undefined && JSON.stringify(check.old) === JSON.stringify(check.new)) return undefined;
      const verdictChanged =
        check.old !== undefined && check.new !== undefined && (check.old.ok !== check.new.ok || check.old.verdict !== check.new.verdict);
      return { kind, change, ...placed, verdictChanged, ...check };
    }
    case "table": {
      const items = pairOf(pair, kind);
      const table = sides(items, toTable);
      if (items.old === undefined || items.new === undefined) return { kind, change, ...placed, ...table };
      const rows = rowChanges(items.old.rows, items.new.rows);
      // A table added before this one renumbers it, and is reported itself.
      if (rows.length === 0 && captionOf(items.old) === captionOf(items.new)) return undefined;
      return { kind, change, ...placed, ...table, rows };
    }
  }
}

/** The pair narrowed to one kind of block (aligned blocks share their identity, and so their kind). */
function pairOf<K extends ReportItem["kind"]>(pair: Pair<ReportItem>, kind: K): Pair<Extract<ReportItem, { kind: K }>> {
  const narrow = (item: ReportItem | undefined) => (item?.kind === kind ? (item as Extract<ReportItem, { kind: K }>) : undefined);
  const old = narrow(pair.old);
  const next = narrow(pair.new);
  return { ...(old !== undefined ? { old } : {}), ...(next !== undefined ? { new: next } : {}) };
}

function toCheck(item: Extract<ReportItem, { kind: "check" }>): ReportCheck {
  return {
    label: item.label,
    ok: item.ok,
    verdict: item.verdict,
    ...(item.utilisation !== undefined ? { utilisation: item.utilisation } : {}),
    text: item.text,
  };
}

function toTable(item: Extract<ReportItem, { kind: "table" }>): ReportTable {
  return { ...(item.caption !== undefined ? { caption: item.caption } : {}), rows: item.rows };
}

function captionOf(item: Extract<ReportItem, { kind: "table" }>): string {
  return unnumbered(item.caption ?? "", item.number);
}

/** The rows that differ, matched by their first cell (a row's label: `Bending`, or a value in a table of values). */
function rowChanges(oldRows: string[][], newRows: string[][]): TableRowChange[] {
  return align(oldRows, newRows, (row) => withoutNumbers(row[0] ?? "")).filter(
    (pair) => pair.old === undefined || pair.new === undefined || pair.old.join("\u0000") !== pair.new.join("\u0000"),
  );
}

// ---- The terminal's view -----------------------------------------------------------------------------------------

const ARROW = " → ";

/** The diff as a checker reads it in a terminal: grouped under the report's headings, one change a line. */
export function formatReportDiff(diff: ReportDiff, names: { old: string; new: string }): string {
  const { old, new: next } = diff.sheet;
  // Said as what it is: the hash covers the sheet as bundled, so it may move with an import or the file's name too.
  const sheetChange =
    old.hash !== next.hash ? "the sheet's content hash differs" : old.name !== next.name ? "the sheet's name differs" : undefined;
  if (diff.same) {
    // The exit code follows the calculation; an edit that changed no result is still worth a word.
    if (sheetChange === undefined) return "no differences in the calculation\n";
    return `no differences in the calculation (${sheetChange}: ${stampText(old)}${ARROW}${stampText(next)}; same inputs and results)\n`;
  }
  const out: string[] = [`--- ${names.old}  ${stampText(old)}`, `+++ ${names.new}  ${stampText(next)}`];
  let group: string | undefined;
  for (const change of diff.changes) {
    const heading = change.kind === "input" || change.kind === "params" ? "Inputs" : (change.section ?? "(top of the report)");
    if (heading !== group) out.push(heading);
    group = heading;
    out.push(...describe(change));
  }
  out.push(summary(diff.changes) + (sheetChange === undefined ? "" : `; ${sheetChange}`));
  return out.join("\n") + "\n";
}

/** `rc-beam.calc.ts sha256:de040fae7860…`: the sheet, and its hash as far as a reader compares it by eye. */
function stampText(stamp: SheetStamp): string {
  const hash = stamp.hash === undefined ? "no content hash" : stamp.hash.length > 19 ? stamp.hash.slice(0, 19) + "…" : stamp.hash;
  return `${stamp.name ?? "unnamed sheet"} ${hash}`;
}

function marker(change: Change): string {
  return change === "added" ? "+ " : change === "removed" ? "- " : "  ";
}

function describe(change: ReportChange): string[] {
  switch (change.kind) {
    case "input":
      return [
        `${marker(change.change)}${change.change === "changed" ? "" : "input "}${change.window} › ${change.input}: ${fromTo(change)}`,
      ];
    case "params":
      return [`${marker(change.change)}--params ${fromTo(change)}`];
    case "line":
      return describeLine(change.change, change.name, change.old, change.new);
    case "check":
      return [describeCheck(change.change, change.verdictChanged, change.old, change.new)];
    case "heading":
    case "text":
    case "error":
      return [`${marker(change.change)}${change.change === "changed" ? "~ " : ""}${change.kind} ${fromTo(change)}`];
    case "table":
      return describeTable(change.change, change.old, change.new, change.rows ?? []);
  }
}

function fromTo(values: { old?: string; new?: string }): string {
  if (values.old === undefined) return values.new ?? "";
  if (values.new === undefined) return values.old;
  return values.old + ARROW + values.new;
}

function describeLine(change: Change, name: string | undefined, old: ReportLine | undefined, next: ReportLine | undefined): string[] {
  if (old === undefined || next === undefined) return [`${marker(change)}line ${(next ?? old)!.text}`];
  if (name === undefined || old.value === next.value) return [`  ~ line ${old.text}${ARROW}${next.text}`];
  const lines = [`  ${name} = ${old.value}${ARROW}${next.value}`];
  const [oldFormula, newFormula] = [formulaOf(old), formulaOf(next)];
  if (oldFormula !== undefined && newFormula !== undefined && oldFormula !== newFormula)
    lines.push(`      formula ${oldFormula}${ARROW}${newFormula}`);
  return lines;
}

function describeCheck(change: Change, verdictChanged: boolean, old: ReportCheck | undefined, next: ReportCheck | undefined): string {
  if (old === undefined || next === undefined) {
    const check = (next ?? old)!;
    const utilisation = check.utilisation === undefined ? "" : ` (utilisation ${check.utilisation})`;
    return `${marker(change)}check ${mark(check)} ${check.label || check.text} ${check.verdict}${utilisation}`;
  }
  const notes: string[] = [];
  if (old.label !== next.label) notes.push(`was “${old.label}”`);
  if (old.utilisation !== next.utilisation) notes.push(`utilisation ${old.utilisation ?? "none"}${ARROW}${next.utilisation ?? "none"}`);
  else if (next.utilisation !== undefined) notes.push(`utilisation ${next.utilisation}`);
  if (!verdictChanged && old.utilisation === next.utilisation && old.text !== next.text) notes.push(old.text + ARROW + next.text);
  const marks = verdictChanged ? `${mark(old)}${ARROW}${mark(next)}` : mark(next);
  return `  ${marks} ${next.label || next.text}${notes.length > 0 ? ` (${notes.join("; ")})` : ""}`;
}

function mark(check: ReportCheck): string {
  return check.ok ? "✓" : "✗";
}

function describeTable(change: Change, old: ReportTable | undefined, next: ReportTable | undefined, rows: TableRowChange[]): string[] {
  if (old === undefined || next === undefined) {
    const table = (next ?? old)!;
    return [`${marker(change)}table ${table.caption ?? table.rows[0]?.join(" | ") ?? ""}`];
  }
  const title = next.caption ?? next.rows[0]?.join(" | ") ?? "";
  const lines = [`  ~ table ${title}${old.caption !== next.caption ? ` (was “${old.caption ?? ""}”)` : ""}`];
  const header = next.rows[0] ?? [];
  for (const row of rows) {
    if (row.old === undefined || row.new === undefined)
      lines.push(`    ${marker(row.old === undefined ? "added" : "removed")}row ${(row.new ?? row.old)!.join(" | ")}`);
    else lines.push(`      ${row.new[0] ?? ""}: ${cellChanges(header, row.old, row.new)}`);
  }
  return lines;
}

function cellChanges(header: string[], old: string[], next: string[]): string {
  const cells: string[] = [];
  for (let i = 0; i < Math.max(old.length, next.length); i++) {
    if (old[i] === next[i]) continue;
    cells.push(`${header[i] ?? `column ${i + 1}`} ${old[i] ?? ""}${ARROW}${next[i] ?? ""}`);
  }
  return cells.join("; ");
}

/** What the last line counts, in the order a checker reads it. */
const TALLIES: [one: string, many: string, counts: (change: ReportChange) => boolean][] = [
  ["input", "inputs", (change) => change.kind === "input" || change.kind === "params"],
  ["value", "values", (change) => change.kind === "line" && change.change === "changed"],
  ["line added or removed", "lines added or removed", (change) => change.kind === "line" && change.change !== "changed"],
  ["check", "checks", (change) => change.kind === "check"],
  ["heading", "headings", (change) => change.kind === "heading"],
  ["paragraph", "paragraphs", (change) => change.kind === "text"],
  ["table", "tables", (change) => change.kind === "table"],
  ["error", "errors", (change) => change.kind === "error"],
];

/** The last line: how much changed, and how many checks changed verdict. */
function summary(changes: ReportChange[]): string {
  const parts: string[] = [];
  for (const [one, many, counts] of TALLIES) {
    const n = changes.filter(counts).length;
    if (n > 0) parts.push(`${n} ${n === 1 ? one : many}`);
    if (one !== "check") continue;
    const verdicts = changes.filter((change) => change.kind === "check" && change.verdictChanged).length;
    if (verdicts > 0) parts[parts.length - 1] += ` (${verdicts} ${verdicts === 1 ? "verdict" : "verdicts"} changed)`;
  }
  return `${changes.length} ${changes.length === 1 ? "difference" : "differences"} in the calculation: ${parts.join(", ")}`;
}
