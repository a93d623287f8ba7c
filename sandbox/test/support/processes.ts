// Starting the product's own services as real processes for tests: `node dist/cli.js serve|api ...`.

import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";

export const CLI = path.join(__dirname, "..", "..", "..", "dist", "cli.js");

export interface RunningService {
  process: ChildProcess;
  port: number;
  url: string;
  logs: string[];
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `node dist/cli.js <args>` and waits for its "listening" log line (port 0 picks a free port). */
export function startService(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 20_000): Promise<RunningService> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, LOG_LEVEL: "info", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const logs: string[] = [];
    let buffer = "";
    let settled = false;
    const timer = setTimeout(() => fail(new Error(`service did not start within ${timeoutMs} ms:\n${logs.join("\n")}`)), timeoutMs);
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(error);
    };
    const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
    child.stderr!.on("data", (chunk: Buffer) => logs.push(chunk.toString()));
    child.stdout!.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      let newline: number;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        logs.push(line);
        if (settled) continue;
        try {
          const entry = JSON.parse(line) as { msg?: string; port?: number };
          if (typeof entry.msg === "string" && / listening on /.test(entry.msg) && typeof entry.port === "number") {
            settled = true;
            clearTimeout(timer);
            resolve({
              process: child,
              port: entry.port,
              url: `http://127.0.0.1:${entry.port}`,
              logs,
              stop: async () => {
                if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
                return exited;
              },
            });
          }
        } catch {
          /* not a log line */
        }
      }
    });
    child.once("exit", (code) => fail(new Error(`service exited (${code}) before listening:\n${logs.join("\n")}`)));
  });
}

/** A TCP port free on 127.0.0.1 now (for a server the test starts, and may start again on the same port). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts connections on 127.0.0.1:port; `alive()` false stops the wait early. */
export async function waitForPort(port: number, what: string, timeoutMs = 10_000, alive: () => boolean = () => true): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (up) return;
    if (!alive()) throw new Error(`${what} exited before it listened on ${port}`);
    if (Date.now() > until) throw new Error(`${what} did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Every process's parent now (Linux /proc; empty elsewhere). */
function parents(): Map<number, number> {
  const parent = new Map<number, number>();
  if (process.platform !== "linux") return parent;
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // gone meanwhile
    }
  }
  return parent;
}

/** Direct children of a process (Linux /proc; empty elsewhere). */
export function childrenOf(pid: number): number[] {
  return [...parents()].filter(([, parent]) => parent === pid).map(([child]) => child);
}

/** Every process below `pid`, however deep (a service under its supervisor, and the service's members). */
export function descendantsOf(pid: number): number[] {
  const parent = parents();
  const below = (child: number): boolean => {
    for (let p = parent.get(child); p !== undefined && p > 1; p = parent.get(p)) if (p === pid) return true;
    return false;
  };
  return [...parent.keys()].filter(below);
}

/** A process's resident memory, MB (Linux /proc); throws when it is gone. */
export function residentMb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;
}
