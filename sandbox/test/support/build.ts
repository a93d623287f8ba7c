// Mocha root hook: the worker-pool tests start dist/sandbox-worker.js, so the build must be current.
import { execFileSync } from "node:child_process";
import * as path from "node:path";

export const mochaHooks = {
  beforeAll(this: Mocha.Context) {
    this.timeout(60_000);
    execFileSync(process.execPath, [path.join(__dirname, "..", "..", "..", "scripts", "build.mjs")], { stdio: "ignore" });
  },
};
