// The extension's in-host mocha suite (test/vscode, built into dist-test/vscode) inside code-server's real
// extension host, with the extension loaded from this repository and a copy of examples/ as the workspace.
//   npm run build && bash test/e2e/install.sh && node --test --test-concurrency=1 test/e2e/inhost.test.js
"use strict";
const { describe, test } = require("node:test");
const assert = require("node:assert");
const path = require("node:path");
const H = require("./harness");
const { useExamplesWorkbench } = require("./workspace");

describe("UzonCalc in-host suite (code-server extension host)", () => {
  const session = useExamplesWorkbench("inhost-");

  test("every in-host test passes", () =>
    session.br.withPage("uzoncalc-inhost", async (page) => {
      const r = await H.runMochaInHost(page, {
        devPath: H.ROOT,
        folder: session.ws,
        files: [path.join(H.ROOT, "dist-test", "vscode")],
        ui: "bdd",
        testTimeout: 60000,
      });
      assert.strictEqual(r.loadError, undefined, r.loadError);
      assert.deepStrictEqual(
        { code: r.code, failures: r.failures },
        { code: 0, failures: 0 },
        (r.failed || []).map((f) => `${f.title}: ${f.error || ""}`).join("\n") + "\n" + r.lines.slice(-30).join("\n"),
      );
      assert.ok(r.passes >= 4, `passes: ${r.passes}`);
      console.log(`in-host: ${r.passes} passed, ${r.failures} failed`);
    }));
});
