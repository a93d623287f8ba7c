// The one build script: every entry point of the product, bundled by esbuild into dist/.
// `node scripts/build.mjs [--watch]`
import { createRequire } from "node:module";
import { copyFileSync, readFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const require = createRequire(import.meta.url);
const { buildRealmRuntime } = require("./realmRuntime.cjs");
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));

const started = performance.now();
/** What every Node bundle shares: one CommonJS file for Node 20 with its dependencies inside. */
const nodeBundle = { absWorkingDir: root, bundle: true, platform: "node", format: "cjs", target: "node20", logLevel: "warning" };
const realmRuntime = await buildRealmRuntime();

/** Node entries: the extension, the CLI, the local sandbox child, the sheet member and the bundles loaded on demand. */
const nodeEntries = [
  { in: "client/extension.ts", out: "extension" },
  { in: "sandbox/cli/cli.ts", out: "cli", banner: "#!/usr/bin/env node" },
  { in: "sandbox/engine/worker/realmWorker.ts", out: "sandbox-worker" },
  { in: "sandbox/service/localChild.ts", out: "sandbox" },
  // Loaded only when needed (sandbox/ownBundle.ts): the Word export, by the extension and the CLI when asked for;
  // the figures' drawing, by the sandbox when a report has a figure.
  { in: "sandbox/connect/wordReport.ts", out: "word" },
  { in: "sandbox/session/plots.ts", out: "plots" },
];

/**
 * The language server and `uzoncalc check` carry TypeScript bundled in (the user's own TypeScript, if any, is
 * not ours to load), and TypeScript's lib files beside them: a bundled TypeScript looks for them next to itself.
 * Only lib.es2022.d.ts and what it references: never lib.dom (it declares a global `Window`).
 */
const languageServerEntries = [
  { in: "server/src/server.ts", out: "server" },
  { in: "server/src/check.ts", out: "check" },
];
function copyTypeScriptLibs() {
  const from = path.join(root, "node_modules", "typescript", "lib");
  const to = path.join(root, "dist", "typescript-lib");
  rmSync(to, { recursive: true, force: true });
  mkdirSync(to, { recursive: true });
  const seen = new Set();
  const pending = ["lib.es2022.d.ts"];
  while (pending.length > 0) {
    const file = pending.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    for (const match of readFileSync(path.join(from, file), "utf8").matchAll(/^\/\/\/\s*<reference\s+lib="([^"]+)"\s*\/>/gm))
      pending.push(`lib.${match[1].toLowerCase()}.d.ts`);
  }
  for (const file of seen) copyFileSync(path.join(from, file), path.join(to, file));
  copyFileSync(path.join(root, "node_modules", "typescript", "LICENSE.txt"), path.join(to, "LICENSE.txt"));
}
copyTypeScriptLibs();
const languageServerBuild = esbuild.build({
  ...nodeBundle,
  entryPoints: languageServerEntries,
  outdir: "dist",
  // jsonc-parser's "main" is a UMD build that requires its parts at run time, which a bundle cannot follow; its
  // "module" build is plain ESM that esbuild bundles.
  mainFields: ["module", "main"],
  // TypeScript is 9 MB of the bundle: a map of it would dwarf the code and slow every build.
  sourcemap: false,
  minifyWhitespace: true,
  minifySyntax: true,
  define: {
    __UZON_RUNTIME_DTS__: JSON.stringify(readFileSync(path.join(root, "sandbox", "runtime", "uzoncalc.d.ts"), "utf8")),
    __UZON_UNITS_DTS__: JSON.stringify(readFileSync(path.join(root, "sandbox", "runtime", "uzoncalc-units.d.ts"), "utf8")),
  },
});

/**
 * What the Word export draws figures with (sandbox/connect/figureImage.ts): resvg's WebAssembly build and the one
 * font it is given, with their licences.
 */
function copyWordAssets() {
  const to = path.join(root, "dist", "word");
  mkdirSync(to, { recursive: true });
  copyFileSync(require.resolve("@resvg/resvg-wasm/index_bg.wasm"), path.join(to, "resvg.wasm"));
  const dejavu = path.dirname(require.resolve("dejavu-fonts-ttf/package.json"));
  copyFileSync(path.join(dejavu, "ttf", "DejaVuSans.ttf"), path.join(to, "DejaVuSans.ttf"));
  copyFileSync(path.join(dejavu, "LICENSE"), path.join(to, "LICENSE-DejaVu.txt"));
  const resvgWasm = require.resolve("@resvg/resvg-wasm/index_bg.wasm");
  const resvg = JSON.parse(readFileSync(path.join(path.dirname(resvgWasm), "package.json"), "utf8"));
  writeFileSync(
    path.join(to, "NOTICE.txt"),
    `resvg.wasm: @resvg/resvg-wasm ${resvg.version}, ${resvg.license}, source at https://github.com/yisibl/resvg-js\n` +
      "DejaVuSans.ttf: DejaVu fonts 2.37 (Bitstream Vera and DejaVu changes), see LICENSE-DejaVu.txt\n",
  );
}
copyWordAssets();

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
  ...nodeBundle,
  entryPoints: [
    { in: "test/vscode/index.ts", out: "index" },
    { in: "test/vscode/extension.test.ts", out: "extension.test" },
  ],
  outdir: "dist-test/vscode",
  sourcemap: "inline",
  external: ["vscode", "mocha"],
});
// The TypeScript server plugin VS Code's own TypeScript loads from node_modules/uzoncalc-tsserver-plugin (a
// file: dependency on ts-plugin/): its code and the runtime's declarations it resolves "uzoncalc" to.
copyFileSync(path.join(root, "sandbox", "runtime", "uzoncalc.d.ts"), path.join(root, "ts-plugin", "uzoncalc.d.ts"));
copyFileSync(path.join(root, "sandbox", "runtime", "uzoncalc-units.d.ts"), path.join(root, "ts-plugin", "uzoncalc-units.d.ts"));
const tsPluginBuild = esbuild.build({
  ...nodeBundle,
  entryPoints: [{ in: "ts-plugin/src/index.ts", out: "index" }],
  outdir: "ts-plugin/dist",
  // tsserver hands the plugin its own TypeScript; nothing of TypeScript is bundled.
  external: ["typescript"],
});
await Promise.all([
  webviewBuild,
  tsPluginBuild,
  languageServerBuild,
  inHostTests,
  ...nodeEntries.map((entry) =>
    esbuild.build({
      ...nodeBundle,
      entryPoints: [{ in: entry.in, out: entry.out }],
      outdir: "dist",
      sourcemap: "linked",
      // esbuild spawns its own platform binary: it stays a runtime dependency, not bundled code.
      external: ["esbuild", "vscode"],
      define: {
        __UZON_REALM_RUNTIME__: JSON.stringify(realmRuntime),
        __UZON_VERSION__: JSON.stringify(pkg.version),
      },
      banner: entry.banner ? { js: entry.banner } : undefined,
    }),
  ),
]);
console.log(
  `built ${nodeEntries.length + languageServerEntries.length + 1} entries into dist/ and the in-host tests into dist-test/ in ${Math.round(performance.now() - started)} ms`,
);
