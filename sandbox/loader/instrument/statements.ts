// Which statements of a sheet function render, and the code inserted to render them. Only insertions: the
// sheet's own code is never moved or rewritten, so every position in it maps back to the sheet unchanged.
//
//   const x = expr / let x = expr / x = expr / x op= expr / o.p = expr   → x = formula = substitution = value
//   x;  o.p;                                                              → x = value
//   a < b;  (another bare expression without side effects of its own)     → formula = substitution = value
//   "text";  `text ${value}`;                                             → a paragraph
//   check(cond, label)                                                    → the condition, recorded for check()
// Nothing for: names starting with `_`, destructuring, `yield` (so `yield UI(...)`), calls to `uzoncalc`'s
// functions (they write their own output), other calls, nested functions and classes, `use …` directives.

import type * as acorn from "acorn";
import {
  INSTRUMENT_NAMES,
  type CheckDescriptor,
  type EquationDescriptor,
  type RenderDescriptor,
  type TextDescriptor,
} from "../../../protocol/reportTemplate";
import { inlineText, startsWithOperator, textTemplate } from "../../../protocol/formulaText";
import { FormulaCompiler, inputOf, NotRenderable, targetMath, type Compiled, type FormulaEnvironment } from "./formula";
import { escapeMarkup, isPrivateName } from "./symbolNames";
import { runtimeCallee, type FunctionNode, type RenderMode, type SheetScope } from "./sheetScope";

export interface Insertion {
  at: number;
  text: string;
  /** Closes something that ends at `at` (goes before what opens there). */
  closing: boolean;
  /** Length of what it surrounds: at one position the outer opens first and closes last. */
  span: number;
}

export interface PlanContext {
  scope: SheetScope;
  env: FormulaEnvironment;
  /** The sheet-source line (1-based) of a position in the transformed code. */
  lineOf(offset: number): number;
}

export interface Plan {
  descriptors: RenderDescriptor[];
  insertions: Insertion[];
}

const { renderer: R, table: F, tempPrefix: T } = INSTRUMENT_NAMES;
const COMPOUND: Record<string, string> = { "+=": "+", "-=": "-", "*=": "*", "/=": "/", "%=": "%", "**=": "**" };

function temp(index: number): string {
  return `${T}${index}`;
}

function tempList(first: number, count: number): string {
  let text = "";
  for (let i = 0; i < count; i++) text += `, ${temp(first + i)}`;
  return text;
}

/** True if `yield` occurs in the expression (outside nested functions). */
function containsYield(node: acorn.Node): boolean {
  let found = false;
  const visit = (value: unknown): void => {
    if (found || typeof value !== "object" || value === null) return;
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
      return;
    }
    const n = value as acorn.Node;
    if (typeof n.type !== "string") return;
    if (n.type === "YieldExpression") {
      found = true;
      return;
    }
    if (n.type === "FunctionExpression" || n.type === "ArrowFunctionExpression" || n.type === "ClassExpression") return;
    for (const key in n) if (key !== "loc" && key !== "range") visit((n as unknown as Record<string, unknown>)[key]);
  };
  visit(node);
  return found;
}

function isDirective(statement: acorn.Node): boolean {
  const directive = (statement as acorn.ExpressionStatement).directive;
  return statement.type === "ExpressionStatement" && typeof directive === "string" && /^use[ \w-]*$/.test(directive);
}

/** A member access chain of names (`a.b.c`): safe to show as a target or a bare value. */
function isNameChain(node: acorn.Node): boolean {
  if (node.type === "Identifier") return true;
  if (node.type !== "MemberExpression") return false;
  const member = node as acorn.MemberExpression;
  return !member.computed && !member.optional && member.property.type === "Identifier" && isNameChain(member.object);
}

function chainText(node: acorn.Node): string {
  if (node.type === "Identifier") return (node as acorn.Identifier).name;
  const member = node as acorn.MemberExpression;
  return `${chainText(member.object)}.${(member.property as acorn.Identifier).name}`;
}

/**
 * The formula text of an equation's parts (protocol/formulaText.ts), made once here beside their MathML so that
 * a traced step only fills values in. None is made when a part starts with an operator, which reads as a sign
 * at the start of a line: the realm then reads that line from its MathML.
 */
function withLineText(descriptor: EquationDescriptor): EquationDescriptor {
  const first = descriptor.sub?.[0];
  if (
    startsWithOperator(descriptor.lhs) ||
    (descriptor.sym !== undefined && startsWithOperator(descriptor.sym)) ||
    (first !== undefined && (typeof first === "string" ? startsWithOperator(first) : !("t" in first)))
  )
    return descriptor;
  if (descriptor.lhs !== "") descriptor.tl = inlineText(descriptor.lhs);
  if (descriptor.sym !== undefined) descriptor.ts = inlineText(descriptor.sym);
  if (descriptor.sub !== undefined) descriptor.tb = textTemplate(descriptor.sub);
  return descriptor;
}

/** Plans one module: every sheet function's statements. */
export function planInstrumentation(context: PlanContext): Plan {
  const plan: Plan = { descriptors: [], insertions: [] };
  for (const fn of context.scope.sheetFunctions) new FunctionPlanner(context, plan, fn, undefined).run();
  for (const helper of context.scope.renderHelpers) new FunctionPlanner(context, plan, helper.fn, helper.mode).run();
  return plan;
}

class FunctionPlanner {
  private maxTemps = 0;

  constructor(
    private readonly context: PlanContext,
    private readonly plan: Plan,
    private readonly fn: FunctionNode,
    /**
     * A `@render` helper: its lines are its working, written under the call (the driver's enter/leave); with
     * `table`, each loop's lines are a table of its iterations.
     */
    private readonly showsWorking: RenderMode | undefined,
  ) {}

  run(): void {
    const body = this.fn.body as acorn.BlockStatement;
    let prologueEnd = body.start + 1;
    let index = 0;
    while (index < body.body.length && isDirective(body.body[index]!)) prologueEnd = body.body[index++]!.end;
    for (; index < body.body.length; index++) this.statement(body.body[index]!);
    if (this.maxTemps > 0) {
      const names = Array.from({ length: this.maxTemps }, (_, i) => temp(i)).join(", ");
      this.insert(prologueEnd, ` let ${names};`, false, Number.MAX_SAFE_INTEGER);
    }
    if (this.showsWorking !== undefined) {
      // The whole body between enter and leave: a return, or a throw, still closes the working.
      this.insert(prologueEnd, ` ${INSTRUMENT_NAMES.renderer}.enter(); try {`, false, Number.MAX_SAFE_INTEGER - 1);
      this.insert(body.end - 1, `} finally { ${INSTRUMENT_NAMES.renderer}.leave(); }`, true, Number.MAX_SAFE_INTEGER);
    }
  }

  private insert(at: number, text: string, closing: boolean, span: number): void {
    this.plan.insertions.push({ at, text, closing, span });
  }

  /** Code before `node` (outside anything that starts with it). */
  private before(node: acorn.Node, text: string): void {
    this.insert(node.start, text, false, node.end - node.start + 0.5);
  }

  /** Code after `node` (outside anything that ends with it). */
  private after(node: acorn.Node, text: string): void {
    this.insert(node.end, text, true, node.end - node.start + 0.5);
  }

  private describe(descriptor: RenderDescriptor): string {
    this.plan.descriptors.push(descriptor);
    return `${F}[${this.plan.descriptors.length - 1}]`;
  }

  private useTemps(count: number): void {
    if (count > this.maxTemps) this.maxTemps = count;
  }

  /** Commits a formula's operand recordings. */
  private commit(compiler: FormulaCompiler): void {
    for (const wrap of compiler.wraps) {
      this.insert(wrap.start, `(${temp(wrap.temp)} = `, false, wrap.end - wrap.start);
      this.insert(wrap.end, ")", true, wrap.end - wrap.start);
    }
    this.useTemps(compiler.base + compiler.tempCount);
  }

  /** The formula of `node`, or undefined when it has no rendering (the line then shows its value only). */
  private formula(
    node: acorn.Node,
    base: number,
    prepare?: (compiler: FormulaCompiler) => Compiled | undefined,
  ): { compiler: FormulaCompiler; compiled: Compiled } | undefined {
    const compiler = new FormulaCompiler(this.context.env, base);
    try {
      const compiled = prepare ? prepare(compiler) : compiler.compile(node);
      if (!compiled) return undefined;
      this.commit(compiler);
      return { compiler, compiled };
    } catch (error) {
      if (error instanceof NotRenderable) return undefined;
      throw error;
    }
  }

  private equation(line: number, name: string, lhs: string, formula: { compiled: Compiled } | undefined): EquationDescriptor {
    const descriptor: EquationDescriptor = { k: "eq", line, name, lhs };
    if (formula) {
      descriptor.sym = formula.compiled.sym;
      if (formula.compiled.holes) descriptor.sub = formula.compiled.sub;
      if (formula.compiled.literal) descriptor.lit = 1;
    }
    return withLineText(descriptor);
  }

  private isRuntimeCall(node: acorn.Node | null | undefined, name?: string): boolean {
    let target = node;
    if (target?.type === "AwaitExpression") target = (target as acorn.AwaitExpression).argument;
    if (target?.type !== "CallExpression") return false;
    const callee = runtimeCallee(this.context.scope, target as acorn.CallExpression);
    return callee !== undefined && (name === undefined || callee === name);
  }

  /** A statement in a list, or the single statement of an `if`/loop body (then braces keep what is added with it). */
  private statement(statement: acorn.Statement | acorn.ModuleDeclaration, single = false): void {
    const added = this.plan.insertions.length;
    switch (statement.type) {
      case "VariableDeclaration":
        this.declaration(statement);
        break;
      case "ExpressionStatement":
        this.expressionStatement(statement);
        break;
      case "BlockStatement":
        for (const inner of statement.body) this.statement(inner);
        return;
      case "IfStatement":
        this.statement(statement.consequent, true);
        if (statement.alternate) this.statement(statement.alternate, true);
        return;
      case "ForStatement":
      case "ForInStatement":
      case "ForOfStatement":
      case "WhileStatement":
      case "DoWhileStatement":
        if (this.showsWorking === "table") this.tableLoop(statement);
        else this.statement(statement.body, true);
        return;
      case "TryStatement":
        this.statement(statement.block);
        if (statement.handler) this.statement(statement.handler.body);
        if (statement.finalizer) this.statement(statement.finalizer);
        return;
      case "SwitchStatement":
        for (const switchCase of statement.cases) for (const inner of switchCase.consequent) this.statement(inner);
        return;
      case "LabeledStatement":
        if (statement.body.type !== "ExpressionStatement" && statement.body.type !== "VariableDeclaration")
          this.statement(statement.body, true);
        return;
      default:
        return;
    }
    if (single && this.plan.insertions.length > added) {
      this.insert(statement.start, "{", false, statement.end - statement.start + 1);
      this.insert(statement.end, "}", true, statement.end - statement.start + 1);
    }
  }

  /**
   * A loop of a `@render table` helper: its lines fill a table, a row per iteration (the renderer's tableStart, row,
   * tableEnd), closed however the loop ends. The braces make the whole one statement wherever the loop stood.
   */
  private tableLoop(
    loop: acorn.ForStatement | acorn.ForInStatement | acorn.ForOfStatement | acorn.WhileStatement | acorn.DoWhileStatement,
  ): void {
    const span = loop.end - loop.start + 2;
    this.insert(loop.start, `{ ${R}.tableStart(); try { `, false, span);
    this.insert(loop.end, ` } finally { ${R}.tableEnd(); } }`, true, span);
    // The loop's own variables (`for (const L of spans)`, `for (let i = 0; …)`) head the row: which iteration it is.
    const head =
      loop.type === "ForOfStatement" || loop.type === "ForInStatement" ? loop.left : loop.type === "ForStatement" ? loop.init : null;
    const variables =
      head?.type === "VariableDeclaration"
        ? head.declarations.flatMap((d) => (d.id.type === "Identifier" && !isPrivateName(d.id.name) ? [d.id] : []))
        : [];
    const line = this.context.lineOf(loop.start);
    const rowStart = ` ${R}.row();${variables
      .map((id) => ` ${R}.eq(${this.describe(this.equation(line, id.name, targetMath(id, this.context.env), undefined))}, ${id.name});`)
      .join("")}`;
    const body = loop.body;
    if (body.type === "BlockStatement") this.insert(body.start + 1, rowStart, false, body.end - body.start);
    else {
      this.insert(body.start, `{${rowStart} `, false, body.end - body.start + 1);
      this.insert(body.end, " }", true, body.end - body.start + 1);
    }
    this.statement(body, true);
  }

  private declaration(statement: acorn.VariableDeclaration): void {
    const calls: string[] = [];
    let base = 0;
    for (const declarator of statement.declarations) {
      const init = declarator.init;
      if (declarator.id.type !== "Identifier" || !init || isPrivateName(declarator.id.name)) continue;
      if (this.isRuntimeCall(init, "check")) {
        base = this.check(init.type === "AwaitExpression" ? (init.argument as acorn.CallExpression) : (init as acorn.CallExpression), base);
        continue;
      }
      if (init.type === "YieldExpression" || this.isRuntimeCall(init) || containsYield(init)) continue;
      const name = declarator.id.name;
      const formula = readsAsItsValue(this.context.env, init, name) ? undefined : this.formula(init, base);
      const count = formula?.compiler.tempCount ?? 0;
      const descriptor = this.equation(this.context.lineOf(statement.start), name, targetMath(declarator.id, this.context.env), formula);
      calls.push(` ${R}.eq(${this.describe(descriptor)}, ${name}${tempList(base, count)});`);
      base += count;
    }
    if (calls.length > 0) this.after(statement, calls.join(""));
  }

  private expressionStatement(statement: acorn.ExpressionStatement): void {
    const expression = statement.expression;
    const line = this.context.lineOf(statement.start);
    switch (expression.type) {
      case "AssignmentExpression":
        this.assignment(statement, expression, line);
        return;
      case "Literal":
        if (typeof expression.value === "string" && !isDirective(statement))
          this.text(expression, [escapeMarkup(expression.value)], line, 0);
        return;
      case "TemplateLiteral":
        this.template(expression, line);
        return;
      case "Identifier":
        if (isPrivateName(expression.name) || expression.name === "undefined") return;
        this.bareValue(expression, expression.name, line);
        return;
      case "MemberExpression":
        if (isNameChain(expression) && !isPrivateName(chainText(expression))) this.bareValue(expression, chainText(expression), line);
        return;
      case "CallExpression":
        if (this.isRuntimeCall(expression, "check")) this.check(expression, 0);
        return;
      case "AwaitExpression":
        if (this.isRuntimeCall(expression, "check")) this.check(expression.argument as acorn.CallExpression, 0);
        return;
      case "BinaryExpression":
      case "LogicalExpression":
      case "UnaryExpression":
      case "ConditionalExpression": {
        if (expression.type === "UnaryExpression" && (expression.operator === "delete" || expression.operator === "void")) return;
        if (containsYield(expression)) return;
        const formula = this.formula(expression, 0);
        if (!formula) return;
        const descriptor = this.equation(line, "", "", formula);
        this.before(expression, `${R}.eq(${this.describe(descriptor)}, `);
        this.after(expression, `${tempList(0, formula.compiler.tempCount)})`);
        return;
      }
      default:
        return;
    }
  }

  /** `x;` → `x = value`. */
  private bareValue(expression: acorn.Node, name: string, line: number): void {
    const descriptor = withLineText({ k: "eq", line, name, lhs: targetMath(expression, this.context.env) });
    this.before(expression, `${R}.eq(${this.describe(descriptor)}, `);
    this.after(expression, ")");
  }

  private assignment(statement: acorn.ExpressionStatement, expression: acorn.AssignmentExpression, line: number): void {
    const target = expression.left;
    const right = expression.right;
    if (!isNameChain(target) || right.type === "YieldExpression" || this.isRuntimeCall(right) || containsYield(right)) return;
    const name = chainText(target);
    if (isPrivateName(name) || name.split(".").some(isPrivateName)) return;
    const lhs = targetMath(target, this.context.env);
    if (expression.operator === "=") {
      const formula = this.formula(right, 0);
      const count = formula?.compiler.tempCount ?? 0;
      const descriptor = this.equation(line, name, lhs, formula);
      if (target.type === "Identifier") {
        this.after(statement, ` ${R}.eq(${this.describe(descriptor)}, ${name}${tempList(0, count)});`);
      } else {
        // `o.p = e`: the assignment's own value, so `o.p` is not read again (it may be a getter).
        const result = temp(count);
        this.useTemps(count + 1);
        this.before(expression, `${result} = (`);
        this.after(expression, ")");
        this.after(statement, ` ${R}.eq(${this.describe(descriptor)}, ${result}${tempList(0, count)});`);
      }
      return;
    }
    const operator = COMPOUND[expression.operator];
    if (operator === undefined || target.type !== "Identifier") return;
    // `x += e` is shown as `x = x + e`, with x's value read into a temp just before the assignment.
    const formula = this.formula(right, 0, (compiler) => {
      const old = compiler.recordedName(name, compiler.allocateTemp());
      return compiler.combine(operator, old, compiler.compile(right));
    });
    if (!formula) return;
    this.before(expression, `${temp(0)} = ${name}, `);
    const descriptor = this.equation(line, name, lhs, formula);
    this.after(statement, ` ${R}.eq(${this.describe(descriptor)}, ${name}${tempList(0, formula.compiler.tempCount)});`);
  }

  private text(literal: acorn.Node, parts: TextDescriptor["parts"], line: number, temps: number): void {
    const descriptor: TextDescriptor = { k: "text", line, parts };
    this.before(literal, `${R}.text(${this.describe(descriptor)}, `);
    this.after(literal, `${tempList(0, temps)})`);
    this.useTemps(temps);
  }

  /** A bare template: a paragraph whose interpolations are formatted like values. */
  private template(template: acorn.TemplateLiteral, line: number): void {
    if (containsYield(template)) return;
    const parts: TextDescriptor["parts"] = [];
    template.quasis.forEach((quasi, index) => {
      const cooked = quasi.value.cooked ?? quasi.value.raw;
      if (cooked !== "") parts.push(escapeMarkup(cooked));
      const expression = template.expressions[index];
      if (!expression) return;
      const key =
        expression.type === "Identifier"
          ? expression.name
          : expression.type === "MemberExpression" && isNameChain(expression)
            ? (expression.property as acorn.Identifier).name
            : undefined;
      parts.push(key === undefined ? { t: index } : { t: index, k: key });
      this.insert(expression.start, `(${temp(index)} = `, false, expression.end - expression.start);
      this.insert(expression.end, ")", true, expression.end - expression.start);
    });
    this.text(template, parts, line, template.expressions.length);
  }

  /** `check(cond, label)`: the condition is passed through the renderer, which notes its formula and values. */
  private check(call: acorn.CallExpression, base: number): number {
    const condition = call.arguments[0];
    if (!condition || condition.type === "SpreadElement" || containsYield(condition)) return base;
    const line = this.context.lineOf(call.start);
    let sides: { l: number; r: number } | undefined;
    const formula = this.formula(condition, base, (compiler) => {
      const compiled = compiler.compile(condition);
      if (condition.type === "BinaryExpression" && CHECK_COMPARISONS[condition.operator] !== undefined) {
        sides = { l: this.sideTemp(compiler, condition.left), r: this.sideTemp(compiler, condition.right) };
      }
      return compiled;
    });
    const descriptor: CheckDescriptor = { k: "check", line };
    if (formula) {
      descriptor.sym = formula.compiled.sym;
      if (formula.compiled.holes) descriptor.sub = formula.compiled.sub;
      if (sides && condition.type === "BinaryExpression") descriptor.cmp = { ...sides, op: CHECK_COMPARISONS[condition.operator]! };
    }
    const count = formula?.compiler.tempCount ?? 0;
    this.before(condition, `${R}.c(${this.describe(descriptor)}, `);
    this.after(condition, `${tempList(base, count)})`);
    return base + count;
  }

  /** The temp holding one side of a checked comparison: its own recording if it has one, else a new one. */
  private sideTemp(compiler: FormulaCompiler, side: acorn.Node): number {
    const existing = compiler.wraps.find((w) => w.start === side.start && w.end === side.end);
    return existing ? existing.temp - compiler.base : compiler.record(side);
  }
}

const CHECK_COMPARISONS: Record<string, "<" | "<=" | ">" | ">=" | "==" | "!="> = {
  "<": "<",
  "<=": "<=",
  ">": ">",
  ">=": ">=",
  "==": "==",
  "===": "==",
  "!=": "!=",
  "!==": "!=",
};

/**
 * A line whose formula would only name where the value came from reads as the name and the value: an input as the
 * sheet takes it in (`H = g.H * m` is H = 3.2 m, see inputOf) and a lookup under its own name
 * (`f_m = props.f_m` is f_m = 28 MPa).
 */
function readsAsItsValue(env: FormulaEnvironment, init: acorn.Node, name: string): boolean {
  if (inputOf(env, init) !== undefined) return true;
  const member = init.type === "MemberExpression" ? (init as acorn.MemberExpression) : undefined;
  return !!member && !member.computed && member.property.type === "Identifier" && member.property.name === name;
}
