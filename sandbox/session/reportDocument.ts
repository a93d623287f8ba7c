// The completed report as one self-contained HTML document: no scripts, no fetches, readable offline and
// printable. Its content depends only on the session (sheet, inputs, the session's own clock), so a replayed
// session gives the same bytes.

import type { JsonValue } from "../../protocol/json";
import type { SheetError } from "../../protocol/rpc";
import { escapeHtml } from "../../protocol/html";
import type { FieldLegend, InputLogEntry } from "../../protocol/session";
import { valueWithUnit } from "../../protocol/units";
import { formatErrorLocation } from "../loader/sourceMap";
import { PiecedText } from "./piecedText";

export interface ReportDocumentInput {
  /** The report markup, whole or in the pieces its steps wrote (searched in place: piecedText.ts). */
  body: string | readonly string[];
  sheetName: string;
  sheetHash: string;
  /** The session's clock (ms since epoch), never the wall clock. */
  createdAt: number;
  /** The windows answered (a session's input log; the values as typed, for a run that failed in the CLI). */
  inputs: readonly InputLogEntry<unknown>[];
  params?: JsonValue;
  version: string;
  /** For a run that failed: the report so far is kept and the error is shown after it. */
  error?: SheetError;
}

/** The colours of every standalone page UzonCalc writes (a report, a study's table), light and dark. */
export const PAGE_THEME = `
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #ffffff; --muted: #57606a; --rule: #d0d7de; --accent: #0b5cad; --bad: #b42318; --warn: #9a6700; --ok: #1a7f37; --math: #1b1f24; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #8d96a0; --rule: #30363d; --accent: #58a6ff; --bad: #f97066; --warn: #d29922; --ok: #3fb950; --math: #e6edf3; } }
html { background: var(--bg); color: var(--fg); }
`;

const STYLE = `${PAGE_THEME}body { font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1.25rem; }
h1, h2, h3 { line-height: 1.25; margin: 1.6em 0 0.5em; }
h1 { font-size: 1.7rem; border-bottom: 2px solid var(--rule); padding-bottom: 0.3rem; }
h2 { font-size: 1.3rem; } h3 { font-size: 1.1rem; }
.uzc-num { color: var(--muted); margin-right: 0.35em; font-variant-numeric: tabular-nums; }
table { border-collapse: collapse; margin: 0.8rem 0; }
caption { caption-side: top; text-align: left; color: var(--muted); font-style: italic; padding-bottom: 0.3rem; white-space: nowrap; }
caption .uzc-num { font-style: normal; font-weight: 600; }
.uzc-figure { margin: 1rem 0; break-inside: avoid; }
.uzc-working { margin: 0.2rem 0 0.6rem 1.5rem; padding-left: 0.8rem; border-left: 2px solid var(--rule); font-size: 0.95em; }
.uzc-plot svg { display: block; max-width: 100%; height: auto; }
.uzc-figure figcaption { color: var(--muted); font-style: italic; }
.uzc-figure figcaption .uzc-num { font-style: normal; font-weight: 600; }
.uzc-plot-error { color: var(--bad); }
th, td { border: 1px solid var(--rule); padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
th { background: color-mix(in srgb, var(--rule) 35%, transparent); }
math { font-family: "STIX Two Math", "Cambria Math", "Latin Modern Math", "STIXGeneral", math; color: var(--math); }
.uzc-eq { margin: 0.4em 0 0.4em 1.5em; overflow-x: auto; overflow-y: hidden; padding: 0.1em 0; }
.uzc-eq math { font-size: 1.1em; }
.uzc-eq-wrap { display: flex; flex-wrap: wrap; align-items: baseline; column-gap: 0.3em; row-gap: 0.3em; }
mtable.uzc-cases mtd { text-align: left; padding: 0.1em 0.5em 0.1em 0.2em; }
.uzc-check { margin: 0.6em 0; padding: 0.4em 0.8em; border-left: 4px solid var(--ok); background: color-mix(in srgb, var(--ok) 7%, transparent); }
.uzc-check-fail { border-left-color: var(--bad); background: color-mix(in srgb, var(--bad) 8%, transparent); }
.uzc-check-mark { font-weight: 700; margin-right: 0.3em; color: var(--ok); }
.uzc-check-fail .uzc-check-mark, .uzc-check-fail .uzc-check-verdict { color: var(--bad); }
.uzc-check-label { font-weight: 600; margin-right: 0.4em; }
.uzc-check math { font-size: 1.05em; margin: 0 0.3em; }
.uzc-check-verdict { font-weight: 700; color: var(--ok); margin-left: 0.3em; }
.uzc-check-ratio { color: var(--muted); margin-left: 0.5em; }
.uzc-note { margin: 0.8em 0; padding: 0.4em 0.8em; border-left: 4px solid var(--accent); background: color-mix(in srgb, var(--accent) 7%, transparent); }
.uzc-note-label { font-weight: 700; margin-right: 0.4em; }
.uzc-more { color: var(--muted); font-style: italic; font-size: 0.9em; }
.uzc-title-block { border: 2px solid var(--fg); padding: 0.6rem 1rem 0.8rem; margin: 0 0 1.5rem; }
.uzc-title-block h1 { margin: 0.2em 0 0.5em; border-bottom: none; }
.uzc-title-table { margin: 0; width: 100%; }
.uzc-title-table th { width: 11rem; }
nav.uzc-toc { margin: 1.2rem 0 1.8rem; padding: 0.6rem 1rem; border: 1px solid var(--rule); }
.uzc-toc-title { font-weight: 700; margin: 0 0 0.3rem; }
nav.uzc-toc ol { list-style: none; margin: 0; padding-left: 0; }
nav.uzc-toc ol ol { padding-left: 1.6em; }
nav.uzc-toc a { color: inherit; text-decoration: none; }
nav.uzc-toc a:hover { text-decoration: underline; }
.uzc-error { border-left: 4px solid var(--bad); padding: 0.6rem 1rem; margin: 1.5rem 0; background: color-mix(in srgb, var(--bad) 8%, transparent); }
.uzc-error pre { white-space: pre-wrap; margin: 0.4rem 0 0; font-size: 0.85rem; }
footer.uzc-provenance { margin-top: 3rem; border-top: 1px solid var(--rule); padding-top: 0.8rem; color: var(--muted); font-size: 0.8rem; }
footer.uzc-provenance table { font-size: 0.8rem; }
footer.uzc-provenance code { word-break: break-all; }
/* No page size: the printer's paper (A4 or Letter) decides; the margins and the fluid width fit both. */
@page { margin: 16mm 15mm 18mm; @bottom-right { content: counter(page) " / " counter(pages); font: 8pt system-ui, sans-serif; color: #57606a; } }
@media print {
  :root { color-scheme: light; --fg: #000; --bg: #fff; --muted: #444; --rule: #999; --accent: #0b5cad; --bad: #b42318; --ok: #1a7f37; --math: #000; }
  body { margin: 0; max-width: none; padding: 0; font-size: 10pt; }
  h1, h2, h3 { break-after: avoid; }
  table, .uzc-error, .uzc-eq, .uzc-check, .uzc-note, .uzc-title-block { break-inside: avoid; }
  .uzc-eq { overflow: visible; }
  nav.uzc-toc a { color: inherit; }
}
`;

/**
 * The document title: the text of the first <h1>, else the sheet's name. The body is sheet output, so this is
 * linear scanning with fixed-length searches (a backtracking pattern over `<h1<h1<h1…` stalls the host for
 * seconds) and the heading text is capped before its tags are stripped.
 */
function titleOf(body: PiecedText, sheetName: string): string {
  // Searched case-blind in place: lower-casing the whole report first cost a copy of it per run.
  const open = body.search(/<h1[\s>]/gi, 4);
  if (open < 0) return sheetName;
  const contentStart = body.indexOf(">", open);
  const close = contentStart < 0 ? -1 : body.search(/<\/h1>/gi, 5, contentStart);
  if (close < 0) return sheetName;
  let text = "";
  let inTag = false;
  for (const char of body.slice(contentStart + 1, Math.min(close, contentStart + 1 + 1_000))) {
    if (char === "<") inTag = true;
    else if (char === ">") inTag = false;
    else if (!inTag) text += char;
  }
  text = text.trim();
  return text
    ? text
        .replace(/&lt;/g, "<")
        .replace(/&gt;/g, ">")
        .replace(/&quot;/g, '"')
        .replace(/&#39;/g, "'")
        .replace(/&amp;/g, "&")
    : sheetName;
}

interface TocEntry {
  level: 2 | 3;
  id: string;
  number: string;
  title: string;
}

/** Headings shorter than this are considered; a longer one (or one never closed) is left out of the contents. */
const MAX_HEADING = 1_000;
const MAX_TOC_ENTRIES = 500;

/**
 * The numbered headings the runtime wrote (`<h2 id="sec-1">…`), in order, and where the first one starts. The
 * body is sheet output: fixed-length searches only, each heading bounded, so this stays linear.
 */
function numberedHeadings(body: PiecedText): { entries: TocEntry[]; firstAt: number } {
  const entries: TocEntry[] = [];
  let firstAt = -1;
  // A pattern with a fixed start, not indexOf("<h"): V8 scans a report (two-byte text: −, ·, “) for it several
  // times faster (a 100 KB report: 12 µs against 98 µs).
  const opening = /<h[23] id="sec-/g;
  const longest = '<h2 id="sec-'.length;
  for (let at = body.search(opening, longest); at >= 0 && entries.length < MAX_TOC_ENTRIES; at = body.search(opening, longest, at + 1)) {
    const level = body.charCodeAt(at + 2) === 50 ? 2 : 3;
    const window = body.slice(at, at + MAX_HEADING);
    const idEnd = window.indexOf('"', 8);
    const id = window.slice(8, idEnd);
    const contentStart = window.indexOf(">", idEnd) + 1;
    const close = window.indexOf(`</h${level}>`, contentStart);
    if (idEnd > 0 && /^sec-\d+(?:-\d+)?$/.test(id) && contentStart > 0 && close > 0) {
      const title = stripTags(window.slice(contentStart, close))
        .replace(/^\s*[\d.]+\s*/, "")
        .trim();
      entries.push({ level, id, number: id.slice(4).replace("-", "."), title });
      if (firstAt < 0) firstAt = at;
    }
  }
  return { entries, firstAt };
}

function stripTags(markup: string): string {
  let text = "";
  let inTag = false;
  for (const char of markup) {
    if (char === "<") inTag = true;
    else if (char === ">") inTag = false;
    else if (!inTag) text += char;
  }
  return text;
}

/**
 * Where the contents go: after the report's title (its title block, else its first h1) and the paragraphs and notes
 * that directly follow it, so the calculation starts after them; never later than the first numbered heading.
 * Fixed-string searches only: the body is sheet output.
 */
function contentsAt(body: PiecedText, firstHeading: number): number {
  const block = body.indexOf('<header class="uzc-title-block">');
  const h1 = body.indexOf("</h1>");
  let at = -1;
  if (block >= 0 && block < firstHeading) {
    const end = body.indexOf("</header>", block);
    if (end >= 0) at = end + "</header>".length;
  } else if (h1 >= 0 && h1 < firstHeading) at = h1 + "</h1>".length;
  if (at < 0) return firstHeading;
  for (;;) {
    while (body.charCodeAt(at) === 10) at++;
    const close = body.startsWith("<p>", at) || body.startsWith('<p class="uzc-note">', at) ? body.indexOf("</p>", at) : -1;
    if (close < 0 || close > firstHeading) break;
    at = close + "</p>".length;
  }
  return Math.min(at, firstHeading);
}

/**
 * Tags in sheet markup (`html()`) that would act when the exported file is opened, whatever the CSP says: a meta
 * refresh navigates away, `<base>` and `<form>` point links and submissions elsewhere (carrying the inputs), the
 * rest load or run something. Their `<` becomes text, so they show as what they are. A linear pass over the body.
 */
const ACTIVE_TAG = /<\/?(?:meta|base|form|link|script|iframe|frame|frameset|object|embed|applet|portal)(?=[\s/>])/gi;
/** The longest text ACTIVE_TAG looks at: `</frameset` and the character after it. */
const ACTIVE_TAG_LONGEST = "</frameset>".length;

function inertMarkup(body: PiecedText): PiecedText {
  return body.escapeOpenings(ACTIVE_TAG, ACTIVE_TAG_LONGEST);
}

/** The exported document's CSP: nothing loads or runs; links cannot be rebased nor forms sent anywhere. */
export const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

/**
 * The table of contents and where it goes in `body` (after the title and its introduction); none for a report with
 * fewer than two sections.
 */
function contentsOf(body: PiecedText): { at: number; nav: string } | undefined {
  const { entries, firstAt } = numberedHeadings(body);
  if (entries.filter((e) => e.level === 2).length < 2) return undefined;
  let list = "<ol>";
  let inItem = false;
  let inSublist = false;
  for (const entry of entries) {
    const link = `<a href="#${entry.id}"><span class="uzc-num">${entry.number}</span> ${entry.title}</a>`;
    if (entry.level === 2) {
      if (inSublist) list += "</ol>";
      if (inItem) list += "</li>";
      list += `<li>${link}`;
      inItem = true;
      inSublist = false;
    } else {
      if (!inItem) list += "<li>";
      if (!inSublist) list += "<ol>";
      list += `<li>${link}</li>`;
      inItem = true;
      inSublist = true;
    }
  }
  list += `${inSublist ? "</ol>" : ""}${inItem ? "</li>" : ""}</ol>`;
  return { at: contentsAt(body, firstAt), nav: `<nav class="uzc-toc"><p class="uzc-toc-title">Contents</p>${list}</nav>\n` };
}

/** An input as the form showed it: an option by its label, a checkbox as yes or no, nothing as —. */
function formatValue(value: unknown, field?: FieldLegend): string {
  if (Array.isArray(value)) return value.map((item) => formatValue(item, field)).join(", ");
  if (value === null) return "—";
  if (typeof value === "boolean") return value ? "yes" : "no";
  return field?.options?.[String(value)] ?? String(value);
}

/**
 * The inputs as a reader knows them: the window's title, the field's label, the value with its unit (as the
 * form asked for it). A log without legends (a record from before them) falls back to ids and names.
 */
function inputsTable(inputs: ReportDocumentInput["inputs"]): string {
  if (inputs.length === 0) return "none";
  const rows = inputs.flatMap((entry) =>
    Object.entries(entry.values).map(([name, value]) => {
      const field = entry.legend?.fields[name];
      const shown = formatValue(value, field);
      const withUnit = typeof value === "number" ? valueWithUnit(shown, field?.unit) : shown;
      return `<tr><td>${escapeHtml(entry.legend?.title ?? entry.window)}</td><td>${escapeHtml(field?.label ?? name)}</td><td>${escapeHtml(withUnit)}</td></tr>`;
    }),
  );
  return `<table><thead><tr><th>Window</th><th>Input</th><th>Value</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

export function renderErrorBlock(sheetName: string, error: SheetError): string {
  const where = formatErrorLocation(sheetName, error);
  const stack = error.stack ? `<pre>${escapeHtml(error.stack)}</pre>` : "";
  return `<div class="uzc-error"><strong>The calculation stopped with an error</strong> at ${escapeHtml(where)}: ${escapeHtml(error.message)}${stack}</div>\n`;
}

/**
 * The head every standalone page UzonCalc writes shares (a report, a study's table): inert by its policy, named
 * by the runtime that wrote it, styled by `style`.
 */
export function standaloneHead(title: string, version: string, style: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">
<meta name="generator" content="UzonCalc ${escapeHtml(version)}">
<title>${escapeHtml(title)}</title>
<style>${style}</style>
</head>`;
}

/**
 * The document in the parts it is written from: `before` the report body, the body (its markup made inert), the
 * table of contents to insert into it, and `after` it. The executor sends a completed run's document from these
 * (wireJson.ts), with the body's bytes as its steps' answers already encoded them.
 */
export interface ReportDocumentParts {
  before: string;
  /** The body's pieces: the very array the input gave when nothing in it had to be made inert. */
  body: readonly string[];
  contents: { at: number; nav: string } | undefined;
  after: string;
  /** Known only as its text (wholeDocument): `before` is all of it, not a head. */
  whole?: true;
}

/** Heads made lately, by version and title: a sheet's runs share one (see documentHead). */
const heads = new Map<string, string>();
const HEADS_KEPT = 64;

/**
 * Everything before the report body: the head and its 4 KB of style, the same for every run of a sheet. Made once
 * per title and handed out as the same string, which the executor's wire cache then finds at once (wireJson.ts):
 * escaping and encoding it for every completed run was most of what answering a short run's document cost.
 */
function documentHead(title: string, version: string): string {
  const key = `${version}\0${title}`;
  let head = heads.get(key);
  if (head === undefined) {
    if (heads.size >= HEADS_KEPT) heads.clear();
    head = `${standaloneHead(title, version, STYLE)}
<body>
<main class="uzc-report">
`;
    heads.set(key, head);
  }
  return head;
}

export function reportDocumentParts(input: ReportDocumentInput): ReportDocumentParts {
  const markup = new PiecedText(typeof input.body === "string" ? [input.body] : input.body);
  const title = titleOf(markup, input.sheetName);
  const date = new Date(input.createdAt).toISOString();
  const error = input.error ? renderErrorBlock(input.sheetName, input.error) : "";
  const params =
    input.params !== undefined && input.params !== null && JSON.stringify(input.params) !== "{}"
      ? `<tr><th>Parameters</th><td><code>${escapeHtml(JSON.stringify(input.params))}</code></td></tr>`
      : "";
  const body = inertMarkup(markup);
  const before = documentHead(title, input.version);
  const after = `${error}</main>
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
  return { before, body: body.pieces, contents: contentsOf(body), after };
}

/** A document known only as its text (as a session store keeps it). */
export function wholeDocument(text: string): ReportDocumentParts {
  return { before: text, body: [], contents: undefined, after: "", whole: true };
}

export function documentText({ before, body, contents, after }: ReportDocumentParts): string {
  const pieces = new PiecedText(body);
  return contents
    ? before + pieces.slice(0, contents.at) + contents.nav + pieces.slice(contents.at) + after
    : before + pieces.text() + after;
}

export function renderReportDocument(input: ReportDocumentInput): string {
  return documentText(reportDocumentParts(input));
}
