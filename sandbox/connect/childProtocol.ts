// The messages between LocalSandboxClient and its child process (dist/sandbox.js), over Node's IPC channel with
// `serialization: "advanced"` (structured clone). Every method is typed end to end: a request names its method
// and carries that method's params; a reply answers a request id with that method's result, or with the
// refusal the executor gave (SPEC §2's 4xx), or with a 500 for a failure of the child itself.

import type {
  CancelRequest,
  CancelResponse,
  ErrorCode,
  ExecuteRequest,
  ExecutionResponse,
  HealthResponse,
  InvalidateCacheRequest,
  InvalidateCacheResponse,
  ResumeRequest,
  SessionInfo,
  SessionListResponse,
} from "../../protocol/rpc";

/** What it takes to run a session again in a new child and get the same report: fixed seed and clock. */
export interface ReplayStart {
  seed: number;
  /** The session's start time (ms since the epoch): `Date` inside the sheet is derived from it. */
  started_at: number;
  /** The bundle's hash, so a restore can tell that the sheet on disk changed since. */
  sheet_hash: string;
}

/**
 * Re-runs a recorded session with the same id: its execute request (with `session_id` set), the same seed and
 * clock, then each `user_input` that was accepted, in order. Answers the last response with the full report.
 */
export interface RestoreParams {
  request: ExecuteRequest & { session_id: string };
  start: ReplayStart;
  user_inputs: Record<string, unknown>[];
}

export interface MethodMap {
  execute: { params: ExecuteRequest; result: ExecutionResponse };
  resume: { params: ResumeRequest; result: ExecutionResponse };
  cancel: { params: CancelRequest; result: CancelResponse };
  getSession: { params: { session_id: string }; result: SessionInfo };
  listSessions: { params: Record<string, never>; result: SessionListResponse };
  health: { params: Record<string, never>; result: HealthResponse };
  invalidateCache: { params: InvalidateCacheRequest; result: InvalidateCacheResponse };
  /** Additive: rebuilds a session that lived in a child that died (see RestoreParams). */
  restore: { params: RestoreParams; result: ExecutionResponse };
}

export type Method = keyof MethodMap;
export const METHODS: readonly Method[] = ["execute", "resume", "cancel", "getSession", "listSessions", "health", "invalidateCache", "restore"];

export type IpcRequestOf<M extends Method> = { id: number; method: M; params: MethodMap[M]["params"] };
export type IpcRequest = { [M in Method]: IpcRequestOf<M> }[Method];

/** A refusal: SPEC §2's code and status (and field errors for 422), or `internal`/500 for a failure of the child. */
export interface IpcError {
  code: ErrorCode | "internal";
  status: number;
  message: string;
  fields?: Record<string, string>;
}

export type IpcSuccessOf<M extends Method> = {
  id: number;
  ok: true;
  result: MethodMap[M]["result"];
  /** On `execute` and `restore` of a session that has a sheet: how to replay it later. */
  replay?: ReplayStart;
};
export type IpcSuccess = { [M in Method]: IpcSuccessOf<M> }[Method];
export interface IpcFailure {
  id: number;
  ok: false;
  error: IpcError;
}
export type IpcReply = IpcSuccess | IpcFailure;

/** Start options of the child, as argv flags. */
export interface ChildStartOptions {
  safeDirs: string[];
  stepTimeoutMs?: number;
  memoryLimitMb?: number;
  maxSessions?: number;
  /** What the child's pool members are (see WorkerPoolOptions.isolation). */
  isolation?: "process" | "thread";
}

export function childArgs(options: ChildStartOptions): string[] {
  const args = options.safeDirs.map((dir) => `--safe-dir=${dir}`);
  if (options.stepTimeoutMs !== undefined) args.push(`--step-timeout=${options.stepTimeoutMs}`);
  if (options.memoryLimitMb !== undefined) args.push(`--memory-limit=${options.memoryLimitMb}`);
  if (options.maxSessions !== undefined) args.push(`--max-sessions=${options.maxSessions}`);
  if (options.isolation !== undefined) args.push(`--isolation=${options.isolation}`);
  return args;
}

export function parseChildArgs(argv: readonly string[]): ChildStartOptions {
  const options: ChildStartOptions = { safeDirs: [] };
  for (const arg of argv) {
    const eq = arg.indexOf("=");
    if (!arg.startsWith("--") || eq < 0) continue;
    const key = arg.slice(2, eq);
    const value = arg.slice(eq + 1);
    if (key === "safe-dir" && value !== "") options.safeDirs.push(value);
    else if (key === "step-timeout" && Number(value) > 0) options.stepTimeoutMs = Number(value);
    else if (key === "memory-limit" && Number(value) > 0) options.memoryLimitMb = Number(value);
    else if (key === "max-sessions" && Number(value) > 0) options.maxSessions = Number(value);
    else if (key === "isolation" && (value === "process" || value === "thread")) options.isolation = value;
  }
  return options;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The child's check of what arrives: an id, a known method and an object of params (the executor parses the rest). */
export function asIpcRequest(message: unknown): IpcRequest | { id: number | undefined; invalid: string } {
  if (!isRecord(message)) return { id: undefined, invalid: "The message is not an object." };
  const id = typeof message.id === "number" && Number.isInteger(message.id) ? message.id : undefined;
  if (id === undefined) return { id, invalid: "The message has no numeric id." };
  if (typeof message.method !== "string" || !(METHODS as readonly string[]).includes(message.method)) return { id, invalid: `Unknown method ${String(message.method)}.` };
  if (!isRecord(message.params)) return { id, invalid: "`params` must be an object." };
  return message as IpcRequest;
}

/** The client's check of what arrives from the child. */
export function asIpcReply(message: unknown): IpcReply | undefined {
  if (!isRecord(message) || typeof message.id !== "number") return undefined;
  if (message.ok === true && "result" in message) return message as IpcSuccess;
  if (message.ok === false && isRecord(message.error) && typeof message.error.message === "string" && typeof message.error.status === "number") return message as unknown as IpcFailure;
  return undefined;
}
