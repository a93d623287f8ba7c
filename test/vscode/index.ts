// The in-host suite in the standard form: VS Code (test-electron) or code-server (the project's E2E harness)
// loads this module as extensionTestsPath and awaits run().
import * as fs from "node:fs";
import * as path from "node:path";
import Mocha from "mocha";

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: "bdd", color: false, timeout: 60_000 });
  for (const file of fs.readdirSync(__dirname).filter((f) => f.endsWith(".test.js"))) mocha.addFile(path.join(__dirname, file));
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} in-host test(s) failed`)) : resolve()));
  });
}
