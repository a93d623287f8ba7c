// Reading a .docx back in tests: its parts (a .docx is a zip), and its body as lines of text with each equation
// read out of its Office Math (a fraction as (a)/(b), a subscript as x_i), so a test or a golden can say what a
// reader of the Word document sees, not how the XML happens to be laid out.

import { strFromU8, unzipSync } from "fflate";
import { parseDocument } from "htmlparser2";
import { isElement, type HtmlElement as XmlElement, type HtmlNode as XmlNode } from "../../connect/officeMath";

export function docxParts(bytes: Uint8Array): Map<string, Uint8Array> {
  return new Map(Object.entries(unzipSync(bytes)));
}

export function docxPart(bytes: Uint8Array, name: string): string {
  const part = docxParts(bytes).get(name);
  if (!part) throw new Error(`the .docx has no ${name}`);
  return strFromU8(part);
}

/** Each Office Math equation of a document.xml as linear text. */
export function equations(documentXml: string): string[] {
  const root = parseDocument(documentXml, { xmlMode: true });
  const found: string[] = [];
  const visit = (nodes: XmlNode[]): void => {
    for (const node of nodes) {
      if (!isElement(node)) continue;
      if (node.name === "m:oMath") found.push(mathText(node));
      else visit(node.children);
    }
  };
  visit(root.children);
  return found;
}

/** The body as lines: a paragraph's text with its equations read out ("> " a level of indent), a table row as `| cell | cell |`. */
export function documentLines(documentXml: string): string[] {
  const root = parseDocument(documentXml, { xmlMode: true });
  const lines: string[] = [];
  const visit = (nodes: XmlNode[]): void => {
    for (const node of nodes) {
      if (!isElement(node)) continue;
      if (node.name === "w:p") {
        const style = find(node, "w:pStyle")?.attribs["w:val"];
        const text = paragraphText(node);
        // A working block's lines are set in, a centimetre (567 twentieths of a point) a level: "> " a level.
        const level = Math.round(Number(find(node, "w:ind")?.attribs["w:left"] ?? 0) / 567);
        if (text !== "") lines.push("> ".repeat(level) + (style ? `[${style}] ${text}` : text));
      } else if (node.name === "w:tr") {
        lines.push(`| ${children(node, "w:tc").map(paragraphText).join(" | ")} |`);
      } else {
        visit(node.children);
      }
    }
  };
  visit(root.children);
  return lines;
}

function children(element: XmlElement, name?: string): XmlElement[] {
  return element.children.filter(isElement).filter((child) => name === undefined || child.name === name);
}

function find(element: XmlElement, name: string): XmlElement | undefined {
  for (const child of children(element)) {
    if (child.name === name) return child;
    const deeper = find(child, name);
    if (deeper) return deeper;
  }
  return undefined;
}

function paragraphText(element: XmlElement): string {
  let out = "";
  for (const child of children(element)) {
    if (child.name === "w:t") out += textOf(child);
    else if (child.name === "m:oMath") out += `⟨${mathText(child)}⟩`;
    else if (child.name === "w:drawing") out += `[picture ${find(child, "wp:docPr")?.attribs.descr ?? ""}]`;
    else if (child.name === "w:fldSimple" || child.name === "w:instrText") out += `{${(child.attribs["w:instr"] ?? textOf(child)).trim()}}`;
    else if (child.name !== "w:pPr" && child.name !== "w:rPr") out += paragraphText(child);
  }
  return out;
}

function textOf(element: XmlElement): string {
  return element.children.map((child) => ("data" in child ? child.data : "")).join("");
}

/** An equation (or a part of one) in linear notation: what Word's own "linear" view would show, near enough. */
function mathText(element: XmlElement): string {
  const part = (name: string): string => {
    const child = children(element, name)[0];
    return child ? mathText(child) : "";
  };
  const group = (text: string): string => ([...text].length > 1 ? `(${text})` : text);
  switch (element.name) {
    case "m:r":
      // The space between a value and its unit is a no-break space: read as a space.
      return children(element, "m:t")
        .map(textOf)
        .join("")
        .replace(/\u00a0/g, " ");
    case "m:f":
      return `${group(part("m:num"))}/${group(part("m:den"))}`;
    case "m:sSub":
      return `${part("m:e")}_${group(part("m:sub"))}`;
    case "m:sSup":
      return `${part("m:e")}^${group(part("m:sup"))}`;
    case "m:sSubSup":
      return `${part("m:e")}_${group(part("m:sub"))}^${group(part("m:sup"))}`;
    case "m:rad": {
      const degree = part("m:deg");
      return `${degree ? `root${degree}` : "√"}(${part("m:e")})`;
    }
    case "m:d": {
      const properties = children(element, "m:dPr")[0];
      const open = properties && find(properties, "m:begChr")?.attribs["m:val"];
      const close = properties && find(properties, "m:endChr")?.attribs["m:val"];
      return `${open ?? "("}${children(element, "m:e").map(mathText).join(",")}${close ?? ")"}`;
    }
    case "m:eqArr":
      return children(element, "m:e").map(mathText).join(" ; ");
    default:
      if (element.name.endsWith("Pr")) return "";
      return children(element).map(mathText).join("");
  }
}
