// The language client for the UzonCalc language server (dist/server.js): field type checking, window spec
// checks, completion, hover, definition and quick fixes in *.calc.ts / *.calc.js and their *.inputs.json sets. One object owns its lifecycle:
// started when the first sheet is opened (the server loads TypeScript while the user reads; a TypeScript project
// without sheets never pays for it), restarted on demand, stopped on deactivate. Sheets keep VS Code's own
// typescript/javascript language ids; the selector filters by pattern.

import * as path from "node:path";
import * as vscode from "vscode";
import { INPUT_SET_GLOB, SHEET_GLOB, isSheetFileName } from "../protocol/limits";
import { VisibleRangesNotification } from "../server/src/customRequests";
import {
  LanguageClient,
  RevealOutputChannelOn,
  TransportKind,
  type LanguageClientOptions,
  type ServerOptions,
} from "vscode-languageclient/node";

export const LANGUAGE_CLIENT_ID = "uzoncalc";

/** Scrolling fires an event per frame; the server needs only where the editor came to rest. */
const VISIBLE_RANGES_DELAY_MS = 50;

export class SheetLanguageClient implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<void> | undefined;
  private readonly listeners: vscode.Disposable[] = [];
  private visibleRangesTimer: NodeJS.Timeout | undefined;
  /** The sheets whose visible ranges the server was last told. */
  private shownSheets = new Set<string>();

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** Starts the server once; later calls wait for the same start. */
  start(): Promise<void> {
    this.starting ??= this.launch().catch((error: unknown) => {
      this.starting = undefined;
      this.log.error(`language server: could not start: ${error instanceof Error ? error.message : String(error)}`);
    });
    return this.starting;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.starting = undefined;
    if (client) await client.stop().catch(() => undefined);
  }

  get running(): boolean {
    return this.client?.isRunning() === true;
  }

  dispose(): void {
    clearTimeout(this.visibleRangesTimer);
    for (const listener of this.listeners.splice(0)) listener.dispose();
    void this.stop();
  }

  /**
   * Tells the server what each sheet editor shows: on a long sheet it checks that region first after an edit
   * (server/src/regionCheck.ts), as VS Code's TypeScript support does with tsserver.
   */
  private followVisibleRanges(): void {
    const schedule = () => {
      clearTimeout(this.visibleRangesTimer);
      this.visibleRangesTimer = setTimeout(() => this.sendVisibleRanges(), VISIBLE_RANGES_DELAY_MS);
    };
    this.listeners.push(vscode.window.onDidChangeTextEditorVisibleRanges(schedule), vscode.window.onDidChangeVisibleTextEditors(schedule));
    this.sendVisibleRanges();
  }

  private sendVisibleRanges(): void {
    const client = this.client;
    if (!client?.isRunning()) return;
    // A sheet in two editors (a split) shows both ranges; a sheet no longer shown is told so, once.
    const shown = new Map<string, vscode.Range[]>();
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document.uri.scheme !== "file" || !isSheetFileName(editor.document.uri.fsPath)) continue;
      const uri = client.code2ProtocolConverter.asUri(editor.document.uri);
      shown.set(uri, [...(shown.get(uri) ?? []), ...editor.visibleRanges]);
    }
    for (const uri of this.shownSheets) if (!shown.has(uri)) void client.sendNotification(VisibleRangesNotification, { uri, ranges: [] });
    for (const [uri, ranges] of shown)
      void client.sendNotification(VisibleRangesNotification, {
        uri,
        ranges: ranges.map((range) => client.code2ProtocolConverter.asRange(range)),
      });
    this.shownSheets = new Set(shown.keys());
  }

  private async launch(): Promise<void> {
    const module = path.join(this.context.extensionPath, "dist", "server.js");
    const serverOptions: ServerOptions = {
      run: { module, transport: TransportKind.ipc },
      debug: { module, transport: TransportKind.ipc, options: { execArgv: ["--nolazy", "--inspect=6011"] } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [
        { scheme: "file", language: "typescript", pattern: SHEET_GLOB },
        { scheme: "file", language: "javascript", pattern: SHEET_GLOB },
        // Input sets, checked against their sheet's windows (VS Code's own JSON support still formats them).
        { scheme: "file", language: "json", pattern: INPUT_SET_GLOB },
      ],
      synchronize: { configurationSection: "uzoncalc" },
      outputChannel: this.log,
      // The server's problems are the sheet's problems: show the output only when the user asks for it.
      revealOutputChannelOn: RevealOutputChannelOn.Never,
    };
    const client = new LanguageClient(LANGUAGE_CLIENT_ID, "UzonCalc Language Server", serverOptions, clientOptions);
    const started = performance.now();
    await client.start();
    this.client = client;
    if (this.listeners.length === 0) this.followVisibleRanges();
    else this.sendVisibleRanges();
    this.log.info(`language server started in ${(performance.now() - started).toFixed(0)} ms`);
  }
}
