// The extension's settings, typed, in one place (rust-analyzer's Config pattern).

import * as vscode from "vscode";

export type SandboxMode = "local" | "remote";

export const SECTION = "uzoncalc";

export class Config {
  private get raw(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration(SECTION);
  }

  get sandboxMode(): SandboxMode {
    return this.raw.get<string>("sandbox.mode") === "remote" ? "remote" : "local";
  }

  get remoteUrl(): string {
    return (this.raw.get<string>("sandbox.remoteUrl") ?? "").trim();
  }

  get stepTimeoutMs(): number {
    const value = this.raw.get<number>("sandbox.stepTimeoutMs") ?? 10_000;
    return Number.isInteger(value) && value >= 100 ? value : 10_000;
  }

  get memoryLimitMb(): number {
    const value = this.raw.get<number>("sandbox.memoryLimitMb") ?? 256;
    return Number.isInteger(value) && value >= 16 ? value : 256;
  }

  /** Show the last run's values beside the code. */
  get showValues(): boolean {
    return this.raw.get<boolean>("showValues") !== false;
  }

  async setSandboxMode(mode: SandboxMode): Promise<void> {
    await this.raw.update("sandbox.mode", mode, vscode.ConfigurationTarget.Global);
  }

  /** True when a change touches the sandbox: the client must be rebuilt. */
  static affectsSandbox(event: vscode.ConfigurationChangeEvent): boolean {
    return event.affectsConfiguration(`${SECTION}.sandbox`);
  }
}
