// Unit dimensions checked before the run (UZC3xxx): the dimension of every expression built from `uzoncalc/units`
// quantities (the named units, unit("…"), arithmetic, powers, Math.sqrt/abs/min/max, .to()/.in(), through const
// and let and local helpers' returns), and what the run would throw as a unit error: adding, subtracting or
// comparing different dimensions, converting into a unit of another kind, a quantity where Math wants a plain
// number. What it cannot infer stays unknown and says nothing: a finding here is one the run would also make.
//
// It reads the virtual sheet with TypeScript's checker only to know which values are plain numbers (a form's
// number field, a number literal): the dimensions themselves are this file's own small interpretation.
import * as ts from "typescript";
import {
  describeDimensions,
  parseUnit,
  sameDimensions,
  unitDisplay,
  unitPowers,
  type Dimensions,
  type UnitPower,
} from "../../protocol/units";
import { Code } from "./codes";
import type { SheetDiagnostic } from "./diagnostic";
import type { OffsetMap } from "./offsetMap";
import type { FormTypes } from "./formTypes";
import { importsFrom, UNITS_MODULE } from "./sheetSyntax";

/** What an expression is, as far as units go: a quantity of known dimensions (and how its unit reads), or a plain number. */
export type Dimensioned = { kind: "quantity"; dims: Dimensions; powers: UnitPower[] } | { kind: "plain"; zero: boolean };

const PLAIN: Dimensioned = { kind: "plain", zero: false };
/** Math functions that keep their argument's dimension, and those that want an angle or a plain number. */
const SAME_DIMENSION = new Set(["abs", "round", "floor", "ceil", "trunc"]);
const PLAIN_ONLY = new Set(["sin", "cos", "tan", "asin", "acos", "atan", "exp", "log", "log10", "log2", "sinh", "cosh", "tanh"]);
const ANGLE = [0, 0, 0, 0, 0, 0, 0, 1];

interface Context {
  checker: ts.TypeChecker;
  /** Which values are a window's (a form's number field is a plain number). */
  forms: FormTypes;
  sourceFile: ts.SourceFile;
  map: OffsetMap;
  /** Local names of `uzoncalc/units` exports: a unit's name → the unit, or the `unit` function. */
  units: Map<string, string | "unit-function">;
  namespaces: Set<string>;
  /** What each const (or never reassigned let), and each local helper's return, was found to be. */
  known: Map<ts.Symbol, Dimensioned | undefined>;
  reassigned: Set<ts.Symbol>;
  findings: SheetDiagnostic[];
  /** Each expression read once: a finding is made where it is, not again by the expressions around it. */
  read: Map<ts.Node, Dimensioned | undefined>;
}

/** The sheet's unit findings, in source offsets of the sheet as written. */
/** `within` (virtual spans): only expressions overlapping them, for a region check. */
export function dimensionFindings(
  sourceFile: ts.SourceFile,
  checker: ts.TypeChecker,
  forms: FormTypes,
  map: OffsetMap,
  within?: readonly ts.TextSpan[],
): SheetDiagnostic[] {
  const context = bindUnits(sourceFile, checker, forms, map);
  if (context.units.size === 0 && context.namespaces.size === 0) return [];
  const visit = (node: ts.Node): void => {
    if (within && !within.some((span) => node.pos < span.start + span.length && node.end > span.start)) return;
    if (ts.isExpression(node) && !isInsideExpression(node)) {
      dimensionOf(node, context);
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return context.findings;
}

/** The dimension and display unit of the expression at `offset` (virtual offsets), for hover; undefined when not known. */
export function dimensionAt(
  sourceFile: ts.SourceFile,
  checker: ts.TypeChecker,
  forms: FormTypes,
  node: ts.Node,
): { dims: string; unit: string } | undefined {
  const context = bindUnits(sourceFile, checker, forms, undefined);
  if (context.units.size === 0 && context.namespaces.size === 0) return undefined;
  const found = ts.isExpression(node) ? dimensionOf(node, context) : undefined;
  if (!found || found.kind !== "quantity") return undefined;
  return { dims: describeDimensions(found.dims), unit: unitDisplay(found.powers) || "1" };
}

function bindUnits(sourceFile: ts.SourceFile, checker: ts.TypeChecker, forms: FormTypes, map: OffsetMap | undefined): Context {
  const units = new Map<string, string | "unit-function">();
  const { named, namespaces } = importsFrom(sourceFile, UNITS_MODULE);
  for (const [local, imported] of named) {
    if (imported === "unit") units.set(local, "unit-function");
    else if (parseUnit(imported)) units.set(local, imported);
  }
  const reassigned = new Set<ts.Symbol>();
  const findAssignments = (node: ts.Node): void => {
    const target =
      ts.isBinaryExpression(node) &&
      node.operatorToken.kind >= ts.SyntaxKind.FirstAssignment &&
      node.operatorToken.kind <= ts.SyntaxKind.LastAssignment
        ? node.left
        : (ts.isPrefixUnaryExpression(node) || ts.isPostfixUnaryExpression(node)) &&
            (node.operator === ts.SyntaxKind.PlusPlusToken || node.operator === ts.SyntaxKind.MinusMinusToken)
          ? node.operand
          : undefined;
    if (target && ts.isIdentifier(target)) {
      const symbol = checker.getSymbolAtLocation(target);
      if (symbol) reassigned.add(symbol);
    }
    ts.forEachChild(node, findAssignments);
  };
  // A sheet without units has nothing to infer: no walk (it asks the checker about every assignment).
  if (units.size > 0 || namespaces.size > 0) findAssignments(sourceFile);
  return {
    checker,
    forms,
    sourceFile,
    map: map ?? emptyMap,
    units,
    namespaces,
    known: new Map(),
    reassigned,
    findings: [],
    read: new Map(),
  };
}

const emptyMap = { rangeToSource: (start: number, end: number) => ({ start, end }) } as unknown as OffsetMap;

function isInsideExpression(node: ts.Node): boolean {
  const parent = node.parent;
  return (
    !!parent && ts.isExpression(parent) && !ts.isArrowFunction(parent) && !ts.isFunctionExpression(parent) && !ts.isClassExpression(parent)
  );
}

function quantityOf(unitText: string): Dimensioned | undefined {
  const unit = parseUnit(unitText);
  const powers = unitPowers(unitText);
  return unit && powers ? { kind: "quantity", dims: unit.dims, powers } : undefined;
}

function dimensionOf(node: ts.Expression, context: Context): Dimensioned | undefined {
  if (context.read.has(node)) return context.read.get(node);
  context.read.set(node, undefined);
  const found = read(node, context);
  context.read.set(node, found);
  return found;
}

function read(node: ts.Expression, context: Context): Dimensioned | undefined {
  if (ts.isParenthesizedExpression(node) || ts.isAsExpression(node) || ts.isNonNullExpression(node) || ts.isSatisfiesExpression(node))
    return dimensionOf(node.expression, context);
  if (ts.isNumericLiteral(node)) return { kind: "plain", zero: Number(node.text) === 0 };
  if (ts.isIdentifier(node)) return identifier(node, context);
  if (ts.isPropertyAccessExpression(node)) {
    if (ts.isIdentifier(node.expression) && context.namespaces.has(node.expression.text)) {
      const unit = node.name.text;
      return parseUnit(unit) ? quantityOf(unit) : undefined;
    }
    dimensionOf(node.expression, context);
    return context.forms.formOf(context.checker.getTypeAtLocation(node.expression)) ? plainNumber(node, context) : undefined;
  }
  if (ts.isPrefixUnaryExpression(node)) {
    const operand = dimensionOf(node.operand, context);
    if (node.operator === ts.SyntaxKind.MinusToken || node.operator === ts.SyntaxKind.PlusToken) return operand;
    return undefined;
  }
  if (ts.isConditionalExpression(node)) {
    dimensionOf(node.condition, context);
    const yes = dimensionOf(node.whenTrue, context);
    const no = dimensionOf(node.whenFalse, context);
    return yes && no && same(yes, no) ? yes : undefined;
  }
  if (ts.isBinaryExpression(node)) return binary(node, context);
  if (ts.isCallExpression(node)) return call(node, context);
  // Anything else is read for what it contains (an array of quantities, a template), and is itself unknown.
  ts.forEachChild(node, (child) => {
    if (ts.isExpression(child)) dimensionOf(child, context);
    else visitStatements(child, context);
  });
  return undefined;
}

/** Statements inside an expression (an arrow function's body) are read too. */
function visitStatements(node: ts.Node, context: Context): void {
  if (ts.isExpression(node)) {
    dimensionOf(node, context);
    return;
  }
  ts.forEachChild(node, (child) => visitStatements(child, context));
}

function identifier(node: ts.Identifier, context: Context): Dimensioned | undefined {
  const unit = context.units.get(node.text);
  if (unit !== undefined && unit !== "unit-function") {
    // Only the import itself: a local of the same name shadows it.
    const symbol = context.checker.getSymbolAtLocation(node);
    const declaration = symbol?.declarations?.[0];
    if (declaration && ts.isImportSpecifier(declaration)) return quantityOf(unit);
  }
  const symbol = context.checker.getSymbolAtLocation(node);
  if (symbol) {
    if (context.known.has(symbol)) return context.known.get(symbol);
    const declaration = symbol.valueDeclaration;
    if (declaration && ts.isVariableDeclaration(declaration) && declaration.initializer && ts.isIdentifier(declaration.name)) {
      const constant = (ts.getCombinedNodeFlags(declaration) & ts.NodeFlags.Const) !== 0 || !context.reassigned.has(symbol);
      if (constant && declaration.getSourceFile() === context.sourceFile) {
        context.known.set(symbol, undefined);
        const value = dimensionOf(declaration.initializer, context);
        context.known.set(symbol, value);
        if (value) return value;
      }
    }
    // `const { span } = g`: a field of a window, destructured.
    if (declaration && ts.isBindingElement(declaration) && ts.isObjectBindingPattern(declaration.parent)) {
      const holder = declaration.parent.parent;
      if (
        ts.isVariableDeclaration(holder) &&
        holder.initializer &&
        context.forms.formOf(context.checker.getTypeAtLocation(holder.initializer))
      )
        return plainNumber(node, context);
    }
  }
  return undefined;
}

/**
 * A form's number field is a plain number. Only there is TypeScript's `number` taken at its word: a product of
 * quantities is typed `number` too, and is a quantity when it runs.
 */
function plainNumber(node: ts.Expression, context: Context): Dimensioned | undefined {
  // An optional field is `number | null`: when it runs it is the number or nothing, never a quantity.
  const type = context.checker.getNonNullableType(context.checker.getTypeAtLocation(node));
  return type.flags & ts.TypeFlags.NumberLike && !(type.flags & ts.TypeFlags.Intersection) ? PLAIN : undefined;
}

function same(a: Dimensioned, b: Dimensioned): boolean {
  if (a.kind === "plain" || b.kind === "plain") return a.kind === b.kind;
  return sameDimensions(a.dims, b.dims);
}

function describe(value: Dimensioned): string {
  if (value.kind === "plain") return "a plain number";
  return `${describeDimensions(value.dims)} (${unitDisplay(value.powers) || "1"})`;
}

function merge(a: UnitPower[], b: UnitPower[], sign: 1 | -1): UnitPower[] {
  const out = a.map((unit) => ({ ...unit }));
  for (const unit of b) {
    const found = out.find((candidate) => candidate.s === unit.s);
    if (found) found.p += sign * unit.p;
    else out.push({ s: unit.s, p: sign * unit.p });
  }
  return out.filter((unit) => unit.p !== 0);
}

function binary(node: ts.BinaryExpression, context: Context): Dimensioned | undefined {
  const left = dimensionOf(node.left, context);
  const right = dimensionOf(node.right, context);
  const op = node.operatorToken.kind;
  switch (op) {
    case ts.SyntaxKind.AsteriskToken:
    case ts.SyntaxKind.SlashToken: {
      if (!left || !right) return undefined;
      const sign = op === ts.SyntaxKind.AsteriskToken ? 1 : -1;
      if (left.kind === "plain" && right.kind === "plain") return PLAIN;
      if (left.kind === "plain") return sign === 1 ? right : invert(right as Extract<Dimensioned, { kind: "quantity" }>);
      if (right.kind === "plain") return left;
      return {
        kind: "quantity",
        dims: left.dims.map((d, i) => d + sign * (right.dims[i] ?? 0)),
        powers: merge(left.powers, right.powers, sign),
      };
    }
    case ts.SyntaxKind.AsteriskAsteriskToken: {
      if (!left) return undefined;
      if (left.kind === "plain") return right?.kind === "plain" ? PLAIN : undefined;
      const exponent = literalNumber(node.right);
      if (exponent === undefined) return undefined;
      return {
        kind: "quantity",
        dims: left.dims.map((d) => d * exponent),
        powers: left.powers.map((unit) => ({ s: unit.s, p: unit.p * exponent })),
      };
    }
    case ts.SyntaxKind.PlusToken:
    case ts.SyntaxKind.MinusToken:
      if (isStringy(node, context)) return undefined;
      return mixed(node, left, right, op === ts.SyntaxKind.PlusToken ? "add" : "subtract", Code.unitMix, context);
    case ts.SyntaxKind.LessThanToken:
    case ts.SyntaxKind.LessThanEqualsToken:
    case ts.SyntaxKind.GreaterThanToken:
    case ts.SyntaxKind.GreaterThanEqualsToken:
      mixed(node, left, right, "compare", Code.unitCompare, context);
      return undefined;
    default:
      return undefined;
  }
}

function invert(value: Extract<Dimensioned, { kind: "quantity" }>): Dimensioned {
  return { kind: "quantity", dims: value.dims.map((d) => -d), powers: value.powers.map((unit) => ({ s: unit.s, p: -unit.p })) };
}

function literalNumber(node: ts.Expression): number | undefined {
  if (ts.isParenthesizedExpression(node)) return literalNumber(node.expression);
  if (ts.isNumericLiteral(node)) return Number(node.text);
  if (ts.isPrefixUnaryExpression(node) && node.operator === ts.SyntaxKind.MinusToken && ts.isNumericLiteral(node.operand))
    return -Number(node.operand.text);
  return undefined;
}

function isStringy(node: ts.BinaryExpression, context: Context): boolean {
  const type = context.checker.getTypeAtLocation(node);
  return (type.flags & ts.TypeFlags.StringLike) !== 0;
}

/**
 * Two sides the run takes only of one kind: both quantities of the same dimension, or a quantity and 0 (as the
 * runtime's sameKind). A quantity of no dimension against a plain number is left alone: which one the run holds
 * is not known here.
 */
function mixed(
  node: ts.BinaryExpression | ts.CallExpression,
  left: Dimensioned | undefined,
  right: Dimensioned | undefined,
  verb: string,
  code: string,
  context: Context,
  at: ts.Node = ts.isBinaryExpression(node) ? node.operatorToken : node,
): Dimensioned | undefined {
  if (!left || !right) return undefined;
  if (left.kind === "quantity" && right.kind === "quantity") {
    if (sameDimensions(left.dims, right.dims)) return left;
    report(
      context,
      at,
      code,
      `cannot ${verb} ${describe(left)} and ${describe(right)}: ${describeDimensions(left.dims)} and ${describeDimensions(right.dims)} do not mix.`,
    );
    return undefined;
  }
  if (left.kind === "plain" && right.kind === "plain") return PLAIN;
  const [quantity, plain] =
    left.kind === "quantity"
      ? [left, right as Extract<Dimensioned, { kind: "plain" }>]
      : [right as Extract<Dimensioned, { kind: "quantity" }>, left as Extract<Dimensioned, { kind: "plain" }>];
  if (plain.zero || quantity.dims.every((d) => d === 0)) return quantity;
  report(
    context,
    at,
    code,
    `cannot ${verb} ${describe(left)} and ${describe(right)}: a quantity mixes only with a quantity of the same kind (or 0). Give the number its unit (5 * ${unitDisplay(quantity.powers) || "m"}).`,
  );
  return undefined;
}

function call(node: ts.CallExpression, context: Context): Dimensioned | undefined {
  const args = node.arguments.map((argument) => dimensionOf(argument, context));
  const callee = node.expression;
  // unit("kN*m")
  if (ts.isIdentifier(callee) && context.units.get(callee.text) === "unit-function") {
    const text = node.arguments[0];
    return text && ts.isStringLiteralLike(text) ? quantityOf(text.text) : undefined;
  }
  if (ts.isPropertyAccessExpression(callee)) {
    const method = callee.name.text;
    if (ts.isIdentifier(callee.expression) && callee.expression.text === "Math" && isGlobal(callee.expression, context)) {
      return mathCall(node, method, args, context);
    }
    if (ts.isIdentifier(callee.expression) && context.namespaces.has(callee.expression.text) && method === "unit") {
      const text = node.arguments[0];
      return text && ts.isStringLiteralLike(text) ? quantityOf(text.text) : undefined;
    }
    if (method === "to" || method === "in") {
      const value = dimensionOf(callee.expression, context);
      const text = node.arguments[0];
      if (!value || !text || !ts.isStringLiteralLike(text)) return undefined;
      const target = quantityOf(text.text);
      if (!target || target.kind !== "quantity" || value.kind !== "quantity") return undefined;
      if (!sameDimensions(value.dims, target.dims)) {
        report(
          context,
          text,
          Code.unitConvert,
          `cannot convert ${describe(value)} to ${text.text}: ${describeDimensions(value.dims)} is not ${describeDimensions(target.dims)}.`,
        );
        return undefined;
      }
      return method === "to" ? target : PLAIN;
    }
    return undefined;
  }
  // A local helper: what all its returns are, when they agree and do not depend on its parameters.
  if (ts.isIdentifier(callee)) return helperReturn(callee, context);
  return undefined;
}

/** The lib's own Math, not a local of that name. */
function isGlobal(node: ts.Identifier, context: Context): boolean {
  const declaration = context.checker.getSymbolAtLocation(node)?.declarations?.[0];
  return !declaration || declaration.getSourceFile().isDeclarationFile;
}

function mathCall(node: ts.CallExpression, method: string, args: (Dimensioned | undefined)[], context: Context): Dimensioned | undefined {
  const first = args[0];
  if (method === "sqrt" || method === "cbrt") {
    if (!first) return undefined;
    if (first.kind === "plain") return PLAIN;
    const root = method === "sqrt" ? 2 : 3;
    return {
      kind: "quantity",
      dims: first.dims.map((d) => d / root),
      powers: first.powers.map((unit) => ({ s: unit.s, p: unit.p / root })),
    };
  }
  if (SAME_DIMENSION.has(method)) return first;
  if (method === "min" || method === "max") {
    let result = first;
    for (let i = 1; i < args.length && result; i++)
      result = mixed(node, result, args[i], "compare", Code.unitCompare, context, node.arguments[i]);
    return result;
  }
  if (PLAIN_ONLY.has(method) && first?.kind === "quantity" && !first.dims.every((d) => d === 0) && !sameDimensions(first.dims, ANGLE)) {
    report(
      context,
      node.arguments[0]!,
      Code.unitNotPlain,
      `Math.${method}() takes an angle (rad or deg) or a plain number, not ${describe(first)}.`,
    );
  }
  return PLAIN_ONLY.has(method) ? PLAIN : undefined;
}

function helperReturn(callee: ts.Identifier, context: Context): Dimensioned | undefined {
  const symbol = context.checker.getSymbolAtLocation(callee);
  if (!symbol) return undefined;
  if (context.known.has(symbol)) return context.known.get(symbol);
  const declaration = symbol.valueDeclaration;
  const fn =
    declaration && ts.isFunctionDeclaration(declaration)
      ? declaration
      : declaration &&
          ts.isVariableDeclaration(declaration) &&
          declaration.initializer &&
          (ts.isArrowFunction(declaration.initializer) || ts.isFunctionExpression(declaration.initializer))
        ? declaration.initializer
        : undefined;
  if (!fn || fn.getSourceFile() !== context.sourceFile || !fn.body || fn.asteriskToken) return undefined;
  context.known.set(symbol, undefined);
  const returns: ts.Expression[] = [];
  if (!ts.isBlock(fn.body)) returns.push(fn.body);
  else {
    const collect = (node: ts.Node): void => {
      if (ts.isFunctionLike(node)) return;
      if (ts.isReturnStatement(node) && node.expression) returns.push(node.expression);
      ts.forEachChild(node, collect);
    };
    ts.forEachChild(fn.body, collect);
  }
  // A return that reads a parameter depends on the call's arguments: not followed.
  const parameters = new Set(
    fn.parameters.flatMap((parameter) => (ts.isIdentifier(parameter.name) ? [context.checker.getSymbolAtLocation(parameter.name)] : [])),
  );
  const readsParameter = (node: ts.Node): boolean =>
    (ts.isIdentifier(node) && parameters.has(context.checker.getSymbolAtLocation(node))) ||
    !!ts.forEachChild(node, (child) => readsParameter(child) || undefined);
  let result: Dimensioned | undefined;
  for (const expression of returns) {
    if (readsParameter(expression)) return undefined;
    const value = dimensionOf(expression, context);
    if (!value || (result && !same(result, value))) return undefined;
    result = value;
  }
  context.known.set(symbol, result);
  return result;
}

function report(context: Context, node: ts.Node, code: string, message: string): void {
  const range = context.map.rangeToSource(node.getStart(context.sourceFile), node.end);
  if (!range) return;
  context.findings.push({
    start: range.start,
    end: range.end,
    severity: "error",
    code,
    message: message.charAt(0).toUpperCase() + message.slice(1),
  });
}
