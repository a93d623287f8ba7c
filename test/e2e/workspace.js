// One code-server and one Chromium per test file (and for bench/firstRunCalc.cjs), with a fresh copy of examples/ as
// the workspace.
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
 * Starts code-server and Chromium on a fresh copy of examples/ and returns the session ({ work, ws, cs, br, vsix,
 * stop() }). options.installed: install the packaged .vsix (what users get) instead of loading the extension from
 * source; options.settings (an object, or a function called first) / options.trust: passed to startCodeServer;
 * options.beforeStart(session): runs first. The E2E tests use it through useExamplesWorkbench; the first-Run-Calc
 * bench calls it directly.
 */
async function startExamplesWorkbench(prefix, options = {}, session = {}) {
  assert.ok(
    fs.existsSync(path.join(H.ROOT, "dist", "extension.js")) &&
      fs.existsSync(path.join(H.ROOT, "dist-test", "vscode", "extension.test.js")),
    "run `npm run build` first",
  );
  session.stop = async () => {
    await session.br?.close();
    await session.cs?.stop();
    if (session.work) H.removeTempDir(session.work);
  };
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
  return session;
}

/** startExamplesWorkbench as before/after hooks; the returned object is filled in once `before` has run. */
function useExamplesWorkbench(prefix, options = {}) {
  const session = { work: undefined, ws: undefined, cs: undefined, br: undefined, vsix: undefined };
  before(() => startExamplesWorkbench(prefix, options, session));
  after(() => session.stop?.());
  return session;
}

/** The UzonCalc output channel's lines so far, from every window's log (activation, sandbox start, run timings). */
function extensionLog(session) {
  const found = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/UzonCalc\.log$/.test(entry.name)) found.push(full);
    }
  };
  walk(path.join(session.cs.userDataDir, "logs"));
  return found.flatMap((file) => fs.readFileSync(file, "utf8").split("\n").filter(Boolean));
}

/**
 * A first run's timings from its log lines (client/runPanel.ts writes them): when its first window was painted and
 * when the command was called (ms since the epoch, the extension's and the webview's clocks), the sandbox's first
 * answer (ms after the command) and when code-server started the webview's document (ms after the panel was made).
 * undefined until the first window's line is there.
 */
function firstRunTimings(lines) {
  const painted = lines.map((line) => / on screen (\d+) ms after the run was asked for, at (\S+Z)(?: \(|$)/.exec(line)).find(Boolean);
  if (!painted) return undefined;
  const number = (pattern) => {
    const found = lines.map((line) => pattern.exec(line)).find(Boolean);
    return found ? Number(found[1]) : undefined;
  };
  const paintedAt = Date.parse(painted[2]);
  return {
    paintedAt,
    commandAt: paintedAt - Number(painted[1]),
    firstAnswerMs: number(/: first answer in (\d+) ms/),
    documentStartedMs: number(/webview ready \d+ ms after it was created \(document started after (\d+) ms/),
  };
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

module.exports = { startExamplesWorkbench, useExamplesWorkbench, extensionLog, firstRunTimings, extensionVsix, openSheet };
