// A real nginx for tests, run with the project's own deploy/nginx/nginx.conf and includes naming 127.0.0.1
// ports. Installed by scripts/install-services.sh.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freePort, waitForPort } from "./processes";

export const NGINX_CONF = path.join(__dirname, "..", "..", "..", "deploy", "nginx", "nginx.conf");

export interface TestNginx {
  url: string;
  stop(): Promise<void>;
}

export async function startNginx(upstreamPorts: number[]): Promise<TestNginx> {
  const binary = ["/usr/sbin/nginx", "nginx"].find((b) => spawnSync(b, ["-v"], { stdio: "ignore" }).status === 0);
  if (!binary) throw new Error("nginx is not installed: run `bash scripts/install-services.sh` (npm test does)");
  const port = await freePort();
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), "uzc-nginx-"));
  // Run as root, nginx's workers are `nobody`: they must reach the temp folders.
  fs.chmodSync(prefix, 0o755);
  fs.mkdirSync(path.join(prefix, "tmp"), { mode: 0o777 });
  fs.chmodSync(path.join(prefix, "tmp"), 0o777);
  fs.copyFileSync(NGINX_CONF, path.join(prefix, "nginx.conf"));
  fs.writeFileSync(path.join(prefix, "uzoncalc-listen.conf"), `listen 127.0.0.1:${port};\n`);
  fs.writeFileSync(path.join(prefix, "uzoncalc-upstreams.conf"), upstreamPorts.map((p) => `server 127.0.0.1:${p} max_fails=0;\n`).join(""));
  const child: ChildProcess = spawn(binary, ["-p", prefix, "-c", path.join(prefix, "nginx.conf"), "-g", "daemon off;"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    await waitForPort(port, "nginx", 10_000, () => child.exitCode === null);
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`${error instanceof Error ? error.message : String(error)}: ${stderr.trim()}`, { cause: error });
  }
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise<void>((resolve) => {
          child.once("exit", () => resolve());
          child.kill("SIGTERM");
        });
      }
      fs.rmSync(prefix, { recursive: true, force: true });
    },
  };
}
