// UzonCalc for VS Code: Run Calc, the run panel, local and remote sandboxes, the language server. `activate`
// builds one Extension (which owns everything that lives as long as the extension) and registers the commands
// of one table; a failure on the way is reported in the UzonCalc output channel, and the commands then say so
// instead of being missing.

import * as fs from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import {
  CASE_NAME_PATTERN,
  INPUT_SET_GLOB,
  isInputSetFileName,
  isSheetFileName,
  reportFileName,
  SHEET_GLOB,
  studyFolderName,
  wordFileName,
} from "../protocol/limits";
import { DEFAULT_SET, inputSetPath, inputSetText } from "./inputSets";
import { Refusal } from "../protocol/refusal";
import type { SheetError } from "../protocol/rpc";
import type { PanelState, RunState } from "../protocol/webview";
import { SandboxUnavailableError } from "../sandbox/connect/sandboxClient";
import { collectLocalImports } from "../sandbox/connect/savedSheet";
import { SheetCodeLensProvider } from "./codeLens";
import { Config } from "./config";
import { SheetLanguageClient } from "./languageClient";
import { RunPanel, type CompletedRun } from "./runPanel";
import { showComparison } from "./comparePanel";
import { OPEN_STUDY_REPORT_COMMAND, SORT_STUDY_COMMAND, openStudyReport, showStudy, sortStudy } from "./studyPanel";
import { diffReports } from "../sandbox/connect/reportDiff";
import { readReport } from "../sandbox/connect/reportReading";
import { reportToWord } from "../sandbox/connect/wordExport";
import { SavedRuns } from "./savedRuns";
import { setUpRemote, type RemoteSetup } from "./remoteSetup";
import { SandboxConfigurationError, SandboxManager, TOKEN_SECRET } from "./sandbox";
import { ValueDecorations } from "./valueDecorations";

export function isSheet(uri: vscode.Uri | undefined): uri is vscode.Uri {
  return uri !== undefined && uri.scheme === "file" && isSheetFileName(uri.fsPath);
}

function isInputSet(uri: vscode.Uri): boolean {
  return uri.scheme === "file" && isInputSetFileName(uri.fsPath);
}

/**
 * Everything that lives as long as the extension. Each part goes into the context's subscriptions the moment it
 * exists, so if building one throws, disposing the subscriptions leaves nothing half-started behind.
 */
class Extension implements vscode.Disposable {
  readonly config = new Config();
  readonly sandbox: SandboxManager;
  readonly diagnostics: vscode.DiagnosticCollection;
  readonly status: vscode.StatusBarItem;
  readonly values: ValueDecorations;
  readonly languageClient: SheetLanguageClient;
  private readonly panels = new Map<string, RunPanel>();
  /** Runs waiting for input, kept in the workspace's storage across a window reload. */
  private readonly savedRuns: SavedRuns;
  private lastState: RunState = "idle";
  private lastStepMs: number | undefined;
  /** The remote set-up is asking (it changes the settings it listens to). */
  private settingUpRemote = false;

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly log: vscode.LogOutputChannel,
  ) {
    const own = <T extends vscode.Disposable>(part: T): T => {
      context.subscriptions.push(part);
      return part;
    };
    this.diagnostics = own(vscode.languages.createDiagnosticCollection("uzoncalc"));
    this.status = own(vscode.window.createStatusBarItem("uzoncalc.status", vscode.StatusBarAlignment.Left, 10));
    this.values = own(new ValueDecorations(() => this.config.showValues));
    this.sandbox = own(new SandboxManager(context, this.config, this.log));
    this.savedRuns = new SavedRuns(context.workspaceState);
    this.languageClient = own(new SheetLanguageClient(context, log));
    const codeLenses = own(new SheetCodeLensProvider());
    this.status.name = "UzonCalc sandbox";
    this.renderStatus();
    // Only where it means something: a sheet in the editor, or a run panel open.
    const updateVisibility = () => {
      const active = vscode.window.activeTextEditor?.document.uri;
      const sheetOpen = isSheet(active);
      if (sheetOpen) this.sandbox.warm(active);
      if (sheetOpen || this.panels.size > 0) this.status.show();
      else this.status.hide();
    };
    updateVisibility();
    // The language server starts with the first sheet (or input set) opened.
    const startLanguageServerFor = (document: vscode.TextDocument) => {
      if (isSheet(document.uri) || isInputSet(document.uri)) void this.languageClient.start();
    };
    vscode.workspace.textDocuments.forEach(startLanguageServerFor);
    context.subscriptions.push(
      vscode.window.onDidChangeActiveTextEditor(updateVisibility),
      vscode.workspace.onDidChangeConfiguration((e) => Config.affectsSandbox(e) && this.renderStatus()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration("uzoncalc.sandbox.mode")) void this.remoteChosenInSettings();
      }),
      // An edit on an errored line makes that error stale.
      vscode.workspace.onDidChangeTextDocument((e) => e.contentChanges.length > 0 && this.diagnostics.delete(e.document.uri)),
      vscode.workspace.onDidOpenTextDocument(startLanguageServerFor),
      // The saved text is what runs: bundle it now rather than when Run Calc is pressed.
      vscode.workspace.onDidSaveTextDocument((document) => isSheet(document.uri) && this.sandbox.warm(document.uri)),
      vscode.languages.registerCodeLensProvider([{ scheme: "file", pattern: SHEET_GLOB }], codeLenses),
      // "Run with" lists the sets beside the sheet: a set made or removed outside the panel shows up there too.
      ...watchInputSets(() => {
        for (const panel of this.panels.values()) panel.refreshInputSets();
      }),
      // Run panels come back after a window reload, with their waiting run (RunPanel.restore).
      vscode.window.registerWebviewPanelSerializer("uzoncalc.run", {
        deserializeWebviewPanel: (panel, state: unknown) => this.restorePanel(panel, state as PanelState | undefined),
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => {
        this.renderStatus();
        const active = vscode.window.activeTextEditor?.document.uri;
        if (isSheet(active)) this.sandbox.warm(active);
      }),
    );
  }

  /** Sheets run only in a trusted workspace: when it is not, says why and offers the way to trust the folder. */
  private async ensureTrusted(why: string): Promise<boolean> {
    if (vscode.workspace.isTrusted) return true;
    const choice = await vscode.window.showWarningMessage(
      `UzonCalc runs sheets only in a trusted workspace: ${why}. Trust this folder to run it.`,
      "Manage Workspace Trust",
    );
    if (choice) await vscode.commands.executeCommand("workbench.trust.manage");
    return false;
  }

  /** The sheet a command is about: the one it was given, else the active editor's. */
  sheetOf(uri?: vscode.Uri): vscode.Uri | undefined {
    if (isSheet(uri)) return uri;
    const active = vscode.window.activeTextEditor?.document.uri;
    return isSheet(active) ? active : undefined;
  }

  // ---- commands (the table is `commands` below) -----------------------------------------------------------

  /** `inputSet`: the set the run answers windows from ("default", a case, null for none); left out, the panel's choice. */
  async runCalc(uri?: vscode.Uri, funcName?: string, inputSet?: string | null): Promise<void> {
    if (!(await this.ensureTrusted("running a sheet runs its code"))) return;
    const sheet = this.sheetOf(uri);
    if (!sheet) {
      await vscode.window.showInformationMessage("Open a calculation sheet (*.calc.ts or *.calc.js) to run it.");
      return;
    }
    this.log.info(`Run Calc: ${path.basename(sheet.fsPath)}`);
    if (!(await this.settleUnsavedChanges(sheet))) return;
    const panel = this.panelFor(sheet);
    panel.reveal();
    await panel.run(
      typeof funcName === "string" ? funcName : undefined,
      typeof inputSet === "string" || inputSet === null ? inputSet : undefined,
    );
  }

  /**
   * Compare with Previous Run: the last completed run against the one before it in this panel, or, for the first
   * run, against the report saved beside the sheet (`beam.report.html`, what `uzoncalc run` writes: the last issue).
   */
  async compareWithPrevious(uri?: vscode.Uri): Promise<void> {
    const sheet = this.sheetOf(uri);
    const panel = this.existingPanel(sheet);
    const { previous, last } = panel?.lastTwoRuns ?? { previous: undefined, last: undefined };
    if (!panel || !last) {
      await vscode.window.showInformationMessage("Run the sheet to the end first: its report is compared with the run before it.");
      return;
    }
    const runName = (run: CompletedRun) =>
      `the run at ${run.at.toLocaleTimeString()}${run.inputSet ? ` with the input set ${run.inputSet}` : ""}`;
    let older: { document: string; name: string } | undefined = previous && { document: previous.document, name: runName(previous) };
    const saved = reportFileName(panel.sheet.fsPath);
    if (!older && fs.existsSync(saved))
      older = { document: fs.readFileSync(saved, "utf8"), name: `${path.basename(saved)} (saved beside the sheet)` };
    if (!older) {
      await vscode.window.showInformationMessage(
        `Run ${path.basename(panel.sheet.fsPath)} once more (or keep a ${path.basename(saved)} beside it): there is no earlier report to compare with.`,
      );
      return;
    }
    const diff = diffReports(readReport(older.document), readReport(last.document));
    this.log.info(`compared ${path.basename(panel.sheet.fsPath)}: ${diff.same ? "no differences" : `${diff.changes.length} changes`}`);
    showComparison({
      sheet: path.basename(panel.sheet.fsPath),
      oldName: older.name,
      newName: runName(last),
      diff,
      ...(panel.viewColumn !== undefined ? { column: panel.viewColumn } : {}),
    });
  }

  /**
   * Run Study on a cases file (CSV or JSON) beside a sheet: the local child runs one case per row, as `uzoncalc
   * study` does, writes the study beside the sheet (`rc-beam.study/`), and its table opens in a panel.
   */
  async runStudy(uri?: vscode.Uri): Promise<void> {
    if (!(await this.ensureTrusted("a study runs the sheet's code"))) return;
    const cases = uri ?? vscode.window.activeTextEditor?.document.uri;
    if (!cases || cases.scheme !== "file" || !/\.(csv|json)$/i.test(cases.fsPath) || isInputSetFileName(cases.fsPath)) {
      await vscode.window.showInformationMessage(
        "Open a cases file (CSV with a column per window.field, or a JSON array of input sets) beside a sheet to run a study.",
      );
      return;
    }
    const sheet = await sheetForCases(cases.fsPath);
    if (!sheet) return;
    const outputDir = studyFolderName(sheet);
    const count = Math.max(
      1,
      fs
        .readFileSync(cases.fsPath, "utf8")
        .split("\n")
        .filter((line) => line.trim() !== "").length - 1,
    );
    this.log.info(`Run Study: ${path.basename(sheet)} with ${path.basename(cases.fsPath)} into ${outputDir}`);
    try {
      const outcome = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `UzonCalc: study of ${path.basename(sheet)}` },
        async (progress) => {
          progress.report({ message: `running the cases of ${path.basename(cases.fsPath)}…` });
          const child = await this.sandbox.localChild();
          return child.study({ file_path: sheet, cases_path: cases.fsPath, output_dir: outputDir, jobs: 2 }, count);
        },
      );
      this.log.info(`study of ${path.basename(sheet)}: ${outcome.message}`);
      if (!outcome.csv) {
        await vscode.window.showErrorMessage(`UzonCalc: the study did not run: ${outcome.message}`);
        return;
      }
      showStudy(path.basename(sheet), outcome.csv, outcome.message);
      if (outcome.failed > 0)
        void vscode.window.showWarningMessage(
          `UzonCalc: ${outcome.failed} of ${outcome.cases} cases failed; their errors are in their rows.`,
        );
    } catch (error) {
      await this.explainSandboxProblem(error);
    }
  }

  /** From a window's lens: the input sets that answer it, one opened directly, several picked from a list. */
  async openInputSets(uris?: string[]): Promise<void> {
    const files = (Array.isArray(uris) ? uris : []).filter((uri) => typeof uri === "string").map((uri) => vscode.Uri.parse(uri));
    const picked =
      files.length <= 1
        ? files[0]
        : (
            await vscode.window.showQuickPick(
              files.map((uri) => ({ label: path.basename(uri.fsPath), uri })),
              { title: "UzonCalc: open an input set" },
            )
          )?.uri;
    if (picked) await vscode.window.showTextDocument(picked);
  }

  /**
   * Save Inputs As…: the run's answers so far become an input set beside the sheet, named by the user (empty: the
   * default set), so the case can be run again, reviewed in git and checked against the sheet as it changes.
   */
  async saveInputs(uri?: vscode.Uri): Promise<void> {
    const panel = this.existingPanel(this.sheetOf(uri));
    const answered = panel?.answered ?? [];
    if (!panel || answered.length === 0) {
      await vscode.window.showInformationMessage("Run the sheet and answer at least one window first: its answers are what gets saved.");
      return;
    }
    const sheetName = path.basename(panel.sheet.fsPath);
    const name = await vscode.window.showInputBox({
      title: `UzonCalc: save the answers of ${sheetName} as an input set`,
      prompt: `A name for the case (the file is ${path.basename(inputSetPath(panel.sheet.fsPath, "<name>"))}); empty: the default set, ${path.basename(inputSetPath(panel.sheet.fsPath, DEFAULT_SET))}`,
      value: panel.inputSet && panel.inputSet !== DEFAULT_SET ? panel.inputSet : "",
      ignoreFocusOut: true,
      validateInput: (text) =>
        text.trim() === "" || CASE_NAME_PATTERN.test(text.trim())
          ? undefined
          : "Letters, digits, '-' and '_' (up to 64, starting with a letter or digit): it becomes part of the file name.",
    });
    if (name === undefined) return;
    const target = vscode.Uri.file(inputSetPath(panel.sheet.fsPath, name.trim() === "" ? DEFAULT_SET : name.trim()));
    if (fs.existsSync(target.fsPath)) {
      const replace = await vscode.window.showWarningMessage(
        `${path.basename(target.fsPath)} exists. Replace it?`,
        { modal: true },
        "Replace",
      );
      if (replace !== "Replace") return;
    }
    await vscode.workspace.fs.writeFile(target, Buffer.from(inputSetText(answered), "utf8"));
    this.log.info(`saved ${answered.length} window(s) of ${sheetName} to ${target.fsPath}`);
    panel.refreshInputSets();
    const open = await vscode.window.showInformationMessage(`Inputs saved to ${path.basename(target.fsPath)}.`, "Open");
    if (open) await vscode.window.showTextDocument(target);
  }

  async cancelRun(uri?: vscode.Uri): Promise<void> {
    await this.existingPanel(this.sheetOf(uri))?.cancel();
  }

  async showPreview(uri?: vscode.Uri): Promise<void> {
    const sheet = this.sheetOf(uri);
    const panel = this.existingPanel(sheet) ?? (sheet ? this.panelFor(sheet) : undefined);
    if (panel) panel.reveal();
    else await vscode.window.showInformationMessage("Run a calculation sheet first: its report opens beside the editor.");
  }

  async invalidateCache(): Promise<void> {
    try {
      const result = await (await this.sandbox.get()).invalidateCache();
      void vscode.window.setStatusBarMessage(`UzonCalc: ${result.message}`, 4000);
    } catch (error) {
      await this.explainSandboxProblem(error);
    }
  }

  async setRemoteToken(): Promise<void> {
    const token = await vscode.window.showInputBox({
      title: "UzonCalc: remote sandbox token",
      prompt:
        "The bearer token of your team's sandbox service (kept in VS Code's secret storage, never in settings). Leave empty to remove it.",
      password: true,
      ignoreFocusOut: true,
    });
    if (token === undefined) return;
    if (token.trim() === "") await this.context.secrets.delete(TOKEN_SECRET);
    else await this.context.secrets.store(TOKEN_SECRET, token.trim());
    void vscode.window.setStatusBarMessage(token.trim() === "" ? "UzonCalc: remote token removed" : "UzonCalc: remote token saved", 4000);
  }

  /** The sheet's finished report, or undefined after telling the user that exports need one. */
  private async finishedReport(uri: vscode.Uri | undefined): Promise<{ panel: RunPanel; report: string } | undefined> {
    const panel = this.existingPanel(this.sheetOf(uri));
    const report = panel?.completedReport;
    if (panel && report !== undefined) return { panel, report };
    await vscode.window.showInformationMessage("Run the sheet to the end first: the finished report is what gets exported.");
    return undefined;
  }

  async exportReport(uri?: vscode.Uri): Promise<void> {
    const finished = await this.finishedReport(uri);
    if (!finished) return;
    const { panel, report } = finished;
    const target = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.file(reportFileName(panel.sheet.fsPath)),
      filters: { "HTML report": ["html"] },
    });
    if (!target) return;
    await vscode.workspace.fs.writeFile(target, Buffer.from(report, "utf8"));
    const open = await vscode.window.showInformationMessage(`Report saved to ${target.fsPath}.`, "Open in Browser");
    if (open) await vscode.env.openExternal(target);
  }

  /** Export Report to Word: the finished report as .docx, its equations Office Math (sandbox/connect/wordReport.ts). */
  async exportWord(uri?: vscode.Uri): Promise<void> {
    const finished = await this.finishedReport(uri);
    if (!finished) return;
    const { panel, report } = finished;
    const target = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.file(wordFileName(panel.sheet.fsPath)),
      filters: { "Word document": ["docx"] },
    });
    if (!target) return;
    const paper = this.config.paperSize;
    const started = performance.now();
    try {
      const bytes = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `UzonCalc: writing ${path.basename(target.fsPath)}` },
        () => reportToWord(report, { paper }),
      );
      await vscode.workspace.fs.writeFile(target, bytes);
      this.log.info(
        `Export to Word: ${target.fsPath} (${paper}, ${Math.round(bytes.length / 1024)} KB) in ${Math.round(performance.now() - started)} ms`,
      );
    } catch (error) {
      this.log.error(`Export to Word failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      await vscode.window.showErrorMessage(
        `UzonCalc: the report could not be written as Word to ${target.fsPath}: ${error instanceof Error ? error.message : String(error)}`,
      );
      return;
    }
    const open = await vscode.window.showInformationMessage(`Word document saved to ${target.fsPath}.`, "Open");
    if (open) await vscode.env.openExternal(target);
  }

  async switchSandboxMode(): Promise<void> {
    const next = this.config.sandboxMode === "local" ? "remote" : "local";
    const picked = await vscode.window.showQuickPick(
      [
        { label: "Local", description: "a sandbox process beside VS Code", mode: "local" as const },
        { label: "Remote", description: this.config.remoteUrl || "set uzoncalc.sandbox.remoteUrl", mode: "remote" as const },
      ],
      { title: "UzonCalc: where sheets run", placeHolder: `Now: ${this.config.sandboxMode}. Pick ${next} to switch.` },
    );
    if (!picked || picked.mode === this.config.sandboxMode) return;
    if (picked.mode === "local") {
      await this.config.setSandboxMode("local");
      return;
    }
    // Switched only once the service answers this user: the URL, its health and the token are settled first.
    this.settingUpRemote = true;
    try {
      if (!(await setUpRemote(this.remoteSetup()))) return;
      await this.config.setSandboxMode("remote");
    } finally {
      this.settingUpRemote = false;
    }
    void vscode.window.setStatusBarMessage(`UzonCalc: sheets now run on ${this.config.remoteUrl}`, 5000);
  }

  private remoteSetup(): RemoteSetup {
    return {
      config: this.config,
      token: {
        get: () => Promise.resolve(this.context.secrets.get(TOKEN_SECRET)),
        set: (token) => Promise.resolve(this.context.secrets.store(TOKEN_SECRET, token)),
      },
      log: (message) => this.log.info(message),
    };
  }

  /**
   * Remote chosen in the settings: the same questions as from the status item, asked once; the mode stays as the
   * user set it, and a service that cannot be reached is said so now rather than at the next run.
   */
  private async remoteChosenInSettings(): Promise<void> {
    if (this.settingUpRemote || this.config.sandboxMode !== "remote") return;
    this.settingUpRemote = true;
    try {
      if (await setUpRemote(this.remoteSetup()))
        void vscode.window.setStatusBarMessage(`UzonCalc: sheets now run on ${this.config.remoteUrl}`, 5000);
    } finally {
      this.settingUpRemote = false;
    }
  }

  async restartLanguageServer(): Promise<void> {
    await this.languageClient.restart();
    void vscode.window.setStatusBarMessage("UzonCalc: language server restarted", 4000);
  }

  /**
   * Runs use the saved files, in both modes. When the sheet or one of its local imports has unsaved changes, asks
   * once whether to save them (unless uzoncalc.saveBeforeRun says always). False: the user backed out.
   */
  private async settleUnsavedChanges(sheet: vscode.Uri): Promise<boolean> {
    const unsaved = unsavedParts(sheet);
    if (unsaved.length === 0) return true;
    if (!this.config.saveBeforeRun) {
      const names = unsaved.map((d) => path.basename(d.uri.fsPath)).join(", ");
      const choice = await vscode.window.showWarningMessage(
        `${names} ${unsaved.length === 1 ? "has" : "have"} unsaved changes. A run uses the saved files.`,
        "Save and Run",
        "Run Saved Version",
        "Always Save",
      );
      if (choice === undefined) return false;
      if (choice === "Run Saved Version") return true;
      if (choice === "Always Save") await this.config.setSaveBeforeRun(true);
    }
    for (const document of unsaved) await document.save();
    return true;
  }

  /** A run panel VS Code brought back after a window reload: its sheet is in the state its webview kept. */
  async restorePanel(webviewPanel: vscode.WebviewPanel, state: PanelState | undefined): Promise<void> {
    if (typeof state?.uri !== "string" || this.panels.has(state.uri)) {
      webviewPanel.dispose();
      return;
    }
    const sheet = vscode.Uri.parse(state.uri);
    const saved = this.savedRuns.get(state.uri);
    const panel = this.panelFor(sheet, webviewPanel);
    try {
      await panel.restore(state, saved);
    } catch (error) {
      this.log.warn(`could not restore the run panel of ${sheet.fsPath}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  panelFor(sheet: vscode.Uri, existing?: vscode.WebviewPanel): RunPanel {
    const key = sheet.toString();
    let panel = this.panels.get(key);
    if (!panel) {
      panel = new RunPanel(
        sheet,
        this.context.extensionUri,
        this.sandbox,
        {
          onState: (_panel, state, ms) => {
            this.lastState = state;
            if (ms !== undefined) this.lastStepMs = ms;
            this.renderStatus();
          },
          onSheetError: (uri, error) => this.showSheetError(uri, error),
          onSandboxProblem: (error) => void this.explainSandboxProblem(error),
          onTrace: (uri, entries, reset) => (reset ? this.values.clear(uri) : this.values.add(uri, entries)),
        },
        () => this.panels.delete(key),
        this.log,
        this.savedRuns,
        existing,
      );
      this.panels.set(key, panel);
      this.status.show();
    }
    return panel;
  }

  existingPanel(sheet: vscode.Uri | undefined): RunPanel | undefined {
    return sheet ? this.panels.get(sheet.toString()) : [...this.panels.values()].pop();
  }

  renderStatus(): void {
    const mode = this.config.sandboxMode;
    const icon =
      this.lastState === "running" || this.lastState === "starting"
        ? "$(sync~spin)"
        : this.lastState === "error"
          ? "$(error)"
          : this.lastState === "waiting"
            ? "$(edit)"
            : "$(beaker)";
    const words: Record<RunState, string> = {
      idle: "idle",
      starting: "starting",
      running: "running",
      waiting: "waiting for input",
      completed: "idle",
      error: "error",
      cancelled: "idle",
    };
    const time =
      this.lastStepMs !== undefined ? ` · ${this.lastStepMs < 10 ? this.lastStepMs.toFixed(1) : Math.round(this.lastStepMs)} ms` : "";
    this.status.text = vscode.workspace.isTrusted
      ? `${icon} UzonCalc ${mode}: ${words[this.lastState]}${time}`
      : `$(workspace-untrusted) UzonCalc: Restricted Mode`;
    this.status.tooltip = new vscode.MarkdownString(
      `**UzonCalc sandbox**: ${mode === "local" ? "local (a child process of VS Code)" : `remote (${this.config.remoteUrl || "no URL set"})`}\n\nLast step: ${this.lastStepMs !== undefined ? `${this.lastStepMs.toFixed(1)} ms` : "none yet"}\n\nClick to switch between local and remote.`,
    );
    this.status.command = vscode.workspace.isTrusted ? "uzoncalc.switchSandboxMode" : "workbench.trust.manage";
    this.status.backgroundColor = this.lastState === "error" ? new vscode.ThemeColor("statusBarItem.errorBackground") : undefined;
  }

  showSheetError(sheet: vscode.Uri, error: SheetError | undefined): void {
    this.diagnostics.clear();
    if (!error) return;
    const target = error.file ? vscode.Uri.file(path.join(path.dirname(sheet.fsPath), error.file)) : sheet;
    const line = Math.max(0, (error.line ?? 1) - 1);
    const column = Math.max(0, (error.column ?? 1) - 1);
    const diagnostic = new vscode.Diagnostic(
      new vscode.Range(line, column, line, column + 1),
      `${error.name ?? "Error"}: ${error.message}`,
      vscode.DiagnosticSeverity.Error,
    );
    diagnostic.source = "UzonCalc run";
    if (error.limit) diagnostic.code = `${error.limit} limit`;
    this.diagnostics.set(target, [diagnostic]);
  }

  async explainSandboxProblem(error: unknown): Promise<void> {
    const message = error instanceof Error ? error.message : String(error);
    const hint = error instanceof SandboxUnavailableError ? ` ${error.hint}` : "";
    this.log.error(`sandbox: ${message}`);
    const actions: string[] = [];
    const fix = error instanceof SandboxConfigurationError ? error.fix : undefined;
    const unauthorized = error instanceof Refusal && error.status === 401;
    if (unauthorized || fix === "setToken") actions.push("Set Token");
    if (fix === "openSettings" || error instanceof SandboxUnavailableError || unauthorized) actions.push("Open Settings");
    if (this.config.sandboxMode === "remote") actions.push("Switch to Local");
    actions.push("Show Log");
    const picked = await vscode.window.showErrorMessage(`UzonCalc: ${message}${hint}`, ...actions);
    if (picked === "Set Token") await vscode.commands.executeCommand("uzoncalc.setRemoteToken");
    else if (picked === "Open Settings") await vscode.commands.executeCommand("workbench.action.openSettings", "uzoncalc.sandbox");
    else if (picked === "Switch to Local") await this.config.setSandboxMode("local");
    else if (picked === "Show Log") this.log.show();
  }

  /**
   * The run panels; every other part is in the context's subscriptions. They are left open with their waiting
   * runs saved: the extension goes away with the window, and a reload brings both back.
   */
  dispose(): void {
    for (const panel of this.panels.values()) panel.detach();
  }
}

let extension: Extension | undefined;

/** What activate() returns: for other extensions and for the in-host tests, which drive runs through it. */
export interface UzonCalcApi {
  readonly version: string;
  /** The run panel's state for a sheet, as its webview would show it. */
  panelState(sheet: vscode.Uri): PanelState | undefined;
  /** The last run's values shown beside the sheet's code: line (1-based) → "name = value". */
  shownValues(sheet: vscode.Uri): Record<number, string>;
  /** Delivers a message as if the sheet's run panel had sent it (the typed union, checked like any other). */
  fromWebview(sheet: vscode.Uri, message: unknown): Promise<void>;
}

/**
 * The sheet a cases file is for: `rc-beam.cases.csv` (or `rc-beam.csv`) beside `rc-beam.calc.ts|js`; else the user
 * picks one of the sheets in its folder.
 */
async function sheetForCases(casesFile: string): Promise<string | undefined> {
  const folder = path.dirname(casesFile);
  const base = path.basename(casesFile).replace(/(\.cases)?\.(csv|json)$/i, "");
  for (const extension of [".calc.ts", ".calc.js"]) {
    const candidate = path.join(folder, base + extension);
    if (fs.existsSync(candidate)) return candidate;
  }
  const sheets = fs.readdirSync(folder).filter((name) => isSheetFileName(name));
  if (sheets.length === 0) {
    await vscode.window.showInformationMessage(
      `No sheet (*.calc.ts or *.calc.js) beside ${path.basename(casesFile)} to run its cases with.`,
    );
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(sheets, {
    title: `UzonCalc: which sheet do the cases of ${path.basename(casesFile)} run?`,
  });
  return picked ? path.join(folder, picked) : undefined;
}

function watchInputSets(changed: () => void): vscode.Disposable[] {
  const watcher = vscode.workspace.createFileSystemWatcher(INPUT_SET_GLOB, false, true, false);
  return [watcher, watcher.onDidCreate(changed), watcher.onDidDelete(changed)];
}

/** The sheet and its local imports that are open with unsaved changes. */
function unsavedParts(sheet: vscode.Uri): vscode.TextDocument[] {
  let imports: string[] = [];
  try {
    // Any import on this disk counts here: this only asks which open documents are part of the sheet.
    const anywhere = [path.parse(sheet.fsPath).root];
    imports = Object.keys(collectLocalImports(sheet.fsPath, anywhere)).map((relative) =>
      path.resolve(path.dirname(sheet.fsPath), relative),
    );
  } catch {
    // The sheet is not on disk yet: only its own document can be unsaved.
  }
  const parts = new Set([sheet.fsPath, ...imports]);
  return vscode.workspace.textDocuments.filter((d) => d.isDirty && d.uri.scheme === "file" && parts.has(d.uri.fsPath));
}

/** Command ids (package.json's `contributes.commands`) and what each does. */
function commands(ext: Extension): Record<string, (...args: never[]) => unknown> {
  return {
    "uzoncalc.runCalc": (uri?: vscode.Uri, funcName?: string, inputSet?: string | null) => ext.runCalc(uri, funcName, inputSet),
    "uzoncalc.saveInputs": (uri?: vscode.Uri) => ext.saveInputs(uri),
    "uzoncalc.openInputSets": (uris?: string[]) => ext.openInputSets(uris),
    "uzoncalc.compareWithPrevious": (uri?: vscode.Uri) => ext.compareWithPrevious(uri),
    "uzoncalc.runStudy": (uri?: vscode.Uri) => ext.runStudy(uri),
    [SORT_STUDY_COMMAND]: (column?: number) => sortStudy(column),
    [OPEN_STUDY_REPORT_COMMAND]: (file?: string) => openStudyReport(file),
    "uzoncalc.cancelRun": (uri?: vscode.Uri) => ext.cancelRun(uri),
    "uzoncalc.showPreview": (uri?: vscode.Uri) => ext.showPreview(uri),
    "uzoncalc.invalidateCache": () => ext.invalidateCache(),
    "uzoncalc.setRemoteToken": () => ext.setRemoteToken(),
    "uzoncalc.exportReport": (uri?: vscode.Uri) => ext.exportReport(uri),
    "uzoncalc.exportWord": (uri?: vscode.Uri) => ext.exportWord(uri),
    "uzoncalc.switchSandboxMode": () => ext.switchSandboxMode(),
    "uzoncalc.restartLanguageServer": () => ext.restartLanguageServer(),
  };
}

const COMMAND_IDS = Object.keys(commands({} as Extension));

export function activate(context: vscode.ExtensionContext): UzonCalcApi | undefined {
  const started = performance.now();
  const log = vscode.window.createOutputChannel("UzonCalc", { log: true });
  context.subscriptions.push(log);
  try {
    const ext = new Extension(context, log);
    extension = ext;
    context.subscriptions.push(ext);
    for (const [id, run] of Object.entries(commands(ext))) context.subscriptions.push(vscode.commands.registerCommand(id, run));
    log.info(`activated in ${(performance.now() - started).toFixed(1)} ms (sandbox: ${ext.config.sandboxMode})`);
    return {
      version: String((context.extension.packageJSON as { version?: unknown }).version ?? ""),
      panelState: (sheet) => ext.existingPanel(sheet)?.snapshot,
      shownValues: (sheet) => ext.values.shown(sheet),
      fromWebview: async (sheet, message) => ext.existingPanel(sheet)?.receive(message),
    };
  } catch (error) {
    reportFailedStart(context, log, error);
    return undefined;
  }
}

/**
 * Nothing half-started stays: what was built is disposed, the error goes to the output channel, and every
 * command says UzonCalc did not start (with the log one click away) instead of "command not found".
 */
function reportFailedStart(context: vscode.ExtensionContext, log: vscode.LogOutputChannel, error: unknown): void {
  extension = undefined;
  for (const part of context.subscriptions.splice(0)) if (part !== log) part.dispose();
  context.subscriptions.push(log);
  const reason = error instanceof Error ? error.message : String(error);
  log.error(`UzonCalc could not start: ${error instanceof Error ? (error.stack ?? reason) : reason}`);
  const explain = async () => {
    if ((await vscode.window.showErrorMessage(`UzonCalc could not start: ${reason}`, "Show Log")) === "Show Log") log.show();
  };
  for (const id of COMMAND_IDS) {
    try {
      context.subscriptions.push(vscode.commands.registerCommand(id, explain));
    } catch {
      // Registered already by another activation in this extension host: left as it is.
    }
  }
  void explain();
}

export function deactivate(): Promise<void> | undefined {
  const ext = extension;
  extension = undefined;
  return ext ? Promise.all([ext.sandbox.reset("VS Code is closing"), ext.languageClient.stop()]).then(() => undefined) : undefined;
}
