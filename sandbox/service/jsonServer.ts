// The plumbing both HTTP services share: the sandbox RPC (sandboxService.ts, SPEC §2) and the API layer
// (apiService.ts, SPEC §3). Routes built from the RPC table, bearer tokens, a capped JSON body, request ids, pino
// request logs, Prometheus metrics, refusals as `{ error: { code, message, fields? } }`, and the graceful stop
// on SIGTERM. A service supplies only how a method is answered and how its backend's failures map to refusals.

import { randomUUID, timingSafeEqual } from "node:crypto";
import * as http from "node:http";
import { isIP } from "node:net";
import pino, { type Logger } from "pino";
import { quoted } from "../../protocol/fields";
import { isRecord } from "../../protocol/json";
import { LIMITS } from "../../protocol/limits";
import { FACE_PREFIX, METHOD_NAMES, SANDBOX_RPC, routeName, routeParams, type HttpFace, type MethodName } from "../../protocol/methods";
import { Refusal } from "../../protocol/refusal";
import type { ExecutionResponse } from "../../protocol/rpc";
import type { RequestContext } from "../session/executor";
import { utf8, wireJson } from "../session/wireJson";
import { Metrics } from "./metrics";

export interface RouteRequest {
  body: unknown;
  /** `{ owner: token }` when tokens are configured and the route is not public; else `{}`. */
  context: RequestContext;
  params: Record<string, string>;
  requestId: string;
}

export interface Route {
  method: "GET" | "POST";
  pattern: RegExp;
  name: string;
  handler: (request: RouteRequest) => Promise<unknown> | unknown;
  /** Open without a token (health and metrics). */
  public?: boolean;
  /** Takes a JSON body. */
  body?: boolean;
  /** Answers an ExecutionResponse: counted in the step metrics. */
  step?: boolean;
}

/** Answers one method of the RPC table; `input` is the request as it came (the body, with the path's parameters). */
export type MethodAnswerer = (method: MethodName, input: unknown, request: RouteRequest) => Promise<unknown>;

/**
 * The routes of every method the table gives a face: `{session_id}` in a path fills that field of the request,
 * over what a POST's body says.
 */
export function rpcRoutes(face: HttpFace, answer: MethodAnswerer): Route[] {
  const routes: Route[] = [];
  for (const method of METHOD_NAMES) {
    const spec = SANDBOX_RPC[method];
    for (const route of spec.routes[face]) {
      const params = routeParams(route);
      const pattern = new RegExp(`^${FACE_PREFIX[face]}${route.path.replace(/\{(\w+)\}/g, "(?<$1>[^/]+)")}$`);
      routes.push({
        method: route.verb,
        pattern,
        name: routeName(route),
        body: route.verb === "POST",
        ...(spec.public ? { public: true } : {}),
        ...(spec.step ? { step: true } : {}),
        handler: (request) => {
          const input = params.length === 0 ? request.body : { ...(isRecord(request.body) ? request.body : {}), ...request.params };
          return answer(method, input, request);
        },
      });
    }
  }
  return routes;
}

/** What every HTTP service is set up with, whatever it serves. */
export interface ServiceOptions {
  logger: Logger;
  /** Accepted bearer tokens; empty: no authentication. */
  tokens?: readonly string[];
  /** Largest request body, bytes. Default LIMITS.maxBodyBytes. */
  maxBodyBytes?: number;
  /** Serve /metrics without a token although tokens are configured (a scraper on a private network). */
  publicMetrics?: boolean;
  /**
   * Host names the service answers to (in `Host`, and in `Origin` when a browser sends one), besides localhost and
   * the loopback addresses: a page on another site, or a name rebound to this address, gets 403.
   */
  allowedHosts?: readonly string[];
  /** The address it listens on: bound to every address (0.0.0.0, ::), any IP literal is a name it answers to. */
  bindHost?: string;
}

export interface JsonServerOptions extends ServiceOptions {
  /** The service's routes; /metrics is added to them. */
  routes: readonly Route[];
  metrics: Metrics;
  /** How the service names itself in messages: "this sandbox", "this API". */
  noun: string;
  /** Maps an error a route's handler threw to a refusal; undefined falls through to a Refusal as thrown, then 500. */
  mapError?: (error: unknown) => Refusal | undefined;
}

/** Deadlines for receiving a request (its headers, then all of it), against clients that send slowly. */
const RECEIVE_TIMEOUTS = { headersTimeout: 10_000, requestTimeout: 30_000, keepAliveTimeout: 5_000 };

export type JsonServer = http.Server & {
  metrics: Metrics;
  /** Requests being answered now. */
  inFlight(): number;
  /** Answers every request still in flight with this refusal now (what is already half sent is cut). */
  abortInFlight(refusal: Refusal): void;
};

export function tokenMatches(given: string, tokens: readonly string[]): string | undefined {
  const givenBytes = Buffer.from(given);
  for (const token of tokens) {
    const tokenBytes = Buffer.from(token);
    if (tokenBytes.length === givenBytes.length && timingSafeEqual(tokenBytes, givenBytes)) return token;
  }
  return undefined;
}

/**
 * The responses being answered now, for the graceful stop. Not a Set: a long-lived Set that took and dropped a
 * response per request made V8 promote about 3 KB a request to the old space, all of it garbage soon after (the
 * service over an engine that answers after a timer tick, --trace-gc-nvp: 3.1 KB promoted and 22 µs of GC a
 * request with the Set, 0.5 KB and 6 µs with these slots; a linked list measured the same as the slots).
 */
class ResponsesInFlight {
  private readonly slots: (http.ServerResponse | undefined)[] = [];
  private readonly free: number[] = [];
  private count = 0;

  add(res: http.ServerResponse): void {
    const at = this.free.pop() ?? this.slots.length;
    this.slots[at] = res;
    this.count++;
    res.once("close", () => {
      this.slots[at] = undefined;
      this.free.push(at);
      this.count--;
    });
  }

  get size(): number {
    return this.count;
  }

  /** A copy: answering a response closes it, which frees its slot. */
  list(): http.ServerResponse[] {
    return this.slots.filter((res): res is http.ServerResponse => res !== undefined);
  }
}

/** Builds the HTTP server. `close()` it to stop accepting; requests in flight finish first. */
export function createJsonServer(options: JsonServerOptions): JsonServer {
  const inFlight = new ResponsesInFlight();
  const metricsRoute: Route = { method: "GET", pattern: /^\/metrics$/, name: "metrics", handler: () => options.metrics };
  if (options.publicMetrics) metricsRoute.public = true;
  const served: ServedOptions = { ...options, routes: [...options.routes, metricsRoute], hostsAnswered: new Map() };
  const server = http.createServer(RECEIVE_TIMEOUTS, (req, res) => {
    inFlight.add(res);
    void answerRequest(served, req, res);
  }) as JsonServer;
  server.metrics = options.metrics;
  server.inFlight = () => inFlight.size;
  server.abortInFlight = (refusal) => {
    for (const res of inFlight.list()) {
      if (res.headersSent) res.destroy();
      else res.writeHead(refusal.status, { "content-type": JSON_TYPE }).end(JSON.stringify(refusal.toBody()));
    }
  };
  return server;
}

/** The options as the server uses them: its routes with /metrics, and what it learnt of the host names it is sent. */
interface ServedOptions extends JsonServerOptions {
  /** Whether it answers to each `Host` (and `Origin` host) it was sent lately (checkCaller). */
  hostsAnswered: Map<string, boolean>;
}

// Every request pays for what this path does (measured with a backend that answers at once: the service's own
// cost per request was 45 µs over bare node:http, logging, metrics and the caller checks ~5 µs each), so it
// allocates little: one log object, no closures, no promise chain of its own, the route matched once.

/** One request: its route, token, path parameters and body, then the handler's answer or a refusal, and one log line. */
async function answerRequest(options: ServedOptions, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const { metrics, noun } = options;
  const started = performance.now();
  const header = req.headers["x-request-id"];
  const requestId = (typeof header === "string" && /^[\w.-]{1,64}$/.test(header) ? header : undefined) ?? randomUUID();
  res.setHeader("x-request-id", requestId);
  const url = requestPath(req.url);
  let routeName = "unknown";

  const finish = (status: number, text: string | Buffer, contentType: string) => {
    // Encoded once: measuring the UTF-8 length and then writing the string encoded a report twice.
    const body = typeof text === "string" ? utf8(text) : text;
    res.writeHead(status, { "content-type": contentType, "content-length": body.length });
    res.end(body);
    const ms = performance.now() - started;
    metrics.observeRequest(routeName, status, ms);
    // Fields, not a child logger: a child serialises its bindings when made, on every request.
    const fields = { req_id: requestId, method: req.method, path: url.pathname, route: routeName, status, ms: Math.round(ms * 100) / 100 };
    if (status >= 500) options.logger.error(fields, "request failed");
    else options.logger.info(fields, "request");
  };

  try {
    checkCaller(options, req);
    const { route, params } = routeFor(options.routes, req, url, res);
    routeName = route.name;
    const owner = ownerOf(options, route, req);
    const body = await readBody(req, route.body === true, options.maxBodyBytes ?? LIMITS.maxBodyBytes.default, noun);
    const request: RouteRequest = { body, context: owner === undefined ? {} : { owner }, params, requestId };
    let result: unknown;
    try {
      result = await route.handler(request);
    } catch (error) {
      // The service maps what its backend threw (the API layer: a sandbox that cannot be reached is a 502).
      const mapped = options.mapError?.(error);
      if (!mapped) throw error;
      if (mapped.status >= 500) options.logger.warn({ req_id: requestId, err: error }, mapped.message);
      throw mapped;
    }
    if (result instanceof Metrics) return finish(200, await result.render(), "text/plain; version=0.0.4; charset=utf-8");
    if (route.step) metrics.observeStep(result as ExecutionResponse, performance.now() - started);
    finish(200, wireJson(result) ?? JSON.stringify(result), JSON_TYPE);
  } catch (error) {
    // What was not read of the body is drained, so the connection stays usable.
    req.resume();
    const refusal = refusalFor(options, error, requestId);
    metrics.observeError(refusal.code);
    finish(refusal.status, JSON.stringify(refusal.toBody()), JSON_TYPE);
  }
}

const JSON_TYPE = "application/json; charset=utf-8";

/** A path WHATWG URL parsing leaves as it is: segments of letters, digits, `_` and `-`, no query. */
const PLAIN_PATH = /^(?:\/[\w-]+)+$/;

/**
 * The request's path as `new URL` reads it (dot segments resolved, percent-encoding kept). The plain paths every
 * RPC route has are taken as they are: parsing them cost ~3 µs a request.
 */
function requestPath(target: string | undefined): Pick<URL, "pathname"> {
  if (target !== undefined && PLAIN_PATH.test(target)) return { pathname: target };
  return new URL(target ?? "/", "http://service");
}

/** How long a log line may wait in the service's buffer before it is written. */
const LOG_FLUSH_MS = 200;

/** Characters of log lines gathered before they go out in one write. */
const LOG_BATCH_CHARS = 8_192;

type SonicBoom = ReturnType<typeof pino.destination>;

/**
 * Where the services' logger writes: lines gathered here and handed to pino's sonic-boom as one string. Given a
 * line at a time, sonic-boom measures its whole pending text again on every line (Buffer.byteLength of up to
 * 16 KB, which also copies the lines joined so far): a request line cost 10 µs and left its text copied several
 * times over as garbage; gathered, 6.5 µs (measured with pino, the request line's fields, a pipe to read it).
 */
class GatheredLines {
  private lines: string[] = [];
  private chars = 0;
  /** Ended (pino ends it at exit, or it hit a broken pipe): nothing more can be written. */
  private closed = false;

  constructor(private readonly destination: SonicBoom) {
    destination.once("close", () => (this.closed = true));
  }

  write(line: string): void {
    this.lines.push(line);
    this.chars += line.length;
    if (this.chars >= LOG_BATCH_CHARS) this.handOver();
  }

  /** pino's logger.flush(): what is gathered goes out now. */
  flush(done?: (error?: Error) => void): void {
    this.handOver();
    this.destination.flush(done);
  }

  /** At exit: written before the process ends. */
  flushSync(): void {
    this.handOver();
    if (!this.closed) this.destination.flushSync();
  }

  private handOver(): void {
    if (this.lines.length === 0) return;
    const text = this.lines.join("");
    this.lines = [];
    this.chars = 0;
    if (!this.closed) this.destination.write(text);
  }
}

/**
 * The services' logger: one JSON line per request, written in batches. Unbatched, each line was a write of its
 * own, an eighth of the service's CPU at 2 800 requests/s (measured); now 8 KB or more go per write, a timer
 * writes what a quiet moment leaves within LOG_FLUSH_MS, and the rest is written synchronously at exit.
 * Lines a reader waits for (listening) are flushed at once by their callers.
 */
export function serviceLogger(name: string): Logger {
  const lines = new GatheredLines(pino.destination({ sync: false, minLength: 0 }));
  setInterval(() => lines.flush(), LOG_FLUSH_MS).unref();
  process.once("exit", () => lines.flushSync());
  return pino({ name, level: process.env.LOG_LEVEL ?? "info", base: { pid: process.pid } }, lines);
}

const LOOPBACK_NAMES = new Set(["localhost", "127.0.0.1", "[::1]"]);

function answersTo(options: ServiceOptions, hostname: string): boolean {
  const name = hostname.toLowerCase();
  if (LOOPBACK_NAMES.has(name) || name === options.bindHost?.toLowerCase()) return true;
  if ((options.bindHost === "0.0.0.0" || options.bindHost === "::") && isIP(name.replace(/^\[|\]$/g, "")) !== 0) return true;
  return (options.allowedHosts ?? []).some((allowed) => allowed.toLowerCase() === name);
}

/** Host names a server remembers its answer for: the few a service is reached by, not every name it is sent. */
const HOSTS_REMEMBERED = 64;

/** Whether the service answers to the host of `authority` (a `Host` header, an origin without its scheme). */
function answersToAuthority(options: ServedOptions, authority: string): boolean {
  const known = options.hostsAnswered.get(authority);
  if (known !== undefined) return known;
  const hostname = hostnameOf(authority);
  const answers = hostname !== undefined && answersTo(options, hostname);
  if (options.hostsAnswered.size < HOSTS_REMEMBERED) options.hostsAnswered.set(authority, answers);
  return answers;
}

function hostnameOf(authority: string): string | undefined {
  try {
    return new URL(`http://${authority}`).hostname;
  } catch {
    return undefined;
  }
}

/**
 * Refuses what a browser can send on a page's behalf: a `Host` this service does not go by (DNS rebinding: a name
 * the attacker controls, pointed at this address), an `Origin` of another site, and a body that is not declared
 * JSON (a cross-site form post is `text/plain` and needs no preflight).
 */
function checkCaller(options: ServedOptions, req: http.IncomingMessage): void {
  const host = req.headers.host;
  if (host !== undefined && !answersToAuthority(options, host)) {
    throw new Refusal(
      "forbidden",
      `This service does not answer to the host name '${quoted(host)}'. A name it should answer to is set with --allowed-host (or UZONCALC_ALLOWED_HOSTS).`,
    );
  }
  const origin = req.headers.origin;
  if (origin !== undefined) {
    if (origin === "null" || !answersToAuthority(options, origin.replace(/^[a-z][\w+.-]*:\/\//i, ""))) {
      throw new Refusal(
        "forbidden",
        `Requests from the page at ${quoted(origin)} are refused: this service answers pages of its own host names only (--allowed-host).`,
      );
    }
  }
  const declared = req.headers["content-type"];
  if (declared === "application/json" || declared === JSON_TYPE) return;
  const hasBody = Number(req.headers["content-length"] ?? 0) > 0 || req.headers["transfer-encoding"] !== undefined;
  const type = (declared ?? "").split(";")[0]!.trim().toLowerCase();
  if (req.method === "POST" && hasBody && type !== "application/json") {
    throw new Refusal(
      "unsupported_media_type",
      `The request body must be JSON sent with Content-Type: application/json${type ? ` (got ${quoted(type)})` : ""}.`,
    );
  }
}

/**
 * The route for this method and path with the path's parameters, or a refusal: 404 for no such path, 400 naming
 * the methods it allows.
 */
function routeFor(
  routes: readonly Route[],
  req: http.IncomingMessage,
  url: Pick<URL, "pathname">,
  res: http.ServerResponse,
): { route: Route; params: Record<string, string> } {
  for (const route of routes) {
    if (route.method !== req.method) continue;
    const match = route.pattern.exec(url.pathname);
    if (match) return { route, params: pathParams(match, url) };
  }
  const candidates = routes.filter((r) => r.pattern.test(url.pathname));
  if (candidates.length === 0) throw new Refusal("not_found", `No route ${req.method} ${url.pathname}.`);
  const allowed = candidates.map((r) => r.method);
  res.setHeader("allow", allowed.join(", "));
  throw new Refusal("bad_request", `${req.method} is not allowed on ${url.pathname}; use ${allowed.join(" or ")}.`);
}

/** The caller's token, which owns the sessions it makes; undefined without tokens or on a public route. */
function ownerOf(options: JsonServerOptions, route: Route, req: http.IncomingMessage): string | undefined {
  const tokens = options.tokens ?? [];
  if (tokens.length === 0 || route.public) return undefined;
  const header = req.headers.authorization ?? "";
  const match = /^Bearer\s+(.+)$/i.exec(header);
  const owner = match ? tokenMatches(match[1]!.trim(), tokens) : undefined;
  if (owner) return owner;
  const noun = options.noun;
  throw new Refusal(
    "unauthorized",
    header ? `The bearer token is not accepted by ${noun}.` : `${capitalize(noun)} needs \`Authorization: Bearer <token>\`.`,
  );
}

function pathParams(match: RegExpExecArray, url: Pick<URL, "pathname">): Record<string, string> {
  if (match.groups === undefined) return {};
  try {
    return Object.fromEntries(Object.entries(match.groups).map(([key, value]) => [key, decodeURIComponent(value)]));
  } catch {
    throw new Refusal("bad_request", `The path ${url.pathname} is not valid percent-encoding.`);
  }
}

/** A refusal as thrown; anything else is a bug, logged and answered 500 without its details. */
function refusalFor(options: JsonServerOptions, error: unknown, requestId: string): Refusal {
  if (error instanceof Refusal) return error;
  options.logger.error({ req_id: requestId, err: error }, "unexpected error");
  return new Refusal("internal", `${capitalize(options.noun)} failed on this request; it has been logged.`);
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function readBody(req: http.IncomingMessage, wanted: boolean, limit: number, noun: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? NaN);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      reject(new Refusal("too_large", `The request body is ${declared} bytes; ${noun} accepts at most ${limit}.`));
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
        reject(new Refusal("too_large", `The request body is over ${limit} bytes, the most ${noun} accepts.`));
        return;
      }
      chunks.push(chunk);
    });
    req.on("error", (error) => {
      if (!failed) reject(new Refusal("bad_request", `The request body could not be read: ${error.message}`));
      failed = true;
    });
    req.on("end", () => {
      if (failed) return;
      if (!wanted || size === 0) {
        resolve(undefined);
        return;
      }
      try {
        resolve(JSON.parse((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString("utf8")));
      } catch (error) {
        reject(new Refusal("bad_request", `The request body is not valid JSON: ${(error as Error).message}`));
      }
    });
  });
}

/** Listens and answers the port actually bound (0 asks the system for one). */
export async function listen(server: http.Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  return typeof address === "object" && address ? address.port : port;
}

/**
 * Runs until SIGTERM or SIGINT: then stops accepting, lets the requests in flight finish, runs `close` (the
 * backend's shutdown) and resolves 0.
 */
export function untilSignal(server: JsonServer, logger: Logger, close: () => Promise<void>, graceMs: number): Promise<number> {
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info(
        { signal, in_flight: server.inFlight(), grace_ms: graceMs },
        "stopping: no new connections, finishing requests in flight",
      );
      server.close();
      server.closeIdleConnections();
      // A request that does not finish within the grace (a step near its limit, a client that never reads) is
      // answered 503, so a stop always ends.
      const deadline = setTimeout(() => {
        if (server.inFlight() === 0) return;
        logger.warn(
          { in_flight: server.inFlight() },
          `requests still in flight after the shutdown grace of ${graceMs} ms: answering them 503`,
        );
        server.abortInFlight(
          new Refusal(
            "unavailable",
            `The service is stopping and this request did not finish within its shutdown grace of ${graceMs} ms; send it again.`,
          ),
        );
      }, graceMs);
      const done = async () => {
        try {
          await close();
        } catch (error) {
          logger.warn({ err: error }, "shutdown of the backend failed");
        }
        logger.info("stopped");
        resolve(0);
      };
      const wait = setInterval(() => {
        server.closeIdleConnections();
        if (server.inFlight() === 0) {
          clearInterval(wait);
          clearTimeout(deadline);
          void done();
        }
      }, 20);
    };
    process.on("SIGTERM", () => stop("SIGTERM"));
    process.on("SIGINT", () => stop("SIGINT"));
    // Started by a supervisor (the permission-model re-exec) over an IPC channel: its death ends this process too.
    if (process.send) process.on("disconnect", () => stop("the supervising process went away"));
  });
}
