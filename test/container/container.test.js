// The container, built and run as a team lead would run it (issue 19), with podman: no Docker daemon and no
// registry are needed. The base images the Dockerfile and docker-compose.yml name are made on this machine once
// (images.sh); the image is built from this checkout's Dockerfile, unchanged, and then:
//   - the image: runs as uid 1000 with its HEALTHCHECK;
//   - `podman run` as the Dockerfile's header says: read-only root, no capabilities, no privilege gain, healthy,
//     and a sheet run over HTTP with the token (401 without);
//   - docker-compose.yml's default services: the api in front of the sandbox, a sheet run through the api;
//   - its `replicas` profile: Redis, three sandbox replicas and nginx on 8080; a session walked across the three
//     replicas (each step asked of another one directly), then one replica killed and the run finished through
//     nginx by the others.
// podman-compose 1.0.3 (Debian's) ignores `profiles`, `pids_limit`, top-level `name:` and `depends_on: condition`,
// so services are named on its command line and health is waited for here; docker-compose.yml says so too.
//
// Usage: node --test test/container/container.test.js (after `bash test/container/install.sh`). It skips, saying
// why, only where podman cannot run containers.
"use strict";
const { describe, test, before, after } = require("node:test");
const assert = require("node:assert");
const { execFileSync, spawnSync } = require("node:child_process");
const fs = require("node:fs");
const net = require("node:net");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..", "..");
const HERE = __dirname;
const TOKEN = "container-test-token";
const PROJECT = "uzc-ct";
const INPUTS = JSON.parse(fs.readFileSync(path.join(ROOT, "examples", "beam.inputs.json"), "utf8"));
const IMAGE = "uzoncalc:local";

/** podman's environment: its configuration and storage under the cache images.sh prepares. */
const ENV = (() => {
  const env = { ...process.env };
  const line = execFileSync("bash", [path.join(HERE, "images.sh"), "--env"], { encoding: "utf8" });
  for (const [, name, value] of line.matchAll(/(\w+)=(\S+)/g)) env[name] = value;
  return env;
})();

function run(file, args, options = {}) {
  const result = spawnSync(file, args, {
    env: ENV,
    encoding: "utf8",
    timeout: options.timeout ?? 120_000,
    cwd: options.cwd ?? ROOT,
    input: "",
  });
  if (options.check !== false && result.status !== 0) {
    throw new Error(`${file} ${args.join(" ")} exited ${result.status ?? result.signal}:\n${result.stdout}\n${result.stderr}`);
  }
  return result;
}
const podman = (args, options) => run("podman", args, options);
const compose = (args, options) => run("podman-compose", ["-p", PROJECT, "-f", path.join(ROOT, "docker-compose.yml"), ...args], options);

/** Why podman cannot run containers here, or undefined when it can. */
function unavailable() {
  if (spawnSync("podman", ["--version"], { env: ENV }).status !== 0)
    return "podman is not installed (test/container/install.sh installs it with apt)";
  if (spawnSync("podman-compose", ["--version"], { env: ENV }).status !== 0) return "podman-compose is not installed";
  const info = spawnSync("podman", ["info"], { env: ENV, encoding: "utf8", timeout: 60_000 });
  if (info.status !== 0) return `podman cannot run here: ${(info.stderr || "").trim().split("\n").pop()}`;
  return undefined;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function http(method, url, { token, body, headers = {} } = {}) {
  const all = { ...headers };
  if (token) all.authorization = `Bearer ${token}`;
  if (body !== undefined) all["content-type"] = "application/json";
  const response = await fetch(url, {
    method,
    headers: all,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, body: json, text };
}

async function waitFor(what, check, timeoutMs = 90_000) {
  const until = Date.now() + timeoutMs;
  let last;
  while (Date.now() < until) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last.message}` : ""}`);
}

/** The compose project's sheets volume starts empty: filled as the README says, by a helper container running as `node`. */
function fillSheetsVolume() {
  const examples = path.join(ROOT, "examples");
  podman([
    "run",
    "--rm",
    "--user",
    "1000:1000",
    "-v",
    `${PROJECT}_calc-files:/calc/files`,
    "-v",
    `${examples}:/src:ro`,
    IMAGE,
    "sh",
    "-c",
    "cp -r /src/. /calc/files/",
  ]);
}

const healthy = (url) => waitFor(url, async () => (await http("GET", url)).status === 200);

/** A sheet answered from `inputs` in one request: the whole run over HTTP. */
function runBeam(url, token, session_id) {
  return http("POST", url, {
    token,
    body: { file_path: "/calc/files/beam.calc.ts", inputs: INPUTS, ...(session_id ? { session_id } : {}) },
  });
}

/** An HTTP request made inside a container, to its own service on 127.0.0.1 (a replica's port is not published). */
function requestInside(container, method, route, body) {
  const script = `
    const body = process.argv[1];
    const req = require("http").request({ host: "127.0.0.1", port: 3346, path: ${JSON.stringify(route)}, method: ${JSON.stringify(method)},
      headers: { authorization: "Bearer " + process.env.UZONCALC_TOKEN, "content-type": "application/json" } }, (res) => {
      let text = ""; res.setEncoding("utf8"); res.on("data", (c) => (text += c));
      res.on("end", () => { process.stdout.write(JSON.stringify({ status: res.statusCode, body: JSON.parse(text) })); });
    });
    req.on("error", (e) => { console.error(e.message); process.exit(1); });
    req.end(body);`;
  const out = podman(["exec", container, "node", "-e", script, JSON.stringify(body ?? {})]).stdout;
  return JSON.parse(out);
}

const reason = unavailable();

describe("the container, built by podman from this checkout", { skip: reason ? `skipped: ${reason}` : false }, () => {
  before(() => {
    // What docker-compose.yml asks of its environment: the token, and ports on the loopback only.
    Object.assign(ENV, { UZONCALC_TOKEN: TOKEN, UZONCALC_BIND: "127.0.0.1" });
    // Containers left from an interrupted run would hold the names and ports.
    compose(["down", "-v"], { check: false, timeout: 180_000 });
    podman(["rm", "-f", "-i", "uzc-ct-sandbox"], { check: false });
    const images = run("bash", [path.join(HERE, "images.sh")], { timeout: 900_000 });
    process.stdout.write(images.stdout);
    const started = Date.now();
    podman(["build", "--format", "docker", "-t", IMAGE, "-f", path.join(ROOT, "Dockerfile"), ROOT], { timeout: 900_000 });
    console.log(`# image ${IMAGE} built from the checkout in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  });

  after(() => {
    podman(["rm", "-f", "-i", "uzc-ct-sandbox"], { check: false });
    compose(["down", "-v"], { check: false, timeout: 180_000 });
  });

  test("the image runs as uid 1000, with a HEALTHCHECK on /sandbox/health and the service as its command", () => {
    const [image] = JSON.parse(podman(["image", "inspect", IMAGE]).stdout);
    assert.strictEqual(image.Config.User, "1000:1000");
    assert.match(
      JSON.stringify((image.Healthcheck ?? image.Config.Healthcheck)?.Test ?? []),
      /\/sandbox\/health/,
      "the docker format keeps HEALTHCHECK",
    );
    assert.deepStrictEqual(image.Config.Cmd, ["node", "dist/cli.js", "serve", "--host", "0.0.0.0"]);
    assert.ok(image.Config.Env.includes("SAFE_DIRS=/calc/files"));
  });

  test("podman run as the Dockerfile says: read-only, no capabilities, not root, healthy, and a sheet runs over HTTP", async () => {
    const port = await freePort();
    podman([
      "run",
      "-d",
      "--name",
      "uzc-ct-sandbox",
      "--read-only",
      "--tmpfs",
      "/tmp",
      "--cap-drop",
      "ALL",
      "--security-opt",
      "no-new-privileges",
      "-e",
      `UZONCALC_TOKEN=${TOKEN}`,
      "-v",
      `${path.join(ROOT, "examples")}:/calc/files:ro`,
      "-p",
      `127.0.0.1:${port}:3346`,
      IMAGE,
    ]);
    const base = `http://127.0.0.1:${port}/sandbox`;
    await healthy(`${base}/health`);
    assert.strictEqual(podman(["exec", "uzc-ct-sandbox", "id", "-u"]).stdout.trim(), "1000", "not root");
    const status = podman(["exec", "uzc-ct-sandbox", "cat", "/proc/1/status"]).stdout;
    assert.match(status, /^CapEff:\s+0000000000000000$/m, "no effective capabilities");
    assert.match(status, /^CapBnd:\s+0000000000000000$/m, "none to gain either");
    assert.match(status, /^NoNewPrivs:\s+1$/m);
    const write = podman(["exec", "uzc-ct-sandbox", "sh", "-c", "echo x > /app/planted"], { check: false });
    assert.notStrictEqual(write.status, 0);
    assert.match(write.stderr, /Read-only file system/);
    assert.strictEqual(
      podman(["exec", "uzc-ct-sandbox", "sh", "-c", "echo x > /tmp/scratch && cat /tmp/scratch"]).stdout.trim(),
      "x",
      "/tmp is a tmpfs",
    );
    // The image's own HEALTHCHECK (periodic checks need systemd, absent here: run it once).
    assert.strictEqual(podman(["healthcheck", "run", "uzc-ct-sandbox"], { check: false }).status, 0, "healthy by its HEALTHCHECK");

    assert.strictEqual((await runBeam(`${base}/execute`, undefined)).status, 401, "the token is needed");
    const done = await runBeam(`${base}/execute`, TOKEN);
    assert.strictEqual(done.status, 200, done.text);
    assert.strictEqual(done.body.status, "completed", JSON.stringify(done.body.error));
    assert.match(done.body.result, /<h1>Simply supported beam<\/h1>/);
    assert.match(done.body.result, /Bending stress/);
    // Its two figures, drawn by dist/plots.js: a bundle loaded on the first figure, read-only file system and all.
    assert.strictEqual((done.body.result.match(/<div class="uzc-plot"><svg/g) ?? []).length, 2);
    const outside = await http("POST", `${base}/execute`, { token: TOKEN, body: { file_path: "/etc/passwd" } });
    assert.strictEqual(outside.status, 403, "outside /calc/files");
    podman(["rm", "-f", "uzc-ct-sandbox"]);
  });

  test("docker-compose.yml: the api in front of the sandbox, a sheet run through the api", async () => {
    compose(["up", "-d", "--no-build", "sandbox", "api"], { timeout: 300_000 });
    fillSheetsVolume();
    await healthy("http://127.0.0.1:3346/sandbox/health");
    await healthy("http://127.0.0.1:8000/v1/calc/execution/health");
    const [sandbox] = JSON.parse(podman(["inspect", `${PROJECT}_sandbox_1`]).stdout);
    assert.strictEqual(sandbox.HostConfig.ReadonlyRootfs, true, "read_only: true");
    assert.strictEqual(sandbox.Config.User, "1000:1000");
    assert.ok((sandbox.HostConfig.CapDrop ?? []).length > 0 || JSON.stringify(sandbox.EffectiveCaps ?? []) === "[]", "cap_drop: ALL");
    assert.strictEqual(podman(["healthcheck", "run", `${PROJECT}_sandbox_1`], { check: false }).status, 0);
    // The api's own healthcheck, as docker-compose.yml declares it (podman-compose 1.0.3 mangles a CMD healthcheck
    // into a shell line that fails, so it is run here as Docker would run it: the array, exec'd in the container).
    const declared = /^\s*test: (\["CMD", "node".*\])$/m.exec(fs.readFileSync(path.join(ROOT, "docker-compose.yml"), "utf8"));
    assert.ok(declared, "the api's healthcheck in docker-compose.yml");
    const [, ...command] = JSON.parse(declared[1]);
    assert.strictEqual(podman(["exec", `${PROJECT}_api_1`, ...command], { check: false }).status, 0, "the api is healthy by its own check");

    const viaApi = await runBeam("http://127.0.0.1:8000/v1/calc/execution/start", TOKEN);
    assert.strictEqual(viaApi.status, 200, viaApi.text);
    assert.strictEqual(viaApi.body.status, "completed", JSON.stringify(viaApi.body.error));
    assert.match(viaApi.body.result, /<h1>Simply supported beam<\/h1>/);
    assert.strictEqual((await runBeam("http://127.0.0.1:8000/v1/calc/execution/start", "wrong")).status, 401);
    // The api resolved nothing itself: it relayed, and the sandbox's log has the request.
    // (Request lines are written in batches, within 200 ms.)
    await waitFor(
      "the sandbox's log line for the relayed request",
      () => /"route":"execute","status":200/.test(podman(["logs", `${PROJECT}_sandbox_1`]).stdout),
      10_000,
    );
    compose(["down", "-v"], { timeout: 180_000 });
  });

  test("the replicas profile: Redis, three replicas, nginx; a session walked across the replicas; one replica killed", async () => {
    const replicas = ["sandbox-1", "sandbox-2", "sandbox-3"];
    compose(["up", "-d", "--no-build", "redis", ...replicas, "nginx"], { timeout: 300_000 });
    fillSheetsVolume();
    const nginx = "http://127.0.0.1:8080/sandbox";
    await healthy(`${nginx}/health`);
    const containers = replicas.map((name) => `${PROJECT}_${name}_1`);
    for (const container of containers)
      await waitFor(`${container} healthy`, () => podman(["healthcheck", "run", container], { check: false }).status === 0);
    const health = await http("GET", `${nginx}/health`);
    assert.match(JSON.stringify(health.body), /redis/, "the replicas keep sessions in Redis");

    // Each step of one session is asked of another replica, directly: any replica answers any session.
    const session = `walked-${Date.now()}`;
    let step = requestInside(containers[0], "POST", "/sandbox/execute", { file_path: "/calc/files/beam.calc.ts", session_id: session });
    assert.strictEqual(step.status, 200, JSON.stringify(step.body));
    assert.strictEqual(step.body.ui.id, "geometry");
    step = requestInside(containers[1], "POST", "/sandbox/resume", { session_id: session, user_input: INPUTS.geometry });
    assert.strictEqual(step.status, 200, JSON.stringify(step.body));
    assert.strictEqual(step.body.ui.id, "loads", "replica 2 continued what replica 1 started");
    step = requestInside(containers[2], "POST", "/sandbox/resume", { session_id: session, user_input: INPUTS.loads });
    assert.strictEqual(step.body.ui.id, "material", "replica 3 continued it");

    // One replica killed: the session is finished through nginx by the others, nothing lost.
    podman(["kill", containers[0]]);
    const last = await http("POST", `${nginx}/resume`, {
      token: TOKEN,
      headers: { "x-uzoncalc-session": session },
      body: { session_id: session, user_input: INPUTS.material },
    });
    assert.strictEqual(last.status, 200, last.text);
    assert.strictEqual(last.body.status, "completed", JSON.stringify(last.body.error));
    assert.match(last.body.result, /Span L<\/td><td>7\.2 m/, "the geometry answered on replica 2 is in the report");
    const info = await http("GET", `${nginx}/session/${session}`, { token: TOKEN, headers: { "x-uzoncalc-session": session } });
    assert.strictEqual(info.body.status, "completed");
    // A new run through nginx with a replica down.
    const fresh = await runBeam(`${nginx}/execute`, TOKEN);
    assert.strictEqual(fresh.body.status, "completed", fresh.text);
    compose(["down", "-v"], { timeout: 180_000 });
  });
});

if (reason) console.log(`# container test skipped: ${reason}`);
