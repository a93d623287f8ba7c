// Where sheet realms live. The executor talks to an engine only through this interface, with plain data, so
// realms can sit in this thread (InProcessEngine) or in a pool of resource-limited workers without the
// executor knowing which.

import type * as vm from "node:vm";
import type { InputLogEntry } from "../../protocol/session";
import type { RealmInit, RealmOutcome, RealmStart } from "../runtime/abi";
import { replayInto } from "./replay";
import { compileSheetScript, MemberRealm, SheetRealm, type RealmLimits } from "./sheetRealm";

/** What an engine needs of a loaded sheet: the bundle's code and the name its frames carry. */
export interface SheetCode {
  hash: string;
  code: string;
  scriptName: string;
  /** Run this sheet's steps under vm's timeout even where steps are untimed by default (a known runaway). */
  timed?: boolean;
  /**
   * Who runs it (a token's scope; "" for a service without tokens). A runaway marks its tenant, not only its
   * bundle: a sheet that differs by one literal each time would otherwise run away afresh every time.
   */
  tenant?: string;
}

/**
 * `lost`: the engine holds no realm for this session (evicted to save memory, or its member died; `running`: while
 * running this very request). The executor rebuilds it by replaying the session's input log and tries again.
 */
export type EngineOutcome = RealmOutcome | { kind: "lost"; running?: boolean };

/**
 * How a request that finds its realm gone is tried again (the realm rebuilt each time). A member killed from
 * outside, or killed again while rebuilding, must not end a session whose log is intact, however often it
 * happens while the request waits its turn; but a sheet whose own steps keep taking members down (`running`
 * losses) is stopped after a few, and no request retries past a time budget.
 */
export const LOST_RETRY = {
  delaysMs: [0, 25, 50, 100, 200, 400, 800],
  maxRunningLosses: 3,
  budgetMs: 30_000,
} as const;

/** Runs `attempt` until it answers something other than `lost`, or the retry bounds above are spent. */
export async function retryLost<T extends { kind: string; running?: boolean }>(attempt: (retry: number) => Promise<T>): Promise<T> {
  const started = performance.now();
  let runningLosses = 0;
  let outcome = await attempt(0);
  for (let retry = 1; outcome.kind === "lost"; retry++) {
    if (outcome.running && ++runningLosses >= LOST_RETRY.maxRunningLosses) break;
    if (performance.now() - started > LOST_RETRY.budgetMs) break;
    const delay = LOST_RETRY.delaysMs[Math.min(retry, LOST_RETRY.delaysMs.length) - 1]!;
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    outcome = await attempt(retry);
  }
  return outcome;
}

/** Requests that waited for a busy member, for /metrics. */
export interface QueueStats {
  /** Requests sent to a member. */
  requests: number;
  /** Their total time queued before the member took them. */
  waitSeconds: number;
  /** Requests moved to another member (rebuilt by replay there) rather than wait behind a long step. */
  moved: number;
}

export interface RealmEngine {
  /** Starts a realm for a session and runs the sheet to its first pause (or end). */
  open(sessionId: string, sheet: SheetCode, init: RealmInit, start: RealmStart): Promise<RealmOutcome>;
  /** Injects validated values into the waiting sheet and runs it to the next pause (or end). */
  resume(sessionId: string, values: unknown): Promise<EngineOutcome>;
  /** Ends the run through the sheet's `finally` blocks. */
  cancel(sessionId: string): Promise<EngineOutcome>;
  /** Builds a session's realm again by replaying its input log where this engine keeps realms (replay.ts). */
  restore(
    sessionId: string,
    sheet: SheetCode,
    init: RealmInit,
    start: RealmStart,
    inputLog: readonly InputLogEntry[],
  ): Promise<EngineOutcome>;
  /** Forgets a session's realm without running anything. */
  drop(sessionId: string): void;
  /**
   * Compiles a bundle where its sessions will open, ahead of the first (the editor's warm-up: the sheet it has just
   * bundled). Runs none of its code: evaluating a bundle only creates the sheet's function.
   */
  preload?(sheet: SheetCode): void;
  readonly liveRealms: number;
  /** Queueing in front of the engine's members, where it has any. */
  queueStats?(): QueueStats & { waiting: number };
  close(): Promise<void>;
}

/**
 * Compiled scripts kept at most, those in use aside (each is also a sheet function in the member realm): past it,
 * idle ones go, the least recently opened first.
 */
const KEPT_SCRIPTS = 32;

interface CachedScript {
  script: vm.Script;
  users: number;
}

export class InProcessEngine implements RealmEngine {
  private readonly realms = new Map<string, { realm: SheetRealm; hash: string }>();
  private readonly scripts = new Map<string, CachedScript>();
  /** The realm new sessions open in; replaced when a step retires it (sheetRealm.ts MemberRealm). */
  private member: MemberRealm | undefined;
  private membersMade = 0;

  /** `limits.timed: false` runs steps without vm's timeout unless a sheet asks for it (see SheetCode.timed). */
  constructor(private readonly limits: RealmLimits) {}

  get liveRealms(): number {
    return this.realms.size;
  }

  /** Member realms made so far: one, unless steps had to be stopped from outside. */
  get memberRealmsMade(): number {
    return this.membersMade;
  }

  /** The bundle with this hash is compiled and kept here: it can be opened by its hash alone. */
  holdsScript(hash: string): boolean {
    return this.scripts.has(hash);
  }

  /**
   * Makes this engine's member realm now rather than at the first open (its runtime and hardening: ~10 ms on a
   * quiet machine, several times that while VS Code starts beside it, all of it on the first Run Calc's path).
   */
  warm(): void {
    this.memberRealm();
  }

  preload(sheet: SheetCode): void {
    const member = this.memberRealm();
    try {
      member.sheetFunction(sheet.hash, this.compiled(sheet).script);
    } catch {
      // As an open that fails here would: the next open makes a fresh realm and reports the bundle's problem.
      this.scripts.delete(sheet.hash);
      member.retire();
      return;
    }
    this.trimIdleScripts();
  }

  /** The bundle's compiled script, moved to the end of the map: the map's order is how recently each was opened. */
  private compiled(sheet: SheetCode): CachedScript {
    const cached = this.scripts.get(sheet.hash) ?? { script: compileSheetScript(sheet.code, sheet.scriptName), users: 0 };
    this.scripts.delete(sheet.hash);
    this.scripts.set(sheet.hash, cached);
    return cached;
  }

  async open(sessionId: string, sheet: SheetCode, init: RealmInit, start: RealmStart): Promise<RealmOutcome> {
    this.drop(sessionId);
    const cached = this.compiled(sheet);
    const realm = new SheetRealm(
      this.memberRealm(),
      { hash: sheet.hash, script: cached.script },
      sheet.timed ? { ...this.limits, timed: true } : this.limits,
    );
    cached.users++;
    this.realms.set(sessionId, { realm, hash: sheet.hash });
    return this.settle(sessionId, realm.open(init, start));
  }

  async resume(sessionId: string, values: unknown): Promise<EngineOutcome> {
    const realm = this.liveRealm(sessionId);
    if (!realm) return { kind: "lost" };
    return this.settle(sessionId, realm.resume(values));
  }

  async cancel(sessionId: string): Promise<EngineOutcome> {
    const realm = this.liveRealm(sessionId);
    if (!realm) return { kind: "lost" };
    return this.settle(sessionId, realm.cancel());
  }

  async restore(
    sessionId: string,
    sheet: SheetCode,
    init: RealmInit,
    start: RealmStart,
    inputLog: readonly InputLogEntry[],
  ): Promise<EngineOutcome> {
    return replayInto(this, sessionId, sheet, init, start, inputLog);
  }

  drop(sessionId: string): void {
    const entry = this.realms.get(sessionId);
    if (!entry) return;
    entry.realm.dispose();
    this.realms.delete(sessionId);
    const cached = this.scripts.get(entry.hash);
    if (cached) cached.users--;
    this.trimIdleScripts();
  }

  /** A compiled script is kept while a realm uses it; a few idle ones stay warm for the next run. */
  private trimIdleScripts(): void {
    if (this.scripts.size <= KEPT_SCRIPTS) return;
    for (const [hash, cached] of this.scripts) {
      if (cached.users > 0) continue;
      this.scripts.delete(hash);
      this.member?.forgetSheet(hash);
      if (this.scripts.size <= KEPT_SCRIPTS) return;
    }
  }

  async close(): Promise<void> {
    for (const id of [...this.realms.keys()]) this.drop(id);
    this.scripts.clear();
    this.member?.retire();
    this.member = undefined;
  }

  private memberRealm(): MemberRealm {
    if (!this.member || this.member.retired) {
      this.member = new MemberRealm();
      this.membersMade++;
    }
    return this.member;
  }

  /** The session's realm, if it still has one: a session of a retired member realm is lost (rebuilt by replay). */
  private liveRealm(sessionId: string): SheetRealm | undefined {
    const entry = this.realms.get(sessionId);
    if (entry && !entry.realm.alive) this.drop(sessionId);
    return entry?.realm.alive ? entry.realm : undefined;
  }

  private settle(sessionId: string, outcome: RealmOutcome): RealmOutcome {
    if (outcome.kind !== "ui") this.drop(sessionId);
    return outcome;
  }
}
