// `uzoncalc diff` (SPEC §4, issue 17 item 5): diffReports on small report bodies written by the real document
// writer, then the built CLI on real runs of examples/rc-beam.calc.ts as a child process.

import assert from "node:assert/strict";
import { runCli, type ChildResult } from "./support/childProcess";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { CheckChange, LineChange, ReportChange, ReportDiff, TableChange } from "../../protocol/reportDiff";
import { diffReports, formatReportDiff } from "../connect/reportDiff";
import { readReport } from "../connect/reportReading";
import { renderReportDocument } from "../session/reportDocument";

const ROOT = path.resolve(__dirname, "..", "..");
const RC_BEAM = path.join(ROOT, "examples", "rc-beam.calc.ts");
const RC_BEAM_INPUTS = path.join(ROOT, "examples", "rc-beam.inputs.json");
const NAMES = { old: "old.report.html", new: "new.report.html" };

// ---- Report markup as the engine writes it ------------------------------------------------------------------

const mi = (name: string) => `<mi>${name}</mi>`;
const mn = (value: number | string) => `<mn>${value}</mn>`;
const mo = (op: string) => `<mo>${op}</mo>`;
const sub = (base: string, index: string) => `<msub><mi>${base}</mi><mi>${index}</mi></msub>`;
const quantity = (value: number | string, unit: string) =>
  `<mrow><mn>${value}</mn><mtext>\u00a0</mtext><mrow><mi mathvariant="normal">${unit}</mi></mrow></mrow>`;

/** One line of working: its pieces joined by `=` (name, formula, substitution, value). */
function equation(...sides: string[]): string {
  return `<div class="uzc-eq"><math displaystyle="true">${sides.join(mo("="))}</math></div>`;
}

/** A long line as record.ts wraps it: each `= …` after the first side in a <math> of its own. */
function wrappedEquation(...sides: string[]): string {
  const [first, ...rest] = sides;
  const pieces = [`<math displaystyle="true">${first}</math>`, ...rest.map((side) => `<math displaystyle="true">${mo("=")}${side}</math>`)];
  return `<div class="uzc-eq uzc-eq-wrap">${pieces.join("")}</div>`;
}

function heading(number: string, title: string): string {
  return `<h2 id="sec-${number}"><span class="uzc-num">${number}</span> ${title}</h2>`;
}

function check(label: string, ok: boolean, utilisation: number, condition: string): string {
  const state = ok ? "ok" : "fail";
  return (
    `<div class="uzc-check uzc-check-${state}"><span class="uzc-check-mark">${ok ? "✓" : "✗"}</span> <span class="uzc-check-label">${label}</span>` +
    ` <math displaystyle="true">${condition}</math> <span class="uzc-check-verdict">${ok ? "OK" : "NOT OK"}</span>` +
    ` <span class="uzc-check-ratio">utilisation ${utilisation}</span></div>`
  );
}

interface Run {
  body: string[];
  hash?: string;
  createdAt?: number;
  version?: string;
  inputs?: Record<string, number>;
  error?: string;
}

/** A completed report as the real document writer makes it: provenance with hash, inputs, runtime and date. */
function reportOf(run: Run): string {
  return renderReportDocument({
    body: run.body.map((block) => block + "\n").join(""),
    sheetName: "beam.calc.ts",
    sheetHash: run.hash ?? "1111",
    createdAt: run.createdAt ?? Date.UTC(2026, 0, 1),
    version: run.version ?? "0.1.0",
    inputs: [
      {
        window: "loads",
        values: run.inputs ?? { M: 150 },
        legend: { title: "Loads", fields: { M: { label: "Design moment", unit: "kN*m" } } },
      },
    ],
    ...(run.error !== undefined
      ? { error: { message: run.error, line: 12, column: 5, stack: `Error: ${run.error}\n    at sheet (beam.calc.ts:12:5)` } }
      : {}),
  });
}

function diffOf(oldRun: Run, newRun: Run): ReportDiff {
  return diffReports(readReport(reportOf(oldRun)), readReport(reportOf(newRun)));
}

/** The beam's bending: a section heading, three lines (one wrapped) and the check. */
function bending(M_Ed: number, M_Rd: number, extra: string[] = []): string[] {
  const utilisation = Math.round((M_Ed / M_Rd) * 1000) / 1000;
  return [
    heading("1", "Bending"),
    equation(sub("M", "Ed"), quantity(M_Ed, "kN·m")),
    equation(mi("b"), quantity(300, "mm")),
    ...extra,
    wrappedEquation(
      sub("M", "Rd"),
      `${mi("b")}${mo("·")}${sub("f", "yd")}`,
      `${quantity(300, "mm")}${mo("·")}${quantity(434.783, "MPa")}`,
      quantity(M_Rd, "kN·m"),
    ),
    check("Bending resistance", M_Ed <= M_Rd, utilisation, `${sub("M", "Ed")}${mo("≤")}${sub("M", "Rd")}`),
  ];
}

function only<K extends ReportChange["kind"]>(diff: ReportDiff, kind: K): Extract<ReportChange, { kind: K }>[] {
  return diff.changes.filter((change): change is Extract<ReportChange, { kind: K }> => change.kind === kind);
}

describe("uzoncalc diff (issue 17 item 5)", function () {
  describe("diffReports on small reports", function () {
    it("finds nothing between two runs of one calculation at different dates and runtimes", function () {
      const diff = diffOf(
        { body: bending(150, 171.225), createdAt: Date.UTC(2026, 0, 1), version: "0.1.0" },
        { body: bending(150, 171.225), createdAt: Date.UTC(2026, 5, 30), version: "0.2.0" },
      );
      assert.deepEqual(diff.changes, []);
      assert.equal(diff.same, true);
      assert.equal(formatReportDiff(diff, NAMES), "no differences in the calculation\n");
    });

    it("shows a changed value as one line that changed, old → new, with both texts", function () {
      const diff = diffOf({ body: bending(150, 171.225) }, { body: bending(150, 180.1) });
      assert.equal(diff.same, false);
      assert.deepEqual(only(diff, "line"), [
        {
          kind: "line",
          change: "changed",
          section: "1 Bending",
          name: "M_Rd",
          old: { text: "M_Rd = b · f_yd = 300 mm · 434.783 MPa = 171.225 kN·m", value: "171.225 kN·m" },
          new: { text: "M_Rd = b · f_yd = 300 mm · 434.783 MPa = 180.1 kN·m", value: "180.1 kN·m" },
        },
      ]);
      assert.match(formatReportDiff(diff, NAMES), /^ {2}M_Rd = 171\.225 kN·m → 180\.1 kN·m$/m);
    });

    it("reads a wrapped line's <math> pieces as one line and aligns it by its name and formula", function () {
      const wrapped = (value: number) =>
        wrappedEquation(
          sub("z", "v"),
          `${mn("0.9")}${mo("·")}${mi("d")}`,
          `${mn("0.9")}${mo("·")}${quantity(452, "mm")}`,
          quantity(value, "mm"),
        );
      const diff = diffOf({ body: [wrapped(406.8)] }, { body: [wrapped(400)] });
      const [line, ...others] = only(diff, "line");
      assert.equal(others.length, 0, JSON.stringify(diff.changes));
      assert.equal(line!.change, "changed");
      assert.equal(line!.name, "z_v");
      assert.equal(line!.old!.text, "z_v = 0.9 · d = 0.9 · 452 mm = 406.8 mm");
      assert.deepEqual([line!.old!.value, line!.new!.value], ["406.8 mm", "400 mm"]);
    });

    it("finds a line added and a line removed, and leaves the lines around them alone", function () {
      const extra = equation(sub("γ", "M0"), mn("1.0"));
      const added = diffOf({ body: bending(150, 171.225) }, { body: bending(150, 171.225, [extra]) });
      assert.deepEqual(added.changes, [
        { kind: "line", change: "added", section: "1 Bending", name: "γ_M0", new: { text: "γ_M0 = 1.0", value: "1.0" } },
      ]);
      assert.match(formatReportDiff(added, NAMES), /^\+ line γ_M0 = 1\.0$/m);

      const removed = diffOf({ body: bending(150, 171.225, [extra]) }, { body: bending(150, 171.225) });
      assert.deepEqual(removed.changes, [
        { kind: "line", change: "removed", section: "1 Bending", name: "γ_M0", old: { text: "γ_M0 = 1.0", value: "1.0" } },
      ]);
      assert.match(formatReportDiff(removed, NAMES), /^- line γ_M0 = 1\.0$/m);
    });

    it("reports a check whose verdict changed, with its utilisation old → new", function () {
      const diff = diffOf({ body: bending(150, 171.225) }, { body: bending(190, 180.1) });
      const [bendingCheck, ...others] = only(diff, "check");
      assert.equal(others.length, 0);
      assert.deepEqual(bendingCheck, {
        kind: "check",
        change: "changed",
        section: "1 Bending",
        verdictChanged: true,
        old: { label: "Bending resistance", ok: true, verdict: "OK", utilisation: 0.876, text: "M_Ed ≤ M_Rd" },
        new: { label: "Bending resistance", ok: false, verdict: "NOT OK", utilisation: 1.055, text: "M_Ed ≤ M_Rd" },
      } satisfies CheckChange);
      assert.match(formatReportDiff(diff, NAMES), /^ {2}✓ → ✗ Bending resistance \(utilisation 0\.876 → 1\.055\)$/m);
    });

    it("keeps a check whose label carries a value as the same check (3 bars → 4 bars)", function () {
      const steel = (bars: number, utilisation: number) => check(`Tension steel: ${bars} bars Ø20`, true, utilisation, mi("A"));
      const diff = diffOf({ body: [steel(3, 0.867)] }, { body: [steel(4, 0.65)] });
      assert.equal(diff.changes.length, 1, JSON.stringify(diff.changes));
      const change = diff.changes[0] as CheckChange;
      assert.deepEqual(
        [change.change, change.verdictChanged, change.old?.label, change.new?.label],
        ["changed", false, "Tension steel: 3 bars Ø20", "Tension steel: 4 bars Ø20"],
      );
    });

    it("reports a section added, not the renumbering of the sections after it", function () {
      const shear = [heading("2", "Shear"), equation(sub("V", "Ed"), quantity(110, "kN"))];
      const shearLater = [heading("3", "Shear"), equation(sub("V", "Ed"), quantity(110, "kN"))];
      const deflection = [heading("2", "Deflection"), `<p>Span/depth ratio not checked here.</p>`];
      const diff = diffOf(
        { body: [...bending(150, 171.225), ...shear] },
        { body: [...bending(150, 171.225), ...deflection, ...shearLater] },
      );
      assert.deepEqual(diff.changes, [
        { kind: "heading", change: "added", section: "1 Bending", new: "2 Deflection" },
        { kind: "text", change: "added", section: "2 Deflection", new: "Span/depth ratio not checked here." },
      ]);
    });

    it("reports a changed input, and counts a differing content hash alone as no difference (but says so)", function () {
      const inputs = diffOf({ body: bending(150, 171.225), inputs: { M: 150 } }, { body: bending(150, 171.225), inputs: { M: 190 } });
      assert.deepEqual(inputs.changes, [
        { kind: "input", change: "changed", window: "Loads", input: "Design moment", old: "150 kN·m", new: "190 kN·m" },
      ]);
      assert.match(formatReportDiff(inputs, NAMES), /^Inputs\n {2}Loads › Design moment: 150 kN·m → 190 kN·m$/m);

      const edited = diffOf({ body: bending(150, 171.225), hash: "aaaa" }, { body: bending(150, 171.225), hash: "bbbb" });
      assert.equal(edited.same, true);
      assert.deepEqual(edited.sheet, {
        old: { name: "beam.calc.ts", hash: "sha256:aaaa" },
        new: { name: "beam.calc.ts", hash: "sha256:bbbb" },
      });
      assert.match(
        formatReportDiff(edited, NAMES),
        /^no differences in the calculation \(the sheet's content hash differs: .*sha256:aaaa → .*sha256:bbbb/,
      );
      assert.equal(formatReportDiff(edited, NAMES).split("\n").length, 2, "one line");
    });

    it("reports the error a run stopped with as one block, without its stack", function () {
      const diff = diffOf({ body: bending(150, 171.225) }, { body: bending(150, 171.225), error: "M_Rd is negative" });
      assert.deepEqual(diff.changes, [
        {
          kind: "error",
          change: "added",
          section: "1 Bending",
          new: "The calculation stopped with an error at beam.calc.ts:12:5: M_Rd is negative",
        },
      ]);
      const gone = diffOf({ body: bending(150, 171.225), error: "M_Rd is negative" }, { body: bending(150, 171.225) });
      assert.deepEqual(
        gone.changes.map((change) => [change.kind, change.change]),
        [["error", "removed"]],
      );
    });

    it("reports a table's changed cells by row and column", function () {
      const summary = (demand: string, utilisation: string) =>
        `<table class="uzc-table"><caption><span class="uzc-num">Table 1</span> Summary</caption><thead><tr><th>Check</th><th>Demand</th><th>Utilisation</th></tr></thead>` +
        `<tbody><tr><td>Bending</td><td>${demand}</td><td>${utilisation}</td></tr><tr><td>Shear</td><td>110 kN</td><td>0.495</td></tr></tbody></table>`;
      const diff = diffOf({ body: [summary("150 kN·m", "0.876")] }, { body: [summary("190 kN·m", "1.055")] });
      const [table, ...others] = only(diff, "table");
      assert.equal(others.length, 0);
      assert.deepEqual((table satisfies TableChange).rows, [
        { old: ["Bending", "150 kN·m", "0.876"], new: ["Bending", "190 kN·m", "1.055"] },
      ]);
      assert.match(formatReportDiff(diff, NAMES), /^ {6}Bending: Demand 150 kN·m → 190 kN·m; Utilisation 0\.876 → 1\.055$/m);
    });

    it("groups the terminal's lines under the report's headings and ends with a count", function () {
      const diff = diffOf({ body: bending(150, 171.225) }, { body: bending(190, 180.1) });
      const lines = formatReportDiff(diff, NAMES).trimEnd().split("\n");
      assert.deepEqual(lines.slice(0, 3), [
        "--- old.report.html  beam.calc.ts sha256:1111",
        "+++ new.report.html  beam.calc.ts sha256:1111",
        "1 Bending",
      ]);
      assert.equal(lines.at(-1), "3 differences in the calculation: 2 values, 1 check (1 verdict changed)");
      assert.equal(lines.filter((line) => line === "1 Bending").length, 1);
    });
  });

  describe("the built CLI on runs of examples/rc-beam.calc.ts", function () {
    let tmp = "";
    let first = "";
    let again = "";
    let heavier = "";

    before(async function () {
      this.timeout(120_000);
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), "uzc-diff-"));
      const inputs = JSON.parse(fs.readFileSync(RC_BEAM_INPUTS, "utf8")) as {
        section: Record<string, unknown>;
        actions: Record<string, unknown>;
      };
      const heavierInputs = path.join(tmp, "heavier.inputs.json");
      fs.writeFileSync(heavierInputs, JSON.stringify({ ...inputs, actions: { ...inputs.actions, M: "250 kN*m" } }));
      [first, again, heavier] = ["first", "again", "heavier"].map((name) => path.join(tmp, `${name}.report.html`));
      for (const [output, inputsFile] of [
        [first, RC_BEAM_INPUTS],
        [again, RC_BEAM_INPUTS],
        [heavier, heavierInputs],
      ] as const) {
        const run = await cli(["run", RC_BEAM, "--inputs", inputsFile, "-o", output]);
        assert.equal(run.code, 0, run.stderr);
      }
    });

    after(function () {
      if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("exits 0 with one line for the same inputs run twice (at different dates)", async function () {
      const date = (file: string) => /<th>Date<\/th><td>(.*?)<\/td>/.exec(fs.readFileSync(file, "utf8"))?.[1];
      assert.notEqual(date(first), date(again), "the two runs should carry different dates");
      const result = await cli(["diff", first, again]);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.equal(result.stdout, "no differences in the calculation\n");
    });

    it("exits 1 and names the changed input, the values old → new and the check whose verdict changed", async function () {
      const result = await cli(["diff", first, heavier]);
      assert.equal(result.code, 1, result.stderr);
      const out = result.stdout;
      assert.match(out, /^--- .*first\.report\.html {2}rc-beam\.calc\.ts sha256:/m);
      assert.match(out, /^Inputs\n {2}Design actions \(ULS\) › Design moment M_Ed: 150 kN·m → 250 kN·m$/m);
      assert.match(out, /^ {2}M_Ed = 150 kN·m → 250 kN·m$/m);
      assert.match(out, /^ {2}A_s, req = 816\.746 mm² → [\d.]+ mm²$/m);
      assert.match(out, /^ {2}✓ → ✗ Bending resistance \(utilisation 0\.876 → 1\.46\)$/m);
      assert.match(out, /^ {2}✓ → ✗ Tension steel: 3 bars Ø20 \(utilisation 0\.867 → [\d.]+\)$/m);
      // The section's resistance does not depend on the moment: it is no difference.
      assert.doesNotMatch(out, /M_Rd =/);
      assert.doesNotMatch(out, /^[+-] /m, "nothing added or removed: every value changed in place");
      assert.match(
        out.trimEnd().split("\n").at(-1)!,
        /^\d+ differences in the calculation: 1 input, \d+ values, \d+ checks \(2 verdicts changed\), 1 table$/,
      );
    });

    it("prints the same as JSON with --json: kinds and sides as protocol/reportDiff.ts", async function () {
      const result = await cli(["diff", "--json", first, heavier]);
      assert.equal(result.code, 1, result.stderr);
      const diff = JSON.parse(result.stdout) as ReportDiff;
      assert.equal(diff.same, false);
      assert.deepEqual(diff.sheet.old, diff.sheet.new);
      assert.deepEqual(diff.changes[0], {
        kind: "input",
        change: "changed",
        window: "Design actions (ULS)",
        input: "Design moment M_Ed",
        old: "150 kN·m",
        new: "250 kN·m",
      });
      const moment = diff.changes.find((change): change is LineChange => change.kind === "line" && change.name === "M_Ed");
      assert.deepEqual([moment?.change, moment?.old?.value, moment?.new?.value], ["changed", "150 kN·m", "250 kN·m"]);
      const verdicts = diff.changes.filter((change): change is CheckChange => change.kind === "check" && change.verdictChanged);
      assert.deepEqual(
        verdicts.map((change) => [change.new?.label, change.old?.verdict, change.new?.verdict]),
        [
          ["Tension steel: 3 bars Ø20", "OK", "NOT OK"],
          ["Bending resistance", "OK", "NOT OK"],
        ],
      );
      assert.deepEqual([...new Set(diff.changes.map((change) => `${change.kind} ${change.change}`))].sort(), [
        "check changed",
        "input changed",
        "line changed",
        "table changed",
      ]);
      const same = await cli(["diff", "--json", first, again]);
      assert.equal(same.code, 0);
      assert.deepEqual((JSON.parse(same.stdout) as ReportDiff).changes, []);
    });

    it("exits 2 naming the file when a report is missing or is not a report, and on wrong arguments", async function () {
      const missing = path.join(tmp, "missing.report.html");
      const noFile = await cli(["diff", first, missing]);
      assert.equal(noFile.code, 2);
      assert.equal(noFile.stdout, "");
      assert.equal(noFile.stderr, `uzoncalc diff: cannot read ${missing}: no such file\n`);

      const notReport = await cli(["diff", RC_BEAM_INPUTS, first]);
      assert.equal(notReport.code, 2);
      assert.match(
        notReport.stderr,
        new RegExp(`^uzoncalc diff: ${RC_BEAM_INPUTS.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is not a UzonCalc report`),
      );

      for (const args of [
        ["diff", first],
        ["diff", first, again, heavier],
        ["diff", "--colour", first, again],
      ]) {
        const wrong = await cli(args);
        assert.equal(wrong.code, 2, args.join(" "));
        assert.match(wrong.stderr, /^uzoncalc diff: .*\(usage: uzoncalc diff <old\.report\.html> <new\.report\.html> \[--json\]\)\n$/);
      }
    });
  });
});

function cli(args: string[]): Promise<ChildResult> {
  return runCli(args);
}
