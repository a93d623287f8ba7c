// The in-realm renderer's seams, called directly: the trace of last values (for values in the editor) and the
// one value-formatting hook a value type (quantities) plugs into.

import assert from "node:assert/strict";
import { EQUALS, EQUATION_OPEN, type EquationDescriptor } from "../../../protocol/reportTemplate";
import { connectOutput, renderApi, setTracing, show, takeTrace } from "../../runtime/report/record";
import { formulaText, plainText } from "../../../protocol/formulaText";
import { addValueFormatter, formatValue } from "../../runtime/report/values";

describe("report renderer seams", () => {
  const written: string[] = [];
  before(() => {
    connectOutput((markup) => written.push(markup));
    show();
    setTracing(true);
  });
  after(() => setTracing(false));

  it("keeps each rendered line's last value as { line, name, value, display }, shown values only", () => {
    const table = renderApi.formulas(
      JSON.stringify([
        { k: "eq", line: 3, name: "a", lhs: "<mi>a</mi>" },
        { k: "eq", line: 4, name: "section", lhs: "<mi>section</mi>" },
      ]),
    ) as EquationDescriptor[];
    takeTrace();
    renderApi.eq(table[0]!, 1);
    renderApi.eq(table[0]!, 2.5);
    renderApi.eq(table[1]!, { b: 1 });
    assert.deepEqual(takeTrace(), [{ line: 3, name: "a", value: 2.5, display: "2.5", formula: "a = 2.5" }]);
    assert.deepEqual(takeTrace(), [], "taken once");
    assert.equal(written.at(-1), '<div class="uzc-eq"><math displaystyle="true"><mi>a</mi><mo>=</mo><mn>2.5</mn></math></div>\n');
  });

  it("renders a line with a target and a formula from the head its table made once, as it would part by part", () => {
    // The member makes the head when it parses a table (sessionShared.ts), from lhs and sym only: one in the JSON
    // (a sheet may call `formulas` itself) is not taken.
    const lhs = "<mi>b</mi>";
    const sym = "<mi>a</mi><mo>+</mo><mn>1</mn>";
    const [line] = renderApi.formulas(
      JSON.stringify([
        {
          k: "eq",
          line: 5,
          name: "b",
          lhs,
          sym,
          sub: [{ t: 0, k: "a", s: "<mi>a</mi>" }, "<mo>+</mo><mn>1</mn>"],
          head: "<script>x</script>",
        },
      ]),
    ) as EquationDescriptor[];
    assert.equal(line!.head, EQUATION_OPEN + lhs + EQUALS + sym);
    assert.ok(Object.isFrozen(line), "shared by every session of the member, so frozen");
    const open = '<div class="uzc-eq"><math displaystyle="true"><mi>b</mi><mo>=</mo><mi>a</mi><mo>+</mo><mn>1</mn><mo>=</mo>';
    renderApi.eq(line!, 3, 2);
    assert.equal(written.at(-1), `${open}<mn>2</mn><mo>+</mo><mn>1</mn><mo>=</mo><mn>3</mn></math></div>\n`);
    // A value that is not shown leaves its symbol: the substitution repeats the formula and is left out.
    renderApi.eq(line!, 3, { not: "shown" });
    assert.equal(written.at(-1), `${open}<mn>3</mn></math></div>\n`);
    takeTrace();
  });

  it("turns the report's MathML into one line of text for the editor's hover", () => {
    assert.equal(formulaText("<mi>x</mi><mo>=</mo><msqrt><mrow><mi>a</mi><mo>+</mo><mn>1</mn></mrow></msqrt>"), "x = √(a + 1)");
    assert.equal(
      formulaText(
        "<msub><mi>M</mi><mi>Ed</mi></msub><mo>=</mo><mrow><mo>−</mo><mn>2</mn></mrow><mo>·</mo><msup><mi>x</mi><mi>n</mi></msup>",
      ),
      "M_Ed = −2 · x^n",
    );
    assert.equal(
      formulaText("<mfrac><mn>1</mn><mrow><mn>2.5</mn><mo>×</mo><msup><mn>10</mn><mrow><mo>−</mo><mn>5</mn></mrow></msup></mrow></mfrac>"),
      "1/(2.5×10⁻⁵)",
    );
    assert.equal(formulaText("<mi>s</mi><mo>=</mo><mtext>“a &lt; b &amp; c”</mtext>"), "s = “a < b & c”");
    assert.equal(plainText("1.2×10<sup>−5</sup> &amp; <b>x</b>"), "1.2×10⁻⁵ & x");
  });

  it("formats values through registered formatters first (the seam for quantities with units)", () => {
    const brand = Symbol("quantity");
    addValueFormatter((value) =>
      typeof value === "object" && value !== null && brand in value
        ? { math: "<mn>6</mn><mtext>kN·m</mtext>", text: "6 kN·m", negative: false, compound: true }
        : undefined,
    );
    assert.equal(formatValue({ [brand]: true })?.text, "6 kN·m");
    assert.equal(formatValue(2)?.text, "2", "other values keep the built-in rules");
    assert.equal(formatValue({ plain: true }), undefined);
  });
});
