// Messages between the run panel (webview, browser code) and the extension host: one discriminated union each
// way, as VS Code's markdown preview does. Imports nothing but types.

import type { WindowSpec } from "./fields";
import type { SheetError } from "./rpc";

/** Where a run stands, for the panel's header and the status bar. */
export type RunState = "idle" | "starting" | "running" | "waiting" | "completed" | "error" | "cancelled";

export type ToWebviewMessage =
  /** A new run of `sheet` starts: the panel clears its report and form. */
  | { type: "reset"; sheet: string; uri: string; funcName?: string }
  /**
   * Everything the panel shows, after its webview was rebuilt (hidden and shown, reloaded). The panel keeps the
   * values it had typed into the same waiting window, which the extension has not seen yet.
   */
  | { type: "restore"; state: PanelState; funcName?: string }
  /** Report html: the whole report so far, or a piece to append. */
  | { type: "report"; html: string; append: boolean }
  /**
   * The sheet waits at this window (the answer that showed it had `ui_steps`): show its form after the report,
   * filled with `values` where given (an input set's, which the sandbox refused).
   */
  | { type: "window"; window: WindowSpec; ui_steps: number; values?: Record<string, unknown> }
  /** The sheet's input sets beside it, for "Run with"; `selected` is the set runs use (null: none, forms only). */
  | { type: "inputSets"; sets: InputSetChoice[]; selected: string | null }
  /** The sandbox refused the submitted values: show each message beside its field, keep what was typed. */
  | { type: "fieldErrors"; errors: Record<string, string> }
  | { type: "state"; state: RunState; detail?: string }
  /** The run ended with an error; `where` is "file:line:col" in the sheet. */
  | { type: "sheetError"; error: SheetError; where: string }
  /** Something the user should read that is not the run's state: a submit that was not sent, and why. */
  | { type: "notice"; message: string };

/**
 * How the panel's document loaded, in ms from its own start (performance.timeOrigin): where a first run's wait
 * in the webview went. `documentStartedAt` is that start on the webview's clock (epoch ms).
 */
export interface WebviewLoad {
  /** The panel's script began to run (the document and its inline stylesheet parsed before it). */
  scriptStartMs: number;
  /** The script had built the page and sent "ready". */
  readyMs: number;
  documentStartedAt: number;
}

/**
 * How a form came on screen, for the first window's log line: when the message that showed it arrived (epoch ms,
 * the webview's clock), how long handling it took (the report and form built), and how long after that the
 * browser gave the panel its next frame.
 */
export interface WindowPaint {
  arrivedAt: number;
  renderMs: number;
  frameMs: number;
}

export type FromWebviewMessage =
  /** The panel's script has loaded (again, after being hidden and shown) and wants the current state. */
  | { type: "ready"; load?: WebviewLoad }
  /**
   * A window's form was built and painted: `at` is when, on the webview's clock (epoch ms). The extension logs a
   * run's first, the moment its user could start typing.
   */
  | { type: "windowShown"; window: string; at: number; paint?: WindowPaint }
  /** Values for the window `window`, shown by the answer with `ui_steps`: refused if the run waits elsewhere. */
  | { type: "submit"; window: string; ui_steps: number; values: Record<string, unknown> }
  | { type: "cancel" }
  | { type: "rerun" }
  /** Run again with this input set (null: with none, every window a form). */
  | { type: "runWith"; set: string | null }
  | { type: "export" }
  /** Save the finished report as a Word document (Export Report to Word). */
  | { type: "exportWord" }
  /** Save this run's answers as an input set (Save Inputs As…). */
  | { type: "saveInputs" }
  /** Compare this run's report with the previous run's (Compare with Previous Run). */
  | { type: "compare" }
  /** Go to the sheet's line of an error. */
  | { type: "reveal"; line: number; column: number; file?: string };

/** An input set as "Run with" offers it: its name ("default" or the case) and the file it is. */
export interface InputSetChoice {
  name: string;
  file: string;
}

/** What the panel keeps with vscode.setState, so hiding and showing it loses nothing. */
export interface PanelState {
  sheet: string;
  /** The sheet's URI: after a window reload, which sheet (and saved run) a restored panel belongs to. */
  uri?: string;
  report: string;
  window?: WindowSpec;
  /** The `ui_steps` of the answer that showed `window`: with its id, what a submit names. */
  ui_steps?: number;
  values?: Record<string, unknown>;
  errors?: Record<string, string>;
  state: RunState;
  detail?: string;
  sheetError?: { error: SheetError; where: string };
  /** The last notice, until the run's state changes. */
  notice?: string;
  /** The sheet's input sets and the one runs use. */
  inputSets?: InputSetChoice[];
  inputSet?: string | null;
}

function isWebviewLoad(value: unknown): value is WebviewLoad {
  if (typeof value !== "object" || value === null) return false;
  const { scriptStartMs, readyMs, documentStartedAt } = value as Record<string, unknown>;
  return [scriptStartMs, readyMs, documentStartedAt].every((n) => typeof n === "number" && Number.isFinite(n) && n >= 0);
}

export function isFromWebviewMessage(value: unknown): value is FromWebviewMessage {
  if (typeof value !== "object" || value === null) return false;
  const type = (value as { type?: unknown }).type;
  switch (type) {
    case "ready": {
      const load = (value as { load?: unknown }).load;
      return load === undefined || isWebviewLoad(load);
    }
    case "cancel":
    case "rerun":
    case "export":
    case "exportWord":
    case "saveInputs":
    case "compare":
      return true;
    case "runWith": {
      const set = (value as { set?: unknown }).set;
      return set === null || typeof set === "string";
    }
    case "submit": {
      const { values, window, ui_steps } = value as { values?: unknown; window?: unknown; ui_steps?: unknown };
      return (
        typeof values === "object" &&
        values !== null &&
        !Array.isArray(values) &&
        typeof window === "string" &&
        typeof ui_steps === "number"
      );
    }
    case "windowShown": {
      const { window, at, paint } = value as { window?: unknown; at?: unknown; paint?: unknown };
      const time = (n: unknown) => typeof n === "number" && Number.isFinite(n) && n >= 0;
      const paintOk =
        paint === undefined ||
        (typeof paint === "object" &&
          paint !== null &&
          time((paint as WindowPaint).arrivedAt) &&
          time((paint as WindowPaint).renderMs) &&
          time((paint as WindowPaint).frameMs));
      return typeof window === "string" && time(at) && paintOk;
    }
    case "reveal": {
      const { line, column } = value as { line?: unknown; column?: unknown };
      return typeof line === "number" && typeof column === "number";
    }
    default:
      return false;
  }
}
