// End-to-end harness for the UzonCalc extension: a real VS Code (code-server 4.100.3, i.e. VS Code 1.100.3 with its
// real Node extension host) driven through Debian's headless Chromium with playwright-core. Offline; CommonJS with
// no build step. Install with `bash test/e2e/install.sh`; see test/e2e/README.md.
"use strict";
const { spawn, execFileSync } = require("node:child_process");
const fs = require("node:fs");
const http = require("node:http");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");
const util = require("node:util");

const ROOT = path.resolve(__dirname, "../..");
// Everything generated (installs, run profiles, temp files, screenshots, vsix files) lives under E2E_HOME:
// <repo>/.e2e, or ~/.cache/uzoncalc-e2e when the checkout is too deep for the 45-char limit (see runDir), the same
// rule as install.sh.
function defaultHome() {
  const inRepo = path.join(ROOT, ".e2e");
  if (inRepo.length <= 45) return inRepo;
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "uzoncalc-e2e");
}
const E2E_HOME = path.resolve(process.env.E2E_HOME || defaultHome());
const TOOLS = path.join(E2E_HOME, "tools/node_modules");
const CODE_SERVER = process.env.CODE_SERVER_BIN || path.join(E2E_HOME, "cs/node_modules/.bin/code-server");
const CHROMIUM = process.env.CHROMIUM_BIN || "/usr/bin/chromium";
const SHOTS = path.resolve(process.env.E2E_SHOTS || path.join(E2E_HOME, "shots"));
const KEEP = !!process.env.E2E_KEEP; // keep run profiles and temp dirs (code-server.log, user data) for debugging
const TMP = path.join(E2E_HOME, "t"); // browser profiles, Chromium's HOME, in-host runner modules, test temp dirs

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// maxRetries: a process that is still dying may write one last file into the directory being removed.
const rm = (p) => fs.rmSync(p, { recursive: true, force: true, maxRetries: 5 });

function needInstalled(file, what) {
  if (!fs.existsSync(file)) throw new Error(`${what} not found at ${file}: run \`bash test/e2e/install.sh\` first`);
}

/** Poll fn every 200 ms until it returns something truthy, and return that. An exception from fn ends the wait. */
async function waitFor(fn, timeout = 30000, what = "condition") {
  for (const end = Date.now() + timeout; ;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await sleep(200);
  }
}

// ---- cleanup ---------------------------------------------------------------------------------------------------
// code-server and Chromium each run in a process group of their own (detached), so that stopping one kills its
// children too: the extension host, language servers, Chromium's renderers. The exit hook kills whatever group is
// still alive and removes our directories, even when a test forgot stop()/close() or the process crashed.
const liveGroups = new Set();
const ownedDirs = new Set();
const removeDir = (d) => {
  ownedDirs.delete(d);
  if (!KEEP) rm(d);
};
process.on("exit", () => {
  for (const pid of liveGroups)
    try {
      process.kill(-pid, "SIGKILL");
    } catch {}
  for (const d of ownedDirs) removeDir(d);
});
// Ctrl+C reaches only the foreground process group, not our detached ones; turning the signals into
// process.exit makes the hook above run.
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.once(sig, () => process.exit(128 + os.constants.signals[sig]));

/** SIGTERM the whole group, wait up to graceMs for the leader, then SIGKILL the group (children may linger). */
async function killGroup(proc, graceMs = 5000) {
  const running = proc.exitCode === null && proc.signalCode === null;
  const exited = new Promise((r) => (running ? proc.once("exit", r) : r()));
  try {
    process.kill(-proc.pid, "SIGTERM");
  } catch {}
  await Promise.race([exited, new Promise((r) => setTimeout(r, graceMs).unref())]);
  try {
    process.kill(-proc.pid, "SIGKILL");
  } catch {}
  liveGroups.delete(proc.pid);
}

/** A fresh directory under $E2E_HOME/t, removed at stop/exit (kept with E2E_KEEP=1). Tests write nothing to /tmp. */
function tempDir(prefix = "tmp-") {
  fs.mkdirSync(TMP, { recursive: true });
  const dir = fs.mkdtempSync(path.join(TMP, prefix));
  ownedDirs.add(dir);
  return dir;
}
const removeTempDir = removeDir;

// Gotcha: unix socket paths must be shorter than 108 bytes. The extension host creates
// $TMPDIR/vscode-ipc-<uuid>.sock and code-server <user-data-dir>/code-server-ipc.sock. Each run directory is the
// server's TMPDIR, which gives $E2E_HOME/p/xxxxxx/vscode-ipc-<36>.sock = E2E_HOME + 62 chars, so E2E_HOME may
// have at most 45. Being the TMPDIR also means the .sock files left behind after SIGTERM go with the directory.
function runDir() {
  fs.mkdirSync(path.join(E2E_HOME, "p"), { recursive: true });
  const dir = fs.mkdtempSync(path.join(E2E_HOME, "p", path.sep));
  const deepest = path.join(dir, `vscode-ipc-${"x".repeat(36)}.sock`);
  if (deepest.length > 107) {
    rm(dir);
    throw new Error(
      `E2E_HOME is too long for unix sockets (${deepest.length} > 107 bytes): use a path of at most 45 chars, not ${E2E_HOME}`,
    );
  }
  ownedDirs.add(dir);
  return dir;
}

// ---- code-server -----------------------------------------------------------------------------------------------
// Any code-server run, even --version, writes ~/.config/code-server/config.yaml and ~/.local/share/code-server:
// --config and the XDG variables keep all of it inside the run directory.
function csArgs(dir, { userDataDir, extensionsDir }) {
  return ["--config", path.join(dir, "config.yaml"), "--user-data-dir", userDataDir, "--extensions-dir", extensionsDir];
}
function csEnv(dir, extra = {}) {
  return {
    ...process.env,
    // Gotcha: no extension gallery. Offline, open-vsx.org lookups only produce `getaddrinfo ENOTFOUND` noise.
    EXTENSIONS_GALLERY: "{}",
    ...extra, // reaches the extension host, which inherits code-server's environment
    TMPDIR: dir,
    XDG_CONFIG_HOME: path.join(dir, "h/config"),
    XDG_DATA_HOME: path.join(dir, "h/data"),
    XDG_CACHE_HOME: path.join(dir, "h/cache"),
  };
}

/** Install a .vsix into extensionsDir with code-server's CLI; no server needed, about 1 s. */
function installVsix(vsix, { extensionsDir, userDataDir, dir } = {}) {
  needInstalled(CODE_SERVER, "code-server");
  const own = !dir;
  dir = dir || runDir();
  try {
    const o = { extensionsDir: extensionsDir || path.join(dir, "x"), userDataDir: userDataDir || path.join(dir, "u") };
    execFileSync(CODE_SERVER, [...csArgs(dir, o), "--install-extension", path.resolve(vsix), "--force"], {
      env: csEnv(dir),
      stdio: "pipe",
      timeout: 120000,
    });
  } finally {
    if (own) removeDir(dir);
  }
}

/**
 * Package an extension folder into a .vsix with vsce (the project's own node_modules/.bin/vsce if it has one,
 * else the one install.sh put in $E2E_HOME/tools). --no-dependencies when package.json has no dependencies:
 * an extension with runtime dependencies needs its node_modules in the vsix, or a bundle.
 */
function packageVsix(extDir, out = path.join(E2E_HOME, "vsix", path.basename(extDir) + ".vsix")) {
  const pkg = JSON.parse(fs.readFileSync(path.join(extDir, "package.json"), "utf8"));
  const deps = Object.keys(pkg.dependencies || {}).length ? [] : ["--no-dependencies"];
  const own = path.join(ROOT, "node_modules/.bin/vsce");
  const vsce = fs.existsSync(own) ? own : path.join(TOOLS, ".bin/vsce");
  needInstalled(vsce, "vsce");
  fs.mkdirSync(path.dirname(out), { recursive: true });
  // Gotcha: vsce prompts (and so hangs without stdin) when LICENSE or `repository` is missing.
  execFileSync(vsce, ["package", ...deps, "--allow-missing-repository", "--skip-license", "-o", out], {
    cwd: extDir,
    stdio: "pipe",
    timeout: 120000,
  });
  return out;
}

// Written into User/settings.json of a fresh profile: a quiet, offline, deterministic workbench.
const QUIET_SETTINGS = {
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.enableExperiments": false,
  "workbench.welcomePage.walkthroughs.openOnInstall": false,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "extensions.autoUpdate": false,
  "extensions.autoCheckUpdates": false,
  "extensions.ignoreRecommendations": true,
  "security.workspace.trust.enabled": false,
  "git.enabled": false,
  "window.restoreWindows": "none",
  "files.hotExit": "off",
  "chat.commandCenter.enabled": false,
};

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}
const statusOf = (url) =>
  new Promise((resolve) =>
    http
      .get(url, (res) => {
        res.resume();
        resolve(res.statusCode);
      })
      .on("error", () => resolve(0)),
  );

/**
 * Start code-server on a free 127.0.0.1 port, without auth, and wait for GET /healthz.
 * Options: vsix (path or list, installed first), settings (merged over QUIET_SETTINGS when the profile has no
 * settings.json yet), env (reaches the extension host), args (extra CLI flags), userDataDir/extensionsDir
 * (default: a fresh profile in $E2E_HOME/p/<id>), trust (keep Workspace Trust on: folders open in Restricted Mode).
 * Resolves { url, port, pid, dir, log, userDataDir, extensionsDir, stop() }; stop() kills the process group and
 * deletes the profile.
 */
async function startCodeServer({ extensionsDir, userDataDir, vsix = [], settings = {}, env = {}, args = [], trust = false } = {}) {
  needInstalled(CODE_SERVER, "code-server");
  const dir = runDir();
  const o = { dir, extensionsDir: extensionsDir || path.join(dir, "x"), userDataDir: userDataDir || path.join(dir, "u") };
  const settingsFile = path.join(o.userDataDir, "User/settings.json");
  if (!fs.existsSync(settingsFile)) {
    fs.mkdirSync(path.dirname(settingsFile), { recursive: true });
    fs.writeFileSync(settingsFile, JSON.stringify({ ...QUIET_SETTINGS, ...settings }, null, 2));
  }
  try {
    for (const v of [].concat(vsix)) installVsix(v, o);
  } catch (e) {
    removeDir(dir);
    throw e;
  }
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const log = path.join(dir, "code-server.log");
  const fd = fs.openSync(log, "a");
  // Note: code-server's CLI rejects --extensionDevelopmentPath/--extensionTestsPath ("Unknown option"); those go
  // through the workbench URL instead (openWorkbench's devPath, runExtensionTests).
  const proc = spawn(
    CODE_SERVER,
    [
      ...csArgs(dir, o),
      "--bind-addr",
      `127.0.0.1:${port}`,
      "--auth",
      "none",
      "--disable-telemetry",
      "--disable-update-check",
      ...(trust ? [] : ["--disable-workspace-trust"]),
      "--disable-getting-started-override",
      "--ignore-last-opened",
      ...args,
    ],
    { env: csEnv(dir, env), stdio: ["ignore", fd, fd], detached: true },
  );
  fs.closeSync(fd);
  liveGroups.add(proc.pid);
  const stop = async () => {
    await killGroup(proc);
    removeDir(dir);
  };
  try {
    await waitFor(
      async () => {
        if (proc.exitCode !== null)
          throw new Error(`code-server exited with ${proc.exitCode}:\n${fs.readFileSync(log, "utf8").slice(-2000)}`);
        return (await statusOf(url + "/healthz")) === 200;
      },
      60000,
      "code-server /healthz",
    );
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, port, pid: proc.pid, log, ...o, stop };
}

// ---- Chromium --------------------------------------------------------------------------------------------------
// The flags that work on this kind of machine (as root, closed network): without the background-networking ones,
// Chromium's own connections are refused by the closed network, many at a time. --disable-dev-shm-usage: small
// /dev/shm in containers. Not --disable-crashpad-for-testing: with it, navigating to the workbench fails with
// net::ERR_ABORTED (crashpad's two processes exit by themselves within a second of Chromium's death).
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];
const baseOf = new WeakMap(); // page -> code-server URL, for vscode-remote:// URIs

/**
 * Launch one headless Chromium (one per test file). newPage() gives a page in a fresh context: a clean IndexedDB,
 * so no restored editors or hot-exit documents from an earlier test. withPage(name, fn) closes the context
 * afterwards and, when fn throws, leaves $E2E_SHOTS/<name>-FAILED.png.
 */
async function launchBrowser({ baseURL, viewport = { width: 1400, height: 900 } } = {}) {
  needInstalled(path.join(TOOLS, "playwright-core"), "playwright-core");
  needInstalled(CHROMIUM, "Chromium");
  const { chromium } = require(path.join(TOOLS, "playwright-core"));
  // Playwright puts its profile and artifacts in os.tmpdir(): keep them inside E2E_HOME instead of /tmp.
  fs.mkdirSync(TMP, { recursive: true });
  process.env.TMPDIR = TMP;
  // Chromium writes ~/.config/chromium/Crash Reports, ~/.cache/dconf and $TMPDIR/org.chromium.Chromium.* even with
  // its own profile, so it gets a throwaway HOME and TMPDIR.
  const home = tempDir("chromium-");
  // Gotcha: launchServer() + newContext(), not launchPersistentContext(): with a persistent context the default tab
  // is pages()[0], a newPage() becomes a second tab, and screenshots of the first come out blank. launchServer()
  // rather than launch() because only it exposes the PID, so close() can kill the whole process group.
  const server = await chromium.launchServer({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    env: {
      ...process.env,
      HOME: home,
      TMPDIR: home,
      XDG_CONFIG_HOME: path.join(home, ".config"),
      XDG_CACHE_HOME: path.join(home, ".cache"),
    },
  });
  const proc = server.process();
  liveGroups.add(proc.pid);
  const browser = await chromium.connect(server.wsEndpoint());
  const newPage = async () => {
    const page = await (await browser.newContext({ baseURL, viewport })).newPage();
    baseOf.set(page, baseURL);
    return page;
  };
  const withPage = async (name, fn) => {
    const page = await newPage();
    try {
      return await fn(page);
    } catch (e) {
      await shot(page, name + "-FAILED");
      throw e;
    } finally {
      await page
        .context()
        .close()
        .catch(() => {});
    }
  };
  const close = async () => {
    await browser.close().catch(() => {});
    await server.close().catch(() => {});
    await killGroup(proc, 2000);
    removeDir(home);
  };
  return { browser, pid: proc.pid, newPage, withPage, close };
}

// ---- the workbench ---------------------------------------------------------------------------------------------
/** vscode-remote:// URI of a local file; the authority must be the host:port the browser uses. */
function remoteUri(page, file) {
  const base = baseOf.get(page);
  if (!base) throw new Error("create the page with launchBrowser({ baseURL }).newPage() or withPage()");
  return `vscode-remote://${new URL(base).host}${path.resolve(file)}`;
}
function workbenchUrl(page, folder, payload) {
  const q = new URLSearchParams({ folder: path.resolve(folder) });
  if (payload) q.set("payload", JSON.stringify([...payload, ["skipWelcome", "true"]]));
  return "/?" + q;
}

/**
 * Open a folder and wait until the workbench is interactive (3-7 s). devPath loads an extension from source, as
 * --extensionDevelopmentPath does in desktop VS Code; it overrides an installed vsix with the same id.
 */
async function openWorkbench(page, folder, { devPath, timeout = 60000 } = {}) {
  await page.goto(workbenchUrl(page, folder, devPath && [["extensionDevelopmentPath", remoteUri(page, devPath)]]));
  await page.locator(".monaco-workbench .part.statusbar").waitFor({ timeout });
  // Flake fix: the status bar alone is too early. The explorer lists the folder only once the remote file system
  // is connected; pressing F1 before that sometimes never shows the command.
  await page.locator(".explorer-folders-view .monaco-list-row").first().waitFor({ timeout });
}

/**
 * Run a command by its palette title: F1, type the title with plain keyboard input, wait until the *focused* row
 * shows it (flake fix: Enter on a list that is still filtering picks the wrong row or none), then Enter. Returns
 * when Enter was pressed (Date.now()).
 * Browser-reserved keys (Ctrl+W, Ctrl+N, Ctrl+T) cannot be tested; F1, Ctrl+Shift+P and Ctrl+Shift+M work.
 */
async function runCommand(page, title, timeout = 45000) {
  // Flake fix: the palette lists the commands known when it opens. Right after start-up an installed extension's
  // contributions may not be registered yet, and an open palette never picks them up: close it and ask again.
  const deadline = Date.now() + timeout;
  for (;;) {
    await page.keyboard.press("F1");
    await page.locator(".quick-input-widget input.input").waitFor({ state: "visible", timeout: 10000 });
    await page.keyboard.type(title);
    const wait = Math.max(1000, Math.min(10000, deadline - Date.now()));
    try {
      await page.locator(".quick-input-widget .monaco-list-row.focused", { hasText: title }).waitFor({ timeout: wait });
      break;
    } catch (error) {
      if (Date.now() >= deadline) throw error;
      await page.keyboard.press("Escape");
      await page
        .locator(".quick-input-widget")
        .waitFor({ state: "hidden", timeout: 5000 })
        .catch(() => {});
    }
  }
  // When Enter went down: a timing measured from when press() returns starts late, by as long as a busy
  // workbench takes to take the key (seen: 0.75 s, after the command had already run).
  const enterAt = Date.now();
  await page.keyboard.press("Enter");
  return enterAt;
}

/** Wait for a notification toast containing text; returns its locator. */
async function waitForNotification(page, text, timeout = 15000) {
  const item = page.locator(".notifications-toasts .notification-list-item", { hasText: text }).first();
  await item.waitFor({ timeout });
  return item;
}

/**
 * The frame of the webview whose document contains selector. Each webview is an outer iframe.webview
 * (…/webview/browser/pre/index.html) holding an inner iframe#active-frame (fake.html) with the extension's HTML.
 * Both are served by code-server itself, not vscode-cdn.net, so this works offline. Give the first webview 30 s.
 */
async function webviewFrameWith(page, selector, timeout = 30000) {
  return waitFor(
    async () => {
      for (const f of page.frames()) {
        if (!f.url().includes("/webview/browser/pre/")) continue;
        try {
          if (await f.$(selector)) return f;
        } catch {
          /* the frame went away while we looked */
        }
      }
    },
    timeout,
    `a webview containing ${selector}`,
  );
}

// ---- in-host tests ---------------------------------------------------------------------------------------------
// Gotcha (harmless noise): workbench chatter that reaches codeAutomationLog in every run; not echoed. Other noise,
// in code-server.log or the page console only: 404s for node_modules/vsda/rust/web/vsda*.{js,wasm} (a Microsoft-only
// module absent from OSS builds), "The web worker extension host is started in a same-origin iframe".
const NOISE =
  /^(Ignoring fetching additional builtin|Updating additional builtin|ChatSessionStore|\[lifecycle\] Long running|Resolv|Creating a socket|\[Service Worker\]|Started local extension host|Loading development extension|Could not identify extension for 'vscode' require|Creation of workbench contribution)/;

/**
 * Run a test module (extensionTestsPath: `exports.run = () => Promise`) inside code-server's real Node extension
 * host, the way @vscode/test-web does it: the CLI rejects --extensionDevelopmentPath/--extensionTestsPath, but the
 * workbench URL takes them as a `payload`, and the workbench reports through window.codeAutomationLog (the host's
 * console) and window.codeAutomationExit (0 = run() resolved, 1 = it rejected or failed to load).
 * Use a fresh page per run: exposeFunction names can be registered only once per page. A fresh page is also a
 * fresh extension host. Resolves { code, lines }.
 */
async function runExtensionTests(page, { devPath, testsPath, folder, timeout = 120000, echo = true }) {
  const lines = [];
  let exit;
  const exited = new Promise((r) => (exit = r));
  await page.exposeFunction("codeAutomationLog", (type, args) => {
    const line = util.format(...(args || []));
    lines.push(line);
    if (echo && line.trim() && !NOISE.test(line)) console.log(`  [ext-host ${type}] ${line}`);
  });
  await page.exposeFunction("codeAutomationExit", (code) => exit(code));
  await page.goto(
    workbenchUrl(page, folder, [
      ["extensionDevelopmentPath", remoteUri(page, devPath)],
      ["extensionTestsPath", remoteUri(page, testsPath)],
    ]),
  );
  let timer;
  const code = await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, timeout, "timeout")))]);
  clearTimeout(timer);
  if (code === "timeout") throw new Error(`extension tests did not finish in ${timeout} ms:\n${lines.slice(-20).join("\n")}`);
  return { code, lines };
}

/** mocha for in-host suites: the project's devDependency when node_modules has it, else install.sh's copy. */
function mochaPath() {
  try {
    return require.resolve("mocha", { paths: [ROOT] });
  } catch {}
  const fallback = path.join(TOOLS, "mocha");
  needInstalled(fallback, "mocha");
  return require.resolve(fallback);
}

function collectSpecs(entries) {
  const out = [];
  const walk = (dir) => {
    for (const n of fs.readdirSync(dir).sort()) {
      const p = path.join(dir, n);
      if (fs.statSync(p).isDirectory()) {
        if (n !== "node_modules") walk(p);
      } else if (/\.test\.c?js$/.test(n)) out.push(p);
    }
  };
  for (const e of [].concat(entries)) {
    const p = path.resolve(e);
    if (fs.statSync(p).isDirectory()) walk(p);
    else out.push(p);
  }
  return out;
}

/**
 * Run a mocha suite inside the real extension host and return its counts. files: spec files, or folders searched
 * for *.test.js / *.test.cjs (plain JS: the extension host loads them with require, there is no transpiler).
 * The harness writes a small runner module (the usual mocha index.js of @vscode/test-electron) into a temp dir
 * and passes it as extensionTestsPath; the runner writes mocha's stats to a JSON file next to itself.
 * Resolves { code, passes, failures, pending, tests, failed: [{ title, error }], lines }.
 */
async function runMochaInHost(page, { devPath, folder, files, ui = "tdd", testTimeout = 30000, grep, timeout = 180000, echo = true }) {
  const specs = collectSpecs(files);
  if (!specs.length) throw new Error(`no spec files in ${[].concat(files).join(", ")}`);
  const dir = tempDir("inhost-");
  const result = path.join(dir, "result.json");
  const opts = { ui, timeout: testTimeout, color: false, reporter: "spec", ...(grep ? { grep } : {}) };
  fs.writeFileSync(
    path.join(dir, "index.js"),
    `'use strict';
// Generated by test/e2e/harness.js: runs mocha inside the extension host and records its stats.
const fs = require('fs');
const Mocha = require(${JSON.stringify(mochaPath())});
exports.run = () => new Promise((resolve, reject) => {
  const failed = [];
  const write = (stats) => fs.writeFileSync(${JSON.stringify(result)}, JSON.stringify({ ...stats, failed }));
  try {
    const mocha = new Mocha(${JSON.stringify(opts)});
    for (const f of ${JSON.stringify(specs)}) mocha.addFile(f);
    const runner = mocha.run((failures) => {
      write(runner.stats);
      failures ? reject(new Error(failures + ' in-host test(s) failed')) : resolve();
    });
    runner.on('fail', (t, err) => failed.push({ title: t.fullTitle(), error: String((err && err.message) || err) }));
  } catch (e) { write({ passes: 0, failures: 1, pending: 0, tests: 0, loadError: String(e && e.stack || e) }); reject(e); }
});
`,
  );
  try {
    const { code, lines } = await runExtensionTests(page, { devPath, testsPath: path.join(dir, "index.js"), folder, timeout, echo });
    if (!fs.existsSync(result)) {
      throw new Error(`the in-host runner did not report (exit code ${code}); last lines:\n${lines.slice(-20).join("\n")}`);
    }
    const s = JSON.parse(fs.readFileSync(result, "utf8"));
    return {
      code,
      passes: s.passes,
      failures: s.failures,
      pending: s.pending,
      tests: s.tests,
      failed: s.failed,
      loadError: s.loadError,
      lines,
    };
  } finally {
    removeDir(dir);
  }
}

// ---- screenshots -----------------------------------------------------------------------------------------------
/** Screenshot to $E2E_SHOTS/<name>.png. Never throws (safe in catch blocks); returns the path, or null. */
async function shot(page, name) {
  const file = path.join(SHOTS, name.replace(/[^\w.-]+/g, "_") + ".png");
  fs.mkdirSync(SHOTS, { recursive: true });
  return page.screenshot({ path: file }).then(
    () => file,
    () => null,
  );
}

module.exports = {
  freePort,
  ROOT,
  E2E_HOME,
  SHOTS,
  QUIET_SETTINGS,
  startCodeServer,
  installVsix,
  packageVsix,
  launchBrowser,
  openWorkbench,
  runCommand,
  waitForNotification,
  webviewFrameWith,
  waitFor,
  runExtensionTests,
  runMochaInHost,
  shot,
  tempDir,
  removeTempDir,
};
