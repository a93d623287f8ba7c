// The local sandbox: a child process the extension (or the CLI) forks over IPC, built to dist/sandbox.js. Its
// main thread is trusted: it bundles sheets and runs the Executor; the sheets themselves run in the engine's
// resource-limited pool members. It answers the typed messages of sandbox/connect/childProtocol.ts, never writes to
// stdout, logs warnings to stderr, and exits when its parent goes away.
//
// Flags: --safe-dir=DIR (repeatable), --step-timeout=MS, --memory-limit=MB.

import * as esbuild from "esbuild";
import { LIMITS } from "../../protocol/limits";
import { Refusal, type RefusalBody } from "../../protocol/refusal";
import type { ExecutionResponse } from "../../protocol/rpc";
import type { InputLogEntry, SessionRecord } from "../../protocol/session";
import { asIpcRequest, parseChildArgs, type IpcReply, type IpcRequest } from "../connect/childProtocol";
import { createSandboxEngine, describeProtections } from "../engine/protections";
import { Executor } from "../session/executor";
import { VERSION } from "../version";

const warn = (line: string) => {
  process.stderr.write(`[uzoncalc sandbox ${process.pid}] ${line}\n`);
};

if (!process.send) {
  warn("dist/sandbox.js is the local sandbox's child process: it must be started by LocalSandboxClient over IPC.");
  process.exit(2);
}

const options = parseChildArgs(process.argv.slice(2));
const stepTimeoutMs = options.stepTimeoutMs ?? LIMITS.stepTimeoutMs.default;

const ready: Promise<Executor> = (async () => {
  const { engine, protections } = await createSandboxEngine({
    stepTimeoutMs,
    ...(options.memoryLimitMb !== undefined ? { memoryLimitMb: options.memoryLimitMb } : {}),
    // Threads by default: one IPC hop per step instead of two, and a faster start. The rare failure threads
    // cannot contain (a fatal out-of-memory inside a microtask) ends this child, which the client restarts and
    // whose sessions it restores by replay.
    isolation: options.isolation ?? "thread",
    // Untimed steps: vm's per-call timeout thread costs more than the IPC hop itself. The pool's watchdog stops a
    // sheet's first runaway (its member is replaced; the sessions in it are rebuilt on demand) and times that
    // sheet from then on.
    timeEveryStep: false,
    maxWorkers: 2,
    log: (_level, message) => warn(message),
  });
  if (!protections.workers || !protections.workerPermission || !protections.dontContextify)
    warn(`protections: ${describeProtections(protections)}`);
  return new Executor({
    safeDirs: options.safeDirs,
    stepTimeoutMs,
    engine,
    ...(options.maxSessions !== undefined ? { maxSessions: options.maxSessions } : {}),
  });
})();
// esbuild's service process starts on the first build: start it now, beside the pool's first member, so the first
// Run Calc does not wait for either.
void esbuild.transform("", { loader: "ts" }).catch(() => undefined);
ready.catch((error: unknown) => warn(`could not start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`));
let readyExecutor: Executor | undefined;
void ready.then(
  (executor) => (readyExecutor = executor),
  () => undefined,
);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  // The pool members exit on their own when this process goes away; closing first lets them stop cleanly.
  const forced = setTimeout(() => process.exit(0), 2_000);
  forced.unref();
  try {
    const executor = await ready;
    await executor.close();
    // esbuild's service process would notice on its own, about a second later.
    await esbuild.stop();
  } catch {
    // leaving anyway
  }
  process.exit(0);
}
process.on("disconnect", () => void stop());
process.on("SIGTERM", () => void stop());

function refusalOf(error: unknown): RefusalBody["error"] {
  if (error instanceof Refusal) return error.toBody().error;
  const message = error instanceof Error ? error.message : String(error);
  warn(`request failed: ${error instanceof Error ? (error.stack ?? message) : message}`);
  return { code: "internal", message };
}

/**
 * Runs a request, and with an answer that leaves a session waiting for input, what the client needs to replay it
 * later: the whole record for a session this request started, only the log's new entries for one it resumed (the
 * log grows by a step; sending it whole every step would cost the length of the run each time).
 */
async function dispatch(executor: Executor, request: IpcRequest): Promise<IpcReply> {
  const handler = executor[request.method] as (input: unknown) => Promise<unknown>;
  const resumed = request.method === "resume" ? request.params.session_id : undefined;
  const from = resumed !== undefined ? logOf(executor, resumed)?.length : undefined;
  const answer = await handler.call(executor, request.params);
  const reply: IpcReply = { id: request.id, ok: true, answer } as IpcReply;
  const response = answer as Partial<ExecutionResponse>;
  if (response.status !== "waiting_ui" || typeof response.session_id !== "string" || !reply.ok) return reply;
  if (resumed === undefined) {
    const record = recordOf(executor, response.session_id);
    if (record) reply.record = record;
  } else if (from !== undefined) {
    reply.logged = { from, entries: logOf(executor, resumed)?.slice(from) ?? [] };
  }
  return reply;
}

function recordOf(executor: Executor, sessionId: string): SessionRecord | undefined {
  try {
    return executor.sessionRecord(sessionId);
  } catch {
    return undefined;
  }
}

function logOf(executor: Executor, sessionId: string): readonly InputLogEntry[] | undefined {
  try {
    return executor.inputLog(sessionId);
  } catch {
    return undefined;
  }
}

function send(reply: IpcReply): void {
  if (!process.connected) return;
  try {
    process.send!(reply, undefined, undefined, (error: Error | null) => {
      if (error && process.connected) warn(`could not send a reply: ${error.message}`);
    });
  } catch (error) {
    // A result that cannot be cloned: answer the request anyway, so the client never waits for nothing.
    process.send!({
      id: reply.id,
      ok: false,
      error: { code: "internal", message: `The reply could not be sent: ${error instanceof Error ? error.message : String(error)}` },
    } satisfies IpcReply);
  }
}

process.on("message", (message: unknown) => {
  const request = asIpcRequest(message);
  if ("invalid" in request) {
    if (request.id !== undefined) send({ id: request.id, ok: false, error: { code: "bad_request", message: request.invalid } });
    else warn(`ignored a message without an id: ${request.invalid}`);
    return;
  }
  // The process is up before its sheet members are: health answers at once (no session can exist yet), so
  // the client's first check does not wait for the members to start.
  if (request.method === "health" && readyExecutor === undefined) {
    send({ id: request.id, ok: true, answer: { status: "healthy", active_sessions: 0, version: VERSION } });
    return;
  }
  void ready
    .then((executor) => dispatch(executor, request))
    .then(send, (error: unknown) => send({ id: request.id, ok: false, error: refusalOf(error) }));
});
