// Replay: a session's realm built again from its record, by running the same bundle with the same seed and clock
// and feeding each logged window its logged values. Sheets are deterministic, so a replay that follows the log
// lands where the session was, with the same report. This is the only replay there is: the executor uses it to
// rebuild a realm that was evicted or whose member died, to start a session again from a record (the local
// sandbox client after its child restarted), and the engines run it wherever their realms live.
//
// Two checks say when a replay is not the same run, in one wording: while replaying, each window the sheet asks
// for must be the one the log answered (replayDivergence); at the end, the session must wait at the window it
// waited at, with the report it had (replayMismatch).

import type { InputLogEntry } from "../../protocol/session";
import type { RealmErrorData, RealmInit, RealmOutcome, RealmStart } from "../runtime/abi";
import type { EngineOutcome, RealmEngine, SheetCode } from "./realmEngine";
import { errorOutcome } from "./sheetRealm";

/** Why a replay no longer follows its log at entry `index`; undefined while it does. */
export function replayDivergence(outcome: RealmOutcome, logged: InputLogEntry, index: number, total: number): RealmErrorData | undefined {
  if (outcome.kind !== "ui")
    return {
      name: "ReplayError",
      message: `Replay diverged: the log has ${total} answered windows, but the sheet stopped asking after ${index}.`,
    };
  if (outcome.window.id !== logged.window) {
    return {
      name: "ReplayError",
      message: `Replay diverged at step ${index + 1}: the sheet asks for window '${outcome.window.id}', the log answered '${logged.window}'.`,
    };
  }
  return undefined;
}

/** What a rebuilt session must look like to be the session it replaces: waiting at this window with this report. */
export interface ReplayExpectation {
  window: string;
  report: string;
}

/** Why a finished replay is not the run it rebuilds; undefined when it is. */
export function replayMismatch(outcome: EngineOutcome, expected: ReplayExpectation): RealmErrorData | undefined {
  if (outcome.kind === "lost") return { name: "ReplayError", message: "The sandbox lost the session again while rebuilding it." };
  if (outcome.kind !== "ui" || outcome.window.id !== expected.window) {
    const ended =
      outcome.kind === "error"
        ? ` (it ended with ${outcome.error.name}: ${outcome.error.message})`
        : outcome.kind === "ui"
          ? ` (it stopped at '${outcome.window.id}')`
          : ` (it ended: ${outcome.kind})`;
    return {
      name: "ReplayError",
      message: `Replay diverged: rebuilding the session did not stop at window '${expected.window}' again${ended}.`,
    };
  }
  if (outcome.html !== expected.report)
    return { name: "ReplayError", message: "Replay diverged: rebuilding the session gave a different report than the original run." };
  return undefined;
}

/**
 * Opens a realm for the session and answers every logged window, checking each against the log. The outcome is
 * the last step's, with the html, logs and trace of every step joined: a caller rebuilding a session it already
 * answered for drops the trace and logs (they were sent then); one starting a session from a record keeps them.
 */
export async function replayInto(
  engine: RealmEngine,
  sessionId: string,
  sheet: SheetCode,
  init: RealmInit,
  start: RealmStart,
  inputLog: readonly InputLogEntry[],
): Promise<EngineOutcome> {
  let outcome: RealmOutcome = await engine.open(sessionId, sheet, init, start);
  let html = outcome.html;
  const logs = [...outcome.logs];
  const trace = [...(outcome.trace ?? [])];
  for (const [index, entry] of inputLog.entries()) {
    const divergence = replayDivergence(outcome, entry, index, inputLog.length);
    if (divergence) {
      engine.drop(sessionId);
      return errorOutcome(divergence, html);
    }
    const next = await engine.resume(sessionId, entry.values);
    if (next.kind === "lost") return next;
    outcome = next;
    html += outcome.html;
    logs.push(...outcome.logs);
    if (outcome.trace) trace.push(...outcome.trace);
  }
  return { ...outcome, html, logs, ...(trace.length > 0 ? { trace } : {}) };
}
