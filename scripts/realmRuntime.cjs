// Builds the in-realm runtime into one classic script, in three parts, all inside one function so that none is
// a global a sheet could name:
// - the member library: the runtime's stateless modules (SHARED_MODULES), evaluated once per member realm and
//   frozen with its intrinsics;
// - the per-session runtime (sandbox/runtime/driver.ts) as a function of the session's global scope, which the
//   realm calls once per session. Its imports of the library's modules read the library instead of carrying a
//   copy;
// - the member realm (sandbox/runtime/realm.ts), which hardens the realm and drives sessions.
// Why the split: whatever the per-session runtime defines at its top level is made again for every session.
// Pure functions and constant tables made once per member cost a session nothing: no closures to allocate, no
// tables to build, nothing more for the collector to copy while the session waits (issue 15, item 2).
// Used by the build (embedded into every sandbox bundle) and, when tests run from source, by
// sandbox/engine/realmSource.ts.
"use strict";
const { execFileSync } = require("node:child_process");
const path = require("node:path");
const esbuild = require("esbuild");

const root = path.resolve(__dirname, "..");

/**
 * Modules that keep no state between calls, so one copy can serve every session of a member. Whatever they hand
 * a session must be fresh or frozen (a cache's values are shared too): the cross-session battery walks what a
 * session reaches from its own API, and the build refuses a shared module that imports one not listed here.
 */
const SHARED_MODULES = [
  "protocol/json.ts",
  "protocol/html.ts",
  "protocol/limits.ts",
  "protocol/units.ts",
  "protocol/fields.ts",
  "protocol/rpc.ts",
  "protocol/plot.ts",
  "protocol/reportTemplate.ts",
  "protocol/formulaText.ts",
  "sandbox/runtime/abi.ts",
  "sandbox/runtime/sessionShared.ts",
  "sandbox/runtime/report/numbers.ts",
  "sandbox/runtime/units/quantity.ts",
];

const LIBRARY = "__uzon_library";

const common = {
  bundle: true,
  write: false,
  platform: "neutral",
  target: "es2022",
  charset: "utf8",
  legalComments: "none",
  logLevel: "silent",
};

function relative(file) {
  return path.relative(root, file).split(path.sep).join("/");
}

const exportNames = new Map();

/** The names a shared module exports at run time (types leave none); read once for both bundles that import it. */
function runtimeExports(module) {
  let names = exportNames.get(module);
  if (names === undefined) {
    const result = esbuild.buildSync({ ...common, entryPoints: [path.join(root, module)], bundle: false, format: "esm", metafile: true });
    names = Object.values(result.metafile.outputs)[0].exports;
    exportNames.set(module, names);
  }
  return names;
}

/** Imports of a shared module become a read of the member's library: `const { a, b } = library["path"]`. */
function libraryPlugin() {
  return {
    name: "uzon-member-library",
    setup(build) {
      build.onResolve({ filter: /^\./ }, async (args) => {
        if (args.pluginData === "resolving") return undefined;
        const resolved = await build.resolve(args.path, { resolveDir: args.resolveDir, kind: args.kind, pluginData: "resolving" });
        const module = relative(resolved.path);
        return SHARED_MODULES.includes(module) ? { path: module, namespace: "uzon-library" } : resolved;
      });
      build.onLoad({ filter: /.*/, namespace: "uzon-library" }, (args) => {
        const names = runtimeExports(args.path);
        return { contents: `export const { ${names.join(", ")} } = ${LIBRARY}[${JSON.stringify(args.path)}];\n`, loader: "js" };
      });
    },
  };
}

/** @returns {import("esbuild").BuildOptions} */
function realmRuntimeOptions(entry = "driver.ts") {
  return { ...common, entryPoints: [path.join(root, "sandbox/runtime", entry)], format: "iife", plugins: [libraryPlugin()] };
}

/** The library: each shared module's exports as a plain object (read once per session, not through getters). */
function buildLibrary() {
  const contents =
    SHARED_MODULES.map((module, i) => `import * as m${i} from ${JSON.stringify("./" + module)};`).join("\n") +
    `\nexport const modules = { ${SHARED_MODULES.map((module, i) => `${JSON.stringify(module)}: { ...m${i} }`).join(", ")} };\n`;
  const result = esbuild.buildSync({
    ...common,
    stdin: { contents, resolveDir: root, sourcefile: "member-library.js", loader: "js" },
    format: "iife",
    globalName: "__uzon_library_exports",
    metafile: true,
  });
  const strays = Object.keys(result.metafile.inputs).filter((input) => input !== "member-library.js" && !SHARED_MODULES.includes(input));
  if (strays.length > 0) throw new Error(`The member library's modules import modules that are not shared: ${strays.join(", ")}`);
  return result.outputFiles[0].text;
}

/** The one script, from the three bundles' texts. */
function combineRealmRuntime(library, sessionRuntime, memberRealm) {
  return (
    '(function () {\n"use strict";\n' +
    `${library}const ${LIBRARY} = __uzon_library_exports.modules;\n` +
    `const __uzon_session_factory = function (globalThis) {\n${sessionRuntime}};\n` +
    `${memberRealm}})();\n`
  );
}

async function buildRealmRuntime() {
  const [session, realm] = await Promise.all(["driver.ts", "realm.ts"].map((entry) => esbuild.build(realmRuntimeOptions(entry))));
  return combineRealmRuntime(buildLibrary(), session.outputFiles[0].text, realm.outputFiles[0].text);
}

/** For code that needs it synchronously (tests run from source): esbuild runs plugins only in its async API. */
function buildRealmRuntimeSync() {
  return execFileSync(process.execPath, [__filename], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
}

if (require.main === module) {
  buildRealmRuntime().then(
    (text) => process.stdout.write(text),
    (error) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}

module.exports = { SHARED_MODULES, realmRuntimeOptions, buildRealmRuntime, buildRealmRuntimeSync };
