// VS Code's own TypeScript in a sheet folder with no npm install: `import … from "uzoncalc"` and "uzoncalc/units"
// resolve to the runtime's types (the extension's TypeScript server plugin), unit arithmetic type-checks, and
// under a strict tsconfig `const g = yield UI(...)` is not TS7057. A planted ordinary type error is the control: it must be the only problem listed.
"use strict";
const { describe, test } = require("node:test");
const assert = require("node:assert");
const fs = require("node:fs");
const path = require("node:path");
const H = require("./harness");
const { useExamplesWorkbench } = require("./workspace");

const STRICT_SHEET = [
  'import { UI, Window, h1, p } from "uzoncalc";',
  'import { mm } from "uzoncalc/units";',
  "export async function* sheet() {",
  '  h1("Strict sheet");',
  '  const g = yield UI(Window({ title: "Geometry", fields: [{ name: "span", type: "number", unit: "m", default: 6 }] }));',
  "  p(`Span ${g.span} m`);",
  '  const planted: number = "not a number";',
  "  p(String(planted));",
  "  const area = 120 * mm * (360 * mm);",
  '  p(String(area.to("mm^2")));',
  "}",
  "",
].join("\n");

const MISSPELLED_SHEET = [
  'import { UI, Window, p } from "uzoncalc";',
  "",
  "export async function* sheet() {",
  '  const g = yield UI(Window({ title: "Geometry", fields: [{ name: "span", type: "number", unit: "m", default: 6 }] }));',
  "  p(`Span ${g.spna} m`);",
  "}",
  "",
].join("\n");

describe("Sheets in VS Code's own TypeScript (code-server, packaged extension, no npm install)", () => {
  const session = useExamplesWorkbench("typescript-", {
    installed: true,
    beforeStart: (s) => {
      // Its own folder and tsconfig, as in a user's project: strict, no paths, no node_modules.
      const folder = path.join(s.ws, "strict");
      fs.mkdirSync(folder);
      fs.writeFileSync(
        path.join(folder, "tsconfig.json"),
        JSON.stringify(
          { compilerOptions: { target: "ES2022", module: "ESNext", moduleResolution: "bundler", strict: true, noEmit: true } },
          null,
          2,
        ),
      );
      fs.writeFileSync(path.join(folder, "span.calc.ts"), STRICT_SHEET);
      fs.writeFileSync(path.join(s.ws, "misspelled.calc.ts"), MISSPELLED_SHEET);
    },
  });

  test('"uzoncalc" resolves and yield UI is not TS7057 under strict; the planted error is the only one', () =>
    session.br.withPage("typescript", async (page) => {
      await H.openWorkbench(page, session.ws, {});
      await page.locator(".explorer-folders-view .monaco-list-row", { hasText: "strict" }).click();
      await page.locator(".explorer-folders-view .monaco-list-row", { hasText: "span.calc.ts" }).click();
      await page.locator(".tabs-container .tab.active", { hasText: "span.calc.ts" }).waitFor({ timeout: 30000 });
      await page.keyboard.press("Control+Shift+M");
      // TypeScript's server starts, loads the plugin and checks the file: the planted error shows when it is done.
      const planted = page.locator(".markers-panel .monaco-list-row", { hasText: "Type 'string' is not assignable to type 'number'" });
      await planted.waitFor({ timeout: 90000 });
      await H.shot(page, "typescript-1-problems");
      const rows = await page.locator(".markers-panel .monaco-list-row").allInnerTexts();
      const problems = rows.filter((r) => /\[Ln \d+, Col \d+\]/.test(r));
      assert.deepStrictEqual(problems.length, 1, `only the planted error; got:\n${rows.join("\n")}`);
      assert.match(problems[0], /ts\s*\(?2322/);
      assert.match(problems[0], /\[Ln 7, Col 9\]/);
    }));

  test("the language server flags g.spna with a squiggle and a Problems entry, and its quick fix repairs it", () =>
    session.br.withPage("language-server", async (page) => {
      await H.openWorkbench(page, session.ws, {});
      await page.locator(".explorer-folders-view .monaco-list-row", { hasText: "misspelled.calc.ts" }).click();
      await page.locator(".tabs-container .tab.active", { hasText: "misspelled.calc.ts" }).waitFor({ timeout: 30000 });
      await page.keyboard.press("Control+Shift+M");
      const message = "Unknown field 'spna' in window 'geometry'. Did you mean 'span'?";
      const entry = page.locator(".markers-panel .monaco-list-row", { hasText: message });
      await entry.waitFor({ timeout: 60000 });
      assert.match(await entry.innerText(), /UZC2001/);
      assert.match(await entry.innerText(), /\[Ln 5, Col 15\]/);
      await page.locator(".monaco-editor .squiggly-error").first().waitFor({ timeout: 10000 });
      await H.shot(page, "language-server-1-squiggle");

      // The quick fix, as a user reaches it: the cursor on the name, Ctrl+. and the offered change.
      await entry.click();
      await page
        .locator(".monaco-editor.focused")
        .waitFor({ timeout: 10000 })
        .catch(() => {});
      await page.locator(".monaco-editor .view-lines").first().click();
      await H.runCommand(page, "Go to Line/Column...");
      await page.keyboard.type("5:16");
      await page.keyboard.press("Enter");
      await page.keyboard.press("Control+.");
      const fix = page.locator(".action-widget .monaco-list-row", { hasText: "Change 'spna' to 'span'" });
      await fix.waitFor({ state: "attached", timeout: 15000 });
      await H.shot(page, "language-server-2-quick-fix");
      // The offered fix is the focused first row of the menu.
      await page.locator(".action-widget .monaco-list-row.focused", { hasText: "Change 'spna' to 'span'" }).waitFor({ timeout: 5000 });
      await page.keyboard.press("Enter");
      await page.locator(".monaco-editor .view-lines", { hasText: "Span ${g.span} m" }).waitFor({ timeout: 10000 });
      await entry.waitFor({ state: "detached", timeout: 30000 });
      await H.shot(page, "language-server-3-fixed");
    }));
});
