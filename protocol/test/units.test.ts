import assert from "node:assert/strict";
import { convertValue, describeDimensions, parseQuantity, parseUnit, sameDimensions, unitLabel, type Unit } from "../units";

// Dimension vectors in the order m, kg, s, A, K, mol, cd, rad.
const LENGTH = [1, 0, 0, 0, 0, 0, 0, 0];
const AREA = [2, 0, 0, 0, 0, 0, 0, 0];
const PER_LENGTH = [-1, 0, 0, 0, 0, 0, 0, 0];
const FORCE = [1, 1, -2, 0, 0, 0, 0, 0];
const MOMENT = [2, 1, -2, 0, 0, 0, 0, 0];
const STRESS = [-1, 1, -2, 0, 0, 0, 0, 0];
const FORCE_PER_LENGTH = [0, 1, -2, 0, 0, 0, 0, 0];
const FREQUENCY = [0, 0, -1, 0, 0, 0, 0, 0];
const ANGLE = [0, 0, 0, 0, 0, 0, 0, 1];
const NONE = [0, 0, 0, 0, 0, 0, 0, 0];

/** Asserts a unit parses to the given factor (to 12 significant digits) and dimensions. */
function assertUnit(text: string, factor: number, dims: number[]): void {
  const unit = parseUnit(text);
  assert.ok(unit, `'${text}' should parse`);
  assertClose(unit.factor, factor, `factor of '${text}'`);
  assert.deepEqual([...unit.dims], dims, `dimensions of '${text}'`);
}

function assertClose(actual: number, expected: number, what: string, relative = 1e-12): void {
  const tolerance = Math.abs(expected) * relative + 1e-300;
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: expected ${expected}, got ${actual}`);
}

function converted(value: number, from: string, to: string): number {
  const result = convertValue(value, from, to);
  assert.ok(result.ok, `${value} ${from} → ${to} should convert: ${result.ok ? "" : result.message}`);
  return result.value;
}

function conversionError(value: number, from: string, to: string): string {
  const result = convertValue(value, from, to);
  assert.equal(result.ok, false, `${value} ${from} → ${to} should be refused`);
  return result.ok ? "" : result.message;
}

describe("protocol/units", () => {
  describe("parseUnit", () => {
    it("parses base and prefixed symbols", () => {
      assertUnit("m", 1, LENGTH);
      assertUnit("mm", 1e-3, LENGTH);
      assertUnit("cm", 1e-2, LENGTH);
      assertUnit("km", 1e3, LENGTH);
      assertUnit("kg", 1, [0, 1, 0, 0, 0, 0, 0, 0]);
      assertUnit("t", 1e3, [0, 1, 0, 0, 0, 0, 0, 0]);
      assertUnit("s", 1, [0, 0, 1, 0, 0, 0, 0, 0]);
      assertUnit("min", 60, [0, 0, 1, 0, 0, 0, 0, 0]);
    });

    it("parses forces and stresses", () => {
      assertUnit("N", 1, FORCE);
      assertUnit("kN", 1e3, FORCE);
      assertUnit("MN", 1e6, FORCE);
      assertUnit("Pa", 1, STRESS);
      assertUnit("kPa", 1e3, STRESS);
      assertUnit("MPa", 1e6, STRESS);
      assertUnit("GPa", 1e9, STRESS);
    });

    it("parses products written with '*', '·' and a space", () => {
      assertUnit("kN*m", 1e3, MOMENT);
      assertUnit("kN·m", 1e3, MOMENT);
      assertUnit("kN⋅m", 1e3, MOMENT);
      assertUnit("kN m", 1e3, MOMENT);
      assertUnit("N·mm", 1e-3, MOMENT);
    });

    it("parses quotients and powers", () => {
      assertUnit("N/mm^2", 1e6, STRESS);
      assertUnit("N/mm²", 1e6, STRESS);
      assertUnit("kN/m", 1e3, FORCE_PER_LENGTH);
      assertUnit("kN/m^2", 1e3, STRESS);
      assertUnit("m²", 1, AREA);
      assertUnit("m^2", 1, AREA);
      assertUnit("mm²", 1e-6, AREA);
      assertUnit("m³", 1, [3, 0, 0, 0, 0, 0, 0, 0]);
      assertUnit("m^-1", 1, PER_LENGTH);
      assertUnit("m⁻¹", 1, PER_LENGTH);
      assertUnit("1/s", 1, FREQUENCY);
      assertUnit("Hz", 1, FREQUENCY);
    });

    it("divides by everything after the first '/'", () => {
      assertUnit("kN/m/s", 1e3, [0, 1, -3, 0, 0, 0, 0, 0]);
    });

    it("tolerates spaces around operators and the whole text", () => {
      assertUnit(" N / mm^2 ", 1e6, STRESS);
      assertUnit("kN * m", 1e3, MOMENT);
    });

    it("parses percent, degrees and plain 1", () => {
      assertUnit("%", 0.01, NONE);
      assertUnit("deg", Math.PI / 180, ANGLE);
      assertUnit("°", Math.PI / 180, ANGLE);
      assertUnit("rad", 1, ANGLE);
      assertUnit("1", 1, NONE);
    });

    it("parses imperial units", () => {
      assertUnit("psi", 6894.757293168, STRESS);
      assertUnit("ksi", 6894757.293168, STRESS);
      assertUnit("in", 0.0254, LENGTH);
      assertUnit("ft", 0.3048, LENGTH);
      assertUnit("kip", 4448.2216152605, FORCE);
    });

    it("returns undefined for unknown symbols", () => {
      for (const text of ["furlong", "kft", "kpsi", "Nm", "m2", "xyz", "N/furlong"]) {
        assert.equal(parseUnit(text), undefined, text);
      }
    });

    it("returns undefined for an empty text", () => {
      assert.equal(parseUnit(""), undefined);
      assert.equal(parseUnit("   "), undefined);
    });

    it("returns undefined for malformed expressions", () => {
      for (const text of ["*m", "m/", "m*", "/m", "m//s", "m**s", "^2", "m^", "m^x", "m^2^3", "m^ 2", "kN/"]) {
        assert.equal(parseUnit(text), undefined, text);
      }
    });

    it("gives the same answer on a repeated (cached) parse", () => {
      const first = parseUnit("kN/m") as Unit;
      const second = parseUnit("kN/m") as Unit;
      assert.deepEqual(second, first);
      assert.equal(parseUnit("m^"), undefined);
      assert.equal(parseUnit("m^"), undefined);
    });
  });

  describe("sameDimensions and describeDimensions", () => {
    it("compares dimension vectors", () => {
      assert.equal(sameDimensions(parseUnit("N/mm²")!.dims, parseUnit("MPa")!.dims), true);
      assert.equal(sameDimensions(parseUnit("kN")!.dims, parseUnit("kN/m")!.dims), false);
    });

    it("names common dimensions", () => {
      assert.equal(describeDimensions(LENGTH), "a length");
      assert.equal(describeDimensions(AREA), "an area");
      assert.equal(describeDimensions(FORCE), "a force");
      assert.equal(describeDimensions(STRESS), "a pressure or stress");
      assert.equal(describeDimensions(MOMENT), "a moment or energy");
      assert.equal(describeDimensions(FORCE_PER_LENGTH), "a force per length");
      assert.equal(describeDimensions(ANGLE), "an angle");
      assert.equal(describeDimensions(NONE), "a plain number");
    });

    it("spells out other dimensions in base units", () => {
      assert.equal(describeDimensions(FREQUENCY), "a quantity in s^-1");
      assert.equal(describeDimensions([1, 0, -1, 0, 0, 0, 0, 0]), "a quantity in m·s^-1");
    });
  });

  describe("parseQuantity", () => {
    it("splits a number and a unit", () => {
      assert.deepEqual(parseQuantity("300 mm"), { value: 300, unit: "mm" });
      assert.deepEqual(parseQuantity("300mm"), { value: 300, unit: "mm" });
      assert.deepEqual(parseQuantity("-2.5kN"), { value: -2.5, unit: "kN" });
      assert.deepEqual(parseQuantity(".5 m"), { value: 0.5, unit: "m" });
      assert.deepEqual(parseQuantity("12 kN/m"), { value: 12, unit: "kN/m" });
      assert.deepEqual(parseQuantity("  25   N/mm²  "), { value: 25, unit: "N/mm²" });
    });

    it("reads a plain number without a unit key", () => {
      const q = parseQuantity("1e3");
      assert.deepEqual(q, { value: 1000 });
      assert.equal(q && "unit" in q, false);
      assert.deepEqual(parseQuantity("42"), { value: 42 });
      assert.deepEqual(parseQuantity("+7"), { value: 7 });
      assert.deepEqual(parseQuantity("5."), { value: 5 });
      assert.deepEqual(parseQuantity("2.5E-3"), { value: 0.0025 });
      assert.deepEqual(parseQuantity(" -0.75 "), { value: -0.75 });
    });

    it("returns undefined when the text does not start with a number", () => {
      for (const text of ["abc", "", "   ", "m 300", ".", "-", "e3", "Infinity", "NaN"]) {
        assert.equal(parseQuantity(text), undefined, JSON.stringify(text));
      }
    });

    it("returns undefined for a number too large to be finite", () => {
      assert.equal(parseQuantity("1e999"), undefined);
    });
  });

  describe("convertValue", () => {
    it("converts 300 mm to exactly 0.3 m", () => {
      assert.equal(converted(300, "mm", "m"), 0.3);
    });

    it("converts 25 N/mm² to exactly 25 MPa", () => {
      assert.equal(converted(25, "N/mm²", "MPa"), 25);
      assert.equal(converted(25, "N/mm^2", "MPa"), 25);
    });

    it("converts 1 kN·m to 1000 N·m", () => {
      assert.equal(converted(1, "kN·m", "N·m"), 1000);
      assert.equal(converted(1, "kN m", "N*m"), 1000);
    });

    it("converts 90 deg to π/2 rad", () => {
      // Conversions are rounded to 12 significant digits, so compare to that precision.
      assertClose(converted(90, "deg", "rad"), Math.PI / 2, "90 deg in rad", 1e-11);
      assert.equal(converted(Math.PI, "rad", "deg"), 180);
    });

    it("converts other common cases", () => {
      assert.equal(converted(0.3, "m", "mm"), 300);
      assert.equal(converted(12, "kN/m", "N/mm"), 12);
      assert.equal(converted(1, "ksi", "psi"), 1000);
      assert.equal(converted(50, "%", "1"), 0.5);
      assert.equal(converted(1, "in", "mm"), 25.4);
      assert.equal(converted(2, "t", "kg"), 2000);
    });

    it("passes the value through when both units are spelled the same", () => {
      assert.equal(converted(7.123456789012345, "m", "m"), 7.123456789012345);
      assert.equal(converted(3, " kN ", "kN"), 3);
    });

    it("passes identical unknown units through", () => {
      assert.equal(converted(5, "furlong", "furlong"), 5);
      assert.equal(converted(5, "", ""), 5);
    });

    it("refuses incompatible dimensions, naming both", () => {
      const message = conversionError(1, "kN", "m");
      assert.match(message, /'kN' is a force/);
      assert.match(message, /this field is a length \(m\)/);
      const other = conversionError(1, "mm", "MPa");
      assert.match(other, /'mm' is a length/);
      assert.match(other, /a pressure or stress \(MPa\)/);
    });

    it("keeps angles apart from plain numbers", () => {
      assert.match(conversionError(90, "deg", "1"), /'deg' is an angle.*a plain number/);
    });

    it("refuses an unknown source unit, naming it", () => {
      assert.match(conversionError(1, "furlong", "m"), /unknown unit 'furlong'/);
    });

    it("refuses an unknown target unit, naming both", () => {
      assert.match(conversionError(1, "m", "furlong"), /cannot convert 'm' to 'furlong'/);
    });
  });

  describe("unitLabel", () => {
    it("writes a unit as it reads on paper, the way the report shows quantities (issue 16 item 8)", () => {
      assert.equal(unitLabel("kN/m^3"), "kN/m³");
      assert.equal(unitLabel("kN*m"), "kN·m");
      assert.equal(unitLabel("N/mm^2"), "N/mm²");
      assert.equal(unitLabel("kg/m/s^2"), "kg/(m·s²)");
      assert.equal(unitLabel(" m^-1 "), "m⁻¹");
      assert.equal(unitLabel("kN·m²"), "kN·m²");
      assert.equal(unitLabel("deg"), "deg");
    });

    it("leaves text that is not a unit as it is, trimmed", () => {
      assert.equal(unitLabel(" furlongs^2 "), "furlongs^2");
    });
  });
});
