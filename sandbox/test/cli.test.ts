// End-to-end tests of the built CLI (SPEC §4): `node dist/cli.js ...` as a real child process.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { childEnvironment, runCli, spawnAndCollect, type ChildOptions, type ChildResult } from "./support/childProcess";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** A value in kN/m as the report engine writes it (the beam's loads). */
function kNPerM(value: number): string {
  return `<mrow><mn>${value}</mn><mtext>\u00a0</mtext><mrow><mi mathvariant="normal">kN</mi><mo lspace="0" rspace="0">/</mo><mi mathvariant="normal">m</mi></mrow></mrow>`;
}
const ROOT = path.resolve(__dirname, "..", "..");
const CLI = path.join(ROOT, "dist", "cli.js");
const FIXTURES = path.join(ROOT, "sandbox", "test", "fixtures", "cli");
const BEAM = path.join(ROOT, "examples", "beam.calc.ts");
const BEAM_INPUTS = path.join(ROOT, "examples", "beam.inputs.json");
const VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string }).version;
const SCRIPT = "/usr/bin/script";
type Result = ChildResult;

function cli(args: string[], options: ChildOptions = {}): Promise<Result> {
  return runCli(args, options);
}

function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Whether `script` gives its child a real pseudo-terminal here; set by the suite's before(). */
let scriptUsable = false;

/**
 * Runs the CLI under a pseudo-terminal (`script`), so its stdin is a real TTY; `input` is typed ahead and the
 * CLI queues it. stdout and stderr arrive merged (and with the terminal's echo of the input), CRLF made LF.
 * Where `script` is unusable, falls back to UZONCALC_FORCE_TTY=1 on a pipe, with stdout appended to stderr.
 */
async function cliInTerminal(args: string[], input: string, cwd = ROOT): Promise<Result> {
  if (!scriptUsable) {
    const result = await cli(args, { cwd, input, env: { UZONCALC_FORCE_TTY: "1" } });
    return { ...result, stdout: result.stderr + result.stdout };
  }
  const command = [process.execPath, CLI, ...args].map(shellQuote).join(" ");
  const result = await spawnAndCollect(SCRIPT, ["-qfec", command, "/dev/null"], { cwd, input, env: { SHELL: "/bin/sh" } });
  return { ...result, stdout: result.stdout.replace(/\r\n/g, "\n") };
}

function describeResult(result: Result): string {
  return `exit ${result.code}${result.signal ? ` (signal ${result.signal})` : ""}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`;
}

function assertExit(result: Result, code: number): void {
  assert.equal(result.code, code, describeResult(result));
}

function lines(text: string): string[] {
  return text.split("\n").filter((line) => line !== "");
}

/** 1-based line and column of `token` on the line of `file` carrying `marker`. */
function locate(file: string, marker: string, token: string): { line: number; column: number } {
  const source = fs.readFileSync(file, "utf8").split("\n");
  const index = source.findIndex((text) => text.includes(marker));
  assert.ok(index >= 0, `marker ${marker} not found in ${file}`);
  const column = source[index]!.indexOf(token);
  assert.ok(column >= 0, `token ${token} not on the marker line of ${file}`);
  return { line: index + 1, column: column + 1 };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

describe("CLI end to end (node dist/cli.js)", function () {
  let tmp = "";

  before(function () {
    this.timeout(120_000);
    if (!fs.existsSync(CLI)) execFileSync(process.execPath, [path.join(ROOT, "scripts", "build.mjs")], { cwd: ROOT, stdio: "pipe" });
    assert.ok(fs.existsSync(CLI), "the build did not produce dist/cli.js");
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "uzc-cli-"));
    // `script` gives the child a real pseudo-terminal; probe that it does before relying on it.
    try {
      const probe = `${shellQuote(process.execPath)} -e 'process.exit(process.stdin.isTTY ? 0 : 3)'`;
      execFileSync(SCRIPT, ["-qfec", probe, "/dev/null"], {
        stdio: ["pipe", "pipe", "pipe"],
        input: "",
        timeout: 10_000,
        env: childEnvironment({ SHELL: "/bin/sh" }),
      });
      scriptUsable = true;
    } catch {
      scriptUsable = false;
      console.warn(`    (${SCRIPT} gives no pseudo-terminal here: the terminal tests run with UZONCALC_FORCE_TTY=1 instead)`);
    }
  });

  after(function () {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** A fresh directory under the suite's temp dir. */
  function scratch(name: string): string {
    const dir = path.join(tmp, name);
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  }

  function writeJson(dir: string, name: string, value: unknown): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, JSON.stringify(value, null, 2));
    return file;
  }

  function beamInputs(): Record<string, Record<string, unknown>> {
    return JSON.parse(fs.readFileSync(BEAM_INPUTS, "utf8")) as Record<string, Record<string, unknown>>;
  }

  describe("the beam demo", function () {
    it("runs from --inputs, prints only the absolute report path, and reports one progress line per step", async function () {
      const dir = scratch("demo");
      const output = path.join(dir, "nested", "out", "beam.html");
      const result = await cli(["run", "examples/beam.calc.ts", "--inputs", "examples/beam.inputs.json", "-o", output]);
      assertExit(result, 0);
      assert.equal(result.stdout, `${output}\n`);
      const stderr = lines(result.stderr);
      assert.equal(stderr.length, 4, result.stderr);
      stderr.forEach((line, i) => assert.match(line, new RegExp(`^uzoncalc: step ${i + 1} · `)));
      assert.match(stderr[0]!, /started beam\.calc\.ts → waiting for "Geometry" \(geometry\)/);
      assert.match(stderr[1]!, /answered "geometry" from inputs → waiting for "Loads" \(loads\)/);
      assert.match(stderr[2]!, /answered "loads" from inputs → waiting for "Material" \(material\)/);
      assert.match(stderr[3]!, /answered "material" from inputs → completed/);

      const report = fs.readFileSync(output, "utf8");
      assert.match(report, /^<!DOCTYPE html>/i);
      assert.match(report, /<\/html>\s*$/);
      assert.match(report, /<title>Simply supported beam<\/title>/);
      // The design load as the report engine renders it: w_d = γ_G·g_k + γ_Q·q_k = 1.35·1.5 kN/m + 1.5·2.5 kN/m = 5.775 kN/m.
      const designLoad = `<mo>=</mo><mn>1.35</mn><mo>·</mo>${kNPerM(1.5)}<mo>+</mo><mn>1.5</mn><mo>·</mo>${kNPerM(2.5)}<mo>=</mo>${kNPerM(5.775)}`;
      for (const text of ["7.2 m", "GL28h glulam", "P-1042", "14.438 MPa", "<msub><mi>w</mi><mi>d</mi></msub><mo>=</mo>", designLoad]) {
        assert.ok(report.includes(text), `report lacks ${JSON.stringify(text)}`);
      }
      // "120 mm" and "0.36 m" arrive converted into the fields' unit, mm.
      assert.ok(report.includes("GL28h glulam, section 120×360 mm"), "section size not converted to mm");
    });

    it("writes <name>.report.html beside the sheet when -o is not given", async function () {
      const dir = scratch("default-output");
      fs.copyFileSync(BEAM, path.join(dir, "x.calc.ts"));
      fs.mkdirSync(path.join(dir, "lib"));
      fs.copyFileSync(path.join(ROOT, "examples", "lib", "sections.ts"), path.join(dir, "lib", "sections.ts"));
      const result = await cli(["run", path.join(dir, "x.calc.ts"), "--inputs", BEAM_INPUTS]);
      assertExit(result, 0);
      const expected = path.join(dir, "x.report.html");
      assert.equal(result.stdout, `${expected}\n`);
      assert.ok(fs.readFileSync(expected, "utf8").includes("14.438 MPa"));
      assert.deepEqual(fs.readdirSync(dir).sort(), ["lib", "x.calc.ts", "x.report.html"]);
    });

    it("resolves a relative sheet and -o against the working directory", async function () {
      const dir = scratch("relative");
      fs.copyFileSync(BEAM, path.join(dir, "beam.calc.ts"));
      fs.mkdirSync(path.join(dir, "lib"));
      fs.copyFileSync(path.join(ROOT, "examples", "lib", "sections.ts"), path.join(dir, "lib", "sections.ts"));
      const result = await cli(["run", "beam.calc.ts", "--inputs", BEAM_INPUTS, "-o", "reports/r.html"], { cwd: dir });
      assertExit(result, 0);
      const expected = path.join(fs.realpathSync(dir), "reports", "r.html");
      assert.equal(result.stdout, `${expected}\n`);
      assert.ok(fs.existsSync(expected));
    });

    it("warns about windows in --inputs that the sheet never asked for", async function () {
      const dir = scratch("unused-inputs");
      const inputs = writeJson(dir, "inputs.json", { ...beamInputs(), ghost: { a: 1 } });
      const result = await cli(["run", BEAM, "--inputs", inputs, "-o", path.join(dir, "r.html")]);
      assertExit(result, 0);
      assert.match(result.stderr, /^uzoncalc: warning: inputs for window 'ghost' were not used/m);
    });
  });

  describe("where the report goes (issue 13 item 20)", function () {
    const run = (output: string) => cli(["run", "examples/beam.calc.ts", "--inputs", "examples/beam.inputs.json", "-o", output]);

    it("-o - writes the report to stdout, and nothing else goes there", async () => {
      const result = await run("-");
      assertExit(result, 0);
      assert.match(result.stdout, /^<!DOCTYPE html>/i);
      assert.match(result.stdout, /<\/html>\s*$/);
    });

    it("a path it cannot write: one line naming the path and why, exit 1, the report kept elsewhere", async () => {
      const dir = scratch("unwritable");
      const file = path.join(dir, "a-file");
      fs.writeFileSync(file, "");
      const cases: [string, RegExp][] = [
        [dir, /it is a folder/],
        [path.join(file, "beam.html"), /a part of the path is a file, not a folder/],
      ];
      if (fs.existsSync("/dev/full")) cases.push(["/dev/full", /no space left on the device/]);
      for (const [output, reason] of cases) {
        const result = await run(output);
        assertExit(result, 1);
        assert.equal(result.stdout, "", "no path is printed for a report that was not written there");
        const failure = lines(result.stderr).filter((line) => !line.startsWith("uzoncalc: step"));
        assert.match(failure[0]!, new RegExp(`^uzoncalc: cannot write the report to ${output.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: `));
        assert.match(failure[0]!, reason);
        assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
        const kept = /the report was kept in (\S+);/.exec(failure[1] ?? "")?.[1];
        assert.ok(kept && fs.readFileSync(kept, "utf8").includes("Simply supported beam"), failure.join("\n"));
        fs.rmSync(kept);
      }
    });
  });

  describe("reads nothing outside the sheet's folder and the working one (issue 13 item 1)", function () {
    it("a glob import that expands outside them exits 1 with the refusal, as a plain ../ import does", async () => {
      const contract = path.join(ROOT, "sandbox", "test", "fixtures", "contract");
      for (const sheet of ["glob-outside.calc.ts", "import-outside.calc.ts"]) {
        const result = await cli(["run", sheet, "-o", path.join(scratch("outside"), "r.html")], { cwd: contract });
        assertExit(result, 1);
        assert.match(result.stderr, /outside the safe directories/);
        assert.doesNotMatch(result.stderr + result.stdout, /NOT-FOR-SHEETS|\n\s+at /);
      }
    });
  });

  describe("--params", function () {
    it("passes an inline JSON object to the sheet", async function () {
      const dir = scratch("params-inline");
      const output = path.join(dir, "r.html");
      const result = await cli(["run", BEAM, "--inputs", BEAM_INPUTS, "--params", '{"loadFactor":2}', "-o", output]);
      assertExit(result, 0);
      const report = fs.readFileSync(output, "utf8");
      // The design load as the report engine renders it, with γ_Q = 2: 1.35·1.5 + 2·2.5 = 7.025.
      assert.ok(
        report.includes(`<mn>1.35</mn><mo>·</mo>${kNPerM(1.5)}<mo>+</mo><mn>2</mn><mo>·</mo>${kNPerM(2.5)}<mo>=</mo>${kNPerM(7.025)}`),
        "loadFactor 2 not applied",
      );
      assert.ok(!report.includes(`<mo>+</mo><mn>1.5</mn><mo>·</mo>${kNPerM(2.5)}`));
    });

    it("reads the object from @file", async function () {
      const dir = scratch("params-file");
      const params = writeJson(dir, "params.json", { loadFactor: 2 });
      const output = path.join(dir, "r.html");
      const result = await cli(["run", BEAM, "--inputs", BEAM_INPUTS, "--params", `@${params}`, "-o", output]);
      assertExit(result, 0);
      assert.ok(
        fs.readFileSync(output, "utf8").includes(`<mo>+</mo><mn>2</mn><mo>·</mo>${kNPerM(2.5)}<mo>=</mo>${kNPerM(7.025)}`),
        "loadFactor 2 from @file not applied",
      );
    });

    it("refuses bad JSON, a non-object and an unreadable @file with exit 1 naming --params", async function () {
      const dir = scratch("params-bad");
      const output = path.join(dir, "r.html");
      const cases: Array<[string, RegExp]> = [
        ['{"loadFactor":', /^uzoncalc: --params is not valid JSON: /],
        ["[2]", /^uzoncalc: --params must be a JSON object$/m],
        [
          `@${path.join(dir, "missing.json")}`,
          new RegExp(`^uzoncalc: --params: cannot read ${escapeRegExp(path.join(dir, "missing.json"))}$`, "m"),
        ],
      ];
      for (const [value, message] of cases) {
        const result = await cli(["run", BEAM, "--inputs", BEAM_INPUTS, "--params", value, "-o", output]);
        assertExit(result, 1);
        assert.equal(result.stdout, "");
        assert.match(result.stderr, message);
        assert.match(result.stderr, /Usage:/);
      }
      assert.ok(!fs.existsSync(output), "no report is written for a usage error");
    });
  });

  describe("input that cannot be asked for (stdin not a TTY)", function () {
    it("exits 2 naming the window and every field of it", async function () {
      const dir = scratch("missing-window");
      const { material: _material, ...inputs } = beamInputs();
      const file = writeJson(dir, "inputs.json", inputs);
      const output = path.join(dir, "r.html");
      const result = await cli(["run", BEAM, "--inputs", file, "-o", output]);
      assertExit(result, 2);
      assert.equal(result.stdout, "");
      const needs = lines(result.stderr).find((line) => line.includes("needs input"));
      assert.ok(needs, result.stderr);
      assert.match(needs, /^uzoncalc: window 'material' \("Material"\) needs input: /);
      for (const field of ["grade (selectOne", "limit (number", "ref (text"])
        assert.ok(needs.includes(field), `${field} not named: ${needs}`);
      assert.match(
        result.stderr,
        /give it in --inputs as \{ "material": \{ "grade": …, "limit": …, "ref": … \} \}, or run in a terminal to be asked\./,
      );
      assert.ok(!fs.existsSync(output));
    });

    it("exits 2 on the first window when there are no inputs at all", async function () {
      const result = await cli(["run", path.join(FIXTURES, "throws.calc.ts"), "-o", path.join(scratch("no-inputs"), "r.html")]);
      assertExit(result, 2);
      assert.match(result.stderr, /window 'only' \("Only"\) needs input: x \(number, default 1\)\./);
    });

    it("exits 2 on an invalid value in the inputs file, naming window, field and problem", async function () {
      const dir = scratch("invalid-inputs");
      const cases: Array<[unknown, RegExp]> = [
        ["abc", /^uzoncalc: geometry\.span: .*must be a number, got "abc"/m],
        [100, /^uzoncalc: geometry\.span: .*at most 40 m/m],
      ];
      for (const [span, problem] of cases) {
        const inputs = beamInputs();
        inputs.geometry = { ...inputs.geometry, span };
        const file = writeJson(dir, "inputs.json", inputs);
        const output = path.join(dir, "r.html");
        const result = await cli(["run", BEAM, "--inputs", file, "-o", output]);
        assertExit(result, 2);
        assert.equal(result.stdout, "");
        assert.match(result.stderr, problem);
        assert.match(result.stderr, /^uzoncalc: fix the values for window 'geometry' in the inputs file\.$/m);
        assert.ok(!fs.existsSync(output));
      }
    });

    it("names a misspelt field in the inputs file", async function () {
      const dir = scratch("typo-inputs");
      const inputs = beamInputs();
      const { span, ...rest } = inputs.geometry!;
      inputs.geometry = { ...rest, spn: span };
      const result = await cli(["run", BEAM, "--inputs", writeJson(dir, "inputs.json", inputs), "-o", path.join(dir, "r.html")]);
      assertExit(result, 2);
      assert.match(result.stderr, /^uzoncalc: geometry\.spn: .*'spn'.*'span'/m);
    });

    it("refuses an inputs file of the wrong shape with exit 1", async function () {
      const dir = scratch("inputs-shape");
      const result = await cli(["run", BEAM, "--inputs", writeJson(dir, "inputs.json", { geometry: 7 }), "-o", path.join(dir, "r.html")]);
      assertExit(result, 1);
      assert.match(result.stderr, /^uzoncalc: --inputs must hold \{ "window_id": \{ "field": value \} \}$/m);
    });
  });

  describe("sheet errors", function () {
    it("exits 1 with file:line:col of the throw and still writes the report so far", async function () {
      const dir = scratch("throws");
      const sheet = path.join(FIXTURES, "throws.calc.ts");
      const inputs = writeJson(dir, "inputs.json", { only: { x: 3 } });
      const output = path.join(dir, "partial.html");
      const result = await cli(["run", path.relative(ROOT, sheet), "--inputs", inputs, "-o", output]);
      assertExit(result, 1);
      assert.equal(result.stdout, "");
      const at = locate(sheet, "THROW-HERE", "new Error");
      const where = `sandbox/test/fixtures/cli/throws.calc.ts:${at.line}:${at.column}`;
      assert.ok(lines(result.stderr).includes(`${where} - Error: deliberate failure in the sheet`), result.stderr);
      assert.match(result.stderr, new RegExp(`at sheet \\((?:.*/)?throws\\.calc\\.ts:${at.line}:${at.column}\\)`));
      assert.ok(lines(result.stderr).includes(`uzoncalc: the report so far was written to ${output}`), result.stderr);
      assert.match(lines(result.stderr)[1]!, /^uzoncalc: step 2 · answered "only" from inputs → error · /);

      const report = fs.readFileSync(output, "utf8");
      assert.match(report, /^<!DOCTYPE html>/i);
      assert.ok(report.includes("Throwing sheet"));
      assert.ok(report.includes("Before the window."));
      assert.ok(report.includes("After the window, x = 3."));
      assert.ok(report.includes("deliberate failure in the sheet"), "the error is not in the partial report");
      assert.ok(!report.includes("Never reached."));
    });

    it("names the imported file and its line for an error thrown there", async function () {
      const sheet = path.join(FIXTURES, "imports.calc.ts");
      const lib = path.join(FIXTURES, "lib", "explode.ts");
      const thrown = locate(lib, "THROW-HERE", "new RangeError");
      const called = locate(sheet, "CALL-HERE", "checkedSpan(");
      const message = "RangeError: span 75 m is over the 40 m limit";

      const fromRoot = await cli(["run", path.relative(ROOT, sheet), "-o", path.join(scratch("imports-a"), "r.html")]);
      assertExit(fromRoot, 1);
      assert.ok(
        lines(fromRoot.stderr).includes(`sandbox/test/fixtures/cli/lib/explode.ts:${thrown.line}:${thrown.column} - ${message}`),
        fromRoot.stderr,
      );
      assert.match(fromRoot.stderr, new RegExp(`at checkedSpan \\((?:.*/)?lib/explode\\.ts:${thrown.line}:${thrown.column}\\)`));
      assert.match(fromRoot.stderr, new RegExp(`at sheet \\((?:.*/)?imports\\.calc\\.ts:${called.line}:${called.column}\\)`));

      // From another working directory the location is relative to that directory.
      const elsewhere = scratch("imports-b");
      const fromElsewhere = await cli(["run", sheet, "-o", path.join(elsewhere, "r.html")], { cwd: elsewhere });
      assertExit(fromElsewhere, 1);
      const relative = path.relative(fs.realpathSync(elsewhere), lib);
      assert.ok(lines(fromElsewhere.stderr).includes(`${relative}:${thrown.line}:${thrown.column} - ${message}`), fromElsewhere.stderr);
      assert.ok(fs.readFileSync(path.join(elsewhere, "r.html"), "utf8").includes("Checking the span."));
    });

    it("reports a syntax error in the sheet at its line and column", async function () {
      const dir = scratch("syntax");
      const sheet = path.join(dir, "broken.calc.ts");
      fs.writeFileSync(sheet, 'import { p } from "uzoncalc";\n\nexport async function* sheet() {\n  p("a");\n  const x = ;\n}\n');
      const result = await cli(["run", sheet, "-o", path.join(dir, "r.html")], { cwd: dir });
      assertExit(result, 1);
      assert.match(result.stderr, /^broken\.calc\.ts:5:13 - CompileError: /m);
    });

    it("stops a sheet that runs past --step-timeout", async function () {
      const dir = scratch("timeout");
      const result = await cli([
        "run",
        path.join(FIXTURES, "multi.calc.js"),
        "--func",
        "spin",
        "--step-timeout",
        "300",
        "-o",
        path.join(dir, "r.html"),
      ]);
      assertExit(result, 1);
      assert.match(result.stderr, /- TimeoutError: .*300 ms/);
      assert.ok(fs.existsSync(path.join(dir, "r.html")));
    });
  });

  describe("--func", function () {
    it("runs the named export instead of `sheet`", async function () {
      const dir = scratch("func");
      const output = path.join(dir, "r.html");
      const result = await cli(["run", path.join(FIXTURES, "multi.calc.js"), "--func", "second", "--params", '{"factor":3}', "-o", output]);
      assertExit(result, 0);
      assert.equal(result.stdout, `${output}\n`);
      const report = fs.readFileSync(output, "utf8");
      assert.ok(report.includes("The second entry ran with factor 3."));
      assert.ok(!report.includes("The default entry ran."));
    });

    it("runs `sheet` by default, with console output on stderr only", async function () {
      const dir = scratch("func-default");
      const output = path.join(dir, "r.html");
      const result = await cli(["run", path.join(FIXTURES, "multi.calc.js"), "-o", output]);
      assertExit(result, 0);
      assert.equal(result.stdout, `${output}\n`);
      assert.match(result.stderr, /^ {2}console: log line from the first sheet$/m);
      assert.ok(fs.readFileSync(output, "utf8").includes("The default entry ran."));
    });

    it("exits 1 for an unknown name, listing the exports", async function () {
      const dir = scratch("func-unknown");
      const result = await cli(["run", path.join(FIXTURES, "multi.calc.js"), "--func", "nope", "-o", path.join(dir, "r.html")]);
      assertExit(result, 1);
      assert.equal(result.stdout, "");
      const line = lines(result.stderr).find((l) => l.includes("'nope'"));
      assert.ok(line, result.stderr);
      assert.match(line, /does not export a function named 'nope'/);
      const listed = line.slice(line.indexOf("It exports:"));
      for (const name of ["sheet", "second", "spin"]) assert.match(listed, new RegExp(`\\b${name} \\(async generator function\\)`));
    });
  });

  describe("usage", function () {
    it("exits 1 with the usage on stderr when no command is given", async function () {
      const result = await cli([]);
      assertExit(result, 1);
      assert.equal(result.stdout, "");
      assert.match(result.stderr, /^Usage:\n {2}uzoncalc run <sheet>/);
    });

    it("prints the usage on stdout for --help", async function () {
      const result = await cli(["--help"]);
      assertExit(result, 0);
      assert.match(result.stdout, /^Usage:\n {2}uzoncalc run <sheet>/);
    });

    it("exits 1 for an unknown command, naming it", async function () {
      const result = await cli(["frob", "examples/beam.calc.ts"]);
      assertExit(result, 1);
      assert.equal(result.stdout, "");
      assert.match(result.stderr, /^uzoncalc: unknown command 'frob'\n\nUsage:/);
    });

    it("exits 1 for a missing sheet file, naming it, and writes nothing", async function () {
      const dir = scratch("missing-sheet");
      const result = await cli(["run", "nothere.calc.ts"], { cwd: dir });
      assertExit(result, 1);
      assert.equal(result.stdout, "");
      assert.match(result.stderr, /^uzoncalc: sheet not found: nothere\.calc\.ts\n/);
      assert.deepEqual(fs.readdirSync(dir), []);
    });

    it("exits 1 when run has no sheet, or an unknown option", async function () {
      const none = await cli(["run"]);
      assertExit(none, 1);
      assert.match(none.stderr, /^uzoncalc: run needs a sheet file\n/);
      const two = await cli(["run", "a.calc.ts", "b.calc.ts"]);
      assertExit(two, 1);
      assert.match(two.stderr, /^uzoncalc: run takes one sheet, got 2\n/);
      const bogus = await cli(["run", BEAM, "--bogus"]);
      assertExit(bogus, 1);
      assert.match(bogus.stderr, /^uzoncalc: .*'--bogus'/);
    });

    it("serve refuses --members below 1, naming the flag", async function () {
      const result = await cli(["serve", "--members", "0", "--no-permission"]);
      assertExit(result, 1);
      assert.match(result.stderr, /^uzoncalc: --members must be a whole number, at least 1\n/);
    });

    it("prints the package.json version for --version and -v", async function () {
      for (const flag of ["--version", "-v"]) {
        const result = await cli([flag]);
        assertExit(result, 0);
        assert.equal(result.stdout, `${VERSION}\n`);
        assert.equal(result.stderr, "");
      }
    });
  });

  describe("prompting in a terminal (under script(1); UZONCALC_FORCE_TTY=1 where script is unusable)", function () {
    it("asks every field, re-asks a wrong value, and the report holds the typed values", async function () {
      const dir = scratch("tty");
      const output = path.join(dir, "r.html");
      // count: "abc" is refused, then 5; length "300 mm" into a field in m; grade by number; cases by numbers;
      // propped: "maybe" refused, then y; ref; then the second window: empty refused (required), then a note.
      const typed = ["abc", "5", "300 mm", "2", "1,3", "maybe", "y", "P-7", "", "signed off"].join("\n") + "\n";
      const result = await cliInTerminal(["run", path.join(FIXTURES, "prompts.calc.ts"), "-o", output], typed);
      assertExit(result, 0);
      const screen = result.stdout;
      assert.equal(lines(screen).at(-1), output, screen);
      assert.match(screen, /Member — Asked in the terminal/);
      assert.equal(screen.match(/Count \(count\) \{1…10, required\}: /g)?.length, 2, "count was not asked twice");
      assert.match(screen, /! Count must be a number, got "abc"\./);
      assert.equal(screen.match(/propped \{y\/n\} \[false\]: /g)?.length, 2, "propped was not asked twice");
      assert.match(screen, /1\) C24 {2}2\) GL28h {2}3\) S235/);
      assert.equal(screen.match(/note \{required\}: |Note \(note\) \{required\}: /g)?.length, 2, "the required note was not asked twice");
      assert.match(screen, /answered "member" in the terminal → waiting for "Sign-off" \(sign-off\)/);
      assert.match(screen, /answered "sign-off" in the terminal → completed/);

      const report = fs.readFileSync(output, "utf8");
      assert.ok(
        report.includes("count=5; length=0.3; grade=GL28h; cases=dead+snow; propped=true; ref=P-7"),
        "typed values not in the report",
      );
      assert.ok(report.includes("note=signed off"));
    });

    it("re-asks only the invalid field of a window given in --inputs", async function () {
      const dir = scratch("tty-inputs");
      const inputs = beamInputs();
      inputs.geometry = { ...inputs.geometry, span: 100 };
      const file = writeJson(dir, "inputs.json", inputs);
      const output = path.join(dir, "r.html");
      const result = await cliInTerminal(["run", BEAM, "--inputs", file, "-o", output], "8\n");
      assertExit(result, 0);
      assert.equal(lines(result.stdout).at(-1), output, result.stdout);
      assert.match(result.stdout, /uzoncalc: geometry\.span: .*at most 40 m/);
      assert.match(result.stdout, /Span \(span\) \{m, 0\.5…40, required\} \[6\]: /);
      assert.doesNotMatch(result.stdout, /Section width/, "a valid field was asked again");
      const report = fs.readFileSync(output, "utf8");
      assert.ok(report.includes("8 m"));
      assert.ok(report.includes("GL28h glulam, section 120×360 mm"), "the valid inputs were not kept");
    });

    it("exits 2 when the terminal input ends before a window is answered", async function () {
      const dir = scratch("tty-eof");
      const output = path.join(dir, "r.html");
      const result = await cliInTerminal(["run", path.join(FIXTURES, "prompts.calc.ts"), "-o", output], "5\n");
      assertExit(result, 2);
      assert.match(result.stdout, /^uzoncalc: input ended before window 'member' was answered\.$/m);
      assert.match(result.stdout, /^uzoncalc: window 'member' \("Member"\) needs input: count \(number, required\); /m);
      assert.doesNotMatch(result.stdout, /run in a terminal/);
      assert.ok(!fs.existsSync(output));
    });
  });

  describe("UZONCALC_FORCE_TTY=1", function () {
    it("prompts on a piped stdin, keeping stdout for the report path", async function () {
      const dir = scratch("force-tty");
      const output = path.join(dir, "r.html");
      const typed = ["0", "7", "", "3", "", "n", "", "ok"].join("\n") + "\n";
      const result = await cli(["run", path.join(FIXTURES, "prompts.calc.ts"), "-o", output], {
        input: typed,
        env: { UZONCALC_FORCE_TTY: "1" },
      });
      assertExit(result, 0);
      assert.equal(result.stdout, `${output}\n`);
      assert.match(result.stderr, /! Count\b.*\bat least 1\b/);
      const report = fs.readFileSync(output, "utf8");
      assert.ok(report.includes("count=7; length=2; grade=S235; cases=; propped=false; ref=null"), "typed values not in the report");
      assert.ok(report.includes("note=ok"));
    });
  });
});
