// Parsing a sheet and recognising the runtime's calls in it by how they were imported, not by spelling alone:
// `import { UI as ask } from "uzoncalc"` makes `ask(...)` a pause point, and a sheet's own `UI` is not one.
import * as ts from "typescript";
import { isSheetFileName } from "../../protocol/limits";

export const RUNTIME_MODULE = "uzoncalc";
/** Units and quantities, typed as branded numbers so unit arithmetic type-checks. */
export const UNITS_MODULE = "uzoncalc/units";

export function isSheetFile(fileName: string): boolean {
  return isSheetFileName(fileName);
}

export function scriptKindOf(fileName: string): ts.ScriptKind {
  return /\.(js|mjs|cjs)$/i.test(fileName) ? ts.ScriptKind.JS : ts.ScriptKind.TS;
}

export function parseSheet(fileName: string, text: string): ts.SourceFile {
  return ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true, scriptKindOf(fileName));
}

export type RuntimeExport = "UI" | "Window";

/** Local names under which a file reaches the runtime's UI and Window. */
export interface RuntimeBindings {
  readonly named: ReadonlyMap<string, RuntimeExport>;
  /** `import * as uz from "uzoncalc"`: `uz.UI(...)`. */
  readonly namespaces: ReadonlySet<string>;
}

/** What a file imports from `module`: each local name with the export it names, and namespace imports. */
export function importsFrom(sourceFile: ts.SourceFile, module: string): { named: Map<string, string>; namespaces: Set<string> } {
  const named = new Map<string, string>();
  const namespaces = new Set<string>();
  for (const statement of sourceFile.statements) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
    if (statement.moduleSpecifier.text !== module) continue;
    const bindings = statement.importClause?.namedBindings;
    if (!bindings) continue;
    if (ts.isNamespaceImport(bindings)) namespaces.add(bindings.name.text);
    else for (const element of bindings.elements) named.set(element.name.text, (element.propertyName ?? element.name).text);
  }
  return { named, namespaces };
}

export function findRuntimeBindings(sourceFile: ts.SourceFile): RuntimeBindings {
  const { named, namespaces } = importsFrom(sourceFile, RUNTIME_MODULE);
  const runtime = new Map<string, RuntimeExport>();
  for (const [local, imported] of named) if (imported === "UI" || imported === "Window") runtime.set(local, imported);
  return { named: runtime, namespaces };
}

export function hasRuntimeImport(bindings: RuntimeBindings): boolean {
  return bindings.named.size > 0 || bindings.namespaces.size > 0;
}

/** Parentheses, `as`, `satisfies` and `!` change nothing about which value an expression is. */
export function skipOuterExpressions(node: ts.Expression): ts.Expression {
  let current = node;
  for (;;) {
    if (
      ts.isParenthesizedExpression(current) ||
      ts.isAsExpression(current) ||
      ts.isSatisfiesExpression(current) ||
      ts.isNonNullExpression(current) ||
      ts.isTypeAssertionExpression(current)
    ) {
      current = current.expression;
    } else return current;
  }
}

export function runtimeCallee(call: ts.CallExpression, bindings: RuntimeBindings): RuntimeExport | undefined {
  const callee = skipOuterExpressions(call.expression);
  if (ts.isIdentifier(callee)) return bindings.named.get(callee.text);
  if (ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression) && bindings.namespaces.has(callee.expression.text)) {
    const name = callee.name.text;
    return name === "UI" || name === "Window" ? name : undefined;
  }
  return undefined;
}

/** The deepest node whose span [getStart, end) contains `offset`, or that ends exactly there if none does. */
export function innermostNodeAt(sourceFile: ts.SourceFile, offset: number): ts.Node {
  let current: ts.Node = sourceFile;
  for (;;) {
    let next: ts.Node | undefined;
    ts.forEachChild(current, (child) => {
      if (next) return true;
      if (child.getStart(sourceFile) <= offset && offset < child.end) next = child;
      return undefined;
    });
    if (!next) return current;
    current = next;
  }
}

/** The deepest node containing the whole range [start, end). */
export function innermostNodeCovering(sourceFile: ts.SourceFile, start: number, end: number): ts.Node {
  let node = innermostNodeAt(sourceFile, start);
  while (node.parent && node.end < end) node = node.parent;
  return node;
}

export function isFunctionBoundary(node: ts.Node): boolean {
  return ts.isFunctionLike(node) || ts.isClassLike(node);
}
