// A SandboxClient for a sandbox service over HTTP(S) (SPEC §2). It uses node's http(s) Agent with keep-alive:
// in VS Code's extension host that keeps VS Code's proxy and certificate support, which undici's Pool bypasses
// (traps.md item 15).

import * as http from "node:http";
import * as https from "node:https";
import { REMOTE_ANSWER_TIMEOUT_MS } from "../../protocol/limits";
import {
  SANDBOX_RPC,
  routeParams,
  routePath,
  type AnswerOf,
  type HttpFace,
  type PublicMethod,
  type RequestOf,
} from "../../protocol/methods";
import { Refusal } from "../../protocol/refusal";
import type { ExecuteRequest } from "../../protocol/rpc";
import { readSavedSheet } from "./savedSheet";
import { RpcClient, SandboxUnavailableError, withClientDefaults, type CallOptions } from "./sandboxClient";

export interface RemoteSandboxOptions {
  /** e.g. http://127.0.0.1:3346 or https://calc.example.com/sandbox-root */
  url: string;
  token?: string;
  /** Per-request deadline. Default REMOTE_ANSWER_TIMEOUT_MS (a step may run up to the server's own limit). */
  timeoutMs?: number;
  /** `sandbox` (default): the sandbox RPC of SPEC §2. `api`: the API layer of SPEC §3, same bodies. */
  flavor?: HttpFace;
  /**
   * Pass requests on exactly as given, for a service in front of its sandbox (the API layer): `file_path` goes as
   * is (both mount the same calc files) and `html_mode` stays the caller's. Default false: a file sheet is read
   * here and sent as `source` + `files` (the service cannot see this disk), and steps ask for deltas.
   */
  relay?: boolean;
  /** The folders a file sheet's imports may be sent from. Default: the sheet's own folder. */
  sendFrom?: readonly string[];
}

export class RemoteSandboxClient extends RpcClient {
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly timeoutMs: number;
  private readonly flavor: HttpFace;

  constructor(private readonly options: RemoteSandboxOptions) {
    super();
    let base: URL;
    try {
      base = new URL(options.url);
    } catch {
      throw new SandboxUnavailableError(
        `The sandbox URL "${options.url}" is not a valid URL.`,
        "Set uzoncalc.sandbox.remoteUrl to something like http://127.0.0.1:3346.",
        "unreachable",
      );
    }
    if (base.protocol !== "http:" && base.protocol !== "https:") {
      throw new SandboxUnavailableError(
        `The sandbox URL "${options.url}" must start with http:// or https://.`,
        "Set uzoncalc.sandbox.remoteUrl to an http(s) address.",
        "unreachable",
      );
    }
    if (!base.pathname.endsWith("/")) base.pathname += "/";
    this.base = base;
    this.agent =
      base.protocol === "https:"
        ? new https.Agent({ keepAlive: true, maxSockets: 64 })
        : new http.Agent({ keepAlive: true, maxSockets: 64 });
    this.timeoutMs = options.timeoutMs ?? REMOTE_ANSWER_TIMEOUT_MS;
    this.flavor = options.flavor ?? "sandbox";
  }

  override async call<M extends PublicMethod>(method: M, request: RequestOf<M>, options: CallOptions = {}): Promise<AnswerOf<M>> {
    const route = SANDBOX_RPC[method].routes[this.flavor][0]!;
    let body: object = this.options.relay ? request : withClientDefaults(method, request);
    if (method === "execute" && !this.options.relay) body = this.sendable(body as ExecuteRequest);
    // The path carries its parameters; a POST's body carries the rest.
    const inPath = routeParams(route);
    const rest = Object.fromEntries(Object.entries(body).filter(([key]) => !inPath.includes(key)));
    // Relative to the base URL, which may have a path of its own.
    const sessionId = (body as { session_id?: unknown }).session_id;
    return this.request<AnswerOf<M>>(route.verb, routePath(this.flavor, route, body).slice(1), route.verb === "POST" ? rest : undefined, {
      ...(options.requestId !== undefined ? { requestId: options.requestId } : {}),
      ...(typeof sessionId === "string" ? { sessionId } : {}),
    });
  }

  override async dispose(): Promise<void> {
    this.agent.destroy();
  }

  /** A file sheet becomes its saved text and imports, because the remote service cannot see this machine's disk. */
  private sendable(request: ExecuteRequest): ExecuteRequest {
    if (request.file_path === undefined || request.source !== undefined) return request;
    const { file_path: filePath, ...rest } = request;
    const saved = readSavedSheet(filePath, this.options.sendFrom);
    return { ...rest, ...saved, filename: request.filename ?? saved.filename, files: { ...saved.files, ...request.files } };
  }

  /**
   * `requestId`: sent as x-request-id, so the sandbox logs the request under the id its caller's request has.
   * `sessionId`: sent as x-uzoncalc-session, a hint a proxy in front of replicas may route by (deploy/nginx), so a
   * session's steps reach the replica that holds its realm; any replica still answers without it.
   */
  private request<T>(
    method: "GET" | "POST",
    route: string,
    body?: unknown,
    hints: { requestId?: string; sessionId?: string } = {},
  ): Promise<T> {
    const url = new URL(route, this.base);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: http.OutgoingHttpHeaders = { accept: "application/json" };
    if (payload !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = Buffer.byteLength(payload);
    }
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    if (hints.requestId !== undefined) headers["x-request-id"] = hints.requestId;
    if (hints.sessionId !== undefined) headers["x-uzoncalc-session"] = hints.sessionId;
    const transport = url.protocol === "https:" ? https : http;
    return new Promise<T>((resolve, reject) => {
      const req = transport.request(url, { method, headers, agent: this.agent, timeout: this.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", (error) => reject(this.unreachable(error)));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          const status = res.statusCode ?? 0;
          let data: unknown;
          try {
            data = text === "" ? undefined : JSON.parse(text);
          } catch {
            reject(
              new SandboxUnavailableError(
                `The sandbox at ${this.base.origin} answered ${status} with something that is not JSON.`,
                "Check that uzoncalc.sandbox.remoteUrl points at a UzonCalc sandbox, not another web server.",
                "protocol",
              ),
            );
            return;
          }
          if (status >= 200 && status < 300) resolve(data as T);
          else reject(this.refusal(status, data));
        });
      });
      req.on("timeout", () =>
        req.destroy(
          new SandboxUnavailableError(
            `The sandbox at ${this.base.origin} did not answer within ${Math.round(this.timeoutMs / 1000)} s.`,
            "Check the service is running and not overloaded; long steps are limited by its step time limit.",
            "timeout",
          ),
        ),
      );
      req.on("error", (error) => reject(error instanceof SandboxUnavailableError ? error : this.unreachable(error)));
      req.end(payload);
    });
  }

  private unreachable(error: Error & { code?: string }): SandboxUnavailableError {
    const where = this.base.origin;
    if (error.code === "ECONNREFUSED")
      return new SandboxUnavailableError(
        `Nothing is listening at ${where}.`,
        "Start the sandbox service (uzoncalc serve), fix the sandbox URL (uzoncalc.sandbox.remoteUrl, or --sandbox-url), or switch to the local sandbox.",
        "unreachable",
      );
    if (error.code === "ENOTFOUND" || error.code === "EAI_AGAIN")
      return new SandboxUnavailableError(
        `The host of ${where} cannot be found.`,
        "Fix uzoncalc.sandbox.remoteUrl, or switch to the local sandbox.",
        "unreachable",
      );
    if (error.code === "ECONNRESET" || error.code === "EPIPE")
      return new SandboxUnavailableError(
        `The connection to ${where} was cut.`,
        "The service may have restarted; run the sheet again.",
        "unreachable",
      );
    if (error.code?.startsWith("CERT_") || error.code === "DEPTH_ZERO_SELF_SIGNED_CERT" || error.code === "UNABLE_TO_VERIFY_LEAF_SIGNATURE")
      return new SandboxUnavailableError(
        `The certificate of ${where} is not trusted (${error.code}).`,
        "Install the service's certificate authority, or ask the team lead for the right URL.",
        "unreachable",
      );
    return new SandboxUnavailableError(
      `Could not reach the sandbox at ${where}: ${error.message}`,
      "Check the URL and your network, or switch to the local sandbox.",
      "unreachable",
    );
  }

  private refusal(status: number, data: unknown): Error {
    const refusal = Refusal.fromBody(status, data);
    if (status >= 500)
      return new SandboxUnavailableError(
        `The sandbox service failed (${status}): ${refusal.message}`,
        "This is a problem on the service's side; its logs have the request id. Try again, or switch to the local sandbox.",
        "server",
      );
    const advice =
      status === 401
        ? ` Set the token with "UzonCalc: Set Remote Sandbox Token" in VS Code, or UZONCALC_TOKEN for the CLI.`
        : refusal.code === "not_found" && /session/i.test(refusal.message)
          ? " Run the sheet again to start a new session."
          : "";
    return advice === "" ? refusal : new Refusal(refusal.code, refusal.message + advice, refusal.fields, refusal.hint);
  }
}
