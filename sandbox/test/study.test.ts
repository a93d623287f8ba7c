// `uzoncalc study` end to end (SPEC §4): `node dist/cli.js study ...` as a real child process, its files read back.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { runCli, spawnAndCollect, type ChildResult } from "./support/childProcess";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse as parseCsv } from "csv-parse/sync";
import { readReport } from "../connect/reportReading";
import { descendantsOf } from "./support/processes";

const ROOT = path.resolve(__dirname, "..", "..");
const CLI = path.join(ROOT, "dist", "cli.js");
const FIXTURES = path.join(ROOT, "sandbox", "test", "fixtures", "study");
const RC_BEAM = path.join(ROOT, "examples", "rc-beam.calc.ts");
const RC_BEAM_CASES = path.join(ROOT, "examples", "rc-beam.cases.csv");
const FRAGILE = path.join(FIXTURES, "fragile.calc.ts");
const SCRIPT = "/usr/bin/script";

type Result = ChildResult;

function study(args: string[], cwd = ROOT): Promise<Result> {
  return runCli(["study", ...args], { cwd });
}

function assertExit(result: Result, code: number): void {
  assert.equal(result.code, code, `exit ${result.code}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`);
}

type Row = Record<string, string>;

function readRows(file: string): Row[] {
  return parseCsv(fs.readFileSync(file, "utf8"), { columns: true, comment: "#", comment_no_infix: true, skip_empty_lines: true }) as Row[];
}

/** The utilisation columns of a study.csv row, by check. */
function utilisations(row: Row): number[] {
  return Object.entries(row)
    .filter(([column, value]) => column.startsWith("utilisation: ") && value !== "")
    .map(([, value]) => Number(value));
}

function sha256(file: string): string {
  return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

/** 1-based line and column of `token` on the line of `file` carrying `marker`. */
function locate(file: string, marker: string, token: string): { line: number; column: number } {
  const source = fs.readFileSync(file, "utf8").split("\n");
  const index = source.findIndex((text) => text.includes(marker));
  assert.ok(index >= 0, `marker ${marker} not found in ${file}`);
  return { line: index + 1, column: source[index]!.indexOf(token) + 1 };
}

describe("uzoncalc study (node dist/cli.js study)", function () {
  let tmp = "";

  before(function () {
    assert.ok(fs.existsSync(CLI), "dist/cli.js is missing: the build hook should have made it");
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "uzc-study-"));
  });

  after(function () {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("sweeps the rc-beam example: a row per case with its inputs, returned value and checks, and each case's report", async function () {
    const out = path.join(tmp, "rc-beam");
    const result = await study([RC_BEAM, "--cases", RC_BEAM_CASES, "-o", out]);
    // Checks NOT OK are results: every case ran to its end, so the study succeeds.
    assertExit(result, 0);
    assert.deepEqual(result.stdout.trim().split("\n"), [path.join(out, "study.html"), path.join(out, "study.csv")]);

    const cases = readRows(RC_BEAM_CASES);
    const rows = readRows(path.join(out, "study.csv"));
    assert.ok(cases.length >= 20, `the example sweeps at least 20 cases, has ${cases.length}`);
    assert.equal(rows.length, cases.length);
    rows.forEach((row, index) => {
      const given = cases[index]!;
      assert.equal(row.case, given.case);
      assert.equal(row.status, "completed", `${row.case}: ${row.error}`);
      for (const column of Object.keys(given).filter((key) => key !== "case"))
        assert.equal(row[column], given[column], `${row.case} ${column}`);
      for (const field of ["A_s_req", "M_Rd", "V_Rd_s"]) assert.ok(Number(row[field]) > 0, `${row.case} ${field} = ${row[field]}`);
      // The bending check's utilisation is the case's own M_Ed over its own M_Rd: the right inputs reached the right row.
      assert.ok(
        Math.abs(Number(row["utilisation: Bending resistance"]) - Number(given["actions.M"]) / Number(row.M_Rd)) < 0.002,
        `${row.case}: utilisation ${row["utilisation: Bending resistance"]} for M ${given["actions.M"]} over M_Rd ${row.M_Rd}`,
      );
      assert.equal(Number(row["max utilisation"]), Math.max(...utilisations(row)), row.case);
      const verdicts = Object.entries(row).filter(([column]) => column.startsWith("verdict: "));
      assert.ok(verdicts.length >= 8, `${row.case} has ${verdicts.length} checks`);
      const notOk = verdicts.some(([, verdict]) => verdict === "NOT OK");
      assert.equal(row.verdict, notOk ? "NOT OK" : "OK", row.case);
      assert.equal(row.error, "");
      assert.equal(row.report, `${row.case}.report.html`);
    });
    // M_Rd depends on the section only; A_s,req grows with the moment on one section.
    for (const depth of new Set(rows.map((row) => row["section.h"]))) {
      const sameDepth = rows.filter((row) => row["section.h"] === depth);
      assert.equal(new Set(sameDepth.map((row) => row.M_Rd)).size, 1, `one M_Rd for h = ${depth}`);
      const required = [...sameDepth].sort((a, b) => Number(a["actions.M"]) - Number(b["actions.M"])).map((row) => Number(row.A_s_req));
      assert.deepEqual(
        required,
        [...required].sort((a, b) => a - b),
        `A_s,req grows with M_Ed at h = ${depth}`,
      );
    }
    const failing = rows.filter((row) => row.verdict === "NOT OK");
    assert.ok(failing.length >= 2 && failing.length < rows.length / 2, `a few cases fail a check: ${failing.length}`);
    assert.ok(
      failing.every((row) => row["verdict: Bending resistance"] === "NOT OK" && Number(row["utilisation: Bending resistance"]) > 1),
    );

    // Each case's report: written, for its own inputs, and no two alike.
    for (const row of rows) {
      const report = readReport(fs.readFileSync(path.join(out, row.report!), "utf8"));
      const depth = report.inputs.find((input) => input.input === "Overall depth h");
      assert.equal(depth?.value, `${row["section.h"]} mm`, row.case);
      assert.equal(report.items.filter((item) => item.kind === "check").length, utilisations(row).length, row.case);
    }
    assert.equal(new Set(rows.map((row) => sha256(path.join(out, row.report!)))).size, rows.length);

    const html = fs.readFileSync(path.join(out, "study.html"), "utf8");
    for (const row of rows) assert.ok(html.includes(`<a href="${row.report}">${row.case}</a>`), `study.html links ${row.report}`);
    const governing = rows.reduce((top, row) => (Number(row["max utilisation"]) > Number(top["max utilisation"]) ? row : top));
    assert.match(html, new RegExp(`<tr class="[^"]*governing[^"]*"><td class="case"><a href="${governing.report}">`));
    assert.equal((html.match(/<tr class="[^"]*checks-fail/g) ?? []).length, failing.length, "each row with a check NOT OK is marked");
    assert.ok((html.match(/class="num fail">[\d.]+ NOT OK</g) ?? []).length >= failing.length, "failing checks are highlighted");
    assert.match(result.stderr, new RegExp(`governing: ${governing.case}, utilisation ${governing["max utilisation"]}`));
  });

  it("runs a JSON cases file: a refused value and a window the case does not answer fail in their rows, the others complete", async function () {
    const out = path.join(tmp, "json");
    const result = await study([RC_BEAM, "--cases", path.join(FIXTURES, "rc-beam.cases.json"), "-o", out]);
    assertExit(result, 1);
    const rows = readRows(path.join(out, "study.csv"));
    assert.deepEqual(
      rows.map((row) => [row.case, row.status]),
      [
        ["as in rc-beam.inputs.json", "completed"],
        ['<b>deep</b> & "heavy"', "completed"],
        ["too deep", "failed"],
        ["no actions", "failed"],
      ],
    );
    assert.equal(rows[2]!.error, "section.h: Overall depth h must be at most 2000 mm, got 2500 mm.");
    assert.match(
      rows[3]!.error!,
      /^window 'actions' \(Design actions \(ULS\)\) needs input: M \(number, kN·m, required.*\); V \(number, kN/,
    );
    assert.equal(rows[1]!["section.h"], "0.6 m", "the value as the cases file gives it");
    assert.equal(rows[1]!["actions.M"], "250");
    // A window a case leaves out is not answered by another case's values: its cells stay empty.
    assert.equal(rows[3]!["actions.M"], "");
    for (const row of rows.slice(2)) assert.equal(row.A_s_req, "", `${row.case} has no results`);

    // The first case is rc-beam.inputs.json: its report says what `uzoncalc run` says for those inputs.
    const runReport = path.join(tmp, "rc-beam.run.html");
    assertExit(
      await spawnAndCollect(process.execPath, [
        CLI,
        "run",
        RC_BEAM,
        "--inputs",
        path.join(ROOT, "examples", "rc-beam.inputs.json"),
        "-o",
        runReport,
      ]),
      0,
    );
    // The title block dates each run by its own session clock: everything else is the same.
    const undated = (file: string) => {
      const report = readReport(fs.readFileSync(file, "utf8"));
      return { ...report, items: report.items.filter((item) => !(item.kind === "text" && /^Date \d{4}-/.test(item.text))) };
    };
    const fromRun = undated(runReport);
    const fromStudy = undated(path.join(out, rows[0]!.report!));
    assert.ok(fromRun.items.length > 20, "the report was read");
    assert.deepEqual(fromStudy.items, fromRun.items);
    assert.deepEqual(fromStudy.inputs, fromRun.inputs);
    const deep = readReport(fs.readFileSync(path.join(out, rows[1]!.report!), "utf8"));
    assert.equal(deep.inputs.find((input) => input.input === "Overall depth h")?.value, "600 mm");

    // A failed case's report keeps what the sheet wrote and says why it stopped.
    const refused = fs.readFileSync(path.join(out, "too-deep.report.html"), "utf8");
    assert.match(refused, /<div class="uzc-error">.*must be at most 2000 mm, got 2500 mm\./);
    assert.ok(readReport(refused).title, "the report so far is kept");

    const html = fs.readFileSync(path.join(out, "study.html"), "utf8");
    assert.ok(html.includes("&lt;b&gt;deep&lt;/b&gt; &amp; &quot;heavy&quot;"), "the case name is escaped");
    assert.ok(!html.includes("<b>deep</b>"), "no markup from a case name");
    assert.ok(html.includes('<a href="b-deep-b-heavy.report.html">'));
    assert.match(
      html,
      /<tr class="failed"><td class="case"><a href="no-actions\.report\.html">no actions<\/a><\/td><td class="error">failed: window &#39;actions&#39;/,
    );

    // Without a terminal: one line per finished case, no bar.
    const lines = result.stderr.split("\n").filter((line) => /^uzoncalc: \[\d\/4\] /.test(line));
    assert.equal(lines.length, 4, result.stderr);
    assert.ok(!result.stderr.includes("\x1b["), "no terminal control codes in a log");
    assert.match(result.stderr, /4 cases: 2 completed \(0 with a check NOT OK\), 2 failed/);
  });

  it("puts a sheet error in its row as file:line:col and the message", async function () {
    const out = path.join(tmp, "fragile");
    const result = await study([FRAGILE, "--cases", path.join(FIXTURES, "fragile.cases.csv"), "-o", out]);
    assertExit(result, 1);
    const rows = readRows(path.join(out, "study.csv"));
    const { line, column } = locate(FRAGILE, "// THROWS", "new Error");
    const file = path.relative(ROOT, FRAGILE);
    assert.deepEqual(
      rows.map((row) => [row.case, row.status, row.q, row.verdict, row["utilisation: Capacity"], row.error]),
      [
        ["light", "completed", "10", "OK", "0.2", ""],
        ["heavy, 60 kN", "completed", "60", "NOT OK", "1.2", ""],
        ["too heavy", "failed", "", "", "", `${file}:${line}:${column} - Error: q = 150 kN is past what this sheet models`],
      ],
    );
    assert.equal(rows[0]!.note, "<i>fine</i>");
    const html = fs.readFileSync(path.join(out, "study.html"), "utf8");
    assert.ok(html.includes("&lt;i&gt;fine&lt;/i&gt;") && !html.includes("<i>fine</i>"), "returned text is escaped");
    assert.ok(fs.readFileSync(path.join(out, "too-heavy.report.html"), "utf8").includes("past what this sheet models"));
  });

  it("gives the same study.csv and study.html with --jobs 1 and --jobs 2", async function () {
    const one = path.join(tmp, "jobs-1");
    const two = path.join(tmp, "jobs-2");
    const [first, second] = [
      await study([RC_BEAM, "--cases", RC_BEAM_CASES, "--jobs", "1", "-o", one]),
      await study([RC_BEAM, "--cases", RC_BEAM_CASES, "--jobs", "2", "-o", two]),
    ];
    assertExit(first, 0);
    assertExit(second, 0);
    assert.match(first.stderr, /with 1 job\n/);
    assert.match(second.stderr, /with 2 jobs\n/);
    assert.equal(fs.readFileSync(path.join(one, "study.csv"), "utf8"), fs.readFileSync(path.join(two, "study.csv"), "utf8"));
    assert.equal(fs.readFileSync(path.join(one, "study.html"), "utf8"), fs.readFileSync(path.join(two, "study.html"), "utf8"));
  });

  it("runs --jobs cases at once, each lane in a member of its own", async function () {
    const cases = path.join(tmp, "spin.cases.csv");
    fs.writeFileSync(cases, "work.n\n" + "60000000\n".repeat(8));
    const child = spawn(
      process.execPath,
      [CLI, "study", path.join(FIXTURES, "spin.calc.ts"), "--cases", cases, "--jobs", "2", "-o", path.join(tmp, "spin")],
      {
        stdio: "ignore",
      },
    );
    // The CPU time each member has used, as last seen while the study ran.
    const cpu = new Map<number, number>();
    const watch = setInterval(() => {
      for (const pid of descendantsOf(child.pid!)) {
        try {
          if (!fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("sandbox-worker")) continue;
          const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
          cpu.set(pid, Number(fields[11]) + Number(fields[12]));
        } catch {
          // gone meanwhile
        }
      }
    }, 20);
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    clearInterval(watch);
    assert.equal(code, 0);
    const used = [...cpu.values()];
    assert.equal(used.length, 2, "two members");
    const total = used.reduce((a, b) => a + b, 0);
    assert.ok(
      total > 0 && used.every((ticks) => ticks >= total / 5),
      `each member computed its share of the cases: ${used.join(", ")} ticks`,
    );
  });

  it("makes each case's name a safe, unique report file name inside the study folder", async function () {
    const cases = path.join(tmp, "names.cases.json");
    const names = ["a/b", "A/B", "", "../escape", "Ünïcode ok", "con"];
    fs.writeFileSync(cases, JSON.stringify(names.map((name, index) => ({ case: name, load: { q: index + 1 } }))));
    const out = path.join(tmp, "names");
    assertExit(await study([FRAGILE, "--cases", cases, "-o", out]), 0);
    const rows = readRows(path.join(out, "study.csv"));
    assert.deepEqual(
      rows.map((row) => [row.case, row.report]),
      [
        ["a/b", "a-b.report.html"],
        ["A/B", "A-B-2.report.html"],
        ["case-3", "case-3.report.html"],
        ["../escape", "escape.report.html"],
        ["Ünïcode ok", "Unicode-ok.report.html"],
        ["con", "con.report.html"],
      ],
    );
    for (const row of rows) assert.ok(fs.existsSync(path.join(out, row.report!)), row.report);
    assert.ok(!fs.existsSync(path.join(tmp, "escape.report.html")), "nothing is written outside the study folder");
  });

  it("writes to <sheet>.study beside the sheet when -o is not given", async function () {
    const dir = path.join(tmp, "default-out");
    fs.mkdirSync(dir);
    fs.copyFileSync(FRAGILE, path.join(dir, "fragile.calc.ts"));
    fs.copyFileSync(path.join(FIXTURES, "fragile.cases.csv"), path.join(dir, "cases.csv"));
    const result = await study(["fragile.calc.ts", "--cases", "cases.csv"], dir);
    assertExit(result, 1);
    assert.equal(result.stdout.split("\n")[0], path.join(fs.realpathSync(dir), "fragile.study", "study.html"));
    assert.deepEqual(fs.readdirSync(path.join(dir, "fragile.study")).sort(), [
      "heavy-60-kN.report.html",
      "light.report.html",
      "study.csv",
      "study.html",
      "too-heavy.report.html",
    ]);
  });

  it("says a column whose window no case reached was not used, with the likely window", async function () {
    const cases = path.join(tmp, "unused.cases.csv");
    fs.writeFileSync(cases, "case,load.q,laod.q\none,10,20\n");
    const out = path.join(tmp, "unused");
    const result = await study([FRAGILE, "--cases", cases, "-o", out]);
    assertExit(result, 0);
    const warning = "column 'laod.q' was not used: no case reached a window 'laod'; did you mean 'load.q'?";
    assert.ok(result.stderr.includes(`uzoncalc: warning: ${warning}`), result.stderr);
    assert.ok(fs.readFileSync(path.join(out, "study.html"), "utf8").includes(`Warning: ${warning.replace(/'/g, "&#39;")}`));
  });

  describe("refuses what it cannot run, naming it, before the study runs", function () {
    /** Runs a study expected to be refused: exit 1, the message on stderr, and nothing written. */
    async function refused(args: string[], message: string | RegExp): Promise<Result> {
      const out = path.join(tmp, `refused-${Math.random().toString(36).slice(2)}`);
      const result = await study([...args, "-o", out]);
      assertExit(result, 1);
      if (typeof message === "string")
        assert.ok(result.stderr.includes(message), `expected ${JSON.stringify(message)} in:\n${result.stderr}`);
      else assert.match(result.stderr, message);
      assert.deepEqual(fs.existsSync(out) ? fs.readdirSync(out) : [], [], "nothing written");
      assert.equal(result.stdout, "");
      return result;
    }

    function casesFile(name: string, text: string): string {
      const file = path.join(tmp, name);
      fs.writeFileSync(file, text);
      return file;
    }

    it("no --cases", async function () {
      const result = await refused([RC_BEAM], "uzoncalc: study needs --cases FILE.csv or FILE.json");
      assert.match(result.stderr, /Usage:\n {2}uzoncalc run/);
    });

    it("a column naming a field its window does not have", async function () {
      const text = fs.readFileSync(RC_BEAM_CASES, "utf8").replace("section.s,", "section.nofield,");
      const result = await refused(
        [RC_BEAM, "--cases", casesFile("nofield.csv", text)],
        "nofield.csv: unknown column 'section.nofield': 'nofield' is not a field of window 'section'",
      );
      assert.ok(result.stderr.includes("the study was not run"), result.stderr);
    });

    it("a column that is not window.field", async function () {
      await refused(
        [RC_BEAM, "--cases", casesFile("plain.csv", "case,h\none,400\n")],
        "plain.csv: column 'h' must be named window.field (e.g. section.h), or case for the case's name",
      );
    });

    it("a column given twice, a row of the wrong length, a file with no cases", async function () {
      await refused([FRAGILE, "--cases", casesFile("twice.csv", "load.q,load.q\n1,2\n")], "twice.csv: column 'load.q' appears twice");
      await refused(
        [FRAGILE, "--cases", casesFile("ragged.csv", "case,load.q\na,1\nb,2,3\n")],
        /ragged\.csv: Invalid Record Length: .* on line 3/,
      );
      await refused([FRAGILE, "--cases", casesFile("header.csv", "case,load.q\n")], "header.csv has a header but no cases");
    });

    it("a JSON cases file that is not an array of input sets", async function () {
      await refused(
        [FRAGILE, "--cases", casesFile("object.json", '{ "load": { "q": 1 } }')],
        "object.json must hold an array of input sets",
      );
      await refused(
        [FRAGILE, "--cases", casesFile("window.json", '[{ "load": 5 }]')],
        'window.json: case 1: "load" must be { "field": value }',
      );
      await refused([FRAGILE, "--cases", casesFile("broken.json", "[{")], "broken.json is not valid JSON");
    });

    it("a missing cases file or sheet, another extension, a bad --jobs", async function () {
      await refused([FRAGILE, "--cases", path.join(tmp, "none.csv")], `cannot read the cases file ${path.join(tmp, "none.csv")}`);
      await refused([path.join(tmp, "none.calc.ts"), "--cases", RC_BEAM_CASES], "sheet not found");
      await refused([FRAGILE, "--cases", casesFile("cases.txt", "load.q\n1\n")], "the cases file must be .csv or .json");
      await refused([RC_BEAM, "--cases", RC_BEAM_CASES, "--jobs", "0"], "--jobs must be a whole number, at least 1");
    });
  });

  it("draws a progress bar on stderr when it is a terminal", async function () {
    const probe = fs.existsSync(SCRIPT) ? await spawnAndCollect(SCRIPT, ["-qfec", "test -t 2 && echo tty", "/dev/null"]) : undefined;
    if (!probe?.stdout.includes("tty")) this.skip();
    const out = path.join(tmp, "tty");
    const command = [process.execPath, CLI, "study", RC_BEAM, "--cases", path.join(FIXTURES, "rc-beam.cases.json"), "-o", out]
      .map((arg) => `'${arg.replace(/'/g, `'\\''`)}'`)
      .join(" ");
    const result = await spawnAndCollect(SCRIPT, ["-qfec", command, "/dev/null"]);
    assertExit(result, 1);
    // Each drawing goes back to the line's start and erases it (ESC [2K) before the bar.
    const drawings = result.stdout.split("\r\u001b[2K").slice(1);
    assert.ok(
      drawings.some((text) => /^uzoncalc: study \[░+\] 0\/4 cases/.test(text)),
      result.stdout,
    );
    assert.ok(
      drawings.some((text) => /^uzoncalc: study \[█+\] 4\/4 cases · 2 failed/.test(text)),
      result.stdout,
    );
    // A failed case is still named above the bar; a completed one only moves it on.
    assert.match(result.stdout, /uzoncalc: \[\d\/4\] too deep · failed: section\.h: /);
    assert.ok(!/uzoncalc: \[\d\/4\] as in rc-beam/.test(result.stdout), "completed cases move the bar, not the log");
  });
});
