// `uzoncalc check` (SPEC §4) through the built CLI, on the language server's fixtures and expectations.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { SHEETS, checkLines, expectedFile } from "./support/expectations";

const ROOT = path.join(__dirname, "..", "..");
const CLI = path.join(ROOT, "dist", "cli.js");

function check(args: string[], cwd = SHEETS) {
  const result = spawnSync(process.execPath, [CLI, "check", ...args], { cwd, encoding: "utf8" });
  return {
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    lines: result.stdout.split("\n").filter((line) => line !== ""),
  };
}

function expected(sheet: string, mode: string): string[] {
  return checkLines(sheet, fs.readFileSync(expectedFile(sheet, mode), "utf8"));
}

describe("uzoncalc check", function () {
  this.timeout(60_000);

  it("prints one line per problem, file:line:col - severity CODE: message, and exits 1 on errors", () => {
    const result = check(["fields.calc.ts", "fields.calc.js", "window-specs.calc.ts"]);
    assert.equal(result.status, 1, result.stderr);
    assert.deepEqual(result.lines, [
      ...expected("fields.calc.ts", "fields"),
      ...expected("fields.calc.js", "fields"),
      ...expected("window-specs.calc.ts", "fields"),
    ]);
    assert.ok(
      result.lines.includes("fields.calc.ts:22:14 - error UZC2001: Unknown field 'spna' in window 'geometry'. Did you mean 'span'?"),
    );
    assert.match(result.stderr, /^33 errors, 2 warnings in 3 sheets$/m);
  });

  it("takes --type-check all and off", () => {
    assert.deepEqual(check(["--type-check", "all", "fields.calc.ts"]).lines, expected("fields.calc.ts", "all"));
    const off = check(["fields.calc.ts", "--type-check", "off"]);
    assert.equal(off.status, 0);
    assert.deepEqual(off.lines, []);
  });

  it("exits 0 with no output on the examples, and 0 when there are only warnings", () => {
    const examples = check(["examples/beam.calc.ts", "bench/sheets/steps.calc.ts"], ROOT);
    assert.equal(examples.status, 0, examples.stdout + examples.stderr);
    assert.equal(examples.stdout, "");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "uzoncalc-check-"));
    try {
      const sheet = path.join(dir, "warn.calc.ts");
      fs.writeFileSync(
        sheet,
        'import { UI, Window } from "uzoncalc";\nexport async function* sheet() {\n  yield UI(Window({ title: "A", fields: [{ name: "x", lable: "X" }] }));\n}\n',
      );
      const warned = check([sheet], dir);
      assert.equal(warned.status, 0);
      assert.deepEqual(warned.lines, [`${sheet}:3:55 - warning UZC1014: Unknown field attribute 'lable'. Did you mean 'label'?`]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses what it cannot check", () => {
    const missing = check(["no-such.calc.ts"]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /cannot read no-such\.calc\.ts/);
    const notSheet = check(["lib/helpers.ts"]);
    assert.equal(notSheet.status, 1);
    assert.match(notSheet.stderr, /lib\/helpers\.ts is not a sheet/);
    const usage = check(["--type-check", "most", "fields.calc.ts"]);
    assert.equal(usage.status, 1);
    assert.match(usage.stderr, /--type-check must be fields, all or off/);
    assert.equal(check([]).status, 1);
  });

  it("does not load TypeScript for other commands: dist/cli.js stays small", () => {
    const cli = fs.readFileSync(CLI, "utf8");
    assert.ok(!cli.includes("createLanguageService"), "TypeScript is bundled into dist/check.js only");
  });
});
