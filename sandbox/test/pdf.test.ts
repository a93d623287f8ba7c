// `uzoncalc run … --pdf`: the completed report printed by a real headless Chromium (Debian's, installed by
// test/e2e/install.sh before the unit tests), and the message when there is no browser to print with.

import assert from "node:assert/strict";
import { runCli, type ChildResult } from "./support/childProcess";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CHROMIUM_ENV, findChromium, PdfError } from "../cli/pdf";

const ROOT = path.resolve(__dirname, "..", "..");
const BEAM = path.join(ROOT, "examples", "beam.calc.ts");
const BEAM_INPUTS = path.join(ROOT, "examples", "beam.inputs.json");
const DEBIAN_CHROMIUM = "/usr/bin/chromium";

function cli(args: string[], env: Record<string, string | undefined>): Promise<ChildResult> {
  return runCli(args, { env, timeoutMs: 90_000 });
}

/** Page objects (not the /Pages tree) and the first page's size in points. */
function pdfFacts(file: string): { head: string; pages: number; mediaBox: number[] } {
  const text = fs.readFileSync(file).toString("latin1");
  const box = /\/MediaBox\s*\[\s*([\d.\s]+)\]/.exec(text);
  return {
    head: text.slice(0, 5),
    pages: (text.match(/\/Type\s*\/Page(?!s)/g) ?? []).length,
    mediaBox: box ? box[1]!.trim().split(/\s+/).map(Number) : [],
  };
}

describe("uzoncalc run --pdf", function () {
  this.timeout(120_000);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "uzoncalc-pdf-test-"));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  describe("with Debian's chromium", () => {
    before(function () {
      if (!fs.existsSync(DEBIAN_CHROMIUM)) {
        console.log(`      skipped: ${DEBIAN_CHROMIUM} is not installed (test/e2e/install.sh installs it)`);
        this.skip();
      }
    });

    it("prints the completed report to an A4 PDF, found on PATH, and prints both paths", async () => {
      const html = path.join(dir, "beam.report.html");
      const pdf = path.join(dir, "beam.pdf");
      const result = await cli(["run", BEAM, "--inputs", BEAM_INPUTS, "-o", html, "--pdf", pdf], {
        [CHROMIUM_ENV]: undefined,
        PATH: `/usr/bin:${process.env.PATH ?? ""}`,
      });
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(result.stdout.trim().split("\n"), [html, pdf]);
      assert.match(result.stderr, /printed the report to PDF \(A4\) with \/usr\/bin\/chromium/);
      const facts = pdfFacts(pdf);
      assert.equal(facts.head, "%PDF-");
      assert.ok(facts.pages >= 1 && facts.pages <= 12, `a plausible page count for the beam report: ${facts.pages}`);
      assert.deepEqual(facts.mediaBox.map(Math.round), [0, 0, 595, 842], "A4 (595 × 842 pt)");
      assert.ok(fs.statSync(pdf).size > 10_000);
    });

    it("honours UZONCALC_CHROMIUM and --paper Letter", async () => {
      const pdf = path.join(dir, "letter.pdf");
      const result = await cli(
        ["run", BEAM, "--inputs", BEAM_INPUTS, "-o", path.join(dir, "letter.html"), "--pdf", pdf, "--paper", "letter"],
        { [CHROMIUM_ENV]: DEBIAN_CHROMIUM },
      );
      assert.equal(result.code, 0, result.stderr);
      const facts = pdfFacts(pdf);
      assert.equal(facts.head, "%PDF-");
      assert.deepEqual(facts.mediaBox.map(Math.round), [0, 0, 612, 792], "Letter (612 × 792 pt)");
    });
  });

  it("without a browser: names what to install, still writes the HTML report, writes no PDF, exits 1", async () => {
    const html = path.join(dir, "nobrowser.report.html");
    const pdf = path.join(dir, "nobrowser.pdf");
    const missing = path.join(dir, "no-such-chromium");
    const result = await cli(["run", BEAM, "--inputs", BEAM_INPUTS, "-o", html, "--pdf", pdf], { [CHROMIUM_ENV]: missing });
    assert.equal(result.code, 1, result.stderr);
    assert.ok(result.stderr.includes(`UZONCALC_CHROMIUM is set to '${missing}', which is not an executable file`), result.stderr);
    assert.match(result.stderr, /sudo apt-get install chromium fonts-stix/);
    assert.ok(result.stderr.includes(`the HTML report was written to ${html}; no PDF was written`), result.stderr);
    assert.equal(result.stdout.trim(), html);
    assert.match(fs.readFileSync(html, "utf8"), /^<!DOCTYPE html>/i);
    assert.equal(fs.existsSync(pdf), false);
  });

  it("finds a browser by its common names on PATH, and says where it looked when there is none", () => {
    const bin = fs.mkdtempSync(path.join(dir, "bin-"));
    assert.throws(
      () => findChromium({ PATH: bin }),
      (error: unknown) =>
        error instanceof PdfError &&
        /none was found \(UZONCALC_CHROMIUM is not set; looked for chromium, chromium-browser, google-chrome/.test(error.message),
    );
    const fake = path.join(bin, "google-chrome");
    fs.writeFileSync(fake, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    assert.equal(findChromium({ PATH: bin }), fake);
    fs.writeFileSync(path.join(bin, "chromium-browser"), "not executable", { mode: 0o644 });
    assert.equal(findChromium({ PATH: bin }), fake, "a file that cannot run is passed over");
    assert.equal(findChromium({ PATH: bin, [CHROMIUM_ENV]: fake }), fake);
  });

  it("refuses --paper without --pdf, and an unknown paper", async () => {
    const alone = await cli(["run", BEAM, "--paper", "A4"], {});
    assert.equal(alone.code, 1);
    assert.match(alone.stderr, /--paper goes with --pdf/);
    const odd = await cli(["run", BEAM, "--pdf", path.join(dir, "x.pdf"), "--paper", "A3"], {});
    assert.equal(odd.code, 1);
    assert.match(odd.stderr, /--paper must be A4 or Letter/);
  });
});
