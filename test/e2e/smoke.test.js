// Proves the E2E harness on this machine with a tiny extension written at run time into $E2E_HOME/t/.
//   bash test/e2e/install.sh && node --test --test-concurrency=1 test/e2e/smoke.test.js
// One code-server and one Chromium for the file; each test gets a fresh browser context (a fresh window, and so a
// fresh extension host).
"use strict";
const { describe, test, before, after } = require("node:test");
const assert = require("node:assert");
const fs = require("node:fs");
const path = require("node:path");
const H = require("./harness");

const TITLE = "E2E Smoke: Open Panel";

// The extension: one palette command opening a webview with a button; a click goes to the extension host,
// which shows a notification and answers the webview.
const EXTENSION = {
  "package.json": JSON.stringify(
    {
      name: "e2e-smoke",
      displayName: "E2E smoke",
      publisher: "uzoncalc-e2e",
      version: "0.0.1",
      private: true,
      engines: { vscode: "^1.91.0" },
      main: "./extension.js",
      activationEvents: [],
      contributes: { commands: [{ command: "e2eSmoke.open", title: TITLE }] },
    },
    null,
    2,
  ),
  ".vscodeignore": "test/**\ntest-fail/**\n",
  "extension.js": `const vscode = require('vscode');
exports.activate = (context) => {
  context.subscriptions.push(vscode.commands.registerCommand('e2eSmoke.open', () => {
    const panel = vscode.window.createWebviewPanel('e2eSmoke', 'E2E Smoke', vscode.ViewColumn.One, { enableScripts: true });
    const nonce = Math.random().toString(36).slice(2);
    panel.webview.html = \`<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'nonce-\${nonce}';">
</head><body><button id="ping">Ping the extension host</button> <span id="reply"></span>
<script nonce="\${nonce}">
  const api = acquireVsCodeApi();
  document.getElementById('ping').addEventListener('click', () => api.postMessage({ type: 'ping' }));
  window.addEventListener('message', (e) => { document.getElementById('reply').textContent = e.data.reply; });
</script></body></html>\`;
    panel.webview.onDidReceiveMessage((m) => {
      if (m.type !== 'ping') return;
      vscode.window.showInformationMessage('E2E smoke: button clicked');
      panel.webview.postMessage({ reply: 'pong from node ' + process.version });
    });
  }));
};
`,
  // In-host mocha spec (tdd ui), run by H.runMochaInHost inside the real extension host.
  "test/panel.test.js": `const assert = require('assert');
const vscode = require('vscode');
const tabLabels = () => vscode.window.tabGroups.all.flatMap((g) => g.tabs.map((t) => t.label));
suite('e2e smoke, in the extension host', () => {
  test('runs in the web build and the command opens the panel', async () => {
    assert.strictEqual(vscode.env.uiKind, vscode.UIKind.Web);
    assert.strictEqual(process.versions.electron, undefined); // plain node, not Electron
    await vscode.commands.executeCommand('e2eSmoke.open');
    for (let i = 0; i < 100 && !tabLabels().includes('E2E Smoke'); i++) await new Promise((r) => setTimeout(r, 100)); // tabs appear asynchronously
    assert.ok(tabLabels().includes('E2E Smoke'), 'tabs: ' + tabLabels());
  });
});
`,
  // A deliberately failing spec, to prove failures are counted and not swallowed.
  "test-fail/fails.test.js": `const assert = require('assert');
suite('deliberate failure', () => {
  test('passes', () => assert.ok(true));
  test('fails', () => assert.strictEqual(1, 2));
});
`,
};

describe("E2E harness smoke", () => {
  let work, ext, ws, cs, br;
  before(async () => {
    work = H.tempDir("smoke-");
    ext = path.join(work, "ext");
    for (const [name, text] of Object.entries(EXTENSION)) {
      fs.mkdirSync(path.dirname(path.join(ext, name)), { recursive: true });
      fs.writeFileSync(path.join(ext, name), text);
    }
    ws = path.join(work, "ws");
    fs.mkdirSync(ws);
    fs.writeFileSync(path.join(ws, "hello.txt"), "hello from the E2E smoke test\n");
    // The installed-vsix route here; the in-host tests below use the from-source (devPath) route.
    cs = await H.startCodeServer({ vsix: H.packageVsix(ext, path.join(work, "e2e-smoke.vsix")) });
    br = await H.launchBrowser({ baseURL: cs.url });
  });
  after(async () => {
    await br?.close();
    await cs?.stop();
    if (work) H.removeTempDir(work);
  });

  test("palette command -> webview -> click -> notification and reply; screenshot", () =>
    br.withPage("smoke-webview", async (page) => {
      await H.openWorkbench(page, ws);
      await H.runCommand(page, TITLE);
      const frame = await H.webviewFrameWith(page, "#ping");
      await frame.click("#ping");
      await H.waitForNotification(page, "E2E smoke: button clicked");
      await frame.locator("#reply", { hasText: `pong from node ${process.version}` }).waitFor({ timeout: 15000 });
      const file = await H.shot(page, "smoke-webview");
      assert.ok(file && fs.statSync(file).size > 10000, `screenshot ${file}`);
    }));

  test("in-host mocha suite passes inside the real extension host", () =>
    br.withPage("smoke-inhost", async (page) => {
      const r = await H.runMochaInHost(page, { devPath: ext, folder: ws, files: [path.join(ext, "test")] });
      assert.deepStrictEqual(
        { code: r.code, passes: r.passes, failures: r.failures },
        { code: 0, passes: 1, failures: 0 },
        r.loadError || r.lines.slice(-20).join("\n"),
      );
    }));

  test("in-host mocha failures are counted", () =>
    br.withPage("smoke-inhost-fail", async (page) => {
      const r = await H.runMochaInHost(page, { devPath: ext, folder: ws, files: [path.join(ext, "test-fail")], echo: false });
      assert.deepStrictEqual(
        { code: r.code, passes: r.passes, failures: r.failures },
        { code: 1, passes: 1, failures: 1 },
        r.loadError || r.lines.slice(-20).join("\n"),
      );
      assert.match(r.failed[0].title, /deliberate failure fails/);
    }));
});
