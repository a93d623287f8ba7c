// The Word export (issue 18 items 4 and 6): what `--docx` costs beside `--pdf`, the other way to hand a client
// the report, on the rc-beam example (equations only) and the beam example (equations and two figures). The
// reports are made once with the built CLI; the export and the PDF are timed on the same report in this process.
// Prints figures, no pass/fail.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { reportToWord } from "../sandbox/connect/wordExport";
import { findChromium, printReportPdf } from "../sandbox/cli/pdf";
import { loadAverage, median, row } from "./util";

const ROOT = path.resolve(__dirname, "..");
const CLI = process.env.UZC_CLI ?? path.join(ROOT, "dist", "cli.js");

function report(example: string, dir: string): string {
  const out = path.join(dir, `${example}.report.html`);
  execFileSync(
    process.execPath,
    [
      CLI,
      "run",
      path.join(ROOT, "examples", `${example}.calc.ts`),
      "--inputs",
      path.join(ROOT, "examples", `${example}.inputs.json`),
      "-o",
      out,
    ],
    {
      stdio: ["ignore", "ignore", "ignore"],
    },
  );
  return fs.readFileSync(out, "utf8");
}

async function main(): Promise<void> {
  console.log(`\nWord export (.docx) beside PDF · load average ${loadAverage()}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "uzc-bench-word-"));
  try {
    let chromium: string | undefined;
    try {
      chromium = findChromium();
    } catch {
      chromium = undefined;
    }
    let first = true;
    for (const example of ["rc-beam", "beam"]) {
      const html = report(example, dir);
      const started = performance.now();
      const bytes = await reportToWord(html);
      const cold = performance.now() - started;
      const times: number[] = [];
      for (let i = 0; i < 10; i++) {
        const again = performance.now();
        await reportToWord(html);
        times.push(performance.now() - again);
      }
      row(`${example}: .docx size`, `${(bytes.length / 1024).toFixed(1)} KB (the HTML report: ${(html.length / 1024).toFixed(1)} KB)`);
      const figures = (html.match(/<svg /g) ?? []).length;
      row(
        `${example}: export, first${first ? " in the process (loads the export)" : ""}${figures > 0 ? ", starts resvg" : ""}`,
        `${cold.toFixed(0)} ms`,
      );
      row(`${example}: export again (median of 10, ${figures} figures drawn as PNG)`, `${median(times).toFixed(1)} ms`);
      first = false;
      if (chromium) {
        const pdfTimes: number[] = [];
        for (let i = 0; i < 3; i++) {
          const at = performance.now();
          await printReportPdf(html, path.join(dir, `${example}.pdf`), { chromium, paper: "A4" });
          pdfTimes.push(performance.now() - at);
        }
        row(
          `${example}: --pdf with ${path.basename(chromium)} (median of 3)`,
          `${median(pdfTimes).toFixed(0)} ms · ${(fs.statSync(path.join(dir, `${example}.pdf`)).size / 1024).toFixed(0)} KB`,
        );
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main();
