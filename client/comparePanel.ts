// Compare with Previous Run: what changed in a sheet's calculation between two of its reports, shown as a checker
// reads it (values old → new under their section, lines added and removed, checks whose verdict changed), not as a
// diff of HTML. The comparison is `uzoncalc diff`'s own (sandbox/connect/reportDiff.ts); this only lays it out, as
// static markup: the page has no script.

import * as vscode from "vscode";
import { escapeHtml } from "../protocol/html";
import type { ReportChange, ReportDiff } from "../protocol/reportDiff";
import { staticPage } from "./staticPage";

export interface ComparedReports {
  sheet: string;
  /** Where to show it: beside the run panel, as a tab of its group. */
  column?: vscode.ViewColumn;
  /** What each side is, as the header names it ("the run at 14:02", "beam.report.html"). */
  oldName: string;
  newName: string;
  diff: ReportDiff;
}

let panel: vscode.WebviewPanel | undefined;

/** Shows the comparison in its panel beside the editor (one panel, reused: a new comparison replaces the last). */
export function showComparison(compared: ComparedReports): void {
  if (!panel) {
    panel = vscode.window.createWebviewPanel(
      "uzoncalc.compare",
      `Compare: ${compared.sheet}`,
      { viewColumn: compared.column ?? vscode.ViewColumn.Beside, preserveFocus: false },
      { enableScripts: false, localResourceRoots: [] },
    );
    panel.onDidDispose(() => (panel = undefined));
  }
  panel.title = `Compare: ${compared.sheet}`;
  panel.webview.html = comparisonPage(compared);
  panel.reveal(compared.column ?? vscode.ViewColumn.Beside, false);
}

export function comparisonPage({ sheet, oldName, newName, diff }: ComparedReports): string {
  const body = diff.same ? `<p class="same" data-same>No differences in the calculation.</p>` : sections(diff.changes);
  const hashNote =
    diff.sheet.old.hash !== diff.sheet.new.hash
      ? `<p class="note">The sheet itself changed between the two runs (its content hash differs).</p>`
      : "";
  return staticPage({
    title: `Compare ${sheet}`,
    style: STYLE,
    bodyAttribute: "data-comparison",
    body: `<h1>${escapeHtml(sheet)}</h1>
<p class="sides"><span class="old">${escapeHtml(oldName)}</span> → <span class="new">${escapeHtml(newName)}</span></p>
${hashNote}
${body}`,
  });
}

/** The changes grouped under the report's sections, inputs first, in report order. */
function sections(changes: readonly ReportChange[]): string {
  const groups: { title: string; rows: string[] }[] = [];
  for (const change of changes) {
    const title = change.kind === "input" || change.kind === "params" ? "Inputs" : (change.section ?? "Top of the report");
    let group = groups[groups.length - 1];
    if (!group || group.title !== title) groups.push((group = { title, rows: [] }));
    group.rows.push(row(change));
  }
  return groups
    .map((group) => `<section><h2>${escapeHtml(group.title)}</h2><table><tbody>${group.rows.join("")}</tbody></table></section>`)
    .join("\n");
}

function row(change: ReportChange): string {
  const kind = change.change;
  // A value that moved: name, old → new, side by side.
  const moved = (what: string, old: string | undefined, next: string | undefined, extra = "") =>
    `<tr class="${kind}${extra}" data-change="${change.kind}"><th>${escapeHtml(what)}</th><td class="old">${old === undefined ? "—" : escapeHtml(old)}</td><td class="arrow">→</td><td class="new">${next === undefined ? "—" : escapeHtml(next)}</td></tr>`;
  // A block only one side has, or text that changed: the whole block, marked, across the table.
  const block = (what: string, old: string | undefined, next: string | undefined) =>
    [
      old === undefined
        ? ""
        : `<tr class="removed" data-change="${change.kind}"><td colspan="4"><span class="mark">−</span> ${what ? `<b>${escapeHtml(what)}</b> ` : ""}${escapeHtml(old)}</td></tr>`,
      next === undefined
        ? ""
        : `<tr class="added" data-change="${change.kind}"><td colspan="4"><span class="mark">+</span> ${what ? `<b>${escapeHtml(what)}</b> ` : ""}${escapeHtml(next)}</td></tr>`,
    ].join("");
  switch (change.kind) {
    case "input":
      return moved(`${change.window} › ${change.input}`, change.old, change.new);
    case "params":
      return moved("Parameters", change.old, change.new);
    case "line":
      return kind === "changed"
        ? moved(change.name ?? "line", change.old?.value, change.new?.value)
        : block("", change.old?.text, change.new?.text);
    case "check": {
      const side = (check: typeof change.old) =>
        check && `${check.ok ? "✓" : "✗"} ${check.verdict}${check.utilisation !== undefined ? ` · utilisation ${check.utilisation}` : ""}`;
      const label = change.old?.label ?? change.new?.label ?? "check";
      return kind === "changed"
        ? moved(label, side(change.old), side(change.new), change.verdictChanged ? " verdict" : "")
        : block(label, side(change.old), side(change.new));
    }
    case "table": {
      const caption = change.new?.caption ?? change.old?.caption ?? "Table";
      if (kind !== "changed") return block(caption, tableText(change.old), tableText(change.new));
      // Row by row, matched by their first cell: "Span L: 4.8 m → 5.4 m".
      return (change.rows ?? [])
        .map((rowChange) => {
          const first = rowChange.new?.[0] ?? rowChange.old?.[0] ?? "";
          return moved(`${caption} › ${first}`, rowChange.old?.slice(1).join(" | "), rowChange.new?.slice(1).join(" | "));
        })
        .join("");
    }
    default:
      return block(change.kind === "error" ? "Error" : "", change.old, change.new);
  }
}

function tableText(table: { rows: string[][] } | undefined): string | undefined {
  return table?.rows.map((cells) => cells.join(" | ")).join("\n");
}

const STYLE = `
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); padding: 0 16px 24px; }
h1 { font-size: 1.3em; margin-bottom: 0; }
h2 { font-size: 1.05em; margin: 1.2em 0 0.3em; border-bottom: 1px solid var(--vscode-panel-border); }
.sides, .note { color: var(--vscode-descriptionForeground); }
table { border-collapse: collapse; width: 100%; }
th { text-align: left; font-weight: 600; padding: 3px 8px 3px 0; white-space: nowrap; vertical-align: top; }
td { padding: 3px 6px; vertical-align: top; white-space: pre-wrap; }
td.arrow { color: var(--vscode-descriptionForeground); width: 4em; text-align: center; }
tr.removed td, tr.changed td.old { background: color-mix(in srgb, var(--vscode-diffEditor-removedTextBackground, #f005) 60%, transparent); }
tr.added td, tr.changed td.new { background: color-mix(in srgb, var(--vscode-diffEditor-insertedTextBackground, #0f05) 60%, transparent); }
tr.verdict th { color: var(--vscode-errorForeground); }
.same { font-size: 1.1em; }
.mark { font-weight: 600; }
td.old, td.new { width: 35%; }
`;
