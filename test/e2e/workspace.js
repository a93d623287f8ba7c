// One code-server and one Chromium per test file, with a fresh copy of examples/ as the workspace.
'use strict';
const { before, after } = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const H = require('./harness');

/** Registers before/after hooks; the returned object is filled in once `before` has run. */
function useExamplesWorkbench(prefix) {
  const session = { work: undefined, ws: undefined, cs: undefined, br: undefined };
  before(async () => {
    assert.ok(fs.existsSync(path.join(H.ROOT, 'dist', 'extension.js')) && fs.existsSync(path.join(H.ROOT, 'dist-test', 'vscode', 'extension.test.js')), 'run `npm run build` first');
    session.work = H.tempDir(prefix);
    session.ws = path.join(session.work, 'examples');
    fs.cpSync(path.join(H.ROOT, 'examples'), session.ws, { recursive: true });
    session.cs = await H.startCodeServer();
    session.br = await H.launchBrowser({ baseURL: session.cs.url });
  });
  after(async () => {
    await session.br?.close();
    await session.cs?.stop();
    if (session.work) H.removeTempDir(session.work);
  });
  return session;
}

module.exports = { useExamplesWorkbench };
