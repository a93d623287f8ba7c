// Word goldens: each golden report (fixtures/report/NN-name.html, the engine's own expected output) exported to
// Word reads exactly as fixtures/report/word/NN-name.txt: the document's paragraphs and table rows, with each
// equation read out of its Office Math (support/docx.ts). A change to the export, or to what the engine writes,
// shows here as the lines a reader of the Word document would see change.
//
// UPDATE_GOLDENS=1 rewrites the expected files from the current output: read every diff before keeping it.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { reportToWord } from "../../connect/wordExport";
import { renderReportDocument } from "../../session/reportDocument";
import { documentLines, docxPart } from "../support/docx";

const DIR = path.join(__dirname, "..", "fixtures", "report");
const WORD_DIR = path.join(DIR, "word");
const UPDATE = process.env.UPDATE_GOLDENS === "1";

describe("Word goldens: every golden report exported to Word reads exactly as expected", function () {
  this.timeout(60_000);
  const reports = fs
    .readdirSync(DIR)
    .filter((name) => name.endsWith(".html"))
    .sort();

  it("covers every golden report", () => {
    assert.ok(reports.length >= 40);
    if (!UPDATE)
      for (const report of reports)
        assert.ok(fs.existsSync(path.join(WORD_DIR, report.replace(/\.html$/, ".txt"))), `${report} has no Word golden`);
  });

  for (const report of reports) {
    it(report.replace(/\.html$/, ""), async () => {
      const body = fs.readFileSync(path.join(DIR, report), "utf8");
      const document = renderReportDocument({ body, sheetName: report, sheetHash: "golden", createdAt: 0, inputs: [], version: "golden" });
      const lines = documentLines(docxPart(await reportToWord(document), "word/document.xml"));
      const text = lines.join("\n") + "\n";
      const expectedFile = path.join(WORD_DIR, report.replace(/\.html$/, ".txt"));
      if (UPDATE) {
        fs.mkdirSync(WORD_DIR, { recursive: true });
        fs.writeFileSync(expectedFile, text);
      }
      assert.equal(text, fs.readFileSync(expectedFile, "utf8"));
    });
  }
});
