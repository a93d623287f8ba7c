// The completed report as one self-contained HTML document: no scripts, no fetches, readable offline and
// printable. Its content depends only on the session (sheet, inputs, the session's own clock), so a replayed
// session gives the same bytes.

import type { InputLogEntry, JsonValue, SheetError } from "../../protocol/rpc";
import { formatErrorLocation } from "./sourceMap";

export interface ReportDocumentInput {
  body: string;
  sheetName: string;
  sheetHash: string;
  /** The session's clock (ms since epoch), never the wall clock. */
  createdAt: number;
  inputs: readonly InputLogEntry[];
  params?: JsonValue;
  version: string;
  /** For a run that failed: the report so far is kept and the error is shown after it. */
  error?: SheetError;
}

const STYLE = `
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #ffffff; --muted: #57606a; --rule: #d0d7de; --accent: #0b5cad; --bad: #b42318; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #8d96a0; --rule: #30363d; --accent: #58a6ff; --bad: #f97066; } }
html { background: var(--bg); color: var(--fg); }
body { font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1.25rem; }
h1, h2, h3 { line-height: 1.25; margin: 1.6em 0 0.5em; }
h1 { font-size: 1.7rem; border-bottom: 2px solid var(--rule); padding-bottom: 0.3rem; }
h2 { font-size: 1.3rem; } h3 { font-size: 1.1rem; }
table { border-collapse: collapse; margin: 0.8rem 0; }
caption { caption-side: top; text-align: left; color: var(--muted); font-style: italic; padding-bottom: 0.3rem; }
th, td { border: 1px solid var(--rule); padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
th { background: color-mix(in srgb, var(--rule) 35%, transparent); }
.uzc-error { border-left: 4px solid var(--bad); padding: 0.6rem 1rem; margin: 1.5rem 0; background: color-mix(in srgb, var(--bad) 8%, transparent); }
.uzc-error pre { white-space: pre-wrap; margin: 0.4rem 0 0; font-size: 0.85rem; }
footer.uzc-provenance { margin-top: 3rem; border-top: 1px solid var(--rule); padding-top: 0.8rem; color: var(--muted); font-size: 0.8rem; }
footer.uzc-provenance table { font-size: 0.8rem; }
footer.uzc-provenance code { word-break: break-all; }
@page { size: A4; margin: 18mm 16mm; }
@media print { body { margin: 0; max-width: none; font-size: 10.5pt; } h1, h2, h3 { break-after: avoid; } table, .uzc-error { break-inside: avoid; } }
`;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/**
 * The document title: the text of the first <h1>, else the sheet's name. The body is sheet output, so this is
 * linear scanning with fixed-length searches (a backtracking pattern over `<h1<h1<h1…` stalls the host for
 * seconds) and the heading text is capped before its tags are stripped.
 */
function titleOf(body: string, sheetName: string): string {
  const lower = body.toLowerCase();
  const open = lower.search(/<h1[\s>]/);
  if (open < 0) return sheetName;
  const contentStart = lower.indexOf(">", open);
  const close = contentStart < 0 ? -1 : lower.indexOf("</h1>", contentStart);
  if (close < 0) return sheetName;
  let text = "";
  let inTag = false;
  for (const char of body.slice(contentStart + 1, Math.min(close, contentStart + 1 + 1_000))) {
    if (char === "<") inTag = true;
    else if (char === ">") inTag = false;
    else if (!inTag) text += char;
  }
  text = text.trim();
  return text ? text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, "&") : sheetName;
}

function formatValue(value: unknown): string {
  if (Array.isArray(value)) return value.map(formatValue).join(", ");
  if (value === null) return "—";
  return String(value);
}

function inputsTable(inputs: readonly InputLogEntry[]): string {
  if (inputs.length === 0) return "none";
  const rows = inputs.flatMap((entry) =>
    Object.entries(entry.values).map(([name, value]) => `<tr><td>${escapeHtml(entry.window)}</td><td>${escapeHtml(name)}</td><td>${escapeHtml(formatValue(value))}</td></tr>`),
  );
  return `<table><thead><tr><th>Window</th><th>Field</th><th>Value</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

export function renderErrorBlock(sheetName: string, error: SheetError): string {
  const where = formatErrorLocation(sheetName, error);
  const stack = error.stack ? `<pre>${escapeHtml(error.stack)}</pre>` : "";
  return `<div class="uzc-error"><strong>The calculation stopped with an error</strong> at ${escapeHtml(where)}: ${escapeHtml(error.message)}${stack}</div>\n`;
}

export function renderReportDocument(input: ReportDocumentInput): string {
  const title = titleOf(input.body, input.sheetName);
  const date = new Date(input.createdAt).toISOString();
  const error = input.error ? renderErrorBlock(input.sheetName, input.error) : "";
  const params = input.params !== undefined && input.params !== null && JSON.stringify(input.params) !== "{}"
    ? `<tr><th>Parameters</th><td><code>${escapeHtml(JSON.stringify(input.params))}</code></td></tr>`
    : "";
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="UzonCalc ${escapeHtml(input.version)}">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main class="uzc-report">
${input.body}${error}</main>
<footer class="uzc-provenance">
<table>
<tr><th>Sheet</th><td>${escapeHtml(input.sheetName)}</td></tr>
<tr><th>Content hash</th><td><code>sha256:${escapeHtml(input.sheetHash)}</code></td></tr>
${params}<tr><th>Inputs</th><td>${inputsTable(input.inputs)}</td></tr>
<tr><th>Runtime</th><td>UzonCalc ${escapeHtml(input.version)}</td></tr>
<tr><th>Date</th><td>${date}</td></tr>
</table>
</footer>
</body>
</html>
`;
}
