// The limits and file-name rules have one home (protocol/limits.ts). VS Code reads package.json before any code
// runs, so the manifest repeats some of them: these tests keep the two equal.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { isSheetFileName, LIMITS, reportFileName, SHEET_FILE_PATTERN, SHEET_GLOB } from "../limits";

interface Manifest {
  activationEvents: string[];
  contributes: {
    configuration: { properties: Record<string, { default?: unknown; minimum?: unknown }> };
    menus: Record<string, { when?: string }[]>;
    keybindings: { when?: string }[];
  };
}

const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "package.json"), "utf8")) as Manifest;

describe("limits and file names: one home", () => {
  it("the extension's settings declare the same defaults and minimums", () => {
    const settings = manifest.contributes.configuration.properties;
    for (const [setting, limit] of [
      ["uzoncalc.sandbox.stepTimeoutMs", LIMITS.stepTimeoutMs],
      ["uzoncalc.sandbox.memoryLimitMb", LIMITS.memoryLimitMb],
    ] as const) {
      assert.equal(settings[setting]?.default, limit.default, `${setting} default`);
      assert.equal(settings[setting]?.minimum, limit.min, `${setting} minimum`);
    }
  });

  it("every `when` clause that recognises a sheet uses the sheet pattern", () => {
    const clauses = [...Object.values(manifest.contributes.menus).flat(), ...manifest.contributes.keybindings].map(
      (item) => item.when ?? "",
    );
    const patterns = clauses.flatMap((when) => [...when.matchAll(/resourceFilename =~ \/(.+?)\/(?=\s|$)/g)].map((m) => m[1]));
    assert.ok(patterns.length >= 5, `found ${patterns.length}`);
    for (const pattern of patterns) assert.equal(pattern, SHEET_FILE_PATTERN.source);
  });

  it("the extension activates for every sheet the glob names", () => {
    const extensions = /\{(.+)\}$/.exec(SHEET_GLOB)![1]!.split(",");
    for (const extension of extensions)
      assert.ok(manifest.activationEvents.includes(`workspaceContains:**/*.calc.${extension}`), extension);
  });

  it("names sheets and their reports", () => {
    assert.ok(isSheetFileName("/w/beam.calc.ts") && isSheetFileName("a.calc.js"));
    assert.ok(!isSheetFileName("beam.ts") && !isSheetFileName("beam.calc.tsx") && !isSheetFileName("beam.CALC.TS"));
    assert.equal(reportFileName("/w/beam.calc.ts"), "/w/beam.report.html");
    assert.equal(reportFileName("examples/tie.calc.js"), "examples/tie.report.html");
    assert.equal(reportFileName("plain.mts"), "plain.report.html");
  });
});
