// A completed report as a Word document (`uzoncalc run … --docx`, the extension's Export Report to Word): the
// document a client asks for when they want to mark it up. Its equations are Office Math (officeMath.ts), so
// Word edits them as equations; headings use Word's heading styles, so Word's navigation and its own table of
// contents work; tables, captions, checks, notes, the title block and the run's provenance keep their places,
// and figures are pictures: the report's SVG, with a PNG beside it for readers that draw no SVG.
//
// It reads only what the report engine writes (reportDocument.ts and sandbox/runtime/report/, the same blocks
// reportReading.ts reads back), and whatever a sheet wrote with html() is kept as text with its emphasis.
// Free of node:vm and of the sandbox's trusted parts: built as its own bundle (dist/word.js), which the extension and
// the CLI load only when asked to export (wordExport.ts).

import {
  AlignmentType,
  BorderStyle,
  BuilderElement,
  Document,
  ExternalHyperlink,
  Footer,
  Header,
  HeadingLevel,
  ImageRun,
  Math as OfficeMathRun,
  MathRun,
  Packer,
  PageNumber,
  Paragraph,
  ShadingType,
  Table,
  TableCell,
  TableRow,
  TextRun,
  WidthType,
  type FileChild,
  type ParagraphChild,
} from "docx";
import { DomUtils, parseDocument } from "htmlparser2";
import type { PaperSize } from "../../protocol/limits";
import { svgToPng } from "./figureImage";
import { isElement, officeMath, type HtmlElement, type HtmlNode } from "./officeMath";

export interface WordOptions {
  paper?: PaperSize;
}

type Node = HtmlNode;
type Element = HtmlElement;

/** Twentieths of a point: what Word measures pages and indents in. */
const CM = 567;
const PAGES: Record<PaperSize, { width: number; height: number }> = {
  A4: { width: 11906, height: 16838 },
  Letter: { width: 12240, height: 15840 },
};
const MARGIN = { top: 2 * CM, bottom: 2 * CM, left: 2 * CM, right: 2 * CM };
/** A figure at most the text's width on A4 (17 cm), in pixels at 96 per inch as docx sizes pictures. */
const MAX_FIGURE_WIDTH = 640;
const COLOURS = { ok: "1A7F37", bad: "CF222E", muted: "57606A", rule: "D0D7DE", header: "F0F3F6" };

/** The Word document (.docx bytes) of a completed report document. */
export async function reportToWord(html: string, options: WordOptions = {}): Promise<Uint8Array> {
  const root = parseDocument(html);
  const main = DomUtils.findOne((node) => node.name === "main" && hasClass(node, "uzc-report"), root.children);
  const footer = DomUtils.findOne((node) => node.name === "footer" && hasClass(node, "uzc-provenance"), root.children);
  if (!main) throw new Error('not a UzonCalc report: it has no <main class="uzc-report">');
  const writer = new WordWriter();
  const body = await writer.blocks(elements(main), 0);
  if (footer) body.push(...writer.provenance(footer));
  const title = writer.title ?? "Calculation report";
  const paper = PAGES[options.paper ?? "A4"];
  const document = new Document({
    title,
    creator: "UzonCalc",
    description: "Calculation report",
    styles: STYLES,
    sections: [
      {
        properties: { page: { size: paper, margin: MARGIN } },
        headers: {
          default: new Header({
            children: [new Paragraph({ style: "UzcRunning", alignment: AlignmentType.RIGHT, children: [new TextRun(title)] })],
          }),
        },
        footers: {
          default: new Footer({
            children: [
              new Paragraph({
                style: "UzcRunning",
                alignment: AlignmentType.RIGHT,
                children: [new TextRun({ children: ["Page ", PageNumber.CURRENT, " of ", PageNumber.TOTAL_PAGES] })],
              }),
            ],
          }),
        },
        children: body,
      },
    ],
  });
  return new Uint8Array(await Packer.toBuffer(document));
}

const STYLES = {
  default: {
    document: { run: { font: "Calibri", size: 21 }, paragraph: { spacing: { after: 80 } } },
    title: { run: { font: "Calibri", size: 40, bold: true, color: "1F2328" }, paragraph: { spacing: { after: 160 } } },
    heading1: {
      run: { font: "Calibri", size: 30, bold: true, color: "1F2328" },
      paragraph: { spacing: { before: 360, after: 120 }, keepNext: true },
    },
    heading2: {
      run: { font: "Calibri", size: 25, bold: true, color: "1F2328" },
      paragraph: { spacing: { before: 240, after: 100 }, keepNext: true },
    },
    heading3: {
      run: { font: "Calibri", size: 22, bold: true, color: "1F2328" },
      paragraph: { spacing: { before: 200, after: 80 }, keepNext: true },
    },
    caption: { run: { size: 19, italics: false, color: "1F2328" }, paragraph: { spacing: { before: 60, after: 160 } } },
  },
  paragraphStyles: [
    { id: "UzcEquation", name: "Equation", basedOn: "Normal", paragraph: { spacing: { before: 60, after: 60 }, keepLines: true } },
    { id: "UzcCheck", name: "Check", basedOn: "Normal", paragraph: { spacing: { before: 80, after: 80 }, keepLines: true } },
    {
      id: "UzcNote",
      name: "Note",
      basedOn: "Normal",
      paragraph: {
        indent: { left: 240 },
        border: { left: { style: BorderStyle.SINGLE, size: 18, color: COLOURS.rule, space: 8 } },
        spacing: { before: 80, after: 120 },
      },
    },
    { id: "UzcRunning", name: "Running head", basedOn: "Normal", run: { size: 16, color: COLOURS.muted } },
  ],
};

function hasClass(node: Node, name: string): boolean {
  return isElement(node) && (node.attribs.class ?? "").split(/\s+/).includes(name);
}

function elements(parent: Element): Element[] {
  return parent.children.filter(isElement);
}

function text(node: Node): string {
  return DomUtils.textContent(node).replace(/\s+/g, " ").trim();
}

interface Inline {
  bold?: boolean;
  italics?: boolean;
  superScript?: boolean;
  subScript?: boolean;
  code?: boolean;
  color?: string;
}

class WordWriter {
  title: string | undefined;

  /** The blocks of the report's body (or of a working block, one level in). */
  async blocks(nodes: Element[], depth: number): Promise<FileChild[]> {
    const out: FileChild[] = [];
    for (const element of nodes) out.push(...(await this.block(element, depth)));
    return out;
  }

  private indent(depth: number): { indent?: { left: number } } {
    return depth > 0 ? { indent: { left: depth * CM } } : {};
  }

  private async block(element: Element, depth: number): Promise<FileChild[]> {
    const name = element.name;
    if (name === "header" && hasClass(element, "uzc-title-block")) return this.blocks(elements(element), depth);
    if (name === "nav" && hasClass(element, "uzc-toc")) return this.contents(element);
    if (/^h[1-6]$/.test(name)) return [this.heading(element)];
    if (name === "table") return this.table(element, depth);
    if (name === "figure") return this.figure(element, depth);
    if (name === "hr") {
      return [new Paragraph({ border: { bottom: { style: BorderStyle.SINGLE, size: 6, color: COLOURS.rule, space: 1 } }, children: [] })];
    }
    if (name === "div" && hasClass(element, "uzc-eq")) return [this.equation(element, depth)];
    if (name === "div" && hasClass(element, "uzc-check")) return [this.check(element, depth)];
    if (name === "div" && hasClass(element, "uzc-working")) return this.blocks(elements(element), depth + 1);
    if (name === "div" && hasClass(element, "uzc-error")) return this.error(element, depth);
    if (name === "p" && hasClass(element, "uzc-note")) {
      return [new Paragraph({ style: "UzcNote", ...this.indent(depth), children: this.inline(element.children, {}) })];
    }
    if (name === "p" && hasClass(element, "uzc-more")) {
      return [new Paragraph({ ...this.indent(depth), children: this.inline(element.children, { italics: true, color: COLOURS.muted }) })];
    }
    if (name === "ul" || name === "ol") return this.list(element, depth, name === "ol");
    if (name === "pre") return this.preformatted(element, depth);
    // A div or section from html(): its blocks, or its text when it holds only inline content.
    const children = elements(element);
    if ((name === "div" || name === "section" || name === "blockquote") && children.some((child) => BLOCK.has(child.name))) {
      return this.blocks(children, depth + (name === "blockquote" ? 1 : 0));
    }
    return [new Paragraph({ ...this.indent(depth), children: this.inline(element.children, {}) })];
  }

  private heading(element: Element): Paragraph {
    const level = Number(element.name.slice(1));
    const words = text(element);
    // The report's h1 is its title; its h2 and h3 are the numbered sections, Word's Heading 1 and 2.
    if (level === 1 && this.title === undefined) this.title = words;
    const heading = [HeadingLevel.TITLE, HeadingLevel.HEADING_1, HeadingLevel.HEADING_2, HeadingLevel.HEADING_3, HeadingLevel.HEADING_4][
      Math.min(level - 1, 4)
    ];
    return new Paragraph({ heading, children: this.inline(element.children, {}) });
  }

  /** The report's contents as a list (a Word TOC field would be empty until the reader updates it). */
  private contents(nav: Element): FileChild[] {
    const entries = DomUtils.findAll((node) => node.name === "li", nav.children);
    return [
      new Paragraph({ children: [new TextRun({ text: "Contents", bold: true })], spacing: { before: 200, after: 60 } }),
      ...entries.map((entry) => new Paragraph({ indent: { left: 240 }, spacing: { after: 20 }, children: [new TextRun(text(entry))] })),
      new Paragraph({ children: [] }),
    ];
  }

  private equation(element: Element, depth: number): Paragraph {
    // A long line is written as pieces, one <math> each, where the HTML may wrap it (at = and at top-level + and
    // −). Each piece is an equation of its own in one display group: Word sets them one under the other, and a
    // reader that does not break equations (LibreOffice) still fits them to the page.
    const pieces = elements(element).filter((child) => child.name === "math");
    // Left, as a calculation sheet sets its lines (Word centres a display equation unless told).
    const justify = new BuilderElement({
      name: "m:oMathParaPr",
      children: [new BuilderElement({ name: "m:jc", attributes: { val: { key: "m:val", value: "left" } } })],
    });
    const display = new BuilderElement({
      name: "m:oMathPara",
      children: [
        justify,
        // A continuation opens with its = or +, set in from the line above by an em space. The space also gives
        // LibreOffice's formula language the left operand it needs before a leading operator.
        ...pieces.map(
          (piece, index) =>
            new OfficeMathRun({
              children: [...(index > 0 ? [new MathRun({ text: "\u2003", normalText: true })] : []), ...officeMath(piece)],
            }),
        ),
      ],
    });
    return new Paragraph({ style: "UzcEquation", ...this.indent(depth), children: [display as unknown as ParagraphChild] });
  }

  private check(element: Element, depth: number): Paragraph {
    const ok = hasClass(element, "uzc-check-ok");
    const colour = ok ? COLOURS.ok : COLOURS.bad;
    const runs: ParagraphChild[] = [];
    for (const node of element.children) {
      if (isElement(node) && hasClass(node, "uzc-check-mark")) runs.push(new TextRun({ text: text(node), bold: true, color: colour }));
      else if (isElement(node) && hasClass(node, "uzc-check-label")) runs.push(new TextRun({ text: text(node), bold: true }));
      else if (isElement(node) && hasClass(node, "uzc-check-verdict"))
        runs.push(new TextRun({ text: text(node), bold: true, color: colour }));
      else if (isElement(node) && hasClass(node, "uzc-check-ratio")) runs.push(new TextRun({ text: text(node), color: COLOURS.muted }));
      else runs.push(...this.inline([node], {}));
    }
    return new Paragraph({
      style: "UzcCheck",
      ...this.indent(depth),
      border: { left: { style: BorderStyle.SINGLE, size: 18, color: colour, space: 8 } },
      children: runs,
    });
  }

  private error(element: Element, depth: number): FileChild[] {
    const pre = DomUtils.findOne((node) => node.name === "pre", element.children);
    const head = element.children.filter((node) => node !== pre);
    const out: FileChild[] = [
      new Paragraph({
        ...this.indent(depth),
        border: { left: { style: BorderStyle.SINGLE, size: 24, color: COLOURS.bad, space: 8 } },
        children: this.inline(head, { color: COLOURS.bad }),
      }),
    ];
    if (pre) out.push(...this.preformatted(pre, depth));
    return out;
  }

  private preformatted(element: Element, depth: number): FileChild[] {
    return DomUtils.textContent(element)
      .split("\n")
      .map(
        (line) =>
          new Paragraph({
            ...this.indent(depth),
            spacing: { after: 0 },
            children: [new TextRun({ text: line, font: "Consolas", size: 17 })],
          }),
      );
  }

  private list(element: Element, depth: number, numbered: boolean): FileChild[] {
    const items = elements(element).filter((child) => child.name === "li");
    return items.map(
      (item, index) =>
        new Paragraph({
          indent: { left: (depth + 1) * CM, hanging: 300 },
          children: [new TextRun(numbered ? `${index + 1}.\t` : "•\t"), ...this.inline(item.children, {})],
        }),
    );
  }

  private table(element: Element, depth: number): FileChild[] {
    const caption = DomUtils.findOne((node) => node.name === "caption", element.children, false);
    const titleBlock = hasClass(element, "uzc-title-table");
    const rows = DomUtils.findAll((node) => node.name === "tr", element.children).filter((row) => closestTable(row) === element);
    if (rows.length === 0) return [];
    const columns = Math.max(...rows.map((row) => elements(row).filter(isCell).length));
    const tableRows = rows.map((row) => {
      const header = row.parent !== null && isElement(row.parent) && row.parent.name === "thead";
      const cells = elements(row).filter(isCell);
      return new TableRow({
        tableHeader: header,
        cantSplit: true,
        children: [...cells, ...Array<undefined>(columns - cells.length).fill(undefined)].map((cell) => {
          const headCell = cell?.name === "th";
          return new TableCell({
            // The title block's labels take a quarter of the width, its values the rest.
            ...(titleBlock ? { width: { size: headCell ? 25 : 75, type: WidthType.PERCENTAGE } } : {}),
            ...(header ? { shading: { type: ShadingType.CLEAR, color: "auto", fill: COLOURS.header } } : {}),
            margins: { top: 40, bottom: 40, left: 100, right: 100 },
            children: [new Paragraph({ spacing: { after: 0 }, children: cell ? this.inline(cell.children, { bold: headCell }) : [] })],
          });
        }),
      });
    });
    const table = new Table({
      rows: tableRows,
      width: { size: 100 - depth * 5, type: WidthType.PERCENTAGE },
      ...(depth > 0 ? { indent: { size: depth * CM, type: WidthType.DXA } } : {}),
      borders: ruled(titleBlock ? "FFFFFF" : COLOURS.rule),
    });
    const out: FileChild[] = [];
    if (caption) out.push(new Paragraph({ style: "Caption", keepNext: true, ...this.indent(depth), children: this.caption(caption) }));
    out.push(table, new Paragraph({ spacing: { after: 60 }, children: [] }));
    return out;
  }

  /** "Table 1 Beam geometry": its number bold, as the report sets it. */
  private caption(caption: Element): ParagraphChild[] {
    return caption.children.flatMap((node) =>
      isElement(node) && hasClass(node, "uzc-num") ? [new TextRun({ text: text(node), bold: true })] : this.inline([node], {}),
    );
  }

  private async figure(element: Element, depth: number): Promise<FileChild[]> {
    const out: FileChild[] = [];
    const svgElement = DomUtils.findOne((node) => node.name === "svg", element.children);
    const failed = DomUtils.findOne((node) => hasClass(node, "uzc-plot-error"), element.children);
    if (svgElement) {
      const picture = await this.picture(DomUtils.getOuterHTML(svgElement, { xmlMode: true }), svgElement);
      out.push(new Paragraph({ alignment: AlignmentType.CENTER, keepNext: true, children: [picture] }));
    }
    if (failed) out.push(new Paragraph({ ...this.indent(depth), children: [new TextRun({ text: text(failed), color: COLOURS.bad })] }));
    const caption = DomUtils.findOne((node) => node.name === "figcaption", element.children);
    if (caption) out.push(new Paragraph({ style: "Caption", alignment: AlignmentType.CENTER, children: this.caption(caption) }));
    return out;
  }

  private async picture(markup: string, svg: Element): Promise<ImageRun> {
    const width = Number(svg.attribs.width) || MAX_FIGURE_WIDTH;
    const height = Number(svg.attribs.height) || Math.round(width * 0.5625);
    // The report draws its axes and labels in the text's colour (currentColor), which a picture has none of.
    const printable = markup.replace(/currentColor/g, "#1F2328");
    const png = await svgToPng(printable);
    const scale = Math.min(1, MAX_FIGURE_WIDTH / width);
    return new ImageRun({
      type: "svg",
      data: Buffer.from(printable, "utf8"),
      fallback: { type: "png", data: png },
      transformation: { width: Math.round(width * scale), height: Math.round(height * scale) },
      altText: {
        name: svg.attribs["aria-label"] ?? "Figure",
        description: svg.attribs["aria-label"] ?? "",
        title: svg.attribs["aria-label"] ?? "",
      },
    });
  }

  /** The run's provenance (sheet, content hash, inputs, parameters, runtime, date) as the report's last section. */
  provenance(footer: Element): FileChild[] {
    const out: FileChild[] = [new Paragraph({ heading: HeadingLevel.HEADING_1, children: [new TextRun("Provenance")] })];
    const outer = DomUtils.findOne((node) => node.name === "table", footer.children);
    if (!outer) return out;
    const rows: TableRow[] = [];
    const inputs: Element[] = [];
    for (const row of DomUtils.findAll((node) => node.name === "tr", outer.children).filter((tr) => closestTable(tr) === outer)) {
      const [head, value] = elements(row);
      if (!head || !value) continue;
      const nested = DomUtils.findOne((node) => node.name === "table", value.children);
      if (nested) inputs.push(nested);
      rows.push(
        new TableRow({
          children: [
            new TableCell({
              width: { size: 22, type: WidthType.PERCENTAGE },
              children: [new Paragraph({ children: [new TextRun({ text: text(head), bold: true })] })],
            }),
            new TableCell({
              children: [
                new Paragraph({
                  children: nested ? [new TextRun({ text: "see the table below", italics: true })] : this.inline(value.children, {}),
                }),
              ],
            }),
          ],
        }),
      );
    }
    out.push(new Table({ rows, width: { size: 100, type: WidthType.PERCENTAGE }, borders: ruled(COLOURS.rule) }));
    for (const table of inputs) {
      out.push(
        new Paragraph({
          style: "Caption",
          keepNext: true,
          spacing: { before: 200 },
          children: [new TextRun({ text: "Inputs", bold: true })],
        }),
      );
      out.push(...this.table(table, 0));
    }
    return out;
  }

  /** Inline content: text with its emphasis, scripts and links, and formulas as inline Office Math. */
  inline(nodes: Node[], style: Inline): ParagraphChild[] {
    const out: ParagraphChild[] = [];
    for (const node of nodes) {
      if (node.type === "text") {
        const value = "data" in node ? node.data.replace(/\s+/g, " ") : "";
        if (value !== "") out.push(run(value, style));
        continue;
      }
      if (!isElement(node)) continue;
      switch (node.name) {
        case "math":
          out.push(new OfficeMathRun({ children: officeMath(node) }));
          break;
        case "sup":
          out.push(...this.inline(node.children, { ...style, superScript: true }));
          break;
        case "sub":
          out.push(...this.inline(node.children, { ...style, subScript: true }));
          break;
        case "strong":
        case "b":
          out.push(...this.inline(node.children, { ...style, bold: true }));
          break;
        case "em":
        case "i":
          out.push(...this.inline(node.children, { ...style, italics: true }));
          break;
        case "code":
        case "kbd":
        case "samp":
          out.push(...this.inline(node.children, { ...style, code: true }));
          break;
        case "br":
          out.push(new TextRun({ break: 1 }));
          break;
        case "a": {
          const href = node.attribs.href ?? "";
          const runs = this.inline(node.children, style);
          if (/^https?:\/\//i.test(href)) out.push(new ExternalHyperlink({ link: href, children: runs.filter(isTextRun) }));
          else out.push(...runs);
          break;
        }
        case "span":
          out.push(
            ...(hasClass(node, "uzc-note-label") ? [run(`${text(node)}  `, { ...style, bold: true })] : this.inline(node.children, style)),
          );
          break;
        case "img":
          if (node.attribs.alt) out.push(run(`[${node.attribs.alt}]`, { ...style, italics: true }));
          break;
        case "svg":
        case "script":
        case "style":
          break;
        default:
          out.push(...this.inline(node.children, style));
      }
    }
    return out;
  }
}

const BLOCK = new Set([
  "p",
  "div",
  "table",
  "ul",
  "ol",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
  "figure",
  "pre",
  "hr",
  "section",
  "blockquote",
]);

/** A table's borders, outside and between its cells, in one thin line of `colour`. */
function ruled(colour: string) {
  const line = { style: BorderStyle.SINGLE, size: 4, color: colour };
  return { top: line, bottom: line, left: line, right: line, insideHorizontal: line, insideVertical: line };
}

function isCell(element: Element): boolean {
  return element.name === "td" || element.name === "th";
}

function isTextRun(child: ParagraphChild): child is TextRun {
  return child instanceof TextRun;
}

/** The table a row belongs to (a nested table's rows are its own, not the outer table's). */
function closestTable(node: Node): Element | undefined {
  let at = node.parent;
  while (at && isElement(at) && at.name !== "table") at = at.parent;
  return at && isElement(at) ? at : undefined;
}

function run(value: string, style: Inline): TextRun {
  return new TextRun({
    text: value,
    ...(style.bold ? { bold: true } : {}),
    ...(style.italics ? { italics: true } : {}),
    ...(style.superScript ? { superScript: true } : {}),
    ...(style.subScript ? { subScript: true } : {}),
    ...(style.code ? { font: "Consolas" } : {}),
    ...(style.color ? { color: style.color } : {}),
  });
}
