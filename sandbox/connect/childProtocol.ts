// The messages between LocalSandboxClient and its child process (dist/sandbox.js), over Node's IPC channel with
// `serialization: "advanced"` (structured clone). A request is a method of the RPC table (protocol/methods.ts)
// with its request; a reply answers the request id with the method's answer, or with the refusal in the same
// fields an HTTP body has (a failure of the child itself is the `internal` refusal).

import { isRecord } from "../../protocol/json";
import { isMethodName, type AnswerOf, type MethodName, type RequestOf } from "../../protocol/methods";
import type { RefusalBody } from "../../protocol/refusal";
import type { InputLogEntry, SessionRecord } from "../../protocol/session";

export type IpcRequestOf<M extends MethodName> = { id: number; method: M; params: RequestOf<M> };
export type IpcRequest = { [M in MethodName]: IpcRequestOf<M> }[MethodName];

export type IpcSuccessOf<M extends MethodName> = {
  id: number;
  ok: true;
  answer: AnswerOf<M>;
  /** With an answer that starts a session waiting for input: its record, so the client can replay it in a new child. */
  record?: SessionRecord;
  /** With an answer that leaves a resumed session waiting: its input log from index `from` on (what the step added). */
  logged?: { from: number; entries: InputLogEntry[] };
};
export interface IpcFailure {
  id: number;
  ok: false;
  error: RefusalBody["error"];
}
export type IpcReply = IpcSuccessOf<MethodName> | IpcFailure;

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

/** The child's check of what arrives: an id and a method of the table (the executor parses the params). */
export function asIpcRequest(message: unknown): IpcRequest | { id: number | undefined; invalid: string } {
  if (!isRecord(message)) return { id: undefined, invalid: "The message is not an object." };
  const id = typeof message.id === "number" && Number.isInteger(message.id) ? message.id : undefined;
  if (id === undefined) return { id, invalid: "The message has no numeric id." };
  if (!isMethodName(message.method)) return { id, invalid: `Unknown method ${String(message.method)}.` };
  return message as unknown as IpcRequest;
}

/** The client's check of what arrives from the child. */
export function asIpcReply(message: unknown): IpcReply | undefined {
  if (!isRecord(message) || typeof message.id !== "number") return undefined;
  if (message.ok === true && "answer" in message) return message as unknown as IpcSuccessOf<MethodName>;
  if (
    message.ok === false &&
    isRecord(message.error) &&
    typeof message.error.message === "string" &&
    typeof message.error.code === "string"
  )
    return message as unknown as IpcFailure;
  return undefined;
}
