// A completed report read back as the calculation it shows: headings, lines (name = formula = substitution =
// value), checks (verdict and utilisation), text, tables, the inputs it was run with. `uzoncalc diff` and the
// extension's Compare with Previous Run compare two of these (reportDiff.ts), and `uzoncalc study` takes each case's
// checks from one, so all of them read what a reader of the report sees, not its HTML. Free of node:vm and of the
// sandbox's trusted parts: the extension bundles it.
//
// It reads only what reportDocument.ts and the report engine write: every block of the body is one line of
// markup (record.ts, document.ts and the output calls each end a block with "\n"), so a block is found by its
// line and its class, and a line's text is the engine's own MathML-to-text rule (formulaText), not a second one.

import { formulaText, plainText } from "../../protocol/formulaText";

export type ReportItem =
  | {
      kind: "heading";
      level: number;
      /** As the report prints it, its number included (`3 Bending`). */
      text: string;
      /** The section number the report gave it (`3`), which moves when a section is added before it. */
      number: string | undefined;
    }
  | {
      kind: "line";
      text: string;
      /** What the line defines: the text before its first " = " (`A_s, req`); undefined for a bare expression. */
      name: string | undefined;
      /** The line's result: the text after its last " = " (`816.746 mm²`). */
      value: string;
    }
  | { kind: "check"; label: string; ok: boolean; verdict: string; utilisation: number | undefined; text: string }
  | { kind: "text"; text: string }
  | {
      kind: "table";
      /** As the report prints it, its number included (`Table 1 Summary`). */
      caption: string | undefined;
      /** `Table 1`, which moves when a table is added before it. */
      number: string | undefined;
      rows: string[][];
    }
  /** The error the run stopped with: where and why, without the stack. */
  | { kind: "error"; text: string };

export interface ReadReport {
  title: string | undefined;
  items: ReportItem[];
  /** The provenance's inputs table: window, input, value (as the report prints them). */
  inputs: { window: string; input: string; value: string }[];
  /** The provenance's sheet name and content hash, when the report has them. */
  sheet: string | undefined;
  hash: string | undefined;
  /** The run's `--params` as JSON, when it had any. */
  params: string | undefined;
}

const EQUALS = " = ";
const ERROR_BLOCK = '<div class="uzc-error"';
const NUMBER_SPAN = /^<span class="uzc-num">(.*?)<\/span>/;

/** Reads a report document (`ExecutionResponse.result`, a `*.report.html`) or a report body. */
export function readReport(html: string): ReadReport {
  const bodyStart = html.indexOf('<main class="uzc-report">');
  const bodyEnd = html.indexOf("</main>", bodyStart);
  const body = bodyStart < 0 ? html : html.slice(bodyStart, bodyEnd < 0 ? undefined : bodyEnd);
  const footerStart = html.indexOf('<footer class="uzc-provenance">');
  const footer = footerStart < 0 ? "" : html.slice(footerStart);
  const items: ReportItem[] = [];
  let title: string | undefined;
  const lines = body.split("\n");
  for (let at = 0; at < lines.length; at++) {
    let line = lines[at]!.trim();
    // The error block keeps the stack's line breaks in its <pre>: the block runs to the line that closes it.
    if (line.startsWith(ERROR_BLOCK)) while (!line.endsWith("</div>") && at + 1 < lines.length) line += "\n" + lines[++at];
    const item = readBlock(line);
    if (!item) continue;
    if (item.kind === "heading" && item.level === 1 && title === undefined) title = item.text;
    items.push(item);
  }
  return {
    title,
    items,
    inputs: readInputs(footer),
    sheet: provenanceCell(footer, "Sheet"),
    hash: provenanceCell(footer, "Content hash"),
    params: provenanceCell(footer, "Parameters"),
  };
}

function readBlock(line: string): ReportItem | undefined {
  if (line === "" || /^<\/?(main|header|footer|body|html)\b/.test(line) || line.startsWith('<nav class="uzc-toc"')) return undefined;
  if (line.startsWith('<table class="uzc-title-table"'))
    return { kind: "table", caption: undefined, number: undefined, rows: tableRows(line) };
  const heading = /^<h([1-6])\b[^>]*>(.*)<\/h\1>$/.exec(line);
  if (heading) return { kind: "heading", level: Number(heading[1]), text: textOf(heading[2]!), number: numberOf(heading[2]!) };
  if (line.startsWith('<div class="uzc-eq')) return readLine(line);
  if (line.startsWith('<div class="uzc-check')) return readCheck(line);
  // A figure reads as its caption: its drawing's text (tick labels) is no part of the calculation, and the values
  // it plots are the lines' own.
  if (line.startsWith('<figure class="uzc-figure"')) {
    const caption = /<figcaption>(.*?)<\/figcaption>/.exec(line);
    return caption ? { kind: "text", text: textOf(caption[1]!) } : undefined;
  }
  if (line.startsWith(ERROR_BLOCK)) return { kind: "error", text: textOf(line.replace(/<pre>[\s\S]*?<\/pre>/g, "")) };
  if (line.startsWith("<table")) {
    const caption = /<caption>(.*?)<\/caption>/.exec(line);
    return {
      kind: "table",
      caption: caption ? textOf(caption[1]!) : undefined,
      number: caption ? numberOf(caption[1]!) : undefined,
      rows: tableRows(line),
    };
  }
  const text = textOf(line);
  return text === "" ? undefined : { kind: "text", text };
}

function numberOf(markup: string): string | undefined {
  const number = NUMBER_SPAN.exec(markup);
  return number ? textOf(number[1]!) : undefined;
}

function readLine(line: string): ReportItem {
  // A wrapped line is several <math> pieces in a row; read together they are the one line.
  const markup = line.replace(/^<div[^>]*>/, "").replace(/<\/div>$/, "");
  const pieces = [...markup.matchAll(/<math[^>]*>(.*?)<\/math>/g)].map((m) => m[1]!);
  const text = pieces.length > 0 ? lineText(pieces.join("")) : textOf(markup);
  const first = text.indexOf(EQUALS);
  const last = text.lastIndexOf(EQUALS);
  return {
    kind: "line",
    text,
    name: first < 0 ? undefined : text.slice(0, first),
    value: last < 0 ? text : text.slice(last + EQUALS.length),
  };
}

function readCheck(line: string): ReportItem {
  const span = (name: string) => {
    const match = new RegExp(`<span class="uzc-check-${name}">(.*?)</span>`).exec(line);
    return match ? textOf(match[1]!) : undefined;
  };
  const math = /<math[^>]*>(.*?)<\/math>/.exec(line);
  const ratio = span("ratio");
  const utilisation = ratio === undefined ? undefined : Number(ratio.replace(/^utilisation\s*/, ""));
  return {
    kind: "check",
    label: span("label") ?? "",
    ok: line.startsWith('<div class="uzc-check uzc-check-ok"'),
    verdict: span("verdict") ?? "",
    utilisation: utilisation !== undefined && Number.isFinite(utilisation) ? utilisation : undefined,
    text: math ? lineText(math[1]!) : "",
  };
}

function tableRows(markup: string): string[][] {
  return [...markup.matchAll(/<tr>(.*?)<\/tr>/g)].map((row) =>
    [...row[1]!.matchAll(/<t[hd][^>]*>(.*?)<\/t[hd]>/g)].map((cell) => textOf(cell[1]!)),
  );
}

function readInputs(footer: string): ReadReport["inputs"] {
  const row = /<tr><th>Inputs<\/th><td>(.*?)<\/td><\/tr>\n/.exec(footer);
  if (!row) return [];
  return tableRows(row[1]!)
    .slice(1)
    .filter((cells) => cells.length === 3)
    .map(([window, input, value]) => ({ window: window!, input: input!, value: value! }));
}

function provenanceCell(footer: string, name: string): string | undefined {
  const match = new RegExp(`<tr><th>${name}</th><td>(.*?)</td></tr>`).exec(footer);
  return match ? textOf(match[1]!) : undefined;
}

/**
 * A formula as text. The report keeps a value with its unit by a no-break space; read back it is a space, so
 * `150 kN·m` reads (and is searched for) as it is typed.
 */
function lineText(math: string): string {
  return formulaText(math).replace(/\u00a0/g, " ");
}

/** A block's text as a reader sees it: math as the engine's formula text, tags dropped, entities decoded. */
function textOf(markup: string): string {
  let text = "";
  let at = 0;
  for (const math of markup.matchAll(/<math[^>]*>(.*?)<\/math>/g)) {
    text += markupText(markup.slice(at, math.index)) + formulaText(math[1]!);
    at = math.index + math[0].length;
  }
  return (text + markupText(markup.slice(at))).replace(/\s+/g, " ").trim();
}

function markupText(markup: string): string {
  return plainText(markup.replace(/<(?!\/?sup>)[^>]*>/g, " "));
}
