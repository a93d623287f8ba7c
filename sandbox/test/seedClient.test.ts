// Teams coming from UzonCalc have its Python RemoteSandboxClient wired into their back ends. Here that client,
// unmodified (fixtures/seed-client/client.py, MIT, checked byte for byte), drives `uzoncalc serve` through every
// method it has, with Debian's python3-httpx. And `POST /sandbox/cancel/{id}`, how that client cancels, answers
// exactly as the body form does, on `serve` and on `uzoncalc api` (in front of a serve it relays to).

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { execFile, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { ExecutionResponse } from "../../protocol/rpc";
import { startService, type RunningService } from "./support/processes";

const ROOT = path.resolve(__dirname, "..", "..");
const EXAMPLES = path.join(ROOT, "examples");
const BEAM = path.join(EXAMPLES, "beam.calc.ts");
const ANSWERS = JSON.parse(fs.readFileSync(path.join(EXAMPLES, "beam.inputs.json"), "utf8")) as Record<string, Record<string, unknown>>;
const SEED_CLIENT = path.join(__dirname, "fixtures", "seed-client");
const SEED_CLIENT_SHA256 = "b8308b355033c7cd08b9bebbd49596fea8723604c2624b83e5bcc97b5cf23869";
/** Debian's Python, where python3-httpx is installed (a pyenv or venv python3 on PATH may not have it). */
const PYTHON = "/usr/bin/python3";

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

async function post(url: string, token: string | undefined, body?: unknown): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(url, { method: "POST", headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function pythonHas(module: string): boolean {
  return fs.existsSync(PYTHON) && spawnSync(PYTHON, ["-c", `import ${module}`]).status === 0;
}

describe("the seed's Python client against uzoncalc serve (issue 20)", function () {
  this.timeout(90_000);

  describe("POST …/cancel/{id} answers as the body form does", () => {
    let serve: RunningService;
    let api: RunningService;
    before(async () => {
      const tokens = { UZONCALC_TOKEN: "alpha,beta" };
      serve = await startService(["serve", "--port", "0", "--safe-dir", EXAMPLES, "--members", "1"], tokens);
      api = await startService(["api", "--port", "0", "--sandbox-url", serve.url], tokens);
    });
    after(async () => {
      await api?.stop();
      await serve?.stop();
    });

    for (const face of ["serve", "api"] as const) {
      it(`on ${face === "serve" ? "uzoncalc serve (/sandbox)" : "uzoncalc api relaying to serve (/v1/calc/execution)"}: tokens, 404, 409, 200 again`, async () => {
        const base = face === "serve" ? `${serve.url}/sandbox` : `${api.url}/v1/calc/execution`;
        const start = `${base}/${face === "serve" ? "execute" : "start"}`;
        const open = async (id: string) => {
          const answer = await post(start, "alpha", { file_path: BEAM, session_id: id });
          assert.equal(answer.status, 200, JSON.stringify(answer.body));
          assert.equal((answer.body as unknown as ExecutionResponse).status, "waiting_ui");
        };
        // Each case through both forms: the same status and the same body.
        const both = async (id: string, token: string | undefined, expected: number) => {
          const byPath = await post(`${base}/cancel/${id}`, token);
          const byBody = await post(`${base}/cancel`, token, { session_id: id });
          assert.equal(byPath.status, expected, JSON.stringify(byPath.body));
          assert.deepEqual(byPath, byBody, "the path form answers exactly as the body form");
          return byPath;
        };
        const id = `path-cancel-${face}`;
        await open(id);
        assert.equal((await post(`${base}/cancel/${id}`, undefined)).status, 401, "no token");
        assert.equal((await post(`${base}/cancel/${id}`, "beta")).status, 404, "another token's session");
        const cancelled = await post(`${base}/cancel/${id}`, "alpha");
        assert.deepEqual(cancelled, { status: 200, body: { status: "cancelled", session_id: id } });
        await both(id, "alpha", 200); // cancel of a cancelled run answers 200 again
        await both("no-such-session", "alpha", 404);
        // A finished run: 409, and it stays finished.
        const done = `path-done-${face}`;
        let step = (await post(start, "alpha", { file_path: BEAM, session_id: done, inputs: ANSWERS }))
          .body as unknown as ExecutionResponse;
        assert.equal(step.status, "completed");
        const refused = await both(done, "alpha", 409);
        assert.equal((refused.body.error as { code: string }).code, "conflict");
        step = (await post(start, "alpha", { file_path: BEAM, session_id: done })).body as unknown as ExecutionResponse;
        assert.notEqual(step.status, "cancelled");
        // An id that is not one: refused as the body form refuses it.
        await both("bad%20id", "alpha", 400);
      });
    }
  });

  describe("RemoteSandboxClient (client.py, unmodified) drives every method", () => {
    let serve: RunningService;
    before(async function () {
      if (!pythonHas("httpx")) {
        console.log(
          `      skipped: ${PYTHON} with httpx is not installed (Debian: python3-httpx; scripts/install-services.sh installs it)`,
        );
        this.skip();
      }
      // The seed's client sends no token: a team runs it against a service without one, as the seed did.
      serve = await startService(["serve", "--port", "0", "--safe-dir", EXAMPLES, "--members", "1"], { UZONCALC_TOKEN: "" });
    });
    after(async () => {
      await serve?.stop();
    });

    it("is the seed's own file, byte for byte", () => {
      const digest = createHash("sha256")
        .update(fs.readFileSync(path.join(SEED_CLIENT, "client.py")))
        .digest("hex");
      assert.equal(digest, SEED_CLIENT_SHA256);
      assert.match(fs.readFileSync(path.join(SEED_CLIENT, "LICENSE"), "utf8"), /^MIT License\n\nCopyright \(c\) 2026 uyoufu/);
    });

    it("execute, resume to completion, get_session, get_sessions, invalidate_cache and cancel all work", async () => {
      const stdout = await new Promise<string>((resolve, reject) =>
        execFile(
          PYTHON,
          [path.join(SEED_CLIENT, "drive.py"), serve.url, BEAM, path.join(EXAMPLES, "beam.inputs.json")],
          { timeout: 60_000 },
          (error, out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out)),
        ),
      );
      const seen = JSON.parse(stdout) as Record<string, unknown>;
      assert.deepEqual(seen.run, [
        { status: "waiting_ui", window: "geometry", has_result: false },
        { status: "waiting_ui", window: "loads", has_result: false },
        { status: "waiting_ui", window: "material", has_result: false },
        { status: "completed", window: null, has_result: true },
      ]);
      assert.match(seen.result_head as string, /^<!DOCTYPE html>/i);
      const session = seen.get_session as Record<string, unknown>;
      assert.equal(session.session_id, "seed-run");
      assert.equal(session.status, "completed");
      assert.equal(seen.get_session_unknown, null, "the client's None for an unknown session (our 404)");
      const sessions = (seen.get_sessions as { sessions: { session_id: string }[] }).sessions.map((s) => s.session_id);
      assert.ok(sessions.includes("seed-run"), JSON.stringify(seen.get_sessions));
      assert.equal((seen.invalidate_cache as { status: string }).status, "ok");
      assert.equal(seen.cancel_waiting, "waiting_ui");
      assert.deepEqual(seen.cancel, { status: "cancelled", session_id: "seed-cancel" }, "the path form the client uses (was a 404)");
      assert.deepEqual(seen.cancel_again, { status: "cancelled", session_id: "seed-cancel" });
      const finished = seen.cancel_finished as { status: string; error: string };
      assert.equal(finished.status, "error", "a finished run is not cancelled: the client reports our 409 as its error");
      assert.match(finished.error, /409/);
      assert.equal((seen.get_session_cancelled as { status: string }).status, "cancelled");
    });
  });
});
