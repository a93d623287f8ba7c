// Values a window spec spells out literally. Anything computed (a variable, a call, a template with
// substitutions) is "not known", and every check that would need it is skipped: no guessing, no false alarms.
import * as ts from "typescript";
import { skipOuterExpressions } from "./sheetSyntax";

export type StaticValue = string | number | boolean | null | undefined | StaticValue[] | { [key: string]: StaticValue };

export type Evaluated = { known: true; value: StaticValue } | { known: false };

const UNKNOWN: Evaluated = { known: false };

export function evaluateStatic(expression: ts.Expression): Evaluated {
  const node = skipOuterExpressions(expression);
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return { known: true, value: node.text };
  if (ts.isNumericLiteral(node)) return { known: true, value: Number(node.text) };
  if (ts.isPrefixUnaryExpression(node) && (node.operator === ts.SyntaxKind.MinusToken || node.operator === ts.SyntaxKind.PlusToken)) {
    const operand = evaluateStatic(node.operand);
    if (!operand.known || typeof operand.value !== "number") return UNKNOWN;
    return { known: true, value: node.operator === ts.SyntaxKind.MinusToken ? -operand.value : operand.value };
  }
  if (node.kind === ts.SyntaxKind.TrueKeyword) return { known: true, value: true };
  if (node.kind === ts.SyntaxKind.FalseKeyword) return { known: true, value: false };
  if (node.kind === ts.SyntaxKind.NullKeyword) return { known: true, value: null };
  if (ts.isIdentifier(node) && node.text === "undefined") return { known: true, value: undefined };
  if (ts.isArrayLiteralExpression(node)) {
    const items: StaticValue[] = [];
    for (const element of node.elements) {
      if (ts.isSpreadElement(element) || ts.isOmittedExpression(element)) return UNKNOWN;
      const item = evaluateStatic(element);
      if (!item.known) return UNKNOWN;
      items.push(item.value);
    }
    return { known: true, value: items };
  }
  if (ts.isObjectLiteralExpression(node)) {
    const record: { [key: string]: StaticValue } = {};
    for (const property of node.properties) {
      if (!ts.isPropertyAssignment(property)) return UNKNOWN;
      const key = propertyKey(property.name);
      if (key === undefined) return UNKNOWN;
      const value = evaluateStatic(property.initializer);
      if (!value.known) return UNKNOWN;
      record[key] = value.value;
    }
    return { known: true, value: record };
  }
  return UNKNOWN;
}

/** The key of `name: …`, `"name": …` or `0: …`; undefined for a computed key. */
export function propertyKey(name: ts.PropertyName): string | undefined {
  if (ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name) || ts.isNoSubstitutionTemplateLiteral(name))
    return name.text;
  if (ts.isComputedPropertyName(name)) {
    const key = evaluateStatic(name.expression);
    return key.known && (typeof key.value === "string" || typeof key.value === "number") ? String(key.value) : undefined;
  }
  return undefined;
}

export function isStaticRecord(value: StaticValue): value is { [key: string]: StaticValue } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
