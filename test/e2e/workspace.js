// One code-server and one Chromium per test file, with a fresh copy of examples/ as the workspace.
"use strict";
const { before, after } = require("node:test");
const assert = require("node:assert");
const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");
const H = require("./harness");

const VSIX_DIR = path.join(H.E2E_HOME, "vsix");

/**
 * The .vsix the user-path tests install: `npm run test:e2e` packages it (scripts/package.mjs, this platform) into
 * $E2E_HOME/vsix before the tests; a test file run on its own packages it here if it is missing or older than dist/.
 */
function extensionVsix() {
  const pkg = JSON.parse(fs.readFileSync(path.join(H.ROOT, "package.json"), "utf8"));
  const found = () =>
    fs.existsSync(VSIX_DIR) && fs.readdirSync(VSIX_DIR).find((n) => n.startsWith(`${pkg.name}-`) && n.endsWith(`-${pkg.version}.vsix`));
  const built = found();
  const distTime = fs.statSync(path.join(H.ROOT, "dist", "extension.js")).mtimeMs;
  if (!built || fs.statSync(path.join(VSIX_DIR, built)).mtimeMs < distTime) {
    execFileSync(process.execPath, [path.join(H.ROOT, "scripts", "package.mjs"), "--skip-build", "--out-dir", VSIX_DIR], { stdio: "pipe" });
  }
  return path.join(VSIX_DIR, found());
}

/**
 * Registers before/after hooks; the returned object is filled in once `before` has run.
 * options.installed: install the packaged .vsix (what users get) instead of loading the extension from source;
 * options.settings (an object, or a function called in `before`) / options.trust: passed to startCodeServer;
 * options.beforeStart(session): runs first.
 */
function useExamplesWorkbench(prefix, options = {}) {
  const session = { work: undefined, ws: undefined, cs: undefined, br: undefined, vsix: undefined };
  before(async () => {
    assert.ok(
      fs.existsSync(path.join(H.ROOT, "dist", "extension.js")) &&
        fs.existsSync(path.join(H.ROOT, "dist-test", "vscode", "extension.test.js")),
      "run `npm run build` first",
    );
    session.work = H.tempDir(prefix);
    session.ws = path.join(session.work, "examples");
    fs.cpSync(path.join(H.ROOT, "examples"), session.ws, { recursive: true });
    if (options.beforeStart) await options.beforeStart(session);
    if (options.installed) session.vsix = extensionVsix();
    session.cs = await H.startCodeServer({
      vsix: session.vsix ? [session.vsix] : [],
      settings: typeof options.settings === "function" ? options.settings() : options.settings || {},
      trust: options.trust === true,
    });
    session.br = await H.launchBrowser({ baseURL: session.cs.url });
  });
  after(async () => {
    await session.br?.close();
    await session.cs?.stop();
    if (session.work) H.removeTempDir(session.work);
  });
  return session;
}

/** Open the workbench on the session's folder (with the extension from source unless it is installed) and a sheet. */
async function openSheet(page, session, name) {
  await H.openWorkbench(page, session.ws, session.vsix ? {} : { devPath: H.ROOT });
  // By exact name: "beam.calc.ts" is also the end of "rc-beam.calc.ts".
  await page.locator(`.explorer-folders-view .monaco-list-row[aria-label="${name}"]`).click();
  const editor = page.locator(".monaco-editor .view-lines").first();
  await editor.waitFor({ timeout: 30000 });
  await page.locator(".tabs-container .tab.active", { hasText: name }).waitFor({ timeout: 30000 });
  // The palette offers Run Calc for the active sheet editor: focus it (a click in the explorer leaves focus there).
  // Click the first rendered line, not the middle: below a short file's end the click scrolls it out of view.
  await page.locator(".monaco-editor .view-line").first().click();
  await page.locator(".monaco-editor.focused").waitFor({ timeout: 10000 });
  await page.keyboard.press("Control+Home");
  return editor;
}

module.exports = { useExamplesWorkbench, extensionVsix, openSheet };
