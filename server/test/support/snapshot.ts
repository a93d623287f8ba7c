// Golden files: committed expected text; a difference fails the test. UPDATE_SNAPSHOTS=1 rewrites them (then
// review the diff before committing).
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

export const UPDATING_SNAPSHOTS = process.env.UPDATE_SNAPSHOTS === "1";

export function matchSnapshot(file: string, actual: string): void {
  if (UPDATING_SNAPSHOTS) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, actual);
    return;
  }
  if (!fs.existsSync(file))
    assert.fail(`no snapshot ${path.relative(process.cwd(), file)}; create it with UPDATE_SNAPSHOTS=1 and review it`);
  assert.equal(
    actual,
    fs.readFileSync(file, "utf8"),
    `differs from ${path.relative(process.cwd(), file)} (UPDATE_SNAPSHOTS=1 rewrites it)`,
  );
}
