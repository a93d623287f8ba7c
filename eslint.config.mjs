// ESLint for every source folder, tests included. Besides the recommended JavaScript and TypeScript rules, it
// holds the house rules, so they stand by lint rather than by care: which folder may import what.
//
//   protocol/        imports nothing outside itself (it is bundled everywhere, the sheet realm included)
//   sandbox/         knows no `vscode`
//   sandbox/runtime/ runs inside sheet realms: no package, no Node module, nothing of the host but protocol/
//                    and its modules shared by a member's sessions (scripts/realmRuntime.cjs) keep no module-level state
//   sandbox/connect/ and client/ (the extension) know no node:vm and none of the sandbox's trusted parts
//   webview/         talks to the extension only through its message union: no vscode, Node, network or host code
//   server/, ts-plugin/  know no `vscode` and no sandbox code
//   sandbox/engine/, sandbox/loader/  sit below sessions and services, and do not reach up into them

import { createRequire } from "node:module";
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

const { SHARED_MODULES } = createRequire(import.meta.url)("./scripts/realmRuntime.cjs");

/** A `no-restricted-imports` rule from [regex, why] pairs; the regex is matched against the import as written. */
function forbid(...rules) {
  return ["error", { patterns: rules.map(([regex, message]) => ({ regex, message })) }];
}

/** Realm code runs where every intrinsic is frozen: see the rule's use below. */
const REALM_ARRAYS = [
  {
    selector:
      "AssignmentExpression > MemberExpression.left[computed=true][property.type='MemberExpression'][property.property.name='length']",
    message: "Realm code grows arrays with push() (prototypes are frozen there, and a store past the end is 12× slower).",
  },
  {
    selector:
      "MemberExpression[computed=true][property.type='BinaryExpression'][property.operator='-'][property.left.type='MemberExpression'][property.left.property.name='length']:not(AssignmentExpression > .left)",
    message: "Realm code reads the last item with at(-1) (prototypes are frozen there, and a read past the end is slow).",
  },
];

const NODE_VM = ["^(node:)?vm$", "Sheets never run here: node:vm belongs to sandbox/engine/."];
const VSCODE = ["^vscode$", "Only the extension (client/) knows the vscode API."];
const TRUSTED_SANDBOX = [
  "(^|/)sandbox/(engine|loader|session|service|cli|runtime)/|^(\\.\\./)+(engine|loader|session|service|cli|runtime)/",
  "The sandbox's trusted parts stay out of the extension's bundle: reach a sandbox through sandbox/connect/.",
];
const SANDBOX = ["(^|/)sandbox/", "The language server and the TypeScript plugin share protocol/ with the sandbox, nothing else."];
const CLIENT = ["(^|/)client/", "The extension (client/) is not a library: nothing imports it."];
const UP_FROM_ENGINE = [
  "^(\\.\\./)+(session|service|connect|cli)/",
  "Engines run realms; sessions, services, transports and the CLI use them, not the other way round.",
];
const UP_FROM_LOADER = [
  "^(\\.\\./)+(engine|session|service|connect|cli)/",
  "The loader turns sheets into scripts; it knows nothing of where or how they run.",
];

export default tseslint.config(
  {
    ignores: [
      "dist/**",
      "dist-test/**",
      "out/**",
      "node_modules/**",
      ".e2e/**",
      "test-artifacts/**",
      "ts-plugin/dist/**",
      "ts-plugin/uzoncalc*.d.ts",
      // Inputs whose exact text the tests assert on (some are broken on purpose).
      "sandbox/test/fixtures/**",
      "server/test/fixtures/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, globals: { ...globals.node } },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
    },
  },
  {
    files: ["**/*.cjs", "test/e2e/**/*.js", "test/container/**/*.js"],
    languageOptions: { sourceType: "commonjs" },
    rules: { "@typescript-eslint/no-require-imports": "off", "no-empty": ["error", { allowEmptyCatch: true }] },
  },
  {
    // In a sheet a bare expression is a line of the report (`x;` shows x = value, `a < b;` the comparison), and
    // the runtime's type test checks types by expressions it never uses.
    files: ["**/*.calc.ts", "**/*.calc.js", "sandbox/runtime/types-test.ts"],
    rules: { "@typescript-eslint/no-unused-expressions": "off" },
  },
  {
    files: ["webview/**/*.ts"],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      "no-restricted-imports": forbid(
        VSCODE,
        ["^node:", "The run panel is browser code."],
        ["^\\.\\./(client|sandbox|server)/", "The run panel talks to the extension only through protocol/webview.ts's message union."],
      ),
      "no-restricted-globals": [
        "error",
        ...["fetch", "XMLHttpRequest", "WebSocket", "EventSource", "Worker", "SharedWorker"].map((name) => ({
          name,
          message: "The run panel has no network of its own: it talks to the extension through postMessage.",
        })),
      ],
    },
  },
  {
    files: ["protocol/*.ts"],
    rules: {
      "no-restricted-imports": forbid([
        "^(?!\\./)",
        "protocol/ imports nothing outside itself: everything imports it, the sheet realm included.",
      ]),
    },
  },
  {
    // Realm code runs where every intrinsic is frozen, and there growing an array by index or reading past its end
    // is 5-12× slower than push() or at(): sandbox/runtime/realm.ts (freezeReachable) says why.
    files: ["sandbox/runtime/**/*.ts", "protocol/*.ts"],
    rules: { "no-restricted-syntax": ["error", ...REALM_ARRAYS] },
  },
  {
    // The member library (scripts/realmRuntime.cjs): one copy of these modules serves every session of a member,
    // so whatever they keep at module level, every session shares.
    files: SHARED_MODULES,
    rules: {
      "no-restricted-syntax": [
        "error",
        ...REALM_ARRAYS,
        ...["Program > VariableDeclaration[kind='let']", "Program > ExportNamedDeclaration > VariableDeclaration[kind='let']"].map(
          (selector) => ({
            selector,
            message:
              "A module of the member library (scripts/realmRuntime.cjs) is shared by every session of a member: no module-level state. Keep a session's state in its runtime (driver.ts, report/, units/index.ts).",
          }),
        ),
      ],
    },
  },
  {
    files: ["sandbox/runtime/**/*.ts"],
    rules: {
      "no-restricted-imports": forbid(
        ["^[^.]", "Realm code imports no package and no Node module."],
        ["^(\\.\\./)+(engine|loader|session|service|connect|cli|test)/", "Realm code knows nothing of the host but protocol/."],
      ),
    },
  },
  { files: ["sandbox/engine/**/*.ts"], rules: { "no-restricted-imports": forbid(VSCODE, UP_FROM_ENGINE) } },
  { files: ["sandbox/loader/**/*.ts"], rules: { "no-restricted-imports": forbid(VSCODE, UP_FROM_LOADER) } },
  { files: ["sandbox/connect/**/*.ts"], rules: { "no-restricted-imports": forbid(VSCODE, NODE_VM, TRUSTED_SANDBOX) } },
  {
    files: ["sandbox/{session,service,cli}/**/*.ts", "sandbox/*.ts", "sandbox/test/**/*.ts", "bench/**/*.ts"],
    rules: { "no-restricted-imports": forbid(VSCODE) },
  },
  { files: ["client/**/*.ts"], rules: { "no-restricted-imports": forbid(NODE_VM, TRUSTED_SANDBOX) } },
  { files: ["server/**/*.ts", "ts-plugin/**/*.ts"], rules: { "no-restricted-imports": forbid(VSCODE, SANDBOX, CLIENT) } },
);
