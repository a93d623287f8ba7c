// The sandbox RPC over HTTP (SPEC §2), on node:http: it does ~20 % more requests per second than fastify on one
// core here (research/sandbox-bench.md C2) and the routes are few. Sheets never run in this thread: the executor
// bundles them here and runs them in its engine's isolated members. The plumbing (tokens, body, logs, metrics,
// refusals) is jsonServer.ts, shared with the API layer.

import type { Executor } from "../session/executor";
import { createJsonServer, rpcRoutes, type JsonServer, type ServiceOptions } from "./jsonServer";
import { Metrics } from "./metrics";

export interface SandboxServerOptions extends ServiceOptions {
  executor: Executor;
}

/** Builds the HTTP server. `close()` it to stop accepting; steps in flight finish first. */
export function createSandboxServer(options: SandboxServerOptions): JsonServer {
  const { executor } = options;
  const metrics = new Metrics(() => executor.countByStatus(), {
    queue: () => executor.queueStats(),
    replays: () => executor.replayCounts(),
    store: () => executor.storeStats(),
  });

  // Every method of the table answered by the executor's handler of the same name; the caller's token owns its sessions.
  const routes = rpcRoutes("sandbox", (method, input, request) => executor[method](input, request.context));
  return createJsonServer({ ...options, routes, metrics, noun: "this sandbox" });
}
