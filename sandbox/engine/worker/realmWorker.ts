// A sheet worker: hosts sheet realms for the sandbox's trusted thread. Started with resource limits and under
// the permission model (./options.ts); receives bundles as text and never touches the file system for them.

import { parentPort, workerData } from "node:worker_threads";
import { getHeapStatistics } from "node:v8";
import { LIMITS } from "../../../protocol/limits";
import { InProcessEngine } from "../realmEngine";
import { realmProtections } from "../sheetRealm";
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
    on: (event, listener) => process.on(event, listener as (message: unknown) => void),
    postMessage: (message) => process.send!(message),
  };
}

const port: Port = parentPort ?? processPort();
const stepTimeoutFlag = process.argv.find((a) => a.startsWith("--uzc-step-timeout="))?.split("=")[1];
const stepTimeoutMs =
  Number((workerData as { stepTimeoutMs?: unknown } | undefined)?.stepTimeoutMs ?? stepTimeoutFlag) || LIMITS.stepTimeoutMs.default;
// Steps run under vm's timeout when the pool marks the sheet `timed` (always, unless the pool was told to save the
// per-step watchdog thread; then only sheets that once ran away): otherwise the pool's own watchdog is the limit.
const engine = new InProcessEngine({ stepTimeoutMs, timed: false });

port.on("message", (message: ToWorker) => {
  void handle(message).then((reply) => {
    if (reply) port.postMessage(reply);
  });
});

async function handle(message: ToWorker): Promise<FromWorker | undefined> {
  switch (message.op) {
    case "open":
      return { seq: message.seq, outcome: await engine.open(message.sessionId, message.sheet, message.init, message.start) };
    case "restore":
      return {
        seq: message.seq,
        outcome: await engine.restore(message.sessionId, message.sheet, message.init, message.start, message.inputLog),
      };
    case "resume": {
      const outcome = await engine.resume(message.sessionId, message.values);
      return { seq: message.seq, outcome };
    }
    case "cancel":
      return { seq: message.seq, outcome: await engine.cancel(message.sessionId) };
    case "drop":
      engine.drop(message.sessionId);
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
        },
      };
    }
  }
}
