// A real LSP client for tests and the bench: starts dist/server.js as a child process and talks to it over
// stdio or Node IPC with vscode-languageserver-protocol, as the extension's language client does.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { isDeepStrictEqual } from "node:util";
import {
  CodeActionRequest,
  CompletionRequest,
  ConfigurationRequest,
  DefinitionRequest,
  DiagnosticRefreshRequest,
  DidChangeConfigurationNotification,
  DidChangeTextDocumentNotification,
  DidCloseTextDocumentNotification,
  DidOpenTextDocumentNotification,
  DocumentDiagnosticRequest,
  ExitNotification,
  HoverRequest,
  InitializeRequest,
  InitializedNotification,
  IPCMessageReader,
  IPCMessageWriter,
  LogMessageNotification,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
  createProtocolConnection,
  type CancellationToken,
  type CodeAction,
  type Command,
  type CompletionItem,
  type CompletionList,
  type Diagnostic,
  type Hover,
  type Location,
  type LocationLink,
  type Position,
  type ProtocolConnection,
} from "vscode-languageserver-protocol/node";
import { ServerStatsRequest, VisibleRangesNotification, type CheckCost, type ServerStats } from "../../src/customRequests";

export const SERVER = path.join(__dirname, "..", "..", "..", "dist", "server.js");

export interface ClientOptions {
  transport?: "stdio" | "ipc";
  typeCheck?: string;
  linkSupport?: boolean;
  /** Extra node flags for the server process (the bench passes --expose-gc). */
  nodeArgs?: string[];
  /** Whether this client pulls again when the server asks (workspace/diagnostic/refresh); VS Code does. */
  refreshSupport?: boolean;
}

/** A sheet just opened and its diagnostics: the first answer, and the whole sheet's (the same below 500 lines). */
export interface OpenedSheet {
  uri: string;
  first: Diagnostic[];
  firstMs: number;
  /** The first answer came from a region check, and the whole one after the server's refresh. */
  regionFirst: boolean;
  whole: Diagnostic[];
  wholeMs: number;
}

export class TestClient {
  readonly logs: string[] = [];
  /** `uzoncalc` settings answered to workspace/configuration; change them, then call configurationChanged(). */
  settings: Record<string, unknown>;
  configurationRequests = 0;
  private readonly versions = new Map<string, number>();
  /** How many times the server asked the client to pull diagnostics again. */
  refreshes = 0;
  private refreshWaiters: (() => void)[] = [];

  private constructor(
    private readonly child: ChildProcess,
    readonly connection: ProtocolConnection,
    typeCheck: string | undefined,
  ) {
    this.settings = typeCheck === undefined ? {} : { typeCheck };
  }

  static async start(options: ClientOptions = {}): Promise<TestClient> {
    const transport = options.transport ?? "stdio";
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), SERVER, transport === "ipc" ? "--node-ipc" : "--stdio"], {
      stdio: transport === "ipc" ? ["pipe", "pipe", "pipe", "ipc"] : ["pipe", "pipe", "pipe"],
    });
    const connection =
      transport === "ipc"
        ? createProtocolConnection(new IPCMessageReader(child), new IPCMessageWriter(child))
        : createProtocolConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    const client = new TestClient(child, connection, options.typeCheck);
    child.stderr!.on("data", (chunk: Buffer) => client.logs.push(chunk.toString()));
    connection.onNotification(LogMessageNotification.method, (message: { message: string }) => {
      client.logs.push(message.message);
    });
    connection.onRequest(ConfigurationRequest.type, (params) => {
      client.configurationRequests++;
      return params.items.map((item) => (item.section === "uzoncalc" ? client.settings : null));
    });
    connection.onRequest(DiagnosticRefreshRequest.type, () => {
      client.refreshes++;
      for (const resolve of client.refreshWaiters.splice(0)) resolve();
    });
    connection.listen();
    const root = path.join(__dirname, "..", "..", "..");
    await connection.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      rootUri: pathToFileURL(root).href,
      workspaceFolders: [{ uri: pathToFileURL(root).href, name: "main" }],
      capabilities: {
        workspace: { configuration: true, diagnostics: { refreshSupport: options.refreshSupport ?? true } },
        textDocument: {
          diagnostic: { dynamicRegistration: false },
          definition: { linkSupport: options.linkSupport ?? true },
          hover: { contentFormat: ["markdown"] },
          completion: { completionItem: { documentationFormat: ["markdown"] } },
          codeAction: { codeActionLiteralSupport: { codeActionKind: { valueSet: ["quickfix"] } } },
        },
      },
    });
    await connection.sendNotification(InitializedNotification.type, {});
    return client;
  }

  uriOf(fileName: string): string {
    return pathToFileURL(fileName).href;
  }

  async open(fileName: string, text = fs.readFileSync(fileName, "utf8")): Promise<string> {
    const uri = this.uriOf(fileName);
    this.versions.set(uri, 1);
    const languageId = fileName.endsWith(".json") ? "json" : fileName.endsWith(".js") ? "javascript" : "typescript";
    await this.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId, version: 1, text } });
    return uri;
  }

  /** Replaces the whole text (the server applies it as a change like any other). */
  async change(uri: string, text: string): Promise<void> {
    const version = (this.versions.get(uri) ?? 1) + 1;
    this.versions.set(uri, version);
    await this.connection.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri, version },
      contentChanges: [{ text }],
    });
  }

  /** An incremental edit, as the editor sends while typing. */
  async edit(uri: string, start: Position, end: Position, text: string): Promise<void> {
    const version = (this.versions.get(uri) ?? 1) + 1;
    this.versions.set(uri, version);
    await this.connection.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri, version },
      contentChanges: [{ range: { start, end }, text }],
    });
  }

  async close(uri: string): Promise<void> {
    await this.connection.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri } });
  }

  async diagnostics(uri: string, token?: CancellationToken): Promise<Diagnostic[]> {
    const report = await this.connection.sendRequest(DocumentDiagnosticRequest.type, { textDocument: { uri } }, token);
    if (report.kind !== "full") throw new Error(`expected a full report, got ${report.kind}`);
    return report.items;
  }

  /** Resolves when the server next asks the client to pull diagnostics again. */
  nextRefresh(): Promise<void> {
    return new Promise((resolve) => this.refreshWaiters.push(resolve));
  }

  /**
   * Opens a sheet and pulls its diagnostics; when that first answer came from a region check (a long sheet:
   * server/src/regionCheck.ts), also the whole sheet's answer that follows the server's refresh, else the first is
   * the whole. Times are from the open. `regionBefore`: the server's last region check before the open, asked by the
   * caller beforehand (on a server just started, that request would wait for the warm-up).
   */
  async openAndPull(fileName: string, text: string, regionBefore: CheckCost | undefined): Promise<OpenedSheet> {
    const refreshed = this.nextRefresh();
    const started = performance.now();
    const uri = await this.open(fileName, text);
    const first = await this.diagnostics(uri);
    const firstMs = performance.now() - started;
    const regionFirst = !isDeepStrictEqual((await this.stats()).lastRegionCheck, regionBefore);
    if (!regionFirst) return { uri, first, firstMs, regionFirst, whole: first, wholeMs: firstMs };
    await refreshed;
    const whole = await this.diagnostics(uri);
    return { uri, first, firstMs, regionFirst, whole, wholeMs: performance.now() - started };
  }

  /** What the editor shows of a sheet, as the extension reports it (`uzoncalc/visibleRanges`), in lines. */
  async visibleLines(uri: string, first: number, last: number): Promise<void> {
    await this.connection.sendNotification(VisibleRangesNotification, {
      uri,
      ranges: [{ start: { line: first, character: 0 }, end: { line: last, character: 0 } }],
    });
  }

  async configurationChanged(): Promise<void> {
    await this.connection.sendNotification(DidChangeConfigurationNotification.type, { settings: null });
  }

  hover(uri: string, position: Position): Promise<Hover | null> {
    return this.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position });
  }

  completion(uri: string, position: Position): Promise<CompletionItem[] | CompletionList | null> {
    return this.connection.sendRequest(CompletionRequest.type, { textDocument: { uri }, position });
  }

  definition(uri: string, position: Position): Promise<Location | Location[] | LocationLink[] | null> {
    return this.connection.sendRequest(DefinitionRequest.type, { textDocument: { uri }, position });
  }

  codeActions(uri: string, diagnostics: Diagnostic[]): Promise<(Command | CodeAction)[] | null> {
    const range = diagnostics[0]!.range;
    return this.connection.sendRequest(CodeActionRequest.type, { textDocument: { uri }, range, context: { diagnostics } });
  }

  stats(collectGarbage = false): Promise<ServerStats> {
    return this.connection.sendRequest(ServerStatsRequest, { collectGarbage });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  async stop(): Promise<void> {
    const exited = new Promise<void>((resolve) => {
      if (this.child.exitCode !== null) resolve();
      else this.child.once("exit", () => resolve());
    });
    try {
      await this.connection.sendRequest(ShutdownRequest.type);
      await this.connection.sendNotification(ExitNotification.type);
    } catch {
      /* already gone */
    }
    const timer = setTimeout(() => this.child.kill(), 5000);
    await exited;
    clearTimeout(timer);
    this.connection.dispose();
  }
}
