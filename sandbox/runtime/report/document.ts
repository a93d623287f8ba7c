// The document's own pieces, written by the sheet through `uzoncalc`: numbered headings, numbered tables,
// checks, notes and the title block. Everything is styled through classes (the run panel forbids inline
// styles); the completed document (sandbox/session/reportDocument.ts) adds the table of contents and the stylesheet.

import { fill, pushDistinct, takePendingCheck } from "./record";
import { escapeHtml } from "../../../protocol/html";
import type { PlotSpec } from "../../../protocol/plot";
import { formatValue } from "./values";
import { isQuantity } from "../units/quantity";

let section = 0;
let subsection = 0;
let tables = 0;
let figures = 0;

function text(value: unknown): string {
  if (typeof value === "number" || isQuantity(value)) return formatValue(value)?.text ?? String(value);
  return escapeHtml(String(value ?? ""));
}

/** h2 and h3 are numbered (1, 1.1) and carry an id the table of contents links to; h1 is the title. */
export function numberedHeading(level: 2 | 3, content: unknown): string {
  let number: string;
  let id: string;
  if (level === 2) {
    section++;
    subsection = 0;
    number = `${section}`;
    id = `sec-${section}`;
  } else {
    subsection++;
    number = `${section}.${subsection}`;
    id = `sec-${section}-${subsection}`;
  }
  return `<h${level} id="${id}"><span class="uzc-num">${number}</span> ${text(content)}</h${level}>\n`;
}

/** The caption of the next table, numbered. */
export function tableCaption(caption: unknown): string {
  tables++;
  return `<caption><span class="uzc-num">Table ${tables}</span> ${text(caption)}</caption>`;
}

/**
 * A numbered figure, as the realm writes it: its description in `data-plot` and its caption. The host draws it
 * (sandbox/session/plots.ts) into every report it hands out; the realm's own report keeps only the description.
 */
export function figureMarkup(spec: PlotSpec): string {
  figures++;
  const caption = spec.caption ?? spec.title ?? "";
  // The number travels with the description: two figures described alike are still two drawings, each with ids of
  // its own in the document.
  return `<figure class="uzc-figure" data-plot="${escapeHtml(JSON.stringify({ ...spec, figure: figures }))}"><figcaption><span class="uzc-num">Figure ${figures}</span> ${escapeHtml(caption)}</figcaption></figure>\n`;
}

/** A table cell: numbers formatted like every other value, the rest as escaped text. */
export function cellText(value: unknown): string {
  return text(value);
}

export function noteMarkup(content: unknown): string {
  return `<p class="uzc-note"><span class="uzc-note-label">Note</span> ${text(content)}</p>\n`;
}

const CHECK_OPERATORS: Record<string, string> = { "<": "&lt;", "<=": "≤", ">": "&gt;", ">=": "≥", "==": "=", "!=": "≠" };

/** Demand over capacity for `demand ≤ capacity` (or `capacity ≥ demand`), when both are positive numbers. */
function utilisation(op: string, leftValue: unknown, rightValue: unknown): number | undefined {
  // Quantities of one kind compare by their SI magnitudes (a check of two kinds threw before it got here).
  const bothQuantities = isQuantity(leftValue) && isQuantity(rightValue);
  const left = bothQuantities ? leftValue.si : leftValue;
  const right = bothQuantities ? rightValue.si : rightValue;
  if (typeof left !== "number" || typeof right !== "number" || !(left >= 0) || !(right >= 0)) return undefined;
  const [demand, capacity] = op === "<" || op === "<=" ? [left, right] : op === ">" || op === ">=" ? [right, left] : [NaN, NaN];
  if (!(capacity > 0) || demand === Infinity) return undefined;
  return demand / capacity;
}

/** `check(cond, label)`: ✓ or ✗, the label, the condition as formula = substitution = sides, and the verdict. */
export function checkMarkup(condition: unknown, label: unknown): string {
  const ok = !!condition;
  const pending = takePendingCheck();
  let math = "";
  let ratio = "";
  if (pending) {
    const d = pending.descriptor;
    const parts: string[] = [];
    if (d.sym !== undefined) pushDistinct(parts, d.sym);
    if (d.sub !== undefined) pushDistinct(parts, fill(d.sub, pending.temps));
    if (d.cmp) {
      const left = formatValue(pending.temps[d.cmp.l]);
      const right = formatValue(pending.temps[d.cmp.r]);
      if (left && right) pushDistinct(parts, `${left.math}<mo>${CHECK_OPERATORS[d.cmp.op]}</mo>${right.math}`);
      const eta = utilisation(d.cmp.op, pending.temps[d.cmp.l], pending.temps[d.cmp.r]);
      if (eta !== undefined) ratio = ` <span class="uzc-check-ratio">utilisation ${formatValue(eta)?.text ?? ""}</span>`;
    }
    if (parts.length > 0) {
      let joined = "";
      for (let i = 0; i < parts.length; i++) joined += (i > 0 ? "<mo>⇒</mo>" : "") + parts[i];
      math = ` <math displaystyle="true">${joined}</math>`;
    }
  }
  const labelMarkup = label === undefined || label === null || label === "" ? "" : ` <span class="uzc-check-label">${text(label)}</span>`;
  const verdict = ok ? "OK" : "NOT OK";
  return `<div class="uzc-check ${ok ? "uzc-check-ok" : "uzc-check-fail"}"><span class="uzc-check-mark">${ok ? "✓" : "✗"}</span>${labelMarkup}${math} <span class="uzc-check-verdict">${verdict}</span>${ratio}</div>\n`;
}

const TITLE_FIELDS: [string, string][] = [
  ["project", "Project"],
  ["subject", "Subject"],
  ["client", "Client"],
  ["reference", "Reference"],
  ["revision", "Revision"],
  ["author", "Prepared by"],
  ["checker", "Checked by"],
  ["approver", "Approved by"],
  ["date", "Date"],
];

/** The title block: the title as the document's h1, then a table of the known fields and any others given. */
export function titleBlockMarkup(info: unknown): string {
  if (typeof info !== "object" || info === null) throw new TypeError("titleBlock({ title, project, ... }): pass an object of text fields.");
  const fields = info as Record<string, unknown>;
  const rows: string[] = [];
  const seen = Object.create(null) as Record<string, true>;
  seen.title = true;
  for (const [key, label] of TITLE_FIELDS) {
    seen[key] = true;
    const value = fields[key];
    if (value !== undefined && value !== null && value !== "") rows.push(`<tr><th>${label}</th><td>${text(value)}</td></tr>`);
  }
  for (const key of Object.keys(fields)) {
    const value = fields[key];
    if (seen[key] || value === undefined || value === null || value === "") continue;
    rows.push(`<tr><th>${escapeHtml(key)}</th><td>${text(value)}</td></tr>`);
  }
  const title = fields.title !== undefined && fields.title !== null && fields.title !== "" ? `<h1>${text(fields.title)}</h1>\n` : "";
  const table = rows.length > 0 ? `<table class="uzc-title-table"><tbody>${rows.join("")}</tbody></table>\n` : "";
  return `<header class="uzc-title-block">\n${title}${table}</header>\n`;
}
