// Editor features on field uses (`g.span`, `const { span } = g`): which field a position names, what to complete
// there, and how to describe a field. Positions here are offsets into the virtual sheet.
import * as ts from "typescript";
import { destructuredNode, type FormField, type FormInfo, type FormTypes } from "./formTypes";
import { innermostNodeAt } from "./sheetSyntax";
import { isStaticRecord, type StaticValue } from "./staticValues";
import type { AttributeSite } from "./windowSpecs";

export interface FieldUse {
  form: FormInfo;
  field: FormField;
  /** The identifier naming the field at the use. */
  node: ts.Identifier;
}

export function fieldUseAt(sourceFile: ts.SourceFile, offset: number, forms: FormTypes): FieldUse | undefined {
  const node = innermostNodeAt(sourceFile, offset);
  if (!ts.isIdentifier(node)) return undefined;
  const parent = node.parent;
  let form: FormInfo | undefined;
  if (ts.isPropertyAccessExpression(parent) && parent.name === node) form = forms.formAt(parent.expression);
  else if (ts.isBindingElement(parent) && ts.isObjectBindingPattern(parent.parent) && (parent.propertyName ?? parent.name) === node) {
    const target = destructuredNode(parent.parent);
    if (target) form = forms.formAt(target);
  }
  const field = form?.fields.find((candidate) => candidate.name === node.text);
  return form && field ? { form, field, node } : undefined;
}

export interface CompletionSite {
  form: FormInfo;
  /** Fields already taken apart by the same pattern. */
  taken: ReadonlySet<string>;
}

const IDENTIFIER_PART = /[A-Za-z0-9_$]/;

/** After `g.` (or `g.sp`), or inside `const { … } = g`. */
export function completionSiteAt(sourceFile: ts.SourceFile, offset: number, forms: FormTypes): CompletionSite | undefined {
  const text = sourceFile.text;
  let wordStart = offset;
  while (wordStart > 0 && IDENTIFIER_PART.test(text[wordStart - 1]!)) wordStart--;
  let before = wordStart;
  while (before > 0 && /\s/.test(text[before - 1]!)) before--;
  if (text[before - 1] === ".") {
    const dot = before - 1;
    for (let node: ts.Node | undefined = innermostNodeAt(sourceFile, dot); node; node = node.parent) {
      if (ts.isPropertyAccessExpression(node) && node.expression.end <= dot && dot < node.name.getStart(sourceFile)) {
        const form = forms.formAt(node.expression);
        return form ? { form, taken: new Set() } : undefined;
      }
      if (ts.isStatement(node)) break;
    }
    return undefined;
  }
  for (let node: ts.Node | undefined = innermostNodeAt(sourceFile, Math.max(0, offset - 1)); node; node = node.parent) {
    if (ts.isObjectBindingPattern(node) && node.getStart(sourceFile) < offset && offset < node.end) {
      const target = destructuredNode(node);
      const form = target ? forms.formAt(target) : undefined;
      if (!form) return undefined;
      const taken = new Set<string>();
      for (const element of node.elements) {
        if (element.getStart(sourceFile) <= offset && offset <= element.end) continue;
        const key = element.propertyName ?? element.name;
        if (ts.isIdentifier(key)) taken.add(key.text);
      }
      return { form, taken };
    }
    if (ts.isStatement(node)) break;
  }
  return undefined;
}

/** The field's own description, from its spec literal: label, window, type, unit, range, default, options. */
export function describeField(use: { form: FormInfo; field: FormField }, typeText: string): string {
  const { form, field } = use;
  const spec = field.spec?.attributes;
  const lines = ["```ts", `(field) ${field.name}: ${typeText}`, "```"];
  const label = spec ? literalText(spec.get("label")) : undefined;
  const window =
    form.windowTitle !== undefined
      ? `window '${form.windowTitle}'${form.windowId !== undefined ? ` (\`${form.windowId}\`)` : ""}`
      : form.windowId !== undefined
        ? `window \`${form.windowId}\``
        : "its window";
  lines.push(`${label !== undefined ? `**${label}**, field` : "Field"} of ${window}`, "");
  if (!spec) return lines.join("\n").trimEnd();
  const facts: string[] = [`type ${literalText(spec.get("type")) ?? (spec.has("type") ? "(computed)" : "text")}`];
  const unit = literalText(spec.get("unit"));
  if (unit !== undefined) facts.push(`unit ${unit}`);
  const range = rangeText(spec.get("min"), spec.get("max"));
  if (range) facts.push(`range ${range}`);
  if (spec.has("default")) facts.push(`default ${valueText(spec.get("default")!)}`);
  if (literal(spec.get("required")) === true) facts.push("required");
  lines.push(facts.join(" · "));
  const options = spec.get("options");
  if (options) lines.push("", `options: ${optionsText(options)}`);
  const help = literalText(spec.get("help"));
  if (help !== undefined) lines.push("", help);
  return lines.join("\n");
}

/** Shorter, for a completion item's detail line. */
export function fieldDetail(field: FormField, typeText: string): string {
  const unit = field.spec ? literalText(field.spec.attributes.get("unit")) : undefined;
  return unit !== undefined ? `${typeText} (${unit})` : typeText;
}

function literal(site: AttributeSite | undefined): StaticValue | undefined {
  return site && site.value.known ? site.value.value : undefined;
}

function literalText(site: AttributeSite | undefined): string | undefined {
  const value = literal(site);
  return typeof value === "string" ? value : undefined;
}

function valueText(site: AttributeSite): string {
  if (!site.value.known) return "(computed)";
  const value = site.value.value;
  return Array.isArray(value) ? `[${value.map((item) => JSON.stringify(item)).join(", ")}]` : (JSON.stringify(value) ?? "undefined");
}

function rangeText(min: AttributeSite | undefined, max: AttributeSite | undefined): string | undefined {
  const low = min ? (min.value.known ? String(min.value.value) : "(computed)") : undefined;
  const high = max ? (max.value.known ? String(max.value.value) : "(computed)") : undefined;
  if (low !== undefined && high !== undefined) return `${low} … ${high}`;
  if (low !== undefined) return `≥ ${low}`;
  if (high !== undefined) return `≤ ${high}`;
  return undefined;
}

function optionsText(site: AttributeSite): string {
  if (!site.value.known || !Array.isArray(site.value.value)) return "(computed)";
  return site.value.value
    .map((option) => {
      if (isStaticRecord(option)) {
        const value = JSON.stringify(option.value);
        return typeof option.label === "string" ? `${value} (${option.label})` : value;
      }
      return JSON.stringify(option);
    })
    .join(", ");
}
