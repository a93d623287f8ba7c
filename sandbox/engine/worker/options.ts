// How sheet workers are started. Shared by the pool and by the tests that check what an escaped sheet could
// do inside such a worker, so the two can never differ.

import * as path from "node:path";
import type { ForkOptions } from "node:child_process";
import type { WorkerOptions } from "node:worker_threads";

export interface SheetWorkerLimits {
  /** V8 old-generation cap of the worker, in MB. */
  memoryLimitMb: number;
}

/**
 * A sheet worker runs under Node's permission model with read access to its own code folder only: no writes,
 * no child processes, no workers of its own (no --allow-worker: with it, escaped code could start an
 * unrestricted worker, traps.md item 2), no addons, no inspector; and an empty environment, so no token or
 * secret of the sandbox process is readable.
 */
export function sheetWorkerOptions(workerScript: string, limits: SheetWorkerLimits, permission = true): WorkerOptions {
  return {
    execArgv: permission
      ? ["--experimental-permission", `--allow-fs-read=${path.dirname(workerScript)}`, "--no-warnings"]
      : ["--no-warnings"],
    env: {},
    resourceLimits: {
      maxOldGenerationSizeMb: limits.memoryLimitMb,
      maxYoungGenerationSizeMb: Math.min(32, Math.max(8, Math.floor(limits.memoryLimitMb / 16))),
      stackSizeMb: 4,
    },
    stdout: false,
    stderr: false,
  };
}

/**
 * The same restrictions for a pool member that is a child process, plus a V8 heap cap of the whole process.
 * `process.execPath` is Electron inside desktop VS Code; ELECTRON_RUN_AS_NODE makes it plain Node there, and
 * is the only variable the child gets.
 */
export function sheetProcessOptions(script: string, limits: SheetWorkerLimits, permission = true): ForkOptions {
  const env: NodeJS.ProcessEnv = process.versions.electron ? { ELECTRON_RUN_AS_NODE: "1" } : {};
  return {
    execPath: process.execPath,
    execArgv: [
      ...(permission ? ["--experimental-permission", `--allow-fs-read=${path.dirname(script)}`] : []),
      "--no-warnings",
      `--max-old-space-size=${limits.memoryLimitMb}`,
      `--max-semi-space-size=${Math.min(16, Math.max(2, Math.floor(limits.memoryLimitMb / 32)))}`,
    ],
    env,
    serialization: "advanced",
    stdio: ["ignore", "ignore", "pipe", "ipc"],
  };
}
