// Number formatting of the report (sandbox/runtime/report/numbers.ts): how values read.

import assert from "node:assert/strict";
import {
  DEFAULT_NUMBER_FORMAT,
  fixedLargeExact,
  fixedSmallExact,
  formatNumber,
  literalParts,
  numberMath,
  numberText,
  type NumberFormat,
} from "../../runtime/report/numbers";
import { formatValue, resetFormats, setFormat } from "../../runtime/report/values";
import { inlineText } from "../../../protocol/formulaText";

function text(value: number, format: Partial<NumberFormat> = {}): string {
  const full = { ...DEFAULT_NUMBER_FORMAT, ...format };
  return numberText(formatNumber(value, full), full);
}

describe("report number formatting", () => {
  it("shows 3 decimals with trailing zeros stripped, integers as they are", () => {
    const cases: [number, string][] = [
      [0, "0"],
      [-0, "0"],
      [3, "3"],
      [210000, "210000"],
      [7.2, "7.2"],
      [3.14159265, "3.142"],
      [12.3456789, "12.346"],
      [1234.5678, "1234.568"],
      [2.5, "2.5"],
      [-2.5, "−2.5"],
      [99.9996, "100"],
      [1 / 3, "0.333"],
      [2 / 3, "0.667"],
    ];
    for (const [value, expected] of cases) assert.equal(text(value), expected, String(value));
  });

  it("rounds on decimal digits, not binary: 0.1 + 0.2 is 0.3, 1.0005 is 1.001, 2.675 to two decimals is 2.68", () => {
    assert.equal(text(0.1 + 0.2), "0.3");
    assert.equal(text(1.0005), "1.001");
    assert.equal(text(2.675, { decimals: 2 }), "2.68");
    assert.equal(text(1.005, { decimals: 2 }), "1.01");
  });

  it("keeps 3 significant digits below 1 (significant decimals)", () => {
    assert.equal(text(0.00123456), "0.00123");
    assert.equal(text(0.0035), "0.0035");
    assert.equal(text(0.5), "0.5");
    assert.equal(text(0.09996), "0.1");
    assert.equal(text(0.9996), "1");
    assert.equal(text(-0.000123456), "−0.000123");
  });

  it("switches to scientific notation from 10⁶ and below 10⁻⁴, with the same decimals on the mantissa", () => {
    assert.equal(text(2592000), "2.592×10<sup>6</sup>");
    assert.equal(text(1e6), "10<sup>6</sup>");
    assert.equal(text(999999.9996), "10<sup>6</sup>", "rounding up to the threshold reads as the threshold");
    assert.equal(text(999999.4), "999999.4");
    // Rounding doubles 0.5 (to no decimals): the largest jump there is, still read as the threshold's notation.
    assert.equal(text(0.5, { decimals: 0, sciAbove: 1 }), "10<sup>0</sup>");
    assert.equal(text(-0.5, { decimals: 0, sciAbove: 1 }), "−10<sup>0</sup>");
    assert.equal(text(0.4999, { decimals: 0, sciAbove: 1 }), "0");
    assert.equal(text(0.95, { decimals: 1, sciAbove: 1 }), "10<sup>0</sup>");
    assert.equal(text(0.0000123456), "1.235×10<sup>−5</sup>");
    assert.equal(text(-1e-7), "−10<sup>−7</sup>");
    assert.equal(text(1e21), "10<sup>21</sup>");
    assert.equal(text(123456789012), "1.235×10<sup>11</sup>");
  });

  it("takes per-format decimals, thresholds and separators", () => {
    assert.equal(text(3.14159, { decimals: 0 }), "3");
    assert.equal(text(0.4, { decimals: 0 }), "0");
    assert.equal(text(0.6, { decimals: 0 }), "1");
    assert.equal(text(2592000, { sciAbove: Infinity }), "2592000");
    assert.equal(text(0.0000123, { sciBelow: 0 }), "0.0000123");
    assert.equal(text(1234567.891, { sciAbove: Infinity, thousands: " ", decimal: "," }), "1 234 567,891");
    assert.equal(text(1234.5, { thousands: "," }), "1234.5", "four-digit numbers are not grouped");
    assert.equal(text(12345, { thousands: "," }), "12,345");
  });

  it("reads non-finite numbers as ∞, −∞ and NaN", () => {
    assert.equal(text(Infinity), "∞");
    assert.equal(text(-Infinity), "−∞");
    assert.equal(text(NaN), "NaN");
    assert.equal(numberMath(formatNumber(-Infinity, DEFAULT_NUMBER_FORMAT)), "<mrow><mo>−</mo><mi>∞</mi></mrow>");
  });

  it("writes MathML: a sign or a power of ten makes an mrow; a mantissa of 1 is left out", () => {
    assert.equal(numberMath(formatNumber(7.2, DEFAULT_NUMBER_FORMAT)), "<mn>7.2</mn>");
    assert.equal(numberMath(formatNumber(-7.2, DEFAULT_NUMBER_FORMAT)), "<mrow><mo>−</mo><mn>7.2</mn></mrow>");
    assert.equal(
      numberMath(formatNumber(2592000, DEFAULT_NUMBER_FORMAT)),
      "<mrow><mn>2.592</mn><mo>×</mo><msup><mn>10</mn><mn>6</mn></msup></mrow>",
    );
    assert.equal(numberMath(formatNumber(1e-5, DEFAULT_NUMBER_FORMAT)), "<msup><mn>10</mn><mrow><mo>−</mo><mn>5</mn></mrow></msup>");
  });

  it("reads numeric literals as written", () => {
    assert.deepEqual(literalParts("1_000"), { negative: false, digits: "1000" });
    assert.deepEqual(literalParts("2.50"), { negative: false, digits: "2.50" });
    assert.deepEqual(literalParts(".5"), { negative: false, digits: "0.5" });
    assert.deepEqual(literalParts("1e6"), { negative: false, digits: "1", exponent: 6 });
    assert.deepEqual(literalParts("2.5E-3"), { negative: false, digits: "2.5", exponent: -3 });
    assert.equal(literalParts("0x10"), undefined);
  });

  it("reads every value as the exact decimal rounding does, also where binary scaling would tip a tie", () => {
    // formatNumber takes a fast way where it is safe (numbers.ts): here both ways meet on values of every
    // magnitude, on decimal ties (1.0005, 2.675), on values one ulp either side of them, and near powers of ten.
    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const values: number[] = [];
    for (let i = 0; i < 20000; i++) values.push(Math.pow(10, random() * 14 - 7) * (1 + random()));
    for (let whole = 0; whole < 200; whole++) {
      for (const tail of ["5", "05", "005", "0005", "00005", "95", "995", "9995", "49999999999999", "50000000000001", "675", "125"]) {
        const tie = Number(`${whole}.${tail}`);
        values.push(tie, tie * (1 + Number.EPSILON), tie * (1 - Number.EPSILON), Number(`0.${"0".repeat(whole % 6)}${tail}`));
      }
    }
    for (let power = -6; power <= 15; power++)
      values.push(10 ** power, 10 ** power * (1 - 1e-15), 10 ** power * (1 + 1e-15), 10 ** power - 0.0005);
    const fast = (x: number, decimals: number) =>
      numberText(formatNumber(x, { ...DEFAULT_NUMBER_FORMAT, decimals, sciAbove: Infinity, sciBelow: 0 }));
    let checked = 0;
    for (const x of values) {
      if (!(x > 0) || Number.isInteger(x) || x >= 1e15) continue;
      for (const decimals of [0, 1, 2, 3, 4, 6, 9, 12]) {
        const exact = x >= 1 || decimals === 0 ? fixedLargeExact(x, decimals) : fixedSmallExact(x, decimals);
        assert.equal(fast(x, decimals), exact, `${x} to ${decimals}`);
        checked++;
      }
    }
    assert.ok(checked > 100_000, `${checked} checked`);
  });

  it("gives a traced line each number's text as its MathML reads (the shortcut past reading it back agrees)", () => {
    // values.ts sets a number's formula text from its HTML text where that has no markup; a traced line otherwise
    // reads it from the MathML (inlineText). Both must say the same for every kind of number and format.
    const numbers = [0, 7.2, -7.2, 0.000123, -0.5, 1234567.891, -2592000, 1e-5, 2.5e-7, 1e21, 12345.678, Infinity, -Infinity, NaN];
    const formats: Record<string, unknown>[] = [
      {},
      { decimals: 0 },
      { thousands: " " },
      { thousands: ",", decimal: "·" },
      { sciAbove: Infinity, sciBelow: 0 },
    ];
    let shortcuts = 0;
    try {
      for (const options of formats) {
        resetFormats();
        setFormat(options, []);
        for (const value of numbers) {
          const formatted = formatValue(value)!;
          if (formatted.formula === undefined) continue;
          assert.equal(formatted.formula, inlineText(formatted.math), `${value} with ${JSON.stringify(options)}`);
          shortcuts++;
        }
      }
    } finally {
      resetFormats();
    }
    assert.ok(shortcuts > 40, `${shortcuts} shortcuts`);
  });
});
