// A small unit parser: enough to read what engineers type into a form (`300 mm`, `12 kN/m`, `25 N/mm²`)
// and convert it to the field's unit. Shared by the sandbox (validation), the webview (as-you-type checks)
// and the report engine, so a value is read the same way everywhere. Imports nothing.

/** Exponents of the base dimensions, in this order. Angle is kept apart so `deg` never silently mixes with 1. */
export const BASE_DIMENSIONS = ["m", "kg", "s", "A", "K", "mol", "cd", "rad"] as const;
export type Dimensions = readonly number[];

export interface Unit {
  /** Factor to the coherent SI unit of the same dimensions (1 mm → 0.001). */
  factor: number;
  dims: Dimensions;
}

// Units read here are shared: parseUnit caches them, and in the sandbox one copy of this module serves every
// session of a member realm, whose quantities carry these dimensions. So whatever leaves this module is frozen.
const D = (m = 0, kg = 0, s = 0, A = 0, K = 0, mol = 0, cd = 0, rad = 0): Dimensions => Object.freeze([m, kg, s, A, K, mol, cd, rad]);
const NONE = D();

interface UnitDef extends Unit {
  /** Whether SI prefixes apply (`kN`, `mm`, `MPa`). */
  prefixable: boolean;
}

const UNITS: Record<string, UnitDef> = {
  m: { factor: 1, dims: D(1), prefixable: true },
  g: { factor: 1e-3, dims: D(0, 1), prefixable: true },
  t: { factor: 1e3, dims: D(0, 1), prefixable: false },
  s: { factor: 1, dims: D(0, 0, 1), prefixable: true },
  min: { factor: 60, dims: D(0, 0, 1), prefixable: false },
  h: { factor: 3600, dims: D(0, 0, 1), prefixable: false },
  d: { factor: 86400, dims: D(0, 0, 1), prefixable: false },
  A: { factor: 1, dims: D(0, 0, 0, 1), prefixable: true },
  K: { factor: 1, dims: D(0, 0, 0, 0, 1), prefixable: true },
  mol: { factor: 1, dims: D(0, 0, 0, 0, 0, 1), prefixable: true },
  cd: { factor: 1, dims: D(0, 0, 0, 0, 0, 0, 1), prefixable: false },
  rad: { factor: 1, dims: D(0, 0, 0, 0, 0, 0, 0, 1), prefixable: true },
  deg: { factor: Math.PI / 180, dims: D(0, 0, 0, 0, 0, 0, 0, 1), prefixable: false },
  "°": { factor: Math.PI / 180, dims: D(0, 0, 0, 0, 0, 0, 0, 1), prefixable: false },
  N: { factor: 1, dims: D(1, 1, -2), prefixable: true },
  Pa: { factor: 1, dims: D(-1, 1, -2), prefixable: true },
  J: { factor: 1, dims: D(2, 1, -2), prefixable: true },
  W: { factor: 1, dims: D(2, 1, -3), prefixable: true },
  Hz: { factor: 1, dims: D(0, 0, -1), prefixable: true },
  V: { factor: 1, dims: D(2, 1, -3, -1), prefixable: true },
  L: { factor: 1e-3, dims: D(3), prefixable: true },
  l: { factor: 1e-3, dims: D(3), prefixable: true },
  bar: { factor: 1e5, dims: D(-1, 1, -2), prefixable: true },
  "%": { factor: 0.01, dims: NONE, prefixable: false },
  "‰": { factor: 0.001, dims: NONE, prefixable: false },
  in: { factor: 0.0254, dims: D(1), prefixable: false },
  ft: { factor: 0.3048, dims: D(1), prefixable: false },
  yd: { factor: 0.9144, dims: D(1), prefixable: false },
  mi: { factor: 1609.344, dims: D(1), prefixable: false },
  lb: { factor: 0.45359237, dims: D(0, 1), prefixable: false },
  lbf: { factor: 4.4482216152605, dims: D(1, 1, -2), prefixable: false },
  kip: { factor: 4448.2216152605, dims: D(1, 1, -2), prefixable: false },
  psi: { factor: 6894.757293168, dims: D(-1, 1, -2), prefixable: false },
  ksi: { factor: 6894757.293168, dims: D(-1, 1, -2), prefixable: false },
  kgf: { factor: 9.80665, dims: D(1, 1, -2), prefixable: false },
  tf: { factor: 9806.65, dims: D(1, 1, -2), prefixable: false },
};

for (const definition of Object.values(UNITS)) Object.freeze(definition);

const PREFIXES: Record<string, number> = {
  G: 1e9,
  M: 1e6,
  k: 1e3,
  h: 1e2,
  da: 1e1,
  d: 1e-1,
  c: 1e-2,
  m: 1e-3,
  µ: 1e-6,
  μ: 1e-6,
  u: 1e-6,
  n: 1e-9,
};

/** Superscript forms of digits and signs, as powers are written in units and numbers ("mm²", "10⁻⁶"). */
export const SUPERSCRIPT: Readonly<Record<string, string>> = {
  "0": "⁰",
  "1": "¹",
  "2": "²",
  "3": "³",
  "4": "⁴",
  "5": "⁵",
  "6": "⁶",
  "7": "⁷",
  "8": "⁸",
  "9": "⁹",
  "-": "⁻",
  "−": "⁻",
  "+": "⁺",
};

/** Back from superscript, for what the unit parser reads: the digits and the minus sign. */
const FROM_SUPERSCRIPT: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(SUPERSCRIPT)
    .filter(([plain]) => plain !== "−" && plain !== "+")
    .map(([plain, sup]) => [sup, plain]),
);

function lookupSymbol(symbol: string): Unit | undefined {
  const direct = UNITS[symbol];
  if (direct) return direct;
  for (const [prefix, scale] of Object.entries(PREFIXES)) {
    if (!symbol.startsWith(prefix) || symbol.length === prefix.length) continue;
    const base = UNITS[symbol.slice(prefix.length)];
    if (base?.prefixable) return { factor: base.factor * scale, dims: base.dims };
  }
  return undefined;
}

function combine(a: Unit, b: Unit, power: number): Unit {
  return { factor: a.factor * b.factor ** power, dims: a.dims.map((e, i) => e + (b.dims[i] ?? 0) * power) };
}

const unitCache = new Map<string, Unit | null>();

/** The longest unit expression read: no real unit comes near it, and it bounds what one cache entry holds. */
export const MAX_UNIT_LENGTH = 64;
const UNIT_CACHE_ENTRIES = 1000;

/**
 * Parses a unit expression: symbols joined by `*`, `·`, `⋅`, `/` or spaces, each with an optional power
 * (`^2`, `^-1`, `²`). Everything after the first `/` divides (`kN/m/s` = kN·m⁻¹·s⁻¹, as engineers read it).
 * Returns undefined for anything it does not know.
 */
export function parseUnit(text: string): Unit | undefined {
  if (text.length > MAX_UNIT_LENGTH * 4) return undefined;
  const key = text.trim();
  if (key.length > MAX_UNIT_LENGTH) return undefined;
  const cached = unitCache.get(key);
  if (cached !== undefined) return cached ?? undefined;
  const read = parseUnitUncached(key);
  const parsed = read && Object.freeze({ factor: read.factor, dims: Object.freeze(read.dims) });
  if (unitCache.size < UNIT_CACHE_ENTRIES) unitCache.set(key, parsed ?? null);
  return parsed;
}

function parseUnitUncached(text: string): Unit | undefined {
  if (text === "" || text === "1") return text === "1" ? { factor: 1, dims: NONE } : undefined;
  const normalized = text.replace(/[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+/g, (run) => "^" + [...run].map((c) => FROM_SUPERSCRIPT[c]).join(""));
  const tokens = normalized.match(/\s*([*·⋅/]|\^-?\d+|[^\s*·⋅/^]+)\s*/g);
  // The tokens must cover the whole text: a stray `^` (as in "m^") matches no token and would be skipped.
  if (!tokens || tokens.join("") !== normalized) return undefined;
  let result: Unit = { factor: 1, dims: NONE };
  let sign = 1;
  let pending: Unit | undefined;
  let expectOperand = true;
  const flush = (power: number) => {
    if (pending) result = combine(result, pending, sign * power);
    pending = undefined;
  };
  for (const raw of tokens.map((t) => t.trim())) {
    if (raw === "*" || raw === "·" || raw === "⋅" || raw === "/") {
      if (expectOperand) return undefined;
      flush(1);
      if (raw === "/") sign = -1;
      expectOperand = true;
    } else if (raw.startsWith("^")) {
      if (!pending) return undefined;
      flush(Number(raw.slice(1)));
      expectOperand = false;
    } else {
      if (pending) flush(1); // "kN m": a space multiplies
      const unit = raw === "1" ? { factor: 1, dims: NONE } : lookupSymbol(raw);
      if (!unit) return undefined;
      pending = unit;
      expectOperand = false;
    }
  }
  if (expectOperand) return undefined;
  flush(1);
  return result;
}

/** One symbol of a unit expression with its power, as written: "kN/m^3" is kN to the 1, m to the −3. */
export interface UnitPower {
  /** The symbol as written ("kN", "mm", "°"). */
  s: string;
  p: number;
}

/**
 * The symbols of a unit expression and their powers, in the order written, as `parseUnit` reads them (everything
 * after the first `/` divides); undefined for text that is not a unit.
 */
export function unitPowers(text: string): UnitPower[] | undefined {
  const key = text.trim();
  if (!parseUnit(key)) return undefined;
  const normalized = key.replace(/[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+/g, (run) => "^" + [...run].map((c) => FROM_SUPERSCRIPT[c]).join(""));
  const powers: UnitPower[] = [];
  let sign = 1;
  for (const token of normalized.match(/[*·⋅/]|\^-?\d+|[^\s*·⋅/^]+/g) ?? []) {
    if (token === "/") sign = -1;
    else if (token === "*" || token === "·" || token === "⋅") continue;
    else if (token[0] === "^") {
      const last = powers.at(-1);
      if (last) last.p = sign * Number(token.slice(1));
    } else if (token !== "1") powers.push({ s: token, p: sign });
  }
  return powers;
}

function superscript(power: number): string {
  const text = String(power);
  if (!/^-?\d+$/.test(text)) return `^${text}`;
  let out = "";
  for (const c of text) out += SUPERSCRIPT[c] ?? c;
  return out;
}

function symbolText(unit: UnitPower, power: number): string {
  return power === 1 ? unit.s : unit.s + superscript(power);
}

/** What a unit is written with: text (kN·m/s²) here, MathML in the report (runtime/units/quantity.ts). */
export interface UnitNotation {
  symbol(unit: UnitPower, power: number): string;
  dot: string;
  slash: string;
  open: string;
  close: string;
}

/**
 * A unit laid out as it reads on paper: the symbols with positive powers joined by dots, then a slash and the
 * others (bracketed when more than one): kN·m, mm², kN/m³, kg/(m·s²). Only negative powers: all of them, signed.
 */
export function writeUnit(powers: readonly UnitPower[], notation: UnitNotation): string {
  const up: string[] = [];
  const down: string[] = [];
  for (const unit of powers) {
    if (unit.p > 0) up.push(notation.symbol(unit, unit.p));
    else down.push(notation.symbol(unit, -unit.p));
  }
  if (up.length === 0) return powers.map((unit) => notation.symbol(unit, unit.p)).join(notation.dot);
  const top = up.join(notation.dot);
  if (down.length === 0) return top;
  return `${top}${notation.slash}${down.length === 1 ? down[0] : `${notation.open}${down.join(notation.dot)}${notation.close}`}`;
}

const TEXT_NOTATION: UnitNotation = { symbol: symbolText, dot: "·", slash: "/", open: "(", close: ")" };

/** A unit as text: what the form, the values beside the code and messages show. */
export function unitDisplay(powers: readonly UnitPower[]): string {
  return writeUnit(powers, TEXT_NOTATION);
}

/** A unit as written in a sheet ("kN/m^3", "kN*m") as it reads on paper ("kN/m³", "kN·m"); other text trimmed, as it is. */
export function unitLabel(text: string): string {
  const powers = unitPowers(text);
  return powers ? unitDisplay(powers) : text.trim();
}

/** A number as a form field in `unit` shows it ("3.2 m", "18 kN/m³"); without a unit, the number alone. */
export function valueWithUnit(value: number | string, unit: string | undefined): string {
  return unit ? `${value} ${unitLabel(unit)}` : String(value);
}

export function sameDimensions(a: Dimensions, b: Dimensions): boolean {
  return a.length === b.length && a.every((e, i) => Math.abs(e - (b[i] ?? 0)) < 1e-12);
}

/** A readable name for a dimension vector, for error messages ("a length", "a force"). */
export function describeDimensions(dims: Dimensions): string {
  const known: [Dimensions, string][] = [
    [D(1), "a length"],
    [D(2), "an area"],
    [D(3), "a volume"],
    [D(0, 1), "a mass"],
    [D(0, 0, 1), "a time"],
    [D(1, 1, -2), "a force"],
    [D(-1, 1, -2), "a pressure or stress"],
    [D(2, 1, -2), "a moment or energy"],
    [D(0, 1, -2), "a force per length"],
    [D(0, 0, 0, 0, 0, 0, 0, 1), "an angle"],
    [NONE, "a plain number"],
    [D(0, 0, 0, 0, 1), "a temperature"],
    [D(-3, 1), "a density"],
    [D(2, 1, -3), "a power"],
  ];
  const hit = known.find(([d]) => sameDimensions(d, dims));
  if (hit) return hit[1];
  const parts = BASE_DIMENSIONS.map((b, i) => (dims[i] ? (dims[i] === 1 ? b : `${b}^${dims[i]}`) : "")).filter(Boolean);
  return `a quantity in ${parts.join("·")}`;
}

export interface ParsedQuantity {
  value: number;
  /** The unit text as typed, or undefined when only a number was given. */
  unit?: string;
}

// The number only: what follows is sliced and trimmed, not matched (a lazy `(.*?)\s*$` backtracks quadratically
// over a long run of spaces).
const NUMBER = /^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)/;

/** The longest quantity text read ("300 mm"); a longer one is not a quantity. */
export const MAX_QUANTITY_LENGTH = 200;

/** Splits "300 mm" into 300 and "mm". Returns undefined when the text does not start with a number. */
export function parseQuantity(text: string): ParsedQuantity | undefined {
  if (text.length > MAX_QUANTITY_LENGTH) return undefined;
  const match = NUMBER.exec(text);
  if (!match) return undefined;
  const value = Number(match[1]);
  if (!Number.isFinite(value)) return undefined;
  const unit = text.slice(match[0].length).trim();
  return unit === "" ? { value } : { value, unit };
}

export type ConversionResult = { ok: true; value: number } | { ok: false; message: string };

/**
 * Converts a value typed with `fromUnit` into `toUnit`. A unit the parser does not know is accepted only when
 * both sides are spelled the same, so an exotic field unit still takes plain numbers.
 */
export function convertValue(value: number, fromUnit: string, toUnit: string): ConversionResult {
  if (fromUnit.trim() === toUnit.trim()) return { ok: true, value };
  const from = parseUnit(fromUnit);
  if (!from) return { ok: false, message: `unknown unit '${fromUnit}'` };
  const to = parseUnit(toUnit);
  if (!to) return { ok: false, message: `cannot convert '${fromUnit}' to '${toUnit}'` };
  if (!sameDimensions(from.dims, to.dims)) {
    return {
      ok: false,
      message: `'${fromUnit}' is ${describeDimensions(from.dims)}, but this field is ${describeDimensions(to.dims)} (${toUnit})`,
    };
  }
  // Rounding to 12 significant digits undoes binary noise from the factors (300 mm → 0.3 m, not 0.30000000000000004).
  return { ok: true, value: Number(((value * from.factor) / to.factor).toPrecision(12)) };
}

/** Every symbol the parser reads as one unit, with SI prefixes where they apply ("m", "mm", "kN", "MPa", ...). */
export function unitSymbols(): string[] {
  const out: string[] = [];
  for (const [symbol, unit] of Object.entries(UNITS)) {
    if (!out.includes(symbol)) out.push(symbol);
    if (!unit.prefixable) continue;
    for (const prefix of Object.keys(PREFIXES)) {
      const name = prefix + symbol;
      const found = lookupSymbol(name);
      if (
        !out.includes(name) &&
        found &&
        Math.abs(found.factor / (unit.factor * PREFIXES[prefix]!) - 1) < 1e-12 &&
        sameDimensions(found.dims, unit.dims)
      )
        out.push(name);
    }
  }
  return out;
}
