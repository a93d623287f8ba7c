// The sandbox RPC over HTTP (SPEC §2), on node:http: it does ~20 % more requests per second than fastify on one
// core here (research/sandbox-bench.md C2) and the routes are few. Sheets never run in this thread: the executor
// bundles them here and runs them in its engine's isolated members.

import { randomUUID, timingSafeEqual } from "node:crypto";
import * as http from "node:http";
import type { Logger } from "pino";
import { ERROR_STATUS, type ErrorBody, type ErrorCode, type ExecutionResponse } from "../../../protocol/rpc";
import { SandboxError } from "../errors";
import type { Executor, RequestContext } from "../executor";
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

type Handler = (request: ParsedRequest) => Promise<unknown> | unknown;

interface ParsedRequest {
  body: unknown;
  context: RequestContext;
  params: Record<string, string>;
}

interface Route {
  method: "GET" | "POST";
  pattern: RegExp;
  name: string;
  handler: Handler;
  /** Open without a token (health only). */
  public?: boolean;
  /** Takes a JSON body. */
  body?: boolean;
}

class HttpError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

function tokenMatches(given: string, tokens: readonly string[]): string | undefined {
  const givenBytes = Buffer.from(given);
  for (const token of tokens) {
    const tokenBytes = Buffer.from(token);
    if (tokenBytes.length === givenBytes.length && timingSafeEqual(tokenBytes, givenBytes)) return token;
  }
  return undefined;
}

/** Builds the HTTP server. `close()` it to stop accepting; steps in flight finish first. */
export function createSandboxServer(options: SandboxServerOptions): http.Server & { metrics: Metrics } {
  const { executor, logger } = options;
  const tokens = options.tokens ?? [];
  const maxBodyBytes = options.maxBodyBytes ?? 1_048_576;
  const metrics = new Metrics(() => executor.countByStatus());

  const routes: Route[] = [
    { method: "POST", pattern: /^\/sandbox\/execute$/, name: "execute", body: true, handler: (r) => executor.execute(r.body, r.context) },
    { method: "POST", pattern: /^\/sandbox\/resume$/, name: "resume", body: true, handler: (r) => executor.resume(r.body, r.context) },
    { method: "POST", pattern: /^\/sandbox\/cancel$/, name: "cancel", body: true, handler: (r) => executor.cancel(r.body, r.context) },
    { method: "GET", pattern: /^\/sandbox\/session\/(?<id>[^/]+)$/, name: "session", handler: (r) => executor.getSession(r.params.id!, r.context) },
    { method: "GET", pattern: /^\/sandbox\/sessions$/, name: "sessions", handler: (r) => executor.listSessions(r.context) },
    { method: "GET", pattern: /^\/sandbox\/health$/, name: "health", public: true, handler: () => executor.health() },
    { method: "POST", pattern: /^\/sandbox\/invalidate-cache$/, name: "invalidate-cache", body: true, handler: (r) => executor.invalidateCache(r.body ?? {}) },
    { method: "GET", pattern: /^\/metrics$/, name: "metrics", public: true, handler: () => metrics },
  ];

  const server = http.createServer({ headersTimeout: options.headersTimeoutMs ?? 10_000, requestTimeout: options.requestTimeoutMs ?? 30_000, keepAliveTimeout: 5_000 }, (req, res) => {
    const started = performance.now();
    const requestId = (typeof req.headers["x-request-id"] === "string" && /^[\w.-]{1,64}$/.test(req.headers["x-request-id"]) ? req.headers["x-request-id"] : undefined) ?? randomUUID();
    const log = logger.child({ req_id: requestId });
    res.setHeader("x-request-id", requestId);
    const url = new URL(req.url ?? "/", "http://sandbox");
    let routeName = "unknown";

    const finish = (status: number, payload: unknown, contentType = "application/json") => {
      const text = contentType === "application/json" ? JSON.stringify(payload) : String(payload);
      res.writeHead(status, { "content-type": contentType === "application/json" ? "application/json; charset=utf-8" : contentType, "content-length": Buffer.byteLength(text) });
      res.end(text);
      const ms = performance.now() - started;
      metrics.observeRequest(routeName, status, ms);
      const fields = { method: req.method, path: url.pathname, route: routeName, status, ms: Math.round(ms * 100) / 100 };
      if (status >= 500) log.error(fields, "request failed");
      else log.info(fields, "request");
    };
    const refuse = (code: ErrorCode, message: string, fields?: Record<string, string>) => {
      metrics.observeError(code);
      const body: ErrorBody = { error: fields ? { code, message, fields } : { code, message } };
      finish(ERROR_STATUS[code], body);
    };

    const candidates = routes.filter((r) => r.pattern.test(url.pathname));
    const route = candidates.find((r) => r.method === req.method);
    if (!route) {
      req.resume();
      if (candidates.length > 0) {
        res.setHeader("allow", candidates.map((r) => r.method).join(", "));
        refuse("bad_request", `${req.method} is not allowed on ${url.pathname}; use ${candidates.map((r) => r.method).join(" or ")}.`);
      } else refuse("not_found", `No route ${req.method} ${url.pathname}.`);
      return;
    }
    routeName = route.name;

    let owner: string | undefined;
    if (tokens.length > 0 && !route.public) {
      const header = req.headers.authorization ?? "";
      const match = /^Bearer\s+(.+)$/i.exec(header);
      owner = match ? tokenMatches(match[1]!.trim(), tokens) : undefined;
      if (!owner) {
        req.resume();
        refuse("unauthorized", header ? "The bearer token is not accepted by this sandbox." : "This sandbox needs `Authorization: Bearer <token>`.");
        return;
      }
    }

    const params = (route.pattern.exec(url.pathname)?.groups ?? {}) as Record<string, string>;
    for (const key of Object.keys(params)) params[key] = decodeURIComponent(params[key]!);

    readBody(req, route.body === true, maxBodyBytes)
      .then(async (body) => {
        const result = await route.handler({ body, context: owner === undefined ? {} : { owner }, params });
        if (result instanceof Metrics) {
          finish(200, await result.render(), "text/plain; version=0.0.4; charset=utf-8");
          return;
        }
        if (route.name === "execute" || route.name === "resume") metrics.observeStep(result as ExecutionResponse, performance.now() - started);
        finish(200, result);
      })
      .catch((error: unknown) => {
        if (error instanceof HttpError) refuse(error.code, error.message);
        else if (error instanceof SandboxError) refuse(error.code, error.message, error.fields);
        else {
          log.error({ err: error }, "unexpected error");
          metrics.observeError("internal");
          finish(500, { error: { code: "internal", message: "The sandbox failed on this request; it has been logged." } });
        }
      });
  }) as http.Server & { metrics: Metrics };
  server.metrics = metrics;
  return server;
}

function readBody(req: http.IncomingMessage, wanted: boolean, limit: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? NaN);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      reject(new HttpError("too_large", `The request body is ${declared} bytes; this sandbox accepts at most ${limit}.`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(new HttpError("too_large", `The request body is over ${limit} bytes, the most this sandbox accepts.`));
        return;
      }
      chunks.push(chunk);
    });
    req.on("error", (error) => {
      if (!failed) reject(new HttpError("bad_request", `The request body could not be read: ${error.message}`));
      failed = true;
    });
    req.on("end", () => {
      if (failed) return;
      if (!wanted || size === 0) {
        resolve(wanted ? undefined : undefined);
        return;
      }
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch (error) {
        reject(new HttpError("bad_request", `The request body is not valid JSON: ${(error as Error).message}`));
      }
    });
  });
}
