// The run panel as a user drives it, in code-server with the packaged .vsix installed: Run Calc from the palette
// and the CodeLens, every field type filled through the webview's data-field controls, Enter to submit, a refused
// value, cancel and run again, a sheet error in the panel and the Problems panel, export opened standalone.
// Screenshots of each step go to $E2E_HOME/shots (artifacts).
"use strict";
const { describe, test } = require("node:test");
const assert = require("node:assert");
const fs = require("node:fs");
const path = require("node:path");
const H = require("./harness");
const { startCpuSampler } = require("./cpuSampler");
const { useExamplesWorkbench, extensionLog, firstRunTimings, openSheet } = require("./workspace");

const SAVED_SHEET = [
  'import { UI, Window, p } from "uzoncalc";',
  "",
  "export async function* sheet() {",
  '  p("version saved");',
  '  yield UI(Window({ title: "Go on", fields: [{ name: "n", type: "number", default: 1 }] }));',
  "}",
  "",
].join("\n");

const MARKUP_SHEET = [
  'import { UI, Window, html, p } from "uzoncalc";',
  "",
  "export async function* sheet() {",
  '  p("markup follows");',
  '  html(\'<meta http-equiv="refresh" content="0;url=https://example.com/"><base href="https://example.com/">\');',
  '  html(\'<form action="https://example.com/"><input name="a"></form><p class="kept">kept</p>\');',
  '  yield UI(Window({ title: "Stop", fields: [] }));',
  "}",
  "",
].join("\n");

const THROWING_SHEET = [
  'import { UI, Window, p } from "uzoncalc";',
  "",
  "export async function* sheet() {",
  '  p("before the error");',
  '  const v = yield UI(Window({ title: "Divide", fields: [{ name: "d", type: "number", default: 0 }] }));',
  '  if (v.d === 0) throw new RangeError("cannot divide by zero");',
  "}",
  "",
].join("\n");

/** Pick options of a vscode-single-select / vscode-multi-select: open its face, click each option's row. */
async function pick(frame, field, labels, { multi = false } = {}) {
  const control = frame.locator(`[data-field="${field}"]`);
  await control.locator(".select-face").click();
  for (const label of labels) await control.locator("li.option", { hasText: label }).click();
  // A multi-select's list stays open for more picks: its face closes it.
  if (multi) await control.locator(".select-face").click();
  await control.locator("li.option").first().waitFor({ state: "hidden", timeout: 5000 });
}

describe("UzonCalc run panel (code-server, packaged extension, driven through the webview)", () => {
  const session = useExamplesWorkbench("panel-", {
    installed: true,
    // code-server saves files after a delay by default; the unsaved-changes test needs an editor that stays dirty.
    settings: { "files.autoSave": "off" },
    beforeStart: (s) => {
      fs.writeFileSync(path.join(s.ws, "throws.calc.ts"), THROWING_SHEET);
      fs.writeFileSync(path.join(s.ws, "saved.calc.ts"), SAVED_SHEET);
      fs.writeFileSync(path.join(s.ws, "markup.calc.ts"), MARKUP_SHEET);
    },
  });

  test("Run Calc from the palette: form, refused value, next window, report, cancel, run again", () =>
    session.br.withPage("panel-run", async (page) => {
      await openSheet(page, session, "beam.calc.ts");
      // From the palette's Enter: the first webview of the session loads, the sandbox (started when the sheet opened) runs.
      const cpu = startCpuSampler();
      const started = await H.runCommand(page, "UzonCalc: Run Calc");
      let frame = await H.webviewFrameWith(page, '[data-form] [data-field="span"]', 60000);
      cpu.stop();
      console.log(
        `Run Calc to form visible (first run: a new webview): ${Date.now() - started} ms (Enter at ${new Date(started).toISOString()}, seen by 200 ms polls)`,
      );
      // The breakdown (sandbox start, webview ready, first answer, first window painted): the log file is written a
      // moment later.
      await H.waitFor(() => extensionLog(session).some((line) => line.includes("on screen")), 10000, "the first-window log line").catch(
        () => undefined,
      );
      for (const line of extensionLog(session)) console.log(`  extension log: ${line}`);
      // The polls above see the form up to a poll (and a slow frame search) late; the webview says when it painted,
      // and how long after the run was asked for (by the extension's clock).
      const firstRun = firstRunTimings(extensionLog(session));
      if (firstRun) {
        console.log(`Run Calc to form painted (the webview's clock): ${firstRun.paintedAt - started} ms after Enter`);
        // Until the command ran, the extension had no part in it: where the machine's CPU went meanwhile.
        const { windowMs, cores, cpuMs, top } = cpu.between(started, firstRun.commandAt);
        console.log(
          `Enter → our command: ${firstRun.commandAt - started} ms; CPU in it (sampled over ${windowMs} ms, ${cores} cores): ${cpuMs} ms, most to ${top.map((row) => `${row.ms} ms ${row.name}`).join(" · ")}`,
        );
      }
      await H.shot(page, "panel-1-form");
      assert.match(await frame.locator("[data-report]").innerText(), /Simply supported beam/);

      let span = frame.locator('[data-field="span"] input');
      await span.fill("100");
      await frame.locator('[data-error="span"]', { hasText: "at most 40 m" }).waitFor({ timeout: 10000 });
      await H.shot(page, "panel-2-refused");
      // Submitting anyway is refused in the form itself; the other values stay as typed.
      await frame.locator('[data-field="b"] input').fill("120 mm");
      await frame.locator('[data-action="submit"]').click();
      assert.strictEqual(await frame.locator('[data-field="b"] input').inputValue(), "120 mm", "the other values are kept");
      assert.strictEqual(await frame.locator('[data-field="h"] input').inputValue(), "300");

      // The panel keeps what was typed when its webview is thrown away and rebuilt (as when it is hidden).
      await H.runCommand(page, "Developer: Reload Webviews");
      await H.waitFor(() => frame.isDetached(), 15000, "the old webview document to go away");
      const reloaded = await H.webviewFrameWith(page, '[data-form] [data-field="span"]', 30000);
      await H.waitFor(
        async () => (await reloaded.locator('[data-field="b"] input').inputValue()) === "120 mm",
        10000,
        "the typed width after the reload",
      );
      assert.strictEqual(await reloaded.locator('[data-field="span"] input').inputValue(), "100");
      frame = reloaded;
      span = frame.locator('[data-field="span"] input');

      await span.fill("7.2");
      await frame.locator('[data-action="submit"]').click();
      await frame.locator('[data-field="g"]').waitFor({ timeout: 20000 });
      const report = await frame.locator("[data-report]").innerText();
      assert.match(report, /Span L\s+7\.2 m/);
      assert.match(report, /Width b\s+120 mm/, "120 mm typed into a field in mm");
      await H.shot(page, "panel-3-second-window");

      await frame.locator('[data-action="cancel"]').click();
      await frame.locator('.uzc-state[data-state="cancelled"]').waitFor({ timeout: 10000 });
      assert.strictEqual(await frame.locator("[data-form]").isHidden(), true, "no form after cancel");
      await H.shot(page, "panel-4-cancelled");

      // Run again from the panel: a warm run reaches the form quickly.
      const timings = [];
      for (let i = 0; i < 3; i++) {
        const again = Date.now();
        await frame.locator('header [data-action="rerun"]').click();
        await frame.locator('.uzc-state[data-state="waiting"]').waitFor({ timeout: 20000 });
        await frame.locator('[data-form] [data-field="span"]').waitFor({ timeout: 20000 });
        timings.push(Date.now() - again);
      }
      console.log(`Run again to form visible (warm, panel open): ${timings.join(", ")} ms`);
    }));

  test("CodeLens run: every field type through its control, Enter submits, export opens standalone", () =>
    session.br.withPage("panel-fields", async (page) => {
      const checkersBefore = extensionLog(session).filter((line) => line.includes("checker ready")).length;
      await openSheet(page, session, "footing.calc.ts");
      // The first run in this window once it has settled (the sheet bundled ahead, this window's language server
      // warm), as a user who opens a sheet and then runs it: test 1 runs at once, in the middle of the start-up.
      await H.waitFor(
        () => {
          const log = extensionLog(session);
          return (
            log.some((line) => line.includes("footing.calc.ts bundled ahead")) &&
            log.filter((line) => line.includes("checker ready")).length > checkersBefore
          );
        },
        30000,
        "the sheet bundled ahead and the language server warm",
      ).catch(() => undefined);
      const lens = page.locator(".codelens-decoration a", { hasText: "Run Calc" }).first();
      await lens.waitFor({ timeout: 30000 });
      const clicked = Date.now();
      await lens.click({ timeout: 30000 });
      const frame = await H.webviewFrameWith(page, '[data-form] [data-field="B"]', 60000);
      console.log(
        `CodeLens Run Calc to form visible (first run in this window, once it settled): ${Date.now() - clicked} ms (seen by 200 ms polls)`,
      );
      await frame.locator('[data-field="B"] input').fill("1.8");
      await frame.locator('[data-field="L"] input').fill("2000 mm");
      await frame.locator('[data-field="t"] input').fill("0.5 m");
      await pick(frame, "soil", ["Dense sand"]);
      await pick(frame, "checks", ["Sliding"], { multi: true });
      await frame.locator('[data-field="submerged"]').click();
      await frame.locator('[data-field="notes"] textarea').fill("Founding level to be confirmed on site.\nSecond line.");
      await frame.locator('[data-field="ref"] input').fill("F3");
      await H.shot(page, "panel-5-every-field");
      // Enter in a one-line field submits.
      await frame.locator('[data-field="ref"] input').press("Enter");
      await frame.locator('[data-form] [data-field="N"]').waitFor({ timeout: 20000 });
      const first = await frame.locator("[data-report]").innerText();
      assert.match(first, /Footing F3/);
      assert.match(first, /Plan B × L\s+1\.8 m × 2 m/, "2000 mm into a field in m");
      assert.match(first, /Thickness\s+500 mm/, "0.5 m into a field in mm");
      assert.match(first, /Soil\s+Dense sand \(submerged\)/, "the select and the checkbox");
      assert.match(first, /Allowable pressure\s+150 kPa/);

      await frame.locator('[data-field="N"] input').fill("650");
      await frame.locator('[data-field="H"] input').fill("35");
      await frame.locator('[data-field="H"] input').press("Enter");
      await frame.locator('.uzc-state[data-state="completed"]').waitFor({ timeout: 20000 });
      const report = await frame.locator("[data-report]").innerText();
      assert.match(report, /Bearing\s+193\.056 kPa\s+150 kPa\s+1\.287\s+FAILS/);
      assert.match(report, /Sliding\s+35 kN\s+382\.25 kN\s+0\.092\s+OK/, "both checks of the multi-select ran");
      assert.match(report, /Notes: Founding level to be confirmed on site\.\s+Second line\./, "the textarea");
      assert.ok((await frame.locator("[data-report] math").count()) >= 3, "the assignments render as MathML through the sanitiser");
      await H.shot(page, "panel-6-completed");

      // Export through the panel's button: code-server's save dialog is a quick input prefilled with the path.
      const target = path.join(session.ws, "footing.report.html");
      await frame.locator('header [data-action="export"]').click();
      const dialogInput = page.locator(".quick-input-widget input.input");
      await dialogInput.waitFor({ state: "visible", timeout: 15000 });
      await H.waitFor(
        async () => (await dialogInput.inputValue()).endsWith("footing.report.html"),
        15000,
        "the save dialog to offer footing.report.html",
      );
      await page.keyboard.press("Enter");
      await H.waitForNotification(page, "Report saved to", 15000);
      await H.waitFor(() => fs.existsSync(target), 10000, "the exported file");
      await H.shot(page, "panel-7-exported");

      // The exported file stands alone: opened with scripts off and every network request refused, it shows the report.
      const context = await session.br.browser.newContext({ javaScriptEnabled: false });
      const requests = [];
      await context.route("**/*", (route) => {
        const url = route.request().url();
        if (url.startsWith("file:")) return route.continue();
        requests.push(url);
        return route.abort();
      });
      const standalone = await context.newPage();
      await standalone.goto("file://" + target);
      const text = await standalone.locator("body").innerText();
      assert.match(text, /Pad footing/);
      assert.match(text, /Bearing\s+193\.056 kPa/);
      assert.match(text, /footing\.calc\.ts/, "provenance names the sheet");
      assert.deepStrictEqual(requests, [], "the report fetches nothing");
      assert.ok((await standalone.locator("math").count()) >= 3, "formulas as MathML, readable with scripts off");
      await standalone.screenshot({ path: path.join(H.SHOTS, "panel-8-export-standalone.png"), fullPage: true });
      await context.close();

      // The values beside the code, where the engineer reads them: the editor at the lines that computed them, wide
      // enough to show them (side bar hidden, the editor's group maximised where this VS Code has the command).
      await page.locator(".tabs-container .tab", { hasText: "footing.calc.ts" }).first().click();
      await page.keyboard.press("Control+B");
      await H.runCommand(page, "Toggle Maximize Editor Group", 15000).catch(() => page.keyboard.press("Escape"));
      await H.runCommand(page, "Go to Line/Column...");
      await page.keyboard.type("51");
      await page.keyboard.press("Enter");
      await page.locator(".monaco-editor .view-lines", { hasText: "const area" }).waitFor({ timeout: 10000 });
      await H.shot(page, "panel-8b-values-beside-code");
    }));

  test("a sheet error shows in the panel and in the Problems panel on its line", () =>
    session.br.withPage("panel-error", async (page) => {
      await openSheet(page, session, "throws.calc.ts");
      await H.runCommand(page, "UzonCalc: Run Calc");
      const frame = await H.webviewFrameWith(page, '[data-form] [data-field="d"]', 60000);
      await frame.locator('[data-action="submit"]').click();
      const error = frame.locator("[data-sheet-error]");
      await error.waitFor({ state: "visible", timeout: 20000 });
      assert.match(await error.innerText(), /RangeError: cannot divide by zero at throws\.calc\.ts:6:24/);
      assert.match(await frame.locator("[data-report]").innerText(), /before the error/, "the report so far is kept");
      await H.shot(page, "panel-9-sheet-error");

      await page.keyboard.press("Control+Shift+M");
      const entry = page.locator(".markers-panel .monaco-list-row", { hasText: "cannot divide by zero" });
      await entry.waitFor({ timeout: 15000 });
      assert.match(await entry.innerText(), /\[Ln 6, Col 24\]/);
      await H.shot(page, "panel-10-problems");

      // The location in the panel is a link back to the sheet's line.
      await frame.locator("[data-sheet-error] a").click();
      await page
        .locator('.editor-status-selection, .statusbar-item[id$="status.editor.selection"]', { hasText: "Ln 6, Col 24" })
        .waitFor({ timeout: 15000 });
    }));

  test("the form writes a unit as the report does: kN/m³, not kN/m^3 (issue 16 item 8)", () =>
    session.br.withPage("panel-units", async (page) => {
      await openSheet(page, session, "retaining-wall.calc.ts");
      await H.runCommand(page, "UzonCalc: Run Calc");
      let frame = await H.webviewFrameWith(page, '[data-form] [data-field="H"]', 60000);
      await frame.locator('[data-action="submit"]').click();
      frame = await H.webviewFrameWith(page, '[data-form] [data-field="gamma"]', 20000);
      const row = frame.locator(".uzc-field", { has: frame.locator('[data-field="gamma"]') });
      const label = await row.locator("label").innerText();
      assert.match(label, /Unit weight of the soil \* \[kN\/m³\]/, label);
      await H.shot(page, "panel-13-units-in-the-form");
      await frame.locator('[data-action="submit"]').click();
      await frame.locator('.uzc-state[data-state="completed"]').waitFor({ timeout: 20000 });
      assert.match(await frame.locator("[data-report]").innerText(), /Bearing/);
      await H.shot(page, "panel-14-retaining-wall");
    }));

  test("unsaved changes: Run Calc asks once; Run Saved Version runs the file on disk, Save and Run saves first", () =>
    session.br.withPage("panel-unsaved", async (page) => {
      await openSheet(page, session, "saved.calc.ts");
      // Line 4 is `  p("version saved");`: "saved" becomes "edited" in the editor only (no quote or bracket typed).
      for (let i = 0; i < 3; i++) await page.keyboard.press("ArrowDown");
      await page.keyboard.press("End");
      for (let i = 0; i < 3; i++) await page.keyboard.press("ArrowLeft");
      for (let i = 0; i < 5; i++) await page.keyboard.press("Backspace");
      await page.keyboard.type("edited");
      await page.locator(".tabs-container .tab.active.dirty", { hasText: "saved.calc.ts" }).waitFor({ timeout: 10000 });

      await page.keyboard.press("Control+Shift+Enter");
      let asked = await H.waitForNotification(page, "saved.calc.ts has unsaved changes. A run uses the saved files.", 20000);
      await H.shot(page, "panel-11-unsaved-asked");
      await asked.locator(".monaco-button", { hasText: "Run Saved Version" }).click();
      let frame = await H.webviewFrameWith(page, '[data-form] [data-field="n"]', 60000);
      assert.match(await frame.locator("[data-report]").innerText(), /version saved/, "the saved file ran, not the editor's text");
      assert.strictEqual(await page.locator(".tabs-container .tab.active.dirty", { hasText: "saved.calc.ts" }).count(), 1, "still unsaved");
      assert.match(fs.readFileSync(path.join(session.ws, "saved.calc.ts"), "utf8"), /version saved/);

      await page.locator(".monaco-editor .view-line").first().click();
      await page.keyboard.press("Control+Shift+Enter");
      asked = await H.waitForNotification(page, "saved.calc.ts has unsaved changes.", 20000);
      await asked.locator(".monaco-button", { hasText: "Save and Run" }).click();
      await H.waitFor(
        () => /version edited/.test(fs.readFileSync(path.join(session.ws, "saved.calc.ts"), "utf8")),
        15000,
        "the sheet saved",
      );
      frame = await H.webviewFrameWith(page, '[data-report]:has-text("version edited")', 60000);
      await frame.locator('[data-form] [data-field="n"]').waitFor({ timeout: 20000 });
      await H.shot(page, "panel-12-saved-and-run");
    }));

  test("sheet markup cannot navigate, rebase or post from the panel (issue 13 item 18)", () =>
    session.br.withPage("panel-markup", async (page) => {
      await openSheet(page, session, "markup.calc.ts");
      await H.runCommand(page, "UzonCalc: Run Calc");
      const frame = await H.webviewFrameWith(page, "[data-report] p.kept", 60000);
      for (const tag of ["meta", "base", "form", "input"])
        assert.strictEqual(await frame.locator(`[data-report] ${tag}`).count(), 0, `no ${tag} in the report`);
      const csp = await frame.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute("content");
      assert.match(csp, /base-uri 'none'/);
      assert.match(csp, /form-action 'none'/);
      assert.match(await frame.locator("[data-report]").innerText(), /markup follows/);
    }));
});
