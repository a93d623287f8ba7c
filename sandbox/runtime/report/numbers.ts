// Number formatting for the report: how a value reads (rounding, scientific notation, separators) and its
// markup in MathML and in text. Pure functions; shared by the host (literals at load time) and the realm
// (values at run time). Rounding is done on decimal digits, not in binary: 1.005 to two decimals is 1.01,
// and 0.1 + 0.2 is 0.3.

export interface NumberFormat {
  /** Decimals shown; below 1 in magnitude, significant digits instead (0.00123 keeps its three digits). */
  decimals: number;
  /** Magnitudes from here up are shown in scientific notation (2.592×10⁶). */
  sciAbove: number;
  /** Non-zero magnitudes below this are shown in scientific notation (1.2×10⁻⁵). */
  sciBelow: number;
  /** Between groups of three digits of the integer part (from five digits on); "" for none. */
  thousands: string;
  decimal: string;
}

export const DEFAULT_NUMBER_FORMAT: Readonly<NumberFormat> = { decimals: 3, sciAbove: 1e6, sciBelow: 1e-4, thousands: "", decimal: "." };

/** A number as it will read: sign, the digits (with "." as the decimal point), and a power of ten. */
export interface NumberParts {
  negative: boolean;
  digits: string;
  /** Present for scientific notation: digits × 10^exponent ("1" as digits reads as just 10^exponent). */
  exponent?: number;
}

/** The 15 significant digits of x > 0 and the power of ten of the first one. */
function significantDigits(x: number): { digits: number[]; exponent: number } {
  const text = x.toExponential(14);
  const e = text.indexOf("e");
  const digits: number[] = [];
  for (let i = 0; i < e; i++) {
    const code = text.charCodeAt(i);
    if (code >= 48 && code <= 57) digits.push(code - 48);
  }
  return { digits, exponent: +text.slice(e + 1) };
}

/** Rounds half up to `keep` leading digits (keep may exceed the digits: no rounding). Returns carry. */
function roundDigits(digits: number[], keep: number): boolean {
  if (keep >= digits.length) return false;
  if (keep < 0) {
    digits.length = 0;
    return false;
  }
  const up = digits[keep]! >= 5;
  digits.length = keep;
  if (!up) return false;
  for (let i = keep - 1; i >= 0; i--) {
    if (digits[i]! < 9) {
      digits[i]! += 1;
      return false;
    }
    digits[i] = 0;
  }
  return true;
}

function digitString(digits: number[], from: number, to: number): string {
  let text = "";
  for (let i = from; i < to; i++) text += i >= 0 && i < digits.length ? String.fromCharCode(48 + digits[i]!) : "0";
  return text;
}

function stripZeros(fraction: string): string {
  let end = fraction.length;
  while (end > 0 && fraction.charCodeAt(end - 1) === 48) end--;
  return fraction.slice(0, end);
}

/** x with at most `places` decimals, trailing zeros dropped (used for x ≥ 1, and for any x with no decimals). */
function fixedLarge(x: number, places: number): string {
  return fixedLargeFast(x, places) ?? fixedLargeExact(x, places);
}

/** 0 < x < 1 with `significant` significant digits, trailing zeros dropped (0.00123456 → 0.00123). */
function fixedSmall(x: number, significant: number): string {
  return fixedSmallFast(x, significant) ?? fixedSmallExact(x, significant);
}

// The exact way (decimal digits from toExponential, rounded as digits) costs a microsecond or so per value, most
// of a rendered line's time. The fast way scales in binary and rounds with Math.round's neighbours, and answers
// only where that cannot differ from the exact way: the scaled value is far from a rounding tie (farther than
// the 15-digit rounding and the one multiplication can move it), below 2^53, and (for x < 1) clearly inside
// its decade. Everything else (about one value in 10^12 that is not a tie on purpose, like 1.0005) goes the
// exact way. test/report/numbers.test.ts checks the two against each other over many values.

const POW10: readonly number[] = [
  1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];
/** Relative to the scaled value: well above 15-digit rounding (5e-15) plus one rounding of the product. */
const TIE_MARGIN = 1e-13;

/** Round half up of y > 0 when it is safely decided, else undefined. */
function roundedScaled(y: number): number | undefined {
  if (!(y < 1e15)) return undefined;
  const floor = Math.floor(y);
  const fraction = y - floor;
  const distance = fraction - 0.5;
  if ((distance < 0 ? -distance : distance) <= y * TIE_MARGIN) return undefined;
  return distance > 0 ? floor + 1 : floor;
}

/** "0" repeated: the zeros a fraction's digits follow (`places` is at most 22, the reach of POW10). */
const ZEROS: readonly string[] = POW10.map((_, count) => "0".repeat(count));

/**
 * A fraction's digits after the point, from its value (> 0) scaled to `places` digits: leading zeros kept, trailing
 * ones dropped (52 of 3 places is "052"; 500 is "5"). Integer arithmetic and one String() of a small integer, not
 * a slice and a scan of a longer string: this runs for every new value a rendered line shows.
 */
function fractionDigits(fraction: number, places: number): string {
  while (fraction % 10 === 0) {
    fraction /= 10;
    places--;
  }
  const digits = String(fraction);
  return ZEROS[places - digits.length]! + digits;
}

function fixedLargeFast(x: number, places: number): string | undefined {
  const scale = POW10[places];
  if (scale === undefined) return undefined;
  const rounded = roundedScaled(x * scale);
  if (rounded === undefined) return undefined;
  // Exact below 1e15: the quotient cannot round up to the next integer (1/scale is more than half its ulp), and
  // whole × scale and the remainder are integers below 2^53.
  const whole = Math.floor(rounded / scale);
  const fraction = rounded - whole * scale;
  return fraction === 0 ? String(whole) : String(whole) + "." + fractionDigits(fraction, places);
}

function fixedSmallFast(x: number, significant: number): string | undefined {
  // The power of ten of the first digit; a value near a power of ten (where log10 may be off by one, or rounding
  // moves it to the next decade) is left to the exact way by the range check below.
  const exponent = Math.floor(Math.log10(x));
  const scale = POW10[significant - 1 - exponent];
  const low = POW10[significant - 1];
  const high = POW10[significant];
  if (scale === undefined || low === undefined || high === undefined) return undefined;
  const y = x * scale;
  if (!(y > low * (1 + TIE_MARGIN) && y < (high - 0.5) * (1 - TIE_MARGIN))) return undefined;
  const rounded = roundedScaled(y);
  if (rounded === undefined) return undefined;
  // `rounded` has exactly `significant` digits (the range check): they follow the zeros of the value's decade.
  return "0." + ZEROS[-exponent - 1]! + fractionDigits(rounded, significant);
}

/** fixedLarge by decimal digits: the reference the fast way must agree with. */
export function fixedLargeExact(x: number, places: number): string {
  const { digits, exponent } = significantDigits(x);
  let intDigits = exponent + 1;
  if (roundDigits(digits, intDigits + places)) {
    digits.unshift(1);
    intDigits++;
  }
  const fraction = stripZeros(digitString(digits, intDigits, intDigits + places));
  const whole = intDigits > 0 ? digitString(digits, 0, intDigits) : "0";
  return fraction === "" ? whole : `${whole}.${fraction}`;
}

/** fixedSmall by decimal digits: the reference the fast way must agree with. */
export function fixedSmallExact(x: number, significant: number): string {
  const { digits, exponent } = significantDigits(x);
  const leadingZeros = -exponent - 1;
  if (roundDigits(digits, significant)) return leadingZeros === 0 ? "1" : `0.${"0".repeat(leadingZeros - 1)}1`;
  const fraction = stripZeros(digitString(digits, 0, significant));
  return fraction === "" ? "0" : `0.${"0".repeat(leadingZeros)}${fraction}`;
}

function scientific(x: number, decimals: number, negative: boolean): NumberParts {
  const { digits, exponent } = significantDigits(x);
  let power = exponent;
  if (roundDigits(digits, 1 + decimals)) {
    digits.unshift(1);
    digits.length = 1 + decimals;
    power++;
  }
  const fraction = stripZeros(digitString(digits, 1, 1 + decimals));
  return { negative, digits: fraction === "" ? digitString(digits, 0, 1) : `${digitString(digits, 0, 1)}.${fraction}`, exponent: power };
}

/** How a finite number reads under a format; non-finite numbers are "∞", "−∞" or "NaN". */
export function formatNumber(value: number, format: NumberFormat): NumberParts | string {
  if (value !== value) return "NaN";
  if (value === Infinity) return "∞";
  if (value === -Infinity) return "−∞";
  const negative = value < 0;
  const x = negative ? -value : value;
  const decimals = format.decimals;
  // toFixed stops being exact at 1e21: beyond that, scientific notation whatever the format says.
  if (x >= 1e21 || x >= format.sciAbove || (x > 0 && x < format.sciBelow)) return scientific(x, decimals, negative);
  let digits: string;
  if (Number.isInteger(x)) digits = x.toFixed(0);
  else if (x >= 1 || decimals === 0) digits = fixedLarge(x, decimals);
  else digits = fixedSmall(x, decimals);
  if (digits === "0") return { negative: false, digits };
  // Rounding can reach the threshold (999999.9996 → 1000000): show it as the threshold's notation would. Rounding
  // at most doubles a value (0.5 → 1), so only values from half the threshold up are read back from their digits.
  if (x >= format.sciAbove / 2 && +digits >= format.sciAbove) return scientific(+digits, decimals, negative);
  return { negative, digits };
}

/** Parses a numeric literal's source text ("1_000", "2.50", "1e6", ".5") into parts as written. */
export function literalParts(raw: string): NumberParts | undefined {
  const text = raw.replace(/_/g, "");
  const match = /^(\d+\.?\d*|\.\d+)(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!match) return undefined;
  let digits = match[1]!;
  if (digits.startsWith(".")) digits = "0" + digits;
  if (digits.endsWith(".")) digits = digits.slice(0, -1);
  return match[2] === undefined ? { negative: false, digits } : { negative: false, digits, exponent: +match[2] };
}

const MINUS = "−";

function grouped(digits: string, format: Pick<NumberFormat, "thousands" | "decimal">): string {
  const point = digits.indexOf(".");
  let whole = point < 0 ? digits : digits.slice(0, point);
  const fraction = point < 0 ? "" : digits.slice(point + 1);
  if (format.thousands !== "" && whole.length > 4) {
    let out = "";
    for (let i = 0; i < whole.length; i++) {
      if (i > 0 && (whole.length - i) % 3 === 0) out += format.thousands;
      out += whole[i];
    }
    whole = out;
  }
  return fraction === "" ? whole : whole + format.decimal + fraction;
}

/**
 * The digits as they read under the format: grouped, with its decimal mark, escaped. Under the usual separators
 * (none, and ".") the digits read as they are (they are only 0-9 and "."), which a rendered line's values mostly are.
 */
function shownDigits(digits: string, format: Pick<NumberFormat, "thousands" | "decimal">): string {
  return format.thousands === "" && format.decimal === "." ? digits : escapeText(grouped(digits, format));
}

function escapeText(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    out += c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : c;
  }
  return out;
}

function exponentMath(exponent: number): string {
  return exponent < 0 ? `<mrow><mo>${MINUS}</mo><mn>${-exponent}</mn></mrow>` : `<mn>${exponent}</mn>`;
}

/** MathML of a number (an mrow when it has a sign or a power of ten). */
export function numberMath(
  parts: NumberParts | string,
  format: Pick<NumberFormat, "thousands" | "decimal"> = DEFAULT_NUMBER_FORMAT,
): string {
  if (typeof parts === "string") {
    if (parts === "NaN") return "<mi>NaN</mi>";
    return parts.startsWith(MINUS) ? `<mrow><mo>${MINUS}</mo><mi>∞</mi></mrow>` : "<mi>∞</mi>";
  }
  const mantissa = `<mn>${shownDigits(parts.digits, format)}</mn>`;
  let body = mantissa;
  if (parts.exponent !== undefined) {
    const power = `<msup><mn>10</mn>${exponentMath(parts.exponent)}</msup>`;
    body = parts.digits === "1" ? power : `${mantissa}<mo>×</mo>${power}`;
  }
  if (parts.negative) return `<mrow><mo>${MINUS}</mo>${body}</mrow>`;
  return parts.exponent !== undefined && parts.digits !== "1" ? `<mrow>${body}</mrow>` : body;
}

/** HTML text of a number, for paragraphs and table cells. */
export function numberText(
  parts: NumberParts | string,
  format: Pick<NumberFormat, "thousands" | "decimal"> = DEFAULT_NUMBER_FORMAT,
): string {
  if (typeof parts === "string") return parts;
  let body = shownDigits(parts.digits, format);
  if (parts.exponent !== undefined) {
    const power = `10<sup>${parts.exponent < 0 ? MINUS + -parts.exponent : parts.exponent}</sup>`;
    body = parts.digits === "1" ? power : `${body}×${power}`;
  }
  return parts.negative ? MINUS + body : body;
}

/** True when a number's markup is more than one token (it needs parentheses as a power's base). */
export function isCompound(parts: NumberParts | string): boolean {
  return typeof parts !== "string" && parts.exponent !== undefined;
}
