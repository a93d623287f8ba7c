// One run of a sheet, driven the same way by everyone who drives one (the CLI, the run panel): start it, answer
// the window it waits at, cancel it. Every answer is folded into the run's transcript (runTranscript.ts), so the
// report so far, the waiting window and the values beside the code are read in one place. Free of vscode and
// of node:vm: the extension bundles it.

import { CLIENT_HTML_MODE } from "../../protocol/limits";
import { Refusal } from "../../protocol/refusal";
import type { ExecuteRequest, ExecutionResponse } from "../../protocol/rpc";
import { windowLegend, type InputLogEntry } from "../../protocol/session";
import { RunTranscript, type Folded, type WaitingAt } from "./runTranscript";
import type { SandboxClient } from "./sandboxClient";

/** Which window a set of values was typed for: its id and the `ui_steps` of the answer that showed it. */
export interface Answering {
  window: string;
  ui_steps: number;
}

/** A waiting run as it is saved across a window reload. */
export interface WaitingRun extends WaitingAt {
  sessionId: string;
  answered: AnsweredWindow[];
}

/** A window answered through a driver: the values as they were given, and how the window read. */
export type AnsweredWindow = InputLogEntry<unknown>;

export interface StepResult extends Folded {
  response: ExecutionResponse;
  /** The request's round trip, ms. */
  ms: number;
  /**
   * The answer came after the run was cancelled: it was not folded in, and whoever shows the run should not show
   * it either.
   */
  stale: boolean;
}

export class RunDriver {
  readonly transcript = new RunTranscript();
  /** The windows answered through this driver, with the values as they were given. */
  readonly answered: AnsweredWindow[] = [];
  private inFlight = 0;
  private cancelled = false;

  /** `sandbox` gives the client to use for each request (the extension's is rebuilt when its settings change). */
  constructor(private readonly sandbox: () => Promise<SandboxClient>) {}

  /**
   * A driver for a run that was waiting before this process started (a window reload): it waits at `window`
   * with `report` so far, and `answered` holds the values the windows before took.
   */
  static waiting(sandbox: () => Promise<SandboxClient>, run: WaitingRun): RunDriver {
    const driver = new RunDriver(sandbox);
    driver.transcript.resumeWaiting(run.sessionId, run);
    driver.answered.push(...run.answered);
    return driver;
  }

  /** What it takes to pick this run up again in another process, while it waits (see `waiting`). */
  get waitingRun(): WaitingRun | undefined {
    const { transcript } = this;
    if (!transcript.waiting || transcript.sessionId === undefined || this.cancelled) return undefined;
    return {
      sessionId: transcript.sessionId,
      uiSteps: transcript.uiSteps,
      window: transcript.window!,
      report: transcript.report,
      answered: this.answered.map((a) => ({ ...a })),
    };
  }

  /** A request of this run is on its way. */
  get busy(): boolean {
    return this.inFlight > 0;
  }

  /** Starts the run; the sandbox answers with its first window, or its end. */
  start(request: ExecuteRequest): Promise<StepResult> {
    return this.step((client) => client.execute({ ...request, html_mode: CLIENT_HTML_MODE }));
  }

  /**
   * Why values cannot be sent now: the run does not wait for input, or (with `answering`, the window the values
   * were typed for) it waits at another window or step than that one. Undefined when they can.
   */
  refusal(answering?: Answering): Refusal | undefined {
    const { transcript } = this;
    const waiting = transcript.waiting && !this.busy && !this.cancelled ? transcript.window : undefined;
    if (answering && (answering.window !== waiting?.id || answering.ui_steps !== transcript.uiSteps)) {
      const now = waiting
        ? `waits at window '${waiting.id}' (step ${transcript.uiSteps})`
        : this.busy
          ? "is still computing the last step"
          : `is ${transcript.status ?? "not started"}`;
      return new Refusal(
        "conflict",
        `These values were typed into window '${answering.window}' (step ${answering.ui_steps}), but the run now ${now}. Nothing was sent; the values are kept.`,
      );
    }
    if (!waiting)
      return new Refusal(
        "conflict",
        `The run is not waiting for input (${this.busy ? "a step is running" : (transcript.status ?? "not started")}).`,
      );
    return undefined;
  }

  /**
   * Answers the window the run waits at. Refused with 409 and nothing sent when `refusal` says so. Values the
   * sandbox refuses (422) leave the run waiting at the same window, with the field errors in the transcript.
   */
  async answer(values: Record<string, unknown>, answering?: Answering): Promise<StepResult> {
    const refusal = this.refusal(answering);
    if (refusal) throw refusal;
    const { transcript } = this;
    const window = transcript.window!;
    try {
      const result = await this.step((client) =>
        client.resume({ session_id: transcript.sessionId!, user_input: values, html_mode: CLIENT_HTML_MODE }),
      );
      this.answered.push({ window: window.id, values, legend: windowLegend(window) });
      return result;
    } catch (error) {
      if (error instanceof Refusal && error.code === "invalid_input") transcript.inputErrors = error.fields;
      throw error;
    }
  }

  /**
   * Ends the run in the sandbox (its `finally` blocks run) if it is waiting or computing. Whatever happens there,
   * the run is over here: an answer still on its way is not shown. Resolves false when there was nothing to cancel.
   */
  async cancel(): Promise<boolean> {
    const id = this.transcript.sessionId;
    if (this.cancelled || id === undefined || (!this.transcript.waiting && !this.busy)) return false;
    this.cancelled = true;
    try {
      await (await this.sandbox()).cancel({ session_id: id });
    } finally {
      this.transcript.status = "cancelled";
      this.transcript.window = undefined;
    }
    return true;
  }

  private async step(send: (client: SandboxClient) => Promise<ExecutionResponse>): Promise<StepResult> {
    this.inFlight++;
    try {
      const client = await this.sandbox();
      const started = performance.now();
      const response = await send(client);
      const ms = performance.now() - started;
      if (this.cancelled) return { response, ms, piece: "", replaced: false, stale: true };
      return { response, ms, ...this.transcript.absorb(response), stale: false };
    } finally {
      this.inFlight--;
    }
  }
}
