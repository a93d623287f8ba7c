// The run panel: one webview per sheet beside the editor, showing the report as it grows and the waiting
// window's form inline. It owns one run at a time and speaks to the webview only through the typed unions.

import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import { Refusal } from "../protocol/refusal";
import type { SheetError, TraceEntry } from "../protocol/rpc";
import {
  isFromWebviewMessage,
  type FromWebviewMessage,
  type PanelState,
  type RunState,
  type ToWebviewMessage,
  type WebviewLoad,
  type WindowPaint,
} from "../protocol/webview";
import { RunDriver, type AnsweredWindow, type StepResult } from "../sandbox/connect/runDriver";
import type { SandboxManager } from "./sandbox";
import type { SavedRun, SavedRuns } from "./savedRuns";
import { listInputSets, readInputSet, type InputSetValues } from "./inputSets";

export interface RunEvents {
  /** A run changed state; `stepMs` is the last request's round trip. */
  onState(panel: RunPanel, state: RunState, stepMs?: number): void;
  /** A run failed in the sheet: where, for the Problems panel (undefined clears). */
  onSheetError(sheet: vscode.Uri, error: SheetError | undefined): void;
  /** A request could not be made (sandbox unreachable, misconfigured). */
  onSandboxProblem(error: unknown): void;
  /** Values of rendered lines from one step; `reset` when a new run starts. */
  onTrace(sheet: vscode.Uri, entries: readonly TraceEntry[], reset: boolean): void;
}

/** How long after a reveal the panel's taking focus is read as the click's own echo (keepFocusFromClick). */
const CLICK_FOCUS_ECHO_MS = 1_000;

/** A run that completed in this panel: its report document, when, and with which input set. */
export interface CompletedRun {
  document: string;
  at: Date;
  inputSet: string | null;
}

export class RunPanel implements vscode.Disposable {
  private readonly panel: vscode.WebviewPanel;
  /** What the panel shows beyond the run's transcript: the state words, typed values, the sheet error, a notice. */
  private state: PanelState;
  private driver: RunDriver | undefined;
  private funcName: string | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private disposed = false;
  /** When the panel was created, until its webview first says it is ready: the cold-start figure in the log. */
  private readonly createdAt = performance.now();
  private webviewReady = false;
  /** When the current run was asked for (wall clock), until its first window is on screen: a figure for the log. */
  private firstWindowAskedAt: number | undefined;
  /** When the current run's first window was posted to the webview (wall clock), for the same log line. */
  private firstWindowPostedAt: number | undefined;
  /** The window is reloading (the extension is deactivated): the panel stays, and so does its run. */
  private detached = false;
  /** The saved run this panel picked up after a window reload, until its next answer. */
  private restoredFrom: SavedRun | undefined;
  /** The input set this run answers its windows from (read when the run started), and the windows it answered. */
  private setValues: InputSetValues | undefined;
  private readonly answeredFromSet = new Set<string>();
  /** The last two completed reports of this panel, newest last: what Compare with Previous Run compares. */
  private readonly completed: CompletedRun[] = [];

  /** `existing`: the panel VS Code brought back after a window reload (see Extension.restorePanel). */
  constructor(
    readonly sheet: vscode.Uri,
    private readonly extensionUri: vscode.Uri,
    private readonly sandbox: SandboxManager,
    private readonly events: RunEvents,
    onDispose: () => void,
    private readonly log?: vscode.LogOutputChannel,
    private readonly saved?: SavedRuns,
    existing?: vscode.WebviewPanel,
  ) {
    this.state = { sheet: path.basename(sheet.fsPath), uri: sheet.toString(), report: "", state: "idle" };
    const options = {
      enableScripts: true,
      // The form and the report survive hiding through the webview's own state (setState), not a live DOM.
      retainContextWhenHidden: false,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, "dist", "webview")],
    };
    this.panel =
      existing ??
      vscode.window.createWebviewPanel(
        "uzoncalc.run",
        `Run: ${path.basename(sheet.fsPath)}`,
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
        options,
      );
    if (existing) this.panel.webview.options = options;
    this.panel.iconPath = vscode.Uri.joinPath(extensionUri, "media", "icon.svg");
    this.panel.webview.html = this.html();
    this.disposables.push(
      this.panel.webview.onDidReceiveMessage((message: unknown) => void this.receive(message)),
      this.panel.onDidDispose(() => {
        this.disposed = true;
        if (!this.detached) {
          // Closed by the user: the run ends, and nothing is kept for a reload.
          void this.cancel();
          void this.saved?.forget(this.sheet.toString());
        }
        onDispose();
        for (const d of this.disposables) d.dispose();
      }),
    );
  }

  get runState(): RunState {
    return this.state.state;
  }

  /** The completed report document, once the run has completed. */
  get completedReport(): string | undefined {
    return this.driver?.transcript.status === "completed" ? this.driver.transcript.result : undefined;
  }

  /** The completed run before the last one, and the last one (Compare with Previous Run). */
  get lastTwoRuns(): { previous: CompletedRun | undefined; last: CompletedRun | undefined } {
    return { previous: this.completed[this.completed.length - 2], last: this.completed[this.completed.length - 1] };
  }

  /** The windows this run has answered so far, with the values as given: what Save Inputs As… writes. */
  get answered(): readonly AnsweredWindow[] {
    return this.driver?.answered ?? [];
  }

  /** The input set runs use ("default", a case name), or null for none. */
  get inputSet(): string | null {
    return this.state.inputSet ?? null;
  }

  /** Lists the sheet's input sets again (one was saved, created or deleted) and tells the webview. */
  refreshInputSets(): void {
    const sets = listInputSets(this.sheet.fsPath).map(({ name, file }) => ({ name, file: path.basename(file) }));
    let selected = this.state.inputSet ?? null;
    if (selected !== null && !sets.some((set) => set.name === selected)) selected = null;
    this.state.inputSets = sets;
    this.state.inputSet = selected;
    this.post({ type: "inputSets", sets, selected });
  }

  /** A copy of what the panel shows. */
  get snapshot(): PanelState {
    return structuredClone(this.state);
  }

  /** Handles a message from the webview (or a test), after checking it is one of the union's. */
  async receive(message: unknown): Promise<void> {
    if (isFromWebviewMessage(message)) await this.onMessage(message);
  }

  /** The editor group the panel is in, for what opens beside it (a comparison). */
  get viewColumn(): vscode.ViewColumn | undefined {
    return this.panel.viewColumn;
  }

  reveal(): void {
    this.panel.reveal(vscode.ViewColumn.Beside, true);
  }

  dispose(): void {
    this.panel.dispose();
  }

  /**
   * The extension is going away with the window (a reload, or VS Code closing): the panel is left for VS Code to
   * bring back, and its waiting run stays saved. A closing VS Code discards both anyway.
   */
  detach(): void {
    this.detached = true;
  }

  /**
   * Picks up the run this panel showed before the window reloaded: the report, the waiting window and the values
   * typed into it (the webview kept those) come back, and Submit continues the run on the same sandbox. Without a
   * saved run (it had ended, or never paused) the panel shows what it had, and the run is over.
   */
  async restore(webviewState: PanelState | undefined, saved: SavedRun | undefined): Promise<void> {
    const where = this.sandbox.where;
    const shown = webviewState ?? this.state;
    if (!saved) {
      const wasLive = shown.state === "waiting" || shown.state === "running" || shown.state === "starting";
      this.showEnded(shown, wasLive ? "The run ended when the window reloaded. Run the sheet again." : undefined);
      return;
    }
    this.funcName = saved.funcName;
    if (saved.mode !== where.mode || (saved.mode === "remote" && saved.remoteUrl !== where.remoteUrl)) {
      await this.saved?.forget(saved.sheet);
      this.showEnded(
        { ...shown, report: saved.report },
        `This run was waiting on the ${saved.mode === "remote" ? `remote sandbox ${saved.remoteUrl ?? ""}` : "local sandbox"}, and the sandbox setting has changed since. Run the sheet again.`,
      );
      return;
    }
    if (saved.mode === "local" && saved.record) await this.sandbox.adopt(saved.sessionId, saved.record, saved);
    this.driver = RunDriver.waiting(() => this.sandbox.get(), saved);
    this.restoredFrom = saved;
    const typed = shown.window?.id === saved.window.id ? shown.values : undefined;
    this.state = {
      sheet: path.basename(this.sheet.fsPath),
      uri: saved.sheet,
      report: saved.report,
      window: saved.window,
      ui_steps: saved.uiSteps,
      ...(typed ? { values: typed } : {}),
      state: "waiting",
    };
    this.setState("waiting", "restored after the window reloaded");
    this.post({ type: "restore", state: this.snapshot, ...(this.funcName ? { funcName: this.funcName } : {}) });
    this.log?.info(`run ${this.state.sheet}: restored at window '${saved.window.id}' (step ${saved.uiSteps}) after a window reload`);
  }

  /** After a reload: the panel shows `shown` without a form, the run it had being over; `why` (if given) says so. */
  private showEnded(shown: PanelState, why: string | undefined): void {
    this.state = { ...shown, uri: this.sheet.toString(), window: undefined, values: undefined, ui_steps: undefined };
    if (why) this.setState("cancelled", why);
    this.post({ type: "restore", state: this.snapshot });
  }

  /**
   * Starts (or restarts) the sheet as it is saved; a run in progress is cancelled first. `inputSet` chooses the set
   * the run answers its windows from ("default", a case, null for none); left out, the panel's choice stays.
   */
  async run(funcName?: string, inputSet?: string | null): Promise<void> {
    await this.cancel();
    this.funcName = funcName;
    const driver = new RunDriver(() => this.sandbox.get());
    this.driver = driver;
    this.restoredFrom = undefined;
    const chosen = inputSet === undefined ? (this.state.inputSet ?? null) : inputSet;
    this.state = { sheet: path.basename(this.sheet.fsPath), uri: this.sheet.toString(), report: "", state: "starting", inputSet: chosen };
    this.post({ type: "reset", sheet: this.state.sheet, uri: this.sheet.toString(), ...(funcName ? { funcName } : {}) });
    this.refreshInputSets();
    this.answeredFromSet.clear();
    this.setValues = undefined;
    const set = this.state.inputSets?.find((candidate) => candidate.name === this.state.inputSet);
    if (set) {
      try {
        this.setValues = readInputSet(path.join(path.dirname(this.sheet.fsPath), set.file));
      } catch (error) {
        this.setState("error", `The input set could not be used: ${error instanceof Error ? error.message : String(error)}`);
        return;
      }
    }
    this.setState("starting", set ? `with the input set ${set.file}` : undefined);
    this.events.onSheetError(this.sheet, undefined);
    this.events.onTrace(this.sheet, [], true);
    try {
      const requested = performance.now();
      this.firstWindowAskedAt = Date.now();
      // The panel shows values beside the code: it asks for the trace.
      const result = await driver.start({
        ...this.sandbox.sheetRequest(this.sheet.fsPath),
        ...(funcName ? { func_name: funcName } : {}),
        trace: true,
      });
      this.log?.info(`run ${this.state.sheet}: first answer in ${(performance.now() - requested).toFixed(0)} ms`);
      this.show(driver, result);
    } catch (error) {
      if (driver === this.driver) this.failRequest(error);
    }
  }

  async cancel(): Promise<void> {
    const driver = this.driver;
    if (!driver) return;
    let cancelled: boolean;
    try {
      cancelled = await driver.cancel();
    } catch {
      // The run is over either way; a sandbox that cannot be reached has nothing to cancel.
      cancelled = true;
    }
    if (cancelled && !this.disposed && driver === this.driver) {
      this.state.window = undefined;
      this.setState("cancelled", "The run was cancelled.");
    }
    if (driver === this.driver) this.persist();
  }

  private async onMessage(message: FromWebviewMessage): Promise<void> {
    switch (message.type) {
      case "ready":
        if (!this.webviewReady) {
          this.webviewReady = true;
          this.log?.info(
            `run panel for ${this.state.sheet}: webview ready ${(performance.now() - this.createdAt).toFixed(0)} ms after it was created${loadBreakdown(message.load, performance.timeOrigin + this.createdAt)}`,
          );
        }
        if (this.state.inputSets === undefined) this.refreshInputSets();
        this.post({ type: "restore", state: this.snapshot, ...(this.funcName ? { funcName: this.funcName } : {}) });
        return;
      case "windowShown": {
        const askedAt = this.firstWindowAskedAt;
        if (askedAt === undefined) return;
        const postedAt = this.firstWindowPostedAt;
        this.firstWindowAskedAt = undefined;
        this.firstWindowPostedAt = undefined;
        // The webview's clock: placed against ours only when the two agree (a remote browser's may not).
        const after = message.at - askedAt;
        if (after >= 0 && after < 600_000)
          this.log?.info(
            `run ${this.state.sheet}: its first window (${message.window}) on screen ${after} ms after the run was asked for, at ${new Date(message.at).toISOString()}${paintBreakdown(message.paint, askedAt, postedAt)}`,
          );
        return;
      }
      case "submit":
        await this.submit(message.values, { window: message.window, ui_steps: message.ui_steps });
        return;
      case "cancel":
        await this.cancel();
        return;
      case "rerun":
        // Through the command, so a run again asks about unsaved changes like any run.
        await vscode.commands.executeCommand("uzoncalc.runCalc", this.sheet, this.funcName);
        return;
      case "export":
        await vscode.commands.executeCommand("uzoncalc.exportReport", this.sheet);
        return;
      case "exportWord":
        await vscode.commands.executeCommand("uzoncalc.exportWord", this.sheet);
        return;
      case "runWith":
        await vscode.commands.executeCommand("uzoncalc.runCalc", this.sheet, this.funcName, message.set);
        return;
      case "saveInputs":
        await vscode.commands.executeCommand("uzoncalc.saveInputs", this.sheet);
        return;
      case "compare":
        await vscode.commands.executeCommand("uzoncalc.compareWithPrevious", this.sheet);
        return;
      case "reveal": {
        const target = message.file ? vscode.Uri.joinPath(this.sheet, "..", message.file) : this.sheet;
        const position = new vscode.Position(Math.max(0, message.line - 1), Math.max(0, message.column - 1));
        const show = () =>
          vscode.window.showTextDocument(target, { selection: new vscode.Range(position, position), viewColumn: vscode.ViewColumn.One });
        await show();
        this.keepFocusFromClick(show);
        return;
      }
    }
  }

  /**
   * The click in the panel that asked for a reveal can hand the panel focus after the editor took it: the webview's
   * focus and its message reach the workbench by different ways (seen once in CI, the cursor on the line and the
   * keyboard in the panel). If the panel becomes active within a moment, the editor takes focus back, once.
   */
  private keepFocusFromClick(show: () => Thenable<unknown>): void {
    const watch = this.panel.onDidChangeViewState(({ webviewPanel }) => {
      if (!webviewPanel.active) return;
      done();
      void show();
    });
    const timer = setTimeout(() => done(), CLICK_FOCUS_ECHO_MS);
    const done = () => {
      clearTimeout(timer);
      watch.dispose();
    };
  }

  private async submit(values: Record<string, unknown>, answering: { window: string; ui_steps: number }): Promise<void> {
    const driver = this.driver;
    if (!driver) return;
    const refusal = driver.refusal(answering);
    if (refusal) {
      // A submit for a window that is not the one waiting (a second click, a stale form): nothing is sent, and the
      // run, its report and its form stay as they are.
      this.state.notice = refusal.message;
      this.post({ type: "notice", message: refusal.message });
      return;
    }
    this.state.values = values;
    this.setState("running");
    try {
      this.show(driver, await driver.answer(values, answering));
    } catch (error) {
      if (driver !== this.driver) return;
      const restored = this.restoredFrom;
      if (restored && error instanceof Refusal && (error.code === "not_found" || error.code === "conflict")) {
        await this.continueElsewhere(restored, values, answering, error);
        return;
      }
      if (error instanceof Refusal && error.code === "invalid_input" && error.fields) {
        // Refused: the session still waits at the same window; the form keeps what was typed.
        this.state.errors = error.fields;
        this.post({ type: "fieldErrors", errors: error.fields });
        this.setState("waiting", "Some values were not accepted.");
        return;
      }
      this.failRequest(error);
    }
  }

  /**
   * A run restored after a reload that its sandbox no longer has. A remote one is run again from the start with the
   * windows answered before as batch inputs: if that comes back to this window with the very same report, the
   * values are sent there. Otherwise (a local replay refused, a sheet that changed, a report that differs) the
   * run is over, the panel says why, and offers to start again: nothing is silently mixed.
   */
  private async continueElsewhere(
    restored: SavedRun,
    values: Record<string, unknown>,
    answering: { window: string; ui_steps: number },
    refusal: Refusal,
  ): Promise<void> {
    this.restoredFrom = undefined;
    if (restored.mode === "remote") {
      const again = new RunDriver(() => this.sandbox.get());
      this.driver = again;
      try {
        const inputs = Object.fromEntries(restored.answered.map((a) => [a.window, a.values]));
        await again.start({
          ...this.sandbox.sheetRequest(this.sheet.fsPath),
          ...(this.funcName ? { func_name: this.funcName } : {}),
          inputs,
        });
        const { transcript } = again;
        if (transcript.waiting && transcript.window?.id === answering.window && transcript.report === restored.report) {
          this.log?.info(`run ${this.state.sheet}: the remote sandbox had lost the session; replayed from the saved answers`);
          this.show(again, await again.answer(values, { window: answering.window, ui_steps: transcript.uiSteps }));
          return;
        }
        await again.cancel().catch(() => false);
      } catch (error) {
        this.log?.warn(
          `run ${this.state.sheet}: replaying the saved answers failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
    const why =
      restored.mode === "remote"
        ? "The remote sandbox no longer has this run, and running the sheet again with the saved answers did not come back to the same report (the sheet changed since, or its report depends on the time or random numbers)."
        : refusal.message;
    this.driver = undefined;
    await this.saved?.forget(restored.sheet);
    this.state.window = undefined;
    this.setState("error", `This run could not be continued after the window reloaded. ${why}`);
    void vscode.window
      .showWarningMessage(`UzonCalc: the run of ${this.state.sheet} could not be continued after the window reloaded. ${why}`, "Run Again")
      .then((choice) => {
        if (choice === "Run Again") void vscode.commands.executeCommand("uzoncalc.runCalc", this.sheet, this.funcName);
      });
  }

  /** Keeps the run for a window reload while it waits; forgets it once it does not. */
  private persist(): void {
    if (!this.saved) return;
    const sheet = this.sheet.toString();
    const run = this.driver?.waitingRun;
    if (!run) {
      void this.saved.forget(sheet);
      return;
    }
    const where = this.sandbox.where;
    const record = this.sandbox.recordOf(run.sessionId);
    void this.saved.save({
      ...run,
      sheet,
      mode: where.mode,
      ...(where.remoteUrl !== undefined ? { remoteUrl: where.remoteUrl } : {}),
      ...(this.funcName ? { funcName: this.funcName } : {}),
      ...(record ? { record } : {}),
      savedAt: Date.now(),
    });
  }

  /** Shows what one answer changed: the report, the waiting window, how the run ended. */
  private show(driver: RunDriver, result: StepResult): void {
    if (result.stale || driver !== this.driver) return;
    this.restoredFrom = undefined;
    this.persist();
    const { transcript } = driver;
    const { response } = result;
    this.state.report = transcript.report;
    if (result.piece !== "" || result.replaced) this.post({ type: "report", html: result.piece, append: !result.replaced });
    if (response.trace) this.events.onTrace(this.sheet, response.trace, false);
    this.state.window = transcript.window;
    this.state.errors = transcript.inputErrors;
    delete this.state.values;
    if (transcript.window) {
      this.state.ui_steps = transcript.uiSteps;
      const window = transcript.window;
      // A window the run's input set covers is answered from it, once: refused values stay in the form with
      // their errors, and the user goes on from there.
      const fromSet = this.setValues?.[window.id];
      const firstTime = fromSet !== undefined && !this.answeredFromSet.has(window.id);
      if (fromSet) this.state.values = fromSet;
      this.firstWindowPostedAt ??= this.firstWindowAskedAt !== undefined ? Date.now() : undefined;
      this.post({ type: "window", window, ui_steps: transcript.uiSteps, ...(fromSet ? { values: fromSet } : {}) });
      if (transcript.inputErrors) this.post({ type: "fieldErrors", errors: transcript.inputErrors });
      this.setState("waiting", undefined, result.ms);
      if (firstTime) {
        this.answeredFromSet.add(window.id);
        void this.submit(fromSet, { window: window.id, ui_steps: transcript.uiSteps });
      }
      return;
    }
    delete this.state.ui_steps;
    switch (transcript.status) {
      case "completed":
        this.completed.push({ document: transcript.result ?? "", at: new Date(), inputSet: this.state.inputSet ?? null });
        this.completed.splice(0, this.completed.length - 2);
        this.setState("completed", `${transcript.uiSteps} window${transcript.uiSteps === 1 ? "" : "s"}`, result.ms);
        return;
      case "cancelled":
        this.setState("cancelled", "The run was cancelled.", result.ms);
        return;
      default: {
        const error = transcript.error ?? { message: "The sheet failed." };
        const where = `${error.file ?? this.state.sheet}${error.line !== undefined ? `:${error.line}:${error.column ?? 1}` : ""}`;
        this.state.sheetError = { error, where };
        this.post({ type: "sheetError", error, where });
        this.events.onSheetError(this.sheet, error);
        this.setState("error", error.message, result.ms);
      }
    }
  }

  private failRequest(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.setState("error", message);
    this.events.onSandboxProblem(error);
  }

  private setState(state: RunState, detail?: string, stepMs?: number): void {
    // A run that ended before asking anything has no first window to time.
    if (state !== "starting" && state !== "running" && state !== "waiting") this.firstWindowAskedAt = undefined;
    this.state.state = state;
    if (detail === undefined) delete this.state.detail;
    else this.state.detail = detail;
    delete this.state.notice;
    this.post({ type: "state", state, ...(detail ? { detail } : {}) });
    this.events.onState(this, state, stepMs);
  }

  private post(message: ToWebviewMessage): void {
    if (!this.disposed) void this.panel.webview.postMessage(message);
  }

  private html(): string {
    const webview = this.panel.webview;
    const nonce = randomBytes(16).toString("base64");
    const asset = (name: string) => webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, "dist", "webview", name));
    const inline = inlineAssets(this.extensionUri.fsPath);
    // Nothing inline but our own nonce'd stylesheet and script: report markup is sanitised and styled through
    // classes, and a style or script it carried would have no nonce.
    const csp = [
      `default-src 'none'`,
      `img-src ${webview.cspSource} data:`,
      `style-src ${webview.cspSource} 'nonce-${nonce}'`,
      `font-src ${webview.cspSource}`,
      `script-src 'nonce-${nonce}'`,
      // Report markup cannot rebase the panel's links nor send a form anywhere.
      `base-uri 'none'`,
      `form-action 'none'`,
    ].join("; ");
    const style = inline ? `<style nonce="${nonce}">${inline.css}</style>` : `<link rel="stylesheet" href="${asset("panel.css")}">`;
    const script = inline
      ? `<script nonce="${nonce}">${inline.js}</script>`
      : `<script nonce="${nonce}" src="${asset("panel.js")}"></script>`;
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
${style}
<title>UzonCalc run</title>
</head>
<body>
<header class="uzc-header"><span class="uzc-sheet"></span><span class="uzc-state" data-state></span>
<span class="uzc-run-with" hidden data-run-with-box><label for="uzc-run-with">Run with</label><vscode-single-select id="uzc-run-with" data-run-with></vscode-single-select></span>
<vscode-button data-action="rerun" secondary>Run again</vscode-button><vscode-button data-action="saveInputs" secondary title="Save this run's answers as an input set beside the sheet">Save Inputs…</vscode-button><vscode-button data-action="compare" secondary title="What changed in the calculation since the previous run">Compare</vscode-button><vscode-button data-action="export" secondary>Export</vscode-button><vscode-button data-action="exportWord" secondary>Word</vscode-button></header>
<div class="uzc-error" hidden data-sheet-error></div>
<div class="uzc-notice" role="status" hidden data-notice></div>
<main class="uzc-report" data-report></main>
<section class="uzc-form" hidden data-form></section>
${script}
</body>
</html>`;
  }
}

let inlined: { js: string; css: string } | null | undefined;

/**
 * The panel's script and stylesheet, to be written into its page. Each file a webview loads is a round trip
 * through VS Code's resource channel (about 150 ms each in code-server on this project's CI machines, for 5 KB
 * as for 165 KB), and it was the longest part of the first Run Calc's path once the sandbox had the sheet ready.
 * Null (load them as files) if they cannot be read, or if the script holds text that would end or re-open a
 * script element early.
 */
function inlineAssets(extensionPath: string): { js: string; css: string } | null {
  if (inlined !== undefined) return inlined;
  try {
    const dir = path.join(extensionPath, "dist", "webview");
    const js = fs.readFileSync(path.join(dir, "panel.js"), "utf8");
    const css = fs.readFileSync(path.join(dir, "panel.css"), "utf8");
    inlined = /<\/?script|<!--/i.test(js.replace(/<!--?>|<!---->/g, "")) || /<\/style/i.test(css) ? null : { js, css };
  } catch {
    inlined = null;
  }
  return inlined;
}

/**
 * Where the time between the first window's answer and its paint went: its message posted (after the run was
 * asked for), arriving in the webview, the report and form built, then the wait for the panel's next frame. The
 * two clocks are compared only when they agree (a remote browser's may not).
 */
function paintBreakdown(paint: WindowPaint | undefined, askedAt: number, postedAt: number | undefined): string {
  if (!paint) return "";
  const arrived = paint.arrivedAt - askedAt;
  const parts = [
    ...(postedAt !== undefined ? [`posted at ${postedAt - askedAt} ms`] : []),
    ...(arrived >= 0 && arrived < 600_000 ? [`arrived at ${arrived} ms`] : []),
    `built in ${paint.renderMs} ms`,
    `next frame ${paint.frameMs} ms later`,
  ];
  return ` (${parts.join(", ")})`;
}

/**
 * Where a webview's load went, for the log: its document started (in the workbench's webview host), its script
 * began (after the document and stylesheet parsed), and the script was done. The document's start is placed
 * against the panel's creation only when the two clocks agree (a remote browser's clock may not).
 */
function loadBreakdown(load: WebviewLoad | undefined, createdAtWall: number): string {
  if (!load) return "";
  const documentAfter = Math.round(load.documentStartedAt - createdAtWall);
  const placed = documentAfter >= 0 && documentAfter < 60_000 ? `document started after ${documentAfter} ms, ` : "";
  return ` (${placed}script began ${load.scriptStartMs} ms into the document, ran ${load.readyMs - load.scriptStartMs} ms)`;
}
