// Operators on quantities: in a sheet module that imports "uzoncalc/units", `a * b`, `a / b`, `a + b`, `a - b`,
// `a % b`, `a ** b`, `a < b` (and ≤ > ≥), `-a`, `x op= e` and `Math.sqrt/cbrt/abs/min/max/hypot/pow/sin/cos/tan`
// become calls of the realm's unit operations (runtime/units/quantity.ts), which go straight to the number
// operator when both operands are numbers.
//
// Only insertions, like the rest of the instrumentation: the operator itself is put in a comment, so
// `a * b` becomes `__uzon$u.mul(a ,/***/ b, 7)` (7: the sheet line, for error messages). Every operand is
// evaluated once, in order, and nothing is wrapped in a closure (yield and await keep working).

import type * as acorn from "acorn";
import { INSTRUMENT_NAMES } from "../../../protocol/reportTemplate";
import type { Insertion } from "./statements";
import { unitExports } from "../../runtime/units/unitNames";

let exportedSymbols: Map<string, string> | undefined;

/** Local name → unit symbol, for the units a module imports by name (`import { mm, inch as in_ } ...`). */
export function unitImports(program: acorn.Program): Map<string, string> {
  exportedSymbols ??= new Map(unitExports());
  const out = new Map<string, string>();
  for (const statement of program.body) {
    if (statement.type !== "ImportDeclaration" || statement.source.value !== "uzoncalc/units") continue;
    for (const specifier of statement.specifiers) {
      if (specifier.type !== "ImportSpecifier") continue;
      const imported = specifier.imported.type === "Identifier" ? specifier.imported.name : String(specifier.imported.value);
      const symbol = exportedSymbols.get(imported);
      if (symbol !== undefined) out.set(specifier.local.name, symbol);
    }
  }
  return out;
}

export const UNITS_HELPER = `${INSTRUMENT_NAMES.tempPrefix}u`;

const BINARY: Record<string, string> = {
  "*": "mul",
  "/": "div",
  "+": "add",
  "-": "sub",
  "%": "mod",
  "**": "pow",
  "<": "lt",
  "<=": "le",
  ">": "gt",
  ">=": "ge",
};
const COMPOUND: Record<string, string> = { "*=": "mul", "/=": "div", "+=": "add", "-=": "sub", "%=": "mod", "**=": "pow" };
const MATH = new Set(["sqrt", "cbrt", "abs", "min", "max", "hypot", "pow", "sin", "cos", "tan"]);

/** Whether the module imports "uzoncalc/units" (only then are its operators rewritten). */
export function importsUnits(program: acorn.Program): boolean {
  return program.body.some((s) => s.type === "ImportDeclaration" && s.source.value === "uzoncalc/units");
}

function isPlainLiteral(node: acorn.Node): boolean {
  if (node.type === "Literal")
    return typeof (node as acorn.Literal).value === "number" || typeof (node as acorn.Literal).value === "string";
  if (node.type === "UnaryExpression")
    return (node as acorn.UnaryExpression).operator === "-" && isPlainLiteral((node as acorn.UnaryExpression).argument);
  return false;
}

/** The offset of `op` between two operands (only spaces, line breaks and parentheses around it), or -1. */
function operatorAt(code: string, from: number, to: number, op: string): number {
  let i = from;
  while (i < to && (code[i] === " " || code[i] === "\n" || code[i] === "\r" || code[i] === "\t" || code[i] === ")")) i++;
  return code.startsWith(op, i) ? i : -1;
}

/** The insertions that send a module's operators through the unit operations. */
export function planUnitOperators(program: acorn.Program, code: string, lineOf: (offset: number) => number): Insertion[] {
  const out: Insertion[] = [];
  const U = UNITS_HELPER;
  const open = (at: number, text: string, span: number) => out.push({ at, text, closing: false, span });
  const close = (at: number, text: string, span: number) => out.push({ at, text, closing: true, span });

  const visit = (value: unknown): void => {
    if (typeof value !== "object" || value === null) return;
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
      return;
    }
    const n = value as acorn.AnyNode;
    if (typeof n.type !== "string") return;
    const span = n.end - n.start - 0.25;
    switch (n.type) {
      case "BinaryExpression": {
        const fn = BINARY[n.operator];
        if (fn === undefined || n.left.type === "PrivateIdentifier" || (isPlainLiteral(n.left) && isPlainLiteral(n.right))) break;
        const at = operatorAt(code, n.left.end, n.right.start, n.operator);
        if (at < 0) break;
        open(n.start, `${U}.${fn}(`, span);
        close(at, ",/*", span + 0.125);
        close(at + n.operator.length, "*/", 0);
        close(n.end, `, ${lineOf(n.start)})`, span);
        break;
      }
      case "UnaryExpression":
        if (n.operator !== "-" || isPlainLiteral(n.argument) || code[n.start] !== "-") break;
        open(n.start, `${U}.neg(/*`, span);
        close(n.start + 1, "*/", 0);
        close(n.end, ")", span);
        break;
      case "AssignmentExpression": {
        const fn = COMPOUND[n.operator];
        if (fn === undefined || n.left.type !== "Identifier") break;
        const at = operatorAt(code, n.left.end, n.right.start, n.operator);
        if (at < 0) break;
        close(at, "/*", span + 0.125);
        close(at + n.operator.length, `*/= ${U}.${fn}(${n.left.name}, `, 0);
        close(n.end, `, ${lineOf(n.start)})`, span);
        break;
      }
      case "CallExpression": {
        const callee = n.callee;
        if (
          n.optional ||
          callee.type !== "MemberExpression" ||
          callee.computed ||
          callee.optional ||
          callee.object.type !== "Identifier" ||
          callee.object.name !== "Math"
        )
          break;
        if (callee.property.type !== "Identifier" || !MATH.has(callee.property.name)) break;
        const calleeSpan = callee.end - callee.start;
        open(callee.start, "/*", calleeSpan);
        close(callee.end, `*/${U}.${callee.property.name}`, calleeSpan);
        break;
      }
    }
    for (const key in n) {
      if (key === "loc" || key === "range") continue;
      visit((n as unknown as Record<string, unknown>)[key]);
    }
  };
  visit(program);
  return out;
}
