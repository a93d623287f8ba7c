// A waiting run survives "Developer: Reload Window" (issue 14 item 6), in code-server with the packaged .vsix:
// the run panel comes back with the report so far, the waiting form and the value typed into it, and Continue
// carries the run on, in local mode (replayed in the new window's sandbox child) and in remote mode (the same
// session on `uzoncalc serve`). A sheet changed while the window reloaded is said so, with Run Again offered.
"use strict";
const { describe, test, before, after } = require("node:test");
const assert = require("node:assert");
const fs = require("node:fs");
const { spawn } = require("node:child_process");
const path = require("node:path");
const H = require("./harness");
const { useExamplesWorkbench, openSheet } = require("./workspace");

/**
 * "Developer: Reload Window", waited for: the page navigates and loads again (flake fix: looking for the panel
 * before that finds the old page's frame, which is then detached), and the new workbench is up.
 */
async function reloadWindow(page) {
  const loaded = page.waitForEvent("load", { timeout: 60000 });
  await H.runCommand(page, "Developer: Reload Window");
  await loaded;
  await page.locator(".monaco-workbench .part.statusbar").waitFor({ timeout: 60000 });
}

/** Run the beam to its first window, type a span without submitting, reload the window, and find the panel again. */
async function runTypeAndReload(page, session, name) {
  await openSheet(page, session, "beam.calc.ts");
  await H.runCommand(page, "UzonCalc: Run Calc");
  let frame = await H.webviewFrameWith(page, '[data-form] [data-field="span"]', 60000);
  await frame.locator('[data-field="span"] input').fill("6.4");
  // The webview keeps typed values in its state as they change; give it a moment to save them.
  await page.waitForTimeout(500);
  await H.shot(page, `${name}-1-typed`);
  await reloadWindow(page);
  frame = await H.webviewFrameWith(page, '[data-form] [data-field="span"]', 60000);
  await frame.locator('.uzc-state[data-state="waiting"]').waitFor({ timeout: 30000 });
  await H.shot(page, `${name}-2-restored`);
  return frame;
}

async function continueToNextWindow(frame) {
  assert.match(await frame.locator("[data-report]").innerText(), /\S/, "the report so far is back");
  assert.strictEqual(await frame.locator('[data-field="span"] input').inputValue(), "6.4", "the typed value is back");
  await frame.locator('[data-field="b"] input').press("Enter");
  await frame.locator('[data-form] [data-field="g"]').waitFor({ timeout: 30000 });
  assert.match(await frame.locator("[data-report]").innerText(), /Span L\s+6\.4 m/);
}

describe("a waiting run survives a window reload: local sandbox", () => {
  const session = useExamplesWorkbench("reload-local-", { installed: true, settings: { "files.autoSave": "off" } });

  test("the panel comes back with the report, the form and the typed value; Continue replays it in the new child", () =>
    session.br.withPage("reload-local", async (page) => {
      const frame = await runTypeAndReload(page, session, "reload-local");
      await continueToNextWindow(frame);
      await H.shot(page, "reload-local-3-continued");
    }));

  test("a sheet changed while the window reloaded: the panel says the run cannot go on and offers Run Again", () =>
    session.br.withPage("reload-changed", async (page) => {
      const frame = await runTypeAndReload(page, session, "reload-changed");
      // Changed on disk after the reload: the replay in the new child must refuse to mix it with the old run.
      const sheet = path.join(session.ws, "beam.calc.ts");
      fs.writeFileSync(sheet, fs.readFileSync(sheet, "utf8").replace("Simply supported beam", "Simply supported beam (revised)"));
      await frame.locator('[data-field="b"] input').press("Enter");
      await frame.locator('.uzc-state[data-state="error"]').waitFor({ timeout: 30000 });
      assert.match(await frame.locator(".uzc-state").innerText(), /could not be continued after the window reloaded/);
      const toast = await H.waitForNotification(page, "could not be continued", 20000);
      await H.shot(page, "reload-changed-3-refused");
      assert.ok(await toast.locator(".monaco-button", { hasText: "Run Again" }).isVisible());
    }));
});

describe("a waiting run survives a window reload: remote sandbox", () => {
  const service = { url: undefined, port: undefined, proc: undefined, output: "" };
  /** `uzoncalc serve` with sessions in its memory (the default store): a restart loses them. */
  async function startService() {
    service.proc = spawn(
      process.execPath,
      [path.join(H.ROOT, "dist", "cli.js"), "serve", "--host", "127.0.0.1", "--port", String(service.port)],
      {
        env: { ...process.env, UZONCALC_TOKEN: "", LOG_LEVEL: "info" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    service.proc.stdout.on("data", (d) => (service.output += d));
    service.proc.stderr.on("data", (d) => (service.output += d));
    await H.waitFor(async () => (await fetch(`${service.url}/sandbox/health`).catch(() => undefined))?.ok, 30000, "uzoncalc serve");
  }
  before(async () => {
    service.port = await H.freePort();
    service.url = `http://127.0.0.1:${service.port}`;
    await startService();
  });
  after(() => service.proc?.kill());

  const session = useExamplesWorkbench("reload-remote-", {
    installed: true,
    settings: () => ({ "files.autoSave": "off", "uzoncalc.sandbox.mode": "remote", "uzoncalc.sandbox.remoteUrl": service.url }),
  });

  test("the panel comes back and Continue goes on with the same session on the service", () =>
    session.br.withPage("reload-remote", async (page) => {
      const frame = await runTypeAndReload(page, session, "reload-remote");
      const before = await (await fetch(`${service.url}/sandbox/sessions`)).json();
      assert.strictEqual(before.sessions.filter((s) => s.status === "waiting_ui").length, 1);
      await continueToNextWindow(frame);
      const after = await (await fetch(`${service.url}/sandbox/sessions`)).json();
      assert.strictEqual(after.sessions.length, 1, "the same session went on: no new one was started");
      assert.strictEqual(after.sessions[0].ui_steps, 2);
      await H.shot(page, "reload-remote-3-continued");
    }));

  test("the service lost the run meanwhile: Continue runs the sheet again with the saved answers and goes on", () =>
    session.br.withPage("reload-remote-lost", async (page) => {
      await openSheet(page, session, "beam.calc.ts");
      await H.runCommand(page, "UzonCalc: Run Calc");
      let frame = await H.webviewFrameWith(page, '[data-form] [data-field="span"]', 60000);
      await frame.locator('[data-field="span"] input').fill("5.5");
      await frame.locator('[data-field="b"] input').press("Enter");
      frame = await H.webviewFrameWith(page, '[data-form] [data-field="g"]', 30000);
      await frame.locator('[data-field="g"] input').fill("2.5");
      await page.waitForTimeout(500);
      // The team's service restarts while the window reloads: the run's session is gone from its memory.
      const restarted = (async () => {
        service.proc.kill("SIGKILL");
        await new Promise((resolve) => service.proc.once("exit", resolve));
        await startService();
      })();
      await reloadWindow(page);
      await restarted;
      frame = await H.webviewFrameWith(page, '[data-form] [data-field="g"]', 60000);
      await frame.locator('.uzc-state[data-state="waiting"]').waitFor({ timeout: 30000 });
      assert.strictEqual(await frame.locator('[data-field="g"] input').inputValue(), "2.5");
      await frame.locator('[data-field="q"] input').press("Enter");
      await frame.locator('[data-form] [data-field="limit"]').waitFor({ timeout: 30000 });
      const report = await frame.locator("[data-report]").innerText();
      assert.match(report, /Span L\s+5\.5 m/, "the first window's answer was replayed");
      const sessions = await (await fetch(`${service.url}/sandbox/sessions`)).json();
      assert.strictEqual(sessions.sessions.length, 1, "one new session on the restarted service");
      assert.strictEqual(sessions.sessions[0].ui_steps, 3);
      await H.shot(page, "reload-remote-lost-continued");
    }));
});
