// One object owns the sandbox client's lifecycle (rust-analyzer's Ctx pattern): it is started lazily, rebuilt
// when the sandbox settings change, and stopped on deactivate. Every RPC is logged at debug level.

import * as path from "node:path";
import * as vscode from "vscode";
import { ANSWER_GRACE_MS } from "../protocol/limits";
import type { AnswerOf, PublicMethod, RequestOf } from "../protocol/methods";
import type { ExecuteRequest } from "../protocol/rpc";
import type { SessionRecord } from "../protocol/session";
import { LocalSandboxClient } from "../sandbox/connect/localClient";
import { RemoteSandboxClient } from "../sandbox/connect/remoteClient";
import { RpcClient, SandboxUnavailableError, type SandboxClient } from "../sandbox/connect/sandboxClient";
import type { WaitingAt } from "../sandbox/connect/runTranscript";
import { readSavedSheet } from "../sandbox/connect/savedSheet";
import { Config, type SandboxMode } from "./config";

export const TOKEN_SECRET = "uzoncalc.remoteToken";

/** A setting that keeps the sandbox from starting: the notification offers what fixes it. */
export class SandboxConfigurationError extends Error {
  constructor(
    message: string,
    readonly fix: "openSettings" | "setToken" | "switchToLocal",
  ) {
    super(message);
  }
}

export class SandboxManager implements vscode.Disposable {
  private client: SandboxClient | undefined;
  private clientMode: SandboxMode | undefined;
  /** The client itself when it is the local one: it keeps records of waiting sessions (see `recordOf`). */
  private local: LocalSandboxClient | undefined;
  /** A local child started beside a remote sandbox, for a study (see localChild). */
  private ownChild: LocalSandboxClient | undefined;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly config: Config,
    private readonly log: vscode.LogOutputChannel,
  ) {
    // The one that needs the context comes first: if it cannot be made, no listener is left behind.
    this.subscriptions.push(
      context.secrets.onDidChange((event) => {
        if (event.key === TOKEN_SECRET && this.clientMode === "remote") void this.reset("the remote token changed");
      }),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (Config.affectsSandbox(event)) void this.reset("the sandbox settings changed");
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => void this.reset("the workspace folders changed")),
    );
  }

  get mode(): SandboxMode {
    return this.config.sandboxMode;
  }

  /** Where runs go now: a saved run is continued only on the same sandbox. */
  get where(): { mode: SandboxMode; remoteUrl?: string } {
    return this.config.sandboxMode === "remote" ? { mode: "remote", remoteUrl: this.config.remoteUrl } : { mode: "local" };
  }

  /** Folders the local sandbox may read sheets from: the workspace's. */
  get localSafeDirs(): string[] {
    return (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === "file").map((f) => f.uri.fsPath);
  }

  /**
   * How the saved sheet at `file` goes to the sandbox: by path where the local sandbox may read it (the
   * workspace), else as its saved text and imports. Either way the saved files run, in both modes.
   */
  sheetRequest(file: string): ExecuteRequest {
    const folders = this.foldersOf(file);
    if (this.mode === "local" && folders.length > 0) return { file_path: file };
    return readSavedSheet(file, folders.length > 0 ? folders : [path.dirname(file)]);
  }

  /** The workspace folders holding `file`: where the local sandbox may read it by path. */
  private foldersOf(file: string): string[] {
    return this.localSafeDirs.filter((dir) => !path.relative(dir, file).startsWith(".."));
  }

  async get(): Promise<SandboxClient> {
    if (this.client && this.clientMode === this.config.sandboxMode) return this.client;
    await this.reset();
    const mode = this.config.sandboxMode;
    const local = mode === "local" ? this.createLocal() : undefined;
    const client = local ?? (await this.createRemote());
    this.local = local;
    this.client = new LoggedClient(client, this.log, mode);
    this.clientMode = mode;
    return this.client;
  }

  /**
   * The local child, for what only it does (a study runs there and writes its files in the workspace): the runs'
   * own in local mode; with a remote sandbox, one started for this and kept until the next reset.
   */
  async localChild(): Promise<LocalSandboxClient> {
    await this.get();
    if (this.local) return this.local;
    this.ownChild ??= this.createLocal();
    return this.ownChild;
  }

  /** A waiting local session's record, to keep across a window reload; undefined for a remote one. */
  recordOf(sessionId: string): SessionRecord | undefined {
    return this.clientMode === "local" ? this.local?.recordOf(sessionId) : undefined;
  }

  /** Takes on a local session saved before a window reload: its next use replays it in this window's child. */
  async adopt(sessionId: string, record: SessionRecord, waiting: WaitingAt): Promise<void> {
    await this.get();
    this.local?.adopt(sessionId, record, waiting);
  }

  /**
   * Gets the local sandbox ready for a run of `sheet` (opened or saved): the child and its first sheet member
   * started, and the sheet bundled, so Run Calc waits for none of them (on a busy machine, when VS Code and its
   * language servers start beside it, these took most of the first run's second). A remote sandbox is left
   * alone: a request costs the team's service.
   */
  warm(sheet: vscode.Uri): void {
    if (this.config.sandboxMode !== "local" || !vscode.workspace.isTrusted || sheet.scheme !== "file") return;
    // Only a sheet the child may read by path can be bundled there ahead (not one read and sent with each run).
    const bundlable = this.foldersOf(sheet.fsPath).length > 0;
    const starting = !this.client;
    const started = performance.now();
    void this.get()
      .then(async () => {
        if (starting) await this.local?.health();
        const bundled = bundlable && (await this.local?.prepare(sheet.fsPath));
        // Every switch to a sheet's editor asks again (a cache hit in the child): only a start is worth a line.
        this.log[starting ? "info" : "debug"](
          `local sandbox ${starting ? "started" : "ready"}${bundled ? ` and ${path.basename(sheet.fsPath)} bundled` : ""} ahead of its run in ${(performance.now() - started).toFixed(0)} ms`,
        );
      })
      .catch(() => undefined);
  }

  /** Stops the current client; the next request starts a new one. */
  async reset(reason?: string): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.clientMode = undefined;
    this.local = undefined;
    const ownChild = this.ownChild;
    this.ownChild = undefined;
    if (ownChild) await ownChild.dispose().catch(() => undefined);
    if (client) {
      if (reason) this.log.info(`sandbox: restarting (${reason})`);
      await client.dispose().catch(() => undefined);
    }
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    void this.reset();
  }

  private createLocal(): LocalSandboxClient {
    return new LocalSandboxClient({
      sandboxScript: path.join(this.context.extensionPath, "dist", "sandbox.js"),
      safeDirs: this.localSafeDirs,
      stepTimeoutMs: this.config.stepTimeoutMs,
      memoryLimitMb: this.config.memoryLimitMb,
      log: (line) => this.log.warn(`sandbox: ${line}`),
    });
  }

  private async createRemote(): Promise<SandboxClient> {
    const url = this.config.remoteUrl;
    if (url === "") throw new SandboxConfigurationError("The remote sandbox has no URL (uzoncalc.sandbox.remoteUrl).", "openSettings");
    const token = await this.context.secrets.get(TOKEN_SECRET);
    try {
      return new RemoteSandboxClient({ url, ...(token ? { token } : {}), timeoutMs: this.config.stepTimeoutMs + ANSWER_GRACE_MS });
    } catch (error) {
      if (error instanceof SandboxUnavailableError) throw new SandboxConfigurationError(`${error.message} ${error.hint}`, "openSettings");
      throw error;
    }
  }
}

/** A client whose every call is logged with its time and outcome at debug level. */
class LoggedClient extends RpcClient {
  constructor(
    private readonly inner: SandboxClient,
    private readonly log: vscode.LogOutputChannel,
    private readonly mode: SandboxMode,
  ) {
    super();
  }

  override async call<M extends PublicMethod>(method: M, request: RequestOf<M>): Promise<AnswerOf<M>> {
    const what = `${this.mode} ${method} ${describeRequest(request)}`;
    const started = performance.now();
    try {
      const result = await this.inner.call(method, request);
      this.log.debug(`${what} → ${summarize(result)} (${(performance.now() - started).toFixed(1)} ms)`);
      return result;
    } catch (error) {
      this.log.debug(
        `${what} → ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)} (${(performance.now() - started).toFixed(1)} ms)`,
      );
      throw error;
    }
  }

  override dispose(): Promise<void> {
    return this.inner.dispose();
  }
}

function describeRequest(request: object): string {
  const fields = request as { session_id?: unknown; file_path?: unknown; filename?: unknown };
  return String(fields.session_id ?? fields.file_path ?? fields.filename ?? "");
}

function summarize(result: unknown): string {
  if (typeof result !== "object" || result === null) return String(result);
  const record = result as { status?: unknown; session_id?: unknown; ui_steps?: unknown };
  return [record.status, record.session_id, record.ui_steps !== undefined ? `steps ${String(record.ui_steps)}` : undefined]
    .filter((x) => x !== undefined)
    .join(" ");
}
