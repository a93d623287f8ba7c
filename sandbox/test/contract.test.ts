// One contract suite, run against every way of reaching a sandbox: the same requests must give the same answers.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import type { JsonObject } from "../../protocol/json";
import type { ExecutionResponse } from "../../protocol/rpc";
import { ExecutorClient } from "../session/executorClient";
import { LocalSandboxClient } from "../connect/localClient";
import { RemoteSandboxClient } from "../connect/remoteClient";
import { Refusal } from "../../protocol/refusal";
import type { SandboxClient } from "../connect/sandboxClient";
import { InProcessEngine } from "../engine/realmEngine";
import { Executor } from "../session/executor";
import { startService, type RunningService } from "./support/processes";
import { TRACE_STEP_1, TRACE_STEP_2 } from "./support/traceExpected";

const FIXTURES = path.join(__dirname, "fixtures", "contract");
const FIVE = path.join(FIXTURES, "five.calc.ts");
const MAX_SESSIONS = 12;
const TRACE = path.join(FIXTURES, "trace.calc.ts");

/** What five.calc.ts's `let sum = 0` and `sum += answer.v` render (the report engine shows every assignment). */
const SUM_START = '<div class="uzc-eq"><math displaystyle="true"><mi>sum</mi><mo>=</mo><mn>0</mn></math></div>\n';
function sumLine(before: number, v: number): string {
  // The window's value `answer.v` reads as its field's name.
  return `<div class="uzc-eq"><math displaystyle="true"><mi>sum</mi><mo>=</mo><mi>sum</mi><mo>+</mo><mi>v</mi><mo>=</mo><mn>${before}</mn><mo>+</mo><mn>${v}</mn><mo>=</mo><mn>${before + v}</mn></math></div>\n`;
}
const MAX_BODY = 100_000;

interface Target {
  name: string;
  /** A client acting for a token (targets without tokens ignore it). */
  client(token?: string): SandboxClient;
  tokens: boolean;
  bodyLimit: boolean;
  /** Base URL for raw HTTP checks (malformed JSON), when the target speaks HTTP. */
  rawUrl?: string;
  rawExecutePath?: string;
  close(): Promise<void>;
}

async function refused(promise: Promise<unknown>, status: number, code: string): Promise<Refusal> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof Refusal, `expected a ${status} refusal, got ${String(error)}`);
    assert.equal(error.status, status, error.message);
    assert.equal(error.code, code);
    return error;
  }
  assert.fail(`expected a ${status} refusal`);
}

function rawPost(url: string, body: string, token?: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: "POST", headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString() || "null") }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const TOKENS = { UZONCALC_TOKEN: "token-one,token-two" };

/**
 * A target reached over HTTP through RemoteSandboxClient. The tests share the service's disk, so file paths go
 * as they are (and meet its safe-dir checks). Every service must stop with exit code 0 on SIGTERM.
 */
function httpTarget(name: string, front: RunningService, flavor: "sandbox" | "api", services: RunningService[]): Target {
  const clients: RemoteSandboxClient[] = [];
  return {
    name,
    client: (token = "token-one") => {
      const client = new RemoteSandboxClient({ url: front.url, flavor, relay: true, ...(token ? { token } : {}) });
      clients.push(client);
      return client;
    },
    tokens: true,
    bodyLimit: true,
    rawUrl: front.url,
    rawExecutePath: flavor === "api" ? "/v1/calc/execution/start" : "/sandbox/execute",
    close: async () => {
      for (const c of clients) await c.dispose();
      for (const service of services) assert.equal(await service.stop(), 0, "SIGTERM ends the service with exit code 0");
    },
  };
}

const targets: (() => Promise<Target>)[] = [
  async () => {
    const sandbox = await startService(["serve", "--port", "0", "--safe-dir", FIXTURES, "--max-sessions", String(MAX_SESSIONS)], TOKENS);
    const api = await startService(["api", "--port", "0", "--sandbox-url", sandbox.url, "--max-body", String(MAX_BODY)], TOKENS);
    return httpTarget("API layer (uzoncalc api) → uzoncalc serve", api, "api", [api, sandbox]);
  },
  async () => {
    const client = new LocalSandboxClient({ safeDirs: [FIXTURES], maxSessions: MAX_SESSIONS });
    return {
      name: "LocalSandboxClient (forked dist/sandbox.js)",
      client: () => client,
      tokens: false,
      bodyLimit: false,
      close: () => client.dispose(),
    };
  },
  async () => {
    const api = await startService(
      ["api", "--port", "0", "--safe-dir", FIXTURES, "--max-sessions", String(MAX_SESSIONS), "--max-body", String(MAX_BODY)],
      TOKENS,
    );
    return httpTarget("API layer (uzoncalc api, in-process sandbox)", api, "api", [api]);
  },
  async () => {
    const executor = new Executor({
      safeDirs: [FIXTURES],
      maxSessions: MAX_SESSIONS,
      engine: new InProcessEngine({ stepTimeoutMs: 5_000 }),
    });
    const client = new ExecutorClient(executor);
    return { name: "in-process ExecutorClient", client: () => client, tokens: false, bodyLimit: false, close: () => client.dispose() };
  },
  async () => {
    const sandbox = await startService(
      ["serve", "--port", "0", "--safe-dir", FIXTURES, "--max-sessions", String(MAX_SESSIONS), "--max-body", String(MAX_BODY)],
      TOKENS,
    );
    return httpTarget("RemoteSandboxClient → uzoncalc serve", sandbox, "sandbox", [sandbox]);
  },
];

for (const makeTarget of targets) {
  describe("sandbox contract", function () {
    this.timeout(60_000);
    let target: Target;
    let client: SandboxClient;
    const started: string[] = [];

    before(async function () {
      target = await makeTarget();
      this.test!.parent!.title = `sandbox contract: ${target.name}`;
      client = target.client();
    });
    afterEach(async () => {
      // Keep under the session limit: cancel what a test left waiting.
      for (const id of started.splice(0)) await client.cancel({ session_id: id }).catch(() => undefined);
    });
    after(() => target.close());

    const run = async (request: Parameters<SandboxClient["execute"]>[0]): Promise<ExecutionResponse> => {
      const response = await client.execute(request);
      started.push(response.session_id);
      return response;
    };

    it("runs five windows with deltas that add up to the report", async () => {
      let response = await run({ file_path: FIVE, params: { tag: "A" }, html_mode: "delta" });
      let html = response.html_delta ?? "";
      assert.equal(response.status, "waiting_ui");
      assert.equal(response.html, undefined);
      for (let i = 1; i <= 5; i++) {
        assert.equal(response.ui?.id, `w${i}`);
        response = await client.resume({ session_id: response.session_id, user_input: { v: `${i * 100} cm` }, html_mode: "delta" });
        assert.equal(response.html_delta?.includes(`w${i} = ${i}`), true, response.html_delta);
        html += response.html_delta ?? "";
      }
      assert.equal(response.status, "completed");
      assert.equal(response.ui_steps, 5);
      assert.deepEqual(response.value, { sum: 15 });
      assert.match(html, /^<h1>Five windows A<\/h1>/);
      assert.ok(response.result!.includes(html), "the document holds exactly the deltas, in order");
    });

    it("answers a completed run's last step again, whole and the same, when that answer is retried", async () => {
      let response = await run({ file_path: FIVE, params: { tag: "R" }, html_mode: "delta" });
      let html = response.html_delta ?? "";
      for (let i = 1; i <= 5; i++) {
        response = await client.resume({
          session_id: response.session_id,
          user_input: { v: i },
          ui_steps: response.ui_steps,
          html_mode: "delta",
        });
        html += response.html_delta ?? "";
      }
      assert.equal(response.status, "completed");
      // The report is not kept once answered: each retry replays the run for it (Executor.recall).
      for (let again = 0; again < 2; again++) {
        const retried = await client.resume({ session_id: response.session_id, user_input: { v: 5 }, ui_steps: 5, html_mode: "delta" });
        assert.equal(retried.status, "completed", JSON.stringify(retried.error));
        assert.equal(retried.ui_steps, 5);
        assert.equal(retried.html, html);
        assert.equal(retried.result, response.result);
        assert.deepEqual(retried.value, { sum: 15 });
      }
      await refused(client.resume({ session_id: response.session_id, user_input: { v: 6 }, ui_steps: 5 }), 409, "conflict");
    });

    it("answers full html when asked", async () => {
      const first = await run({ file_path: FIVE, html_mode: "full" });
      const second = await client.resume({ session_id: first.session_id, user_input: { v: 2 }, html_mode: "full" });
      assert.equal(second.html, `<h1>Five windows</h1>\n${SUM_START}${sumLine(0, 2)}<p>w1 = 2</p>\n`);
    });

    it("carries each step's trace (values in the editor) with lines in the sheet's own file, when asked", async () => {
      const lines = fs.readFileSync(TRACE, "utf8").split("\n");
      for (const entry of [...TRACE_STEP_1, ...TRACE_STEP_2])
        assert.match(
          lines[entry.line - 1]!,
          new RegExp(`^\\s*(const |let )?${entry.name}\\b[^=]*\\+?= `),
          `line ${entry.line} assigns ${entry.name}`,
        );
      const delta = await run({ file_path: TRACE, html_mode: "delta", trace: true });
      assert.equal(delta.status, "waiting_ui", JSON.stringify(delta.error));
      assert.deepEqual(delta.trace, TRACE_STEP_1);
      assert.equal(delta.trace_truncated, undefined);
      const deltaEnd = await client.resume({ session_id: delta.session_id, user_input: { q: 10 }, html_mode: "delta" });
      assert.equal(deltaEnd.status, "completed", JSON.stringify(deltaEnd.error));
      assert.deepEqual(deltaEnd.trace, TRACE_STEP_2, "a delta response carries only its own steps' values");
      // Full html: the whole run's values, like `html`.
      const full = await run({ file_path: TRACE, html_mode: "full", trace: true });
      assert.deepEqual(full.trace, TRACE_STEP_1);
      const fullEnd = await client.resume({ session_id: full.session_id, user_input: { q: 10 }, html_mode: "full" });
      assert.deepEqual(fullEnd.trace, [...TRACE_STEP_1, ...TRACE_STEP_2]);
      // Batch inputs: one response, both steps.
      const batch = await run({ file_path: TRACE, inputs: { load: { q: 10 } }, html_mode: "delta", trace: true });
      // Not asked for: no trace (building it costs about a quarter of a rendered step).
      const unasked = await run({ file_path: TRACE, inputs: { load: { q: 10 } }, html_mode: "delta" });
      assert.equal(unasked.trace, undefined);
      assert.equal(unasked.html, undefined);
      assert.equal(unasked.html_delta, batch.html_delta, "the same report either way");
      assert.deepEqual(batch.trace, [...TRACE_STEP_1, ...TRACE_STEP_2]);
      // A line evaluated in several steps of one response: its last value.
      const plain = await run({
        file_path: FIVE,
        inputs: { w1: { v: 1 }, w2: { v: 2 }, w3: { v: 3 }, w4: { v: 4 }, w5: { v: 5 } },
        html_mode: "delta",
        trace: true,
      });
      assert.deepEqual(plain.trace, [
        { line: 6, name: "sum", value: 0, display: "0", formula: "sum = 0" },
        { line: 9, name: "sum", value: 15, display: "15", formula: "sum = sum + v = 10 + 5 = 15" },
      ]);
    });

    it("answers windows from batch inputs", async () => {
      const response = await run({ file_path: FIVE, inputs: { w1: { v: 1 }, w2: { v: 2 }, w3: { v: 3 }, w4: { v: 4 }, w5: { v: "5 m" } } });
      assert.equal(response.status, "completed");
      assert.deepEqual(response.value, { sum: 15 });
    });

    it("runs a sheet sent as source with files", async () => {
      const response = await run({
        source:
          'import { p } from "uzoncalc";\nimport { k } from "./lib/k";\nexport async function* sheet() { p(`k = ${k}`); return k; }\n',
        filename: "remote.calc.ts",
        files: { "lib/k.ts": "export const k: number = 42;\n" },
      });
      assert.equal(response.status, "completed", JSON.stringify(response.error));
      assert.equal(response.value, 42);
    });

    it("carries text beyond ASCII whole in long answers (the service transcodes them to UTF-8)", async () => {
      const text = "γ_M0 − 1.5 · “ω” ≤ 😀 ";
      const response = await run({
        source: `import { p } from "uzoncalc";\nexport async function* sheet() { const t = ${JSON.stringify(text)}.repeat(200); p(t); return t; }\n`,
        filename: "unicode.calc.ts",
        html_mode: "delta",
      });
      assert.equal(response.status, "completed", JSON.stringify(response.error));
      assert.equal(response.value, text.repeat(200));
      assert.ok(response.html_delta!.includes(`<p>${text.repeat(200)}`), response.html_delta!.slice(0, 200));
      assert.ok(response.result!.includes(`<p>${text.repeat(200)}`));
    });

    it("cancels (running the sheet's finally), cancels again, and refuses a resume after", async () => {
      const response = await run({ file_path: path.join(FIXTURES, "cleanup.calc.ts") });
      assert.deepEqual(await client.cancel({ session_id: response.session_id }), { status: "cancelled", session_id: response.session_id });
      assert.deepEqual(await client.cancel({ session_id: response.session_id }), { status: "cancelled", session_id: response.session_id });
      await refused(client.resume({ session_id: response.session_id, user_input: { x: 1 } }), 409, "conflict");
      assert.equal((await client.getSession({ session_id: response.session_id })).status, "cancelled");
    });

    it("reports session info, lists sessions, invalidates the cache and is healthy", async () => {
      const response = await run({ file_path: FIVE, session_id: "contract-info-1" });
      const info = await client.getSession({ session_id: "contract-info-1" });
      assert.deepEqual(
        { ...info, created_at: "", updated_at: "" },
        {
          session_id: "contract-info-1",
          status: "waiting_ui",
          ui_steps: 1,
          has_error: false,
          error_message: null,
          created_at: "",
          updated_at: "",
        },
      );
      assert.match(info.created_at, /Z$/);
      assert.ok((await client.listSessions()).sessions.some((s) => s.session_id === response.session_id));
      assert.equal((await client.invalidateCache({ file_path: FIVE })).status, "ok");
      assert.match((await client.invalidateCache()).message, /Cache cleared/);
      const health = await client.health();
      assert.equal(health.status, "healthy");
      assert.ok(health.active_sessions >= 1);
      assert.match(health.version, /^\d+\.\d+\.\d+/);
    });

    it("refuses wrong requests with the SPEC's 4xx", async () => {
      await refused(client.execute({}), 400, "bad_request");
      await refused(client.getSession({ session_id: "no-such-session" }), 404, "not_found");
      await refused(client.resume({ session_id: "no-such-session", user_input: {} }), 404, "not_found");
      const done = await run({ file_path: FIVE, inputs: { w1: { v: 1 }, w2: { v: 1 }, w3: { v: 1 }, w4: { v: 1 }, w5: { v: 1 } } });
      await refused(client.resume({ session_id: done.session_id, user_input: { v: 1 } }), 409, "conflict");
      await refused(client.cancel({ session_id: done.session_id }), 409, "conflict");
      await run({ file_path: FIVE, session_id: "contract-taken" });
      await refused(client.execute({ file_path: FIVE, session_id: "contract-taken" }), 409, "conflict");
      await refused(
        client.execute({ source: "x", filename: "../../../etc/passwd.calc.ts", file_path: undefined, session_id: "bad id" }),
        400,
        "bad_request",
      );
      // Nested past any real parameter set: refused where it arrives, before it can break a copy on the way.
      let deep: JsonObject = { v: 1 };
      for (let i = 0; i < 100; i++) deep = { d: deep };
      const nested = await refused(client.execute({ file_path: FIVE, params: deep }), 400, "bad_request");
      assert.match(nested.message, /`params` nest deeper than 32 levels/);
      assert.equal((await client.health()).status, "healthy", "and the sandbox goes on");
    });

    it("refuses invalid user_input with every field error, and the session keeps waiting", async () => {
      const response = await run({ file_path: FIVE });
      const error = await refused(
        client.resume({ session_id: response.session_id, user_input: { v: "2 kg", extra: 1 } }),
        422,
        "invalid_input",
      );
      assert.deepEqual(Object.keys(error.fields ?? {}).sort(), ["extra", "v"]);
      assert.match(error.fields!.v!, /'kg' is a mass, but this field is a length/);
      assert.equal((await client.getSession({ session_id: response.session_id })).status, "waiting_ui");
      assert.equal((await client.resume({ session_id: response.session_id, user_input: { v: 3 } })).ui?.id, "w2");
    });

    it("refuses a sheet outside the safe dirs (403) and a missing one (404)", async () => {
      await refused(client.execute({ file_path: path.join(FIXTURES, "..", "sheets", "three-windows.calc.ts") }), 403, "forbidden");
      await refused(client.execute({ file_path: path.join(FIXTURES, "missing.calc.ts") }), 404, "not_found");
    });

    it("reads nothing outside the safe dirs: a plain import and a glob import are 403 alike, a source map there is not read", async () => {
      // Under the permission model (uzoncalc serve) as without it: the same 403, never a host path of the product.
      const plain = await refused(client.execute({ file_path: path.join(FIXTURES, "import-outside.calc.ts") }), 403, "forbidden");
      assert.match(
        plain.message,
        /import-outside\.calc\.ts imports "\.\.\/sheets\/lib\/bad", which resolves to .*, outside the safe directories/,
      );
      const glob = await refused(client.execute({ file_path: path.join(FIXTURES, "glob-outside.calc.ts") }), 403, "forbidden");
      assert.match(
        glob.message,
        /outside-data[/\\]secret\.json is read by the bundler \(a glob import expands to it\), outside the safe directories/,
      );
      for (const message of [plain.message, glob.message]) assert.doesNotMatch(message, /dist[/\\]cli\.js|NOT-FOR-SHEETS|restricted/);
      const mapped = await run({ file_path: path.join(FIXTURES, "sourcemap-outside.calc.ts") });
      assert.equal(mapped.status, "error");
      assert.match(mapped.error!.message, /from a file whose source map is outside/);
      assert.equal(mapped.error!.file, "lib/mapped.js", "the error names the file itself, not what the outside map says");
      assert.doesNotMatch(JSON.stringify(mapped), /SECRET-SOURCE-NAME/);
    });

    it("refuses a session past the limit with 429", async () => {
      const ids: string[] = [];
      try {
        for (;;) {
          const response = await client.execute({ file_path: FIVE });
          ids.push(response.session_id);
          assert.ok(ids.length <= MAX_SESSIONS, "the limit holds");
        }
      } catch (error) {
        assert.ok(error instanceof Refusal && error.status === 429, String(error));
      } finally {
        for (const id of ids) await client.cancel({ session_id: id }).catch(() => undefined);
      }
    });

    it("refuses an oversize body (413) and malformed JSON (400), where it speaks HTTP", async function () {
      if (!target.bodyLimit || !target.rawUrl) this.skip();
      await refused(
        client.execute({ source: `// ${"x".repeat(MAX_BODY)}\nexport async function* sheet() {}\n`, filename: "big.calc.ts" }),
        413,
        "too_large",
      );
      const malformed = await rawPost(target.rawUrl + target.rawExecutePath!, "{ not json", "token-one");
      assert.equal(malformed.status, 400);
      assert.equal((malformed.body as { error: { code: string } }).error.code, "bad_request");
    });

    it("needs a token, and shows a session only to the token that made it", async function () {
      if (!target.tokens) this.skip();
      await refused(target.client("").execute({ file_path: FIVE }), 401, "unauthorized");
      await refused(target.client("wrong").listSessions(), 401, "unauthorized");
      const mine = await run({ file_path: FIVE });
      const other = target.client("token-two");
      await refused(other.getSession({ session_id: mine.session_id }), 404, "not_found");
      await refused(other.resume({ session_id: mine.session_id, user_input: { v: 1 } }), 404, "not_found");
      await refused(other.cancel({ session_id: mine.session_id }), 404, "not_found");
      assert.ok(!(await other.listSessions()).sessions.some((s) => s.session_id === mine.session_id));
      assert.equal((await target.client("").health()).status, "healthy", "health needs no token");
      // Ids are scoped by token: the same id under another token is another session, not a 409 that tells.
      const theirs = await other.execute({ file_path: FIVE, session_id: mine.session_id, inputs: { w1: { v: 7 } } });
      assert.equal(theirs.session_id, mine.session_id);
      assert.equal(theirs.ui?.id, "w2");
      assert.equal((await client.getSession({ session_id: mine.session_id })).ui_steps, 1, "the first token's session is untouched");
      assert.equal((await other.getSession({ session_id: mine.session_id })).ui_steps, 2);
      await other.cancel({ session_id: mine.session_id });
      assert.equal((await client.getSession({ session_id: mine.session_id })).status, "waiting_ui");
    });
  });
}

describe("RemoteSandboxClient with a sheet on this disk", function () {
  this.timeout(60_000);
  it("sends a file sheet and its local imports as source + files, so a service without this disk runs it", async () => {
    const elsewhere = path.join(__dirname, "fixtures", "sheets");
    const service = await startService(["serve", "--port", "0", "--safe-dir", FIXTURES]);
    const client = new RemoteSandboxClient({ url: service.url });
    try {
      const response = await client.execute({ file_path: path.join(elsewhere, "throws-in-import.calc.ts"), inputs: { divide: {} } });
      assert.equal(response.status, "error");
      assert.equal(response.error?.file, "lib/bad.ts", "the import travelled with the sheet and errors still name it");
      assert.match(response.error!.message, /division by zero/);
    } finally {
      await client.dispose();
      await service.stop();
    }
  });
});

describe("RemoteSandboxClient sends nothing from outside the sheet's folders (issue 13 item 1)", function () {
  this.timeout(60_000);
  it("refuses a sheet whose import leaves them, before anything is sent", async () => {
    const service = await startService(["serve", "--port", "0"]);
    const client = new RemoteSandboxClient({ url: service.url });
    try {
      const outside = await refused(client.execute({ file_path: path.join(FIXTURES, "import-outside.calc.ts") }), 403, "forbidden");
      assert.match(outside.message, /imports "\.\.\/sheets\/lib\/bad", which resolves to .*, outside the folders a sheet may send from/);
      // Past the log's batching (a fifth of a second), a request that had arrived would be in the log.
      await new Promise((resolve) => setTimeout(resolve, 400));
      assert.ok(!service.logs.some((line) => /"route":"execute"/.test(line)), "no request reached the service");
      const wider = new RemoteSandboxClient({ url: service.url, sendFrom: [path.join(FIXTURES, "..")] });
      assert.equal(
        (await wider.execute({ file_path: path.join(FIXTURES, "import-outside.calc.ts") })).status,
        "completed",
        "a wider folder sends it",
      );
      await wider.dispose();
    } finally {
      await client.dispose();
      await service.stop();
    }
  });
});

describe("sandbox service under load", function () {
  this.timeout(120_000);
  it("completes 200 concurrent sessions × 5 windows over HTTP, each with its own report", async () => {
    const service = await startService(["serve", "--port", "0", "--safe-dir", FIXTURES, "--max-sessions", "1000"]);
    const client = new RemoteSandboxClient({ url: service.url });
    try {
      // Least privilege, as the service reports it at start: its own process under the permission model, sheets
      // in isolated members under it too, with an empty environment.
      const protections = service.logs
        .map((l) => {
          try {
            return JSON.parse(l) as { service_permission_model?: boolean; protections?: Record<string, unknown> };
          } catch {
            return {};
          }
        })
        .find((e) => e.protections);
      assert.equal(protections?.service_permission_model, true);
      assert.deepEqual(
        { ...protections?.protections, workerHeapLimitMb: 0 },
        {
          dontContextify: true,
          workers: true,
          isolation: "process",
          workerPermission: true,
          workerHeapLimitMb: 0,
          workerEnvEmpty: true,
          memberMemoryCapped: true,
          memberNetworkIsolated: true,
        },
      );
      const started = performance.now();
      const results = await Promise.all(
        Array.from({ length: 200 }, async (_, n) => {
          let response = await client.execute({ file_path: FIVE, params: { tag: `#${n}` }, html_mode: "full" });
          for (let i = 1; i <= 5; i++)
            response = await client.resume({ session_id: response.session_id, user_input: { v: n * 10 + i }, html_mode: "full" });
          return { n, response };
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      for (const { n, response } of results) {
        assert.equal(response.status, "completed");
        assert.deepEqual(response.value, { sum: n * 50 + 15 });
        let sum = 0;
        const windows = [1, 2, 3, 4, 5].map((i) => {
          const v = n * 10 + i;
          const line = sumLine(sum, v);
          sum += v;
          return `${line}<p>w${i} = ${v}</p>\n`;
        });
        const expected = `<h1>Five windows #${n}</h1>\n${SUM_START}${windows.join("")}<p>sum = ${n * 50 + 15}</p>\n`;
        assert.equal(response.html, expected);
      }
      console.log(`      200 × 5 windows: ${(1200 / seconds).toFixed(0)} requests/s over HTTP`);
    } finally {
      await client.dispose();
      await service.stop();
    }
  });
});
