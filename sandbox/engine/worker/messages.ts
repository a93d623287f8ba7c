// The typed messages between the sandbox's trusted thread and a sheet worker.

import type { InputLogEntry } from "../../../protocol/session";
import type { RealmInit, RealmStart } from "../../runtime/abi";
import type { EngineOutcome, SheetCode } from "../realmEngine";

export type ToWorker =
  | { op: "open"; seq: number; sessionId: string; sheet: SheetCode; init: RealmInit; start: RealmStart }
  | { op: "restore"; seq: number; sessionId: string; sheet: SheetCode; init: RealmInit; start: RealmStart; inputLog: InputLogEntry[] }
  | { op: "resume"; seq: number; sessionId: string; values: unknown }
  | { op: "cancel"; seq: number; sessionId: string }
  | { op: "drop"; sessionId: string }
  /** Compile a bundle ahead of its first open (RealmEngine.preload); no answer. */
  | { op: "load"; sheet: SheetCode }
  | { op: "probe"; seq: number; connectPort?: number };

export interface ProbeResult {
  /** The permission model is on and denies writes in this worker. */
  permission: boolean;
  dontContextify: boolean;
  envKeys: number;
  heapLimitMb: number;
  /** An allocation past the member's memory limit (heap + typed arrays) is refused. */
  memoryCapped: boolean;
  /** The member has no network interface. */
  networkIsolated: boolean;
  /** With `connectPort`: what connecting to 127.0.0.1 on it gave ("connected" or the error code). */
  connect?: string;
}

/** `memory`: the member's heap used + external memory (bytes) after the request, for charging memory to sessions. */
export type FromWorker =
  | { seq: number; outcome: EngineOutcome; memory?: number }
  | { seq: number; probe: ProbeResult }
  /** An open or restore sent by hash alone (`code: ""`) for a bundle this member no longer holds: send it again with the code. */
  | { seq: number; needCode: true };
