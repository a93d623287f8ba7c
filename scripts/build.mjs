// The one build script: every entry point of the product, bundled by esbuild into dist/.
// `node scripts/build.mjs [--watch]`
import { createRequire } from "node:module";
import { copyFileSync, readFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const require = createRequire(import.meta.url);
const { buildRealmRuntimeSync } = require("./realmRuntime.cjs");
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));

const started = performance.now();
const realmRuntime = buildRealmRuntimeSync();

/** Node entries: the extension, the CLI, the local sandbox child and the sheet member. */
const nodeEntries = [
  { in: "client/extension.ts", out: "extension" },
  { in: "sandbox/src/cli.ts", out: "cli", banner: "#!/usr/bin/env node" },
  { in: "sandbox/src/worker/realmWorker.ts", out: "sandbox-worker" },
  { in: "sandbox/src/child.ts", out: "sandbox" },
];

mkdirSync(path.join(root, "dist", "webview"), { recursive: true });
copyFileSync(path.join(root, "webview", "panel.css"), path.join(root, "dist", "webview", "panel.css"));
const webviewBuild = esbuild.build({
  absWorkingDir: root,
  entryPoints: [{ in: "webview/panel.ts", out: "panel" }],
  outdir: "dist/webview",
  bundle: true,
  platform: "browser",
  format: "iife",
  target: "es2022",
  minify: true,
  sourcemap: "linked",
  logLevel: "warning",
});
// The in-host test suite (extensionTestsPath): its own folder, so the shipped dist/ holds no tests.
const inHostTests = esbuild.build({
  absWorkingDir: root,
  entryPoints: [
    { in: "test/vscode/index.ts", out: "index" },
    { in: "test/vscode/extension.test.ts", out: "extension.test" },
  ],
  outdir: "dist-test/vscode",
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  sourcemap: "inline",
  external: ["vscode", "mocha"],
  logLevel: "warning",
});
await Promise.all([
  webviewBuild,
  inHostTests,
  ...nodeEntries.map((entry) =>
    esbuild.build({
      absWorkingDir: root,
      entryPoints: [{ in: entry.in, out: entry.out }],
      outdir: "dist",
      bundle: true,
      platform: "node",
      format: "cjs",
      target: "node20",
      sourcemap: "linked",
      // esbuild spawns its own platform binary: it stays a runtime dependency, not bundled code.
      external: ["esbuild", "vscode"],
      define: {
        __UZON_REALM_RUNTIME__: JSON.stringify(realmRuntime),
        __UZON_VERSION__: JSON.stringify(pkg.version),
      },
      banner: entry.banner ? { js: entry.banner } : undefined,
      logLevel: "warning",
    }),
  ),
]);
console.log(`built ${nodeEntries.length + 1} entries into dist/ and the in-host tests into dist-test/ in ${Math.round(performance.now() - started)} ms`);
