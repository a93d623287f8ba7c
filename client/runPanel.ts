// The run panel: one webview per sheet beside the editor, showing the report as it grows and the waiting
// window's form inline. It owns one run at a time and speaks to the webview only through the typed unions.

import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import type { ExecutionResponse, SheetError, TraceEntry } from "../protocol/rpc";
import { isFromWebviewMessage, type FromWebviewMessage, type PanelState, type RunState, type ToWebviewMessage } from "../protocol/webview";
import { collectLocalImports } from "../sandbox/connect/remoteClient";
import { SandboxRequestError } from "../sandbox/connect/sandboxClient";
import type { SandboxManager } from "./sandbox";

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

export class RunPanel implements vscode.Disposable {
  private readonly panel: vscode.WebviewPanel;
  private state: PanelState;
  private sessionId: string | undefined;
  private result: string | undefined;
  private funcName: string | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private disposed = false;
  /** When the panel was created, until its webview first says it is ready: the cold-start figure in the log. */
  private readonly createdAt = performance.now();
  private webviewReady = false;

  constructor(
    readonly sheet: vscode.Uri,
    private readonly extensionUri: vscode.Uri,
    private readonly sandbox: SandboxManager,
    private readonly events: RunEvents,
    onDispose: () => void,
    private readonly log?: vscode.LogOutputChannel,
  ) {
    this.state = { sheet: path.basename(sheet.fsPath), report: "", state: "idle" };
    this.panel = vscode.window.createWebviewPanel("uzoncalc.run", `Run: ${path.basename(sheet.fsPath)}`, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
      enableScripts: true,
      // The form and the report survive hiding through the webview's own state (setState), not a live DOM.
      retainContextWhenHidden: false,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, "dist", "webview")],
    });
    this.panel.iconPath = vscode.Uri.joinPath(extensionUri, "media", "icon.svg");
    this.panel.webview.html = this.html();
    this.disposables.push(
      this.panel.webview.onDidReceiveMessage((message: unknown) => void this.receive(message)),
      this.panel.onDidDispose(() => {
        this.disposed = true;
        void this.cancel();
        onDispose();
        for (const d of this.disposables) d.dispose();
      }),
    );
  }

  get runState(): RunState {
    return this.state.state;
  }

  get completedReport(): string | undefined {
    return this.result;
  }

  /** A copy of what the panel shows. */
  get snapshot(): PanelState {
    return structuredClone(this.state);
  }

  /** Handles a message from the webview (or a test), after checking it is one of the union's. */
  async receive(message: unknown): Promise<void> {
    if (isFromWebviewMessage(message)) await this.onMessage(message);
  }

  reveal(): void {
    this.panel.reveal(vscode.ViewColumn.Beside, true);
  }

  dispose(): void {
    this.panel.dispose();
  }

  /** Starts (or restarts) the sheet; a run in progress is cancelled first. */
  async run(funcName?: string): Promise<void> {
    await this.cancel();
    this.funcName = funcName;
    this.result = undefined;
    this.state = { sheet: path.basename(this.sheet.fsPath), report: "", state: "starting" };
    this.post({ type: "reset", sheet: this.state.sheet, ...(funcName ? { funcName } : {}) });
    this.setState("starting");
    this.events.onSheetError(this.sheet, undefined);
    this.events.onTrace(this.sheet, [], true);
    try {
      const requested = performance.now();
      const client = await this.sandbox.get();
      const started = performance.now();
      const response = await client.execute({ ...this.sheetRequest(), ...(funcName ? { func_name: funcName } : {}), html_mode: "delta" });
      this.sessionId = response.session_id;
      this.log?.info(`run ${this.state.sheet}: first answer in ${(performance.now() - requested).toFixed(0)} ms (sandbox client ready after ${(started - requested).toFixed(0)} ms)`);
      this.apply(response, performance.now() - started);
    } catch (error) {
      this.failRequest(error);
    }
  }

  async cancel(): Promise<void> {
    const id = this.sessionId;
    if (!id || (this.state.state !== "waiting" && this.state.state !== "running")) return;
    this.sessionId = undefined;
    try {
      const client = await this.sandbox.get();
      await client.cancel(id);
    } catch {
      // The run is over either way; a sandbox that cannot be reached has nothing to cancel.
    }
    if (!this.disposed) {
      this.state.window = undefined;
      this.setState("cancelled", "The run was cancelled.");
    }
  }

  /** The sheet as the sandbox should get it: a path inside the workspace (local), else its text and imports. */
  private sheetRequest(): { file_path: string } | { source: string; filename: string; files: Record<string, string> } {
    const file = this.sheet.fsPath;
    const inWorkspace = this.sandbox.localSafeDirs.some((dir) => !path.relative(dir, file).startsWith(".."));
    if (this.sandbox.mode === "local" && inWorkspace) return { file_path: file };
    const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === this.sheet.toString());
    return { source: document?.getText() ?? fs.readFileSync(file, "utf8"), filename: path.basename(file), files: collectLocalImports(file) };
  }

  private async onMessage(message: FromWebviewMessage): Promise<void> {
    switch (message.type) {
      case "ready":
        if (!this.webviewReady) {
          this.webviewReady = true;
          this.log?.info(`run panel for ${this.state.sheet}: webview ready ${(performance.now() - this.createdAt).toFixed(0)} ms after it was created`);
        }
        this.post({ type: "restore", state: this.snapshot, ...(this.funcName ? { funcName: this.funcName } : {}) });
        return;
      case "submit":
        await this.submit(message.values);
        return;
      case "cancel":
        await this.cancel();
        return;
      case "rerun":
        await this.run(this.funcName);
        return;
      case "export":
        await vscode.commands.executeCommand("uzoncalc.exportReport", this.sheet);
        return;
      case "reveal": {
        const target = message.file ? vscode.Uri.joinPath(this.sheet, "..", message.file) : this.sheet;
        const position = new vscode.Position(Math.max(0, message.line - 1), Math.max(0, message.column - 1));
        await vscode.window.showTextDocument(target, { selection: new vscode.Range(position, position), viewColumn: vscode.ViewColumn.One });
        return;
      }
    }
  }

  private async submit(values: Record<string, unknown>): Promise<void> {
    const id = this.sessionId;
    if (!id || this.state.state !== "waiting") return;
    this.state.values = values;
    this.setState("running");
    try {
      const client = await this.sandbox.get();
      const started = performance.now();
      const response = await client.resume({ session_id: id, user_input: values, html_mode: "delta" });
      this.state.errors = undefined;
      this.apply(response, performance.now() - started);
    } catch (error) {
      if (error instanceof SandboxRequestError && error.code === "invalid_input" && error.fields) {
        // Refused: the session still waits at the same window; the form keeps what was typed.
        this.state.errors = error.fields;
        this.post({ type: "fieldErrors", errors: error.fields });
        this.setState("waiting", "Some values were not accepted.");
        return;
      }
      this.failRequest(error);
    }
  }

  private apply(response: ExecutionResponse, ms: number): void {
    const piece = response.html_delta ?? response.html ?? "";
    const append = response.html === undefined;
    this.state.report = append ? this.state.report + piece : piece;
    if (piece !== "" || !append) this.post({ type: "report", html: piece, append });
    if (response.trace) this.events.onTrace(this.sheet, response.trace, false);
    switch (response.status) {
      case "waiting_ui":
        this.state.window = response.ui;
        this.state.errors = response.input_errors;
        if (response.ui) this.post({ type: "window", window: response.ui });
        if (response.input_errors) this.post({ type: "fieldErrors", errors: response.input_errors });
        this.setState("waiting", undefined, ms);
        return;
      case "completed":
        this.state.window = undefined;
        this.result = response.result;
        this.setState("completed", `${response.ui_steps} window${response.ui_steps === 1 ? "" : "s"}`, ms);
        return;
      case "cancelled":
        this.state.window = undefined;
        this.setState("cancelled", "The run was cancelled.", ms);
        return;
      case "error": {
        this.state.window = undefined;
        const error = response.error ?? { message: "The sheet failed." };
        const where = `${error.file ?? this.state.sheet}${error.line !== undefined ? `:${error.line}:${error.column ?? 1}` : ""}`;
        this.state.sheetError = { error, where };
        this.post({ type: "sheetError", error, where });
        this.events.onSheetError(this.sheet, error);
        this.setState("error", error.message, ms);
        return;
      }
    }
  }

  private failRequest(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.setState("error", message);
    this.events.onSandboxProblem(error);
  }

  private setState(state: RunState, detail?: string, stepMs?: number): void {
    this.state.state = state;
    if (detail === undefined) delete this.state.detail;
    else this.state.detail = detail;
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
    // No inline style or script: report markup is sanitised and styled through classes in the stylesheet.
    const csp = [`default-src 'none'`, `img-src ${webview.cspSource} data:`, `style-src ${webview.cspSource}`, `font-src ${webview.cspSource}`, `script-src 'nonce-${nonce}'`].join("; ");
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${asset("panel.css")}">
<title>UzonCalc run</title>
</head>
<body>
<header class="uzc-header"><span class="uzc-sheet"></span><span class="uzc-state" data-state></span>
<vscode-button data-action="rerun" secondary>Run again</vscode-button><vscode-button data-action="export" secondary>Export</vscode-button></header>
<div class="uzc-error" hidden data-sheet-error></div>
<main class="uzc-report" data-report></main>
<section class="uzc-form" hidden data-form></section>
<script nonce="${nonce}" src="${asset("panel.js")}"></script>
</body>
</html>`;
  }
}
