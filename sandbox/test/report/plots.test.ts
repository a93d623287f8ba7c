// Figures (SPEC §1 plot()): the description's rules (protocol/plot.ts), what the realm writes, and the SVG the
// sandbox draws from it (sandbox/session/plots.ts): inline, themed, without style sheet or script, checked again.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { normalizePlot } from "../../../protocol/plot";
import { InProcessEngine } from "../../engine/realmEngine";
import { Executor } from "../../session/executor";
import { drawFigures } from "../../session/plots";
import { readReport } from "../../connect/reportReading";

const identity = (value: unknown) => value;

describe("plot(): figures drawn by the sandbox", function () {
  this.timeout(30_000);
  let dir: string;
  let executor: Executor;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "uzc-plots-"));
    executor = new Executor({ safeDirs: [dir], engine: new InProcessEngine({ stepTimeoutMs: 10_000 }) });
  });
  after(async () => {
    await executor.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function run(body: string, imports = "plot") {
    const file = path.join(dir, `s${Math.random().toString(36).slice(2)}.calc.ts`);
    fs.writeFileSync(
      file,
      `import { ${imports} } from "uzoncalc";\nimport { kN, m, mm } from "uzoncalc/units";\nexport async function* sheet() {\n${body}\n}\n`,
    );
    return executor.execute({ file_path: file });
  }

  it("keeps ECharts (and the Word export) out of the bundles every start loads: they are bundles of their own", function () {
    // The built bundles' source maps list every file that went into them.
    const dist = path.join(__dirname, "..", "..", "..", "dist");
    const sources = (bundle: string): string[] =>
      (JSON.parse(fs.readFileSync(path.join(dist, `${bundle}.js.map`), "utf8")) as { sources: string[] }).sources;
    for (const bundle of ["sandbox", "cli", "extension", "sandbox-worker"]) {
      const heavy = sources(bundle).filter((file) => /node_modules\/(echarts|zrender|docx)\//.test(file));
      assert.deepEqual(heavy, [], `dist/${bundle}.js`);
    }
    assert.ok(sources("plots").some((file) => file.includes("node_modules/echarts/")));
    assert.ok(sources("word").some((file) => file.includes("node_modules/docx/")));
  });

  it("names what is wrong with a description", () => {
    const message = (raw: unknown) => {
      const check = normalizePlot(raw, identity);
      assert.equal(check.ok, false);
      return check.ok ? "" : check.message;
    };
    assert.match(message(undefined), /^plot\(\): give \{ x: \{ label \}/);
    assert.match(message({ x: { label: "x" }, y: {}, series: [] }), /y\.label is required/);
    assert.match(message({ x: { label: "x" }, y: { label: "y" }, series: [] }), /`series` must be a non-empty array/);
    const one = (points: unknown, type?: unknown) => ({ x: { label: "x" }, y: { label: "y" }, series: [{ name: "s", points, type }] });
    assert.match(
      message(
        one([
          [0, 1],
          [1, Number.NaN],
        ]),
      ),
      /series 1, point 2: x and y must be finite numbers/,
    );
    assert.match(message(one([[0, 1, 2]])), /series 1, point 1 must be \[x, y\]/);
    assert.match(message(one([], "pie")), /`type` must be one of line, scatter, bar/);
    assert.match(message(one(Array.from({ length: 5001 }, (_, i) => [i, i]))), /5001 points; at most 5000 a series/);
    assert.deepEqual(normalizePlot({ ...one([[0, 1]]), extra: 1 }, identity), {
      ok: true,
      spec: { x: { label: "x" }, y: { label: "y" }, series: [{ name: "s", type: "line", points: [[0, 1]] }] },
    });
  });

  it("draws inline SVG that sits in any report: no style sheet, no style attribute, no script, themed, ids of its own", async () => {
    const response = await run(
      `plot({ title: "A", x: { label: "x", unit: "mm" }, y: { label: "F", unit: "kN" }, series: [{ name: "F", points: [[1 * m, 2 * kN], [2 * m, 3000 * (kN / 1000)]] }] });
  plot({ title: "A", x: { label: "x", unit: "mm" }, y: { label: "F", unit: "kN" }, series: [{ name: "F", points: [[1 * m, 2 * kN], [2 * m, 3000 * (kN / 1000)]] }] });`,
    );
    assert.equal(response.status, "completed", JSON.stringify(response.error));
    const html = response.html!;
    const svgs = html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    assert.equal(svgs.length, 2);
    for (const svg of svgs) {
      assert.doesNotMatch(svg, /<style|<script| style="|class="zr|ecmeta_|on[a-z]+="/);
      assert.match(svg, /fill="currentColor"/, "text follows the page's colour");
      assert.match(svg, /role="img" aria-label="A"/);
    }
    // Quantities are read in the axis' unit: 1 m on an axis in mm is 1000.
    assert.match(svgs[0]!, />1,?000</);
    const ids = (svg: string) => [...svg.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]);
    assert.ok(ids(svgs[0]!).length > 0);
    assert.notDeepEqual(ids(svgs[0]!), ids(svgs[1]!), "two figures described alike still have ids of their own");
    assert.match(html, /<figcaption><span class="uzc-num">Figure 2<\/span> A<\/figcaption>/);
    assert.match(response.result!, /<div class="uzc-plot"><svg/, "the completed document has the drawing too");
    // Read back (uzoncalc diff, Compare): a figure is its caption, not its tick labels.
    const texts = readReport(response.result!).items.flatMap((item) => (item.kind === "text" ? [item.text] : []));
    assert.deepEqual(texts, ["Figure 1 A", "Figure 2 A"]);
  });

  it("a quantity on an axis without a unit, and a bad description, stop the sheet with a message naming plot()", async () => {
    const unitless = await run(`plot({ x: { label: "x" }, y: { label: "y" }, series: [{ name: "s", points: [[1 * m, 2]] }] });`);
    assert.equal(unitless.status, "error");
    assert.match(unitless.error!.message, /plot\(\): the x values are quantities; give x\.unit/);
    const wrongKind = await run(
      `plot({ x: { label: "x", unit: "kN" }, y: { label: "y" }, series: [{ name: "s", points: [[1 * m, 2]] }] });`,
    );
    assert.equal(wrongKind.status, "error");
    assert.match(wrongKind.error!.message, /kN/);
    const bad = await run(`plot({ x: { label: "x" }, y: { label: "y" }, series: [{ name: "s", points: [[1, Number.NaN]] }] });`);
    assert.match(bad.error!.message, /series 1, point 1: x and y must be finite numbers/);
  });

  it("checks a description again before drawing it: one a sheet forged with html() is refused, not drawn", async () => {
    const forged = `html('<figure class="uzc-figure" data-plot="{&quot;x&quot;:{&quot;label&quot;:&quot;&lt;script&gt;&quot;}}"><figcaption>forged</figcaption></figure>');`;
    // Alone it is inert markup: only a session that wrote a figure with plot() has figures drawn.
    const alone = await run(forged, "html");
    assert.equal(alone.status, "completed");
    assert.doesNotMatch(alone.html!, /<svg|uzc-plot-error/);
    // Beside a real figure, it is checked like any description, and refused.
    const beside = await run(
      `plot({ x: { label: "x" }, y: { label: "y" }, series: [{ name: "s", points: [[0, 1]] }] });\n  ${forged}`,
      "html, plot",
    );
    assert.equal(beside.status, "completed", JSON.stringify(beside.error));
    assert.equal((beside.html!.match(/<svg/g) ?? []).length, 1);
    assert.match(beside.html!, /<p class="uzc-plot-error">This figure could not be drawn: plot\(\): `y` must be/);
    assert.equal(
      drawFigures('<figure class="uzc-figure" data-plot="not json">'),
      '<figure class="uzc-figure"><p class="uzc-plot-error">This figure could not be drawn: its description is not readable</p>',
    );
  });

  it("replay compares what the realm wrote: a session with a figure replays to the same report", async () => {
    const file = path.join(dir, "replayed.calc.ts");
    fs.writeFileSync(
      file,
      `import { UI, Window, plot } from "uzoncalc";\nexport async function* sheet() {\n  const g = yield UI(Window({ title: "N", fields: [{ name: "n", type: "number", default: 3 }] }));\n  plot({ x: { label: "i" }, y: { label: "i²" }, series: [{ name: "s", points: Array.from({ length: g.n }, (_, i) => [i, i * i]) }] });\n}\n`,
    );
    const first = await executor.execute({ file_path: file });
    const done = await executor.resume({ session_id: first.session_id, user_input: { n: 5 } });
    assert.equal(done.status, "completed");
    const replayed = await executor.replay({ record: executor.sessionRecord(done.session_id) });
    assert.equal(replayed.status, "completed", JSON.stringify(replayed.error));
    assert.equal(replayed.html, done.html);
  });
});
