// How sheet workers are started. Shared by the pool and by the tests that check what an escaped sheet could
// do inside such a worker, so the two can never differ.

import * as path from "node:path";
import { spawnSync, type SpawnOptions } from "node:child_process";
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

/** V8's young generation of a member: semi-spaces scaled with the heap cap, so contexts live across a few requests unpromoted. */
function semiSpaceMb(memoryLimitMb: number): number {
  return Math.min(16, Math.max(2, Math.floor(memoryLimitMb / 32)));
}

/**
 * What Node itself needs of a member's data segment beyond the sheets' heap: its code, thread stacks and the young
 * generation (three semi-spaces). Measured: a bare member starts at ~48 MB of VmData.
 */
export function memberBaseMb(memoryLimitMb: number): number {
  return 96 + 3 * semiSpaceMb(memoryLimitMb);
}

/**
 * What the operating system adds around a member process on Linux, found once: `prlimit` caps its whole data
 * segment (the V8 heap cap misses typed arrays, whose backing stores live outside the heap), and `unshare -n`
 * gives it a network namespace with no interfaces (Node 20's permission model has no network switch). `-r`
 * (a user namespace mapped to our uid) is how an unprivileged service gets one.
 */
export interface MemberConfinement {
  dataLimit: boolean;
  network: ["-n"] | ["-rn"] | undefined;
}

let confinement: MemberConfinement | undefined;

export function memberConfinement(): MemberConfinement {
  if (confinement) return confinement;
  const works = (command: string, args: string[]) => {
    try {
      return spawnSync(command, args, { stdio: "ignore", timeout: 5_000 }).status === 0;
    } catch {
      return false; // no such tool, or child processes not allowed here
    }
  };
  if (process.platform !== "linux") return (confinement = { dataLimit: false, network: undefined });
  const dataLimit = works("prlimit", ["--data=1073741824", "--", "true"]);
  const network = works("unshare", ["-n", "--", "true"])
    ? (["-n"] as ["-n"])
    : works("unshare", ["-rn", "--", "true"])
      ? (["-rn"] as ["-rn"])
      : undefined;
  return (confinement = { dataLimit, network });
}

export interface MemberCommand {
  file: string;
  args: string[];
  options: SpawnOptions;
}

/**
 * The same restrictions for a pool member that is a child process, plus a V8 heap cap and, where the OS allows
 * (`confine`), a cap of its whole memory and no network. `process.execPath` is Electron inside desktop VS Code;
 * ELECTRON_RUN_AS_NODE makes it plain Node there, and is the only variable the child gets (spawn adds the IPC
 * channel's own two).
 */
export function sheetProcessCommand(
  script: string,
  args: string[],
  limits: SheetWorkerLimits,
  permission = true,
  confine: MemberConfinement = { dataLimit: false, network: undefined },
): MemberCommand {
  const env: NodeJS.ProcessEnv = process.versions.electron ? { ELECTRON_RUN_AS_NODE: "1" } : {};
  const node = [
    process.execPath,
    ...(permission ? ["--experimental-permission", `--allow-fs-read=${path.dirname(script)}`] : []),
    "--no-warnings",
    `--max-old-space-size=${limits.memoryLimitMb}`,
    `--max-semi-space-size=${semiSpaceMb(limits.memoryLimitMb)}`,
    script,
    ...args,
  ];
  const dataBytes = (limits.memoryLimitMb + memberBaseMb(limits.memoryLimitMb)) * 1_048_576;
  const wrapped = [
    ...(confine.network ? ["unshare", ...confine.network, "--"] : []),
    ...(confine.dataLimit ? ["prlimit", `--data=${dataBytes}`, "--"] : []),
    ...node,
  ];
  return {
    file: wrapped[0]!,
    args: wrapped.slice(1),
    options: { env, serialization: "advanced", stdio: ["ignore", "ignore", "pipe", "ipc"] },
  };
}
