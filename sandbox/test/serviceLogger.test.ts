import assert from "node:assert/strict";
import * as path from "node:path";
import { ROOT, spawnAndCollect } from "./support/childProcess";

/** A child process that logs through the services' logger and exits at once, as `process.exit` after a stop does. */
const LOGGING_CHILD = `
const { serviceLogger } = require(${JSON.stringify(path.join(ROOT, "sandbox", "service", "jsonServer.ts"))});
const logger = serviceLogger("uzoncalc-test");
for (let i = 0; i < Number(process.env.LINES); i++) logger.info({ i, route: "resume", text: "é–".repeat(i % 7) }, "request");
if (process.env.FLUSHED === "1") logger.flush(() => process.exit(0));
else process.exit(0);
`;

async function logged(lines: number, flushed = false): Promise<{ i: number; text: string }[]> {
  const result = await spawnAndCollect(process.execPath, ["--require", "tsx/cjs", "-e", LOGGING_CHILD], {
    env: { LINES: String(lines), FLUSHED: flushed ? "1" : "0", LOG_LEVEL: "info" },
  });
  assert.equal(result.code, 0, result.stderr);
  return result.stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { i: number; text: string });
}

describe("the services' request log (jsonServer.ts serviceLogger)", () => {
  it("writes every line whole and in order: batches of them, and what is still gathered when the process exits", async () => {
    for (const lines of [3, 2_000]) {
      const entries = await logged(lines);
      assert.deepEqual(
        entries.map((entry) => entry.i),
        Array.from({ length: lines }, (_, i) => i),
        `${lines} lines`,
      );
      assert.ok(
        entries.every((entry) => entry.text === "é–".repeat(entry.i % 7)),
        "two-byte text kept whole",
      );
    }
  });

  it("writes what is gathered when the logger is flushed (a line a reader waits for)", async () => {
    assert.equal((await logged(5, true)).length, 5);
  });
});
