// Input sets as a user meets them (issue 17 items 3 and 6), in code-server with the packaged .vsix: the run panel's
// "Run with" runs a named set (its windows answered, no form), Save Inputs As… writes the run's answers as a set
// beside the sheet, and a planted error in a set file shows in the Problems panel with its code.
"use strict";
const { describe, test } = require("node:test");
const assert = require("node:assert");
const fs = require("node:fs");
const path = require("node:path");
const { strFromU8, unzipSync } = require("fflate");
const H = require("./harness");
const { useExamplesWorkbench, openSheet } = require("./workspace");

/** A set with a misspelled window id: the language server's UZC4004 with its did-you-mean. */
const PLANTED_SET = '{\n  "geometri": { "span": 6 },\n  "loads": { "g": 1.5, "q": "2.5" }\n}\n';

/** Chooses "Run with" in the panel's header: open the select's face, click the option's row. */
async function runWith(frame, label) {
  const select = frame.locator("[data-run-with]");
  await select.locator(".select-face").click();
  await select.locator("li.option", { hasText: label }).click();
}

describe("UzonCalc input sets (code-server, packaged extension)", () => {
  const session = useExamplesWorkbench("sets-", {
    installed: true,
    beforeStart: (s) => fs.writeFileSync(path.join(s.ws, "beam.planted.inputs.json"), PLANTED_SET),
  });

  test("Run with a named set answers its windows; a set that misses a window stops there as a form; Save Inputs As… writes the answers", () =>
    session.br.withPage("sets-run", async (page) => {
      await openSheet(page, session, "beam.calc.ts");
      await H.runCommand(page, "UzonCalc: Run Calc");
      let frame = await H.webviewFrameWith(page, '[data-form] [data-field="span"]', 60000);
      // The sets beside the sheet are offered: the default, the named one, the planted one.
      await frame.locator("[data-run-with-box]").waitFor({ state: "visible", timeout: 10000 });
      await H.shot(page, "sets-1-run-with-offered");

      await runWith(frame, "short-span");
      await frame.locator('.uzc-state[data-state="completed"]').waitFor({ timeout: 30000 });
      await frame.locator("[data-report] .uzc-plot svg").first().waitFor({ timeout: 30000 });
      const report = await frame.locator("[data-report]").innerText();
      assert.match(report, /Span L\s+4\.8 m/, "the named set's span");
      assert.match(report, /Width b\s+100 mm/);
      assert.strictEqual(await frame.locator("[data-form]").isHidden(), true, "no form: every window came from the set");
      // The beam's two diagrams, drawn as SVG by the sandbox, kept by the panel's sanitiser (issue 18 item 2).
      assert.strictEqual(await frame.locator("[data-report] .uzc-plot svg").count(), 2);
      assert.ok((await frame.locator("[data-report] .uzc-plot svg path").count()) > 10, "the figures' lines and axes");
      await frame.locator("[data-report] .uzc-figure").first().scrollIntoViewIfNeeded();
      await H.shot(page, "sets-2-ran-named-set");

      // Run again keeps the choice.
      await frame.locator('header [data-action="rerun"]').click();
      await frame.locator('.uzc-state[data-state="completed"]').waitFor({ timeout: 30000 });
      await frame.locator("[data-report]", { hasText: "4.8 m" }).waitFor({ timeout: 10000 });

      // The planted set names no window the sheet shows as geometry: the run stops at that window as a form.
      await runWith(frame, "planted");
      await frame.locator('[data-form] [data-field="span"]').waitFor({ timeout: 30000 });
      // The form and the state words arrive as two messages: wait for the second rather than race it.
      await frame.locator('.uzc-state[data-state="waiting"]').waitFor({ timeout: 10000 });
      await frame.locator('[data-field="span"] input').fill("5.4");
      await frame.locator('[data-action="submit"]').click();
      // loads comes from the set, material is asked.
      await frame.locator('[data-form] [data-field="grade"]').waitFor({ timeout: 30000 });
      assert.match(await frame.locator("[data-report]").innerText(), /Span L\s+5\.4 m/);
      await frame.locator('[data-action="submit"]').click();
      await frame.locator('.uzc-state[data-state="completed"]').waitFor({ timeout: 30000 });

      // Compare with Previous Run (the panel's Compare): the short-span run before, this one now, read as a calculation.
      await frame.locator('header [data-action="compare"]').click();
      const comparison = await H.webviewFrameWith(page, "[data-comparison]", 30000);
      const compared = await comparison.locator("body").innerText();
      assert.match(compared, /Geometry › Span\s+4\.8 m\s+→\s+5\.4 m/, compared);
      assert.match(compared, /\bL\s+4\.8 m\s+→\s+5\.4 m/, "the line's value, old → new");
      assert.ok((await comparison.locator('[data-change="check"]').count()) >= 1, "the checks whose utilisation moved");
      await H.shot(page, "sets-3a-compare-with-previous");
      // Back to the run panel for the next steps: its webview is built again when it is shown.
      await page.locator(".tabs-container .tab", { hasText: "Run: beam.calc.ts" }).click();
      frame = await H.webviewFrameWith(page, '.uzc-state[data-state="completed"]', 30000);

      // Save Inputs As…: the three windows this run answered, named by the user in the input box.
      await frame.locator('header [data-action="saveInputs"]').click();
      const input = page.locator(".quick-input-widget input");
      await input.waitFor({ state: "visible", timeout: 15000 });
      await input.fill("e2e-case");
      await H.shot(page, "sets-3-save-inputs-name");
      await page.keyboard.press("Enter");
      const saved = path.join(session.ws, "beam.e2e-case.inputs.json");
      // The file may be there before all of it is written: wait until it reads as a whole JSON document.
      const complete = () => {
        try {
          JSON.parse(fs.readFileSync(saved, "utf8"));
          return true;
        } catch {
          return false;
        }
      };
      await H.waitFor(complete, 15000, "the saved input set");
      const set = JSON.parse(fs.readFileSync(saved, "utf8"));
      assert.deepStrictEqual(Object.keys(set), ["geometry", "loads", "material"]);
      assert.strictEqual(String(set.geometry.span), "5.4");
      assert.strictEqual(String(set.loads.q), "2.5", "the set's own values are saved as they were given");
      assert.ok(fs.readFileSync(saved, "utf8").endsWith("}\n"));
      // It is offered at once, and runs.
      // The panel shows the previous run, completed, until the new one resets it: a marker planted in the old report
      // goes with the reset, so "completed" is waited for only once it is the new run's (waiting for the state alone
      // raced the reset and read an emptied report once).
      await frame
        .locator("[data-report]")
        .evaluate((report) => report.append(Object.assign(report.ownerDocument.createElement("i"), { id: "e2e-stale" })));
      await runWith(frame, "e2e-case");
      await frame.locator("#e2e-stale").waitFor({ state: "detached", timeout: 30000 });
      await frame.locator('.uzc-state[data-state="completed"]').waitFor({ timeout: 30000 });
      assert.match(await frame.locator("[data-report]").innerText(), /Span L\s+5\.4 m/);
      await H.shot(page, "sets-4-saved-set-runs");
    }));

  test("the panel's Word button saves the finished report as a .docx whose equations are Office Math with the run's values", () =>
    session.br.withPage("sets-word", async (page) => {
      await openSheet(page, session, "beam.calc.ts");
      await H.runCommand(page, "UzonCalc: Run Calc");
      const frame = await H.webviewFrameWith(page, '[data-form] [data-field="span"]', 60000);
      const word = frame.locator('header [data-action="exportWord"]');
      assert.strictEqual(await word.evaluate((button) => button.disabled), true, "nothing to export before the run completes");
      await frame.locator("[data-run-with-box]").waitFor({ state: "visible", timeout: 10000 });
      await runWith(frame, "short-span");
      await frame.locator('.uzc-state[data-state="completed"]').waitFor({ timeout: 30000 });
      await word.click();
      // code-server's save dialog: a path box holding the default, beam.report.docx beside the sheet.
      const input = page.locator(".quick-input-widget input");
      await input.waitFor({ state: "visible", timeout: 15000 });
      // The dialog fills its folder first and the file name a moment later.
      await H.waitFor(async () => /beam\.report\.docx$/.test(await input.inputValue()), 15000, "the default file name in the save dialog");
      await H.shot(page, "sets-word-1-save-dialog");
      await page.keyboard.press("Enter");
      await H.waitForNotification(page, "Word document saved to", 30000);
      const saved = path.join(session.ws, "beam.report.docx");
      const document = unzipSync(new Uint8Array(fs.readFileSync(saved)));
      const xml = strFromU8(document["word/document.xml"]);
      assert.ok((xml.match(/<m:oMath>/g) ?? []).length >= 15, "the lines as Office Math");
      // L = 4.8 m from the named set, as an equation: L, =, 4.8, a no-break space, m.
      assert.match(xml, /<m:t>L<\/m:t><\/m:r><m:r><m:t>=<\/m:t><\/m:r><m:r><m:t>4\.8<\/m:t>/);
      assert.ok(
        Object.keys(document).some((name) => name.startsWith("word/media/") && name.endsWith(".png")),
        "the figures as pictures",
      );
      await H.shot(page, "sets-word-2-saved");
    }));

  test("a planted error in a set file shows in the Problems panel with its code and quick fix", () =>
    session.br.withPage("sets-problems", async (page) => {
      // The language server starts with a sheet; then the set is opened.
      await openSheet(page, session, "beam.calc.ts");
      // Above each window, the sets that answer it (the language server's lens).
      await page.locator(".monaco-editor .codelens-decoration", { hasText: "input sets answer 'geometry'" }).waitFor({ timeout: 60000 });
      assert.match(await page.locator(".monaco-editor .codelens-decoration", { hasText: "'geometry'" }).innerText(), /default.*short-span/);
      await page.locator('.explorer-folders-view .monaco-list-row[aria-label="beam.planted.inputs.json"]').click();
      await page.locator(".tabs-container .tab.active", { hasText: "beam.planted.inputs.json" }).waitFor({ timeout: 30000 });
      await page.keyboard.press("Control+Shift+M");
      const entry = page.locator(".markers-panel .monaco-list-row", {
        hasText: "'geometri' is not a window of beam.calc.ts; did you mean 'geometry'?",
      });
      await entry.waitFor({ timeout: 60000 });
      assert.match(await entry.innerText(), /UZC4004/);
      assert.match(await entry.innerText(), /\[Ln 2, Col 3\]/);
      await H.shot(page, "sets-5-problems");
    }));

  test("Run Study on a cases CSV: the table in a panel, sorted by a click, failing checks marked, a case opens its report", () =>
    session.br.withPage("sets-study", async (page) => {
      await H.openWorkbench(page, session.ws, {});
      await page.locator('.explorer-folders-view .monaco-list-row[aria-label="rc-beam.cases.csv"]').click();
      await page.locator(".tabs-container .tab.active", { hasText: "rc-beam.cases.csv" }).waitFor({ timeout: 30000 });
      await H.runCommand(page, "UzonCalc: Run Study");
      const study = await H.webviewFrameWith(page, "[data-study]", 120000);
      const rows = study.locator("tbody tr");
      assert.strictEqual(await rows.count(), 20, "one row per case");
      assert.ok((await study.locator("tbody tr.not-ok").count()) >= 1, "cases with a check NOT OK are marked");
      assert.ok(fs.existsSync(path.join(session.ws, "rc-beam.study", "study.csv")), "the study's files beside the sheet");
      await H.shot(page, "sets-6-study");

      // Sorted by the governing utilisation, highest first: the governing case on top.
      const header = await study.locator("thead th").allInnerTexts();
      const column = header.findIndex((name) => name.trim().startsWith("max utilisation"));
      assert.ok(column >= 0, header.join(" | "));
      await study.locator(`[data-sort="${column}"]`).click();
      const sorted = await H.webviewFrameWith(page, "thead th:has-text('▼')", 30000);
      const values = (await sorted.locator(`tbody tr td:nth-child(${column + 1})`).allInnerTexts()).filter((v) => v !== "").map(Number);
      assert.deepStrictEqual(
        values,
        [...values].sort((a, b) => b - a),
        "highest utilisation first",
      );
      await H.shot(page, "sets-7-study-sorted");

      // The top case's report.
      const top = sorted.locator("tbody tr [data-case]").first();
      const name = await top.innerText();
      await top.click();
      await page.locator(".tabs-container .tab.active", { hasText: name }).waitFor({ timeout: 30000 });
      const report = await H.webviewFrameWith(page, ".uzc-report", 30000);
      assert.match(await report.locator(".uzc-report").innerText(), /Reinforced-concrete beam/);
      await H.shot(page, "sets-8-study-case-report");
    }));
});
