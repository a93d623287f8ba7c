// A long sheet's diagnostics in two steps (server/src/regionCheck.ts), over a real LSP connection: after an edit
// the first answer checks what the editor shows and the edit, and carries the rest over from the last whole check;
// the whole check follows, the server asks the client to pull again, and that pull answers the whole sheet.
import * as assert from "node:assert/strict";
import * as os from "node:os";
import * as path from "node:path";
import type { Diagnostic } from "vscode-languageserver-protocol/node";
import { longSheet, lineOf } from "./support/longSheet";
import { VisibleRangesNotification } from "../src/customRequests";
import { TestClient } from "./support/lspClient";

const errorLines = (diagnostics: Diagnostic[]) => diagnostics.map((d) => d.range.start.line).sort((a, b) => a - b);

describe("language server: a long sheet answers the region it shows first, then the whole sheet", function () {
  this.timeout(60_000);
  let client: TestClient;
  const fileName = path.join(os.tmpdir(), "uzc-region-check.calc.ts");
  const text = longSheet();
  const top = lineOf(text, "const top");
  const shown = lineOf(text, "const shown");
  const late = lineOf(text, "const late");
  const returned = lineOf(text, 'return "x"');

  before(async () => {
    client = await TestClient.start({ typeCheck: "all" });
  });

  /** Opens a long sheet and reads its whole answer, the one that follows the first (the top screen's). */
  async function openChecked(sheet: string): Promise<{ uri: string; whole: Diagnostic[] }> {
    const opened = await client.openAndPull(fileName, sheet, (await client.stats()).lastRegionCheck);
    assert.ok(opened.regionFirst, "a long sheet just opened is answered by a region check first");
    return { uri: opened.uri, whole: opened.whole };
  }

  it("a long sheet just opened: the first answer is the top screen's, the whole sheet's follows", async () => {
    const regionBefore = (await client.stats()).lastRegionCheck;
    const refreshed = client.nextRefresh();
    const uri = await client.open(fileName, text);
    assert.deepEqual(errorLines(await client.diagnostics(uri)), [top], "only the top screen is checked; nothing to carry yet");
    assert.notDeepEqual((await client.stats()).lastRegionCheck, regionBefore, "a region check answered");
    await refreshed;
    assert.deepEqual(errorLines(await client.diagnostics(uri)), [top, shown, late]);
    await client.close(uri);
  });
  after(async () => {
    await client?.stop();
  });

  it("the edit's region is fresh, the rest is carried until the whole check's answer", async () => {
    const { uri, whole } = await openChecked(text);
    assert.deepEqual(errorLines(whole), [top, shown, late]);
    const regionBefore = (await client.stats()).lastRegionCheck;

    // `label()` now returns a number: the uses at the top and at `shown` are fine, but neither is near the edit.
    const refreshed = client.nextRefresh();
    await client.edit(uri, { line: returned, character: 11 }, { line: returned, character: 14 }, "1");
    const first = await client.diagnostics(uri);
    assert.notDeepEqual((await client.stats()).lastRegionCheck, regionBefore, "the first answer after the edit came from a region check");
    assert.deepEqual(errorLines(first), [top, shown, late], "outside the region, the last whole check's findings are carried over");

    await refreshed;
    assert.deepEqual(errorLines(await client.diagnostics(uri)), [late], "the whole check's answer, pulled on the server's refresh");
    await client.close(uri);
  });

  /** Opens the sheet with lines first..last on screen, makes `label()` return a number, and reads both answers. */
  async function fixLabelWithLinesShown(first: number, last: number): Promise<{ first: number[]; whole: number[] }> {
    const { uri } = await openChecked(text);
    await client.visibleLines(uri, first, last);
    const refreshed = client.nextRefresh();
    await client.edit(uri, { line: returned, character: 11 }, { line: returned, character: 14 }, "1");
    const answers = { first: errorLines(await client.diagnostics(uri)), whole: [] as number[] };
    await refreshed;
    answers.whole = errorLines(await client.diagnostics(uri));
    await client.close(uri);
    return answers;
  }

  it("what the editor shows (uzoncalc/visibleRanges) is checked with the edit", async () => {
    const answers = await fixLabelWithLinesShown(shown - 10, shown + 30);
    assert.deepEqual(answers.first, [top, late], "the shown use is checked afresh; the top one is not");
    assert.deepEqual(answers.whole, [late]);
  });

  it("the sheet's first lines shown, the region is still statements of its body, not the whole sheet function", async () => {
    const answers = await fixLabelWithLinesShown(0, 40);
    assert.deepEqual(answers.first, [shown, late], "the top is checked afresh; `shown` is carried");
    assert.deepEqual(answers.whole, [late]);
  });

  it("a malformed uzoncalc/visibleRanges is named in the log and dropped; checks go on as without it", async () => {
    const { uri } = await openChecked(text);
    await client.connection.sendNotification(VisibleRangesNotification.method, { uri, ranges: "lines 10 to 20" });
    const refreshed = client.nextRefresh();
    await client.edit(uri, { line: returned, character: 11 }, { line: returned, character: 14 }, "1");
    assert.deepEqual(errorLines(await client.diagnostics(uri)), [top, shown, late], "the edit's region, the rest carried");
    await refreshed;
    assert.deepEqual(errorLines(await client.diagnostics(uri)), [late]);
    assert.ok(
      client.logs.some((line) => line.includes("uzoncalc/visibleRanges ignored")),
      client.logs.join("\n"),
    );
    await client.close(uri);
  });

  it("carried findings move with lines inserted above them, and findings in the region are the region's own", async () => {
    const { uri } = await openChecked(text);
    // Two lines in the middle, the second an error of its own; `late`, far below, moves down by two.
    const at = lineOf(text, "total += g.span * 300;");
    const refreshed = client.nextRefresh();
    await client.edit(uri, { line: at, character: 0 }, { line: at, character: 0 }, "  const a = 1;\n  const b: string = a;\n");
    const first = await client.diagnostics(uri);
    assert.deepEqual(errorLines(first), [top, shown, at + 1, late + 2]);
    const carried = first.find((d) => d.range.start.line === late + 2)!;
    assert.equal(carried.range.start.character, text.split("\n")[late]!.indexOf("late"));
    await refreshed;
    assert.deepEqual(errorLines(await client.diagnostics(uri)), [top, shown, at + 1, late + 2]);
    await client.close(uri);
  });

  it("pulls again before the whole check is done start no second whole check: one refresh per edit", async () => {
    const { uri } = await openChecked(text);
    const before = client.refreshes;
    const refreshed = client.nextRefresh();
    await client.edit(uri, { line: returned, character: 11 }, { line: returned, character: 14 }, "1");
    await Promise.all([client.diagnostics(uri), client.diagnostics(uri), client.diagnostics(uri)]);
    await refreshed;
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(client.refreshes - before, 1);
    assert.deepEqual(errorLines(await client.diagnostics(uri)), [late]);
    await client.close(uri);
  });

  it("a syntax error far from the edit is answered once: syntax is always the whole sheet's, never carried too", async () => {
    const broken = text.replace("  total += g.span * 300;", "  total += (g.span * 300));");
    const { uri, whole } = await openChecked(broken);
    const syntax = (diagnostics: Diagnostic[]) => diagnostics.filter((d) => d.range.start.line === lineOf(broken, "g.span * 300"));
    assert.equal(syntax(whole).length, 1);
    const refreshed = client.nextRefresh();
    await client.edit(uri, { line: returned, character: 11 }, { line: returned, character: 14 }, "1");
    assert.equal(syntax(await client.diagnostics(uri)).length, 1);
    await refreshed;
    assert.equal(syntax(await client.diagnostics(uri)).length, 1);
    await client.close(uri);
  });

  it("a short sheet, or a client that cannot be asked to pull again, gets the whole check every time", async () => {
    const short = path.join(os.tmpdir(), "uzc-region-short.calc.ts");
    const shortText = text
      .split("\n")
      .filter((line, i) => i < 100 || !line.includes("total += g.span"))
      .join("\n");
    const uri = await client.open(short, shortText);
    await client.diagnostics(uri);
    const returnedShort = lineOf(shortText, 'return "x"');
    const regionBefore = (await client.stats()).lastRegionCheck;
    await client.edit(uri, { line: returnedShort, character: 11 }, { line: returnedShort, character: 14 }, "1");
    assert.deepEqual(errorLines(await client.diagnostics(uri)), [lineOf(shortText, "const late")]);
    assert.deepEqual((await client.stats()).lastRegionCheck, regionBefore, "no region check ran");
    await client.close(uri);

    const plain = await TestClient.start({ typeCheck: "all", refreshSupport: false });
    try {
      const plainUri = await plain.open(fileName, text);
      await plain.diagnostics(plainUri);
      await plain.edit(plainUri, { line: returned, character: 11 }, { line: returned, character: 14 }, "1");
      assert.deepEqual(errorLines(await plain.diagnostics(plainUri)), [late]);
      assert.equal((await plain.stats()).lastRegionCheck, undefined);
    } finally {
      await plain.stop();
    }
  });
});
