// The report engine end to end: instrumentation changes nothing a sheet computes or where its errors point,
// and the completed document is one self-contained file with its table of contents.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import type { JsonObject } from "../../../protocol/json";
import type { ExecuteRequest, ExecutionResponse, SheetError } from "../../../protocol/rpc";
import { InProcessEngine } from "../../engine/realmEngine";
import { Executor } from "../../session/executor";
import { instrumentSheet } from "../../loader/instrument";
import { renderReportDocument } from "../../session/reportDocument";

const ROOT = path.join(__dirname, "..", "..", "..");
const EXAMPLES = path.join(ROOT, "examples");
const ERRORS = path.join(__dirname, "..", "fixtures", "report-errors");
const RENDER_OFF = "\nexport const render = false;\n";

async function runToEnd(executor: Executor, request: ExecuteRequest, answers: Record<string, unknown> = {}): Promise<ExecutionResponse> {
  let response = await executor.execute(request);
  for (let step = 0; step < 10 && response.status === "waiting_ui"; step++)
    response = await executor.resume({
      session_id: response.session_id,
      user_input: (answers[response.ui!.id] as Record<string, unknown>) ?? {},
    });
  return response;
}

/** A sheet as `source` with its local imports, optionally with rendering switched off. */
function sourceRequest(dir: string, name: string, files: string[], render: boolean, params?: JsonObject): ExecuteRequest {
  const source = fs.readFileSync(path.join(dir, name), "utf8") + (render ? "" : RENDER_OFF);
  const request: ExecuteRequest = {
    source,
    filename: name,
    files: Object.fromEntries(files.map((f) => [f, fs.readFileSync(path.join(dir, f), "utf8")])),
  };
  if (params) request.params = params;
  return request;
}

/** 1-based line and column of `token` on the line carrying `marker`. */
function locate(file: string, marker: string, token: string): { line: number; column: number } {
  const lines = fs.readFileSync(file, "utf8").split("\n");
  const index = lines.findIndex((l) => l.includes(marker));
  return { line: index + 1, column: lines[index]!.indexOf(token) + 1 };
}

describe("report engine", function () {
  let executor: Executor;

  before(() => {
    executor = new Executor({ safeDirs: [EXAMPLES, ERRORS], engine: new InProcessEngine({ stepTimeoutMs: 10_000 }) });
  });

  after(async () => {
    await executor.close();
  });

  describe("instrumentation does not change what a sheet computes", () => {
    const beamInputs = JSON.parse(fs.readFileSync(path.join(EXAMPLES, "beam.inputs.json"), "utf8")) as Record<
      string,
      Record<string, unknown>
    >;
    const footingInputs = {
      footing: { B: 1.8, L: 2, t: 500, soil: "Dense sand", checks: ["bearing", "sliding"], submerged: true, ref: "F3" },
      "column-loads": { N: 800, H: 35 },
    };
    for (const [name, inputs] of [
      ["beam.calc.ts", beamInputs],
      ["footing.calc.ts", footingInputs],
    ] as const) {
      it(`${name}: the same value with rendering on and off, and only the rendering differs`, async () => {
        const on = await runToEnd(executor, { ...sourceRequest(EXAMPLES, name, ["lib/sections.ts"], true), inputs });
        const off = await runToEnd(executor, { ...sourceRequest(EXAMPLES, name, ["lib/sections.ts"], false), inputs });
        assert.equal(on.status, "completed", JSON.stringify(on.error));
        assert.equal(off.status, "completed", JSON.stringify(off.error));
        assert.deepEqual(on.value, off.value);
        assert.match(on.html!, /class="uzc-eq"/);
        assert.doesNotMatch(off.html!, /class="uzc-eq"/);
        // Rendering only adds lines: what the sheet's output calls write (checks aside, which show more) is there, in order.
        const rendered = on.html!.split("\n");
        let at = 0;
        for (const line of off.html!.split("\n").filter((l) => !l.startsWith('<div class="uzc-check'))) {
          while (at < rendered.length && rendered[at] !== line) at++;
          assert.ok(at < rendered.length, `missing or out of order with rendering on: ${line}`);
        }
      });
    }
  });

  it("a sheet using every statement form computes the same rendered or not", async () => {
    const dir = path.join(__dirname, "..", "fixtures", "report-invariants");
    const on = await runToEnd(executor, sourceRequest(dir, "every-form.calc.ts", [], true));
    const off = await runToEnd(executor, sourceRequest(dir, "every-form.calc.ts", [], false));
    assert.equal(on.status, "completed", JSON.stringify(on.error));
    assert.equal(off.status, "completed", JSON.stringify(off.error));
    assert.deepEqual(on.value, off.value);
    assert.ok((on.html!.match(/class="uzc-eq"/g) ?? []).length > 20, "it rendered");
  });

  describe("errors point at the sheet's own line and column, rendered or not", () => {
    async function errorOf(name: string, render: boolean, params?: JsonObject): Promise<SheetError> {
      const response = await runToEnd(executor, sourceRequest(ERRORS, name, [], render, params));
      assert.equal(response.status, "error", `${name} did not fail`);
      return response.error!;
    }

    it("a throw in a function called from a rendered formula: the same position and stack both ways", async () => {
      const rendered = await errorOf("throws-in-formula.calc.ts", true);
      const plain = await errorOf("throws-in-formula.calc.ts", false);
      assert.equal(rendered.message, "division by zero");
      assert.deepEqual([rendered.line, rendered.column], [plain.line, plain.column]);
      assert.deepEqual([rendered.line, rendered.column], [3, 22]);
      const call = locate(path.join(ERRORS, "throws-in-formula.calc.ts"), "CALL-HERE", "divide(c");
      assert.match(rendered.stack!, new RegExp(`at sheet \\(throws-in-formula\\.calc\\.ts:${call.line}:${call.column}\\)`));
      assert.equal(rendered.stack, plain.stack);
    });

    it("a throw in a braced single-statement branch, in a paragraph's interpolation, and in a recorded operand", async () => {
      for (const [where, marker] of [
        ["branch", "BRANCH-HERE"],
        ["text", "TEXT-HERE"],
      ] as const) {
        const rendered = await errorOf("throws-in-branch.calc.ts", true, { where });
        const plain = await errorOf("throws-in-branch.calc.ts", false, { where });
        assert.equal(rendered.stack, plain.stack, where);
        const call = locate(path.join(ERRORS, "throws-in-branch.calc.ts"), marker, "boom(");
        assert.match(rendered.stack!, new RegExp(`at sheet \\(throws-in-branch\\.calc\\.ts:${call.line}:${call.column}\\)`), where);
      }
      const rendered = await errorOf("throws-in-branch.calc.ts", true, { where: "member" });
      const plain = await errorOf("throws-in-branch.calc.ts", false, { where: "member" });
      assert.equal(rendered.name, "TypeError");
      assert.deepEqual([rendered.line, rendered.column, rendered.stack], [plain.line, plain.column, plain.stack]);
      assert.equal(rendered.line, locate(path.join(ERRORS, "throws-in-branch.calc.ts"), "MEMBER-HERE", "").line);
    });

    it("a compile error (an import that does not resolve) points at the import", async () => {
      const response = await executor.execute({ file_path: path.join(ERRORS, "missing-import.calc.ts") });
      assert.equal(response.status, "error");
      assert.equal(response.error!.name, "CompileError");
      assert.equal(response.error!.line, locate(path.join(ERRORS, "missing-import.calc.ts"), "IMPORT-HERE", "").line);
    });
  });

  describe("what is instrumented", () => {
    const tsconfigRaw = { compilerOptions: { target: "ES2022" } };
    it("leaves a module without sheet functions, one that opts out, and one using the reserved names as written", async () => {
      for (const source of [
        "export function helper() { const a = 1; return a; }",
        "export const render = false;\nexport async function* sheet() { const a = 1; }",
        "const render = false;\nexport { render };\nexport async function* sheet() { const a = 1; }",
        "export async function* sheet() { const __uzon$0 = 1; }",
      ]) {
        assert.equal(await instrumentSheet({ source, sourceName: "x.calc.ts", loader: "ts", tsconfigRaw }), undefined, source);
      }
    });

    it("instruments every exported async generator (any can be the entry), not the module's other functions", async () => {
      const source = [
        "function helper() { const inner = 1; return inner; }",
        "async function* second() { const b = 2; }",
        "export { second };",
        "export default async function* () { const c = helper(); }",
        "export async function* sheet() { const a = 1; }",
      ].join("\n");
      const result = await instrumentSheet({ source, sourceName: "x.calc.ts", loader: "ts", tsconfigRaw });
      assert.ok(result);
      assert.equal(result.statements, 3);
      assert.doesNotMatch(result.contents, /const inner = 1;\s*__uzon/);
    });

    it("instruments a 300-line sheet in well under a second", async () => {
      const lines = ["export async function* sheet() {", "  let x_0 = 1.5;"];
      for (let i = 1; i < 300; i++)
        lines.push(`  const x_${i} = (x_${i - 1} * 1.01 + Math.sqrt(${i})) / (1 + ${i} ** 2) > 3 ? x_${i - 1} : x_${i - 1} + ${i};`);
      lines.push("}");
      const started = performance.now();
      const result = await instrumentSheet({ source: lines.join("\n"), sourceName: "big.calc.ts", loader: "ts", tsconfigRaw });
      const ms = performance.now() - started;
      assert.equal(result?.statements, 300);
      assert.ok(ms < 1_000, `${ms} ms`);
      console.log(`      instrumenting a 300-line sheet: ${ms.toFixed(1)} ms`);
    });
  });

  describe("the completed document", () => {
    function document(body: string): string {
      return renderReportDocument({
        body,
        sheetName: "s.calc.ts",
        sheetHash: "ab",
        createdAt: 0,
        inputs: [{ window: "w", values: { x: 1 } }],
        version: "0.1.0",
      });
    }

    it("keeps sheet markup from acting when the exported file is opened (issue 13 item 18)", async () => {
      const source = [
        'import { html, p } from "uzoncalc";',
        "export async function* sheet() {",
        '  p("inputs follow");',
        '  html(\'<meta http-equiv="refresh" content="0;url=https://example.com/?inputs"><BASE href="https://example.com/">\');',
        '  html(\'<form action="https://example.com/collect"><input name="a"></form><iframe src="https://example.com/"></iframe><script>x()</script>\');',
        "  html('<p class=\"kept\">ordinary <b>markup</b> stays</p>');",
        "}",
      ].join("\n");
      const response = await executor.execute({ source, filename: "markup.calc.ts" });
      assert.equal(response.status, "completed", JSON.stringify(response.error));
      const exported = response.result!;
      const body = exported.slice(exported.indexOf("<main"));
      assert.doesNotMatch(body, /<(meta|base|form|iframe|script)\b/i, "no active tag left in the report body");
      assert.match(body, /&lt;meta http-equiv="refresh"/, "shown as text");
      assert.match(body, /<p class="kept">ordinary <b>markup<\/b> stays<\/p>/);
      assert.match(exported, /Content-Security-Policy" content="[^"]*base-uri 'none'; form-action 'none'"/);
    });

    it("has a table of contents before the first section when there are two or more", async () => {
      const response = await runToEnd(executor, {
        file_path: path.join(EXAMPLES, "beam.calc.ts"),
        inputs: JSON.parse(fs.readFileSync(path.join(EXAMPLES, "beam.inputs.json"), "utf8")),
      });
      const result = response.result!;
      const nav = result.indexOf('<nav class="uzc-toc">');
      assert.ok(nav > 0 && nav < result.indexOf('<h2 id="sec-1">'));
      assert.ok(result.includes('<li><a href="#sec-1"><span class="uzc-num">1</span> Geometry</a></li>'));
      assert.ok(result.includes('<li><a href="#sec-5"><span class="uzc-num">5</span> Summary</a></li></ol></nav>'));
      // A figure's clip path refers to its own element (url(#…)): that fetches nothing.
      assert.doesNotMatch(result, /<script|<link|@import|url\((?!#uzc-fig-)/i, "nothing to run or fetch");
      assert.match(result, /<th>Content hash<\/th><td><code>sha256:[0-9a-f]{64}<\/code>/);
    });

    it("nests subsections and leaves a one-section report without contents", () => {
      const two = document(
        '<h2 id="sec-1"><span class="uzc-num">1</span> A</h2>\n<h3 id="sec-1-1"><span class="uzc-num">1.1</span> A &amp; a</h3>\n<h2 id="sec-2"><span class="uzc-num">2</span> B</h2>\n',
      );
      assert.ok(
        two.includes(
          '<nav class="uzc-toc"><p class="uzc-toc-title">Contents</p><ol><li><a href="#sec-1"><span class="uzc-num">1</span> A</a><ol><li><a href="#sec-1-1"><span class="uzc-num">1.1</span> A &amp; a</a></li></ol></li><li><a href="#sec-2"><span class="uzc-num">2</span> B</a></li></ol></nav>',
        ),
        two,
      );
      assert.doesNotMatch(document('<h2 id="sec-1"><span class="uzc-num">1</span> Only</h2>\n'), /uzc-toc"/);
    });

    it("puts the contents after the title and its introduction, before the calculation starts", () => {
      const h2 = (n: number) => `<h2 id="sec-${n}"><span class="uzc-num">${n}</span> S${n}</h2>\n`;
      const intro =
        '<h1>Pad footing</h1>\n<p>Bearing and sliding.</p>\n<p class="uzc-note"><span class="uzc-note-label">Note</span> Per metre.</p>\n';
      const equation = '<div class="uzc-eq"><math displaystyle="true"><mi>a</mi><mo>=</mo><mn>1</mn></math></div>\n';
      const result = document(intro + equation + h2(1) + h2(2));
      const nav = result.indexOf('<nav class="uzc-toc">');
      assert.ok(
        nav > result.indexOf("Per metre.") && nav < result.indexOf('<div class="uzc-eq">'),
        "after the introduction, before the first equation",
      );
      // Without a title, before the first numbered heading as before.
      const untitled = document(equation + h2(1) + h2(2));
      assert.ok(untitled.indexOf('<nav class="uzc-toc">') > untitled.indexOf('<div class="uzc-eq">'));
    });

    it("reads hostile headings in linear time and keeps their markup out of the contents", () => {
      const started = performance.now();
      document('<h2 id="sec-1">'.repeat(100_000));
      const forged = document('<h2 id="sec-1"><img src=x onerror=alert(1)>A</h2><h2 id="sec-2">B</h2>');
      assert.ok(performance.now() - started < 2_000);
      assert.ok(forged.includes('<a href="#sec-1"><span class="uzc-num">1</span> A</a>'));
    });
  });
});
