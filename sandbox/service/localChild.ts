// The local sandbox: a child process the extension (or the CLI) forks over IPC, built to dist/sandbox.js. Its
// main thread is trusted: it bundles sheets and runs the Executor; the sheets themselves run in the engine's
// resource-limited pool members. It answers the typed messages of sandbox/connect/childProtocol.ts, never writes to
// stdout, logs warnings to stderr, and exits when its parent goes away.
//
// Flags: --safe-dir=DIR (repeatable), --step-timeout=MS, --memory-limit=MB.

import {
  asIpcRequest,
  parseChildArgs,
  type IpcError,
  type IpcReply,
  type IpcRequest,
  type IpcSuccess,
  type ReplayStart,
  type RestoreParams,
} from "../connect/childProtocol";
import * as esbuild from "esbuild";
import type { ExecutionResponse } from "../../protocol/rpc";
import { SandboxError } from "../session/errors";
import { Executor } from "../session/executor";
import { createSandboxEngine, describeProtections } from "../engine/protections";
import { VERSION } from "../version";

const warn = (line: string) => {
  process.stderr.write(`[uzoncalc sandbox ${process.pid}] ${line}\n`);
};

if (!process.send) {
  warn("dist/sandbox.js is the local sandbox's child process: it must be started by LocalSandboxClient over IPC.");
  process.exit(2);
}

const options = parseChildArgs(process.argv.slice(2));
const stepTimeoutMs = options.stepTimeoutMs ?? 10_000;

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
  if (!protections.workers || !protections.workerPermission || !protections.dontContextify) warn(`protections: ${describeProtections(protections)}`);
  return new Executor({ safeDirs: options.safeDirs, stepTimeoutMs, engine, ...(options.maxSessions !== undefined ? { maxSessions: options.maxSessions } : {}) });
})();
// esbuild's service process starts on the first build: start it now, beside the pool's first member, so the first
// Run Calc does not wait for either.
void esbuild.transform("", { loader: "ts" }).catch(() => undefined);
ready.catch((error: unknown) => warn(`could not start: ${error instanceof Error ? error.stack ?? error.message : String(error)}`));
let readyExecutor: Executor | undefined;
void ready.then((executor) => (readyExecutor = executor), () => undefined);

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

function toIpcError(error: unknown): IpcError {
  if (error instanceof SandboxError) {
    return error.fields ? { code: error.code, status: error.status, message: error.message, fields: error.fields } : { code: error.code, status: error.status, message: error.message };
  }
  const message = error instanceof Error ? error.message : String(error);
  warn(`request failed: ${error instanceof Error ? error.stack ?? message : message}`);
  return { code: "internal", status: 500, message };
}

/** The seed, clock and bundle of a session that waits for input: what the client needs to restore it later. */
function replayOf(executor: Executor, response: ExecutionResponse): ReplayStart | undefined {
  if (response.status !== "waiting_ui") return undefined;
  try {
    const record = executor.sessionRecord(response.session_id);
    return { seed: record.seed, started_at: record.startedAt, sheet_hash: record.sheet.hash };
  } catch {
    return undefined;
  }
}

/**
 * Runs a recorded session again under its id: the execute request with the recorded seed and clock, then each
 * accepted input. Refusals on the way mean the run cannot be the same one; the half-built session is cancelled.
 */
async function restore(executor: Executor, params: RestoreParams): Promise<ExecutionResponse> {
  const id = params.request.session_id;
  const abandon = async (reason: string): Promise<never> => {
    await executor.cancel({ session_id: id }).catch(() => undefined);
    throw new SandboxError("conflict", reason);
  };
  const request = params.request;
  let response: ExecutionResponse;
  try {
    // The bundle first (the executor reuses it from the loader's cache): a sheet that changed is refused before
    // any session is made for it.
    const loaded = request.file_path !== undefined ? await executor.loader.loadFile(request.file_path) : await executor.loader.loadSource(request.source ?? "", request.filename, request.files);
    if (!loaded.ok) throw new SandboxError("conflict", `the sheet no longer builds: ${loaded.error.message}`);
    if (loaded.sheet.hash !== params.start.sheet_hash) throw new SandboxError("conflict", "the sheet (or one of its imports) changed since the run started");
    response = await executor.execute({ ...request, html_mode: "full" }, {}, { seed: params.start.seed, startedAt: params.start.started_at });
  } catch (error) {
    if (error instanceof SandboxError && error.code !== "conflict") throw new SandboxError("conflict", `starting it again was refused: ${error.message}`);
    throw error;
  }
  for (const [index, userInput] of params.user_inputs.entries()) {
    if (response.status !== "waiting_ui") break;
    try {
      response = await executor.resume({ session_id: id, user_input: userInput, html_mode: "full" });
    } catch (error) {
      if (error instanceof SandboxError) return abandon(`input ${index + 1} of the run was refused on replay: ${error.message}`);
      throw error;
    }
  }
  return response;
}

async function dispatch(executor: Executor, request: IpcRequest): Promise<IpcSuccess> {
  const id = request.id;
  switch (request.method) {
    case "execute": {
      const result = await executor.execute(request.params);
      const replay = replayOf(executor, result);
      return replay ? { id, ok: true, result, replay } : { id, ok: true, result };
    }
    case "restore":
      return { id, ok: true, result: await restore(executor, request.params) };
    case "resume":
      return { id, ok: true, result: await executor.resume(request.params) };
    case "cancel":
      return { id, ok: true, result: await executor.cancel(request.params) };
    case "getSession":
      return { id, ok: true, result: executor.getSession(request.params.session_id) };
    case "listSessions":
      return { id, ok: true, result: executor.listSessions() };
    case "health":
      return { id, ok: true, result: executor.health() };
    case "invalidateCache":
      return { id, ok: true, result: executor.invalidateCache(request.params) };
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
    process.send!({ id: reply.id, ok: false, error: { code: "internal", status: 500, message: `The reply could not be sent: ${error instanceof Error ? error.message : String(error)}` } } satisfies IpcReply);
  }
}

process.on("message", (message: unknown) => {
  const request = asIpcRequest(message);
  if ("invalid" in request) {
    if (request.id !== undefined) send({ id: request.id, ok: false, error: { code: "bad_request", status: 400, message: request.invalid } });
    else warn(`ignored a message without an id: ${request.invalid}`);
    return;
  }
  // The process is up before its sheet members are: health answers at once (no session can exist yet), so
  // the client's first check does not wait for the members to start.
  if (request.method === "health" && readyExecutor === undefined) {
    send({ id: request.id, ok: true, result: { status: "healthy", active_sessions: 0, version: VERSION } });
    return;
  }
  void ready
    .then((executor) => dispatch(executor, request))
    .then(send, (error: unknown) => send({ id: request.id, ok: false, error: toIpcError(error) }));
});
