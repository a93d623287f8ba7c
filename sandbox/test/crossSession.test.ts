// The cross-session battery (issue 15): sessions share one member realm (runtime/realm.ts), so a session that
// writes to every global, intrinsic and prototype it can reach, and forges calls to the realm's drivers, must
// leave nothing another session can see; and many sessions interleaved in one realm each compute exactly what
// they compute alone (same clock, same random sequence, byte-identical report).

import assert from "node:assert/strict";
import * as path from "node:path";
import { InProcessEngine, type SheetCode } from "../engine/realmEngine";
import { SafeDirs } from "../loader/safeDirs";
import { SheetLoader } from "../loader/sheetLoader";
import type { RealmInit, RealmOutcome } from "../runtime/abi";

const CROSS = path.join(__dirname, "fixtures", "cross");
const EXAMPLES = path.join(__dirname, "..", "..", "examples");

async function load(loader: SheetLoader, file: string): Promise<SheetCode> {
  const result = await loader.loadFile(file);
  assert.ok(result.ok, JSON.stringify(!result.ok && result.error));
  return { hash: result.sheet.hash, code: result.sheet.code, scriptName: result.sheet.scriptName };
}

interface Fingerprint {
  hash: string;
  objects: number;
  marks: string[];
  state: Record<string, unknown>;
}

function value<T>(outcome: RealmOutcome | { kind: "lost" }): T {
  assert.equal(outcome.kind, "done", JSON.stringify(outcome));
  return (outcome as { value: T }).value;
}

describe("sessions sharing a member realm (issue 15 item 2)", function () {
  this.timeout(120_000);
  const loader = new SheetLoader({ safeDirs: new SafeDirs([CROSS, EXAMPLES]) });
  const init: RealmInit = { seed: 1234, now: Date.UTC(2026, 11, 6, 9, 30) };
  const start = { filename: "sheet.calc.ts" };

  it("a session that writes to everything it can reach changes nothing another session sees", async () => {
    const observer = await load(loader, path.join(CROSS, "observer.calc.ts"));
    const writer = await load(loader, path.join(CROSS, "writer.calc.ts"));

    // Alone, in a realm of its own.
    const alone = new InProcessEngine({ stepTimeoutMs: 60_000 });
    assert.equal((await alone.open("o", observer, init, start)).kind, "ui");
    const baseline = value<{ before: Fingerprint; after: Fingerprint }>(await alone.resume("o", {}));
    await alone.close();
    assert.ok(baseline.before.objects > 500, `the walk reached only ${baseline.before.objects} objects`);
    assert.deepEqual(baseline.before.marks, []);

    // Beside the writer: its first round before the observer starts, its second while the observer is paused.
    const shared = new InProcessEngine({ stepTimeoutMs: 60_000 });
    assert.equal((await shared.open("w", writer, init, start)).kind, "ui");
    assert.equal((await shared.open("o", observer, init, start)).kind, "ui");
    const written = value<{ attempts: number; took: string[] }>(await shared.resume("w", {}));
    const seen = value<{ before: Fingerprint; after: Fingerprint }>(await shared.resume("o", {}));
    assert.equal(shared.memberRealmsMade, 1, "both sessions ran in one member realm");
    await shared.close();

    assert.ok(written.attempts > 10_000, `the writer tried only ${written.attempts} changes`);
    assert.deepEqual(written.took, [], "changes to shared objects took");
    for (const phase of ["before", "after"] as const) {
      assert.deepEqual(seen[phase].marks, [], `${phase}: the writer's marks are visible`);
      assert.equal(seen[phase].hash, baseline[phase].hash, `${phase}: what the observer reaches differs from a realm of its own`);
      assert.equal(seen[phase].objects, baseline[phase].objects);
      assert.deepEqual(seen[phase].state, baseline[phase].state, `${phase}: per-realm state differs`);
    }
    assert.deepEqual(seen.before.state.regexpStatics, ["undefined", "undefined", "undefined", "undefined", "undefined"]);
    assert.equal(seen.before.state.leaked, "undefined");
  });

  it("forged driver calls from a session reach no other session", async () => {
    const writer = await load(loader, path.join(CROSS, "writer.calc.ts"));
    const beam = await load(loader, path.join(EXAMPLES, "beam.calc.ts"));
    const engine = new InProcessEngine({ stepTimeoutMs: 60_000 });
    const first = await engine.open("beam", beam, init, { filename: "beam.calc.ts" });
    assert.equal(first.kind, "ui");
    // Sessions 1 and 2 of the realm exist; the writer calls resume, cancel and drop on numbers 0–49 with forged calls.
    assert.equal((await engine.open("w", writer, init, start)).kind, "ui");
    assert.equal((await engine.resume("w", {})).kind, "done");
    const next = await engine.resume("beam", { span: 6, b: 100, h: 300 });
    assert.equal(next.kind, "ui", JSON.stringify(next));
    await engine.close();
  });

  it("a step stopped by the time limit leaves no job of its own to run in another session's step", async () => {
    const spinner = await load(loader, path.join(CROSS, "spin-then-loop.calc.ts"));
    const beam = await load(loader, path.join(EXAMPLES, "beam.calc.ts"));
    const engine = new InProcessEngine({ stepTimeoutMs: 300 });
    assert.equal((await engine.open("beam", beam, init, { filename: "beam.calc.ts" })).kind, "ui");
    assert.equal((await engine.open("spin", spinner, init, start)).kind, "ui");
    const stopped = await engine.resume("spin", {});
    assert.equal(stopped.kind, "error");
    assert.equal((stopped as { error: { limit?: string } }).error.limit, "time");
    const started = performance.now();
    const next = await engine.resume("beam", { span: 6, b: 100, h: 300 });
    assert.equal(next.kind === "lost" || next.kind === "ui", true, JSON.stringify(next));
    assert.ok(performance.now() - started < 250, "the bystander's step ran the stopped sheet's chain");
    await engine.close();
  });

  it("fifty sessions interleaved in one realm each give the report, clock and random numbers they give alone", async () => {
    const beam = await load(loader, path.join(EXAMPLES, "beam.calc.ts"));
    const observer = await load(loader, path.join(CROSS, "observer.calc.ts"));
    const alone = new Map<number, string[]>();
    for (const seed of [1, 2, 3, 4, 5]) {
      const engine = new InProcessEngine({ stepTimeoutMs: 60_000 });
      const steps: string[] = [];
      let outcome: RealmOutcome | { kind: "lost" } = await engine.open("s", beam, { ...init, seed }, { filename: "beam.calc.ts" });
      steps.push(JSON.stringify(outcome));
      while (outcome.kind === "ui") {
        outcome = await engine.resume("s", {});
        steps.push(JSON.stringify(outcome));
      }
      const watcher = await engine.open("obs", observer, { ...init, seed }, start);
      steps.push(JSON.stringify(watcher), JSON.stringify(await engine.resume("obs", {})));
      alone.set(seed, steps);
      await engine.close();
    }

    const engine = new InProcessEngine({ stepTimeoutMs: 60_000 });
    const sessions = Array.from({ length: 50 }, (_, i) => ({
      id: `s${i}`,
      seed: (i % 5) + 1,
      steps: [] as string[],
      state: "new" as string,
    }));
    // Round-robin: every session takes one step in turn, so each step runs right after some other session's.
    for (let round = 0; sessions.some((s) => s.state !== "over"); round++) {
      for (const session of sessions) {
        if (session.state === "over") continue;
        let outcome: RealmOutcome | { kind: "lost" };
        if (session.state === "new")
          outcome = await engine.open(session.id, beam, { ...init, seed: session.seed }, { filename: "beam.calc.ts" });
        else if (session.state === "beam") outcome = await engine.resume(session.id, {});
        else if (session.state === "obs-new") outcome = await engine.open(session.id, observer, { ...init, seed: session.seed }, start);
        else outcome = await engine.resume(session.id, {});
        session.steps.push(JSON.stringify(outcome));
        if (outcome.kind === "ui") session.state = session.state === "new" ? "beam" : session.state === "obs-new" ? "obs" : session.state;
        else session.state = session.state === "new" || session.state === "beam" ? "obs-new" : "over";
      }
      assert.ok(round < 20, "the sessions did not finish");
    }
    assert.equal(engine.memberRealmsMade, 1);
    await engine.close();
    for (const session of sessions) assert.deepEqual(session.steps, alone.get(session.seed), `${session.id} differs from its run alone`);
  });
});
