// Run Study: the table of a study (`uzoncalc study`'s study.csv, written by the local child) in a panel an engineer
// sorts to find the governing case. Failing checks and failed cases are marked, and each case opens its report.
// The page has no script: a column's header and a case's name are command links (only this panel's two commands
// are allowed), so sorting and opening are the extension's, and the page stays plain markup.

import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseCsv } from "csv-parse/sync";
import * as vscode from "vscode";
import { escapeHtml } from "../protocol/html";
import { staticPage } from "./staticPage";

export const SORT_STUDY_COMMAND = "uzoncalc.sortStudy";
export const OPEN_STUDY_REPORT_COMMAND = "uzoncalc.openStudyReport";

/** One study on screen: its table as study.csv has it (the header first), and how it is sorted. */
interface ShownStudy {
  sheet: string;
  folder: string;
  header: string[];
  rows: string[][];
  message: string;
  sort: { column: number; descending: boolean } | undefined;
}

let panel: vscode.WebviewPanel | undefined;
let shown: ShownStudy | undefined;

/** Shows a study's table from its study.csv (the child wrote it; its reports are beside it). */
export function showStudy(sheet: string, csvFile: string, message: string): void {
  const table = parseCsv(fs.readFileSync(csvFile, "utf8"), { relax_column_count: true }) as string[][];
  const [header = [], ...rows] = table;
  shown = { sheet, folder: path.dirname(csvFile), header, rows, message, sort: undefined };
  if (!panel) {
    panel = vscode.window.createWebviewPanel(
      "uzoncalc.study",
      `Study: ${sheet}`,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false },
      { enableScripts: false, enableCommandUris: [SORT_STUDY_COMMAND, OPEN_STUDY_REPORT_COMMAND], localResourceRoots: [] },
    );
    panel.onDidDispose(() => {
      panel = undefined;
      shown = undefined;
    });
  }
  render();
}

/** A header clicked: sort by that column, descending first for numbers (the governing case on top), again to flip. */
export function sortStudy(column: unknown): void {
  if (!shown || typeof column !== "number" || !Number.isInteger(column) || column < 0 || column >= shown.header.length) return;
  const again = shown.sort?.column === column;
  shown.sort = { column, descending: again ? !shown.sort!.descending : isNumericColumn(shown.rows, column) };
  render();
}

/** A case's name clicked: its report, in a panel of its own (the file is what `uzoncalc study` wrote). */
export async function openStudyReport(file: unknown): Promise<void> {
  if (!shown || typeof file !== "string" || file.includes("/") || file.includes("\\") || !file.endsWith(".report.html")) return;
  const target = path.join(shown.folder, file);
  if (!fs.existsSync(target)) {
    await vscode.window.showWarningMessage(`The report ${file} is not in ${shown.folder}.`);
    return;
  }
  const report = vscode.window.createWebviewPanel(
    "uzoncalc.studyReport",
    file.replace(/\.report\.html$/, ""),
    { viewColumn: vscode.ViewColumn.Active, preserveFocus: false },
    { enableScripts: false, localResourceRoots: [] },
  );
  // The report is self-contained, carries its own content security policy and has no script.
  report.webview.html = fs.readFileSync(target, "utf8");
}

function isNumericColumn(rows: readonly string[][], column: number): boolean {
  const values = rows.map((row) => row[column] ?? "").filter((value) => value !== "");
  return values.length > 0 && values.every((value) => Number.isFinite(Number(value)));
}

function sortedRows(study: ShownStudy): string[][] {
  if (!study.sort) return study.rows;
  const { column, descending } = study.sort;
  const numeric = isNumericColumn(study.rows, column);
  const key = (row: string[]) => row[column] ?? "";
  const sorted = [...study.rows].sort((a, b) => {
    // Empty cells last, whichever the direction: a case that failed has no utilisation to rank.
    if (key(a) === "" || key(b) === "") return key(a) === "" ? (key(b) === "" ? 0 : 1) : -1;
    const order = numeric ? Number(key(a)) - Number(key(b)) : key(a).localeCompare(key(b), undefined, { numeric: true });
    return descending ? -order : order;
  });
  return sorted;
}

function commandLink(command: string, args: unknown[]): string {
  return `command:${command}?${encodeURIComponent(JSON.stringify(args))}`;
}

function render(): void {
  if (!panel || !shown) return;
  panel.title = `Study: ${shown.sheet}`;
  panel.webview.html = studyPage(shown);
}

function studyPage(study: ShownStudy): string {
  const column = (name: string) => study.header.indexOf(name);
  const statusAt = column("status");
  const verdictAt = column("verdict");
  const reportAt = column("report");
  const caseAt = column("case");
  const head = study.header
    .map((name, index) => {
      const arrow = study.sort?.column === index ? (study.sort.descending ? " ▼" : " ▲") : "";
      return `<th><a href="${commandLink(SORT_STUDY_COMMAND, [index])}" data-sort="${index}" title="Sort by ${escapeHtml(name)}">${escapeHtml(name)}${arrow}</a></th>`;
    })
    .join("");
  const body = sortedRows(study)
    .map((row) => {
      const failed = row[statusAt] !== undefined && row[statusAt] !== "completed";
      // A check NOT OK is what the engineer looks for: its whole row is marked, and so is its cell.
      const notOk = row[verdictAt] !== undefined && /NOT OK/i.test(row[verdictAt]!);
      const cells = row
        .map((value, index) => {
          if (index === caseAt && reportAt >= 0 && row[reportAt])
            return `<td><a href="${commandLink(OPEN_STUDY_REPORT_COMMAND, [row[reportAt]])}" data-case="${escapeHtml(value)}">${escapeHtml(value)}</a></td>`;
          const bad = /NOT OK/i.test(value) || (index === statusAt && failed);
          return `<td${bad ? ' class="bad"' : ""}>${escapeHtml(value)}</td>`;
        })
        .join("");
      return `<tr class="${failed ? "failed" : notOk ? "not-ok" : ""}">${cells}</tr>`;
    })
    .join("\n");
  return staticPage({
    title: `Study of ${study.sheet}`,
    style: STYLE,
    bodyAttribute: "data-study",
    body: `<h1>Study of ${escapeHtml(study.sheet)}</h1>
<p class="summary">${escapeHtml(study.message)}. Click a column to sort by it; click a case to open its report.</p>
<table><thead><tr>${head}</tr></thead><tbody>
${body}
</tbody></table>`,
  });
}

const STYLE = `
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); padding: 0 16px 24px; }
h1 { font-size: 1.3em; }
.summary { color: var(--vscode-descriptionForeground); }
table { border-collapse: collapse; }
th, td { border: 1px solid var(--vscode-panel-border); padding: 3px 8px; text-align: left; white-space: nowrap; }
th a { color: inherit; text-decoration: none; }
th { position: sticky; top: 0; background: var(--vscode-editor-background); }
tr.not-ok td { background: color-mix(in srgb, var(--vscode-errorForeground) 12%, transparent); }
tr.failed td { background: color-mix(in srgb, var(--vscode-errorForeground) 22%, transparent); }
td.bad { color: var(--vscode-errorForeground); font-weight: 600; }
`;
