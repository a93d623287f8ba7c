// LocalSandboxClient against a real forked dist/sandbox.js: deltas, refusals, a child killed mid-session, a hung
// child, and shutting down without leaving processes behind.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as esbuild from "esbuild";
import type { ExecutionResponse } from "../../protocol/rpc";
import { LocalSandboxClient, type LocalSandboxOptions } from "../connect/localClient";
import { Refusal } from "../../protocol/refusal";
import { SandboxUnavailableError } from "../connect/sandboxClient";
import { childrenOf } from "./support/processes";

const ROOT = path.resolve(__dirname, "..", "..");
const FIXTURES = path.join(__dirname, "fixtures", "sheets");
const fixture = (name: string) => path.join(FIXTURES, name);
const RESTART_HINT = "Run the sheet again; the local sandbox was restarted.";

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    assert.equal((error as NodeJS.ErrnoException).code, "ESRCH");
    return false;
  }
}

async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await delay(10);
  }
}

/**
 * Whether a process still runs: not a zombie. An orphan that was killed stays a zombie until init reaps it, and
 * kill(pid, 0) still finds a zombie. (Linux /proc; elsewhere, kill(pid, 0).)
 */
function running(pid: number): boolean {
  if (process.platform !== "linux") return alive(pid);
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

async function rejectsWith<E extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => E): Promise<E> {
  try {
    await promise;
  } catch (error) {
    assert.ok(
      error instanceof type,
      `expected ${type.name}, got ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
    );
    return error;
  }
  assert.fail(`expected a ${type.name}`);
}

/** Joins what a run sent: the full `html` where a response has one, else its delta. */
function joinReport(responses: ExecutionResponse[]): string {
  let report = "";
  for (const response of responses) report = response.html !== undefined ? response.html : report + (response.html_delta ?? "");
  return report;
}

/**
 * A sheet with a seeded draw and the session clock in its report (so a replay must reproduce both), a window to
 * answer, and a step that spins until the step limit when asked to (a request to kill the child under).
 */
const SPIN_SHEET = `import { UI, Window, h1, p } from "uzoncalc";
export async function* sheet() {
  h1("Spinner");
  p(\`draw \${Math.random().toFixed(12)} at \${new Date().toISOString()}\`);
  const a = yield UI(Window({ title: "Amount", fields: [{ name: "n", type: "number", default: 1 }] }));
  p(\`n = \${a.n}\`);
  const b = yield UI(Window({ title: "Go", fields: [{ name: "spin", type: "boolean" }] }));
  if (b.spin) while (true) {}
  p(\`done, draw \${Math.random().toFixed(12)}\`);
  return a.n;
}
`;

describe("local sandbox client", function () {
  this.timeout(30_000);
  const clients: LocalSandboxClient[] = [];
  let tmp: string;
  const make = (options: Partial<LocalSandboxOptions> = {}) => {
    const lines: string[] = [];
    const client = new LocalSandboxClient({ safeDirs: [FIXTURES, tmp], stepTimeoutMs: 4_000, log: (line) => lines.push(line), ...options });
    clients.push(client);
    return { client, lines };
  };
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "uzc-local-"));
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("takes on a session another client left waiting (a window reload): replayed, same report; a changed sheet is refused", async () => {
    const file = path.join(tmp, "adopted.calc.ts");
    fs.writeFileSync(file, SPIN_SHEET);
    const { client: before } = make();
    const start = await before.execute({ file_path: file });
    const second = await before.resume({ session_id: start.session_id, user_input: { n: 3 } });
    const record = before.recordOf(start.session_id)!;
    assert.equal(record.input_log.length, 1);
    const report = joinReport([start, second]);
    await before.dispose();

    const { client: after, lines } = make();
    after.adopt(start.session_id, record, { window: second.ui!, uiSteps: second.ui_steps, report });
    const done = await after.resume({ session_id: start.session_id, user_input: { spin: false } });
    assert.equal(done.status, "completed");
    assert.equal(done.value, 3);
    assert.ok(
      done.result!.includes(report + done.html_delta!),
      "the adopted run's document holds what the first client was sent, then the new step",
    );
    assert.ok(lines.some((l) => l.startsWith(`restored session ${start.session_id}`)));

    fs.writeFileSync(file, SPIN_SHEET.replace('h1("Spinner")', 'h1("Spinner, revised")'));
    const { client: changed } = make();
    changed.adopt(start.session_id, record, { window: second.ui!, uiSteps: second.ui_steps, report });
    const refused = await rejectsWith(changed.resume({ session_id: start.session_id, user_input: { spin: false } }), Refusal);
    assert.match(refused.message, /changed since the run started/);
  });

  it("prepares a sheet ahead of its run (the editor's warm-up): the child starts and the bundle is cached; what it cannot bundle is false", async () => {
    const file = path.join(tmp, "prepared.calc.ts");
    fs.writeFileSync(file, SPIN_SHEET);
    const { client } = make();
    assert.equal(client.pid, undefined);
    assert.equal(await client.prepare(file), true);
    assert.ok(client.pid !== undefined, "the child was started by the warm-up");
    // The bundle is in the child's cache: invalidating it finds one entry (a run would have hit it).
    assert.match((await client.invalidateCache({ file_path: file })).message, /\(1 entry\)/);
    const broken = path.join(tmp, "broken.calc.ts");
    fs.writeFileSync(broken, "export async function* sheet( {\n");
    assert.equal(await client.prepare(broken), false, "a sheet that does not compile");
    assert.equal(await client.prepare(path.join(os.tmpdir(), "elsewhere.calc.ts")), false, "a file outside the safe folders");
    const run = await client.execute({ file_path: file });
    assert.equal(run.status, "waiting_ui");
  });

  it("runs a study in the child (the editor's Run Study): the cases, the study's files in the safe folder, nothing outside it", async () => {
    const sheet = path.join(tmp, "studied.calc.ts");
    fs.writeFileSync(
      sheet,
      'import { UI, Window, check } from "uzoncalc";\nexport async function* sheet() {\n  const g = yield UI(Window({ title: "Load", fields: [{ name: "q", type: "number", max: 10 }] }));\n  check(g.q <= 5, "q within 5");\n  return { double: g.q * 2 };\n}\n',
    );
    const cases = path.join(tmp, "studied.cases.csv");
    fs.writeFileSync(cases, "case,load.q\nlow,2\nhigh,8\nwrong,12\n");
    const { client } = make();
    const outputDir = path.join(tmp, "studied.study");
    const outcome = await client.study({ file_path: sheet, cases_path: cases, output_dir: outputDir, jobs: 2 }, 3);
    assert.equal(outcome.status, "failed", "one case has a value beyond its field's max");
    assert.equal(outcome.cases, 3);
    assert.equal(outcome.failed, 1);
    const csv = fs.readFileSync(outcome.csv!, "utf8");
    assert.match(csv, /^low,completed,2,4,/m);
    assert.match(csv, /^high,completed,8,16,/m);
    assert.match(csv, /^wrong,failed,12,/m);
    for (const name of ["low", "high", "wrong"]) assert.ok(fs.existsSync(path.join(outputDir, `${name}.report.html`)), name);
    const outside = await rejectsWith(
      client.study({ file_path: sheet, cases_path: cases, output_dir: path.join(os.tmpdir(), "elsewhere.study"), jobs: 1 }, 3),
      Refusal,
    );
    assert.equal(outside.code, "forbidden");
    assert.ok(!fs.existsSync(path.join(os.tmpdir(), "elsewhere.study")), "nothing written outside the safe folders");
  });

  it("runs a multi-window sheet through the child, with deltas that join to the full report", async () => {
    const { client } = make();
    const first = await client.execute({ file_path: fixture("three-windows.calc.ts") });
    assert.equal(first.status, "waiting_ui");
    assert.equal(first.ui?.id, "first-window");
    assert.equal(first.html, undefined, "execute asks for deltas by default");
    // The sheet's first statement, `const factor = params.factor ?? 1`, renders before its heading.
    assert.match(
      first.html_delta!,
      /^<div class="uzc-eq"><math displaystyle="true"><mi>factor<\/mi><mo>=<\/mo><mn>1<\/mn><\/math><\/div>\n<h1>Three windows<\/h1>\n<p>Started at /,
    );
    const second = await client.resume({ session_id: first.session_id, user_input: { x: 2 } });
    assert.equal(second.html, undefined, "resume asks for deltas by default");
    assert.equal(second.html_delta, "<p>x = 2</p>\n");
    const third = await client.resume({ session_id: first.session_id, user_input: { y: "250 cm" } });
    assert.equal(third.ui?.id, "third");
    assert.equal(third.html_delta, "<p>y = 2.5 m</p>\n");
    const done = await client.resume({ session_id: first.session_id, user_input: { label: "A&B" } });
    assert.equal(done.status, "completed");
    assert.deepEqual(done.value, { sum: 4.5, label: "A&B" });
    assert.equal(done.ui_steps, 3);
    assert.match(done.html_delta!, /^<p>label = A&amp;B; now \d+; draw 0\.\d+<\/p>\n$/);

    const joined = joinReport([first, second, third, done]);
    assert.ok(done.result!.startsWith("<!DOCTYPE html>"));
    assert.ok(done.result!.includes(joined), "the pieces joined are the report the document holds");
    assert.match(joined, /<h1>Three windows<\/h1>\n<p>Started at [^<]+<\/p>\n<p>x = 2<\/p>\n<p>y = 2\.5 m<\/p>\n<p>label = A&amp;B/);

    // An explicit html_mode is kept: the full report on request.
    const full = await client.execute({ file_path: fixture("three-windows.calc.ts"), html_mode: "full" });
    assert.equal(full.html_delta, undefined);
    assert.match(full.html!, /^<div class="uzc-eq">.*<\/div>\n<h1>Three windows<\/h1>/);
    const fullNext = await client.resume({ session_id: full.session_id, user_input: { x: 1 }, html_mode: "full" });
    assert.equal(fullNext.html, `${full.html}<p>x = 1</p>\n`);

    const health = await client.health();
    assert.equal(health.status, "healthy");
    assert.equal(health.active_sessions, 1);
    assert.deepEqual(
      (await client.listSessions()).sessions.map((s) => [s.session_id, s.status]).sort(),
      [
        [first.session_id, "completed"],
        [full.session_id, "waiting_ui"],
      ].sort(),
    );
    assert.equal(client.starts, 1, "one child served it all");
  });

  it("maps the child's refusals to Refusal with code, status, message and fields", async () => {
    const { client } = make();
    const start = await client.execute({ file_path: fixture("three-windows.calc.ts"), inputs: { "first-window": { x: 1 } } });
    assert.equal(start.ui?.id, "second");

    const invalid = await rejectsWith(client.resume({ session_id: start.session_id, user_input: { y: "two metres", why: 1 } }), Refusal);
    assert.equal(invalid.code, "invalid_input");
    assert.equal(invalid.status, 422);
    assert.match(invalid.message, /^Invalid input for window 'second'/);
    assert.deepEqual(Object.keys(invalid.fields!).sort(), ["why", "y"]);
    assert.equal(typeof invalid.fields!.y, "string");
    const info = await client.getSession({ session_id: start.session_id });
    assert.equal(info.status, "waiting_ui", "a refused input leaves the session waiting");
    assert.equal(info.ui_steps, 2);

    const unknown = await rejectsWith(client.resume({ session_id: "no-such-session", user_input: {} }), Refusal);
    assert.deepEqual([unknown.code, unknown.status], ["not_found", 404]);
    assert.match(unknown.message, /Unknown session 'no-such-session'/);
    const missingFile = await rejectsWith(client.execute({ file_path: path.join(FIXTURES, "nope.calc.ts") }), Refusal);
    assert.deepEqual([missingFile.code, missingFile.status], ["not_found", 404]);
    const outside = await rejectsWith(client.execute({ file_path: path.join(ROOT, "package.json") }), Refusal);
    assert.deepEqual([outside.code, outside.status], ["forbidden", 403]);

    const taken = await rejectsWith(client.execute({ file_path: fixture("three-windows.calc.ts"), session_id: start.session_id }), Refusal);
    assert.deepEqual([taken.code, taken.status], ["conflict", 409]);
    await client.resume({ session_id: start.session_id, user_input: { y: 2 } });
    const done = await client.resume({ session_id: start.session_id, user_input: { label: "z" } });
    assert.equal(done.status, "completed");
    const notWaiting = await rejectsWith(client.resume({ session_id: start.session_id, user_input: { label: "again" } }), Refusal);
    assert.deepEqual([notWaiting.code, notWaiting.status], ["conflict", 409]);
    assert.match(notWaiting.message, /not waiting for input \(status: completed\)/);
    const finished = await rejectsWith(client.cancel({ session_id: start.session_id }), Refusal);
    assert.deepEqual([finished.code, finished.status], ["conflict", 409]);
    const malformed = await rejectsWith(client.execute({}), Refusal);
    assert.deepEqual([malformed.code, malformed.status], ["bad_request", 400]);
  });

  it("fails the request in flight at once when the child is killed, restarts it, and restores the session by replay", async () => {
    const { client, lines } = make({ stepTimeoutMs: 2_000 });
    const start = await client.execute({ source: SPIN_SHEET, filename: "spin.calc.ts" });
    assert.equal(start.ui?.id, "amount");
    const second = await client.resume({ session_id: start.session_id, user_input: { n: 7 } });
    assert.equal(second.ui?.id, "go");
    const firstPid = client.pid!;
    assert.ok(firstPid > 0);
    const members = childrenOf(firstPid);

    // A step that spins: the child is killed while the client waits for it.
    const inFlight = client.resume({ session_id: start.session_id, user_input: { spin: true } });
    // Another run in the same child, spinning too (in the child's other member, or moved there): in flight too.
    const other = client.execute({ source: SPIN_SHEET, filename: "spin.calc.ts", inputs: { amount: { n: 1 }, go: { spin: true } } });
    await delay(300);
    const killedAt = Date.now();
    process.kill(firstPid, "SIGKILL");
    for (const pending of [inFlight, other]) {
      const crashed = await rejectsWith(pending, SandboxUnavailableError);
      assert.equal(crashed.kind, "crashed");
      assert.match(crashed.message, /^The local sandbox stopped \(killed by SIGKILL\) before it answered\./);
      assert.equal(crashed.hint, RESTART_HINT);
    }
    assert.ok(Date.now() - killedAt < 1_000, `the requests in flight failed ${Date.now() - killedAt} ms after the kill`);
    assert.equal(client.pid, undefined, "no child runs until the next call");

    // The next call on the session forks a new child and replays the session to the same window, with the same
    // seed and clock: the report is byte-identical, and deltas carry on from where the client was.
    const info = await client.getSession({ session_id: start.session_id });
    assert.notEqual(client.pid, firstPid);
    assert.equal(client.starts, 2);
    assert.equal(info.status, "waiting_ui");
    assert.equal(info.ui_steps, 2);
    const done = await client.resume({ session_id: start.session_id, user_input: { spin: false } });
    assert.equal(done.status, "completed");
    assert.equal(done.value, 7);
    assert.match(done.html_delta!, /^<p>done, draw 0\.\d{12}<\/p>\n$/, "only the new step's output");
    const report = joinReport([start, second, done]);
    assert.ok(done.result!.includes(report), "the restored run's document holds exactly what the client was sent");
    assert.ok(
      lines.some((l) => l.startsWith(`restored session ${start.session_id} in the new local sandbox by replaying 1 input`)),
      lines.join("\n"),
    );

    // A new run works on the new child.
    const fresh = await client.execute({
      file_path: fixture("three-windows.calc.ts"),
      inputs: { "first-window": { x: 1 }, second: { y: 1 }, third: { label: "ok" } },
    });
    assert.equal(fresh.status, "completed");
    assert.equal(client.starts, 2);
    // The killed child's pool members followed it.
    await until(() => members.every((pid) => !running(pid)), 10_000, "the dead child's sheet processes to exit");
  });

  it("restores a session whose child died between calls, and says clearly which sessions it could not", async () => {
    const { client, lines } = make();
    const sheet = path.join(tmp, "changing.calc.ts");
    fs.writeFileSync(
      sheet,
      'import { UI, Window, p } from "uzoncalc";\nexport async function* sheet() {\n  p("version 1");\n  const a = yield UI(Window({ title: "A", fields: [{ name: "n", type: "number" }] }));\n  p(`n = ${a.n}`);\n  yield UI(Window({ title: "B", fields: [] }));\n}\n',
    );
    const changing = await client.execute({ file_path: sheet });
    const changingNext = await client.resume({ session_id: changing.session_id, user_input: { n: 1 } });
    assert.equal(changingNext.ui?.id, "b");
    const steady = await client.execute({ file_path: fixture("three-windows.calc.ts"), inputs: { "first-window": { x: 4 } } });
    assert.equal(steady.ui?.id, "second");
    const finished = await client.execute({
      file_path: fixture("three-windows.calc.ts"),
      inputs: { "first-window": { x: 1 }, second: { y: 1 }, third: { label: "x" } },
    });
    assert.equal(finished.status, "completed");
    const cancelled = await client.execute({ file_path: fixture("three-windows.calc.ts") });
    assert.deepEqual(await client.cancel({ session_id: cancelled.session_id }), { status: "cancelled", session_id: cancelled.session_id });

    const pid = client.pid!;
    process.kill(pid, "SIGKILL");
    await until(() => client.pid === undefined, 5_000, "the client to see the child die");
    fs.writeFileSync(sheet, fs.readFileSync(sheet, "utf8").replace("version 1", "version 2"));

    // Batch inputs and all: replayed, byte-identical, and carrying on.
    const resumed = await client.resume({ session_id: steady.session_id, user_input: { y: 5 } });
    assert.equal(resumed.ui?.id, "third");
    assert.equal(resumed.html_delta, "<p>y = 5 m</p>\n");
    assert.notEqual(client.pid, pid);

    // The sheet changed on disk: its replay cannot be the same run.
    const changed = await rejectsWith(client.resume({ session_id: changing.session_id, user_input: {} }), Refusal);
    assert.deepEqual([changed.code, changed.status], ["not_found", 404]);
    assert.match(
      changed.message,
      new RegExp(
        `^Session '${changing.session_id}' was lost when the local sandbox stopped and restarted \\(.*changed since the run started.*\\)\\. Run the sheet again to start a new session\\.$`,
      ),
    );
    // ...and it stays lost, with the same answer, for every call.
    const again = await rejectsWith(client.getSession({ session_id: changing.session_id }), Refusal);
    assert.equal(again.message, changed.message);

    // Finished sessions had nothing to restore: their results went with the child.
    for (const id of [finished.session_id, cancelled.session_id]) {
      const gone = await rejectsWith(client.getSession({ session_id: id }), Refusal);
      assert.deepEqual([gone.code, gone.status], ["not_found", 404]);
      assert.match(
        gone.message,
        /was lost when the local sandbox stopped and restarted \(it had already ended \((completed|cancelled)\) and its result is gone\)\. Run the sheet again/,
      );
    }
    assert.deepEqual(
      (await client.listSessions()).sessions.map((s) => s.session_id),
      [steady.session_id],
    );
    assert.ok(
      lines.some((l) => l.startsWith(`could not restore session ${changing.session_id}`)),
      lines.join("\n"),
    );
  });

  it("fails a request to a hung child after requestTimeoutMs, and replaces the child", async () => {
    const stub = path.join(tmp, "hung-sandbox.js");
    fs.writeFileSync(stub, "process.on('message', () => {}); setInterval(() => {}, 1 << 30);\n");
    const { client } = make({ sandboxScript: stub, requestTimeoutMs: 300 });
    const started = Date.now();
    const timedOut = await rejectsWith(client.health(), SandboxUnavailableError);
    const took = Date.now() - started;
    assert.equal(timedOut.kind, "timeout");
    assert.match(timedOut.message, /did not answer within/);
    assert.ok(took >= 290 && took < 3_000, `rejected after ${took} ms`);
    assert.equal(client.starts, 1);
    await until(() => client.pid === undefined, 5_000, "the hung child to be killed");
    const again = await rejectsWith(client.health(), SandboxUnavailableError);
    assert.equal(again.kind, "timeout");
    assert.equal(client.starts, 2, "the next call started a new child");
  });

  it("answers a clear error when the child cannot start", async () => {
    const broken = path.join(tmp, "broken-sandbox.js");
    fs.writeFileSync(broken, "process.stderr.write('cannot open the sandbox: no such thing\\n'); process.exit(3);\n");
    const { client, lines } = make({ sandboxScript: broken });
    const error = await rejectsWith(client.health(), SandboxUnavailableError);
    assert.equal(error.kind, "crashed");
    assert.match(
      error.message,
      /^The local sandbox stopped \(exit code 3\) before it answered\. Its last words: cannot open the sandbox: no such thing$/,
    );
    assert.equal(error.hint, RESTART_HINT);
    assert.ok(lines.includes("cannot open the sandbox: no such thing"));
  });

  it("dispose() stops the child and its sheet processes and fails what was in flight", async () => {
    const { client } = make({ isolation: "process" });
    const start = await client.execute({ source: SPIN_SHEET, filename: "spin.calc.ts", inputs: { amount: { n: 1 } } });
    assert.equal(start.ui?.id, "go");
    const pid = client.pid!;
    const members = childrenOf(pid);
    if (process.platform === "linux") {
      const commands = members.map((member) => fs.readFileSync(`/proc/${member}/cmdline`, "utf8"));
      assert.ok(
        commands.some((command) => command.includes("sandbox-worker.js")),
        `the child runs sheets in processes of its own: ${commands.join(" | ")}`,
      );
    }
    const inFlight = client.resume({ session_id: start.session_id, user_input: { spin: true } });
    await delay(200);
    const disposing = client.dispose();
    const error = await rejectsWith(inFlight, SandboxUnavailableError);
    assert.match(error.message, /shut down/);
    await disposing;
    assert.equal(alive(pid), false, "the child is gone");
    await until(() => members.every((member) => !running(member)), 1_000, "the sheet processes (and esbuild's service) to exit");
    assert.equal(client.pid, undefined);
    await rejectsWith(client.health(), SandboxUnavailableError);
  });

  it("keeps node:vm and the sandbox's own code out of the client the extension bundles", async () => {
    const result = await esbuild.build({
      entryPoints: [path.join(ROOT, "sandbox/connect/localClient.ts")],
      bundle: true,
      platform: "node",
      format: "cjs",
      write: false,
      metafile: true,
      logLevel: "silent",
    });
    const inputs = Object.keys(result.metafile.inputs);
    assert.deepEqual(
      inputs.filter((file) => /sandbox\/(cli|engine|loader|service|session)\//.test(file)),
      [],
    );
    const imports = Object.values(result.metafile.outputs).flatMap((output) => output.imports.map((i) => i.path));
    assert.ok(!imports.includes("node:vm") && !imports.includes("vm"), imports.join(", "));
  });
});
