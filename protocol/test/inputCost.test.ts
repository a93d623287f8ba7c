// What a request body can make the service do before any sheet runs: validation is linear in the body, so the
// largest body the service accepts (LIMITS.maxBodyBytes) is checked in milliseconds, whatever its shape. Each
// case was quadratic once and stalled the service for seconds (issue 13 item 4).

import assert from "node:assert/strict";
import { normalizeWindow, type WindowSpec } from "../fields";
import { LIMITS } from "../limits";
import { parseUnit } from "../units";
import { checkWindowInput } from "../validate";

const BODY = LIMITS.maxBodyBytes.default;

const window = normalizeWindow({
  title: "Attack surface",
  fields: [
    { name: "span", type: "number", unit: "m" },
    { name: "loads", type: "selectMany", options: Array.from({ length: 50 }, (_, i) => `load ${i}`) },
    { name: "label", type: "text" },
  ],
}).window as WindowSpec;

/** The fastest of three runs, ms: the cost of the work itself, not of whatever else the machine did meanwhile. */
function cost(input: Record<string, unknown>): { ms: number; errors: Record<string, string> } {
  let best = Infinity;
  let errors: Record<string, string> = {};
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    const check = checkWindowInput(window, input);
    best = Math.min(best, performance.now() - started);
    errors = check.ok ? {} : check.errors;
  }
  return { ms: best, errors };
}

describe("input validation costs what the body costs to read (a maximal body in < 50 ms)", () => {
  const cases: { what: string; input: Record<string, unknown>; field: string; says: RegExp }[] = [
    {
      what: "an unknown key as long as the body (the did-you-mean)",
      input: { ["s" + "x".repeat(BODY - 20)]: 1 },
      field: "",
      says: /is not a field of window 'attack-surface'/,
    },
    {
      what: "a selectMany with as many values as fit",
      input: { loads: Array.from({ length: BODY / 8 }, (_, i) => `v${i}`) },
      field: "loads",
      says: /must be at most 50 options, got/,
    },
    {
      what: "a number that is one character and a run of spaces before a unit",
      input: { span: "1x" + " ".repeat(BODY - 10) + "y" },
      field: "span",
      says: /must be a number, got/,
    },
    {
      what: "a number field given a unit as long as the body",
      input: { span: "1 " + "m".repeat(BODY - 10) },
      field: "span",
      says: /must be a number, got/,
    },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const { ms, errors } = cost(c.input);
      const message = c.field ? errors[c.field] : Object.values(errors)[0];
      assert.match(message ?? "", c.says);
      assert.ok((message ?? "").length < 500, `the message quotes a value, not the body (${message?.length} characters)`);
      assert.ok(ms < 50, `checking it took ${ms.toFixed(1)} ms`);
    });
  }

  it("a unit longer than any unit is not parsed, cached or quoted whole", () => {
    for (let i = 0; i < 50; i++) assert.equal(parseUnit(`${i}${"m".repeat(100_000)}`), undefined);
    const started = performance.now();
    assert.equal(parseUnit("m".repeat(BODY)), undefined);
    assert.ok(performance.now() - started < 50);
    assert.deepEqual(parseUnit("kN*m")?.dims, parseUnit("N*m")?.dims, "real units still parse");
  });

  it("a value that overflows in the field's unit is refused, not turned into null", () => {
    const check = checkWindowInput(window, { span: "1e308 km" });
    assert.equal(check.ok, false);
    assert.match(!check.ok ? check.errors.span! : "", /must be a finite number of m, got/);
  });
});
