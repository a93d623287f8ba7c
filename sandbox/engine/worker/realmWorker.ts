// A sheet worker: hosts sheet realms for the sandbox's trusted thread. Started with resource limits and under
// the permission model (./options.ts); receives bundles as text and never touches the file system for them.

import * as net from "node:net";
import * as os from "node:os";
import { parentPort } from "node:worker_threads";
import { getHeapStatistics } from "node:v8";
import { LIMITS } from "../../../protocol/limits";
import { InProcessEngine, type EngineOutcome } from "../realmEngine";
import { memoryLimitError, realmProtections } from "../sheetRealm";
import { batchedSender, eachMessage } from "./batch";
import type { FromWorker, ToWorker } from "./messages";

/** The same messages whether this runs as a worker thread or as a child process over IPC. */
interface Port {
  on(event: "message", listener: (message: ToWorker) => void): void;
  postMessage(message: FromWorker): void;
}

function processPort(): Port {
  if (!process.send) throw new Error("realmWorker must run in a worker thread or a forked child process");
  // The parent going away must end this process, not leave it running sheets for nobody.
  process.on("disconnect", () => process.exit(0));
  return {
    on: (event, listener) => process.on(event, (received: ToWorker | ToWorker[]) => eachMessage(received, listener)),
    postMessage: batchedSender<FromWorker>((messages) => process.send!(messages)),
  };
}

const port: Port = parentPort ?? processPort();
const flag = (name: string) => Number(process.argv.find((a) => a.startsWith(`--uzc-${name}=`))?.split("=")[1]);
const stepTimeoutMs = flag("step-timeout") || LIMITS.stepTimeoutMs.default;
const memoryLimitMb = flag("memory-limit") || LIMITS.memoryLimitMb.default;
// Steps run under vm's timeout when the pool marks the sheet `timed` (always, unless the pool was told to save the
// per-step watchdog thread; then only sheets that once ran away): otherwise the pool's own watchdog is the limit.
const engine = new InProcessEngine({ stepTimeoutMs, timed: false });

port.on("message", (message: ToWorker) => {
  void handle(message).then((reply) => {
    if (reply) port.postMessage(reply);
  });
});
// The realm every session here opens in, made before the first asks for it (a message arriving meanwhile waits).
try {
  engine.warm();
} catch {
  // The first open tries again, and its answer says what failed.
}

/** What the pool charges sessions by: this member's heap in use plus memory outside it (typed arrays' backing stores). */
function memoryInUse(): number {
  const heap = getHeapStatistics();
  return heap.used_heap_size + heap.external_memory;
}

/**
 * An allocation the OS data limit refused surfaces in the sheet as a RangeError; uncaught, it is the member's
 * memory limit that the sheet hit, and it is told so.
 */
function answer(seq: number, outcome: EngineOutcome): FromWorker {
  if (outcome.kind === "error" && outcome.error.name === "RangeError" && /allocation failed/i.test(outcome.error.message)) {
    outcome = { ...outcome, error: { ...outcome.error, ...memoryLimitError(memoryLimitMb, "step") } };
  }
  return { seq, outcome, memory: memoryInUse() };
}

/** Whether a buffer larger than the member's whole limit is refused (a reservation only: no page is touched). */
function memoryCapped(): boolean {
  try {
    new ArrayBuffer((memoryLimitMb + 512) * 1_048_576);
    return false;
  } catch {
    return true;
  }
}

function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    const done = (result: string) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(2_000, () => done("ETIMEDOUT"));
    socket.once("connect", () => done("connected"));
    socket.once("error", (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
  });
}

async function handle(message: ToWorker): Promise<FromWorker | undefined> {
  switch (message.op) {
    case "open":
      if (message.sheet.code === "" && !engine.holdsScript(message.sheet.hash)) return { seq: message.seq, needCode: true };
      return answer(message.seq, await engine.open(message.sessionId, message.sheet, message.init, message.start));
    case "restore":
      if (message.sheet.code === "" && !engine.holdsScript(message.sheet.hash)) return { seq: message.seq, needCode: true };
      return answer(message.seq, await engine.restore(message.sessionId, message.sheet, message.init, message.start, message.inputLog));
    case "resume":
      return answer(message.seq, await engine.resume(message.sessionId, message.values));
    case "cancel":
      return answer(message.seq, await engine.cancel(message.sessionId));
    case "drop":
      engine.drop(message.sessionId);
      return undefined;
    case "load":
      engine.preload(message.sheet);
      return undefined;
    case "probe": {
      const permission = (process as unknown as { permission?: { has(scope: string): boolean } }).permission;
      return {
        seq: message.seq,
        probe: {
          permission: permission !== undefined && !permission.has("fs.write") && !permission.has("child"),
          dontContextify: realmProtections().dontContextify,
          envKeys: Object.keys(process.env).length,
          heapLimitMb: Math.round(getHeapStatistics().heap_size_limit / 1048576),
          memoryCapped: memoryCapped(),
          networkIsolated: Object.keys(os.networkInterfaces()).length === 0,
          ...(message.connectPort !== undefined ? { connect: await tryConnect(message.connectPort) } : {}),
        },
      };
    }
  }
}
