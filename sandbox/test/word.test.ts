// The Word export (`uzoncalc run … --docx`, the extension's Export Report to Word): the built CLI as a child process
// writes the .docx, which is opened as the zip it is and read back: equations as Office Math with the run's values,
// headings in Word's heading styles, tables with captions, checks, figures as pictures (SVG with its PNG), the title
// block, the provenance, the paper. LibreOffice (Debian's libreoffice-writer, installed by
// scripts/install-services.sh) then renders the beam's export, and its first page is kept as a screenshot.

import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { reportToWord } from "../connect/wordExport";
import { renderReportDocument } from "../session/reportDocument";
import { runCli, type ChildResult } from "./support/childProcess";
import { documentLines, docxPart, docxParts, equations } from "./support/docx";

const ROOT = path.resolve(__dirname, "..", "..");
const EXAMPLES = path.join(ROOT, "examples");
const ARTIFACTS = path.join(ROOT, "test-artifacts", "reports");

function cli(args: string[]): Promise<ChildResult> {
  return runCli(args, { timeoutMs: 90_000 });
}

/** `uzoncalc run` of an example answered from its input set, the report written to `html`, with more flags. */
function runExample(example: string, html: string, ...flags: string[]): Promise<ChildResult> {
  return cli([
    "run",
    path.join(EXAMPLES, `${example}.calc.ts`),
    "--inputs",
    path.join(EXAMPLES, `${example}.inputs.json`),
    "-o",
    html,
    ...flags,
  ]);
}

/** A report document around a body, as reportDocument.ts writes every report. */
function reportOf(body: string): string {
  return renderReportDocument({ body, sheetName: "t.calc.ts", sheetHash: "abc", createdAt: 0, inputs: [], version: "test" });
}

async function wordLines(body: string): Promise<string[]> {
  return documentLines(docxPart(await reportToWord(reportOf(body)), "word/document.xml"));
}

/** The width and height a PNG says it has (its IHDR chunk). */
function pngSize(bytes: Uint8Array): { width: number; height: number } {
  const view = Buffer.from(bytes);
  assert.equal(view.subarray(1, 4).toString("latin1"), "PNG", "a PNG file");
  return { width: view.readUInt32BE(16), height: view.readUInt32BE(20) };
}

describe("uzoncalc run --docx: the report as Word, equations as Office Math", function () {
  this.timeout(120_000);
  let dir: string;
  let rcBeam: Uint8Array;
  let beam: Uint8Array;
  let beamDocx: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "uzoncalc-word-test-"));
    const html = path.join(dir, "rc-beam.report.html");
    const docx = path.join(dir, "rc-beam.docx");
    const result = await runExample("rc-beam", html, "--docx", docx);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.stdout.trim().split("\n"), [html, docx], "both paths on stdout");
    assert.match(result.stderr, /wrote the report as Word \(A4, \d+ KB\) in \d+ ms/);
    rcBeam = new Uint8Array(fs.readFileSync(docx));
    beamDocx = path.join(dir, "beam.docx");
    const beamRun = await runExample("beam", path.join(dir, "beam.html"), "--docx", beamDocx);
    assert.equal(beamRun.code, 0, beamRun.stderr);
    beam = new Uint8Array(fs.readFileSync(beamDocx));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("writes each calculation line as an Office Math equation with the run's values", () => {
    const xml = docxPart(rcBeam, "word/document.xml");
    const found = equations(xml);
    assert.ok(xml.includes("<m:oMathPara>"), "display equations");
    // f_cd = α_cc·f_ck/γ_c = 1·30 MPa/1.5 = 20 MPa: a fraction of subscripted names, then the values.
    assert.ok(found.includes("f_(cd)=(α_(cc)·f_(ck))/(γ_c)=(1·30 MPa)/(1.5)=20 MPa"), found.slice(0, 12).join("\n"));
    // A long line is written as its pieces, each an equation: the required steel area, 816.746 mm².
    assert.ok(found.includes("A_(s,req)=(M_(Ed))/(z·f_(yd))"), "the line's first piece");
    assert.ok(
      found.some((equation) => equation.includes("=816.746 mm^2")),
      "the value, with its unit's power",
    );
    // Brackets grow with what they hold; a root is a radical.
    assert.ok(
      found.some((equation) => equation.startsWith("ξ=(1−√(1−2·μ))/λ=")),
      "√ as a radical",
    );
    assert.ok(
      found.some((equation) => equation.includes("min(d−(λ·x)/2,0.95·d)")),
      "a function's brackets around a fraction",
    );
    assert.ok(xml.includes("<m:d>"), "brackets as a delimiter");
    // Names of more than one letter and units are upright (Word's normal text in an equation).
    assert.match(xml, /<m:r><m:rPr><m:nor m:val="1"\/><\/m:rPr><m:t>MPa<\/m:t><\/m:r>/);
    assert.ok(found.length >= 60, `${found.length} equations`);
  });

  it("keeps headings, the title block, tables with captions, checks and the provenance", () => {
    const lines = documentLines(docxPart(rcBeam, "word/document.xml"));
    const text = lines.join("\n");
    assert.ok(lines.includes("[Title] Reinforced-concrete beam"), text.slice(0, 400));
    assert.ok(lines.includes("| Subject | Rectangular section: bending, reinforcement limits and shear |"), "the title block");
    for (const heading of ["1 Materials", "2 Section", "3 Bending", "5 Shear", "6 Summary"])
      assert.ok(lines.includes(`[Heading1] ${heading}`), heading);
    assert.ok(
      lines.some((line) => /^\[Caption\] Table 1 /.test(line)),
      "a numbered table caption",
    );
    assert.ok(
      lines.some((line) => line.startsWith("[UzcCheck] ✓ Bending resistance ⟨M_(Ed)≤M_(Rd)⇒150 kN·m≤171.225 kN·m⟩ OK utilisation 0.876")),
      lines.filter((line) => line.startsWith("[UzcCheck]")).join("\n"),
    );
    assert.ok(
      lines.some((line) => line.startsWith("[UzcNote] Note ")),
      "a note",
    );
    assert.ok(lines.includes("[Heading1] Provenance"));
    assert.ok(
      lines.some((line) => /^\| Content hash \| sha256:[0-9a-f]{64} \|$/.test(line)),
      "the content hash",
    );
    assert.ok(lines.includes("| Window | Input | Value |"), "the inputs table");
    const styles = docxPart(rcBeam, "word/styles.xml");
    assert.match(styles, /w:styleId="Heading1"/, "Word's own heading styles, for its navigation and its table of contents");
    assert.match(docxPart(rcBeam, "docProps/core.xml"), /<dc:title>Reinforced-concrete beam<\/dc:title>/);
    const settings = docxPart(rcBeam, "word/document.xml");
    assert.match(settings, /<w:pgSz w:w="11906" w:h="16838"/, "A4");
    assert.match(docxPart(rcBeam, "word/footer1.xml"), /PAGE/, "page numbers in the footer");
  });

  it("puts figures in as pictures: the SVG, and a PNG drawn from it for readers without SVG", () => {
    const parts = docxParts(beam);
    const media = [...parts.keys()].filter((name) => name.startsWith("word/media/"));
    const pngs = media.filter((name) => name.endsWith(".png"));
    const svgs = media.filter((name) => name.endsWith(".svg"));
    assert.equal(pngs.length, 2, media.join(", "));
    assert.equal(svgs.length, 2);
    for (const name of pngs) {
      const bytes = parts.get(name)!;
      assert.deepEqual(pngSize(bytes), { width: 1280, height: 720 }, "drawn at twice the figure's 640 × 360");
      assert.ok(bytes.length > 15_000, `${name} holds a drawing (${bytes.length} bytes), not an empty page`);
    }
    const svg = Buffer.from(parts.get(svgs[0]!)!).toString("utf8");
    assert.ok(svg.startsWith("<svg") && !svg.includes("currentColor"), "the report's SVG with its colours made explicit");
    const documentXml = docxPart(beam, "word/document.xml");
    const lines = documentLines(documentXml);
    assert.ok(
      lines.some((line) => line.startsWith("[picture Bending moment along the span")),
      "described by its label",
    );
    assert.ok(
      lines.some((line) => line.startsWith("[Caption] Figure 1 Bending moment")),
      "captioned and numbered",
    );
    assert.match(documentXml, /svgBlip/, "Word draws the SVG itself");
  });

  it("sets the paper from --paper, and says what it cannot do", async () => {
    const letter = path.join(dir, "letter.docx");
    const result = await runExample("tie", path.join(dir, "tie.html"), "--docx", letter, "--paper", "Letter");
    assert.equal(result.code, 0, result.stderr);
    assert.match(docxPart(new Uint8Array(fs.readFileSync(letter)), "word/document.xml"), /<w:pgSz w:w="12240" w:h="15840"/);

    const empty = await cli(["run", path.join(EXAMPLES, "tie.calc.ts"), "--docx", ""]);
    assert.equal(empty.code, 1, "a usage error");
    assert.match(empty.stderr, /--docx needs a file name, e\.g\. --docx report\.docx/);

    // A path under a file cannot be written: said in one line, the HTML report is still written.
    const blocker = path.join(dir, "a-file");
    fs.writeFileSync(blocker, "");
    const html = path.join(dir, "kept.html");
    const unwritable = await runExample("tie", html, "--docx", path.join(blocker, "x.docx"));
    assert.equal(unwritable.code, 1);
    assert.match(
      unwritable.stderr,
      /cannot write the Word document to .*x\.docx: a part of the path is a file, not a folder; the HTML report was written/,
    );
    assert.match(fs.readFileSync(html, "utf8"), /^<!DOCTYPE html>/i);

    // A sheet that throws: the report so far as HTML, and no Word document, with the reason.
    const failed = path.join(dir, "failed.docx");
    const inputs = path.join(dir, "throws.inputs.json");
    fs.writeFileSync(inputs, JSON.stringify({ only: { x: 1 } }));
    const sheet = path.join(ROOT, "sandbox", "test", "fixtures", "cli", "throws.calc.ts");
    const throws = await cli(["run", sheet, "--inputs", inputs, "-o", path.join(dir, "throws.html"), "--docx", failed]);
    assert.equal(throws.code, 1);
    assert.match(throws.stderr, /no Word document was written: they are made from a completed report/);
    assert.equal(fs.existsSync(failed), false);
  });

  it("reads every construct the report engine writes: cases, roots, scripts, text, lists, links, errors", async () => {
    const cases =
      '<div class="uzc-eq"><math displaystyle="true"><mi>k</mi><mo>=</mo><mrow><mo>{</mo><mtable class="uzc-cases" displaystyle="true">' +
      "<mtr><mtd><mn>1</mn></mtd><mtd><mtext>if&#160;</mtext><mi>x</mi><mo>&lt;</mo><mn>2</mn></mtd></mtr>" +
      "<mtr><mtd><mn>0</mn></mtd><mtd><mtext>otherwise</mtext></mtd></mtr></mtable></mrow></math></div>\n";
    const roots =
      '<div class="uzc-eq"><math displaystyle="true"><mi>r</mi><mo>=</mo><mroot><mi>V</mi><mn>3</mn></mroot><mo>+</mo><msubsup><mi>x</mi><mi>i</mi><mn>2</mn></msubsup>' +
      "<mo>+</mo><msup><msub><mi>φ</mi><mi>w</mi></msub><mn>2</mn></msup><mo>+</mo><mi>len</mi><mo>(</mo><ms>ab</ms><mo>)</mo></math></div>\n";
    const html =
      '<p>Plain <strong>bold</strong>, <em>italic</em>, 10<sup>−5</sup>, H<sub>2</sub>O, <a href="https://example.com/code">the code</a>.</p>\n' +
      "<ul><li>first</li><li>second</li></ul>\n<hr>\n" +
      '<p class="uzc-more">Line 3 is shown for its first 100 evaluations only.</p>\n';
    const lines = await wordLines(cases + roots + html);
    assert.ok(lines.includes("[UzcEquation] ⟨k={1  if x<2 ; 0  otherwise⟩"), lines.join("\n"));
    assert.ok(lines.includes("[UzcEquation] ⟨r=root3(V)+x_i^2+φ_w^2+len(“ab”)⟩"), lines.join("\n"));
    assert.ok(lines.includes("Plain bold, italic, 10−5, H2O, the code."), lines.join("\n"));
    assert.ok(lines.includes("> •\tfirst") && lines.includes("> •\tsecond"), "a list, set in");
    const xml = docxPart(await reportToWord(reportOf(html)), "word/document.xml");
    assert.match(xml, /<w:vertAlign w:val="superscript"\/><\/w:rPr><w:t xml:space="preserve">−5<\/w:t>/);
    assert.match(xml, /<w:hyperlink[^>]*>.*the code/);

    const failed = renderReportDocument({
      body: '<div class="uzc-eq"><math displaystyle="true"><mi>a</mi><mo>=</mo><mn>1</mn></math></div>\n',
      sheetName: "t.calc.ts",
      sheetHash: "abc",
      createdAt: 0,
      inputs: [],
      version: "test",
      error: {
        message: "b is not defined",
        name: "ReferenceError",
        stack: "ReferenceError: b is not defined\n    at sheet (t.calc.ts:3:9)",
      },
    });
    const failedLines = documentLines(docxPart(await reportToWord(failed), "word/document.xml"));
    assert.ok(
      failedLines.some((line) => line.startsWith("The calculation stopped with an error at ")),
      failedLines.join("\n"),
    );
    assert.ok(failedLines.includes("    at sheet (t.calc.ts:3:9)"), "the stack, line by line");

    await assert.rejects(
      reportToWord("<html><body><p>not a report</p></body></html>"),
      /not a UzonCalc report: it has no <main class="uzc-report">/,
    );
  });

  describe("rendered by LibreOffice", () => {
    const soffice = ["/usr/bin/soffice", "/usr/bin/libreoffice"].find((file) => fs.existsSync(file));
    const pdftoppm = "/usr/bin/pdftoppm";
    before(function () {
      if (!soffice || !fs.existsSync(pdftoppm)) {
        console.log(
          "      skipped: LibreOffice (libreoffice-writer, libreoffice-math) or poppler-utils is not installed; scripts/install-services.sh installs them",
        );
        this.skip();
      }
    });

    it("opens the beam's export, draws its equations and figures, and its first page is kept as a screenshot", () => {
      const out = fs.mkdtempSync(path.join(dir, "lo-"));
      // A profile of its own: LibreOffice refuses to start beside another instance of the same profile.
      const profile = `file://${path.join(out, "profile")}`;
      const converted = spawnSync(
        soffice!,
        [`-env:UserInstallation=${profile}`, "--headless", "--convert-to", "pdf", "--outdir", out, beamDocx],
        {
          encoding: "utf8",
          timeout: 90_000,
        },
      );
      const pdf = path.join(out, "beam.pdf");
      assert.ok(fs.existsSync(pdf), `LibreOffice wrote no PDF: ${converted.stderr} ${converted.stdout}`);
      const text = execFileSync("/usr/bin/pdftotext", ["-layout", pdf, "-"], { encoding: "utf8" });
      assert.match(text, /Simply supported beam/);
      assert.match(text, /Bending stress/);
      assert.match(text, /5\.775/, "an equation's value, drawn by LibreOffice's formula engine");
      assert.match(text, /Figure 1/);
      const pages = Number(/Pages:\s+(\d+)/.exec(execFileSync("/usr/bin/pdfinfo", [pdf], { encoding: "utf8" }))?.[1]);
      assert.ok(pages >= 2 && pages <= 8, `${pages} pages`);
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      execFileSync(pdftoppm, ["-png", "-r", "110", "-f", "1", "-l", "1", "-singlefile", pdf, path.join(ARTIFACTS, "beam-docx-page1")]);
      const shot = path.join(ARTIFACTS, "beam-docx-page1.png");
      assert.ok(fs.statSync(shot).size > 30_000, "the first page, drawn");
    });
  });
});
