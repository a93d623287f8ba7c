// The window spec check: what `Window(...)` would throw at run time (protocol/fields.ts normalizeWindow), found
// while typing, each with a stable code and the range of the offending value. TypeScript sees these too, but as
// "Type '"numbr"' is not assignable to type 'FieldType | undefined'", or not at all (min > max, a default
// outside the options); this check says what is wrong in the sheet author's terms.
import * as ts from "typescript";
import { FIELD_TYPES, isFieldType, type FieldType } from "../../protocol/fields";
import { closestName } from "../../protocol/validate";
import { Code } from "./codes";
import type { SheetDiagnostic, SheetFix } from "./diagnostic";
import { isStaticRecord, type StaticValue } from "./staticValues";
import { isFunctionBoundary } from "./sheetSyntax";
import { knownNumber, knownString, staticWindowId, type AttributeSite, type ObjectSite, type WindowSite } from "./windowSpecs";

const WINDOW_ATTRIBUTES = ["title", "id", "caption", "fields"];
const FIELD_ATTRIBUTES = ["name", "type", "label", "default", "placeholder", "help", "required", "options", "unit", "min", "max", "step"];
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const WINDOW_ID = /^[A-Za-z0-9_-]{1,128}$/;

export interface SpecFinding extends SheetDiagnostic {
  /** The field or window literal the finding is about: TypeScript's own complaints inside it are redundant. */
  owner: ts.ObjectLiteralExpression;
}

export function checkWindowSites(sourceFile: ts.SourceFile, sites: readonly WindowSite[]): SpecFinding[] {
  const findings: SpecFinding[] = [];
  for (const site of sites) checkWindow(sourceFile, site, findings);
  checkDuplicateWindowIds(sourceFile, sites, findings);
  return findings;
}

class Reporter {
  constructor(
    private readonly sourceFile: ts.SourceFile,
    private readonly findings: SpecFinding[],
    private readonly owner: ts.ObjectLiteralExpression,
  ) {}

  at(node: ts.Node, code: string, message: string, severity: "error" | "warning" = "error", fix?: SheetFix): void {
    this.findings.push({
      start: node.getStart(this.sourceFile),
      end: node.end,
      severity,
      code,
      message,
      owner: this.owner,
      ...(fix ? { fix } : {}),
    });
  }

  replaceFix(node: ts.Node, newText: string, title: string): SheetFix {
    return { title, start: node.getStart(this.sourceFile), end: node.end, newText };
  }
}

function describe(value: StaticValue): string {
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return "an array";
  if (isStaticRecord(value)) return "an object";
  return JSON.stringify(value);
}

/** The same literal with its quote character kept: `'numbr'` becomes `'number'`. */
function quotedLike(node: ts.Node, sourceFile: ts.SourceFile, text: string): string {
  const quote = node.getText(sourceFile)[0];
  return quote === "'" || quote === "`" ? `${quote}${text}${quote}` : JSON.stringify(text);
}

function checkWindow(sourceFile: ts.SourceFile, site: WindowSite, findings: SpecFinding[]): void {
  const spec = site.spec;
  const report = new Reporter(sourceFile, findings, spec.node);
  const title = spec.attributes.get("title");
  if (!title) {
    if (!spec.open) report.at(site.callee, Code.missingTitle, "A window needs a `title` (a non-empty string).");
  } else if (title.value.known && (typeof title.value.value !== "string" || title.value.value.trim() === "")) {
    report.at(title.valueNode, Code.missingTitle, `A window needs a \`title\` (a non-empty string), got ${describe(title.value.value)}.`);
  }
  const id = spec.attributes.get("id");
  if (id && id.value.known && id.value.value !== undefined && (typeof id.value.value !== "string" || !WINDOW_ID.test(id.value.value))) {
    report.at(id.valueNode, Code.invalidWindowId, `Window id ${describe(id.value.value)} must be 1–128 letters, digits, '_' or '-'.`);
  }
  const caption = spec.attributes.get("caption");
  if (caption && caption.value.known && caption.value.value != null && typeof caption.value.value !== "string") {
    report.at(caption.valueNode, Code.wrongAttributeType, `\`caption\` must be a string, got ${describe(caption.value.value)}.`);
  }
  reportUnknownAttributes(report, spec, WINDOW_ATTRIBUTES, "window");

  const fields = spec.attributes.get("fields");
  if (!fields) {
    if (!spec.open) report.at(site.callee, Code.missingFields, "A window needs `fields`, an array of field specs.");
    return;
  }
  if (fields.value.known && !Array.isArray(fields.value.value)) {
    report.at(fields.valueNode, Code.missingFields, `\`fields\` must be an array of field specs, got ${describe(fields.value.value)}.`);
    return;
  }
  if (!site.fields) return;
  const windowName = knownString(title) ?? staticWindowId(spec);
  const seen = new Map<string, number>();
  for (const entry of site.fields) {
    if (entry.kind === "other") {
      if (entry.value.known)
        report.at(
          entry.node,
          Code.wrongAttributeType,
          `Field ${entry.index + 1} must be an object like { name, type }, got ${describe(entry.value.value)}.`,
        );
      continue;
    }
    const name = checkField(sourceFile, entry.site, entry.index, findings);
    if (name === undefined) continue;
    const first = seen.get(name.value);
    if (first === undefined) seen.set(name.value, entry.index);
    else {
      const where = windowName !== undefined ? ` in window '${windowName}'` : "";
      new Reporter(sourceFile, findings, entry.site.node).at(
        name.node,
        Code.duplicateFieldName,
        `Field name '${name.value}' is already used${where} (field ${first + 1}).`,
      );
    }
  }
}

function reportUnknownAttributes(report: Reporter, site: ObjectSite, known: readonly string[], what: string): void {
  for (const attribute of site.attributes.values()) {
    if (known.includes(attribute.key)) continue;
    const guess = closestName(attribute.key, known);
    const fix = guess ? report.replaceFix(attribute.keyNode, guess, `Change '${attribute.key}' to '${guess}'`) : undefined;
    report.at(
      attribute.keyNode,
      Code.unknownAttribute,
      `Unknown ${what} attribute '${attribute.key}'${guess ? `. Did you mean '${guess}'?` : `; a ${what} takes ${known.join(", ")}.`}`,
      "warning",
      fix,
    );
  }
}

/** Checks one field literal; returns its name when it is a usable static one (for the duplicate check). */
function checkField(
  sourceFile: ts.SourceFile,
  site: ObjectSite,
  index: number,
  findings: SpecFinding[],
): { value: string; node: ts.Node } | undefined {
  const report = new Reporter(sourceFile, findings, site.node);
  const attributes = site.attributes;
  const nameSite = attributes.get("name");
  let name: { value: string; node: ts.Node } | undefined;
  if (!nameSite) {
    if (!site.open) report.at(site.node, Code.missingFieldName, `Field ${index + 1} has no \`name\`.`);
  } else if (nameSite.value.known) {
    const value = nameSite.value.value;
    if (typeof value !== "string" || value === "")
      report.at(nameSite.valueNode, Code.missingFieldName, `Field ${index + 1} has no usable \`name\` (got ${describe(value)}).`);
    else if (!IDENTIFIER.test(value)) {
      report.at(
        nameSite.valueNode,
        Code.fieldNameNotIdentifier,
        `Field name '${value}' is not an identifier (letters, digits, '_' or '$', not starting with a digit): the sheet could not read it as g.${value}.`,
      );
    } else name = { value, node: nameSite.valueNode };
  }
  const label = name ? `Field '${name.value}'` : `Field ${index + 1}`;
  reportUnknownAttributes(report, site, FIELD_ATTRIBUTES, "field");

  const type = fieldType(sourceFile, report, attributes.get("type"), label);
  for (const key of ["label", "placeholder", "help", "unit"]) {
    const attribute = attributes.get(key);
    if (attribute?.value.known && attribute.value.value != null && typeof attribute.value.value !== "string") {
      report.at(
        attribute.valueNode,
        Code.wrongAttributeType,
        `${label}: \`${key}\` must be a string, got ${describe(attribute.value.value)}.`,
      );
    }
  }
  const required = attributes.get("required");
  if (required?.value.known && required.value.value != null && typeof required.value.value !== "boolean") {
    report.at(
      required.valueNode,
      Code.wrongAttributeType,
      `${label}: \`required\` must be true or false, got ${describe(required.value.value)}.`,
    );
  }
  for (const key of ["min", "max", "step"]) {
    const attribute = attributes.get(key);
    if (attribute?.value.known && attribute.value.value != null && knownNumber(attribute) === undefined) {
      report.at(
        attribute.valueNode,
        Code.wrongAttributeType,
        `${label}: \`${key}\` must be a finite number, got ${describe(attribute.value.value)}.`,
      );
    }
  }
  const step = knownNumber(attributes.get("step"));
  if (step !== undefined && step <= 0)
    report.at(attributes.get("step")!.valueNode, Code.stepNotPositive, `${label}: \`step\` must be greater than 0, got ${step}.`);
  const min = knownNumber(attributes.get("min"));
  const max = knownNumber(attributes.get("max"));
  if (min !== undefined && max !== undefined && min > max) {
    report.at(attributes.get("min")!.valueNode, Code.minAboveMax, `${label}: min (${min}) is greater than max (${max}).`);
  }
  const options = checkOptions(report, attributes.get("options"), type, label, site, attributes.get("type"));
  if (type !== undefined) checkDefault(sourceFile, report, attributes.get("default"), type, label, { min, max, options });
  return name;
}

function fieldType(sourceFile: ts.SourceFile, report: Reporter, site: AttributeSite | undefined, label: string): FieldType | undefined {
  if (!site) return "text";
  if (!site.value.known) return undefined;
  const value = site.value.value;
  if (value === undefined) return "text";
  if (isFieldType(value)) return value;
  const guess = typeof value === "string" ? closestName(value, FIELD_TYPES) : undefined;
  const fix = guess
    ? report.replaceFix(site.valueNode, quotedLike(site.valueNode, sourceFile, guess), `Change type to '${guess}'`)
    : undefined;
  const what = typeof value === "string" ? `'${value}'` : describe(value);
  report.at(
    site.valueNode,
    Code.unknownFieldType,
    `${label}: unknown field type ${what}.${guess ? ` Did you mean '${guess}'?` : ""} Field types are ${FIELD_TYPES.join(", ")}.`,
    "error",
    fix,
  );
  return undefined;
}

interface KnownOptions {
  /** Every option value, when the whole list is literal. */
  values: StaticValue[] | undefined;
}

function checkOptions(
  report: Reporter,
  site: AttributeSite | undefined,
  type: FieldType | undefined,
  label: string,
  field: ObjectSite,
  typeSite: AttributeSite | undefined,
): KnownOptions {
  const isSelect = type === "selectOne" || type === "selectMany";
  if (!site || (site.value.known && site.value.value == null)) {
    if (isSelect && !field.open)
      report.at(typeSite?.valueNode ?? field.node, Code.selectWithoutOptions, `${label}: a ${type} field needs \`options\`.`);
    return { values: isSelect ? [] : undefined };
  }
  if (type !== undefined && !isSelect) {
    report.at(site.keyNode, Code.optionsOnNonSelect, `${label}: \`options\` only applies to selectOne and selectMany fields, not ${type}.`);
  }
  const list = skipToArray(site.valueNode);
  if (!list) {
    if (site.value.known)
      report.at(site.valueNode, Code.wrongAttributeType, `${label}: \`options\` must be an array, got ${describe(site.value.value)}.`);
    return { values: undefined };
  }
  const values: StaticValue[] = [];
  let complete = true;
  list.elements.forEach((element, i) => {
    if (ts.isSpreadElement(element)) {
      complete = false;
      return;
    }
    const option = readOption(element);
    if (option === "unknown") {
      complete = false;
      return;
    }
    if (option === "invalid") {
      report.at(element, Code.wrongAttributeType, `${label}: option ${i + 1} must be a string, a number, true/false or { value, label }.`);
      return;
    }
    if (values.includes(option)) report.at(element, Code.duplicateOption, `${label}: option ${describe(option)} is listed twice.`);
    values.push(option);
  });
  return { values: complete ? values : undefined };
}

function skipToArray(node: ts.Expression): ts.ArrayLiteralExpression | undefined {
  let current = node;
  while (ts.isParenthesizedExpression(current) || ts.isAsExpression(current) || ts.isSatisfiesExpression(current))
    current = current.expression;
  return ts.isArrayLiteralExpression(current) ? current : undefined;
}

function readOption(element: ts.Expression): StaticValue | "unknown" | "invalid" {
  let node = element;
  while (ts.isParenthesizedExpression(node) || ts.isAsExpression(node) || ts.isSatisfiesExpression(node)) node = node.expression;
  if (ts.isObjectLiteralExpression(node)) {
    const value = node.properties.find((p) => ts.isPropertyAssignment(p) && ts.isIdentifier(p.name) && p.name.text === "value");
    if (!value || !ts.isPropertyAssignment(value)) return node.properties.some((p) => !ts.isPropertyAssignment(p)) ? "unknown" : "invalid";
    return readOption(value.initializer);
  }
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isNumericLiteral(node)) return Number(node.text);
  if (ts.isPrefixUnaryExpression(node) && node.operator === ts.SyntaxKind.MinusToken && ts.isNumericLiteral(node.operand))
    return -Number(node.operand.text);
  if (node.kind === ts.SyntaxKind.TrueKeyword) return true;
  if (node.kind === ts.SyntaxKind.FalseKeyword) return false;
  if (node.kind === ts.SyntaxKind.NullKeyword || ts.isArrayLiteralExpression(node)) return "invalid";
  return "unknown";
}

function checkDefault(
  sourceFile: ts.SourceFile,
  report: Reporter,
  site: AttributeSite | undefined,
  type: FieldType,
  label: string,
  limits: { min: number | undefined; max: number | undefined; options: KnownOptions },
): void {
  if (!site || !site.value.known || site.value.value == null) return;
  const value = site.value.value;
  const wrong = (expected: string) =>
    report.at(site.valueNode, Code.wrongAttributeType, `${label}: default ${describe(value)} is not ${expected}.`);
  switch (type) {
    case "number": {
      if (typeof value !== "number" || !Number.isFinite(value)) return wrong("a number");
      if (limits.min !== undefined && value < limits.min)
        report.at(site.valueNode, Code.defaultOutOfRange, `${label}: default ${value} is below min ${limits.min}.`);
      else if (limits.max !== undefined && value > limits.max)
        report.at(site.valueNode, Code.defaultOutOfRange, `${label}: default ${value} is above max ${limits.max}.`);
      return;
    }
    case "boolean":
      if (typeof value !== "boolean") wrong("true or false");
      return;
    case "selectOne":
      if (limits.options.values) reportNotAnOption(sourceFile, report, site.valueNode, value, limits.options.values, label);
      return;
    case "selectMany": {
      const list = skipToArray(site.valueNode);
      if (!Array.isArray(value) || !list) return wrong("an array of option values");
      const options = limits.options.values;
      if (options) list.elements.forEach((element, i) => reportNotAnOption(sourceFile, report, element, value[i], options, label));
      return;
    }
    default:
      if (typeof value !== "string") wrong("a string");
  }
}

function reportNotAnOption(
  sourceFile: ts.SourceFile,
  report: Reporter,
  node: ts.Node,
  value: StaticValue,
  options: StaticValue[],
  label: string,
): void {
  if (options.includes(value)) return;
  const strings = options.filter((o): o is string => typeof o === "string");
  const guess = typeof value === "string" ? closestName(value, strings) : undefined;
  const fix = guess ? report.replaceFix(node, quotedLike(node, sourceFile, guess), `Change default to '${guess}'`) : undefined;
  const listed = options.length > 0 ? options.map(describe).join(", ") : "(none)";
  report.at(
    node,
    Code.defaultNotAnOption,
    `${label}: default ${describe(value)} is not among its options: ${listed}.${guess ? ` Did you mean '${guess}'?` : ""}`,
    "error",
    fix,
  );
}

/**
 * Two windows with one id in the same run is a sheet error (SPEC §1). Statically we only see that two specs
 * could both be reached (branches may exclude each other), hence a warning, scoped to one top-level function.
 */
function checkDuplicateWindowIds(sourceFile: ts.SourceFile, sites: readonly WindowSite[], findings: SpecFinding[]): void {
  const seen = new Map<string, WindowSite>();
  for (const site of sites) {
    const id = staticWindowId(site.spec);
    if (id === undefined) continue;
    const key = `${outermostFunctionStart(site.call)}\u0000${id}`;
    const first = seen.get(key);
    if (!first) {
      seen.set(key, site);
      continue;
    }
    const at = site.spec.attributes.get("id")?.valueNode ?? site.spec.attributes.get("title")?.valueNode ?? site.callee;
    const line = sourceFile.getLineAndCharacterOfPosition(first.call.getStart(sourceFile)).line + 1;
    new Reporter(sourceFile, findings, site.spec.node).at(
      at,
      Code.duplicateWindowId,
      `Window id '${id}' is also used by the window on line ${line}; if both are reached in one run the sheet stops. Give one of them its own \`id\`.`,
      "warning",
    );
  }
}

function outermostFunctionStart(node: ts.Node): number {
  let outermost = -1;
  for (let current: ts.Node | undefined = node.parent; current; current = current.parent) {
    if (isFunctionBoundary(current)) outermost = current.pos;
  }
  return outermost;
}
