// A real child process for the CLI tests: `node dist/cli.js …` (or any program) with piped stdio, so stdin is never
// a terminal unless a test runs it under script(1), and no colours; its exit code and everything it printed.
import { spawn } from "node:child_process";
import * as path from "node:path";

export const ROOT = path.resolve(__dirname, "..", "..", "..");
export const CLI = path.join(ROOT, "dist", "cli.js");

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface ChildOptions {
  cwd?: string;
  /** Written to stdin, which is then ended. */
  input?: string;
  /** Added to this process's environment; undefined removes a variable. */
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

/** The environment for children: no colours, no forced terminal unless a test asks for one, plus `extra`. */
export function childEnvironment(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  // A test that wants a terminal says so; the one this suite runs in must not leak into its children.
  delete env.UZONCALC_FORCE_TTY;
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** Spawns `file args` with piped stdio, writes `input` and ends stdin, and collects what it prints. */
export function spawnAndCollect(file: string, args: readonly string[], options: ChildOptions = {}): Promise<ChildResult> {
  const env = childEnvironment(options.env);
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd ?? ROOT,
      env,
      stdio: ["pipe", "pipe", "pipe"],
      timeout: options.timeoutMs ?? 60_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.on("error", () => undefined); // the child may exit before reading all of it
    child.stdin.end(options.input ?? "");
  });
}

/** `node dist/cli.js args…`. */
export function runCli(args: readonly string[], options: ChildOptions = {}): Promise<ChildResult> {
  return spawnAndCollect(process.execPath, [CLI, ...args], options);
}
