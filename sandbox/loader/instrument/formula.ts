// An expression as a formula: its MathML (symbolic) and its substitution template (the same formula with each
// variable replaced by the value it had), plus where to record those values. Values are recorded during the
// statement's one evaluation by wrapping operands in assignments to temps, `(__uzon$0 = b)`, never by
// evaluating anything twice or wrapping code in closures (which would break `yield` and `await`).
//
// Parentheses come from precedence, not from the source: only where the formula needs them.

import type * as acorn from "acorn";
import { HOLE_PAREN_COMPOUND, HOLE_PAREN_NEGATIVE, type HolePart, type TemplatePart } from "../../../protocol/reportTemplate";
import { literalParts, numberMath, type NumberParts } from "../../runtime/report/numbers";
import { unitPowersMath } from "../../runtime/units/quantity";
import type { UnitPower } from "../../../protocol/units";
import { escapeMarkup, nameMath } from "./symbolNames";

/** Thrown for a construct that has no rendering (objects, functions, `new`, ...): the line shows its value only. */
export class NotRenderable extends Error {}

const enum Prec {
  Cases = 1,
  Nullish = 2,
  Or = 3,
  And = 4,
  Equality = 7,
  Relational = 8,
  Additive = 10,
  Multiplicative = 12,
  Unary = 14,
  Power = 16,
  Fraction = 17,
  Atom = 20,
}

export interface Compiled {
  sym: string;
  sub: TemplatePart[];
  prec: number;
  /** Needs no parentheses as the base of a power. */
  atomic: boolean;
  /** `sym` is one MathML element (else it is wrapped in an mrow where one element is required). */
  single: boolean;
  subSingle: boolean;
  /** Reads with a leading minus sign (a unary minus). */
  negative: boolean;
  /** The substitution shows a recorded value somewhere. */
  holes: boolean;
  /** One literal (its value would only repeat it). */
  literal: boolean;
  /** The operator at the top, for associativity ("+", "−", "·", "mod"). */
  op?: string;
}

/** A wrap of an operand in `(temp = …)`: recorded at compile time, inserted only if the formula is kept. */
export interface TempWrap {
  start: number;
  end: number;
  /** The statement's temp (absolute within the statement). */
  temp: number;
}

export interface FormulaEnvironment {
  /** The numeric literal's text in the sheet's own source ("1e6", "1_000"), when it can be found. */
  literalText(node: acorn.Literal): string | undefined;
  /** The `uzoncalc` export a call goes to, if it does. */
  runtimeCall(node: acorn.CallExpression): string | undefined;
  /** The unit symbol a name imported from "uzoncalc/units" stands for (`mm` → "mm", `inch` → "in"). */
  unitSymbol?(name: string): string | undefined;
  /**
   * Names whose members are the sheet's inputs: a window's values (`const g = yield UI(...)`) and the sheet
   * function's parameters object. `g.H` is the input H and reads as `H`, the way a hand calculation names it.
   */
  inputObjects?: ReadonlySet<string>;
}

/** A unit symbol in a formula, upright as units are printed. */
export function unitSymbolMath(symbol: string): string {
  return `<mi mathvariant="normal">${escapeMarkup(symbol)}</mi>`;
}

/** Between a number and its unit (a no-break space: MathML trims ordinary spaces at the ends of mtext). */
export const UNIT_SPACE = "<mtext>\u00a0</mtext>";

const DOT = '<mo lspace="0" rspace="0">.</mo>';

const BINARY: Record<string, { mo: string; prec: number }> = {
  "+": { mo: "+", prec: Prec.Additive },
  "-": { mo: "−", prec: Prec.Additive },
  "*": { mo: "·", prec: Prec.Multiplicative },
  "%": { mo: "mod", prec: Prec.Multiplicative },
  "<": { mo: "&lt;", prec: Prec.Relational },
  "<=": { mo: "≤", prec: Prec.Relational },
  ">": { mo: "&gt;", prec: Prec.Relational },
  ">=": { mo: "≥", prec: Prec.Relational },
  "==": { mo: "=", prec: Prec.Equality },
  "===": { mo: "=", prec: Prec.Equality },
  "!=": { mo: "≠", prec: Prec.Equality },
  "!==": { mo: "≠", prec: Prec.Equality },
  "&&": { mo: "∧", prec: Prec.And },
  "||": { mo: "∨", prec: Prec.Or },
  "??": { mo: "??", prec: Prec.Nullish },
};

/** Math functions shown by name, as mathematicians name them. */
const MATH_FUNCTIONS: Record<string, string> = {
  min: "min",
  max: "max",
  round: "round",
  trunc: "trunc",
  sign: "sgn",
  hypot: "hypot",
  sin: "sin",
  cos: "cos",
  tan: "tan",
  asin: "arcsin",
  acos: "arccos",
  atan: "arctan",
  atan2: "atan2",
  sinh: "sinh",
  cosh: "cosh",
  tanh: "tanh",
  asinh: "arsinh",
  acosh: "arcosh",
  atanh: "artanh",
  log: "ln",
};

const MATH_CONSTANTS: Record<string, string> = {
  PI: "<mi>π</mi>",
  E: "<mi>e</mi>",
  SQRT2: "<msqrt><mn>2</mn></msqrt>",
  SQRT1_2: "<msqrt><mfrac><mn>1</mn><mn>2</mn></mfrac></msqrt>",
  LN2: "<mrow><mi>ln</mi><mn>2</mn></mrow>",
  LN10: "<mrow><mi>ln</mi><mn>10</mn></mrow>",
};

function atom(sym: string, literal = false): Compiled {
  return { sym, sub: [sym], prec: Prec.Atom, atomic: true, single: true, subSingle: true, negative: false, holes: false, literal };
}

function joinParts(...lists: TemplatePart[][]): TemplatePart[] {
  const out: TemplatePart[] = [];
  for (const list of lists) {
    for (const part of list) {
      const last = out[out.length - 1];
      if (typeof part === "string" && typeof last === "string") out[out.length - 1] = last + part;
      else if (part !== "") out.push(part);
    }
  }
  return out;
}

function rowSym(c: Compiled): string {
  return c.single ? c.sym : `<mrow>${c.sym}</mrow>`;
}

function rowSub(c: Compiled): TemplatePart[] {
  return c.subSingle ? c.sub : joinParts(["<mrow>"], c.sub, ["</mrow>"]);
}

function parenthesized(c: Compiled): Compiled {
  return {
    ...c,
    sym: `<mrow><mo>(</mo>${c.sym}<mo>)</mo></mrow>`,
    sub: joinParts(["<mrow><mo>(</mo>"], c.sub, ["<mo>)</mo></mrow>"]),
    prec: Prec.Atom,
    atomic: true,
    single: true,
    subSingle: true,
    negative: false,
    op: undefined,
  };
}

/** A lone hole gets the parenthesis rule of its position (its value may turn out negative or compound). */
function withHoleFlags(c: Compiled, flags: number): Compiled {
  const only = c.sub.length === 1 ? c.sub[0] : undefined;
  if (typeof only !== "object" || !("t" in only)) return c;
  const f = (only.f ?? 0) | flags;
  return f === 0 ? c : { ...c, sub: [{ ...only, f }] };
}

function isHole(c: Compiled): HolePart | undefined {
  const only = c.sub.length === 1 ? c.sub[0] : undefined;
  return typeof only === "object" && "t" in only ? only : undefined;
}

type Side = "left" | "right";

/** Whether `child` needs parentheses as the `side` operand of `op`. */
function needsParens(op: string, side: Side, child: Compiled): boolean {
  if (child.prec === Prec.Cases) return true;
  switch (op) {
    case "+":
      return child.prec < Prec.Additive || (side === "right" && child.negative);
    case "−":
      return side === "left" ? child.prec < Prec.Additive : child.prec <= Prec.Additive || child.negative;
    case "·":
      return side === "left"
        ? child.prec < Prec.Multiplicative
        : child.prec < Prec.Multiplicative || child.negative || (child.prec === Prec.Multiplicative && child.op !== "·");
    case "mod":
      return side === "left" ? child.prec < Prec.Multiplicative : child.prec <= Prec.Multiplicative || child.negative;
    case "∧":
      return child.prec < Prec.And;
    case "∨":
      // ∧ inside ∨ is bracketed too: not every reader knows which binds tighter.
      return child.prec < Prec.Or || child.prec === Prec.And;
    case "??":
      return child.prec <= Prec.And;
    default:
      // Comparisons.
      return child.prec <= Prec.Relational;
  }
}

function holeFlags(op: string, side: Side): number {
  if (side === "left") return 0;
  return op === "+" || op === "−" || op === "·" || op === "mod" ? HOLE_PAREN_NEGATIVE : 0;
}

/** The input an access reads (`g.H` → "H", `params.loadFactor` → "loadFactor"), when `n` is one. */
function inputName(env: FormulaEnvironment, n: acorn.Node): string | undefined {
  if (n.type !== "MemberExpression") return undefined;
  const member = n as acorn.MemberExpression;
  if (member.computed || member.object.type !== "Identifier" || member.property.type !== "Identifier") return undefined;
  return env.inputObjects?.has(member.object.name) ? member.property.name : undefined;
}

/**
 * The symbols and powers of a unit written as code (`kN`, `kN / m ** 3`, `kN * m`), or undefined when `n` is not
 * made of unit names, `*`, `/` and whole powers alone.
 */
function unitPowersOf(env: FormulaEnvironment, n: acorn.Node, sign = 1): UnitPower[] | undefined {
  if (!env.unitSymbol) return undefined;
  if (n.type === "Identifier") {
    const unit = env.unitSymbol((n as acorn.Identifier).name);
    return unit === undefined ? undefined : [{ s: unit, p: sign }];
  }
  if (n.type === "ParenthesizedExpression") return unitPowersOf(env, (n as acorn.ParenthesizedExpression).expression, sign);
  if (n.type !== "BinaryExpression") return undefined;
  const b = n as acorn.BinaryExpression;
  if (b.operator === "**") {
    const base = b.left.type === "Identifier" ? unitPowersOf(env, b.left, sign) : undefined;
    const power = b.right.type === "Literal" ? (b.right as acorn.Literal).value : undefined;
    if (base === undefined || typeof power !== "number" || !Number.isInteger(power)) return undefined;
    return [{ s: base[0]!.s, p: sign * power }];
  }
  if (b.operator !== "*" && b.operator !== "/") return undefined;
  const left = unitPowersOf(env, b.left, sign);
  const right = left === undefined ? undefined : unitPowersOf(env, b.right, b.operator === "/" ? -sign : sign);
  return left === undefined || right === undefined ? undefined : [...left, ...right];
}

/** A unit written as code as it reads in print, laid out as the report lays out a value's unit (kN/m³, kN·m). */
function unitExpression(env: FormulaEnvironment, n: acorn.Node): string | undefined {
  const powers = unitPowersOf(env, n);
  if (powers === undefined) return undefined;
  const math = unitPowersMath(powers);
  return powers.length === 1 ? math : `<mrow>${math}</mrow>`;
}

/**
 * The input `node` is as the sheet takes it in, by the input's name: `g.H`, `g.H * m` and `s.gamma * (kN / m ** 3)`
 * are inputs, and so is `params.loadFactor ?? 1.5`. Assigned to a name, such a line reads as that name and the
 * value (`H = 3.2 m`): its formula would only name the input again.
 */
export function inputOf(env: FormulaEnvironment, node: acorn.Node): string | undefined {
  const direct = inputName(env, node);
  if (direct !== undefined || (node.type !== "BinaryExpression" && node.type !== "LogicalExpression")) return direct;
  const n = node as acorn.BinaryExpression | acorn.LogicalExpression;
  if (n.operator === "??") return n.right.type === "Literal" ? inputName(env, n.left) : undefined;
  return n.operator === "*" && unitPowersOf(env, n.right) !== undefined ? inputName(env, n.left) : undefined;
}

/** Compiles one expression; create one per formula (its temps and wraps belong to that formula). */
export class FormulaCompiler {
  readonly wraps: TempWrap[] = [];
  private count = 0;

  constructor(
    private readonly env: FormulaEnvironment,
    /** The statement's first temp this formula may use; the formula's own temps count from it (holes say 0, 1, ...). */
    readonly base: number,
  ) {}

  /** The temps this formula uses are `base` … `base + count − 1`. */
  get tempCount(): number {
    return this.count;
  }

  /** A new temp, relative to `base`. */
  allocateTemp(): number {
    return this.count++;
  }

  /** Records `node`'s value in a new temp (wrapping it) and returns the temp, relative to `base`. */
  record(node: acorn.Node): number {
    const temp = this.allocateTemp();
    this.wraps.push({ start: node.start, end: node.end, temp: this.base + temp });
    return temp;
  }

  /** A variable whose value is already recorded in (relative) `temp`: the old value of `x` in `x += e`. */
  recordedName(name: string, temp: number): Compiled {
    const sym = nameMath(name);
    return { ...atom(sym), sub: [{ t: temp, k: name, s: sym }], holes: true };
  }

  compile(node: acorn.Node, substitute = true): Compiled {
    const n = node as acorn.AnyNode;
    switch (n.type) {
      case "Literal":
        return this.literal(n);
      case "Identifier":
        return this.identifier(n, substitute);
      case "MemberExpression":
        return this.member(n, substitute);
      case "ChainExpression":
        // `a?.b`: recorded as a whole (what is inside may not run).
        return this.hole(n, this.compile(n.expression, false), substitute, lastPropertyName(n.expression));
      case "CallExpression":
        return this.call(n, substitute);
      case "BinaryExpression":
      case "LogicalExpression":
        return this.binary(n, substitute);
      case "UnaryExpression":
        return this.unary(n, substitute);
      case "ConditionalExpression":
        return this.conditional(n, substitute);
      case "AwaitExpression":
        return this.compile(n.argument, substitute);
      case "ArrayExpression":
        return this.array(n, substitute);
      case "ParenthesizedExpression":
        return this.compile(n.expression, substitute);
      default:
        throw new NotRenderable(n.type);
    }
  }

  private literal(n: acorn.Literal): Compiled {
    if (n.bigint !== undefined) return atom(`<mn>${escapeMarkup(n.bigint)}</mn>`, true);
    const value = n.value;
    if (typeof value === "number") {
      const parts: NumberParts = literalParts(this.env.literalText(n) ?? "") ??
        literalParts(String(value)) ?? { negative: false, digits: String(value) };
      const c = atom(numberMath(parts), true);
      // 2.5×10⁵ and 10⁶ both need brackets as the base of a power.
      return parts.exponent !== undefined ? { ...c, atomic: false } : c;
    }
    // Quoted by hand: MathML Core draws no quotes around <ms>.
    if (typeof value === "string") return atom(`<mtext>“${escapeMarkup(value)}”</mtext>`, true);
    if (typeof value === "boolean" || value === null) return atom(`<mtext>${String(value)}</mtext>`, true);
    throw new NotRenderable("regular expression");
  }

  private hole(node: acorn.Node, shown: Compiled, substitute: boolean, key: string | undefined): Compiled {
    if (!substitute) return shown;
    const temp = this.record(node);
    const part: HolePart = key === undefined ? { t: temp, s: shown.sym } : { t: temp, k: key, s: shown.sym };
    return { ...shown, sub: [part], subSingle: true, holes: true, literal: false };
  }

  private identifier(n: acorn.Identifier, substitute: boolean): Compiled {
    if (n.name === "undefined") return atom("<mtext>undefined</mtext>", true);
    const unit = this.env.unitSymbol?.(n.name);
    if (unit !== undefined) return atom(unitSymbolMath(unit));
    if (n.name === "NaN") return atom("<mi>NaN</mi>", true);
    if (n.name === "Infinity") return atom("<mi>∞</mi>", true);
    return this.hole(n, atom(nameMath(n.name)), substitute, n.name);
  }

  /** `a.b.c` and `a[i]`, shown as written; the whole access is one recorded value. */
  private member(n: acorn.MemberExpression, substitute: boolean): Compiled {
    if (n.object.type === "Identifier" && n.object.name === "Math" && !n.computed && n.property.type === "Identifier") {
      const constant = MATH_CONSTANTS[n.property.name];
      if (constant !== undefined) return atom(constant);
    }
    return this.hole(n, this.memberShape(n), substitute, lastPropertyName(n));
  }

  private memberShape(n: acorn.MemberExpression): Compiled {
    if (n.object.type === "Super" || n.property.type === "PrivateIdentifier") throw new NotRenderable("member");
    const input = inputName(this.env, n);
    if (input !== undefined) return atom(nameMath(input));
    const object = this.compile(n.object, false);
    const base = object.prec < Prec.Atom || !object.single ? rowSym(parenthesized(object)) : object.sym;
    const sym = n.computed
      ? `<mrow>${base}<mo>[</mo>${this.compile(n.property, false).sym}<mo>]</mo></mrow>`
      : `<mrow>${base}${DOT}${nameMath((n.property as acorn.Identifier).name)}</mrow>`;
    return atom(sym);
  }

  private calleeSym(callee: acorn.Node): string {
    if (callee.type === "Identifier") return nameMath((callee as acorn.Identifier).name);
    if (callee.type === "MemberExpression") return this.memberShape(callee as acorn.MemberExpression).sym;
    throw new NotRenderable("callee");
  }

  private call(n: acorn.CallExpression, substitute: boolean): Compiled {
    if (this.env.runtimeCall(n) !== undefined) throw new NotRenderable("output call");
    if (n.optional) throw new NotRenderable("optional call");
    const args = n.arguments.map((arg) => {
      if (arg.type === "SpreadElement") throw new NotRenderable("spread");
      return this.compile(arg, substitute);
    });
    const callee = n.callee;
    // `expr.to("mm")`, `expr.in("kN*m")` on a quantity: the formula of expr; its value shows the unit it was put in.
    if (
      this.env.unitSymbol &&
      callee.type === "MemberExpression" &&
      !callee.computed &&
      callee.property.type === "Identifier" &&
      (callee.property.name === "to" || callee.property.name === "in") &&
      n.arguments.length === 1 &&
      n.arguments[0]!.type === "Literal" &&
      typeof (n.arguments[0] as acorn.Literal).value === "string"
    ) {
      return this.compile(callee.object, substitute);
    }
    if (
      callee.type === "MemberExpression" &&
      !callee.computed &&
      callee.object.type === "Identifier" &&
      callee.object.name === "Math" &&
      callee.property.type === "Identifier"
    ) {
      const special = this.mathCall(callee.property.name, args);
      if (special) return special;
    }
    return this.applied(this.calleeSym(callee), args);
  }

  /** `f(a, b)`: name, then the arguments in brackets. */
  private applied(nameSym: string, args: Compiled[]): Compiled {
    const open = `<mrow>${nameSym}<mo>(</mo>`;
    let sym = open;
    let sub: TemplatePart[] = [open];
    args.forEach((arg, index) => {
      if (index > 0) {
        sym += "<mo>,</mo>";
        sub = joinParts(sub, ["<mo>,</mo>"]);
      }
      sym += arg.sym;
      sub = joinParts(sub, arg.sub);
    });
    return { ...atom(`${sym}<mo>)</mo></mrow>`), sub: joinParts(sub, ["<mo>)</mo></mrow>"]), holes: args.some((a) => a.holes) };
  }

  private delimited(open: string, arg: Compiled, close: string): Compiled {
    return {
      ...atom(`<mrow><mo>${open}</mo>${arg.sym}<mo>${close}</mo></mrow>`),
      sub: joinParts([`<mrow><mo>${open}</mo>`], arg.sub, [`<mo>${close}</mo></mrow>`]),
      holes: arg.holes,
    };
  }

  private mathCall(name: string, args: Compiled[]): Compiled | undefined {
    const [a, b] = args;
    if (args.length === 1 && a) {
      switch (name) {
        case "sqrt":
          // Not atomic: (√x)² reads better than √x² as a power's base.
          return { ...atom(`<msqrt>${a.sym}</msqrt>`), sub: joinParts(["<msqrt>"], a.sub, ["</msqrt>"]), holes: a.holes, atomic: false };
        case "cbrt":
          return {
            ...atom(`<mroot>${rowSym(a)}<mn>3</mn></mroot>`),
            sub: joinParts(["<mroot>"], rowSub(a), ["<mn>3</mn></mroot>"]),
            holes: a.holes,
            atomic: false,
          };
        case "abs":
          return this.delimited("|", a, "|");
        case "floor":
          return this.delimited("⌊", a, "⌋");
        case "ceil":
          return this.delimited("⌈", a, "⌉");
        case "exp":
          return this.power(atom("<mi>e</mi>"), a);
        case "log10":
          return this.applied("<msub><mi>log</mi><mn>10</mn></msub>", args);
        case "log2":
          return this.applied("<msub><mi>log</mi><mn>2</mn></msub>", args);
      }
    }
    if (name === "pow" && args.length === 2 && a && b) return this.power(a, b);
    const shown = MATH_FUNCTIONS[name];
    return shown === undefined ? undefined : this.applied(`<mi>${shown}</mi>`, args);
  }

  private power(base: Compiled, exponent: Compiled): Compiled {
    const b = base.atomic ? withHoleFlags(base, HOLE_PAREN_COMPOUND) : parenthesized(base);
    return {
      sym: `<msup>${rowSym(b)}${rowSym(exponent)}</msup>`,
      sub: joinParts(["<msup>"], rowSub(b), rowSub(exponent), ["</msup>"]),
      prec: Prec.Power,
      atomic: false,
      single: true,
      subSingle: true,
      negative: false,
      holes: base.holes || exponent.holes,
      literal: false,
    };
  }

  private binary(n: acorn.BinaryExpression | acorn.LogicalExpression, substitute: boolean): Compiled {
    if (n.left.type === "PrivateIdentifier") throw new NotRenderable("#private in");
    const quantity = n.operator === "*" || n.operator === "/" ? this.quantityLiteral(n.operator, n.left, n.right) : undefined;
    if (quantity) return quantity;
    // An input made a quantity (`g.H * m`) or given a default (`params.loadFactor ?? 1.5`): the input's name, and
    // the value it came to, with its unit.
    const input = inputOf(this.env, n);
    if (input !== undefined) return this.hole(n, atom(nameMath(input)), substitute, input);
    const unitSym = n.operator === "*" ? unitExpression(this.env, n.right) : undefined;
    if (unitSym !== undefined) {
      // `K_a * s.q * kPa` is K_a · q, with q's value and unit in the substitution, as `K_a * (s.q * kPa)` would read.
      const product = n.left.type === "BinaryExpression" && n.left.operator === "*" ? n.left : undefined;
      const inner = product && inputName(this.env, product.right);
      if (product && inner !== undefined) {
        return this.combine("*", this.compile(product.left, substitute), this.inputWithUnit(product.right, inner, unitSym, substitute));
      }
    }
    const left = this.compile(n.left, substitute);
    const right = this.compile(n.right, substitute);
    return this.combine(n.operator, left, right, substitute ? () => this.record(n.left) : undefined);
  }

  /**
   * `300 * mm`, `-5 * kN`, `6 * kN * m`, `5 * kN / m`, `25 * (kN / m ** 3)` read as the literals 300 mm, −5 kN,
   * 6 kN·m, 5 kN/m, 25 kN/m³ (their values would only repeat them).
   */
  private quantityLiteral(operator: string, left: acorn.Node, right: acorn.Node): Compiled | undefined {
    const unit = right.type === "Identifier" ? this.env.unitSymbol?.((right as acorn.Identifier).name) : undefined;
    if (unit !== undefined && left.type === "BinaryExpression") {
      const inner = left as acorn.BinaryExpression;
      const quantity =
        inner.operator === "*" || inner.operator === "/" ? this.quantityLiteral(inner.operator, inner.left, inner.right) : undefined;
      if (!quantity) return undefined;
      const joint = operator === "*" ? '<mo lspace="0" rspace="0">·</mo>' : '<mo lspace="0" rspace="0">/</mo>';
      const sym = `${quantity.sym.slice(0, -"</mrow>".length)}${joint}${unitSymbolMath(unit)}</mrow>`;
      return { ...quantity, sym, sub: [sym] };
    }
    if (operator !== "*") return undefined;
    const unitSym = unitExpression(this.env, right);
    return unitSym === undefined ? undefined : this.numberWithUnit(left, unitSym);
  }

  /** An input's name; in the substitution its recorded value followed by the unit it is multiplied by. */
  private inputWithUnit(member: acorn.Node, input: string, unitSym: string, substitute: boolean): Compiled {
    const shown = atom(nameMath(input));
    if (!substitute) return shown;
    const hole: HolePart = { t: this.record(member), k: input, s: shown.sym };
    return { ...shown, sub: ["<mrow>", hole, `${UNIT_SPACE}${unitSym}</mrow>`], holes: true, atomic: false };
  }

  /** A number literal and its unit, as one literal. */
  private numberWithUnit(left: acorn.Node, unitSym: string): Compiled | undefined {
    const plain =
      (left.type === "Literal" && typeof (left as acorn.Literal).value === "number") ||
      (left.type === "UnaryExpression" &&
        (left as acorn.UnaryExpression).operator === "-" &&
        (left as acorn.UnaryExpression).argument.type === "Literal" &&
        typeof ((left as acorn.UnaryExpression).argument as acorn.Literal).value === "number");
    if (!plain) return undefined;
    const number = this.compile(left, false);
    const sym = `<mrow>${number.sym}${UNIT_SPACE}${unitSym}</mrow>`;
    return { ...atom(sym, true), atomic: false, negative: number.negative };
  }

  /**
   * `left operator right`. For `&&`, `||` and `??` the substitution depends on the left side's value: give
   * `recordLeft` to record it (it is reused when the left side is already one recorded value).
   */
  combine(operator: string, left: Compiled, right: Compiled, recordLeft?: () => number): Compiled {
    if (operator === "/") {
      return {
        sym: `<mfrac>${rowSym(left)}${rowSym(right)}</mfrac>`,
        sub: joinParts(["<mfrac>"], rowSub(left), rowSub(right), ["</mfrac>"]),
        prec: Prec.Fraction,
        atomic: false,
        single: true,
        subSingle: true,
        negative: false,
        holes: left.holes || right.holes,
        literal: false,
      };
    }
    if (operator === "**") return this.power(left, right);
    const shape = BINARY[operator];
    if (!shape) throw new NotRenderable(operator);
    const op = shape.mo;
    const l = needsParens(op, "left", left) ? parenthesized(left) : withHoleFlags(left, holeFlags(op, "left"));
    const r = needsParens(op, "right", right) ? parenthesized(right) : withHoleFlags(right, holeFlags(op, "right"));
    const mo = `<mo>${op}</mo>`;
    const sym = `${l.sym}${mo}${r.sym}`;
    const result = {
      sym,
      prec: shape.prec,
      atomic: false,
      single: false,
      subSingle: false,
      negative: false,
      holes: l.holes || r.holes,
      literal: false,
      op,
    };
    if (recordLeft && operator === "??") {
      // Shows the side that gave the value.
      const test = isHole(left)?.t ?? recordLeft();
      return { ...result, sub: [{ c: test, nn: 1, y: left.sub, n: right.sub }], holes: true };
    }
    if (recordLeft && (operator === "&&" || operator === "||") && r.holes) {
      // The right side ran only if the left side let it: its values are shown only then.
      const guard = isHole(l)?.t ?? recordLeft();
      return { ...result, sub: joinParts(l.sub, [mo, { g: guard, op: operator, r: r.sub, s: r.sym }]) };
    }
    return { ...result, sub: joinParts(l.sub, [mo], r.sub) };
  }

  private unary(n: acorn.UnaryExpression, substitute: boolean): Compiled {
    const operand = this.compile(n.argument, substitute);
    switch (n.operator) {
      case "+":
        return operand;
      case "-": {
        const inner =
          operand.prec <= Prec.Additive || operand.negative ? parenthesized(operand) : withHoleFlags(operand, HOLE_PAREN_NEGATIVE);
        // In its own mrow the sign is a prefix operator: no space after it.
        return {
          sym: `<mrow><mo>−</mo>${inner.sym}</mrow>`,
          sub: joinParts(["<mrow><mo>−</mo>"], inner.sub, ["</mrow>"]),
          prec: Prec.Unary,
          atomic: false,
          single: true,
          subSingle: true,
          negative: true,
          holes: inner.holes,
          literal: operand.literal,
        };
      }
      case "!": {
        const inner = operand.prec < Prec.Unary ? parenthesized(operand) : operand;
        return {
          sym: `<mrow><mo>¬</mo>${inner.sym}</mrow>`,
          sub: joinParts(["<mrow><mo>¬</mo>"], inner.sub, ["</mrow>"]),
          prec: Prec.Unary,
          atomic: false,
          single: true,
          subSingle: true,
          negative: false,
          holes: inner.holes,
          literal: false,
        };
      }
      default:
        throw new NotRenderable(n.operator);
    }
  }

  /** `c ? a : b` (and chains of them) as cases; the substitution shows the branch taken. */
  private conditional(n: acorn.ConditionalExpression, substitute: boolean): Compiled {
    const rows: string[] = [];
    const branch = (node: acorn.Node): { sub: TemplatePart[]; holes: boolean } => {
      if (node.type === "ConditionalExpression") {
        const c = node as acorn.ConditionalExpression;
        const test = this.compile(c.test, false);
        const yes = this.compile(c.consequent, substitute);
        rows.push(`<mtr><mtd>${yes.sym}</mtd><mtd><mtext>if&#160;</mtext>${test.sym}</mtd></mtr>`);
        const testTemp = substitute ? this.record(c.test) : -1;
        const no = branch(c.alternate);
        if (!substitute) return { sub: [], holes: false };
        return { sub: [{ c: testTemp, y: yes.sub, n: no.sub }], holes: true };
      }
      const last = this.compile(node, substitute);
      rows.push(`<mtr><mtd>${last.sym}</mtd><mtd><mtext>otherwise</mtext></mtd></mtr>`);
      return { sub: last.sub, holes: last.holes };
    };
    const chosen = branch(n);
    // displaystyle: cells would otherwise shrink fractions to script size.
    const sym = `<mrow><mo>{</mo><mtable class="uzc-cases" displaystyle="true">${rows.join("")}</mtable></mrow>`;
    return {
      sym,
      sub: substitute ? chosen.sub : [sym],
      prec: Prec.Cases,
      atomic: false,
      single: true,
      subSingle: false,
      negative: false,
      holes: substitute,
      literal: false,
    };
  }

  private array(n: acorn.ArrayExpression, substitute: boolean): Compiled {
    const items = n.elements.map((element) => {
      if (element === null || element.type === "SpreadElement") throw new NotRenderable("array hole or spread");
      return this.compile(element, substitute);
    });
    let sym = "<mrow><mo>[</mo>";
    let sub: TemplatePart[] = ["<mrow><mo>[</mo>"];
    items.forEach((item, index) => {
      const separator = index > 0 ? "<mo>,</mo>" : "";
      sym += separator + item.sym;
      sub = joinParts(sub, [separator], item.sub);
    });
    return {
      ...atom(`${sym}<mo>]</mo></mrow>`),
      sub: joinParts(sub, ["<mo>]</mo></mrow>"]),
      holes: items.some((i) => i.holes),
      literal: items.every((i) => i.literal),
    };
  }
}

/** The name a member access is known by for number formats: its last property (`props.f_m` → "f_m"). */
function lastPropertyName(node: acorn.Node): string | undefined {
  if (node.type === "MemberExpression") {
    const member = node as acorn.MemberExpression;
    return !member.computed && member.property.type === "Identifier" ? member.property.name : undefined;
  }
  if (node.type === "Identifier") return (node as acorn.Identifier).name;
  return undefined;
}

/** The markup of an assignment target: a name, or a member access. */
export function targetMath(node: acorn.Node, env: FormulaEnvironment): string {
  if (node.type === "Identifier") return nameMath((node as acorn.Identifier).name);
  return new FormulaCompiler(env, 0).compile(node, false).sym;
}
