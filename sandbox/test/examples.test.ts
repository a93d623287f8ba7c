// The example sheets run end to end through the built CLI with their inputs files, their reports pass, render
// the same value with rendering off, and (where a Chromium is installed) are screenshotted as test artifacts.

import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { ExecuteRequest, ExecutionResponse } from "../../protocol/rpc";
import { InProcessEngine } from "../engine/realmEngine";
import { Executor } from "../session/executor";

const ROOT = path.resolve(__dirname, "..", "..");
const CLI = path.join(ROOT, "dist", "cli.js");
const EXAMPLES = path.join(ROOT, "examples");
const ARTIFACTS = path.join(ROOT, "test-artifacts", "reports");
const CHROMIUM = "/usr/bin/chromium";
const RENDER_OFF = "\nexport const render = false;\n";

/** Sheets whose inputs files are meant to pass every check. */
const PASSING = new Set(["beam", "tie", "rc-beam", "steel-column", "bolt-group", "retaining-wall"]);

const sheets = fs
  .readdirSync(EXAMPLES)
  .filter((f) => f.endsWith(".calc.ts") && fs.existsSync(path.join(EXAMPLES, f.replace(/\.calc\.ts$/, ".inputs.json"))))
  .sort()
  .map((f) => ({ file: f, name: f.replace(/\.calc\.ts$/, "") }));

async function runToEnd(executor: Executor, request: ExecuteRequest): Promise<ExecutionResponse> {
  let response = await executor.execute(request);
  for (let step = 0; step < 10 && response.status === "waiting_ui"; step++)
    response = await executor.resume({ session_id: response.session_id, user_input: {} });
  return response;
}

describe("example sheets", function () {
  this.timeout(60_000);
  let tmp: string;
  let executor: Executor;

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "uzc-examples-"));
    executor = new Executor({ safeDirs: [EXAMPLES], engine: new InProcessEngine({ stepTimeoutMs: 10_000 }) });
  });

  after(async () => {
    await executor.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("includes the three worked examples", () => {
    for (const name of ["rc-beam", "steel-column", "bolt-group"])
      assert.ok(
        sheets.some((s) => s.name === name),
        name,
      );
  });

  for (const { file, name } of sheets) {
    describe(file, () => {
      const report = () => path.join(tmp, `${name}.html`);
      const inputsFile = path.join(EXAMPLES, `${name}.inputs.json`);

      it("runs through the CLI with its inputs and reads as a passing calculation", () => {
        const result = spawnSync(process.execPath, [CLI, "run", path.join(EXAMPLES, file), "--inputs", inputsFile, "-o", report()], {
          cwd: ROOT,
          encoding: "utf8",
          timeout: 20_000,
          env: { ...process.env, NO_COLOR: "1" },
        });
        assert.equal(result.status, 0, result.stderr);
        const html = fs.readFileSync(report(), "utf8");
        assert.match(html, /<math/);
        assert.match(html, /class="uzc-check[ "]/);
        if (PASSING.has(name)) assert.doesNotMatch(html, /class="[^"]*uzc-check-fail/);
        if (name === "beam") {
          // Its bending moment and deflection diagrams, drawn into the document (issue 18 item 2).
          assert.equal((html.match(/<div class="uzc-plot"><svg/g) ?? []).length, 2);
          assert.match(html, /<span class="uzc-num">Figure 1<\/span> Bending moment along the span \(ULS\)/);
          assert.match(html, /<span class="uzc-num">Figure 2<\/span> Deflection along the span/);
        }
      });

      it("computes the same value with rendering off", async () => {
        const source = fs.readFileSync(path.join(EXAMPLES, file), "utf8");
        const files = Object.fromEntries(
          fs.readdirSync(path.join(EXAMPLES, "lib")).map((f) => [`lib/${f}`, fs.readFileSync(path.join(EXAMPLES, "lib", f), "utf8")]),
        );
        const inputs = JSON.parse(fs.readFileSync(inputsFile, "utf8")) as ExecuteRequest["inputs"];
        const on = await runToEnd(executor, { source, filename: file, files, inputs });
        const off = await runToEnd(executor, { source: source + RENDER_OFF, filename: file, files, inputs });
        assert.equal(on.status, "completed", JSON.stringify(on.error));
        assert.equal(off.status, "completed", JSON.stringify(off.error));
        assert.deepEqual(on.value, off.value);
        assert.match(on.html!, /class="uzc-eq"/);
        assert.doesNotMatch(off.html!, /class="uzc-eq"/);
      });

      it("is screenshotted with headless Chromium into test-artifacts/reports", function () {
        if (!fs.existsSync(CHROMIUM)) this.skip();
        fs.mkdirSync(ARTIFACTS, { recursive: true });
        const png = path.join(ARTIFACTS, `${name}.png`);
        fs.rmSync(png, { force: true });
        const profile = fs.mkdtempSync(path.join(tmp, "profile-"));
        const args = [
          "--headless",
          "--disable-gpu",
          `--user-data-dir=${profile}`,
          "--window-size=1000,2600",
          "--hide-scrollbars",
          `--screenshot=${png}`,
          `file://${report()}`,
        ];
        if (process.getuid?.() === 0) args.unshift("--no-sandbox");
        execFileSync(CHROMIUM, args, { stdio: "ignore", timeout: 30_000 });
        assert.ok(fs.existsSync(png), "no screenshot");
        assert.ok(fs.statSync(png).size > 20 * 1024, `screenshot too small: ${fs.statSync(png).size} bytes`);
        if (name === "beam") {
          // The same report in a dark theme: its figures' text and axes follow the page's colour.
          const dark = path.join(ARTIFACTS, `${name}-dark.png`);
          fs.rmSync(dark, { force: true });
          const darkArgs = args.map((arg) => (arg.startsWith("--screenshot=") ? `--screenshot=${dark}` : arg));
          darkArgs.splice(darkArgs.indexOf("--headless") + 1, 0, "--blink-settings=preferredColorScheme=0");
          execFileSync(CHROMIUM, darkArgs, { stdio: "ignore", timeout: 30_000 });
          assert.ok(fs.existsSync(dark) && fs.statSync(dark).size > 20 * 1024, "no dark screenshot");
        }
      });
    });
  }
});
