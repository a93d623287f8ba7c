// Start-up checks: which protections hold on this Node (or Electron-as-Node), logged once, with a safe fallback
// where one is missing (traps.md item 5: desktop VS Code runs the sandbox under Electron, code-server under Node).

import { withDeadline } from "../deadline";
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
  /** A member's whole memory (heap and typed arrays) is capped by the OS, not only its V8 heap. */
  memberMemoryCapped: boolean;
  /** Members run in a network namespace with no interfaces: a sheet that escaped its realm still reaches nothing. */
  memberNetworkIsolated: boolean;
}

export interface SandboxEngineOptions extends Omit<WorkerPoolOptions, "workerScript" | "permission" | "confine"> {
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
    `their whole memory capped (typed arrays too): ${yes(report.memberMemoryCapped)}${report.memberMemoryCapped ? "" : report.isolation === "thread" ? " (worker threads: the heap cap only)" : " (no prlimit here: the heap cap only)"}`,
    `no network in them: ${yes(report.memberNetworkIsolated)}${report.memberNetworkIsolated ? " (an empty network namespace)" : " (no network namespace could be made)"}`,
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
      protections: { ...NO_MEMBERS, dontContextify },
    };
  }
  const workerScript = options.workerScript ?? defaultWorkerScript();
  // Each protection is dropped only if members cannot start with it: the OS confinement first (Electron, say,
  // may not start inside a data limit), then the permission model.
  const attempts = [
    { permission: true, confine: true },
    { permission: true, confine: false },
    { permission: false, confine: false },
  ];
  for (const { permission, confine } of attempts) {
    let pool: WorkerPoolEngine | undefined;
    try {
      pool = new WorkerPoolEngine({ ...options, workerScript, permission, confine });
      const probe = await withDeadline(pool.probe(), 10_000, () => new Error("no answer within 10000 ms"));
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
        memberMemoryCapped: probe.memoryCapped,
        memberNetworkIsolated: probe.networkIsolated,
      };
      return { engine: pool, protections };
    } catch (error) {
      await pool?.close().catch(() => undefined);
      log(
        "warn",
        `sheet workers ${permission ? "under the permission model " : ""}${confine ? "with OS confinement " : ""}could not start: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  log("warn", "running sheets in the sandbox's own thread: there is no memory cap per sheet");
  return {
    engine: new InProcessEngine({ stepTimeoutMs: options.stepTimeoutMs }),
    protections: { ...NO_MEMBERS, dontContextify },
  };
}

const NO_MEMBERS = {
  workers: false,
  workerPermission: false,
  workerEnvEmpty: false,
  memberMemoryCapped: false,
  memberNetworkIsolated: false,
} as const;
