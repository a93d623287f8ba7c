// Remote mode as a new user meets it: a team sandbox (`uzoncalc serve`, started here with a token) and a user with
// nothing set. Choosing Remote from the status item asks for the URL, checks the service's health there, asks for
// the token when the service answers 401, and only then switches: the first Run Calc goes through the team's
// service (issue 16 item 7; before, each of these was found by a failed run).
"use strict";
const { describe, test, before, after } = require("node:test");
const assert = require("node:assert");
const { spawn } = require("node:child_process");
const path = require("node:path");
const H = require("./harness");
const { useExamplesWorkbench, openSheet } = require("./workspace");

const TOKEN = "e2e-team-token-7f3a";

describe("UzonCalc remote sandbox (code-server, packaged extension, `uzoncalc serve` with a token)", () => {
  const service = { url: undefined, proc: undefined, output: "" };
  before(async () => {
    const port = await H.freePort();
    service.url = `http://127.0.0.1:${port}`;
    service.proc = spawn(process.execPath, [path.join(H.ROOT, "dist", "cli.js"), "serve", "--host", "127.0.0.1", "--port", String(port)], {
      env: { ...process.env, UZONCALC_TOKEN: TOKEN, LOG_LEVEL: "info" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    service.proc.stdout.on("data", (d) => (service.output += d));
    service.proc.stderr.on("data", (d) => (service.output += d));
    await H.waitFor(
      async () => (await fetch(`${service.url}/sandbox/health`).catch(() => undefined))?.ok,
      30000,
      "uzoncalc serve to answer /sandbox/health",
    );
  });
  after(() => service.proc?.kill());

  const session = useExamplesWorkbench("remote-", { installed: true });

  test("choose remote from the status item: asked the URL, then the token, then the first run goes through the service", () =>
    session.br.withPage("remote-run", async (page) => {
      await openSheet(page, session, "beam.calc.ts");
      // The status item says where sheets run; clicking it switches.
      const status = page.locator(".statusbar-item", { hasText: "UzonCalc local" });
      await status.waitFor({ timeout: 20000 });
      await status.click();
      await page.locator(".quick-input-widget .monaco-list-row", { hasText: "Remote" }).click();

      // No URL set: asked for it.
      const input = page.locator(".quick-input-widget input.input");
      await page.locator(".quick-input-widget", { hasText: "remote sandbox URL" }).waitFor({ timeout: 10000 });
      await page.keyboard.type(service.url);
      await page.keyboard.press("Enter");
      // The service is healthy and wants a token: asked for it, in a password box.
      await page.locator(".quick-input-widget", { hasText: "asks for a token" }).waitFor({ timeout: 15000 });
      assert.strictEqual(await input.getAttribute("type"), "password", "the token is typed into a password box");
      await H.shot(page, "remote-1-asked-token");
      await page.keyboard.type(TOKEN);
      await page.keyboard.press("Enter");
      await page.locator(".statusbar-item", { hasText: "UzonCalc remote" }).waitFor({ timeout: 15000 });
      await H.shot(page, "remote-2-switched");

      // The first run goes through the team's service.
      await page.locator(".monaco-editor .view-lines").first().click();
      await H.runCommand(page, "UzonCalc: Run Calc");
      const frame = await H.webviewFrameWith(page, '[data-form] [data-field="span"]', 30000);
      const sessions = await (await fetch(`${service.url}/sandbox/sessions`, { headers: { authorization: `Bearer ${TOKEN}` } })).json();
      assert.ok(
        sessions.sessions.some((s) => s.status === "waiting_ui"),
        `the service holds the waiting session: ${JSON.stringify(sessions)}`,
      );
      await frame.locator('[data-field="span"] input').fill("7.2");
      await frame.locator('[data-field="b"] input').press("Enter");
      await frame.locator('[data-form] [data-field="g"]').waitFor({ timeout: 20000 });
      assert.match(await frame.locator("[data-report]").innerText(), /Span L\s+7\.2 m/);
      await H.shot(page, "remote-3-running-remotely");
      await frame.locator('[data-action="cancel"]').click();
      await frame.locator('.uzc-state[data-state="cancelled"]').waitFor({ timeout: 10000 });
      const after = await (await fetch(`${service.url}/sandbox/sessions`, { headers: { authorization: `Bearer ${TOKEN}` } })).json();
      assert.ok(
        after.sessions.some((s) => s.status === "cancelled"),
        "cancel reached the service",
      );
    }));
});
