// Where sheet realms live. The executor talks to an engine only through this interface, with plain data, so
// realms can sit in this thread (InProcessEngine) or in a pool of resource-limited workers without the
// executor knowing which.

import type * as vm from "node:vm";
import type { RealmErrorData, RealmInit, RealmOutcome, RealmStart } from "../runtime/abi";
import type { RestoreInput } from "./worker/messages";
import { compileSheetScript, errorOutcome, SheetRealm, type RealmLimits } from "./sheetRealm";

/** What an engine needs of a loaded sheet: the bundle's code and the name its frames carry. */
export interface SheetCode {
  hash: string;
  code: string;
  scriptName: string;
  /** Run this sheet's steps under vm's timeout even where steps are untimed by default (a known runaway). */
  timed?: boolean;
}

/**
 * `lost`: the engine holds no realm for this session (evicted to save memory, or its worker died). The executor
 * rebuilds it by replaying the session's input log and tries again.
 */
export type EngineOutcome = RealmOutcome | { kind: "lost" };

export interface RealmEngine {
  /** Starts a realm for a session and runs the sheet to its first pause (or end). */
  open(sessionId: string, sheet: SheetCode, init: RealmInit, start: RealmStart): Promise<RealmOutcome>;
  /** Injects validated values into the waiting sheet and runs it to the next pause (or end). */
  resume(sessionId: string, values: unknown): Promise<EngineOutcome>;
  /** Ends the run through the sheet's `finally` blocks. */
  cancel(sessionId: string): Promise<EngineOutcome>;
  /**
   * Rebuilds a session's realm by running the sheet again with the logged inputs, and returns the last outcome
   * with the html of every step joined (for the executor to compare with the session's report) and no trace.
   */
  restore(sessionId: string, sheet: SheetCode, init: RealmInit, start: RealmStart, inputs: readonly RestoreInput[]): Promise<EngineOutcome>;
  /** Forgets a session's realm without running anything. */
  drop(sessionId: string): void;
  readonly liveRealms: number;
  close(): Promise<void>;
}

interface CachedScript {
  script: vm.Script;
  users: number;
}

export class InProcessEngine implements RealmEngine {
  private readonly realms = new Map<string, { realm: SheetRealm; hash: string }>();
  private readonly scripts = new Map<string, CachedScript>();

  /** `limits.timed: false` runs steps without vm's timeout unless a sheet asks for it (see SheetCode.timed). */
  constructor(private readonly limits: RealmLimits) {}

  get liveRealms(): number {
    return this.realms.size;
  }

  async open(sessionId: string, sheet: SheetCode, init: RealmInit, start: RealmStart): Promise<RealmOutcome> {
    this.drop(sessionId);
    let cached = this.scripts.get(sheet.hash);
    if (!cached) {
      cached = { script: compileSheetScript(sheet.code, sheet.scriptName), users: 0 };
      this.scripts.set(sheet.hash, cached);
    }
    const realm = new SheetRealm(cached.script, sheet.timed ? { ...this.limits, timed: true } : this.limits);
    cached.users++;
    this.realms.set(sessionId, { realm, hash: sheet.hash });
    return this.settle(sessionId, realm.open(init, start));
  }

  async resume(sessionId: string, values: unknown): Promise<EngineOutcome> {
    const entry = this.realms.get(sessionId);
    if (!entry) return { kind: "lost" };
    return this.settle(sessionId, entry.realm.resume(values));
  }

  async cancel(sessionId: string): Promise<EngineOutcome> {
    const entry = this.realms.get(sessionId);
    if (!entry) return { kind: "lost" };
    return this.settle(sessionId, entry.realm.cancel());
  }

  async restore(sessionId: string, sheet: SheetCode, init: RealmInit, start: RealmStart, inputs: readonly RestoreInput[]): Promise<EngineOutcome> {
    return replayInto(this, sessionId, sheet, init, start, inputs);
  }

  drop(sessionId: string): void {
    const entry = this.realms.get(sessionId);
    if (!entry) return;
    entry.realm.dispose();
    this.realms.delete(sessionId);
    const cached = this.scripts.get(entry.hash);
    // A compiled script is kept while a realm uses it; a few idle ones stay warm for the next run.
    if (cached && --cached.users <= 0 && this.scripts.size > 32) this.scripts.delete(entry.hash);
  }

  async close(): Promise<void> {
    for (const id of [...this.realms.keys()]) this.drop(id);
    this.scripts.clear();
  }

  private settle(sessionId: string, outcome: RealmOutcome): RealmOutcome {
    if (outcome.kind !== "ui") this.drop(sessionId);
    return outcome;
  }
}

/**
 * Why a replay no longer follows its log at entry `index`: the sheet stopped asking, or asks for another
 * window. Undefined while it follows. One wording for the executor's replay and the engines' restore.
 */
export function replayDivergence(outcome: RealmOutcome, logged: RestoreInput, index: number, total: number): RealmErrorData | undefined {
  if (outcome.kind !== "ui") return { name: "ReplayError", message: `Replay diverged: the log has ${total} answered windows, but the sheet stopped asking after ${index}.` };
  if (outcome.window.id !== logged.window) {
    return { name: "ReplayError", message: `Replay diverged at step ${index + 1}: the sheet asks for window '${outcome.window.id}', the log answered '${logged.window}'.` };
  }
  return undefined;
}

/** Opens a realm and feeds it the logged inputs, checking each window against the log. */
export async function replayInto(engine: RealmEngine, sessionId: string, sheet: SheetCode, init: RealmInit, start: RealmStart, inputs: readonly RestoreInput[]): Promise<EngineOutcome> {
  let outcome: RealmOutcome = await engine.open(sessionId, sheet, init, start);
  let html = outcome.html;
  for (const [index, input] of inputs.entries()) {
    const divergence = replayDivergence(outcome, input, index, inputs.length);
    if (divergence) {
      engine.drop(sessionId);
      return errorOutcome(divergence, html);
    }
    const next = await engine.resume(sessionId, input.values);
    if (next.kind === "lost") return next;
    outcome = next;
    html += outcome.html;
  }
  // A rebuild re-evaluates steps the session already answered: their trace was sent then, so none is returned now.
  const { trace: _replayed, ...rest } = outcome;
  return { ...rest, html };
}
