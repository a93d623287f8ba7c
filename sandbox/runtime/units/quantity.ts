// Quantities in the sheet realm: a magnitude (in coherent SI), its dimensions and the unit it is shown in.
// Units are read by protocol/units.ts, the same parser that reads what users type into a form (`300 mm`).
//
// Sheets get quantities from `import { m, kN } from "uzoncalc/units"` or `unit("kN*m")`. In the sheet module the
// instrumentation turns `a * b`, `a + b`, `a < b`, `-a`, `Math.sqrt(a)`, ... into calls of the operations below,
// which go straight to the number operator when both operands are numbers. A quantity that reaches arithmetic
// that was not rewritten (a helper in another file) throws from valueOf instead of losing its unit.
//
// How results read: in the operands' units, combined (`2 kN · 3 m` is `6 kN·m`, never `6 kJ`); a unit of the
// same kind as one already there is folded into it (`mm · m` is `mm²`); `.to("kN*m")` converts.
//
// One copy of this module serves every session of a member realm (scripts/realmRuntime.cjs): the class, the tables
// and the parsed units are shared and frozen. A session's `units({...})` choices are its only state here; they
// live in the list unitOps() is given, which the session's runtime makes (units/index.ts).

import { quoted } from "../../../protocol/fields";
import {
  describeDimensions,
  parseUnit,
  sameDimensions,
  unitDisplay,
  unitPowers,
  writeUnit,
  type Dimensions,
  type UnitNotation,
  type UnitPower,
} from "../../../protocol/units";

const DIMENSIONS = 8;

/** One symbol of a display unit with its power: kN·m⁻² is [kN¹, m⁻²]. */
interface Term extends UnitPower {
  /** Factor of the symbol (not of the power) to coherent SI. */
  f: number;
  d: Dimensions;
}

function round12(value: number): number {
  return value === 0 || !Number.isFinite(value) ? value : Number(value.toPrecision(12));
}

function isZeroDims(d: Dimensions): boolean {
  for (let i = 0; i < DIMENSIONS; i++) if (Math.abs(d[i] ?? 0) > 1e-12) return false;
  return true;
}

export class UnitError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = "UnitError";
  }
}

export class Quantity {
  /** Magnitude in coherent SI units. */
  readonly si: number;
  readonly dims: Dimensions;
  readonly terms: readonly Term[];

  /** Quantities carry this brand; `#brand in value` reads no property and runs no Proxy trap. */
  #brand(): void {}

  static is(value: unknown): value is Quantity {
    return typeof value === "object" && value !== null && #brand in value;
  }

  constructor(si: number, dims: Dimensions, terms: readonly Term[]) {
    this.si = si;
    this.dims = dims;
    this.terms = terms;
  }

  /** The magnitude in the unit it is shown in. */
  get value(): number {
    return round12(this.si / termsFactor(this.terms));
  }

  /** The unit it is shown in, as text ("kN·m", "N/mm²"). */
  get unit(): string {
    return unitDisplay(this.terms);
  }

  /** The same quantity shown in `unit` ("kN*m", "MPa"); throws if the dimensions differ. */
  to(unit: unknown): Quantity {
    const target = termsOf(unit, "to");
    const dims = termsDims(target);
    if (!sameDimensions(dims, this.dims)) {
      throw new UnitError(
        `Cannot convert ${this.toString()} to ${String(unit)}: ${describeDimensions(this.dims)} is not ${describeDimensions(dims)}.`,
      );
    }
    return new Quantity(this.si, this.dims, target);
  }

  /** The magnitude as a plain number in `unit`. */
  in(unit: unknown): number {
    return this.to(unit).value;
  }

  toString(): string {
    return `${formatPlain(this.value)} ${this.unit}`;
  }

  toJSON(): { value: number; unit: string } {
    return { value: this.value, unit: this.unit };
  }

  valueOf(): never {
    throw new UnitError(
      `The quantity ${this.toString()} was used in arithmetic that keeps no units (code outside the sheet module, or a built-in). ` +
        `Do the arithmetic in the sheet file, or take a plain number with .in("${this.unit}").`,
    );
  }
}

function formatPlain(value: number): string {
  return String(round12(value));
}

function termsFactor(terms: readonly Term[]): number {
  let factor = 1;
  for (const t of terms) factor *= t.f ** t.p;
  return factor;
}

function termsDims(terms: readonly Term[]): Dimensions {
  const d = [0, 0, 0, 0, 0, 0, 0, 0];
  for (const t of terms) for (let i = 0; i < DIMENSIONS; i++) d[i]! += (t.d[i] ?? 0) * t.p;
  return d;
}

function symbolMath(t: UnitPower, power: number): string {
  const mi = `<mi mathvariant="normal">${escapeUnit(t.s)}</mi>`;
  return power === 1 ? mi : `<msup>${mi}<mn>${power < 0 ? "−" + String(-power) : String(power)}</mn></msup>`;
}

function escapeUnit(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

const TIGHT_DOT = '<mo lspace="0" rspace="0">·</mo>';
const TIGHT_SLASH = '<mo lspace="0" rspace="0">/</mo>';

const MATH_NOTATION: UnitNotation = { symbol: symbolMath, dot: TIGHT_DOT, slash: TIGHT_SLASH, open: "<mo>(</mo>", close: "<mo>)</mo>" };

/** A unit's symbols and powers as MathML, laid out as its text is (writeUnit): kN·m, kN/m³, kg/(m·s²). */
export function unitPowersMath(powers: readonly UnitPower[]): string {
  return writeUnit(powers, MATH_NOTATION);
}

/** A value's unit as MathML (one element, for the report's value markup). */
export function unitMath(terms: readonly Term[]): string {
  return `<mrow>${unitPowersMath(terms)}</mrow>`;
}

// ---- reading units ------------------------------------------------------------------------------------

/** Parsed units, shared by the member's sessions: frozen, since quantities carry them; bounded like parseUnit's. */
const termCache = new Map<string, readonly Term[]>();
const TERM_CACHE_ENTRIES = 1000;

/** The display terms of a unit expression, symbol by symbol ("kN*m/s^2" → kN¹ m¹ s⁻²). */
function parseTerms(text: string): readonly Term[] | undefined {
  const key = text.trim();
  const cached = termCache.get(key);
  if (cached) return cached;
  const powers = unitPowers(key);
  if (!powers) return undefined;
  let terms: Term[] = [];
  for (const { s, p } of powers) {
    const unit = parseUnit(s);
    if (!unit) return undefined;
    terms.push({ s, f: unit.factor, d: unit.dims, p });
  }
  terms = merge(terms, [], 1);
  for (const term of terms) Object.freeze(term);
  const shared = Object.freeze(terms);
  if (termCache.size < TERM_CACHE_ENTRIES) termCache.set(key, shared);
  return shared;
}

function termsOf(unit: unknown, where: string): readonly Term[] {
  if (typeof unit !== "string") throw new UnitError(`${where}(unit): the unit must be a string such as "kN*m".`);
  const terms = parseTerms(unit);
  if (!terms)
    throw new UnitError(
      `${where}(): unknown unit '${quoted(unit)}'. Units are SI symbols with prefixes (mm, kN, MPa), joined by * and / with ^ powers ("kN*m", "N/mm^2").`,
    );
  return terms;
}

/** `unit("kN*m")`: one of that unit. */
export function unit(text: unknown): Quantity {
  const terms = termsOf(text, "unit");
  return new Quantity(termsFactor(terms), termsDims(terms), terms);
}

// ---- arithmetic -------------------------------------------------------------------------------------------

/** The terms of a product (sign 1) or quotient (sign −1): same symbols add powers, a symbol of the same kind folds in. */
function merge(left: readonly Term[], right: readonly Term[], sign: number): Term[] {
  const out: Term[] = [];
  const add = (t: Term, power: number) => {
    for (const o of out) {
      if (o.s === t.s) {
        o.p += power;
        return;
      }
    }
    for (const o of out) {
      if (sameDimensions(o.d, t.d)) {
        o.p += power;
        return;
      }
    }
    out.push({ s: t.s, f: t.f, d: t.d, p: power });
  };
  for (const t of left) add(t, t.p);
  for (const t of right) add(t, t.p * sign);
  return out.filter((t) => Math.abs(t.p) > 1e-12);
}

function make(si: number, dims: Dimensions, terms: readonly Term[], preferences: UnitPreferences): Quantity | number {
  // A dimensionless result is the plain ratio of the SI magnitudes: 15 m / 3 mm is 5000, whatever units they were written in.
  if (isZeroDims(dims)) return round12(si);
  const preferred =
    (preferences.length === 0 ? undefined : unitsOfKind(preferences, dims)) ?? (terms.length > 1 ? kindDefault(dims) : undefined);
  return new Quantity(si, dims, preferred ?? terms);
}

// ---- per-sheet preferences ----------------------------------------------------------------------------------

/** Kind names `units()` accepts as keys, with their dimensions (the key must agree with the unit). */
const KINDS: Record<string, string> = {
  length: "m",
  area: "m^2",
  volume: "m^3",
  mass: "kg",
  time: "s",
  force: "N",
  stress: "Pa",
  pressure: "Pa",
  moment: "N*m",
  energy: "J",
  power: "W",
  "force per length": "N/m",
  lineLoad: "N/m",
  areaLoad: "Pa",
  density: "kg/m^3",
  angle: "rad",
  sectionModulus: "m^3",
  inertia: "m^4",
  stiffness: "N/m",
  weightDensity: "N/m^3",
};

/** A session's `units({...})` choices, latest last: what products, quotients and powers of a kind read in. */
export type UnitPreferences = { dims: Dimensions; terms: readonly Term[] }[];

/**
 * What a product or quotient of these kinds reads in when its unit would be made of several symbols (kPa·m² is a
 * force: kN; kN/m² a stress: MPa), as a structural engineer expects to read them. A sheet's `units({...})` wins;
 * a result in one symbol (mm², kN/m folded from kN/mm·mm) keeps it, as do values written with their unit.
 */
const KIND_DEFAULTS: readonly { dims: Dimensions; terms: readonly Term[] }[] = ["kN", "kN*m", "MPa"].map((text) => {
  const terms = parseTerms(text)!;
  return { dims: termsDims(terms), terms };
});

function kindDefault(dims: Dimensions): readonly Term[] | undefined {
  return unitsOfKind(KIND_DEFAULTS, dims);
}

/** The units a list gives for a kind (its dimensions), if it has any. */
function unitsOfKind(list: readonly { dims: Dimensions; terms: readonly Term[] }[], dims: Dimensions): readonly Term[] | undefined {
  for (const entry of list) if (sameDimensions(entry.dims, dims)) return entry.terms;
  return undefined;
}

/**
 * `units({ stress: "MPa", moment: "kN*m" })`: products, quotients and powers of those kinds read in those units
 * from here on (a sum keeps its first operand's unit, `.to()` what it is given). The key names the kind (see
 * KINDS) and must agree with the unit; any other key is taken as a label.
 */
function setPreferences(preferences: UnitPreferences, options: unknown): void {
  if (typeof options !== "object" || options === null)
    throw new UnitError('units(preferences): pass an object such as { stress: "MPa", moment: "kN*m" }.');
  for (const [kind, text] of Object.entries(options as Record<string, unknown>)) {
    const terms = termsOf(text, "units");
    const dims = termsDims(terms);
    const expected = KINDS[kind];
    if (expected !== undefined && !sameDimensions(termsDims(parseTerms(expected)!), dims)) {
      throw new UnitError(`units(): ${kind} cannot be shown in ${String(text)}, which is ${describeDimensions(dims)}.`);
    }
    for (let i = preferences.length - 1; i >= 0; i--) if (sameDimensions(preferences[i]!.dims, dims)) preferences.splice(i, 1);
    preferences.push({ dims, terms });
  }
}

function scaleTerms(terms: readonly Term[], power: number): Term[] {
  return terms.map((t) => ({ s: t.s, f: t.f, d: t.d, p: t.p * power }));
}

function describe(value: unknown): string {
  if (isQuantity(value)) return `${value.toString()} (${describeDimensions(value.dims)})`;
  if (typeof value === "number") return `the plain number ${formatPlain(value)}`;
  if (typeof value === "string") return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value)}`;
  return value === null ? "null" : `a value of type ${typeof value}`;
}

function where(line: unknown): string {
  return typeof line === "number" ? `Line ${line}: ` : "";
}

const VERBS: Record<string, string> = {
  "+": "add",
  "−": "subtract",
  "×": "multiply",
  "÷": "divide",
  "^": "raise",
  mod: "take the remainder of",
  min: "compare",
  max: "compare",
};

function operandError(op: string, a: unknown, b: unknown, line: unknown, hint = ""): UnitError {
  return new UnitError(`${where(line)}cannot ${VERBS[op] ?? "compare"} ${describe(a)} ${op === "^" ? "to" : "and"} ${describe(b)}${hint}.`);
}

function mulSlow(a: unknown, b: unknown, sign: 1 | -1, line: unknown, preferences: UnitPreferences): unknown {
  const qa = isQuantity(a);
  const qb = isQuantity(b);
  if (!qa && !qb) return sign === 1 ? (a as number) * (b as number) : (a as number) / (b as number);
  const op = sign === 1 ? "×" : "÷";
  if (qa && qb) {
    const terms = merge(a.terms, b.terms, sign);
    const dims = a.dims.map((e, i) => e + sign * (b.dims[i] ?? 0));
    return make(sign === 1 ? a.si * b.si : a.si / b.si, dims, terms, preferences);
  }
  if (qa) {
    if (typeof b !== "number") throw operandError(op, a, b, line);
    return new Quantity(sign === 1 ? a.si * b : a.si / b, a.dims, a.terms);
  }
  if (typeof a !== "number") throw operandError(op, a, b, line);
  const q = b as Quantity;
  if (sign === 1) return new Quantity(a * q.si, q.dims, q.terms);
  return new Quantity(
    a / q.si,
    q.dims.map((e) => -e),
    scaleTerms(q.terms, -1),
  );
}

/** Same dimensions, or one side a plain zero (a sum that starts at 0, a test against 0). */
function sameKind(op: string, a: unknown, b: unknown, line: unknown): [number, number, Quantity] {
  const qa = isQuantity(a);
  const qb = isQuantity(b);
  if (qa && qb) {
    if (!sameDimensions(a.dims, b.dims))
      throw operandError(op, a, b, line, `: ${describeDimensions(a.dims)} and ${describeDimensions(b.dims)} do not mix`);
    return [a.si, b.si, a];
  }
  if (qa && b === 0) return [a.si, 0, a];
  if (qb && a === 0) return [0, b.si, b];
  throw operandError(op, a, b, line, qa || qb ? ": a quantity mixes only with a quantity of the same kind (or 0)" : "");
}

function addSlow(a: unknown, b: unknown, sign: 1 | -1, line: unknown): unknown {
  const qa = isQuantity(a);
  const qb = isQuantity(b);
  if (!qa && !qb) return sign === 1 ? (a as number) + (b as number) : (a as number) - (b as number);
  if (sign === 1 && (typeof a === "string" || typeof b === "string")) return String(a) + String(b);
  const [x, y, shown] = sameKind(sign === 1 ? "+" : "−", a, b, line);
  return new Quantity(sign === 1 ? x + y : x - y, shown.dims, shown.terms);
}

export function add(a: unknown, b: unknown, line?: number): unknown {
  if (typeof a === "number" && typeof b === "number") return a + b;
  return addSlow(a, b, 1, line);
}

export function sub(a: unknown, b: unknown, line?: number): unknown {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return addSlow(a, b, -1, line);
}

export function mod(a: unknown, b: unknown, line?: number): unknown {
  if (typeof a === "number" && typeof b === "number") return a % b;
  if (!isQuantity(a) && !isQuantity(b)) return (a as number) % (b as number);
  const [x, y, shown] = sameKind("mod", a, b, line);
  return new Quantity(x % y, shown.dims, shown.terms);
}

function compareSlow(op: string, a: unknown, b: unknown, line: unknown): [unknown, unknown] {
  if (!isQuantity(a) && !isQuantity(b)) return [a, b];
  const [x, y] = sameKind(op, a, b, line);
  return [x, y];
}

export function lt(a: unknown, b: unknown, line?: number): boolean {
  if (typeof a === "number" && typeof b === "number") return a < b;
  const [x, y] = compareSlow("<", a, b, line);
  return (x as number) < (y as number);
}

export function le(a: unknown, b: unknown, line?: number): boolean {
  if (typeof a === "number" && typeof b === "number") return a <= b;
  const [x, y] = compareSlow("≤", a, b, line);
  return (x as number) <= (y as number);
}

export function gt(a: unknown, b: unknown, line?: number): boolean {
  if (typeof a === "number" && typeof b === "number") return a > b;
  const [x, y] = compareSlow(">", a, b, line);
  return (x as number) > (y as number);
}

export function ge(a: unknown, b: unknown, line?: number): boolean {
  if (typeof a === "number" && typeof b === "number") return a >= b;
  const [x, y] = compareSlow("≥", a, b, line);
  return (x as number) >= (y as number);
}

function powSlow(a: unknown, b: unknown, line: unknown, preferences: UnitPreferences): unknown {
  if (isQuantity(b)) throw operandError("^", a, b, line, ": an exponent must be a plain number");
  if (!isQuantity(a)) return (a as number) ** (b as number);
  if (typeof b !== "number") throw operandError("^", a, b, line);
  return make(
    a.si ** b,
    a.dims.map((e) => e * b),
    scaleTerms(a.terms, b),
    preferences,
  );
}

export function neg(a: unknown): unknown {
  if (typeof a === "number") return -a;
  if (isQuantity(a)) return new Quantity(-a.si, a.dims, a.terms);
  return -(a as number);
}

// ---- Math functions -------------------------------------------------------------------------------------

export function abs(a: unknown): unknown {
  if (typeof a === "number") return Math.abs(a);
  if (isQuantity(a)) return new Quantity(Math.abs(a.si), a.dims, a.terms);
  return Math.abs(a as number);
}

/** Plain numbers only: Math's own min, max or hypot then answer. */
function allNumbers(args: readonly unknown[]): args is number[] {
  for (const arg of args) if (typeof arg !== "number") return false;
  return true;
}

function extreme(name: string, args: unknown[], pick: (a: number, b: number) => boolean): unknown {
  if (allNumbers(args)) return name === "min" ? Math.min(...args) : Math.max(...args);
  let best: unknown;
  let bestSi = NaN;
  for (const arg of args) {
    if (best === undefined) {
      best = arg;
      bestSi = isQuantity(arg) ? arg.si : (arg as number);
      continue;
    }
    const [x, y] = sameKind(name, best, arg, undefined);
    if (pick(y, x)) {
      best = arg;
      bestSi = y;
    }
  }
  return best === undefined ? (name === "min" ? Infinity : -Infinity) : Number.isNaN(bestSi) ? NaN : best;
}

export function min(...args: unknown[]): unknown {
  return extreme("min", args, (a, b) => a < b);
}

export function max(...args: unknown[]): unknown {
  return extreme("max", args, (a, b) => a > b);
}

function angle(name: string, a: unknown): number {
  if (typeof a === "number") return a;
  if (isQuantity(a) && sameDimensions(a.dims, [0, 0, 0, 0, 0, 0, 0, 1])) return a.si;
  throw new UnitError(`Math.${name}() takes an angle (rad or deg) or a plain number, not ${describe(a)}.`);
}

export function sin(a: unknown): number {
  return typeof a === "number" ? Math.sin(a) : Math.sin(angle("sin", a));
}

export function cos(a: unknown): number {
  return typeof a === "number" ? Math.cos(a) : Math.cos(angle("cos", a));
}

export function tan(a: unknown): number {
  return typeof a === "number" ? Math.tan(a) : Math.tan(angle("tan", a));
}

/** What `Math.xxx(...)` calls the instrumentation sends here (the others stay Math's own). */
export const MATH_OPS = ["sqrt", "cbrt", "abs", "min", "max", "hypot", "pow", "sin", "cos", "tan"] as const;

// ---- the report -------------------------------------------------------------------------------------------

/** Trap-free (a private brand, not instanceof): a Proxy from a sheet sees nothing of this test. */
export function isQuantity(value: unknown): value is Quantity {
  return Quantity.is(value);
}

/** Units for `.to()` on a plain number: a clear error, as a number has no unit to convert from. */
export function numberTo(this: unknown, unit: unknown): never {
  throw new UnitError(
    `${formatPlain(Number(this))}.to(${JSON.stringify(unit)}): a plain number has no unit to convert. Multiply it by a unit first (5 * m).`,
  );
}

/**
 * The operations instrumented code calls (REALM.units), for one session: those that can read in a preferred unit
 * are made per session around its preferences; the rest are the shared functions themselves.
 */
export function unitOps(preferences: UnitPreferences) {
  const mul = (a: unknown, b: unknown, line?: number): unknown =>
    typeof a === "number" && typeof b === "number" ? a * b : mulSlow(a, b, 1, line, preferences);
  const div = (a: unknown, b: unknown, line?: number): unknown =>
    typeof a === "number" && typeof b === "number" ? a / b : mulSlow(a, b, -1, line, preferences);
  const pow = (a: unknown, b: unknown, line?: number): unknown =>
    typeof a === "number" && typeof b === "number" ? a ** b : powSlow(a, b, line, preferences);
  const sqrt = (a: unknown): unknown => (typeof a === "number" ? Math.sqrt(a) : pow(a, 0.5));
  const cbrt = (a: unknown): unknown => (typeof a === "number" ? Math.cbrt(a) : isQuantity(a) ? pow(a, 1 / 3) : Math.cbrt(a as number));
  const hypot = (...args: unknown[]): unknown => {
    if (allNumbers(args)) return Math.hypot(...args);
    let sum: unknown = 0;
    for (const arg of args) sum = add(sum, mul(arg, arg));
    return sqrt(sum);
  };
  const units = (options: unknown): void => setPreferences(preferences, options);
  return { mul, div, add, sub, mod, lt, le, gt, ge, pow, neg, sqrt, cbrt, abs, min, max, hypot, sin, cos, tan, unit, units };
}
