// The run panel as a user drives it, in code-server with the extension loaded from this repository:
// palette → Run Calc → the form → a refused value shown beside its field → the next window → cancel.
// Screenshots of each step go to $E2E_HOME/shots (artifacts).
'use strict';
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const H = require('./harness');

describe('UzonCalc run panel (code-server, driven through the webview)', () => {
  let work, ws, cs, br;
  before(async () => {
    assert.ok(fs.existsSync(path.join(H.ROOT, 'dist', 'extension.js')), 'run `npm run build` first');
    work = H.tempDir('panel-');
    ws = path.join(work, 'examples');
    fs.cpSync(path.join(H.ROOT, 'examples'), ws, { recursive: true });
    cs = await H.startCodeServer();
    br = await H.launchBrowser({ baseURL: cs.url });
  });
  after(async () => {
    await br?.close();
    await cs?.stop();
    if (work) H.removeTempDir(work);
  });

  test('Run Calc from the palette: form, refused value, next window, report, cancel', () => br.withPage('panel-run', async (page) => {
    await H.openWorkbench(page, ws, { devPath: H.ROOT });
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'beam.calc.ts' }).click();
    await page.locator('.monaco-editor .view-lines', { hasText: 'Simply supported beam' }).waitFor({ timeout: 30000 });
    const started = Date.now();
    await H.runCommand(page, 'UzonCalc: Run Calc');
    const frame = await H.webviewFrameWith(page, '[data-form] [data-field="span"]', 60000);
    console.log(`Run Calc to form visible (cold: child, member and bundle start): ${Date.now() - started} ms`);
    await H.shot(page, 'panel-1-form');
    assert.match(await frame.locator('[data-report]').innerText(), /Simply supported beam/);

    const span = frame.locator('[data-field="span"] input');
    await span.fill('100');
    await frame.locator('[data-error="span"]', { hasText: 'at most 40 m' }).waitFor({ timeout: 10000 });
    await H.shot(page, 'panel-2-refused');

    await span.fill('7.2');
    await frame.locator('[data-field="b"] input').fill('120 mm');
    await frame.locator('[data-action="submit"]').click();
    await frame.locator('[data-field="g"]').waitFor({ timeout: 20000 });
    const report = await frame.locator('[data-report]').innerText();
    assert.match(report, /Span L\s+7\.2 m/);
    assert.match(report, /Width b\s+120 mm/, '120 mm typed into a field in mm');
    await H.shot(page, 'panel-3-second-window');

    await frame.locator('[data-action="cancel"]').click();
    await frame.locator('.uzc-state[data-state="cancelled"]').waitFor({ timeout: 10000 });
    assert.strictEqual(await frame.locator('[data-form]').isHidden(), true, 'no form after cancel');
    await H.shot(page, 'panel-4-cancelled');

    // Run again from the panel: a warm run reaches the form quickly.
    const again = Date.now();
    await frame.locator('header [data-action="rerun"]').click();
    await frame.locator('[data-form] [data-field="span"]').waitFor({ timeout: 20000 });
    console.log(`Run again to form visible (warm): ${Date.now() - again} ms`);
  }));
});
