// The sandbox RPC as one table: each method's name, its routes on the two HTTP faces (SPEC §2 `/sandbox/*` and
// §3 `/v1/calc/execution/*`), how an untrusted request is parsed, and (in SandboxMethods) its request and answer
// types. The HTTP services build their routes from it, the local child's IPC messages are its methods, and
// every client gets one function per method from it. Adding a method is one entry here and its handler in the
// executor; the compiler points at any transport that has not learnt it.

import { Refusal } from "./refusal";
import {
  parseExecuteRequest,
  parseInvalidateCacheRequest,
  parseNoRequest,
  parsePrepareRequest,
  parseStudyRequest,
  parseResumeRequest,
  parseSessionRequest,
  type CancelResponse,
  type ExecuteRequest,
  type ExecutionResponse,
  type HealthResponse,
  type InvalidateCacheRequest,
  type InvalidateCacheResponse,
  type NoRequest,
  type Parsed,
  type PrepareRequest,
  type PrepareResponse,
  type ResumeRequest,
  type SessionInfo,
  type SessionListResponse,
  type SessionRequest,
  type StudyRequest,
  type StudyResponse,
} from "./rpc";
import { parseReplayRequest, type ReplayRequest } from "./session";

export interface SandboxMethods {
  execute: { request: ExecuteRequest; answer: ExecutionResponse };
  resume: { request: ResumeRequest; answer: ExecutionResponse };
  cancel: { request: SessionRequest; answer: CancelResponse };
  getSession: { request: SessionRequest; answer: SessionInfo };
  listSessions: { request: NoRequest; answer: SessionListResponse };
  health: { request: NoRequest; answer: HealthResponse };
  invalidateCache: { request: InvalidateCacheRequest; answer: InvalidateCacheResponse };
  replay: { request: ReplayRequest; answer: ExecutionResponse };
  prepare: { request: PrepareRequest; answer: PrepareResponse };
  study: { request: StudyRequest; answer: StudyResponse };
}

export type MethodName = keyof SandboxMethods;
export type RequestOf<M extends MethodName> = SandboxMethods[M]["request"];
export type AnswerOf<M extends MethodName> = SandboxMethods[M]["answer"];

/** The two HTTP faces: the sandbox RPC (`uzoncalc serve`) and the API layer (`uzoncalc api`). */
export type HttpFace = "sandbox" | "api";
export const FACE_PREFIX: Record<HttpFace, string> = { sandbox: "/sandbox", api: "/v1/calc/execution" };

/** A route under a face's prefix: `{session_id}` in the path fills that field of the request. */
export interface HttpRoute {
  verb: "GET" | "POST";
  path: string;
}

export interface MethodSpec<M extends MethodName> {
  /** Routes on each face; the first is the one clients call. None: the method is the local child's only. */
  routes: Record<HttpFace, readonly HttpRoute[]>;
  parse(input: unknown): Parsed<RequestOf<M>>;
  /** Answered without a token (SPEC §2: health). */
  public?: true;
  /** Answers an ExecutionResponse: counted in the step metrics. */
  step?: true;
}

const post = (path: string): HttpRoute => ({ verb: "POST", path });
const get = (path: string): HttpRoute => ({ verb: "GET", path });

export const SANDBOX_RPC: { readonly [M in MethodName]: MethodSpec<M> } = {
  execute: { routes: { sandbox: [post("/execute")], api: [post("/start")] }, parse: parseExecuteRequest, step: true },
  resume: { routes: { sandbox: [post("/resume")], api: [post("/resume")] }, parse: parseResumeRequest, step: true },
  // The id in the path is how the seed's own Python client cancels (`POST /sandbox/cancel/{id}`, no body).
  cancel: {
    routes: { sandbox: [post("/cancel"), post("/cancel/{session_id}")], api: [post("/cancel"), post("/cancel/{session_id}")] },
    parse: parseSessionRequest,
  },
  getSession: { routes: { sandbox: [get("/session/{session_id}")], api: [get("/status/{session_id}")] }, parse: parseSessionRequest },
  listSessions: { routes: { sandbox: [get("/sessions")], api: [get("/sessions")] }, parse: parseNoRequest },
  health: { routes: { sandbox: [get("/health")], api: [get("/health")] }, parse: parseNoRequest, public: true },
  invalidateCache: {
    routes: { sandbox: [post("/invalidate-cache")], api: [post("/invalidate-cache")] },
    parse: parseInvalidateCacheRequest,
  },
  // Trusted: it fixes a session's seed and clock. Only the local child answers it, over its IPC channel.
  replay: { routes: { sandbox: [], api: [] }, parse: parseReplayRequest },
  // The editor's warm-up of the sheet it has open: only its own local child answers it.
  prepare: { routes: { sandbox: [], api: [] }, parse: parsePrepareRequest },
  // The editor's Run Study: the child runs the cases and writes the study's files in the workspace.
  study: { routes: { sandbox: [], api: [] }, parse: parseStudyRequest },
};

export const METHOD_NAMES = Object.keys(SANDBOX_RPC) as MethodName[];

/** The methods every sandbox answers, over HTTP as over IPC: what a client offers. */
export type PublicMethod = Exclude<MethodName, "replay" | "prepare" | "study">;
export const PUBLIC_METHODS = METHOD_NAMES.filter((m): m is PublicMethod => SANDBOX_RPC[m].routes.sandbox.length > 0);

export function isPublicMethod(method: MethodName): method is PublicMethod {
  return (PUBLIC_METHODS as readonly MethodName[]).includes(method);
}

export function isMethodName(value: unknown): value is MethodName {
  return typeof value === "string" && Object.prototype.hasOwnProperty.call(SANDBOX_RPC, value);
}

/** The request an untrusted input stands for, or a 400 refusal naming what is wrong with it. */
export function parseRequest<M extends MethodName>(method: M, input: unknown): RequestOf<M> {
  const parsed = SANDBOX_RPC[method].parse(input);
  if (!parsed.ok) throw new Refusal("bad_request", parsed.message);
  return parsed.value;
}

/** The path parameters a route names (`{session_id}`), in order. */
export function routeParams(route: HttpRoute): string[] {
  return [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
}

/** A route's full path on a face with its parameters filled from the request (percent-encoded). */
export function routePath(face: HttpFace, route: HttpRoute, request: object): string {
  const fields = request as Record<string, unknown>;
  return FACE_PREFIX[face] + route.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(String(fields[name] ?? "")));
}

/** The name a route goes by in logs and metrics: its first path segment (`execute`, `start`, `session`). */
export function routeName(route: HttpRoute): string {
  return route.path.split("/")[1] ?? route.path;
}
