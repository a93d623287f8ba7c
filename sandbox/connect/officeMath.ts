// The report's MathML as Office Math (OMML), the equations Word edits as equations, not pictures of them: a
// fraction stays a fraction, a subscript a subscript, and a reader can change a value in Word's equation editor.
//
// It reads only the MathML the report engine writes (sandbox/loader/instrument/formula.ts, the number and value
// formatting of sandbox/runtime/report/): mi, mn, mo, mtext, ms, mrow, msub, msup, msubsup, mfrac, msqrt, mroot
// and the cases table. An element it does not know keeps its text, so nothing a sheet wrote goes missing.
// Brackets the engine writes as a `(` … `)` pair of operators become one Office Math delimiter, which grows
// with what it holds (a fraction in brackets), as Word's own equations do.

import {
  BuilderElement,
  MathFraction,
  MathRadical,
  MathRoundBrackets,
  MathRun,
  MathSquareBrackets,
  MathSubScript,
  MathSubSuperScript,
  MathSuperScript,
  type MathComponent,
} from "docx";
import { DomUtils, type parseDocument } from "htmlparser2";

/** A node of htmlparser2's tree, and an element of it (the types of the domhandler htmlparser2 itself uses). */
export type HtmlNode = ReturnType<typeof parseDocument>["children"][number];
export type HtmlElement = Extract<HtmlNode, { attribs: Record<string, string> }>;
type MathElement = HtmlElement;

export function isElement(node: HtmlNode): node is HtmlElement {
  return "attribs" in node;
}

/** The Office Math of one `<math>` element's content (a row). */
export function officeMath(math: MathElement): MathComponent[] {
  return row(elementsOf(math));
}

/** The whole text of a MathML element, as the report shows it. */
function mathText(element: HtmlNode): string {
  return DomUtils.textContent(element);
}

function elementsOf(element: MathElement): MathElement[] {
  return element.children.filter(isElement);
}

const BRACKETS: Record<string, { close: string; make: (children: MathComponent[]) => MathComponent }> = {
  "(": { close: ")", make: (children) => new MathRoundBrackets({ children }) },
  "[": { close: "]", make: (children) => new MathSquareBrackets({ children }) },
};

/** A row of elements, each matched `(` … `)` (or `[` … `]`) pair of operators made one growing delimiter. */
function row(elements: MathElement[]): MathComponent[] {
  const out: MathComponent[] = [];
  for (let at = 0; at < elements.length; at++) {
    const element = elements[at]!;
    const open = element.name === "mo" ? BRACKETS[mathText(element)] : undefined;
    const close = open ? matching(elements, at, mathText(element), open.close) : -1;
    if (open && close > 0) {
      out.push(open.make(nonEmpty(row(elements.slice(at + 1, close)))));
      at = close;
    } else if (element.name === "mo" && mathText(element) === "{" && elements[at + 1]?.name === "mtable") {
      out.push(cases(elements[at + 1]!));
      at++;
    } else {
      out.push(...component(element));
    }
  }
  return out;
}

/** Where the operator closing the bracket opened at `at` is, in the same row; -1 when it is not there. */
function matching(elements: MathElement[], at: number, open: string, close: string): number {
  let depth = 0;
  for (let i = at; i < elements.length; i++) {
    const element = elements[i]!;
    if (element.name !== "mo") continue;
    const text = mathText(element);
    if (text === open) depth++;
    else if (text === close && --depth === 0) return i;
  }
  return -1;
}

/** Office Math refuses an empty base, numerator or script: an empty one holds an empty run instead. */
function nonEmpty(components: MathComponent[]): MathComponent[] {
  return components.length > 0 ? components : [new MathRun("")];
}

/** The content of an element that stands for one argument (msub's base, a fraction's numerator): a row of one. */
function argument(element: MathElement | undefined): MathComponent[] {
  if (!element) return [new MathRun("")];
  return nonEmpty(element.name === "mrow" ? row(elementsOf(element)) : component(element));
}

function component(element: MathElement): MathComponent[] {
  const parts = elementsOf(element);
  const text = mathText(element);
  switch (element.name) {
    case "mi": {
      // MathML draws a one-letter name in italic and a longer one (min, ck in f_ck) or a unit upright. They are
      // written as Word's "normal text" rather than as upright math (m:sty): LibreOffice reads math runs as its
      // own formula language, where `lim`, `min` or `in` are operators that swallow what follows.
      const upright = element.attribs.mathvariant === "normal" || [...text].length > 1;
      return [upright ? new MathRun({ text, normalText: true }) : new MathRun(text)];
    }
    case "mn":
    case "mo":
      return [new MathRun(text)];
    case "mtext":
      return [new MathRun({ text, normalText: true })];
    case "ms":
      return [new MathRun({ text: `“${text}”`, normalText: true })];
    case "msub":
      return [new MathSubScript({ children: argument(parts[0]), subScript: argument(parts[1]) })];
    case "msup":
      // x_i² is one script with both, as Word writes it, rather than a power of a subscripted name.
      if (parts[0]?.name === "msub") {
        const [base, sub] = elementsOf(parts[0]);
        return [new MathSubSuperScript({ children: argument(base), subScript: argument(sub), superScript: argument(parts[1]) })];
      }
      return [new MathSuperScript({ children: argument(parts[0]), superScript: argument(parts[1]) })];
    case "msubsup":
      return [new MathSubSuperScript({ children: argument(parts[0]), subScript: argument(parts[1]), superScript: argument(parts[2]) })];
    case "mfrac":
      return [new MathFraction({ numerator: argument(parts[0]), denominator: argument(parts[1]) })];
    case "msqrt":
      return [new MathRadical({ children: nonEmpty(row(parts)) })];
    case "mroot":
      return [new MathRadical({ children: argument(parts[0]), degree: argument(parts[1]) })];
    case "mtable":
      return [equationArray(element)];
    case "mspace":
      return [new MathRun(" ")];
    default:
      // mrow, mstyle, mpadded and the like group; anything else keeps its children, or its text.
      return parts.length > 0 ? row(parts) : text ? [new MathRun(text)] : [];
  }
}

// Office Math has the pieces for a brace around stacked rows (a delimiter that opens with `{` and does not
// close, holding an equation array), but docx has no class for either: they are written as elements here.
// docx's math classes take only its own components as children, so these cross into that type once, here.
function omml(name: string, children: (MathComponent | BuilderElement)[], val?: string): MathComponent {
  const element = new BuilderElement<{ val: string }>({
    name,
    ...(val !== undefined ? { attributes: { val: { key: "m:val", value: val } } } : {}),
    children: children as BuilderElement[],
  });
  return element as unknown as MathComponent;
}

/** A conditional's cases: `{` and a row per branch (value, then its condition), as the report draws them. */
function cases(table: MathElement): MathComponent {
  const properties = omml("m:dPr", [omml("m:begChr", [], "{"), omml("m:endChr", [], "")]);
  return omml("m:d", [properties, omml("m:e", [equationArray(table)])]);
}

/** An mtable as rows stacked and left-aligned, each row's cells side by side with a space between. */
function equationArray(table: MathElement): MathComponent {
  const rows = elementsOf(table).filter((element) => element.name === "mtr");
  return omml(
    "m:eqArr",
    rows.map((tableRow) => {
      const cells = elementsOf(tableRow).map((cell) => row(elementsOf(cell)));
      const joined = cells.flatMap((cell, index) => (index === 0 ? cell : [new MathRun({ text: "  ", normalText: true }), ...cell]));
      return omml("m:e", nonEmpty(joined));
    }),
  );
}
