import assert from "node:assert/strict";
import type { Field, FieldValue, WindowSpec } from "../fields";
import {
  checkField,
  checkWindowInput,
  closestName,
  editDistance,
  isMissing,
  missingValue,
  summarizeFieldErrors,
  type FieldCheck,
} from "../validate";

function field(spec: Partial<Field> & Pick<Field, "name" | "type">): Field {
  return { label: spec.name, required: false, ...spec };
}

function accepted(check: FieldCheck): FieldValue {
  assert.ok(check.ok, `expected the value to be accepted, got: ${check.ok ? "" : check.message}`);
  return check.value;
}

function refused(check: FieldCheck): string {
  assert.equal(check.ok, false, `expected the value to be refused, got ${JSON.stringify(check.ok ? check.value : undefined)}`);
  return check.ok ? "" : check.message;
}

const span = field({ name: "span", type: "number", label: "Span", unit: "m", min: 0.5, max: 40 });
const count = field({ name: "count", type: "number" });
const propped = field({ name: "propped", type: "boolean", label: "Propped cantilever" });
const grade = field({
  name: "grade",
  type: "selectOne",
  label: "Concrete",
  options: [
    { value: "C25/30", label: "C25/30" },
    { value: "C30/37", label: "C30/37" },
  ],
});
const loads = field({
  name: "loads",
  type: "selectMany",
  options: [
    { value: "dead", label: "dead" },
    { value: "live", label: "live" },
    { value: "wind", label: "wind" },
  ],
});

describe("protocol/validate", () => {
  describe("number fields", () => {
    it("takes a finite number as is", () => {
      assert.equal(accepted(checkField(span, 6)), 6);
      assert.equal(accepted(checkField(count, -3.25)), -3.25);
      assert.equal(accepted(checkField(count, 0)), 0);
    });

    it("reads a numeric string", () => {
      assert.equal(accepted(checkField(span, "6")), 6);
      assert.equal(accepted(checkField(span, " 12.5 ")), 12.5);
      assert.equal(accepted(checkField(count, "1e3")), 1000);
      assert.equal(accepted(checkField(count, "-2")), -2);
    });

    it("converts a value typed with a unit into the field's unit", () => {
      assert.equal(accepted(checkField(span, "3000 mm")), 3);
      assert.equal(accepted(checkField(span, "650mm")), 0.65);
      assert.equal(accepted(checkField(span, "6 m")), 6);
      const stress = field({ name: "fck", type: "number", unit: "MPa" });
      assert.equal(accepted(checkField(stress, "25 N/mm²")), 25);
      const moment = field({ name: "M", type: "number", unit: "kN·m" });
      assert.equal(accepted(checkField(moment, "2500 N·m")), 2.5);
    });

    it("gives 300 mm as 0.3 in a field in m", () => {
      const depth = field({ name: "depth", type: "number", unit: "m" });
      assert.equal(accepted(checkField(depth, "300 mm")), 0.3);
    });

    it("refuses a unit of the wrong dimension, naming both", () => {
      const message = refused(checkField(span, "5 kN"));
      assert.match(message, /^Span\b/);
      assert.match(message, /'kN' is a force/);
      assert.match(message, /a length \(m\)/);
    });

    it("refuses an unknown unit, naming it", () => {
      assert.match(refused(checkField(span, "5 furlongs")), /Span.*unknown unit 'furlongs'/);
    });

    it("refuses a unit on a field without one", () => {
      const message = refused(checkField(count, "5 m"));
      assert.match(message, /count must be a plain number, without a unit/);
      assert.match(message, /got "5 m"/);
    });

    it("refuses text that is not a number", () => {
      assert.match(refused(checkField(span, "six")), /Span must be a number, got "six"/);
      assert.match(refused(checkField(count, "m 5")), /count must be a number, got "m 5"/);
    });

    it("refuses NaN and Infinity", () => {
      for (const raw of [NaN, Infinity, -Infinity]) {
        assert.match(refused(checkField(span, raw)), /Span must be a finite number/, String(raw));
      }
      assert.match(refused(checkField(span, "Infinity")), /Span must be a number, got "Infinity"/);
      assert.match(refused(checkField(span, "1e999")), /must be a number, got/);
    });

    it("refuses values of other types", () => {
      assert.match(refused(checkField(span, true)), /Span must be a number, got true/);
      assert.match(refused(checkField(span, [6])), /Span must be a number, got an array/);
      assert.match(refused(checkField(span, { value: 6 })), /Span must be a number/);
    });

    it("refuses a value below min, naming the limit with its unit", () => {
      const message = refused(checkField(span, 0.2));
      assert.match(message, /Span must be at least 0\.5 m/);
      assert.match(message, /got 0\.2 m/);
    });

    it("checks min after converting the unit", () => {
      const message = refused(checkField(span, "300 mm"));
      assert.match(message, /at least 0\.5 m/);
      assert.match(message, /got 0\.3 m/);
    });

    it("refuses a value above max, naming the limit with its unit", () => {
      const message = refused(checkField(span, "41"));
      assert.match(message, /Span must be at most 40 m/);
      assert.match(message, /got 41 m/);
      assert.match(refused(checkField(span, "45000 mm")), /at most 40 m.*got 45 m/);
    });

    it("accepts values on the limits", () => {
      assert.equal(accepted(checkField(span, 0.5)), 0.5);
      assert.equal(accepted(checkField(span, 40)), 40);
      assert.equal(accepted(checkField(span, "500 mm")), 0.5);
    });

    it("states limits without a unit on a unitless field", () => {
      const n = field({ name: "n", type: "number", min: 1, max: 10 });
      assert.match(refused(checkField(n, 0)), /n must be at least 1, got 0/);
      assert.match(refused(checkField(n, 11)), /n must be at most 10, got 11/);
    });

    it("ignores step (it is only the control's increment)", () => {
      const stepped = field({ name: "x", type: "number", step: 0.5 });
      assert.equal(accepted(checkField(stepped, 0.3)), 0.3);
    });
  });

  describe("boolean fields", () => {
    it("takes true and false", () => {
      assert.equal(accepted(checkField(propped, true)), true);
      assert.equal(accepted(checkField(propped, false)), false);
    });

    it("takes 1 and 0", () => {
      assert.equal(accepted(checkField(propped, 1)), true);
      assert.equal(accepted(checkField(propped, 0)), false);
    });

    it("reads words, in any case", () => {
      for (const word of ["true", "yes", "on", "1", "TRUE", "Yes", " on "]) assert.equal(accepted(checkField(propped, word)), true, word);
      for (const word of ["false", "no", "off", "0", "False", "NO", " off "])
        assert.equal(accepted(checkField(propped, word)), false, word);
    });

    it("refuses anything else", () => {
      for (const raw of [2, -1, 0.5, "maybe", "truthy", [], {}, [true]]) {
        assert.match(refused(checkField(propped, raw)), /Propped cantilever must be yes or no \(true\/false\)/, JSON.stringify(raw));
      }
      assert.match(refused(checkField(propped, "maybe")), /got "maybe"/);
    });
  });

  describe("selectOne fields", () => {
    it("takes an option value exactly", () => {
      assert.equal(accepted(checkField(grade, "C30/37")), "C30/37");
      assert.equal(accepted(checkField(grade, " C25/30 ")), "C25/30");
    });

    it("matches numeric options by String(value), returning the option's own value", () => {
      const diameter = field({
        name: "d",
        type: "selectOne",
        options: [
          { value: 10, label: "10" },
          { value: 12, label: "12" },
        ],
      });
      assert.equal(accepted(checkField(diameter, 12)), 12);
      assert.equal(accepted(checkField(diameter, "12")), 12);
      assert.equal(typeof accepted(checkField(diameter, "10")), "number");
    });

    it("matches string options given a number", () => {
      const level = field({
        name: "level",
        type: "selectOne",
        options: [
          { value: "1", label: "1" },
          { value: "2", label: "2" },
        ],
      });
      assert.equal(accepted(checkField(level, 2)), "2");
    });

    it("matches a unique label", () => {
      const exposure = field({
        name: "exposure",
        type: "selectOne",
        options: [
          { value: "xc1", label: "Dry" },
          { value: "xc2", label: "Wet, rarely dry" },
        ],
      });
      assert.equal(accepted(checkField(exposure, "Wet, rarely dry")), "xc2");
      assert.equal(accepted(checkField(exposure, "xc1")), "xc1");
    });

    it("prefers a value over another option's label", () => {
      const tricky = field({
        name: "t",
        type: "selectOne",
        options: [
          { value: "a", label: "b" },
          { value: "b", label: "B" },
        ],
      });
      assert.equal(accepted(checkField(tricky, "b")), "b");
    });

    it("refuses a label shared by two options", () => {
      const twins = field({
        name: "t",
        type: "selectOne",
        options: [
          { value: "a", label: "Same" },
          { value: "b", label: "Same" },
        ],
      });
      assert.match(refused(checkField(twins, "Same")), /t must be one of .*, got "Same"/);
    });

    it("refuses an unknown option, listing the options", () => {
      const message = refused(checkField(grade, "C40/50"));
      assert.match(message, /Concrete must be one of .*, got "C40\/50"/);
      assert.match(message, /C25\/30, C30\/37/);
    });

    it("lists value and label when they differ", () => {
      const exposure = field({
        name: "exposure",
        type: "selectOne",
        options: [
          { value: "xc1", label: "Dry" },
          { value: "xc2", label: "xc2" },
        ],
      });
      assert.match(refused(checkField(exposure, "xc9")), /xc1 \(Dry\), xc2/);
    });

    it("refuses values of other types", () => {
      assert.match(refused(checkField(grade, ["C30/37"])), /Concrete must be one of .*, got an array/);
      assert.match(refused(checkField(grade, {})), /Concrete must be one of .*, got/);
    });

    it("matches boolean options exactly", () => {
      const yesNo = field({
        name: "b",
        type: "selectOne",
        options: [
          { value: true, label: "Yes" },
          { value: false, label: "No" },
        ],
      });
      assert.equal(accepted(checkField(yesNo, false)), false);
      assert.equal(accepted(checkField(yesNo, "No")), false);
    });
  });

  describe("selectMany fields", () => {
    it("takes an array of option values", () => {
      assert.deepEqual(accepted(checkField(loads, ["dead", "live"])), ["dead", "live"]);
    });

    it("returns the choices in the options' order", () => {
      assert.deepEqual(accepted(checkField(loads, ["wind", "dead"])), ["dead", "wind"]);
      assert.deepEqual(accepted(checkField(loads, ["live", "wind", "dead"])), ["dead", "live", "wind"]);
    });

    it("removes duplicates", () => {
      assert.deepEqual(accepted(checkField(loads, ["live", "dead", "live", "dead"])), ["dead", "live"]);
    });

    it("reads a comma-separated string", () => {
      assert.deepEqual(accepted(checkField(loads, "wind, dead")), ["dead", "wind"]);
      assert.deepEqual(accepted(checkField(loads, "live,live")), ["live"]);
      assert.deepEqual(accepted(checkField(loads, "live")), ["live"]);
    });

    it("keeps an option whose value contains a comma whole", () => {
      const combos = field({
        name: "c",
        type: "selectMany",
        options: [
          { value: "a, b", label: "a, b" },
          { value: "a", label: "a" },
        ],
      });
      assert.deepEqual(accepted(checkField(combos, "a, b")), ["a, b"]);
    });

    it("matches items by label and numeric options by text", () => {
      const bars = field({
        name: "bars",
        type: "selectMany",
        options: [
          { value: 10, label: "ø10" },
          { value: 12, label: "ø12" },
          { value: 16, label: "ø16" },
        ],
      });
      assert.deepEqual(accepted(checkField(bars, ["16", "ø10"])), [10, 16]);
      assert.deepEqual(accepted(checkField(bars, "12,10")), [10, 12]);
    });

    it("refuses unknown items, naming them and listing the options", () => {
      const one = refused(checkField(loads, ["dead", "snow"]));
      assert.match(one, /loads must be among dead, live, wind, got "snow"/);
      const two = refused(checkField(loads, "snow, ice"));
      assert.match(two, /must be among dead, live, wind, got "snow", "ice"/);
    });

    it("refuses values that are not a list", () => {
      assert.match(refused(checkField(loads, 3)), /loads must be a list of options, got 3/);
      assert.match(refused(checkField(loads, { dead: true })), /loads must be a list of options/);
    });

    it("accepts an empty array on an optional field", () => {
      assert.deepEqual(accepted(checkField(loads, [])), []);
    });

    it("refuses an empty choice on a required field", () => {
      const required = { ...loads, required: true };
      assert.match(refused(checkField(required, [])), /loads must have at least one option chosen/);
      assert.match(refused(checkField(required, " , ")), /loads must have at least one option chosen/);
      assert.deepEqual(accepted(checkField(required, ["wind"])), ["wind"]);
    });
  });

  describe("text and textarea fields", () => {
    for (const type of ["text", "textarea"] as const) {
      const notes = field({ name: "notes", type, label: "Notes" });

      it(`${type}: takes a string as is`, () => {
        assert.equal(accepted(checkField(notes, "Project 42")), "Project 42");
        assert.equal(accepted(checkField(notes, "  padded  ")), "  padded  ");
        assert.equal(accepted(checkField(notes, "line 1\nline 2")), "line 1\nline 2");
      });

      it(`${type}: turns a number or boolean into a string`, () => {
        assert.equal(accepted(checkField(notes, 42)), "42");
        assert.equal(accepted(checkField(notes, 2.5)), "2.5");
        assert.equal(accepted(checkField(notes, true)), "true");
      });

      it(`${type}: refuses objects and arrays`, () => {
        assert.match(refused(checkField(notes, { a: 1 })), /Notes must be text, got a value of type object/);
        assert.match(refused(checkField(notes, ["a"])), /Notes must be text, got an array/);
      });
    }
  });

  describe("missing values", () => {
    it("counts undefined, null and empty or blank strings as missing", () => {
      for (const raw of [undefined, null, "", "   "]) assert.equal(isMissing(raw), true, JSON.stringify(raw));
      for (const raw of [0, false, [], "0", "x", NaN]) assert.equal(isMissing(raw), false, JSON.stringify(raw));
    });

    it("refuses a missing required field, naming it by its label", () => {
      for (const type of ["number", "boolean", "selectOne", "selectMany", "text", "textarea"] as const) {
        const f = field({ name: "thing", type, label: "The thing", required: true, options: [{ value: "a", label: "a" }] });
        for (const raw of [undefined, null, ""]) {
          assert.match(refused(checkField(f, raw)), /^The thing is required\.$/, `${type} ${JSON.stringify(raw)}`);
        }
      }
    });

    it("names a required field by its name when it has no other label", () => {
      assert.match(refused(checkField(field({ name: "depth", type: "number", required: true }), undefined)), /^depth is required/);
    });

    it("gives a missing optional field its default", () => {
      const cases: [Field, FieldValue][] = [
        [{ ...span, default: 6 }, 6],
        [{ ...propped, default: true }, true],
        [{ ...grade, default: "C30/37" }, "C30/37"],
        [{ ...loads, default: ["dead"] }, ["dead"]],
        [field({ name: "ref", type: "text", default: "P-1" }), "P-1"],
        [field({ name: "notes", type: "textarea", default: "none" }), "none"],
      ];
      for (const [f, expected] of cases) {
        for (const raw of [undefined, null, ""]) {
          assert.deepEqual(accepted(checkField(f, raw)), expected, `${f.type} ${JSON.stringify(raw)}`);
        }
        assert.deepEqual(missingValue(f), expected);
      }
    });

    it("without a default: false for boolean, [] for selectMany, null for the others", () => {
      assert.equal(accepted(checkField(propped, undefined)), false);
      assert.deepEqual(accepted(checkField(loads, "")), []);
      assert.equal(accepted(checkField(span, null)), null);
      assert.equal(accepted(checkField(grade, "")), null);
      assert.equal(accepted(checkField(field({ name: "ref", type: "text" }), "")), null);
      assert.equal(accepted(checkField(field({ name: "notes", type: "textarea" }), undefined)), null);
    });

    it("does not skip the checks of a present value because of a default", () => {
      assert.match(refused(checkField({ ...span, default: 6 }, "100")), /at most 40 m/);
    });
  });

  describe("checkWindowInput", () => {
    const geometry: WindowSpec = {
      id: "geometry",
      title: "Geometry",
      fields: [{ ...span, required: true }, { ...grade, default: "C30/37" }, loads, propped, field({ name: "ref", type: "text" })],
    };

    it("returns every field's value when the input is valid", () => {
      const result = checkWindowInput(geometry, { span: "7500 mm", loads: "live,dead", propped: "yes" });
      assert.deepEqual(result, {
        ok: true,
        values: { span: 7.5, grade: "C30/37", loads: ["dead", "live"], propped: true, ref: null },
      });
    });

    it("reports an unknown key under that key, suggesting a close field name", () => {
      const result = checkWindowInput(geometry, { span: 6, spna: 7 });
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.deepEqual(Object.keys(result.errors), ["spna"]);
      assert.match(result.errors.spna!, /'spna' is not a field of window 'geometry'/);
      assert.match(result.errors.spna!, /did you mean 'span'\?/);
    });

    it("suggests a field name for a typo in case, or one letter off", () => {
      const result = checkWindowInput(geometry, { span: 6, Grade: "C25/30", lods: ["dead"] });
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.match(result.errors.Grade!, /did you mean 'grade'/);
      assert.match(result.errors.lods!, /did you mean 'loads'/);
    });

    it("lists the fields when no name is close", () => {
      const result = checkWindowInput(geometry, { span: 6, thickness: 0.2 });
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.doesNotMatch(result.errors.thickness!, /did you mean/);
      assert.match(result.errors.thickness!, /its fields are span, grade, loads, propped, ref/);
    });

    it("reports every field error at once, keyed by field name", () => {
      const result = checkWindowInput(geometry, { grade: "C99", loads: ["snow"], propped: "perhaps", extra: 1 });
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.deepEqual(Object.keys(result.errors).sort(), ["extra", "grade", "loads", "propped", "span"]);
      assert.match(result.errors.span!, /Span is required/);
      assert.match(result.errors.grade!, /must be one of .*, got "C99"/);
      assert.match(result.errors.loads!, /must be among .*, got "snow"/);
      assert.match(result.errors.propped!, /must be yes or no \(true\/false\)/);
      assert.match(result.errors.extra!, /'extra' is not a field/);
    });

    it("refuses a valid form that has one unknown key", () => {
      const result = checkWindowInput(geometry, { span: 6, unknown_key: true });
      assert.equal(result.ok, false);
    });

    it("does not take inherited properties for values", () => {
      const input = Object.create({ span: 6 }) as Record<string, unknown>;
      const result = checkWindowInput(geometry, input);
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.match(result.errors.span!, /is required/);
    });

    it("accepts an empty input for a window of optional fields", () => {
      const optional: WindowSpec = { id: "opt", title: "Opt", fields: [propped, loads, count] };
      assert.deepEqual(checkWindowInput(optional, {}), { ok: true, values: { propped: false, loads: [], count: null } });
    });
  });

  describe("summarizeFieldErrors", () => {
    it("joins errors as 'name: message'", () => {
      assert.equal(summarizeFieldErrors({ span: "too short", grade: "unknown" }), "span: too short; grade: unknown");
      assert.equal(summarizeFieldErrors({}), "");
    });
  });

  describe("editDistance", () => {
    it("is 0 for equal strings and the length against an empty one", () => {
      assert.equal(editDistance("span", "span"), 0);
      assert.equal(editDistance("", ""), 0);
      assert.equal(editDistance("", "abc"), 3);
      assert.equal(editDistance("abcd", ""), 4);
    });

    it("counts insertions, deletions and substitutions", () => {
      assert.equal(editDistance("kitten", "sitting"), 3);
      assert.equal(editDistance("span", "spans"), 1);
      assert.equal(editDistance("loads", "lods"), 1);
      assert.equal(editDistance("grade", "grape"), 1);
      assert.equal(editDistance("abc", "xyz"), 3);
    });

    it("counts a swap of two neighbouring letters as one edit", () => {
      assert.equal(editDistance("spna", "span"), 1);
      assert.equal(editDistance("ab", "ba"), 1);
      assert.equal(editDistance("dpeth", "depth"), 1);
    });

    it("is symmetric", () => {
      for (const [a, b] of [
        ["kitten", "sitting"],
        ["spna", "span"],
        ["", "xy"],
        ["flaw", "lawn"],
      ] as const) {
        assert.equal(editDistance(a, b), editDistance(b, a), `${a} / ${b}`);
      }
    });

    it("is case-sensitive", () => {
      assert.equal(editDistance("Span", "span"), 1);
    });
  });

  describe("closestName", () => {
    const names = ["span", "depth", "grade", "loads", "propped"];

    it("finds the closest name for a plausible typo", () => {
      assert.equal(closestName("spna", names), "span");
      assert.equal(closestName("sapn", names), "span");
      assert.equal(closestName("dept", names), "depth");
      assert.equal(closestName("proped", names), "propped");
    });

    it("ignores case", () => {
      assert.equal(closestName("SPAN", names), "span");
      assert.equal(closestName("Depth", names), "depth");
    });

    it("returns undefined when nothing is close", () => {
      assert.equal(closestName("thickness", names), undefined);
      assert.equal(closestName("xy", names), undefined);
      assert.equal(closestName("span", []), undefined);
    });

    it("allows more edits for longer names", () => {
      assert.equal(closestName("reinforcment_ratoi", ["reinforcement_ratio"]), "reinforcement_ratio");
      assert.equal(closestName("sxxn", ["span"]), undefined);
    });
  });
});
