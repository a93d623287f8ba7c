// `uzoncalc serve`: the sandbox as a standalone HTTP service (SPEC §2, §4), and the startup pieces `uzoncalc api`
// shares with it (the service executor, the permission-model re-exec).

import { spawn } from "node:child_process";
import * as path from "node:path";
import type { Logger } from "pino";
import { Executor } from "../session/executor";
import { describeUrl, RedisStore } from "../session/redisStore";
import type { SessionStore } from "../session/store";
import { createSandboxEngine, describeProtections } from "../engine/protections";
import { VERSION } from "../version";
import { createSandboxServer } from "./sandboxService";
import { listen, serviceLogger, untilSignal } from "./jsonServer";

/** Where a service listens and whom it answers: what `serve` and `api` share. */
export interface ListenOptions {
  host: string;
  port: number;
  tokens: string[];
  maxBodyBytes: number;
  publicMetrics: boolean;
  /** After SIGTERM, how long requests in flight get before they are answered 503. */
  shutdownGraceMs: number;
  /** Host names it answers to besides localhost and its own address (see ServiceOptions.allowedHosts). */
  allowedHosts: string[];
  /** Called when the server is listening, with its port (0 asks the system for one). */
  onListening?: (port: number) => void;
}

export interface ServeOptions extends ListenOptions, ServiceExecutorOptions {}

export function safeDirsFromEnvironment(value: string | undefined): string[] {
  return (value ?? "")
    .split(":")
    .map((d) => d.trim())
    .filter(Boolean);
}

/** A comma-separated list from the environment (tokens, host names), without blanks. */
export function listFromEnvironment(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean);
}

export interface ServiceExecutorOptions {
  safeDirs: string[];
  maxSessions: number;
  stepTimeoutMs: number;
  memoryLimitMb: number;
  /** Member processes sheets run in (default: the cores this process may use). */
  members?: number;
  /** Where sessions live (SPEC §6): "memory" (default) or a redis:// or rediss:// URL. */
  store?: string;
  /** What a sheet member is: a child process (default) or a worker thread (see WorkerPoolOptions.isolation). */
  isolation?: "process" | "thread";
  sessionTtlMs: number;
  requestTimeoutMs: number;
  maxReportBytes: number;
}

/**
 * The executor of a long-running service (`serve`, and `api` without a remote sandbox): sheets in isolated
 * child processes with a heap cap, protections logged once at startup.
 */
export async function createServiceExecutor(options: ServiceExecutorOptions, logger: Logger): Promise<Executor> {
  // A shared service runs steps untimed in isolated child processes: the step rate of a busy server matters,
  // a runaway costs one member restart, and that sheet is timed from then on (see WorkerPoolOptions).
  const { engine, protections } = await createSandboxEngine({
    stepTimeoutMs: options.stepTimeoutMs,
    memoryLimitMb: options.memoryLimitMb,
    ...(options.members !== undefined ? { maxWorkers: options.members } : {}),
    isolation: options.isolation ?? "process",
    timeEveryStep: false,
    log: (level, message) => logger[level](message),
  });
  const servicePermission = (process as unknown as { permission?: { has(scope: string): boolean } }).permission;
  const serviceRestricted = servicePermission !== undefined && !servicePermission.has("fs.write");
  logger.info(
    { protections, service_permission_model: serviceRestricted },
    `sandbox protections: ${describeProtections(protections)}; service process permission model: ${serviceRestricted ? "yes (read-only file system)" : "NO"}`,
  );
  const store = await sessionStore(options.store, options.sessionTtlMs, logger);
  return new Executor({
    ...(store ? { store, ownsStore: true } : {}),
    safeDirs: options.safeDirs,
    stepTimeoutMs: options.stepTimeoutMs,
    maxSessions: options.maxSessions,
    sessionTtlMs: options.sessionTtlMs,
    requestTimeoutMs: options.requestTimeoutMs,
    maxReportBytes: options.maxReportBytes,
    engine,
    // Answers go out as JSON over HTTP: a run's document is written from its steps' bytes (wireJson.ts).
    wireAnswers: true,
  });
}

/** How long start-up waits for the session store before listening anyway (requests are 503 until it is up). */
const STORE_CONNECT_WAIT_MS = 5_000;

/** The store `--store` names: none for "memory" (sessions in this process), Redis for a redis:// URL. */
async function sessionStore(url: string | undefined, ttlMs: number, logger: Logger): Promise<SessionStore | undefined> {
  if (url === undefined || url === "memory") return undefined;
  const store = new RedisStore({ url, ttlMs, log: (level, message) => logger[level](message) });
  await store.connect(STORE_CONNECT_WAIT_MS);
  logger.info({ store: store.description }, `sessions are kept in ${store.description}`);
  return store;
}

/** Runs until SIGTERM or SIGINT: then stops accepting, lets the requests in flight finish, and resolves 0. */
export async function serve(options: ServeOptions): Promise<number> {
  const logger = serviceLogger("uzoncalc-sandbox");
  const executor = await createServiceExecutor(options, logger);
  const server = createSandboxServer({ ...options, bindHost: options.host, executor, logger });
  const port = await listen(server, options.host, options.port);
  logger.info(
    {
      host: options.host,
      port,
      version: VERSION,
      safe_dirs: executor.safeDirs.roots,
      auth: options.tokens.length > 0 ? `${options.tokens.length} token(s)` : "none",
      max_body_bytes: options.maxBodyBytes,
      max_sessions: options.maxSessions,
      step_timeout_ms: options.stepTimeoutMs,
      memory_limit_mb: options.memoryLimitMb,
      members: options.members,
      isolation: options.isolation ?? "process",
      store: options.store === undefined || options.store === "memory" ? "memory" : describeUrl(options.store),
    },
    `sandbox listening on http://${options.host}:${port}`,
  );
  if (options.tokens.length === 0)
    logger.warn("no UZONCALC_TOKEN set: anyone who can reach this port can run sheets and see every session");
  // Whoever started the service waits for this line: it does not wait in the log's batch.
  logger.flush();
  options.onListening?.(port);
  return untilSignal(server, logger, () => executor.close(), options.shutdownGraceMs);
}

/**
 * Least privilege for the service itself: when not already under Node's permission model, start the real
 * server as a child that is, with read access to the product's code, its node_modules and the safe dirs only,
 * no writes at all, and child processes allowed (esbuild's binary, the pool's members). This process only
 * relays signals and the exit code.
 */
export function runUnderPermissionModel(
  args: string[],
  safeDirs: string[],
  command: "serve" | "api" = "serve",
): Promise<number> | undefined {
  if ((process as unknown as { permission?: unknown }).permission !== undefined) return undefined;
  const entry = process.argv[1];
  if (!entry) return undefined;
  const codeDir = path.dirname(entry);
  const root = path.resolve(codeDir, "..");
  const reads = [codeDir, path.join(root, "node_modules"), ...safeDirs.map((d) => path.resolve(d))];
  const flags = ["--experimental-permission", ...reads.map((dir) => `--allow-fs-read=${dir}`), "--allow-child-process", "--no-warnings"];
  // An IPC channel the child never uses but watches: when this process dies (even by SIGKILL) it closes, and the
  // child stops instead of serving on unsupervised.
  const child = spawn(process.execPath, [...flags, entry, command, ...args], {
    stdio: ["inherit", "inherit", "inherit", "ipc"],
    env: process.env,
  });
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  process.on("SIGTERM", forward("SIGTERM"));
  process.on("SIGINT", forward("SIGINT"));
  return new Promise((resolve) => child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}
