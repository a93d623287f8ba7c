// UzonCalc for VS Code: Run Calc, the run panel, local and remote sandboxes.

import * as path from "node:path";
import * as vscode from "vscode";
import type { SheetError } from "../protocol/rpc";
import type { PanelState, RunState } from "../protocol/webview";
import { SandboxRequestError, SandboxUnavailableError } from "../sandbox/connect/sandboxClient";
import { Config } from "./config";
import { RunPanel } from "./runPanel";
import { SandboxConfigurationError, SandboxManager, TOKEN_SECRET } from "./sandbox";
import { SheetCodeLensProvider } from "./codeLens";
import { SheetLanguageClient } from "./languageClient";
import { ValueDecorations } from "./valueDecorations";

const SHEET_PATTERN = /\.calc\.(ts|js)$/;

export function isSheet(uri: vscode.Uri | undefined): uri is vscode.Uri {
  return uri !== undefined && uri.scheme === "file" && SHEET_PATTERN.test(uri.fsPath);
}

class Extension implements vscode.Disposable {
  readonly config = new Config();
  readonly log = vscode.window.createOutputChannel("UzonCalc", { log: true });
  readonly sandbox: SandboxManager;
  readonly diagnostics = vscode.languages.createDiagnosticCollection("uzoncalc");
  readonly status = vscode.window.createStatusBarItem("uzoncalc.status", vscode.StatusBarAlignment.Left, 10);
  readonly values = new ValueDecorations(() => this.config.showValues);
  private readonly panels = new Map<string, RunPanel>();
  languageClient: SheetLanguageClient | undefined;
  private lastState: RunState = "idle";
  private lastStepMs: number | undefined;

  constructor(private readonly context: vscode.ExtensionContext) {
    this.sandbox = new SandboxManager(context, this.config, this.log);
    this.status.name = "UzonCalc sandbox";
    this.renderStatus();
    // Only where it means something: a sheet in the editor, or a run panel open.
    const updateVisibility = () => {
      const sheetOpen = isSheet(vscode.window.activeTextEditor?.document.uri);
      if (sheetOpen) this.sandbox.warm();
      if (sheetOpen || this.panels.size > 0) this.status.show();
      else this.status.hide();
    };
    updateVisibility();
    context.subscriptions.push(vscode.window.onDidChangeActiveTextEditor(updateVisibility));
    context.subscriptions.push(vscode.workspace.onDidChangeConfiguration((e) => Config.affectsSandbox(e) && this.renderStatus()));
    // An edit on an errored line makes that error stale.
    context.subscriptions.push(vscode.workspace.onDidChangeTextDocument((e) => e.contentChanges.length > 0 && this.diagnostics.delete(e.document.uri)));
  }

  panelFor(sheet: vscode.Uri): RunPanel {
    const key = sheet.toString();
    let panel = this.panels.get(key);
    if (!panel) {
      panel = new RunPanel(sheet, this.context.extensionUri, this.sandbox, {
        onState: (_panel, state, ms) => {
          this.lastState = state;
          if (ms !== undefined) this.lastStepMs = ms;
          this.renderStatus();
        },
        onSheetError: (uri, error) => this.showSheetError(uri, error),
        onSandboxProblem: (error) => void this.explainSandboxProblem(error),
        onTrace: (uri, entries, reset) => (reset ? this.values.clear(uri) : this.values.add(uri, entries)),
      }, () => this.panels.delete(key), this.log);
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
    const icon = this.lastState === "running" || this.lastState === "starting" ? "$(sync~spin)" : this.lastState === "error" ? "$(error)" : this.lastState === "waiting" ? "$(edit)" : "$(beaker)";
    const words: Record<RunState, string> = { idle: "idle", starting: "starting", running: "running", waiting: "waiting for input", completed: "idle", error: "error", cancelled: "idle" };
    const time = this.lastStepMs !== undefined ? ` · ${this.lastStepMs < 10 ? this.lastStepMs.toFixed(1) : Math.round(this.lastStepMs)} ms` : "";
    this.status.text = vscode.workspace.isTrusted ? `${icon} UzonCalc ${mode}: ${words[this.lastState]}${time}` : `$(workspace-untrusted) UzonCalc: Restricted Mode`;
    this.status.tooltip = new vscode.MarkdownString(`**UzonCalc sandbox**: ${mode === "local" ? "local (a child process of VS Code)" : `remote (${this.config.remoteUrl || "no URL set"})`}\n\nLast step: ${this.lastStepMs !== undefined ? `${this.lastStepMs.toFixed(1)} ms` : "none yet"}\n\nClick to switch between local and remote.`);
    this.status.command = vscode.workspace.isTrusted ? "uzoncalc.switchSandboxMode" : "workbench.trust.manage";
    this.status.backgroundColor = this.lastState === "error" ? new vscode.ThemeColor("statusBarItem.errorBackground") : undefined;
  }

  showSheetError(sheet: vscode.Uri, error: SheetError | undefined): void {
    this.diagnostics.clear();
    if (!error) return;
    const target = error.file ? vscode.Uri.file(path.join(path.dirname(sheet.fsPath), error.file)) : sheet;
    const line = Math.max(0, (error.line ?? 1) - 1);
    const column = Math.max(0, (error.column ?? 1) - 1);
    const diagnostic = new vscode.Diagnostic(new vscode.Range(line, column, line, column + 1), `${error.name ?? "Error"}: ${error.message}`, vscode.DiagnosticSeverity.Error);
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
    const unauthorized = error instanceof SandboxRequestError && error.status === 401;
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

  dispose(): void {
    for (const panel of this.panels.values()) panel.dispose();
    this.sandbox.dispose();
    this.diagnostics.dispose();
    this.values.dispose();
    this.status.dispose();
    this.log.dispose();
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

export function activate(context: vscode.ExtensionContext): UzonCalcApi {
  const started = performance.now();
  const ext = new Extension(context);
  extension = ext;
  context.subscriptions.push(ext);

  const activeSheet = (uri?: vscode.Uri): vscode.Uri | undefined => (isSheet(uri) ? uri : isSheet(vscode.window.activeTextEditor?.document.uri) ? vscode.window.activeTextEditor!.document.uri : undefined);

  const runCalc = async (uri?: vscode.Uri, funcName?: string) => {
    if (!vscode.workspace.isTrusted) {
      const choice = await vscode.window.showWarningMessage("UzonCalc runs sheets only in a trusted workspace: running a sheet runs its code. Trust this folder to run it.", "Manage Workspace Trust");
      if (choice) await vscode.commands.executeCommand("workbench.trust.manage");
      return;
    }
    const sheet = activeSheet(uri);
    if (!sheet) {
      await vscode.window.showInformationMessage("Open a calculation sheet (*.calc.ts or *.calc.js) to run it.");
      return;
    }
    const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === sheet.toString());
    if (document?.isDirty) {
      const choice = await vscode.window.showWarningMessage(`${path.basename(sheet.fsPath)} has unsaved changes. The sandbox runs the saved file.`, { modal: false }, "Save and Run", "Run Saved Version");
      if (choice === undefined) return;
      if (choice === "Save and Run") await document.save();
    }
    const panel = ext.panelFor(sheet);
    panel.reveal();
    await panel.run(typeof funcName === "string" ? funcName : undefined);
  };

  const codeLenses = new SheetCodeLensProvider();
  const languageClient = new SheetLanguageClient(context, ext.log);
  ext.languageClient = languageClient;
  const startLanguageServerFor = (document: vscode.TextDocument) => {
    if (isSheet(document.uri)) void languageClient.start();
  };
  vscode.workspace.textDocuments.forEach(startLanguageServerFor);
  context.subscriptions.push(
    vscode.commands.registerCommand("uzoncalc.runCalc", runCalc),
    vscode.commands.registerCommand("uzoncalc.cancelRun", async (uri?: vscode.Uri) => ext.existingPanel(activeSheet(uri))?.cancel()),
    vscode.commands.registerCommand("uzoncalc.showPreview", async (uri?: vscode.Uri) => {
      const sheet = activeSheet(uri);
      const panel = ext.existingPanel(sheet) ?? (sheet ? ext.panelFor(sheet) : undefined);
      if (panel) panel.reveal();
      else await vscode.window.showInformationMessage("Run a calculation sheet first: its report opens beside the editor.");
    }),
    vscode.commands.registerCommand("uzoncalc.invalidateCache", async () => {
      try {
        const result = await (await ext.sandbox.get()).invalidateCache();
        void vscode.window.setStatusBarMessage(`UzonCalc: ${result.message}`, 4000);
      } catch (error) {
        await ext.explainSandboxProblem(error);
      }
    }),
    vscode.commands.registerCommand("uzoncalc.setRemoteToken", async () => {
      const token = await vscode.window.showInputBox({ title: "UzonCalc: remote sandbox token", prompt: "The bearer token of your team's sandbox service (kept in VS Code's secret storage, never in settings). Leave empty to remove it.", password: true, ignoreFocusOut: true });
      if (token === undefined) return;
      if (token.trim() === "") await context.secrets.delete(TOKEN_SECRET);
      else await context.secrets.store(TOKEN_SECRET, token.trim());
      void vscode.window.setStatusBarMessage(token.trim() === "" ? "UzonCalc: remote token removed" : "UzonCalc: remote token saved", 4000);
    }),
    vscode.commands.registerCommand("uzoncalc.exportReport", async (uri?: vscode.Uri) => {
      const panel = ext.existingPanel(activeSheet(uri));
      const report = panel?.completedReport;
      if (!panel || report === undefined) {
        await vscode.window.showInformationMessage("Run the sheet to the end first: the finished report is what gets exported.");
        return;
      }
      const target = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.file(panel.sheet.fsPath.replace(/(\.calc)?\.(ts|js)$/, ".report.html")), filters: { "HTML report": ["html"] } });
      if (!target) return;
      await vscode.workspace.fs.writeFile(target, Buffer.from(report, "utf8"));
      const open = await vscode.window.showInformationMessage(`Report saved to ${target.fsPath}.`, "Open in Browser");
      if (open) await vscode.env.openExternal(target);
    }),
    vscode.commands.registerCommand("uzoncalc.switchSandboxMode", async () => {
      const next = ext.config.sandboxMode === "local" ? "remote" : "local";
      const picked = await vscode.window.showQuickPick(
        [
          { label: "Local", description: "a sandbox process beside VS Code", mode: "local" as const },
          { label: "Remote", description: ext.config.remoteUrl || "set uzoncalc.sandbox.remoteUrl", mode: "remote" as const },
        ],
        { title: "UzonCalc: where sheets run", placeHolder: `Now: ${ext.config.sandboxMode}. Pick ${next} to switch.` },
      );
      if (picked) await ext.config.setSandboxMode(picked.mode);
    }),
    codeLenses,
    languageClient,
    vscode.workspace.onDidOpenTextDocument(startLanguageServerFor),
    vscode.commands.registerCommand("uzoncalc.restartLanguageServer", async () => {
      await languageClient.restart();
      void vscode.window.setStatusBarMessage("UzonCalc: language server restarted", 4000);
    }),
    vscode.languages.registerCodeLensProvider([{ scheme: "file", pattern: "**/*.calc.{ts,js}" }], codeLenses),
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      ext.renderStatus();
      if (isSheet(vscode.window.activeTextEditor?.document.uri)) ext.sandbox.warm();
    }),
  );
  ext.log.info(`activated in ${(performance.now() - started).toFixed(1)} ms (sandbox: ${ext.config.sandboxMode})`);
  return {
    version: String((context.extension.packageJSON as { version?: unknown }).version ?? ""),
    panelState: (sheet) => ext.existingPanel(sheet)?.snapshot,
    shownValues: (sheet) => ext.values.shown(sheet),
    fromWebview: async (sheet, message) => ext.existingPanel(sheet)?.receive(message),
  };
}

export function deactivate(): Promise<void> | undefined {
  const ext = extension;
  extension = undefined;
  return ext ? Promise.all([ext.sandbox.reset("VS Code is closing"), ext.languageClient?.stop()]).then(() => undefined) : undefined;
}
