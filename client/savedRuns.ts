// Runs waiting for input, kept in the workspace's storage so they outlive a window reload (SPEC §6): what the
// run panel needs to come back (the report so far, the window, its step) and what the sandbox needs to carry on
// (the session id; for the local sandbox, the session's record to replay in the new child). Written at every
// pause, removed when the run ends or its panel is closed.

import type * as vscode from "vscode";
import type { SessionRecord } from "../protocol/session";
import type { WaitingRun } from "../sandbox/connect/runDriver";
import type { SandboxMode } from "./config";

export interface SavedRun extends WaitingRun {
  /** The sheet's URI. */
  sheet: string;
  funcName?: string;
  /** Where it ran: a run is only continued on the same kind of sandbox (and the same remote URL). */
  mode: SandboxMode;
  remoteUrl?: string;
  /** The local session's record, replayed in the new child. */
  record?: SessionRecord;
  savedAt: number;
}

const PREFIX = "uzoncalc.waitingRun:";

export class SavedRuns {
  constructor(private readonly storage: vscode.Memento) {}

  get(sheet: string): SavedRun | undefined {
    const saved = this.storage.get<SavedRun>(PREFIX + sheet);
    return saved && typeof saved.sessionId === "string" && saved.window ? saved : undefined;
  }

  save(run: SavedRun): Thenable<void> {
    return this.storage.update(PREFIX + run.sheet, run);
  }

  forget(sheet: string): Thenable<void> {
    return this.storage.update(PREFIX + sheet, undefined);
  }
}
