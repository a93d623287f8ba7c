// Golden tests of the calculation report: each sheet in fixtures/report renders exactly the report beside it
// (NN-name.calc.ts → NN-name.html). Windows are answered with their defaults.
//
// UPDATE_GOLDENS=1 rewrites the expected files from the current output: read every diff before keeping it.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { InProcessEngine } from "../../engine/realmEngine";
import { Executor } from "../../session/executor";

const DIR = path.join(__dirname, "..", "fixtures", "report");
const UPDATE = process.env.UPDATE_GOLDENS === "1";

describe("report goldens: a sheet renders exactly its expected report", function () {
  let executor: Executor;

  before(() => {
    executor = new Executor({ safeDirs: [DIR], engine: new InProcessEngine({ stepTimeoutMs: 10_000 }) });
  });

  after(async () => {
    await executor.close();
  });

  const sheets = fs
    .readdirSync(DIR)
    .filter((name) => name.endsWith(".calc.ts"))
    .sort();

  it("has at least 40 golden sheets, each with its expected report", () => {
    assert.ok(sheets.length >= 40, `only ${sheets.length} sheets`);
    if (!UPDATE)
      for (const sheet of sheets)
        assert.ok(fs.existsSync(path.join(DIR, sheet.replace(/\.calc\.ts$/, ".html"))), `${sheet} has no expected report`);
  });

  for (const sheet of sheets) {
    it(sheet.replace(/\.calc\.ts$/, ""), async () => {
      let response = await executor.execute({ file_path: path.join(DIR, sheet) });
      for (let step = 0; step < 10 && response.status === "waiting_ui"; step++)
        response = await executor.resume({ session_id: response.session_id, user_input: {} });
      assert.equal(response.status, "completed", JSON.stringify(response.error));
      const expectedFile = path.join(DIR, sheet.replace(/\.calc\.ts$/, ".html"));
      if (UPDATE) fs.writeFileSync(expectedFile, response.html!);
      assert.equal(response.html, fs.readFileSync(expectedFile, "utf8"));
    });
  }
});
