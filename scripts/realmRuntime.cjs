// Builds the in-realm `uzoncalc` runtime (sandbox/runtime/driver.ts) into one classic script. Used by the
// build (embedded into every sandbox bundle) and, when tests run from source, by sandbox/engine/realmSource.ts.
"use strict";
const path = require("node:path");
const esbuild = require("esbuild");

const root = path.resolve(__dirname, "..");

/** @returns {import("esbuild").BuildOptions} */
function realmRuntimeOptions() {
  return {
    entryPoints: [path.join(root, "sandbox/runtime/driver.ts")],
    bundle: true,
    write: false,
    format: "iife",
    platform: "neutral",
    target: "es2022",
    charset: "utf8",
    legalComments: "none",
    logLevel: "silent",
  };
}

function buildRealmRuntimeSync() {
  const result = esbuild.buildSync(realmRuntimeOptions());
  return result.outputFiles[0].text;
}

module.exports = { realmRuntimeOptions, buildRealmRuntimeSync };
