// Messages between the run panel (webview, browser code) and the extension host: one discriminated union each
// way, as VS Code's markdown preview does. Imports nothing but types.

import type { WindowSpec } from "./fields";
import type { SheetError } from "./rpc";

/** Where a run stands, for the panel's header and the status bar. */
export type RunState = "idle" | "starting" | "running" | "waiting" | "completed" | "error" | "cancelled";

export type ToWebviewMessage =
  /** A new run of `sheet` starts: the panel clears its report and form. */
  | { type: "reset"; sheet: string; funcName?: string }
  /**
   * Everything the panel shows, after its webview was rebuilt (hidden and shown, reloaded). The panel keeps the
   * values it had typed into the same waiting window, which the extension has not seen yet.
   */
  | { type: "restore"; state: PanelState; funcName?: string }
  /** Report html: the whole report so far, or a piece to append. */
  | { type: "report"; html: string; append: boolean }
  /** The sheet waits at this window: show its form after the report. */
  | { type: "window"; window: WindowSpec }
  /** The sandbox refused the submitted values: show each message beside its field, keep what was typed. */
  | { type: "fieldErrors"; errors: Record<string, string> }
  | { type: "state"; state: RunState; detail?: string }
  /** The run ended with an error; `where` is "file:line:col" in the sheet. */
  | { type: "sheetError"; error: SheetError; where: string };

export type FromWebviewMessage =
  /** The panel's script has loaded (again, after being hidden and shown) and wants the current state. */
  | { type: "ready" }
  | { type: "submit"; values: Record<string, unknown> }
  | { type: "cancel" }
  | { type: "rerun" }
  | { type: "export" }
  /** Go to the sheet's line of an error. */
  | { type: "reveal"; line: number; column: number; file?: string };

/** What the panel keeps with vscode.setState, so hiding and showing it loses nothing. */
export interface PanelState {
  sheet: string;
  report: string;
  window?: WindowSpec;
  values?: Record<string, unknown>;
  errors?: Record<string, string>;
  state: RunState;
  detail?: string;
  sheetError?: { error: SheetError; where: string };
}

export function isFromWebviewMessage(value: unknown): value is FromWebviewMessage {
  if (typeof value !== "object" || value === null) return false;
  const type = (value as { type?: unknown }).type;
  switch (type) {
    case "ready":
    case "cancel":
    case "rerun":
    case "export":
      return true;
    case "submit": {
      const values = (value as { values?: unknown }).values;
      return typeof values === "object" && values !== null && !Array.isArray(values);
    }
    case "reveal": {
      const { line, column } = value as { line?: unknown; column?: unknown };
      return typeof line === "number" && typeof column === "number";
    }
    default:
      return false;
  }
}
