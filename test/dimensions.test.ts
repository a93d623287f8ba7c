// Unit dimensions before the run (issue 18 item 1): the findings on a planted sheet are exactly where the run throws
// its unit error, one by one; hover shows a quantity's dimension and unit; and no sheet in the project that runs
// without a unit error gets a finding (every example, bench and fixture sheet is run, then checked).
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { MarkupContent } from "vscode-languageserver-protocol/node";
import { InProcessEngine } from "../sandbox/engine/realmEngine";
import { Executor } from "../sandbox/session/executor";
import { SheetWorkspace } from "../server/src/sheetWorkspace";
import { loadTypeScriptLibs, toTypeScriptPath } from "../server/src/typescriptLibs";
import { TestClient } from "../server/test/support/lspClient";
import { positionOf } from "../server/test/support/expectations";

const ROOT = path.join(__dirname, "..");
const PLANTED = path.join(ROOT, "server", "test", "fixtures", "units", "planted.calc.ts");

/** The runtime's unit error messages: a sheet that catches its unit errors (to show them) still runs into them. */
const UNIT_ERROR_TEXT = /do not mix|mixes only with|Cannot convert|takes an angle|keeps no units/;

/** Runs a sheet to its end with each window's defaults: its error if it stopped with one, and whether it met a unit error. */
async function runError(executor: Executor, file: string): Promise<{ name?: string; line?: number; unitError: boolean } | undefined> {
  let response = await executor.execute({ file_path: file });
  for (let step = 0; step < 10 && response.status === "waiting_ui"; step++)
    response = await executor.resume({ session_id: response.session_id, user_input: {} }).catch(() => response);
  const unitError = response.error?.name === "UnitError" || UNIT_ERROR_TEXT.test(response.html ?? "");
  return response.status === "error" || unitError ? { ...response.error, unitError } : undefined;
}

describe("units checked before the run (UZC3xxx)", function () {
  this.timeout(300_000);
  let workspace: SheetWorkspace;
  let executor: Executor;
  let tmp: string;

  before(() => {
    workspace = new SheetWorkspace({ libs: loadTypeScriptLibs(), currentDirectory: ROOT });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "uzc-units-"));
    executor = new Executor({ safeDirs: [ROOT, tmp], engine: new InProcessEngine({ stepTimeoutMs: 10_000 }) });
  });
  after(async () => {
    await executor.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function unitFindings(file: string, text = fs.readFileSync(file, "utf8")) {
    const fileName = toTypeScriptPath(file);
    workspace.setDocument(fileName, text, Date.now());
    try {
      const found = await workspace.diagnostics(fileName, "fields");
      const lineOf = (offset: number) => text.slice(0, offset).split("\n").length;
      return found.filter((d) => d.code.startsWith("UZC3")).map((d) => ({ ...d, line: lineOf(d.start) }));
    } finally {
      workspace.closeDocument(fileName);
    }
  }

  it("reports each planted unit error at its operator, with both dimensions and units, and nothing on the lines that run", async () => {
    const text = fs.readFileSync(PLANTED, "utf8");
    const lines = text.split("\n");
    const planted = lines.flatMap((line, index) => {
      const code = /\/\/ (UZC3\d{3})$/.exec(line)?.[1];
      return code ? [{ line: index + 1, code }] : [];
    });
    assert.equal(planted.length, 6);
    const found = await unitFindings(PLANTED);
    assert.deepEqual(
      found.map((d) => ({ line: d.line, code: d.code })),
      planted,
      found.map((d) => `${d.line} ${d.code} ${d.message}`).join("\n"),
    );
    const message = (line: number) => found.find((d) => d.line === line)!.message;
    assert.equal(
      message(planted[0]!.line),
      "Cannot add a moment or energy (kN·m) and a force per length (kN/m): a moment or energy and a force per length do not mix.",
    );
    assert.match(
      message(planted[1]!.line),
      /^Cannot add a length \(m\) and a plain number: a quantity mixes only with a quantity of the same kind \(or 0\)/,
    );
    assert.equal(message(planted[3]!.line), "Cannot convert a length (m) to kN: a length is not a force.");
    assert.equal(message(planted[4]!.line), "Math.sin() takes an angle (rad or deg) or a plain number, not a length (m).");
    // At the operator: the `+` of `M + w`.
    const wrong = found[0]!;
    assert.equal(text.slice(wrong.start, wrong.end), "+");
  });

  it("each finding is what the run throws: the sheet with that line alone stops there with a UnitError", async () => {
    const text = fs.readFileSync(PLANTED, "utf8");
    const lines = text.split("\n");
    const planted = lines.flatMap((line, index) => (/\/\/ UZC3\d{3}$/.test(line) ? [index] : []));
    for (const keep of planted) {
      const variant = lines.map((line, index) => (planted.includes(index) && index !== keep ? `// ${line}` : line)).join("\n");
      const file = path.join(tmp, `planted-${keep + 1}.calc.ts`);
      fs.writeFileSync(file, variant);
      const error = await runError(executor, file);
      assert.equal(error?.name, "UnitError", `line ${keep + 1}: ${JSON.stringify(error)}`);
      assert.equal(error?.line, keep + 1, `line ${keep + 1}: ${JSON.stringify(error)}`);
      assert.deepEqual(
        (await unitFindings(file, variant)).map((d) => d.line),
        [keep + 1],
      );
    }
  });

  it("finds nothing on any sheet in the project that runs without a unit error", async () => {
    const folders = [
      "examples",
      "bench/sheets",
      "sandbox/test/fixtures/report",
      "sandbox/test/fixtures/sheets",
      "sandbox/test/fixtures/report-errors",
      "sandbox/test/fixtures/report-invariants",
      "sandbox/test/fixtures/study",
      "server/test/fixtures/sheets",
      "server/test/fixtures/sets",
    ];
    let checked = 0;
    for (const folder of folders) {
      const dir = path.join(ROOT, folder);
      if (!fs.existsSync(dir)) continue;
      for (const name of fs.readdirSync(dir).filter((n) => /\.calc\.ts$/.test(n))) {
        const file = path.join(dir, name);
        const error = await runError(executor, file);
        if (error?.unitError) continue;
        const found = await unitFindings(file);
        assert.deepEqual(
          found.map((d) => `${d.line}: ${d.message}`),
          [],
          `${folder}/${name}`,
        );
        checked++;
      }
    }
    assert.ok(checked >= 80, `only ${checked} sheets checked`);
  });

  it("hover over a quantity shows its dimension and display unit", async () => {
    const client = await TestClient.start({ transport: "stdio" });
    try {
      const text = fs.readFileSync(PLANTED, "utf8");
      const uri = await client.open(PLANTED);
      const hover = await client.hover(uri, positionOf(text, "M = (w", 0));
      assert.equal((hover?.contents as MarkupContent | undefined)?.value, "**a moment or energy**, shown in kN·m");
      const weight = await client.hover(uri, positionOf(text, "weight =", 1));
      assert.equal((weight?.contents as MarkupContent | undefined)?.value, "**a force**, shown in kN");
      await client.close(uri);
    } finally {
      await client.stop();
    }
  });
});
