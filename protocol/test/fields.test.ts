import assert from "node:assert/strict";
import { describeValue, formatWindowProblems, isFieldType, normalizeWindow, slugify, type WindowProblem } from "../fields";

/** Normalises a window holding just the given fields (with a valid title) and returns the result. */
function withFields(...fields: unknown[]) {
  return normalizeWindow({ title: "Test", fields });
}

function onlyProblem(problems: WindowProblem[]): WindowProblem {
  assert.equal(problems.length, 1, `expected exactly one problem, got ${JSON.stringify(problems)}`);
  return problems[0]!;
}

describe("protocol/fields", () => {
  describe("slugify", () => {
    it("lower-cases and joins words with '-'", () => {
      assert.equal(slugify("Beam geometry"), "beam-geometry");
    });

    it("strips accents", () => {
      assert.equal(slugify("Béton armé"), "beton-arme");
      assert.equal(slugify("ÉTAGE Über Façade"), "etage-uber-facade");
    });

    it("turns every run of other characters into a single '-'", () => {
      assert.equal(slugify("Load case #1 (ULS)"), "load-case-1-uls");
      assert.equal(slugify("a  --  b__c///d"), "a-b-c-d");
    });

    it("trims leading and trailing separators", () => {
      assert.equal(slugify("  --Beam geometry!!  "), "beam-geometry");
      assert.equal(slugify("(Step 2)"), "step-2");
    });

    it("keeps digits", () => {
      assert.equal(slugify("C30/37 concrete"), "c30-37-concrete");
    });

    it("returns '' when nothing usable is left", () => {
      assert.equal(slugify(""), "");
      assert.equal(slugify("   "), "");
      assert.equal(slugify("!!! — ???"), "");
    });
  });

  describe("isFieldType", () => {
    it("accepts the six field types and nothing else", () => {
      for (const type of ["text", "number", "selectOne", "selectMany", "boolean", "textarea"]) assert.equal(isFieldType(type), true, type);
      for (const other of ["Number", "select", "", 1, null, undefined]) assert.equal(isFieldType(other), false, String(other));
    });
  });

  describe("describeValue", () => {
    it("names values readably", () => {
      assert.equal(describeValue(null), "null");
      assert.equal(describeValue([1]), "an array");
      assert.equal(describeValue("x"), '"x"');
      assert.equal(describeValue(3), "3");
      assert.equal(describeValue(true), "true");
      assert.equal(describeValue({}), "a value of type object");
      assert.equal(describeValue(undefined), "a value of type undefined");
    });
  });

  describe("normalizeWindow: the window", () => {
    it("normalises a valid window with no problems", () => {
      const { window, problems } = normalizeWindow({
        title: "Geometry",
        id: "geometry",
        caption: "Clear span between supports",
        fields: [
          { name: "span", type: "number", label: "Span", unit: "m", default: 6, min: 0.5, max: 40, required: true },
          { name: "grade", type: "selectOne", label: "Concrete", options: ["C25/30", "C30/37"], default: "C30/37" },
          { name: "loads", type: "selectMany", options: ["dead", "live", "wind"], default: ["dead"] },
          { name: "propped", type: "boolean", label: "Propped cantilever", default: false },
          { name: "ref", type: "text", placeholder: "Project reference" },
          { name: "notes", type: "textarea", help: "Anything else" },
        ],
      });
      assert.deepEqual(problems, []);
      assert.deepEqual(window, {
        id: "geometry",
        title: "Geometry",
        caption: "Clear span between supports",
        fields: [
          { name: "span", type: "number", label: "Span", unit: "m", default: 6, min: 0.5, max: 40, required: true },
          {
            name: "grade",
            type: "selectOne",
            label: "Concrete",
            required: false,
            default: "C30/37",
            options: [
              { value: "C25/30", label: "C25/30" },
              { value: "C30/37", label: "C30/37" },
            ],
          },
          {
            name: "loads",
            type: "selectMany",
            label: "loads",
            required: false,
            default: ["dead"],
            options: [
              { value: "dead", label: "dead" },
              { value: "live", label: "live" },
              { value: "wind", label: "wind" },
            ],
          },
          { name: "propped", type: "boolean", label: "Propped cantilever", required: false, default: false },
          { name: "ref", type: "text", label: "ref", required: false, placeholder: "Project reference" },
          { name: "notes", type: "textarea", label: "notes", required: false, help: "Anything else" },
        ],
      });
    });

    it("defaults the id to the slug of the title", () => {
      const { window, problems } = normalizeWindow({ title: "Beam geometry", fields: [] });
      assert.deepEqual(problems, []);
      assert.equal(window.id, "beam-geometry");
      assert.equal(window.title, "Beam geometry");
    });

    it("gives id '' when the title slugs to nothing (the caller numbers it)", () => {
      const { window, problems } = normalizeWindow({ title: "???", fields: [] });
      assert.deepEqual(problems, []);
      assert.equal(window.id, "");
    });

    it("keeps an explicit id over the slug", () => {
      const { window } = normalizeWindow({ title: "Beam geometry", id: "geo_1-A", fields: [] });
      assert.equal(window.id, "geo_1-A");
    });

    it("keeps the caption and omits it when absent or null", () => {
      assert.equal(normalizeWindow({ title: "T", caption: "Under the heading", fields: [] }).window.caption, "Under the heading");
      const absent = normalizeWindow({ title: "T", fields: [] });
      assert.equal("caption" in absent.window, false);
      const nulled = normalizeWindow({ title: "T", caption: null, fields: [] });
      assert.deepEqual(nulled.problems, []);
      assert.equal("caption" in nulled.window, false);
    });

    it("reports a caption that is not a string", () => {
      const { window, problems } = normalizeWindow({ title: "T", caption: 5, fields: [] });
      const p = onlyProblem(problems);
      assert.equal(p.field, -1);
      assert.equal(p.attribute, "caption");
      assert.match(p.message, /caption/);
      assert.equal("caption" in window, false);
    });

    it("reports a window that is not an object", () => {
      for (const raw of [null, "Geometry", 3, [], undefined]) {
        const { window, problems } = normalizeWindow(raw);
        const p = onlyProblem(problems);
        assert.equal(p.field, -1);
        assert.equal(p.attribute, "");
        assert.match(p.message, /Window\(\.\.\.\) needs an object/);
        assert.deepEqual(window, { id: "", title: "", fields: [] });
      }
    });

    it("reports a missing title", () => {
      const { problems } = normalizeWindow({ fields: [] });
      const p = onlyProblem(problems);
      assert.equal(p.field, -1);
      assert.equal(p.attribute, "title");
      assert.match(p.message, /title/);
    });

    it("reports an empty, blank or non-string title", () => {
      for (const title of ["", "   ", 42, null]) {
        const { window, problems } = normalizeWindow({ title, fields: [] });
        assert.equal(onlyProblem(problems).attribute, "title", `title ${JSON.stringify(title)}`);
        assert.equal(window.title, "");
      }
    });

    it("keeps an explicit id when the title is missing", () => {
      const { window, problems } = normalizeWindow({ id: "geo", fields: [] });
      assert.equal(window.id, "geo");
      assert.equal(onlyProblem(problems).attribute, "title");
    });

    it("reports a bad id and falls back to the slug of the title", () => {
      for (const id of ["has space", "", "é", "a".repeat(129), 7, null]) {
        const { window, problems } = normalizeWindow({ title: "Beam geometry", id, fields: [] });
        const p = onlyProblem(problems);
        assert.equal(p.field, -1);
        assert.equal(p.attribute, "id", `id ${JSON.stringify(id)}`);
        assert.match(p.message, /Window id .* must be 1.128 letters, digits/);
        assert.equal(window.id, "beam-geometry");
      }
    });

    it("accepts an id of exactly 128 characters", () => {
      const id = "a".repeat(128);
      const { window, problems } = normalizeWindow({ title: "T", id, fields: [] });
      assert.deepEqual(problems, []);
      assert.equal(window.id, id);
    });

    it("reports fields that are missing or not an array", () => {
      for (const fields of [undefined, {}, "span", null]) {
        const { window, problems } = normalizeWindow({ title: "T", fields });
        const p = onlyProblem(problems);
        assert.equal(p.field, -1);
        assert.equal(p.attribute, "fields");
        assert.match(p.message, /fields.*array/);
        assert.deepEqual(window.fields, []);
      }
    });

    it("collects every problem at once, window and fields", () => {
      const { problems } = normalizeWindow({ id: "bad id", fields: [{ name: "1x", type: "nope" }, 5] });
      assert.deepEqual(
        problems.map((p) => [p.field, p.attribute]),
        [
          [-1, "title"],
          [-1, "id"],
          [0, "name"],
          [0, "type"],
          [1, ""],
        ],
      );
    });
  });

  describe("normalizeWindow: field defaults", () => {
    it("defaults type to text, required to false and label to the name", () => {
      const { window, problems } = withFields({ name: "ref" });
      assert.deepEqual(problems, []);
      assert.deepEqual(window.fields, [{ name: "ref", type: "text", label: "ref", required: false }]);
    });

    it("treats null optional attributes as absent", () => {
      const { window, problems } = withFields({
        name: "x",
        type: "number",
        label: null,
        unit: null,
        min: null,
        max: null,
        step: null,
        required: null,
        default: null,
        options: null,
      });
      assert.deepEqual(problems, []);
      assert.deepEqual(window.fields, [{ name: "x", type: "number", label: "x", required: false }]);
    });

    it("keeps label, placeholder, help, unit, min, max, step and required", () => {
      const { window, problems } = withFields({
        name: "span",
        type: "number",
        label: "Span",
        placeholder: "e.g. 6",
        help: "Clear span",
        unit: "m",
        min: 0,
        max: 40,
        step: 0.1,
        required: true,
      });
      assert.deepEqual(problems, []);
      assert.deepEqual(window.fields[0], {
        name: "span",
        type: "number",
        label: "Span",
        placeholder: "e.g. 6",
        help: "Clear span",
        unit: "m",
        min: 0,
        max: 40,
        step: 0.1,
        required: true,
      });
    });

    it("accepts identifiers with '_' and '$'", () => {
      const { window, problems } = withFields({ name: "_a$1" }, { name: "$b" });
      assert.deepEqual(problems, []);
      assert.deepEqual(
        window.fields.map((f) => f.name),
        ["_a$1", "$b"],
      );
    });
  });

  describe("normalizeWindow: field problems", () => {
    it("reports a field that is not an object and drops it", () => {
      for (const raw of [null, "span", 3, ["span"]]) {
        const { window, problems } = withFields({ name: "a" }, raw);
        const p = onlyProblem(problems);
        assert.equal(p.field, 1);
        assert.equal(p.attribute, "");
        assert.match(p.message, /Field 2 must be an object/);
        assert.deepEqual(
          window.fields.map((f) => f.name),
          ["a"],
        );
      }
    });

    it("reports a missing or empty name and drops the field", () => {
      for (const raw of [{ type: "number" }, { name: "" }, { name: 5 }]) {
        const { window, problems } = withFields(raw);
        const p = onlyProblem(problems);
        assert.equal(p.field, 0);
        assert.equal(p.attribute, "name");
        assert.match(p.message, /Field 1 has no `name`/);
        assert.deepEqual(window.fields, []);
      }
    });

    it("reports a name that is not an identifier", () => {
      for (const name of ["1span", "span length", "span-length", "é"]) {
        const { problems } = withFields({ name });
        const p = onlyProblem(problems);
        assert.equal(p.field, 0);
        assert.equal(p.attribute, "name");
        assert.match(p.message, new RegExp(`Field '${name}'.*identifier`));
      }
    });

    it("reports an unknown type, listing the valid ones, and falls back to text", () => {
      const { window, problems } = withFields({ name: "x", type: "integer" });
      const p = onlyProblem(problems);
      assert.equal(p.attribute, "type");
      assert.match(p.message, /Field 'x'.*unknown type "integer"/);
      assert.match(p.message, /text, number, selectOne, selectMany, boolean, textarea/);
      assert.equal(window.fields[0]!.type, "text");
    });

    for (const key of ["label", "unit", "placeholder", "help"] as const) {
      it(`reports a non-string ${key}`, () => {
        const { window, problems } = withFields({ name: "x", type: "number", [key]: 5 });
        const p = onlyProblem(problems);
        assert.equal(p.field, 0);
        assert.equal(p.attribute, key);
        assert.match(p.message, new RegExp(`Field 'x'.*${key}.*must be a string`));
        if (key === "label") assert.equal(window.fields[0]!.label, "x");
        else assert.equal(key in window.fields[0]!, false);
      });
    }

    it("reports required that is not a boolean", () => {
      for (const required of ["yes", 1, "true"]) {
        const { window, problems } = withFields({ name: "x", required });
        const p = onlyProblem(problems);
        assert.equal(p.attribute, "required");
        assert.match(p.message, /Field 'x'.*required.*true or false/);
        assert.equal(window.fields[0]!.required, false);
      }
    });

    for (const key of ["min", "max", "step"] as const) {
      it(`reports ${key} that is not a finite number`, () => {
        for (const bad of ["5", NaN, Infinity, -Infinity, true]) {
          const { window, problems } = withFields({ name: "x", type: "number", [key]: bad });
          const p = onlyProblem(problems);
          assert.equal(p.attribute, key, `${key} = ${String(bad)}`);
          assert.match(p.message, new RegExp(`Field 'x'.*${key}.*finite number`));
          assert.equal(key in window.fields[0]!, false);
        }
      });
    }

    it("reports step <= 0", () => {
      for (const step of [0, -0.5]) {
        const { problems } = withFields({ name: "x", type: "number", step });
        const p = onlyProblem(problems);
        assert.equal(p.attribute, "step");
        assert.match(p.message, /Field 'x'.*step.*greater than 0/);
      }
    });

    it("reports min > max, naming both", () => {
      const { problems } = withFields({ name: "x", type: "number", min: 10, max: 2 });
      const p = onlyProblem(problems);
      assert.equal(p.attribute, "min");
      assert.match(p.message, /Field 'x'.*min \(10\).*max \(2\)/);
    });

    it("accepts min equal to max", () => {
      assert.deepEqual(withFields({ name: "x", type: "number", min: 2, max: 2 }).problems, []);
    });

    it("reports a select field without options and gives it an empty list", () => {
      for (const type of ["selectOne", "selectMany"]) {
        const { window, problems } = withFields({ name: "x", type });
        const p = onlyProblem(problems);
        assert.equal(p.attribute, "options");
        assert.match(p.message, new RegExp(`Field 'x'.*${type} field needs .options`));
        assert.deepEqual(window.fields[0]!.options, []);
      }
    });

    it("reports options that are not an array", () => {
      const { problems } = withFields({ name: "x", type: "selectOne", options: "a,b" });
      const p = onlyProblem(problems);
      assert.equal(p.attribute, "options");
      assert.match(p.message, /Field 'x'.*options.*must be an array/);
    });

    it("reports options on a field that is not a select, and drops them", () => {
      for (const type of ["text", "number", "boolean", "textarea"]) {
        const { window, problems } = withFields({ name: "x", type, options: ["a"] });
        const p = onlyProblem(problems);
        assert.equal(p.attribute, "options");
        assert.match(p.message, /Field 'x'.*options.*only applies to selectOne and selectMany/);
        assert.equal("options" in window.fields[0]!, false);
      }
    });

    it("reports an option listed twice, naming it", () => {
      const { problems } = withFields({ name: "x", type: "selectOne", options: ["a", "b", "a"] });
      const p = onlyProblem(problems);
      assert.equal(p.attribute, "options");
      assert.match(p.message, /Field 'x'.*option "a" is listed twice/);
    });

    it("reports a duplicate between a plain option and a { value, label } one", () => {
      const { problems } = withFields({ name: "x", type: "selectMany", options: [1, { value: 1, label: "one" }] });
      assert.match(onlyProblem(problems).message, /option 1 is listed twice/);
    });

    it("does not confuse the number 1 with the string '1'", () => {
      assert.deepEqual(withFields({ name: "x", type: "selectOne", options: [1, "1"] }).problems, []);
    });

    it("reports options of a bad shape, by position, and keeps the good ones", () => {
      const { window, problems } = withFields({
        name: "x",
        type: "selectOne",
        options: ["a", null, { label: "no value" }, { value: {} }, [1], NaN, "b"],
      });
      assert.deepEqual(
        problems.map((p) => p.attribute),
        ["options", "options", "options", "options", "options"],
      );
      assert.deepEqual(
        problems.map((p) => /option (\d+) must be a string, a number or \{ value, label \}/.exec(p.message)?.[1]),
        ["2", "3", "4", "5", "6"],
      );
      assert.deepEqual(window.fields[0]!.options, [
        { value: "a", label: "a" },
        { value: "b", label: "b" },
      ]);
    });

    it("normalises plain options and { value, label } options", () => {
      const { window, problems } = withFields({
        name: "x",
        type: "selectOne",
        options: ["a", 2, true, { value: "c30", label: "C30/37" }, { value: 4 }],
      });
      assert.deepEqual(problems, []);
      assert.deepEqual(window.fields[0]!.options, [
        { value: "a", label: "a" },
        { value: 2, label: "2" },
        { value: true, label: "true" },
        { value: "c30", label: "C30/37" },
        { value: 4, label: "4" },
      ]);
    });

    it("reports a selectOne default that is not among the options", () => {
      const { window, problems } = withFields({ name: "grade", type: "selectOne", options: ["C25/30", "C30/37"], default: "C40/50" });
      const p = onlyProblem(problems);
      assert.equal(p.attribute, "default");
      assert.match(p.message, /Field 'grade'.*default "C40\/50" is not among its options/);
      assert.equal("default" in window.fields[0]!, false);
    });

    it("matches a selectOne default against option values, not labels", () => {
      const ok = withFields({ name: "g", type: "selectOne", options: [{ value: "c30", label: "C30/37" }], default: "c30" });
      assert.deepEqual(ok.problems, []);
      assert.equal(ok.window.fields[0]!.default, "c30");
      const byLabel = withFields({ name: "g", type: "selectOne", options: [{ value: "c30", label: "C30/37" }], default: "C30/37" });
      assert.equal(onlyProblem(byLabel.problems).attribute, "default");
      const wrongType = withFields({ name: "g", type: "selectOne", options: [1, 2], default: "1" });
      assert.equal(onlyProblem(wrongType.problems).attribute, "default");
    });

    it("reports a selectMany default value that is not among the options", () => {
      const { window, problems } = withFields({ name: "loads", type: "selectMany", options: ["dead", "live"], default: ["dead", "snow"] });
      const p = onlyProblem(problems);
      assert.equal(p.attribute, "default");
      assert.match(p.message, /Field 'loads'.*"snow" is not among its options/);
      assert.equal("default" in window.fields[0]!, false);
    });

    it("reports a selectMany default that is not an array", () => {
      const { problems } = withFields({ name: "loads", type: "selectMany", options: ["dead", "live"], default: "dead" });
      const p = onlyProblem(problems);
      assert.equal(p.attribute, "default");
      assert.match(p.message, /Field 'loads'.*selectMany.*array/);
    });

    it("accepts an empty selectMany default", () => {
      const { window, problems } = withFields({ name: "loads", type: "selectMany", options: ["dead"], default: [] });
      assert.deepEqual(problems, []);
      assert.deepEqual(window.fields[0]!.default, []);
    });

    it("reports a number default outside [min, max], naming the limit", () => {
      const below = withFields({ name: "span", type: "number", min: 0.5, max: 40, default: 0.1 });
      const pb = onlyProblem(below.problems);
      assert.equal(pb.attribute, "default");
      assert.match(pb.message, /Field 'span'.*default 0\.1 is below min 0\.5/);
      const above = withFields({ name: "span", type: "number", min: 0.5, max: 40, default: 41 });
      const pa = onlyProblem(above.problems);
      assert.equal(pa.attribute, "default");
      assert.match(pa.message, /Field 'span'.*default 41 is above max 40/);
      assert.equal("default" in above.window.fields[0]!, false);
    });

    it("accepts a number default on the limits", () => {
      assert.deepEqual(
        withFields({ name: "a", type: "number", min: 1, max: 2, default: 1 }, { name: "b", type: "number", min: 1, max: 2, default: 2 })
          .problems,
        [],
      );
    });

    it("reports a default of the wrong type", () => {
      const cases: [string, unknown, RegExp][] = [
        ["number", "6", /default "6" is not a number/],
        ["number", NaN, /default NaN is not a number/],
        ["boolean", "false", /default "false" is not true or false/],
        ["boolean", 0, /default 0 is not true or false/],
        ["text", 5, /default 5 is not a string/],
        ["textarea", true, /default true is not a string/],
      ];
      for (const [type, value, message] of cases) {
        const { window, problems } = withFields({ name: "x", type, default: value });
        const p = onlyProblem(problems);
        assert.equal(p.attribute, "default", `${type} default ${String(value)}`);
        assert.match(p.message, message);
        assert.equal("default" in window.fields[0]!, false);
      }
    });

    it("keeps defaults of the right type", () => {
      const { window, problems } = withFields(
        { name: "a", type: "number", default: 0 },
        { name: "b", type: "boolean", default: true },
        { name: "c", type: "text", default: "" },
        { name: "d", type: "textarea", default: "line\nline" },
      );
      assert.deepEqual(problems, []);
      assert.deepEqual(
        window.fields.map((f) => f.default),
        [0, true, "", "line\nline"],
      );
    });

    it("reports a duplicate field name, naming both positions, and keeps the first", () => {
      const { window, problems } = normalizeWindow({
        title: "Geometry",
        fields: [{ name: "span", type: "number" }, { name: "depth" }, { name: "span", type: "text" }],
      });
      const p = onlyProblem(problems);
      assert.equal(p.field, 2);
      assert.equal(p.attribute, "name");
      assert.match(p.message, /'span' is used twice in window 'Geometry' \(fields 1 and 3\)/);
      assert.deepEqual(
        window.fields.map((f) => [f.name, f.type]),
        [
          ["span", "number"],
          ["depth", "text"],
        ],
      );
    });

    it("gives each problem the index of its field", () => {
      const { problems } = withFields({ name: "ok" }, { name: "a", required: "no" }, { name: "b", type: "number", step: 0 });
      assert.deepEqual(
        problems.map((p) => [p.field, p.attribute]),
        [
          [1, "required"],
          [2, "step"],
        ],
      );
    });
  });

  describe("formatWindowProblems", () => {
    it("lists one problem per line under a heading naming the window", () => {
      const { window, problems } = normalizeWindow({
        title: "Geometry",
        fields: [
          { name: "x", type: "nope" },
          { name: "y", min: "1" },
        ],
      });
      const text = formatWindowProblems(window, problems);
      const lines = text.split("\n");
      assert.equal(lines.length, 3);
      assert.match(lines[0]!, /Window 'Geometry' is not valid/);
      assert.match(lines[1]!, /^ {2}- Field 'x'.*unknown type/);
      assert.match(lines[2]!, /^ {2}- Field 'y'.*min/);
    });

    it("uses a plain heading when the window has no title", () => {
      const { window, problems } = normalizeWindow({ fields: [] });
      assert.match(formatWindowProblems(window, problems).split("\n")[0]!, /^Window is not valid/);
    });
  });
});
