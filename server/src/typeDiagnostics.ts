// TypeScript's findings on a virtual sheet, brought back to the sheet as written.
//
// `fields` mode keeps what VS Code's own TypeScript cannot see (it types every `yield UI(...)` as `any`): a
// diagnostic is kept when the expression it sits in reads a window result. "The expression it sits in" is the
// largest expression around the diagnostic that stays inside one statement (or one `if`/`for` header); "reads a
// window result" means some node in it has a window result's type (`g`, an alias of it, a parameter typed
// `typeof g`, the `yield UI(...)` itself), or is a variable initialised from one (`const s = g.span`, or a
// destructured field). `all` mode keeps everything TypeScript reports.
import * as ts from "typescript";
import { closestName } from "../../protocol/validate";
import { Code } from "./codes";
import type { SheetDiagnostic, SheetFix } from "./diagnostic";
import { destructuredNode, fieldNames, type FormInfo, type FormTypes } from "./formTypes";
import type { OffsetMap } from "./offsetMap";
import { innermostNodeAt, innermostNodeCovering, isFunctionBoundary } from "./sheetSyntax";

const PROPERTY_DOES_NOT_EXIST = 2339;
const PROPERTY_DOES_NOT_EXIST_DID_YOU_MEAN = 2551;

export interface TypeDiagnosticContext {
  checker: ts.TypeChecker;
  /** The virtual sheet, as the program holds it. */
  sourceFile: ts.SourceFile;
  map: OffsetMap;
  forms: FormTypes;
  mode: "all" | "fields";
}

export function convertTypeDiagnostics(diagnostics: readonly ts.Diagnostic[], context: TypeDiagnosticContext): SheetDiagnostic[] {
  const reads = new FormReads(context);
  const converted: SheetDiagnostic[] = [];
  for (const diagnostic of diagnostics) {
    if (diagnostic.file?.fileName !== context.sourceFile.fileName || diagnostic.start === undefined) continue;
    const severity =
      diagnostic.category === ts.DiagnosticCategory.Error
        ? "error"
        : diagnostic.category === ts.DiagnosticCategory.Warning
          ? "warning"
          : undefined;
    if (!severity) continue;
    const length = diagnostic.length ?? 0;
    const range = context.map.rangeToSource(diagnostic.start, diagnostic.start + length);
    if (!range) continue;
    const unknownField = unknownFieldAt(context, diagnostic);
    if (unknownField) {
      converted.push({
        ...range,
        severity: "error",
        code: Code.unknownField,
        message: unknownField.message,
        ...(unknownField.fix ? { fix: mapFix(unknownField.fix, context.map) } : {}),
      });
      continue;
    }
    if (context.mode === "fields" && !reads.around(diagnostic.start, diagnostic.start + length)) continue;
    const message = reads.readable(
      ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"),
      diagnostic.start,
      diagnostic.start + length,
    );
    converted.push({ ...range, severity, code: `TS${diagnostic.code}`, message });
  }
  return converted;
}

function mapFix(fix: SheetFix, map: OffsetMap): SheetFix {
  return { ...fix, start: map.toSource(fix.start) ?? fix.start, end: map.toSource(fix.end) ?? fix.end };
}

interface UnknownField {
  message: string;
  fix: SheetFix | undefined;
}

/** `g.spna`, `const { spna } = g`: TypeScript's "property does not exist" on a window result, said plainly. */
function unknownFieldAt(context: TypeDiagnosticContext, diagnostic: ts.Diagnostic): UnknownField | undefined {
  if (diagnostic.code !== PROPERTY_DOES_NOT_EXIST && diagnostic.code !== PROPERTY_DOES_NOT_EXIST_DID_YOU_MEAN) return undefined;
  const node = innermostNodeAt(context.sourceFile, diagnostic.start!);
  if (!ts.isIdentifier(node)) return undefined;
  const parent = node.parent;
  let form: FormInfo | undefined;
  let replace: (suggestion: string) => string = (suggestion) => suggestion;
  if (ts.isPropertyAccessExpression(parent) && parent.name === node) form = context.forms.formAt(parent.expression);
  else if (ts.isBindingElement(parent) && ts.isObjectBindingPattern(parent.parent) && (parent.propertyName ?? parent.name) === node) {
    const target = destructuredNode(parent.parent);
    form = target ? context.forms.formAt(target) : undefined;
    // `{ spna }` also names a local variable: keep that name, read the right field into it.
    if (!parent.propertyName) replace = (suggestion) => `${suggestion}: ${node.text}`;
  }
  if (!form) return undefined;
  return describeUnknownField(node.text, form, node, context.sourceFile, replace);
}

export function describeUnknownField(
  name: string,
  form: FormInfo,
  node: ts.Node,
  sourceFile: ts.SourceFile,
  replace: (suggestion: string) => string,
): UnknownField {
  const names = fieldNames(form);
  const suggestion = closestName(name, names);
  const where = form.windowId !== undefined ? ` in window '${form.windowId}'` : "";
  const tail = suggestion
    ? `. Did you mean '${suggestion}'?`
    : names.length > 0
      ? `; its fields are ${names.join(", ")}.`
      : "; it has no fields.";
  const fix = suggestion
    ? { title: `Change '${name}' to '${suggestion}'`, start: node.getStart(sourceFile), end: node.end, newText: replace(suggestion) }
    : undefined;
  return { message: `Unknown field '${name}'${where}${tail}`, fix };
}

class FormReads {
  private derived: Set<ts.Symbol> | undefined;
  private readonly seenForms = new Set<FormInfo>();

  constructor(private readonly context: TypeDiagnosticContext) {}

  around(start: number, end: number): boolean {
    const root = expressionRoot(innermostNodeCovering(this.context.sourceFile, start, end));
    return this.reads(root, false) || this.reads(root, true);
  }

  /** TypeScript prints a window result as `ValuesOf<readonly [{ readonly name: "span"; … }]>`: show its shape. */
  readable(message: string, start: number, end: number): string {
    if (!message.includes("ValuesOf<")) return message;
    this.around(start, end);
    const flags = ts.TypeFormatFlags.NoTruncation;
    const replacements = [...this.seenForms].map((form) => ({
      alias: this.context.checker.typeToString(form.type, undefined, flags),
      shape: this.context.checker.typeToString(form.type, undefined, flags | ts.TypeFormatFlags.InTypeAlias),
    }));
    replacements.sort((a, b) => b.alias.length - a.alias.length);
    return replacements.reduce((text, { alias, shape }) => text.split(alias).join(shape), message);
  }

  private reads(root: ts.Node, followVariables: boolean): boolean {
    const derived = followVariables ? this.derivedVariables() : undefined;
    let found = false;
    const visit = (node: ts.Node): void => {
      if (found) return;
      if (node !== root && isFunctionBoundary(node)) return;
      if (this.isFormRead(node, derived)) {
        found = true;
        return;
      }
      ts.forEachChild(node, visit);
    };
    visit(root);
    return found;
  }

  private isFormRead(node: ts.Node, derived: Set<ts.Symbol> | undefined): boolean {
    if (!(
      ts.isIdentifier(node) ||
      ts.isCallExpression(node) ||
      ts.isYieldExpression(node) ||
      ts.isPropertyAccessExpression(node) ||
      ts.isElementAccessExpression(node)
    ))
      return false;
    const form = this.context.forms.formAt(node);
    if (form) {
      this.seenForms.add(form);
      return true;
    }
    if (derived && ts.isIdentifier(node)) {
      const symbol = this.context.checker.getSymbolAtLocation(node);
      return symbol !== undefined && derived.has(symbol);
    }
    return false;
  }

  /** Variables holding something read from a window result, in source order, so chains of them are followed. */
  private derivedVariables(): Set<ts.Symbol> {
    if (this.derived) return this.derived;
    const derived = new Set<ts.Symbol>();
    this.derived = derived;
    const visit = (node: ts.Node): void => {
      if (ts.isVariableDeclaration(node)) {
        const source = node.initializer ?? iteratedExpression(node);
        if (source && this.reads(source, true)) {
          for (const name of boundNames(node.name)) {
            const symbol = this.context.checker.getSymbolAtLocation(name);
            if (symbol) derived.add(symbol);
          }
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(this.context.sourceFile);
    return derived;
  }
}

/** `for (const x of g.loads)`: the loop variable is read from the iterated expression. */
function iteratedExpression(declaration: ts.VariableDeclaration): ts.Expression | undefined {
  const list = declaration.parent;
  const statement = list?.parent;
  if (statement && (ts.isForOfStatement(statement) || ts.isForInStatement(statement)) && statement.initializer === list)
    return statement.expression;
  return undefined;
}

function boundNames(name: ts.BindingName): ts.Identifier[] {
  if (ts.isIdentifier(name)) return [name];
  const names: ts.Identifier[] = [];
  for (const element of name.elements) if (!ts.isOmittedExpression(element)) names.push(...boundNames(element.name));
  return names;
}

function expressionRoot(node: ts.Node): ts.Node {
  let current = node;
  while (current.parent && !isStatementBoundary(current.parent)) current = current.parent;
  return current;
}

function isStatementBoundary(node: ts.Node): boolean {
  return (
    ts.isSourceFile(node) ||
    ts.isBlock(node) ||
    ts.isStatement(node) ||
    isFunctionBoundary(node) ||
    ts.isCaseClause(node) ||
    ts.isDefaultClause(node) ||
    ts.isModuleBlock(node)
  );
}
