// The sandbox RPC over HTTP (SPEC §2), on node:http: it does ~20 % more requests per second than fastify on one
// core here (research/sandbox-bench.md C2) and the routes are few. Sheets never run in this thread: the executor
// bundles them here and runs them in its engine's isolated members. The plumbing (tokens, body, logs, metrics,
// refusals) is jsonServer.ts, shared with the API layer.

import type { Logger } from "pino";
import type { Executor } from "../session/executor";
import { createJsonServer, type JsonServer, type Route } from "./jsonServer";
import { Metrics } from "./metrics";

export interface SandboxServerOptions {
  executor: Executor;
  /** Accepted bearer tokens; empty: no authentication. */
  tokens?: readonly string[];
  /** Largest request body, bytes. Default 1 MB. */
  maxBodyBytes?: number;
  logger: Logger;
  /** Header and whole-request deadlines against slow clients. Defaults 10 s and 30 s. */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
}

/** Builds the HTTP server. `close()` it to stop accepting; steps in flight finish first. */
export function createSandboxServer(options: SandboxServerOptions): JsonServer {
  const { executor } = options;
  const metrics = new Metrics(() => executor.countByStatus());

  const routes: Route[] = [
    { method: "POST", pattern: /^\/sandbox\/execute$/, name: "execute", body: true, step: true, handler: (r) => executor.execute(r.body, r.context) },
    { method: "POST", pattern: /^\/sandbox\/resume$/, name: "resume", body: true, step: true, handler: (r) => executor.resume(r.body, r.context) },
    { method: "POST", pattern: /^\/sandbox\/cancel$/, name: "cancel", body: true, handler: (r) => executor.cancel(r.body, r.context) },
    { method: "GET", pattern: /^\/sandbox\/session\/(?<id>[^/]+)$/, name: "session", handler: (r) => executor.getSession(r.params.id!, r.context) },
    { method: "GET", pattern: /^\/sandbox\/sessions$/, name: "sessions", handler: (r) => executor.listSessions(r.context) },
    { method: "GET", pattern: /^\/sandbox\/health$/, name: "health", public: true, handler: () => executor.health() },
    { method: "POST", pattern: /^\/sandbox\/invalidate-cache$/, name: "invalidate-cache", body: true, handler: (r) => executor.invalidateCache(r.body ?? {}) },
    { method: "GET", pattern: /^\/metrics$/, name: "metrics", public: true, handler: () => metrics },
  ];

  return createJsonServer({
    routes,
    metrics,
    noun: "this sandbox",
    logger: options.logger,
    tokens: options.tokens,
    maxBodyBytes: options.maxBodyBytes,
    headersTimeoutMs: options.headersTimeoutMs,
    requestTimeoutMs: options.requestTimeoutMs,
  });
}
