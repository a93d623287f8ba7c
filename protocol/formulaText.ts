// A report line as one line of plain text (TraceEntry.formula, the editor's hover): `M = (q · L²)/8 =
// (10 · 7.5²)/8 = 70.313`. The rules read the renderer's own MathML, and they are written once, as a compiler
// from MathML to a text template: parts of the text that depend on no value come out as plain strings, and
// what depends on a value (a hole, a branch taken, a bracket a value may need) stays a small instruction.
//
// The instrumentation compiles each formula's template at load time, beside its MathML, so a traced step only
// fills values in (parsing every line's MathML on every step was most of a traced step's cost). A template with
// no holes is just its text, so `formulaText(markup)` is the same compiler with nothing to fill.
//
// Imports only the template shapes and the superscript table: it runs in the realm, in the host, and in the
// extension (reading a finished report back, for Compare with Previous Run).

import {
  bracketed,
  choiceTaken,
  guardRan,
  type TemplatePart,
  type TextChoice,
  type TextHole,
  type TextPart,
  type TextRule,
} from "./reportTemplate";
import { SUPERSCRIPT } from "./units";

/** What a template is filled from: the line's temps and how their values read (the report's formatter). */
export interface TextValues<Value extends { negative: boolean; compound: boolean }> {
  /** The value in temp `t` as the report shows it (number format key `k`), or undefined when it is not shown. */
  hole(t: number, k: string | undefined): Value | undefined;
  text(value: Value): string;
  temp(t: number): unknown;
}

export const MAX_FORMULA = 500;

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'" };

/** The report's HTML text of a value as plain text: `10<sup>−5</sup>` is 10⁻⁵, entities decoded, other tags dropped. */
export function plainText(html: string): string {
  // Most text runs (a number, a name, an operator) have no tag and no entity: they are their own text.
  if (html.indexOf("<") < 0 && html.indexOf("&") < 0) return html;
  let out = "";
  let sup = false;
  for (let i = 0; i < html.length; i++) {
    const c = html[i]!;
    if (c === "<") {
      const end = html.indexOf(">", i);
      if (end < 0) break;
      const tag = html.slice(i + 1, end);
      if (tag === "sup") sup = true;
      else if (tag === "/sup") sup = false;
      i = end;
    } else if (c === "&") {
      const end = html.indexOf(";", i);
      const entity = end > i && end - i <= 6 ? ENTITIES[html.slice(i + 1, end)] : undefined;
      if (entity === undefined) {
        out += c;
      } else {
        out += entity;
        i = end;
      }
    } else {
      out += sup ? (SUPERSCRIPT[c] ?? c) : c;
    }
  }
  return out;
}

interface MathNode {
  tag: string;
  attrs: string;
  children: MathNode[];
  text: string;
}

/**
 * Parses the renderer's own (well-formed, escaped) MathML. A template's dynamic parts stand in it as the empty
 * elements `<uz-N />`, N indexing `slots`.
 */
function parseMath(markup: string): MathNode {
  const root: MathNode = { tag: "mrow", attrs: "", children: [], text: "" };
  const stack: MathNode[] = [root];
  let i = 0;
  while (i < markup.length) {
    const top = stack.at(-1)!;
    if (markup[i] === "<") {
      const end = markup.indexOf(">", i);
      if (end < 0) break;
      const tag = markup.slice(i + 1, end);
      if (tag[0] === "/") {
        if (stack.length > 1) stack.length--;
      } else {
        const space = tag.indexOf(" ");
        const node: MathNode = {
          tag: space < 0 ? tag : tag.slice(0, space),
          attrs: space < 0 ? "" : tag.slice(space),
          children: [],
          text: "",
        };
        top.children.push(node);
        if (!tag.endsWith("/")) stack.push(node);
      }
      i = end + 1;
    } else {
      const next = markup.indexOf("<", i);
      const end = next < 0 ? markup.length : next;
      top.text += plainText(markup.slice(i, end));
      i = end;
    }
  }
  return root;
}

const TIGHT_OPERATORS = "()[]{}|.×";
const SUPERSCRIPT_TEXT = /^[0-9−-]+$/;

function compound(text: string): boolean {
  return text.indexOf(" ") >= 0 || text.indexOf("×") >= 0 || text.indexOf("\u00a0") >= 0;
}

/** Whether the text is one parenthesised group already: "(a + b)", not "(a) + (b)". */
function grouped(text: string): boolean {
  if (!text.startsWith("(") || !text.endsWith(")")) return false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "(") depth++;
    else if (text[i] === ")" && --depth === 0 && i < text.length - 1) return false;
  }
  return true;
}

function wrapped(text: string): string {
  return compound(text) && !grouped(text) ? `(${text})` : text;
}

/** An exponent: superscript digits (x²), else `^` and the exponent. */
function exponentText(exponent: string): string {
  if (SUPERSCRIPT_TEXT.test(exponent)) {
    let sup = "";
    for (let i = 0; i < exponent.length; i++) sup += SUPERSCRIPT[exponent[i]!] ?? exponent[i]!;
    return sup;
  }
  return `^${wrapped(exponent)}`;
}

function applyRule(fn: TextRule["fn"], text: string): string {
  return fn === "w" ? wrapped(text) : fn === "t" ? text.trim() : exponentText(text);
}

// ---- templates: text parts, plain strings merged ----

type Text = TextPart[];

function concat(...lists: Text[]): Text {
  const out: Text = [];
  for (const list of lists) {
    for (const part of list) {
      if (typeof part === "string") {
        if (part === "") continue;
        const last = out.at(-1);
        if (typeof last === "string") {
          out[out.length - 1] = last + part;
          continue;
        }
      }
      out.push(part);
    }
  }
  return out;
}

/** The text when it depends on no value, else undefined. */
function staticText(text: Text): string | undefined {
  if (text.length === 0) return "";
  return text.length === 1 && typeof text[0] === "string" ? text[0] : undefined;
}

function rule(fn: TextRule["fn"], text: Text): Text {
  const known = staticText(text);
  return known !== undefined ? [applyRule(fn, known)] : [{ fn, of: text }];
}

/** How a template's dynamic parts are known while compiling: by slot, with the row position they stand at. */
type Slot = (leading: boolean) => TextPart;

function nodeText(node: MathNode, slots: readonly Slot[], leading: boolean): Text {
  const kids = node.children;
  switch (node.tag) {
    case "mi":
    case "mn":
    case "ms":
    case "mtext":
      return [node.text];
    case "mo": {
      const op = node.text;
      if (node.attrs.indexOf('lspace="0"') >= 0 || TIGHT_OPERATORS.indexOf(op) >= 0) return [op];
      if (op === ",") return [", "];
      return [` ${op} `];
    }
    case "mfrac":
      return concat(rule("w", nodeText(kids[0]!, slots, false)), ["/"], rule("w", nodeText(kids[1]!, slots, false)));
    case "msup":
      return concat(rule("w", nodeText(kids[0]!, slots, false)), rule("e", rule("t", nodeText(kids[1]!, slots, false))));
    case "msub":
      return concat(nodeText(kids[0]!, slots, false), ["_"], rule("t", nodeText(kids[1]!, slots, false)));
    case "msqrt":
      return concat(["√"], rule("w", rule("t", rowText(kids, slots, false))));
    case "mroot":
      return concat(["root("], rule("t", nodeText(kids[0]!, slots, false)), [", "], rule("t", nodeText(kids[1]!, slots, false)), [")"]);
    case "mtable": {
      const rows: Text[] = [[" "]];
      kids.forEach((row, index) => rows.push(index === 0 ? [] : ["; "], rule("t", nodeText(row, slots, false))));
      return concat(...rows, [" "]);
    }
    case "mtd":
      return concat(rule("t", concat([node.text], rowText(kids, slots, true))), [" "]);
    default: {
      if (node.tag.startsWith("uz-")) return [slots[Number(node.tag.slice(3))]!(leading)];
      return concat([node.text], rowText(kids, slots, true));
    }
  }
}

/** A row's children, one after another; a row's leading operator is a sign (−2, not " − 2"). */
function rowText(kids: readonly MathNode[], slots: readonly Slot[], leadingSign: boolean): Text {
  const parts: Text[] = [];
  for (let i = 0; i < kids.length; i++) {
    const kid = kids[i]!;
    const leading = leadingSign && i === 0;
    const text = nodeText(kid, slots, leading);
    parts.push(leading && kid.tag === "mo" ? rule("t", text) : text);
  }
  return concat(...parts);
}

/**
 * The text template of a MathML template (a formula's substitution): its holes, branches and guards become
 * slots; `leading`: the template starts its row (so a leading operator reads as a sign).
 */
export function textTemplate(parts: readonly TemplatePart[], leading = false): TextPart[] {
  const slots: Slot[] = [];
  let markup = "";
  for (const part of parts) {
    if (typeof part === "string") {
      markup += part;
      continue;
    }
    markup += `<uz-${slots.length} />`;
    if ("t" in part && "s" in part) {
      const hole: TextHole = { t: part.t, s: staticText(textTemplate([part.s])) ?? "" };
      if (part.f !== undefined) hole.f = part.f;
      if (part.k !== undefined) hole.k = part.k;
      // Wherever it stands: a value's markup is one element, never a bare operator (values.ts, units).
      slots.push(() => hole);
    } else if ("c" in part) {
      slots.push((lead) => {
        const choice: TextChoice = { c: part.c, y: textTemplate(part.y, lead), n: textTemplate(part.n, lead) };
        if (part.nn) choice.nn = 1;
        return choice;
      });
    } else {
      slots.push((lead) => ({ g: part.g, op: part.op, r: textTemplate(part.r, lead), s: staticText(textTemplate([part.s], lead)) ?? "" }));
    }
  }
  return rowText(parseMath(markup).children, slots, leading);
}

/** Whether a MathML part starts with a bare operator (its text then depends on whether it starts the line). */
export function startsWithOperator(markup: string): boolean {
  return markup.startsWith("<mo>") || markup.startsWith("<mo ");
}

/** The template's text with the step's values. */
export function fillText<Value extends { negative: boolean; compound: boolean }>(
  parts: readonly TextPart[],
  values: TextValues<Value>,
): string {
  let out = "";
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (typeof part === "string") {
      out += part;
    } else if ("fn" in part) {
      out += applyRule(part.fn, fillText(part.of, values));
    } else if ("s" in part && "t" in part) {
      const value = values.hole(part.t, part.k);
      if (!value) out += part.s;
      else if (bracketed(part.f, value)) out += `(${values.text(value)})`;
      else out += values.text(value);
    } else if ("c" in part) {
      out += fillText(choiceTaken(part.nn, values.temp(part.c)) ? part.y : part.n, values);
    } else {
      out += guardRan(part.op, values.temp(part.g)) ? fillText(part.r, values) : part.s;
    }
  }
  return out;
}

/** The finished line: runs of spaces (operators bring their own on both sides) read as one; long lines are cut. */
export function finishFormula(text: string): string {
  let line = text.trim();
  if (line.indexOf("  ") >= 0) line = line.replace(/ {2,}/g, " ");
  return line.length > MAX_FORMULA ? line.slice(0, MAX_FORMULA) + "…" : line;
}

/** MathML as text where it stands inside a line, not at its start (a value, or one side of a line's `=`). */
export function inlineText(math: string): string {
  const root = parseMath(math);
  return staticText(concat([root.text], rowText(root.children, [], false))) ?? "";
}

/** `M = (g.q · b²)/8 = (10 · 7.5²)/8 = 70.313`: a whole line of the report's MathML as one line of text. */
export function formulaText(markup: string): string {
  return finishFormula(staticText(nodeText(parseMath(markup.replace(PIECE_BREAK, "")), [], true)) ?? "");
}

/** Between the pieces of a long line (record.ts wrappedMarkup): read as the one line they are. */
const PIECE_BREAK = /<\/math><math displaystyle="true">/g;
