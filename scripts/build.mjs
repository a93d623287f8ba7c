// The one build script: every entry point of the product, bundled by esbuild into dist/.
// `node scripts/build.mjs [--watch]`
import { createRequire } from "node:module";
import { readFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const require = createRequire(import.meta.url);
const { buildRealmRuntimeSync } = require("./realmRuntime.cjs");
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));

const started = performance.now();
const realmRuntime = buildRealmRuntimeSync();

/** Node entries: the CLI (and, as they arrive, the sandbox child, the extension and the language server). */
const nodeEntries = [
  { in: "sandbox/src/cli.ts", out: "cli", banner: "#!/usr/bin/env node" },
  { in: "sandbox/src/worker/realmWorker.ts", out: "sandbox-worker" },
  { in: "sandbox/src/child.ts", out: "sandbox" },
];

mkdirSync(path.join(root, "dist"), { recursive: true });
await Promise.all(
  nodeEntries.map((entry) =>
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
);
console.log(`built ${nodeEntries.length} entr${nodeEntries.length === 1 ? "y" : "ies"} into dist/ in ${Math.round(performance.now() - started)} ms`);
