// Requests and notifications of this server beyond LSP, shared with whoever sends them (the extension, the bench).
// No side effects on import.
import { NotificationType, RequestType, type Range } from "vscode-languageserver-protocol";

/** Memory and timing of the server process, for `npm run bench`. */
export interface ServerStats {
  heapUsedMb: number;
  rssMb: number;
  /** How long the start-up warm-up (lib files parsed, checker exercised) took; undefined while it has not run. */
  warmUpMs: number | undefined;
  openSheets: number;
  /** The last whole check's own work, wall and CPU time (CPU time hardly moves with the machine's load). */
  lastCheck: CheckCost | undefined;
  /** The last region check's (a long sheet's first answer after an edit or on open: server/src/regionCheck.ts). */
  lastRegionCheck: CheckCost | undefined;
}

export interface CheckCost {
  ms: number;
  cpuMs: number;
}

export interface ServerStatsParams {
  /** Run a full GC first (only possible when the server runs under --expose-gc, as the bench starts it). */
  collectGarbage?: boolean;
}

export const ServerStatsRequest = new RequestType<ServerStatsParams, ServerStats, void>("uzoncalc/serverStats");

export interface VisibleRangesParams {
  uri: string;
  /** What the editor shows of the sheet, in lines (the last state; an empty list when it is not shown). */
  ranges: Range[];
}

/** Sent by the extension as a sheet's editor scrolls: a long sheet's region check starts with what the user sees. */
export const VisibleRangesNotification = new NotificationType<VisibleRangesParams>("uzoncalc/visibleRanges");
