// What the load-time instrumentation hands the in-realm renderer for each rendered statement. The host
// renders everything it can see in the source (the formula, the names, the literals) into MathML once, at
// load time; the realm only fills in values recorded during the one evaluation. Imports nothing: it is
// shared by the host (sandbox/loader/instrument) and bundled into the realm.

/** A value recorded in temp `t` (relative to the statement's first temp), shown in place of its symbol `s`. */
export interface HolePart {
  t: number;
  /** HOLE_PAREN_* bits: when the value needs parentheses in this position. */
  f?: number;
  /** Number-format key (the variable's name) for per-name formats. */
  k?: string;
  /** The symbolic markup, shown when the value cannot be rendered (an object, a function). */
  s: string;
}

/**
 * A conditional `c ? y : n`: the substitution shows only the branch taken (temp `c` holds the test's value).
 * With `nn`, the test is "not null or undefined" instead of truthiness: `a ?? b` shows a, or else b.
 */
export interface ChoicePart {
  c: number;
  y: TemplatePart[];
  n: TemplatePart[];
  nn?: 1;
}

/**
 * The right side of `&&` or `||`: its values exist only when the left side (temp `g`) let it run; otherwise it
 * is shown symbolically (`s`).
 */
export interface GuardPart {
  g: number;
  op: "&&" | "||";
  r: TemplatePart[];
  s: string;
}

export type TemplatePart = string | HolePart | ChoicePart | GuardPart;

// The formula text (protocol/formulaText.ts) of a substitution, as a template beside its MathML.

/** A value's text in place of a hole (its symbol's text `s` when the value is not shown). */
export interface TextHole {
  t: number;
  /** HOLE_PAREN_* bits, as the MathML hole has them. */
  f?: number;
  k?: string;
  s: string;
}

/** The branch taken of `c ? y : n` (`nn`: the test is "not null or undefined"). */
export interface TextChoice {
  c: number;
  y: TextPart[];
  n: TextPart[];
  nn?: 1;
}

/** The right side of `&&` / `||`: its values (`r`) when it ran, else its symbols' text (`s`). */
export interface TextGuard {
  g: number;
  op: "&&" | "||";
  r: TextPart[];
  s: string;
}

/** A rule that needs the filled text: w wraps a compound text in brackets, t trims, e reads an exponent. */
export interface TextRule {
  fn: "w" | "t" | "e";
  of: TextPart[];
}

export type TextPart = string | TextHole | TextChoice | TextGuard | TextRule;

export const HOLE_PAREN_NEGATIVE = 1;
export const HOLE_PAREN_COMPOUND = 2;

// How the parts are decided when a line is filled, one rule for its MathML (record.ts fill) and its text
// (formulaText.ts fillText), so the two always show the same substitution.

/** Whether a hole's value goes in brackets where it stands (its HOLE_PAREN_* flags): −2 as a right operand. */
export function bracketed(flags: number | undefined, value: { negative: boolean; compound: boolean }): boolean {
  const f = flags ?? 0;
  return ((f & HOLE_PAREN_NEGATIVE) !== 0 && value.negative) || ((f & HOLE_PAREN_COMPOUND) !== 0 && (value.compound || value.negative));
}

/** Whether a conditional part shows its `y` branch, from its test's value (`nn`: not null or undefined). */
export function choiceTaken(nn: 1 | undefined, test: unknown): boolean {
  return nn ? test !== null && test !== undefined : !!test;
}

/** Whether the right side of `&&` / `||` ran, from its left side's value. */
export function guardRan(op: "&&" | "||", left: unknown): boolean {
  return op === "&&" ? !!left : !left;
}

/** `x = formula = substitution = value`, or `formula = substitution = value` for a bare expression. */
export interface EquationDescriptor {
  k: "eq";
  /** 1-based line in the sheet's own source. */
  line: number;
  /** The assigned name, or "" for a bare expression. */
  name: string;
  /** MathML of the target; "" for a bare expression. */
  lhs: string;
  /** MathML of the formula; absent when it uses something that has no rendering (then `x = value`). */
  sym?: string;
  /** The substitution; absent when the formula has no values to substitute. */
  sub?: TemplatePart[];
  /** The formula is one literal: its value would only repeat it. */
  lit?: 1;
  /** The text of `lhs` and `sym`, and the text template of `sub` (formulaText.ts), made beside them at load time. */
  tl?: string;
  ts?: string;
  tb?: TextPart[];
  /**
   * Not in the instrumentation's JSON: the member realm makes it when it parses a table (sessionShared.ts), for a
   * line with a target and a formula that differ: the line's markup up to its formula, one flat string
   * (EQUATION_OPEN, lhs, `=`, sym), so rendering the line does not build it again.
   */
  head?: string;
}

/** How a rendered line's markup starts and ends (record.ts), when it is short enough to stay on one line. */
export const EQUATION_OPEN = '<div class="uzc-eq"><math displaystyle="true">';
export const EQUATION_CLOSE = "</math></div>\n";
/** Between the sides of a line: target, formula, substitution and value. */
export const EQUALS = "<mo>=</mo>";

/** A paragraph from a bare string or template literal; holes are the interpolations' values. */
export interface TextDescriptor {
  k: "text";
  line: number;
  /** Escaped HTML text and interpolation holes (HolePart with `s` unused). */
  parts: (string | { t: number; k?: string })[];
}

/** The condition of `check(cond, label)`: formula, substitution and, for a comparison, its two sides. */
export interface CheckDescriptor {
  k: "check";
  line: number;
  sym?: string;
  sub?: TemplatePart[];
  /** For a top-level comparison: temps of its left and right sides, and the operator. */
  cmp?: { l: number; r: number; op: "<" | "<=" | ">" | ">=" | "==" | "!=" };
}

export type RenderDescriptor = EquationDescriptor | TextDescriptor | CheckDescriptor;

/**
 * Names the instrumented code uses (the renderer itself is the realm global REALM.render); they are reserved in
 * sheets (a sheet mentioning `__uzon` is not instrumented).
 */
export const INSTRUMENT_NAMES = {
  /** Module-level: the renderer, and the module's descriptor table. */
  renderer: "__uzon$r",
  table: "__uzon$f",
  /** Per sheet function: the temps operand values are recorded in (`__uzon$0`, `__uzon$1`, ...). */
  tempPrefix: "__uzon$",
} as const;

/** What the instrumented code calls. Rendering never throws into the sheet. */
export interface RenderApi {
  /** Registers a module's descriptors (their JSON text) and returns them, parsed (the table the module indexes). */
  formulas(table: string): readonly RenderDescriptor[];
  eq(descriptor: EquationDescriptor, value: unknown, ...temps: unknown[]): void;
  text(descriptor: TextDescriptor, text: unknown, ...temps: unknown[]): void;
  /** Notes the condition's details for the `check()` call it is an argument of, and returns the condition. */
  c<T>(descriptor: CheckDescriptor, condition: T, ...temps: unknown[]): T;
  /** A `@render` helper starts and returns: what it writes between is its working, shown under the call. */
  enter(): void;
  leave(): void;
  /** A `@render table` helper's loop: its lines fill a table, a row per iteration, written when the loop ends. */
  tableStart(): void;
  row(): void;
  tableEnd(): void;
}
