// The run panel as a user drives it, in code-server with the extension loaded from this repository:
// palette → Run Calc → the form → a refused value shown beside its field → the next window → cancel.
// Screenshots of each step go to $E2E_HOME/shots (artifacts).
'use strict';
const { describe, test } = require('node:test');
const assert = require('node:assert');
const H = require('./harness');
const { useExamplesWorkbench } = require('./workspace');

describe('UzonCalc run panel (code-server, driven through the webview)', () => {
  const session = useExamplesWorkbench('panel-');

  test('Run Calc from the palette: form, refused value, next window, report, cancel', () => session.br.withPage('panel-run', async (page) => {
    await H.openWorkbench(page, session.ws, { devPath: H.ROOT });
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'beam.calc.ts' }).click();
    const editor = page.locator('.monaco-editor .view-lines', { hasText: 'Simply supported beam' });
    await editor.waitFor({ timeout: 30000 });
    // The palette offers Run Calc for the active sheet editor: focus it (a click in the explorer leaves focus there).
    await editor.click();
    await page.locator('.monaco-editor.focused').waitFor({ timeout: 10000 });
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
