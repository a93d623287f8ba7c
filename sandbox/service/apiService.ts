// `uzoncalc api`: the API layer for web front ends (SPEC §3). The routes of the seed's service layer
// (`/v1/calc/execution/*`) with the bodies and refusals of the sandbox RPC (§2), in front of a SandboxClient:
// the sandbox in this process (an Executor with isolated members, as `serve` builds it) or a remote sandbox
// service (SANDBOX_URL / --sandbox-url), which is the seed's two deployments.
//
// Tokens: with UZONCALC_TOKEN set, callers need one of its tokens (401 otherwise), and the caller's own token
// goes on to the sandbox (remote: as its bearer token; in process: as the session owner), so a session stays
// visible to the token that created it only.
//
// Extension to §2: when the remote sandbox cannot be reached, times out, fails (5xx) or refuses the API's
// credentials, the answer is `502 { error: { code: "bad_gateway", message, hint } }`.

import { isPublicMethod, parseRequest } from "../../protocol/methods";
import { Refusal } from "../../protocol/refusal";
import type { SessionStatus } from "../../protocol/rpc";
import { ExecutorClient } from "../session/executorClient";
import { RemoteSandboxClient } from "../connect/remoteClient";
import { SandboxUnavailableError, type SandboxClient } from "../connect/sandboxClient";
import type { Executor } from "../session/executor";
import { VERSION } from "../version";
import { createJsonServer, listen, rpcRoutes, serviceLogger, untilSignal, type JsonServer, type ServiceOptions } from "./jsonServer";
import { Metrics, type SandboxSources } from "./metrics";
import { createServiceExecutor, type ListenOptions, type ServiceExecutorOptions } from "./serve";

/** Where the API's requests go: one SandboxClient per caller token (undefined: no tokens configured). */
export interface ApiBackend {
  readonly kind: "in-process" | "remote";
  clientFor(owner: string | undefined): SandboxClient;
  /** Sessions held in this process, for the metrics (in process only). */
  sessionsByStatus?: () => Record<SessionStatus, number>;
  /** What the sandbox in this process reports to the metrics (in process only). */
  sources?: SandboxSources;
  close(): Promise<void>;
}

/** The sandbox in this process: one executor, sessions owned by the caller's token. */
export function inProcessBackend(executor: Executor): ApiBackend {
  const clients = new Map<string | undefined, ExecutorClient>();
  return {
    kind: "in-process",
    clientFor(owner) {
      let client = clients.get(owner);
      if (!client) clients.set(owner, (client = new ExecutorClient(executor, owner === undefined ? {} : { owner })));
      return client;
    },
    sessionsByStatus: () => executor.countByStatus(),
    sources: {
      queue: () => executor.queueStats(),
      replays: () => executor.replayCounts(),
      store: () => executor.storeStats(),
    },
    close: () => executor.close(),
  };
}

/**
 * A remote sandbox service. Requests are relayed as given: `file_path` is resolved by the sandbox in its own
 * safe dirs (this process reads no sheet), and `html_mode` is the caller's.
 */
export function remoteBackend(url: string, timeoutMs?: number): ApiBackend {
  const clients = new Map<string | undefined, RemoteSandboxClient>();
  return {
    kind: "remote",
    clientFor(owner) {
      let client = clients.get(owner);
      if (!client) {
        client = new RemoteSandboxClient({
          url,
          ...(owner !== undefined ? { token: owner } : {}),
          ...(timeoutMs !== undefined ? { timeoutMs } : {}),
          relay: true,
        });
        clients.set(owner, client);
      }
      return client;
    },
    async close() {
      await Promise.all([...clients.values()].map((c) => c.dispose()));
    },
  };
}

export interface ApiServerOptions extends ServiceOptions {
  backend: ApiBackend;
  /** The remote sandbox's URL, for the 502 hints. */
  sandboxUrl?: string;
}

/** Builds the API server. `close()` it to stop accepting; requests in flight finish first. */
export function createApiServer(options: ApiServerOptions): JsonServer {
  const { backend } = options;
  const metrics = new Metrics(backend.sessionsByStatus, backend.sources);
  const where = options.sandboxUrl ?? "the sandbox";

  // A request is parsed here, so one this API refuses (400) never reaches the sandbox; health needs no token.
  const routes = rpcRoutes("api", (method, input, request) => {
    if (!isPublicMethod(method)) throw new Refusal("not_found", `${method} is not part of this API.`);
    return backend.clientFor(request.context.owner).call(method, parseRequest(method, input), { requestId: request.requestId });
  });

  const mapError = (error: unknown): Refusal | undefined => {
    // The caller's token passed here; the sandbox refusing it means the two services disagree on tokens.
    if (error instanceof Refusal && error.status === 401 && backend.kind === "remote") {
      return new Refusal(
        "bad_gateway",
        `The sandbox at ${where} refused the API's credentials: ${error.message}`,
        undefined,
        "Give the API and the sandbox the same UZONCALC_TOKEN list.",
      );
    }
    if (error instanceof SandboxUnavailableError) {
      const hint =
        error.kind === "timeout"
          ? `Check that the sandbox at ${where} is running and not overloaded; a step is limited by its step time limit.`
          : error.kind === "server"
            ? `The sandbox at ${where} failed; its logs have the request. Try again.`
            : `Start the sandbox service (uzoncalc serve) or fix SANDBOX_URL / --sandbox-url (now ${where}).`;
      const message = error.message.includes(where) || where === "the sandbox" ? error.message : `${error.message} (sandbox: ${where})`;
      return new Refusal("bad_gateway", message, undefined, hint);
    }
    return undefined;
  };

  return createJsonServer({ ...options, routes, metrics, mapError, noun: "this API" });
}

export interface ApiOptions extends ListenOptions, ServiceExecutorOptions {
  /** A remote sandbox service; absent: the sandbox runs in this process (with `safeDirs` and the limits). */
  sandboxUrl?: string;
  /** Per-request deadline towards the remote sandbox. Default REMOTE_ANSWER_TIMEOUT_MS. */
  remoteTimeoutMs?: number;
}

/** Runs until SIGTERM or SIGINT: then stops accepting, lets the requests in flight finish, and resolves 0. */
export async function api(options: ApiOptions): Promise<number> {
  const logger = serviceLogger("uzoncalc-api");
  const sandboxUrl = options.sandboxUrl;
  const backend =
    sandboxUrl !== undefined
      ? remoteBackend(sandboxUrl, options.remoteTimeoutMs)
      : inProcessBackend(await createServiceExecutor(options, logger));
  if (sandboxUrl !== undefined && options.safeDirs.length > 0)
    logger.info({ safe_dirs: options.safeDirs }, "safe dirs are the remote sandbox's own: the ones given here are not used");
  const server = createApiServer({ ...options, bindHost: options.host, backend, logger });
  const port = await listen(server, options.host, options.port);
  logger.info(
    {
      host: options.host,
      port,
      version: VERSION,
      sandbox: sandboxUrl ?? "in-process",
      auth: options.tokens.length > 0 ? `${options.tokens.length} token(s)` : "none",
      max_body_bytes: options.maxBodyBytes,
      ...(sandboxUrl === undefined
        ? {
            safe_dirs: options.safeDirs,
            max_sessions: options.maxSessions,
            step_timeout_ms: options.stepTimeoutMs,
            memory_limit_mb: options.memoryLimitMb,
          }
        : {}),
    },
    `api listening on http://${options.host}:${port} (sandbox: ${sandboxUrl ?? "in process"})`,
  );
  if (options.tokens.length === 0)
    logger.warn("no UZONCALC_TOKEN set: anyone who can reach this port can run sheets and see every session");
  // Whoever started the service waits for this line: it does not wait in the log's batch.
  logger.flush();
  if (sandboxUrl !== undefined) {
    // Say early whether the sandbox is there; requests answer 502 until it is.
    backend
      .clientFor(options.tokens[0])
      .health()
      .then(
        (health) => logger.info({ sandbox: sandboxUrl, sandbox_version: health.version }, `sandbox at ${sandboxUrl} is healthy`),
        (error: unknown) =>
          logger.warn(
            { sandbox: sandboxUrl },
            `sandbox at ${sandboxUrl} is not reachable yet: ${error instanceof Error ? error.message : String(error)}`,
          ),
      );
  }
  options.onListening?.(port);
  return untilSignal(server, logger, () => backend.close(), options.shutdownGraceMs);
}
