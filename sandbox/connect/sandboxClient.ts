// The one way the extension, the CLI and the API layer talk to a sandbox, wherever it runs: a child process
// over IPC (LocalSandboxClient), a remote service over HTTP (RemoteSandboxClient), or this process
// (ExecutorClient, for the sandbox side only). The two the extension uses import no node:vm: sheets never run
// in the extension host.

import type {
  CancelResponse,
  ErrorCode,
  ExecuteRequest,
  ExecutionResponse,
  HealthResponse,
  InvalidateCacheResponse,
  ResumeRequest,
  SessionInfo,
  SessionListResponse,
} from "../../protocol/rpc";

export interface SandboxClient {
  execute(request: ExecuteRequest): Promise<ExecutionResponse>;
  resume(request: ResumeRequest): Promise<ExecutionResponse>;
  cancel(sessionId: string): Promise<CancelResponse>;
  getSession(sessionId: string): Promise<SessionInfo>;
  listSessions(): Promise<SessionListResponse>;
  health(): Promise<HealthResponse>;
  invalidateCache(filePath?: string): Promise<InvalidateCacheResponse>;
  dispose(): Promise<void>;
}

/** The sandbox refused the request (SPEC §2's 4xx): the code, the message, and field errors for 422. */
export class SandboxRequestError extends Error {
  override readonly name = "SandboxRequestError";
  constructor(
    readonly code: ErrorCode,
    readonly status: number,
    message: string,
    readonly fields?: Record<string, string>,
  ) {
    super(message);
  }
}

/**
 * The sandbox could not be reached or failed on its side (connection refused, timeout, 5xx, a dead child).
 * `hint` says what the user can do about it.
 */
export class SandboxUnavailableError extends Error {
  override readonly name = "SandboxUnavailableError";
  constructor(
    message: string,
    readonly hint: string,
    readonly kind: "unreachable" | "timeout" | "server" | "crashed" | "protocol",
  ) {
    super(message);
  }
}
