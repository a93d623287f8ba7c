// The extension's settings, typed, in one place (rust-analyzer's Config pattern). Defaults and minimums come from
// protocol/limits.ts, which package.json's declarations repeat (a test keeps them equal).

import * as vscode from "vscode";
import { LIMITS, PAPER_SIZES, type Limit, type PaperSize } from "../protocol/limits";

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
    return this.limit("sandbox.stepTimeoutMs", LIMITS.stepTimeoutMs);
  }

  get memoryLimitMb(): number {
    return this.limit("sandbox.memoryLimitMb", LIMITS.memoryLimitMb);
  }

  /** Show the last run's values beside the code. */
  get showValues(): boolean {
    return this.raw.get<boolean>("showValues") !== false;
  }

  /** Save a sheet with unsaved changes (and its changed imports) before Run Calc without asking. */
  get saveBeforeRun(): boolean {
    return this.raw.get<boolean>("saveBeforeRun") === true;
  }

  /** The paper Export Report to Word sets the report on. */
  get paperSize(): PaperSize {
    const chosen = this.raw.get<string>("export.paperSize");
    return PAPER_SIZES.find((size) => size === chosen) ?? "A4";
  }

  async setSandboxMode(mode: SandboxMode): Promise<void> {
    await this.raw.update("sandbox.mode", mode, vscode.ConfigurationTarget.Global);
  }

  async setRemoteUrl(url: string): Promise<void> {
    await this.raw.update("sandbox.remoteUrl", url, vscode.ConfigurationTarget.Global);
  }

  async setSaveBeforeRun(on: boolean): Promise<void> {
    await this.raw.update("saveBeforeRun", on, vscode.ConfigurationTarget.Global);
  }

  /** True when a change touches the sandbox: the client must be rebuilt. */
  static affectsSandbox(event: vscode.ConfigurationChangeEvent): boolean {
    return event.affectsConfiguration(`${SECTION}.sandbox`);
  }

  /** A whole number setting at or above its minimum, else its default. */
  private limit(key: string, limit: Limit): number {
    const value = this.raw.get<number>(key) ?? limit.default;
    return Number.isInteger(value) && value >= limit.min ? value : limit.default;
  }
}
