// `npm run test:vscode`: the same in-host suite under @vscode/test-electron, on machines that can download
// VS Code (this one cannot: here the suite runs inside code-server, see test/e2e/inhost.test.js).
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
let runTests;
try {
  ({ runTests } = await import("@vscode/test-electron"));
} catch {
  console.error("npm run test:vscode needs @vscode/test-electron: npm install --no-save @vscode/test-electron");
  process.exit(1);
}
await runTests({
  extensionDevelopmentPath: root,
  extensionTestsPath: path.join(root, "dist-test", "vscode", "index.js"),
  launchArgs: [path.join(root, "examples"), "--disable-extensions"],
});
