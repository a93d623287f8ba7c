// Builds the in-realm runtime into one classic script: the member realm (sandbox/runtime/realm.ts), with the
// per-session runtime (sandbox/runtime/driver.ts) as a function of the session's global scope that the realm
// calls once per session. Both sit inside one function, so neither is a global a sheet could name. Used by the
// build (embedded into every sandbox bundle) and, when tests run from source, by sandbox/engine/realmSource.ts.
"use strict";
const path = require("node:path");
const esbuild = require("esbuild");

const root = path.resolve(__dirname, "..");

/** @returns {import("esbuild").BuildOptions} */
function realmRuntimeOptions(entry = "driver.ts") {
  return {
    entryPoints: [path.join(root, "sandbox/runtime", entry)],
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

/** The one script, from the two bundles' texts. */
function combineRealmRuntime(sessionRuntime, memberRealm) {
  return (
    '(function () {\n"use strict";\nconst __uzon_shared_tables = new Map();\n' +
    `const __uzon_session_factory = function (globalThis) {\n${sessionRuntime}};\n` +
    `${memberRealm}})();\n`
  );
}

function buildRealmRuntimeSync() {
  const [session, realm] = ["driver.ts", "realm.ts"].map((entry) => esbuild.buildSync(realmRuntimeOptions(entry)).outputFiles[0].text);
  return combineRealmRuntime(session, realm);
}

module.exports = { realmRuntimeOptions, combineRealmRuntime, buildRealmRuntimeSync };
