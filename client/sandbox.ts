// One object owns the sandbox client's lifecycle (rust-analyzer's Ctx pattern): it is started lazily, rebuilt
// when the sandbox settings change, and stopped on deactivate. Every RPC is logged at debug level.

import * as path from "node:path";
import * as vscode from "vscode";
import type { ExecuteRequest, ResumeRequest } from "../protocol/rpc";
import { LocalSandboxClient } from "../sandbox/connect/localClient";
import { RemoteSandboxClient } from "../sandbox/connect/remoteClient";
import { SandboxUnavailableError, type SandboxClient } from "../sandbox/connect/sandboxClient";
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
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly config: Config,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.subscriptions.push(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (Config.affectsSandbox(event)) void this.reset("the sandbox settings changed");
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => void this.reset("the workspace folders changed")),
      context.secrets.onDidChange((event) => {
        if (event.key === TOKEN_SECRET && this.clientMode === "remote") void this.reset("the remote token changed");
      }),
    );
  }

  get mode(): SandboxMode {
    return this.config.sandboxMode;
  }

  /** Folders the local sandbox may read sheets from: the workspace's. */
  get localSafeDirs(): string[] {
    return (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === "file").map((f) => f.uri.fsPath);
  }

  async get(): Promise<SandboxClient> {
    if (this.client && this.clientMode === this.config.sandboxMode) return this.client;
    await this.reset();
    const mode = this.config.sandboxMode;
    const client = mode === "local" ? this.createLocal() : await this.createRemote();
    this.client = logged(client, this.log, mode);
    this.clientMode = mode;
    return this.client;
  }

  /**
   * Starts the local sandbox ahead of the first Run Calc (a sheet was opened), so the run waits for neither the
   * child nor its first sheet member. A remote sandbox is left alone: a request costs the team's service.
   */
  warm(): void {
    if (this.config.sandboxMode !== "local" || !vscode.workspace.isTrusted || this.client) return;
    const started = performance.now();
    void this.get()
      .then((client) => client.health())
      .then(() => this.log.info(`local sandbox started ahead of the first run in ${(performance.now() - started).toFixed(0)} ms`))
      .catch(() => undefined);
  }

  /** Stops the current client; the next request starts a new one. */
  async reset(reason?: string): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.clientMode = undefined;
    if (client) {
      if (reason) this.log.info(`sandbox: restarting (${reason})`);
      await client.dispose().catch(() => undefined);
    }
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    void this.reset();
  }

  private createLocal(): SandboxClient {
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
      return new RemoteSandboxClient({ url, ...(token ? { token } : {}), timeoutMs: this.config.stepTimeoutMs + 30_000 });
    } catch (error) {
      if (error instanceof SandboxUnavailableError) throw new SandboxConfigurationError(`${error.message} ${error.hint}`, "openSettings");
      throw error;
    }
  }
}

/** Wraps a client so every call is logged with its time and outcome at debug level. */
function logged(client: SandboxClient, log: vscode.LogOutputChannel, mode: SandboxMode): SandboxClient {
  const call = async <T>(what: string, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      const result = await work();
      log.debug(`${mode} ${what} → ${summarize(result)} (${(performance.now() - started).toFixed(1)} ms)`);
      return result;
    } catch (error) {
      log.debug(`${mode} ${what} → ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)} (${(performance.now() - started).toFixed(1)} ms)`);
      throw error;
    }
  };
  return {
    execute: (request: ExecuteRequest) => call(`execute ${request.file_path ?? request.filename ?? "source"}`, () => client.execute(request)),
    resume: (request: ResumeRequest) => call(`resume ${request.session_id}`, () => client.resume(request)),
    cancel: (id: string) => call(`cancel ${id}`, () => client.cancel(id)),
    getSession: (id: string) => call(`session ${id}`, () => client.getSession(id)),
    listSessions: () => call("sessions", () => client.listSessions()),
    health: () => call("health", () => client.health()),
    invalidateCache: (file?: string) => call(`invalidate-cache ${file ?? "all"}`, () => client.invalidateCache(file)),
    dispose: () => client.dispose(),
  };
}

function summarize(result: unknown): string {
  if (typeof result !== "object" || result === null) return String(result);
  const record = result as { status?: unknown; session_id?: unknown; ui_steps?: unknown };
  return [record.status, record.session_id, record.ui_steps !== undefined ? `steps ${String(record.ui_steps)}` : undefined].filter((x) => x !== undefined).join(" ");
}
