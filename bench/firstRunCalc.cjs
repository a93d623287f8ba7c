// `npm run bench` (the editor's first Run Calc, issue 15 item 6): the packaged .vsix in code-server, driven in
// headless Chromium through the E2E harness (test/e2e). In each fresh window (a new workbench and extension host):
// open examples/beam.calc.ts, press Run Calc in the palette, and time Enter → the first window's form painted (the
// webview's clock). Two ways, alternated window by window:
//   at once     — Enter as soon as the sheet is open, while the window's own start-up still has both cores
//                 (VS Code's TypeScript server, the workbench, our language server and sandbox child);
//   once quiet  — Enter once the machine has been idle for 2 s (test/e2e/cpuSampler.js waitForQuiet), which takes
//                 10–15 s after a window opens on this machine: "a quiet machine" of the target.
// Each row breaks the time down from the extension's log: Enter → our command (the workbench taking the key), the
// sandbox's first answer, and when code-server started the webview's document after the panel was made.
// Prints figures, no pass/fail. `BENCH_RUNS=N` windows of each way (default 3). The first window of the code-server
// is the coldest (its server loads the workbench's code once): it runs first, is printed, and is left out of the
// medians.
"use strict";
const os = require("node:os");
const H = require("../test/e2e/harness");
const { startExamplesWorkbench, extensionLog, firstRunTimings, openSheet } = require("../test/e2e/workspace");
const { startCpuSampler, waitForQuiet } = require("../test/e2e/cpuSampler");
// The benches' own figures (run under tsx, like every bench).
const { loadAverage, median } = require("./util");

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const FORM = '[data-form] [data-field="span"]';

/** One fresh window: open the sheet, wait as `way` says, Run Calc, wait for the form; the run's timings. */
async function firstRun(session, way) {
  return session.br.withPage(`bench-first-run-${way.replace(" ", "-")}`, async (page) => {
    await openSheet(page, session, "beam.calc.ts");
    const waited = way === "once quiet" ? await waitForQuiet() : undefined;
    const before = new Set(extensionLog(session));
    const cpu = startCpuSampler();
    const enterAt = await H.runCommand(page, "UzonCalc: Run Calc");
    await H.webviewFrameWith(page, FORM, 60000);
    cpu.stop();
    const seenAt = Date.now();
    const fresh = () => extensionLog(session).filter((line) => !before.has(line));
    const timings = await H.waitFor(() => firstRunTimings(fresh()), 30000, "the first-window log line").catch(() => undefined);
    if (!timings) {
      // Seen once in ~20 windows: the form was on screen and the line never came. The window is reported, not timed.
      console.log(`  (no first-window log line; the form was seen ${seenAt - enterAt} ms after Enter; the run's log:)`);
      for (const line of fresh()) console.log(`    ${line}`);
      return undefined;
    }
    const busy = cpu.between(enterAt, timings.paintedAt, 3);
    return { way, waited, loadAtEnter: loadAverage(), enterAt, ...timings, busy };
  });
}

function print(run, index) {
  const painted = run.paintedAt - run.enterAt;
  const command = run.commandAt - run.enterAt;
  const waited = run.waited
    ? `, after waiting ${(run.waited.waitedMs / 1000).toFixed(0)} s${run.waited.quiet ? "" : " (never quiet)"}`
    : "";
  console.log(
    `  window ${index + 1} (${run.way}${waited}, load ${run.loadAtEnter}): form painted ${painted} ms after Enter · ` +
      `Enter → our command ${command} ms · first answer ${run.firstAnswerMs} ms · webview document started ` +
      `${run.documentStartedMs} ms after the panel was made · CPU until painted ${run.busy.cpuMs} ms over ` +
      `${run.busy.windowMs} ms (${run.busy.top.map((row) => `${row.ms} ${row.name}`).join(", ")})`,
  );
  if (run.waited) console.log(`    while it waited: ${run.waited.top.map((row) => `${row.ms} ms ${row.name}`).join(" · ")}`);
}

async function main() {
  console.log(`First Run Calc in a fresh window (code-server, packaged .vsix), load ${loadAverage()}, ${os.availableParallelism()} cores`);
  const session = await startExamplesWorkbench("bench-first-run-", { installed: true });
  const runs = [];
  try {
    const ways = ["at once", ...Array.from({ length: RUNS }, () => ["once quiet", "at once"]).flat()];
    for (const [i, way] of ways.entries()) {
      const run = await firstRun(session, way);
      if (!run) continue;
      print(run, i);
      runs.push({ ...run, index: i });
    }
  } finally {
    await session.stop();
  }
  for (const way of ["at once", "once quiet"]) {
    const counted = runs.filter((run) => run.index > 0 && run.way === way);
    const figure = (pick) => median(counted.map(pick));
    console.log(
      `  ${way}, median of ${counted.length} (the first window left out): form painted ${figure((r) => r.paintedAt - r.enterAt)} ms after Enter · ` +
        `Enter → our command ${figure((r) => r.commandAt - r.enterAt)} ms · first answer ${figure((r) => r.firstAnswerMs)} ms · ` +
        `webview document started ${figure((r) => r.documentStartedMs)} ms after the panel was made`,
    );
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
