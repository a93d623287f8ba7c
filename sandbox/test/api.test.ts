// `uzoncalc api` (SPEC §3) as real processes on 127.0.0.1: with the sandbox in its own process, and in front of
// a `uzoncalc serve` it relays to (SANDBOX_URL), the seed's two deployments. Same answers either way.

import assert from "node:assert/strict";
import * as http from "node:http";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import type { ExecutionResponse, SessionInfo } from "../../protocol/rpc";
import { childrenOf, startService, type RunningService } from "./support/processes";

const EXAMPLES = path.join(__dirname, "..", "..", "examples");
const BEAM = path.join(EXAMPLES, "beam.calc.ts");
const ANSWERS = JSON.parse(fs.readFileSync(path.join(EXAMPLES, "beam.inputs.json"), "utf8")) as Record<string, Record<string, unknown>>;
const OUTSIDE = path.join(__dirname, "..", "..", "package.json");
const TOKENS = { UZONCALC_TOKEN: "alpha,beta" };
const P = "/v1/calc/execution";

interface Answer<T = Record<string, unknown>> {
  status: number;
  body: T;
}

async function call<T = Record<string, unknown>>(
  base: string,
  method: "GET" | "POST",
  route: string,
  options: { token?: string; body?: unknown; raw?: string } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  const payload = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  if (payload !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(base + route, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
  return { status: response.status, body: (await response.json()) as T };
}

function errorOf(answer: Answer): { code: string; message: string; fields?: Record<string, string>; hint?: string } {
  return (answer.body as { error: { code: string; message: string; fields?: Record<string, string>; hint?: string } }).error;
}

/** A port nothing listens on: bound by the system, then released. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("uzoncalc api (SPEC §3)", function () {
  this.timeout(20_000);

  for (const deployment of ["in-process", "remote"] as const) {
    describe(deployment === "in-process" ? "with the sandbox in process" : "in front of uzoncalc serve (SANDBOX_URL)", () => {
      let sandbox: RunningService | undefined;
      let api: RunningService | undefined;
      let base = "";

      before(async () => {
        if (deployment === "remote") {
          sandbox = await startService(["serve", "--port", "0", "--safe-dir", EXAMPLES], { ...TOKENS, SAFE_DIRS: "" });
          api = await startService(["api", "--port", "0"], { ...TOKENS, SANDBOX_URL: sandbox.url, SAFE_DIRS: "" });
        } else {
          api = await startService(["api", "--port", "0", "--safe-dir", EXAMPLES], { ...TOKENS, SANDBOX_URL: "", SAFE_DIRS: "" });
        }
        base = api.url;
      });

      after(async () => {
        await api?.stop();
        await sandbox?.stop();
      });

      it("runs the beam sheet window by window to the end", async () => {
        let answer = await call<ExecutionResponse>(base, "POST", `${P}/start`, { token: "alpha", body: { file_path: BEAM } });
        assert.equal(answer.status, 200);
        let response = answer.body;
        const seen: string[] = [];
        while (response.status === "waiting_ui") {
          assert.ok(response.ui, "a waiting response carries its window");
          assert.equal(typeof response.html, "string", "the full report so far, as the caller asked no delta");
          seen.push(response.ui.id);
          answer = await call<ExecutionResponse>(base, "POST", `${P}/resume`, {
            token: "alpha",
            body: { session_id: response.session_id, user_input: ANSWERS[response.ui.id] },
          });
          assert.equal(answer.status, 200, JSON.stringify(answer.body));
          response = answer.body;
        }
        assert.deepEqual(seen, ["geometry", "loads", "material"]);
        assert.equal(response.status, "completed", JSON.stringify(response.error));
        assert.equal(response.ui_steps, 3);
        assert.match(response.html ?? "", /Simply supported beam/);
        assert.match(response.result ?? "", /<html/i);
        assert.equal(typeof (response.value as { utilisation?: unknown }).utilisation, "number");
        const status = await call<SessionInfo>(base, "GET", `${P}/status/${response.session_id}`, { token: "alpha" });
        assert.equal(status.status, 200);
        assert.equal(status.body.status, "completed");
        assert.equal(status.body.ui_steps, 3);
      });

      it("passes html_mode through: a delta session answers html_delta", async () => {
        const started = await call<ExecutionResponse>(base, "POST", `${P}/start`, {
          token: "alpha",
          body: { file_path: BEAM, html_mode: "delta" },
        });
        assert.equal(started.status, 200);
        assert.equal(started.body.html, undefined);
        assert.match(started.body.html_delta ?? "", /Simply supported beam/);
        const next = await call<ExecutionResponse>(base, "POST", `${P}/resume`, {
          token: "alpha",
          body: { session_id: started.body.session_id, user_input: ANSWERS.geometry },
        });
        assert.equal(next.body.html, undefined, "the session keeps the mode it chose");
        assert.equal(typeof next.body.html_delta, "string");
      });

      it("refuses invalid input with 422 and field errors; the session keeps waiting at the same window", async () => {
        const started = await call<ExecutionResponse>(base, "POST", `${P}/start`, { token: "alpha", body: { file_path: BEAM } });
        const id = started.body.session_id;
        const bad = await call(base, "POST", `${P}/resume`, {
          token: "alpha",
          body: { session_id: id, user_input: { ...ANSWERS.geometry, span: -3, b: "wide" } },
        });
        assert.equal(bad.status, 422);
        const error = errorOf(bad);
        assert.equal(error.code, "invalid_input");
        assert.deepEqual(Object.keys(error.fields ?? {}).sort(), ["b", "span"]);
        const status = await call<SessionInfo>(base, "GET", `${P}/status/${id}`, { token: "alpha" });
        assert.equal(status.body.status, "waiting_ui");
        assert.equal(status.body.ui_steps, 1);
        const good = await call<ExecutionResponse>(base, "POST", `${P}/resume`, {
          token: "alpha",
          body: { session_id: id, user_input: ANSWERS.geometry },
        });
        assert.equal(good.status, 200);
        assert.equal(good.body.ui?.id, "loads");
      });

      it("answers 404 for an unknown session, 400 for a malformed body, 403 outside the safe dirs", async () => {
        const status = await call(base, "GET", `${P}/status/no-such-session`, { token: "alpha" });
        assert.equal(status.status, 404);
        assert.equal(errorOf(status).code, "not_found");
        const resume = await call(base, "POST", `${P}/resume`, { token: "alpha", body: { session_id: "no-such-session", user_input: {} } });
        assert.equal(resume.status, 404);
        const malformed = await call(base, "POST", `${P}/start`, { token: "alpha", raw: "{not json" });
        assert.equal(malformed.status, 400);
        assert.equal(errorOf(malformed).code, "bad_request");
        const neither = await call(base, "POST", `${P}/start`, { token: "alpha", body: {} });
        assert.equal(neither.status, 400);
        const outside = await call(base, "POST", `${P}/start`, { token: "alpha", body: { file_path: OUTSIDE } });
        assert.equal(outside.status, 403);
        assert.equal(errorOf(outside).code, "forbidden");
      });

      it("reads a path as URL parsing does: dot segments, percent-encoding and a query still find their route", async () => {
        // Sent as written (fetch would resolve the dot segments itself).
        const raw = (target: string) =>
          new Promise<{ status: number; message: string }>((resolve, reject) => {
            const request = http.request(
              base + "/",
              { method: "GET", path: target, headers: { authorization: "Bearer alpha" } },
              (response) => {
                let text = "";
                response.on("data", (chunk: Buffer) => (text += chunk.toString()));
                response.on("end", () =>
                  resolve({
                    status: response.statusCode ?? 0,
                    message: (JSON.parse(text) as { error: { message: string } }).error.message,
                  }),
                );
              },
            );
            request.on("error", reject);
            request.end();
          });
        for (const target of [
          `${P}/status/%6Eo-such-session`,
          `${P}/./status/no-such-session`,
          `${P}/x/../status/no-such-session?view=1`,
        ]) {
          const answer = await raw(target);
          assert.equal(answer.status, 404, target);
          assert.match(answer.message, /Unknown session 'no-such-session'/, target);
        }
        assert.match((await raw(`${P}/status/no-such-session/`)).message, /^No route GET/);
      });

      it("needs a token when UZONCALC_TOKEN is set (401 without one or with a wrong one); health stays open", async () => {
        const none = await call(base, "GET", `${P}/sessions`);
        assert.equal(none.status, 401);
        assert.equal(errorOf(none).code, "unauthorized");
        const wrong = await call(base, "POST", `${P}/start`, { token: "gamma", body: { file_path: BEAM } });
        assert.equal(wrong.status, 401);
        const cache = await call(base, "POST", `${P}/invalidate-cache`, { body: {} });
        assert.equal(cache.status, 401);
        const health = await call(base, "GET", `${P}/health`);
        assert.equal(health.status, 200);
        assert.equal(health.body.status, "healthy");
        assert.equal(typeof health.body.active_sessions, "number");
        assert.equal(typeof health.body.version, "string");
      });

      it("keeps a token's sessions invisible to another token", async () => {
        const started = await call<ExecutionResponse>(base, "POST", `${P}/start`, {
          token: "alpha",
          body: { file_path: BEAM, session_id: `owned-${deployment}` },
        });
        assert.equal(started.status, 200);
        const id = started.body.session_id;
        assert.equal((await call(base, "GET", `${P}/status/${id}`, { token: "beta" })).status, 404);
        assert.equal(
          (await call(base, "POST", `${P}/resume`, { token: "beta", body: { session_id: id, user_input: ANSWERS.geometry } })).status,
          404,
        );
        assert.equal((await call(base, "POST", `${P}/cancel`, { token: "beta", body: { session_id: id } })).status, 404);
        const theirs = await call<{ sessions: SessionInfo[] }>(base, "GET", `${P}/sessions`, { token: "beta" });
        assert.ok(!theirs.body.sessions.some((s) => s.session_id === id));
        const mine = await call<{ sessions: SessionInfo[] }>(base, "GET", `${P}/sessions`, { token: "alpha" });
        assert.ok(mine.body.sessions.some((s) => s.session_id === id));
        const cancelled = await call(base, "POST", `${P}/cancel`, { token: "alpha", body: { session_id: id } });
        assert.deepEqual(cancelled, { status: 200, body: { status: "cancelled", session_id: id } });
        assert.equal(
          (await call(base, "POST", `${P}/cancel`, { token: "alpha", body: { session_id: id } })).status,
          200,
          "cancel of a cancelled run answers 200 again",
        );
        const taken = await call(base, "POST", `${P}/start`, { token: "alpha", body: { file_path: BEAM, session_id: id } });
        assert.equal(taken.status, 409);
      });

      it("invalidates the sheet cache, for one file or all", async () => {
        const one = await call(base, "POST", `${P}/invalidate-cache`, { token: "alpha", body: { file_path: BEAM } });
        assert.equal(one.status, 200);
        assert.equal(one.body.status, "ok");
        assert.equal(typeof one.body.message, "string");
        const all = await call(base, "POST", `${P}/invalidate-cache`, { token: "beta" });
        assert.equal(all.status, 200);
        assert.equal(all.body.status, "ok");
      });

      it("logs each request as JSON with a request id, and serves /metrics to a token holder", async () => {
        assert.equal((await fetch(`${base}/metrics`)).status, 401, "with tokens configured, /metrics needs one");
        const response = await fetch(`${base}/metrics`, { headers: { authorization: "Bearer beta" } });
        assert.equal(response.status, 200);
        assert.match(await response.text(), /uzoncalc_http_requests_total\{route="start",status="200"\}/);
        const logged = () =>
          api!.logs
            .filter((l) => l.startsWith("{"))
            .map((l) => JSON.parse(l) as { msg?: string; req_id?: string; route?: string })
            .some((l) => l.msg === "request" && l.route === "start" && typeof l.req_id === "string");
        // Request lines are written in batches, within a fifth of a second (jsonServer.ts serviceLogger).
        for (let wait = 0; wait < 40 && !logged(); wait++) await new Promise((resolve) => setTimeout(resolve, 50));
        assert.ok(logged(), "no request line with a request id was logged");
      });

      it("exits 0 on SIGTERM", async () => {
        const code = await api!.stop();
        api = undefined;
        assert.equal(code, 0);
        if (sandbox) {
          assert.equal(await sandbox.stop(), 0);
          sandbox = undefined;
        }
      });
    });
  }

  describe("with the sandbox unreachable", () => {
    let api: RunningService | undefined;
    let url = "";

    before(async () => {
      url = `http://127.0.0.1:${await closedPort()}`;
      api = await startService(["api", "--port", "0", "--sandbox-url", url], { UZONCALC_TOKEN: "", SANDBOX_URL: "", SAFE_DIRS: "" });
    });
    after(async () => {
      await api?.stop();
    });

    it("answers 502 bad_gateway naming the sandbox URL, with a hint", async () => {
      for (const answer of [
        await call(api!.url, "POST", `${P}/start`, { body: { file_path: BEAM } }),
        await call(api!.url, "GET", `${P}/health`),
      ]) {
        assert.equal(answer.status, 502);
        const error = errorOf(answer);
        assert.equal(error.code, "bad_gateway");
        assert.ok(error.message.includes(url), error.message);
        assert.match(error.hint ?? "", /SANDBOX_URL|--sandbox-url/);
      }
      // A request the API itself refuses never reaches the sandbox.
      assert.equal((await call(api!.url, "POST", `${P}/start`, { body: {} })).status, 400);
    });
  });

  it("passes the caller's x-request-id to the remote sandbox, and both log the request under it (issue 14 item 7)", async () => {
    const sandbox = await startService(["serve", "--port", "0", "--safe-dir", EXAMPLES], { UZONCALC_TOKEN: "", SAFE_DIRS: "" });
    const api = await startService(["api", "--port", "0", "--sandbox-url", sandbox.url], {
      UZONCALC_TOKEN: "",
      SANDBOX_URL: "",
      SAFE_DIRS: "",
    });
    try {
      const response = await fetch(`${api.url}${P}/start`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-request-id": "trace-4711" },
        body: JSON.stringify({ file_path: BEAM }),
      });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("x-request-id"), "trace-4711");
      const logged = (service: RunningService) =>
        service.logs.some((line) => {
          try {
            const entry = JSON.parse(line) as { msg?: string; req_id?: string };
            return entry.msg === "request" && entry.req_id === "trace-4711";
          } catch {
            return false;
          }
        });
      // Request lines are written in batches, within a fifth of a second (jsonServer.ts serviceLogger).
      for (let wait = 0; wait < 40 && !(logged(api) && logged(sandbox)); wait++) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.ok(logged(api), "the API logs it");
      assert.ok(logged(sandbox), "the sandbox logs the relayed request under the same id");
    } finally {
      await api.stop();
      await sandbox.stop();
    }
  });

  describe("with a sandbox that refuses the API's tokens", () => {
    let sandbox: RunningService | undefined;
    let api: RunningService | undefined;

    before(async () => {
      sandbox = await startService(["serve", "--port", "0", "--safe-dir", EXAMPLES], { UZONCALC_TOKEN: "zeta", SAFE_DIRS: "" });
      api = await startService(["api", "--port", "0", "--sandbox-url", sandbox.url], {
        UZONCALC_TOKEN: "alpha",
        SANDBOX_URL: "",
        SAFE_DIRS: "",
      });
    });
    after(async () => {
      await api?.stop();
      await sandbox?.stop();
    });

    it("answers 502, not 401: the caller's token was right, the two services disagree", async () => {
      const answer = await call(api!.url, "POST", `${P}/start`, { token: "alpha", body: { file_path: BEAM } });
      assert.equal(answer.status, 502);
      assert.equal(errorOf(answer).code, "bad_gateway");
      assert.match(errorOf(answer).hint ?? "", /same UZONCALC_TOKEN/);
    });
  });
});

describe("/metrics and tokens (issue 13 item 17)", function () {
  this.timeout(60_000);
  it("needs a token when tokens are configured, unless --public-metrics opens it", async () => {
    for (const command of ["serve", "api"]) {
      const closed = await startService([command, "--port", "0", "--safe-dir", EXAMPLES], {
        UZONCALC_TOKEN: "alpha",
        SANDBOX_URL: "",
        SAFE_DIRS: "",
      });
      const open = await startService([command, "--port", "0", "--safe-dir", EXAMPLES, "--public-metrics"], {
        UZONCALC_TOKEN: "alpha",
        SANDBOX_URL: "",
        SAFE_DIRS: "",
      });
      try {
        assert.equal((await fetch(`${closed.url}/metrics`)).status, 401, `${command}: no token`);
        assert.equal(
          (await fetch(`${closed.url}/metrics`, { headers: { authorization: "Bearer alpha" } })).status,
          200,
          `${command}: a token`,
        );
        const scraped = await fetch(`${open.url}/metrics`);
        assert.equal(scraped.status, 200, `${command} --public-metrics`);
        const text = await scraped.text();
        assert.match(text, /uzoncalc_http_requests_total/);
        // The process's own figures beside the service's: CPU, memory, garbage collection.
        assert.match(text, /^process_cpu_seconds_total \d/m, `${command}: the process's CPU`);
        assert.match(text, /^nodejs_heap_size_used_bytes \d/m, `${command}: its heap`);
        assert.match(text, /^# TYPE nodejs_gc_duration_seconds histogram$/m, `${command}: its garbage collection`);
      } finally {
        await closed.stop();
        await open.stop();
      }
    }
  });
});

describe("what a browser can send on a page's behalf (issue 13 item 15)", function () {
  this.timeout(60_000);

  /** A raw request, with any Host and headers (fetch cannot set Host). */
  function raw(
    url: string,
    method: string,
    pathName: string,
    headers: Record<string, string>,
    body?: string,
  ): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const req = http.request(url + pathName, { method, headers }, (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on("error", reject);
      req.end(body);
    });
  }

  it("refuses a text/plain post, a Host it does not go by and another site's Origin; answers names it was given", async () => {
    const service = await startService(["serve", "--port", "0", "--safe-dir", EXAMPLES, "--allowed-host", "calc.example"], {
      UZONCALC_TOKEN: "",
      SAFE_DIRS: "",
    });
    const port = service.port;
    const sheet = JSON.stringify({
      source: 'import { p } from "uzoncalc";\nexport async function* sheet() { p("ran"); }\n',
      filename: "x.calc.ts",
    });
    try {
      const form = await raw(service.url, "POST", "/sandbox/execute", { "content-type": "text/plain" }, sheet);
      assert.equal(form.status, 415, form.text);
      assert.match(form.text, /Content-Type: application\/json \(got text\/plain\)/);
      const rebound = await raw(service.url, "GET", "/sandbox/sessions", { host: `attacker.example:${port}` });
      assert.equal(rebound.status, 403);
      assert.match(rebound.text, /does not answer to the host name 'attacker\.example:\d+'.*--allowed-host/);
      const crossSite = await raw(
        service.url,
        "POST",
        "/sandbox/execute",
        { "content-type": "application/json", origin: "https://attacker.example" },
        sheet,
      );
      assert.equal(crossSite.status, 403);
      assert.match(crossSite.text, /page at https:\/\/attacker\.example are refused/);
      // Params nested 5 000 deep (as raw JSON: no client would build them): 400, and the service goes on.
      const deepParams = `{"file_path": "beam.calc.ts", "params": ${'{"d":'.repeat(5_000)}1${"}".repeat(5_000)}}`;
      const deep = await raw(service.url, "POST", "/sandbox/execute", { "content-type": "application/json" }, deepParams);
      assert.equal(deep.status, 400, deep.text);
      assert.match(deep.text, /`params` nest deeper than 32 levels/);
      const sessions = await raw(service.url, "GET", "/sandbox/sessions", {});
      assert.deepEqual(JSON.parse(sessions.text), { sessions: [] }, "none of them ran a sheet");

      const named = await raw(service.url, "GET", "/sandbox/health", {
        host: `calc.example:${port}`,
        origin: `http://calc.example:${port}`,
      });
      assert.equal(named.status, 200, "a name it was given");
      const json = await raw(
        service.url,
        "POST",
        "/sandbox/execute",
        { "content-type": "application/json; charset=utf-8", host: `localhost:${port}` },
        sheet,
      );
      assert.equal(json.status, 200, json.text);
    } finally {
      await service.stop();
    }
  });
});

describe("stopping: a stop always ends, and the server ends with its supervisor (issue 13 item 14)", function () {
  this.timeout(60_000);

  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const until = async (what: string, check: () => boolean, ms: number) => {
    const deadline = Date.now() + ms;
    while (!check()) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  it("kill -9 of the supervising process ends the real server and its members", async () => {
    const service = await startService(["serve", "--port", "0", "--safe-dir", EXAMPLES], { UZONCALC_TOKEN: "", SAFE_DIRS: "" });
    const listening = service.logs
      .map((l) => {
        try {
          return JSON.parse(l) as { msg?: string; pid?: number };
        } catch {
          return {};
        }
      })
      .find((e) => / listening on /.test(e.msg ?? ""));
    const server = listening!.pid!;
    assert.notEqual(server, service.process.pid, "the real server is the supervisor's child (permission model)");
    // A run makes the pool start a member under the real server.
    await fetch(`${service.url}/sandbox/execute`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ file_path: "beam.calc.ts" }),
    });
    const members = childrenOf(server);
    if (process.platform === "linux") assert.ok(members.length > 0, "the server has member processes");
    service.process.kill("SIGKILL");
    await until("the real server to exit", () => !alive(server), 15_000);
    await until("its members to exit", () => members.every((pid) => !alive(pid)), 15_000);
    await assert.rejects(fetch(`${service.url}/sandbox/health`), "nothing listens any more");
  });

  it("SIGTERM answers a request that does not finish within --shutdown-timeout with 503, and exits 0", async () => {
    const service = await startService(["serve", "--port", "0", "--step-timeout", "60000", "--shutdown-timeout", "1000"], {
      UZONCALC_TOKEN: "",
      SAFE_DIRS: "",
    });
    const spinning = fetch(`${service.url}/sandbox/execute`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ source: "export async function* sheet() { for (;;) {} }\n", filename: "spin.calc.ts" }),
    });
    await new Promise((r) => setTimeout(r, 1_000));
    const stopped = Date.now();
    const exit = service.stop();
    const answer = await spinning;
    assert.equal(answer.status, 503);
    assert.match(((await answer.json()) as { error: { message: string } }).error.message, /shutdown grace of 1000 ms/);
    assert.equal(await exit, 0);
    assert.ok(Date.now() - stopped < 10_000, `stopped after ${Date.now() - stopped} ms`);
  });
});
