// Window specs as written: where each `Window({...})` (or `UI({...})`) is, and what each attribute literally says,
// with the node it came from so every finding and every "go to definition" lands on the exact characters.
import * as ts from "typescript";
import { slugify } from "../../protocol/fields";
import { evaluateStatic, propertyKey, type Evaluated, type StaticValue } from "./staticValues";
import { runtimeCallee, skipOuterExpressions, type RuntimeBindings } from "./sheetSyntax";

export interface AttributeSite {
  key: string;
  /** The whole `key: value` property. */
  property: ts.PropertyAssignment | ts.ShorthandPropertyAssignment;
  keyNode: ts.Node;
  valueNode: ts.Expression;
  value: Evaluated;
}

export interface ObjectSite {
  node: ts.ObjectLiteralExpression;
  attributes: Map<string, AttributeSite>;
  /** A spread or computed key: attributes may exist that we cannot see, so "missing" cannot be claimed. */
  open: boolean;
}

export type FieldEntry =
  { kind: "field"; index: number; site: ObjectSite } | { kind: "other"; index: number; node: ts.Expression; value: Evaluated };

export interface WindowSite {
  call: ts.CallExpression;
  callee: ts.Expression;
  spec: ObjectSite;
  /** Undefined when the field list is not an array literal (built at run time). */
  fields: FieldEntry[] | undefined;
}

export function readObjectSite(node: ts.ObjectLiteralExpression): ObjectSite {
  const attributes = new Map<string, AttributeSite>();
  let open = false;
  for (const property of node.properties) {
    if (ts.isPropertyAssignment(property)) {
      const key = propertyKey(property.name);
      if (key === undefined) {
        open = true;
        continue;
      }
      attributes.set(key, {
        key,
        property,
        keyNode: property.name,
        valueNode: property.initializer,
        value: evaluateStatic(property.initializer),
      });
    } else if (ts.isShorthandPropertyAssignment(property)) {
      attributes.set(property.name.text, {
        key: property.name.text,
        property,
        keyNode: property.name,
        valueNode: property.name,
        value: { known: false },
      });
    } else open = true;
  }
  return { node, attributes, open };
}

/** Every window spec in a file: calls to the runtime's Window, and UI called directly on an object literal. */
export function findWindowSites(sourceFile: ts.SourceFile, bindings: RuntimeBindings): WindowSite[] {
  const sites: WindowSite[] = [];
  if (bindings.named.size === 0 && bindings.namespaces.size === 0) return sites;
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && node.arguments.length > 0) {
      const callee = runtimeCallee(node, bindings);
      const argument = skipOuterExpressions(node.arguments[0]!);
      if (callee && ts.isObjectLiteralExpression(argument)) {
        const spec = readObjectSite(argument);
        sites.push({ call: node, callee: node.expression, spec, fields: readFieldEntries(spec) });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return sites;
}

function readFieldEntries(spec: ObjectSite): FieldEntry[] | undefined {
  const fields = spec.attributes.get("fields");
  if (!fields) return undefined;
  const list = skipOuterExpressions(fields.valueNode);
  if (!ts.isArrayLiteralExpression(list)) return undefined;
  return list.elements.map((element, index): FieldEntry => {
    const item = skipOuterExpressions(element);
    if (ts.isObjectLiteralExpression(item)) return { kind: "field", index, site: readObjectSite(item) };
    return { kind: "other", index, node: element, value: ts.isSpreadElement(element) ? { known: false } : evaluateStatic(element) };
  });
}

/** The window options literal that a field spec literal sits in (`Window({ fields: [ here ] })`), if it does. */
export function windowSpecOfField(field: ts.ObjectLiteralExpression): ts.ObjectLiteralExpression | undefined {
  let node: ts.Node = field;
  while (node.parent && isTransparent(node.parent)) node = node.parent;
  const list = node.parent;
  if (!list || !ts.isArrayLiteralExpression(list)) return undefined;
  node = list;
  while (node.parent && isTransparent(node.parent)) node = node.parent;
  const property = node.parent;
  if (!property || !ts.isPropertyAssignment(property) || propertyKey(property.name) !== "fields") return undefined;
  return ts.isObjectLiteralExpression(property.parent) ? property.parent : undefined;
}

function isTransparent(node: ts.Node): boolean {
  return (
    ts.isParenthesizedExpression(node) || ts.isAsExpression(node) || ts.isSatisfiesExpression(node) || ts.isTypeAssertionExpression(node)
  );
}

export function knownString(site: AttributeSite | undefined): string | undefined {
  return site && site.value.known && typeof site.value.value === "string" ? site.value.value : undefined;
}

export function knownNumber(site: AttributeSite | undefined): number | undefined {
  return site && site.value.known && typeof site.value.value === "number" && Number.isFinite(site.value.value)
    ? site.value.value
    : undefined;
}

export function knownValue(site: AttributeSite | undefined): StaticValue | undefined {
  return site && site.value.known ? site.value.value : undefined;
}

/** The id a window gets at run time (SPEC §1): `id`, else the slug of the title; undefined when not static. */
export function staticWindowId(spec: ObjectSite): string | undefined {
  const id = spec.attributes.get("id");
  if (id) return knownString(id);
  const title = knownString(spec.attributes.get("title"));
  if (title === undefined) return undefined;
  const slug = slugify(title);
  return slug === "" ? undefined : slug;
}
