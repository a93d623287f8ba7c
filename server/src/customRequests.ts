// Requests of this server beyond LSP, shared with whoever sends them (the bench). No side effects on import.
import { RequestType } from "vscode-languageserver-protocol";

/** Memory and timing of the server process, for `npm run bench`. */
export interface ServerStats {
  heapUsedMb: number;
  rssMb: number;
  /** How long the start-up warm-up (lib files parsed, checker exercised) took; undefined while it has not run. */
  warmUpMs: number | undefined;
  openSheets: number;
  /** The last diagnostics request's own work, wall and CPU time (CPU time hardly moves with the machine's load). */
  lastCheck: { ms: number; cpuMs: number } | undefined;
}

export interface ServerStatsParams {
  /** Run a full GC first (only possible when the server runs under --expose-gc, as the bench starts it). */
  collectGarbage?: boolean;
}

export const ServerStatsRequest = new RequestType<ServerStatsParams, ServerStats, void>("uzoncalc/serverStats");
