// The house rules are lint rules (eslint.config.mjs): each one is shown here to catch a planted breach, and to
// let through what the code really does, so a rule that stopped matching (a moved folder, a typo in a pattern)
// fails a test instead of passing silently.

import assert from "node:assert/strict";
import * as path from "node:path";
import { ESLint } from "eslint";

const ROOT = path.resolve(__dirname, "..");
const eslint = new ESLint({ cwd: ROOT });

/** The house-rule messages ESLint gives `code` as if it were the file at `file` (it need not exist). */
async function breaches(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  return result!.messages.filter((m) => m.ruleId === "no-restricted-imports" || m.ruleId === "no-restricted-globals").map((m) => m.message);
}

const cases: { rule: string; file: string; breach: string; allowed: string; says: RegExp }[] = [
  {
    rule: "protocol/ imports nothing outside itself",
    file: "protocol/planted.ts",
    breach: 'import * as fs from "node:fs";\nimport { Executor } from "../sandbox/session/executor";\nexport const x = [fs, Executor];\n',
    allowed: 'import { LIMITS } from "./limits";\nexport const x = LIMITS;\n',
    says: /protocol\/ imports nothing outside itself/,
  },
  {
    rule: "the sandbox knows no vscode",
    file: "sandbox/session/planted.ts",
    breach: 'import * as vscode from "vscode";\nexport const x = vscode;\n',
    allowed: 'import * as fs from "node:fs";\nimport { replayInto } from "../engine/replay";\nexport const x = [fs, replayInto];\n',
    says: /Only the extension \(client\/\) knows the vscode API/,
  },
  {
    rule: "the extension knows no node:vm",
    file: "client/planted.ts",
    breach: 'import * as vm from "node:vm";\nexport const x = vm;\n',
    allowed:
      'import * as vscode from "vscode";\nimport { RunDriver } from "../sandbox/connect/runDriver";\nexport const x = [vscode, RunDriver];\n',
    says: /node:vm belongs to sandbox\/engine/,
  },
  {
    rule: "the extension reaches a sandbox only through sandbox/connect",
    file: "client/planted.ts",
    breach: 'import { Executor } from "../sandbox/session/executor";\nexport const x = Executor;\n',
    allowed: 'import { LocalSandboxClient } from "../sandbox/connect/localClient";\nexport const x = LocalSandboxClient;\n',
    says: /reach a sandbox through sandbox\/connect/,
  },
  {
    rule: "what the extension bundles from sandbox/connect knows no node:vm or trusted part either",
    file: "sandbox/connect/planted.ts",
    breach: 'import vm from "vm";\nimport { SheetLoader } from "../loader/sheetLoader";\nexport const x = [vm, SheetLoader];\n',
    allowed: 'import * as http from "node:http";\nimport { Refusal } from "../../protocol/refusal";\nexport const x = [http, Refusal];\n',
    says: /node:vm belongs to sandbox\/engine|reach a sandbox through sandbox\/connect/,
  },
  {
    rule: "the webview talks only through its message union",
    file: "webview/planted.ts",
    breach: 'import { RunPanel } from "../client/runPanel";\nexport const x = [RunPanel, fetch("https://example.com")];\n',
    allowed:
      'import DOMPurify from "dompurify";\nimport type { FromWebviewMessage } from "../protocol/webview";\nexport const x: [unknown, FromWebviewMessage?] = [DOMPurify];\n',
    says: /only through protocol\/webview\.ts's message union|no network of its own/,
  },
  {
    rule: "realm code imports no package, no Node module and no host code",
    file: "sandbox/runtime/report/planted.ts",
    breach: 'import * as fs from "node:fs";\nimport { Executor } from "../../session/executor";\nexport const x = [fs, Executor];\n',
    allowed:
      'import { escapeHtml } from "../../../protocol/html";\nimport { formatValue } from "./values";\nexport const x = [escapeHtml, formatValue];\n',
    says: /Realm code imports no package|Realm code knows nothing of the host/,
  },
  {
    rule: "the language server shares only protocol/ with the sandbox",
    file: "server/src/planted.ts",
    breach: 'import { Executor } from "../../sandbox/session/executor";\nexport const x = Executor;\n',
    allowed: 'import { isSheetFileName } from "../../protocol/limits";\nexport const x = isSheetFileName;\n',
    says: /share protocol\/ with the sandbox, nothing else/,
  },
  {
    rule: "engines do not reach up into sessions",
    file: "sandbox/engine/planted.ts",
    breach: 'import { Executor } from "../session/executor";\nexport const x = Executor;\n',
    allowed: 'import * as vm from "node:vm";\nimport { errorOutcome } from "./sheetRealm";\nexport const x = [vm, errorOutcome];\n',
    says: /Engines run realms/,
  },
];

describe("house rules, enforced by lint", function () {
  this.timeout(60_000);
  for (const c of cases) {
    it(c.rule, async () => {
      const found = await breaches(c.file, c.breach);
      assert.ok(found.length > 0, `no breach reported for ${c.file}`);
      for (const message of found) assert.match(message, c.says);
      assert.deepEqual(await breaches(c.file, c.allowed), [], "what the code does is allowed");
    });
  }
});
