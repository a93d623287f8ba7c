// Start-up checks: which protections hold on this Node (or Electron-as-Node), logged once, with a safe fallback
// where one is missing (traps.md item 5: desktop VS Code runs the sandbox under Electron, code-server under Node).

import { InProcessEngine, type RealmEngine } from "./realmEngine";
import { realmProtections } from "./sheetRealm";
import { defaultWorkerScript, WorkerPoolEngine, type WorkerPoolOptions } from "./workerPool";

export interface ProtectionReport {
  /** Sheet realms are `DONT_CONTEXTIFY` contexts (else null-prototype contextified globals). */
  dontContextify: boolean;
  /** Sheets run in resource-limited pool members (else in the sandbox's own thread, with no memory cap). */
  workers: boolean;
  /** What the members are. */
  isolation?: "process" | "thread";
  /** Sheet workers run under the permission model: no writes, no child processes, no nested workers. */
  workerPermission: boolean;
  /** The heap cap a sheet worker actually got, MB. */
  workerHeapLimitMb?: number;
  workerEnvEmpty: boolean;
}

export interface SandboxEngineOptions extends Omit<WorkerPoolOptions, "workerScript" | "permission"> {
  workerScript?: string;
  /** Run sheets in this thread (no workers): for tests of the engine contract only. */
  inProcess?: boolean;
}

export function describeProtections(report: ProtectionReport): string {
  const yes = (ok: boolean) => (ok ? "yes" : "NO");
  return [
    `vm DONT_CONTEXTIFY: ${yes(report.dontContextify)}${report.dontContextify ? "" : " (falling back to null-prototype contexts)"}`,
    `sheets in isolated ${report.isolation === "thread" ? "worker threads" : "child processes"} with a heap cap: ${report.workers ? `${report.workerHeapLimitMb ?? "?"} MB` : "NO (sheets share the sandbox's heap)"}`,
    `permission model in them: ${yes(report.workerPermission)}${report.workerPermission ? " (no fs writes, child processes or nested workers)" : ""}`,
    `their environment empty: ${yes(report.workerEnvEmpty)}`,
  ].join("; ");
}

/**
 * Starts the engine sheets run in, checking each protection on the way: workers under the permission model if
 * they start, workers without it if only that fails, sheets in this thread if workers cannot start at all.
 */
export async function createSandboxEngine(options: SandboxEngineOptions): Promise<{ engine: RealmEngine; protections: ProtectionReport }> {
  const log = options.log ?? (() => undefined);
  const dontContextify = realmProtections().dontContextify;
  if (options.inProcess) {
    return {
      engine: new InProcessEngine({ stepTimeoutMs: options.stepTimeoutMs }),
      protections: { dontContextify, workers: false, workerPermission: false, workerEnvEmpty: false },
    };
  }
  const workerScript = options.workerScript ?? defaultWorkerScript();
  for (const permission of [true, false]) {
    let pool: WorkerPoolEngine | undefined;
    try {
      pool = new WorkerPoolEngine({ ...options, workerScript, permission });
      const probe = await withTimeout(pool.probe(), 10_000);
      if (permission && !probe.permission) {
        log("warn", "sheet workers started, but the permission model is not in force in them");
      }
      const protections: ProtectionReport = {
        dontContextify: dontContextify && probe.dontContextify,
        workers: true,
        isolation: options.isolation ?? "process",
        workerPermission: probe.permission,
        workerHeapLimitMb: probe.heapLimitMb,
        workerEnvEmpty: probe.envKeys === 0,
      };
      return { engine: pool, protections };
    } catch (error) {
      await pool?.close().catch(() => undefined);
      log(
        "warn",
        `sheet workers ${permission ? "under the permission model " : ""}could not start: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  log("warn", "running sheets in the sandbox's own thread: there is no memory cap per sheet");
  return {
    engine: new InProcessEngine({ stepTimeoutMs: options.stepTimeoutMs }),
    protections: { dontContextify, workers: false, workerPermission: false, workerEnvEmpty: false },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
