// Workspace Trust: a folder opened in Restricted Mode can be read but not run. The CodeLens says why, Run Calc
// explains and offers the trust editor, no run panel opens and no sandbox starts; once the folder is trusted the
// same sheet runs.
"use strict";
const { describe, test } = require("node:test");
const assert = require("node:assert");
const H = require("./harness");
const { useExamplesWorkbench, openSheet } = require("./workspace");

describe("UzonCalc in Restricted Mode (code-server with Workspace Trust on, packaged extension)", () => {
  const session = useExamplesWorkbench("trust-", {
    installed: true,
    trust: true,
    settings: {
      "security.workspace.trust.enabled": true,
      "security.workspace.trust.startupPrompt": "never",
      "security.workspace.trust.banner": "always",
    },
  });

  test("run commands explain themselves until the folder is trusted, then the sheet runs", () =>
    session.br.withPage("trust", async (page) => {
      await openSheet(page, session, "beam.calc.ts");
      const lens = page.locator(".codelens-decoration a", { hasText: "Run Calc needs a trusted workspace" });
      await lens.waitFor({ timeout: 30000 });
      assert.strictEqual(await page.locator('.editor-actions [aria-label^="Run Calc"]').count(), 0, "no run button in the editor title");
      await H.shot(page, "trust-1-restricted");

      await H.runCommand(page, "UzonCalc: Run Calc");
      const warning = await H.waitForNotification(page, "only in a trusted workspace", 15000);
      await H.shot(page, "trust-2-explained");
      assert.strictEqual(await page.locator(".tabs-container .tab", { hasText: "Run: beam.calc.ts" }).count(), 0, "no run panel opens");

      // The notification's button opens the trust editor; trusting the folder turns the lens into Run Calc.
      await warning.locator(".monaco-button", { hasText: "Manage Workspace Trust" }).click();
      const trustButton = page.locator(".workspace-trust-editor .workspace-trust-buttons-row .monaco-button", { hasText: /^Trust$/ });
      await trustButton.first().click({ timeout: 15000 });
      await page.locator(".tabs-container .tab", { hasText: "beam.calc.ts" }).first().click();
      const runLens = page.locator(".codelens-decoration a", { hasText: "▶ Run Calc" });
      await runLens.waitFor({ timeout: 30000 });
      await runLens.click();
      const frame = await H.webviewFrameWith(page, '[data-form] [data-field="span"]', 60000);
      assert.match(await frame.locator("[data-report]").innerText(), /Simply supported beam/);
      await H.shot(page, "trust-3-trusted-and-running");
    }));
});
