// What a sandbox has said about one run, folded from its answers in order: the report (a full `html` replaces
// it, an `html_delta` appends to it), the window it waits at, the values beside the code, and how it ended. This
// is the one place on the calling side where answers become a report: the run driver (and so the CLI and the
// run panel) and the local sandbox client (which checks a replay against it) all fold through it.

import type { WindowSpec } from "../../protocol/fields";
import type { ExecutionResponse, ResponseStatus, SheetError, TraceEntry } from "../../protocol/rpc";

/** Where a run that is picked up in another process (a window reload) waits, and what it has said so far. */
export interface WaitingAt {
  window: WindowSpec;
  uiSteps: number;
  report: string;
}

export interface Folded {
  /** What the answer added to the report, or the whole report when it `replaced` it. */
  piece: string;
  replaced: boolean;
}

export class RunTranscript {
  sessionId: string | undefined;
  /** Undefined until the first answer. */
  status: ResponseStatus | undefined;
  uiSteps = 0;
  /** The window the run waits at. */
  window: WindowSpec | undefined;
  report = "";
  /** The completed document (status completed). */
  result: string | undefined;
  error: SheetError | undefined;
  /** Field errors for the waiting window, from batch inputs or a refused answer. */
  inputErrors: Record<string, string> | undefined;
  traceTruncated = false;
  private readonly values = new Map<string, TraceEntry>();

  get waiting(): boolean {
    return this.status === "waiting_ui" && this.window !== undefined;
  }

  /** The last value of each rendered line of the run so far, by line. */
  get trace(): TraceEntry[] {
    return [...this.values.values()].sort((a, b) => a.line - b.line);
  }

  /** Takes up a run another process left waiting: as if its last answer had said `waiting`. */
  resumeWaiting(sessionId: string, waiting: WaitingAt): void {
    this.absorb({ status: "waiting_ui", session_id: sessionId, ui_steps: waiting.uiSteps, ui: waiting.window, html: waiting.report });
  }

  absorb(response: ExecutionResponse): Folded {
    this.sessionId = response.session_id;
    this.status = response.status;
    this.uiSteps = response.ui_steps;
    this.window = response.status === "waiting_ui" ? response.ui : undefined;
    this.inputErrors = response.input_errors;
    if (response.result !== undefined) this.result = response.result;
    if (response.error) this.error = response.error;
    const replaced = response.html !== undefined;
    const piece = replaced ? response.html! : (response.html_delta ?? "");
    this.report = replaced ? piece : this.report + piece;
    // Full answers carry the whole run's values; deltas only what their steps evaluated (later wins).
    if (replaced) this.values.clear();
    for (const entry of response.trace ?? []) this.values.set(`${entry.line}\n${entry.name}`, entry);
    if (response.trace_truncated) this.traceTruncated = true;
    return { piece, replaced };
  }
}
