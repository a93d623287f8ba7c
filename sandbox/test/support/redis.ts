// A real redis-server for tests, on a free port of 127.0.0.1, in a scratch folder: started, killed, started
// again on the same port (a store that goes away and comes back). Installed by scripts/install-services.sh.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freePort, waitForPort } from "./processes";

export interface TestRedis {
  url: string;
  port: number;
  /** SIGKILL: the store is gone until `start()`. */
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** `durable`: an append-only file synced on every write, so a killed server comes back with what it acknowledged. */
export async function startRedis(options: { durable?: boolean } = {}): Promise<TestRedis> {
  if (spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status !== 0)
    throw new Error("redis-server is not installed: run `bash scripts/install-services.sh` (npm test does)");
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "uzc-redis-"));
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(
      "redis-server",
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--dir",
        dir,
        ...(options.durable ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"]),
      ],
      {
        stdio: "ignore",
      },
    );
    const started = child;
    await waitForPort(port, "redis-server", 10_000, () => started.exitCode === null);
  };
  const kill = async () => {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once("exit", () => resolve());
      running.kill("SIGKILL");
    });
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill,
    start,
    stop: async () => {
      await kill();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
