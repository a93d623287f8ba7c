// A SandboxClient for a sandbox service over HTTP(S) (SPEC §2). It uses node's http(s) Agent with keep-alive:
// in VS Code's extension host that keeps VS Code's proxy and certificate support, which undici's Pool bypasses
// (traps.md item 15).

import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as path from "node:path";
import type { ErrorBody, ErrorCode, ExecuteRequest, ResumeRequest } from "../../protocol/rpc";
import { ERROR_STATUS } from "../../protocol/rpc";
import { SandboxRequestError, SandboxUnavailableError, type SandboxClient } from "./sandboxClient";

export interface RemoteSandboxOptions {
  /** e.g. http://127.0.0.1:3346 or https://calc.example.com/sandbox-root */
  url: string;
  token?: string;
  /** Per-request deadline. Default 60 s (a step may run up to the server's step limit). */
  timeoutMs?: number;
  /** `sandbox` (default): the sandbox RPC of SPEC §2. `api`: the API layer of SPEC §3, same bodies. */
  flavor?: "sandbox" | "api";
  /**
   * Send `file_path` as is, for a service that shares the disk (the API layer in front of its sandbox, both
   * mounting the same calc files). Default false: a file sheet is read here and sent as `source` + `files`.
   */
  passFilePaths?: boolean;
  /**
   * Ask for `html_mode: "delta"` when the request names no mode. Default true; false forwards the mode as given
   * (the API layer relaying its callers, whose sessions keep the mode they chose).
   */
  askDeltas?: boolean;
}

const ROUTES = {
  sandbox: { execute: "sandbox/execute", resume: "sandbox/resume", cancel: "sandbox/cancel", session: "sandbox/session/", sessions: "sandbox/sessions", health: "sandbox/health", invalidate: "sandbox/invalidate-cache" },
  api: { execute: "v1/calc/execution/start", resume: "v1/calc/execution/resume", cancel: "v1/calc/execution/cancel", session: "v1/calc/execution/status/", sessions: "v1/calc/execution/sessions", health: "v1/calc/execution/health", invalidate: "v1/calc/execution/invalidate-cache" },
} as const;

const SHEET_EXTENSIONS = [".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs"];

/**
 * The sheet's local imports, read from the user's disk, by path relative to the sheet: a remote sandbox cannot
 * read that disk. Follows relative imports transitively; bare imports are left for the sandbox to refuse.
 */
export function collectLocalImports(sheetPath: string): Record<string, string> {
  const root = path.dirname(sheetPath);
  const files: Record<string, string> = {};
  const seen = new Set<string>([path.resolve(sheetPath)]);
  const queue = [path.resolve(sheetPath)];
  const importPattern = /(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|import\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;
  while (queue.length > 0) {
    const file = queue.shift()!;
    const text = fs.readFileSync(file, "utf8");
    for (const match of text.matchAll(importPattern)) {
      const specifier = match[1] ?? match[2] ?? match[3];
      if (!specifier || !(specifier.startsWith("./") || specifier.startsWith("../"))) continue;
      const base = path.resolve(path.dirname(file), specifier);
      const candidates = [base, ...SHEET_EXTENSIONS.map((e) => base + e), ...SHEET_EXTENSIONS.map((e) => path.join(base, "index" + e))];
      const found = candidates.find((c) => fs.existsSync(c) && fs.statSync(c).isFile());
      if (!found || seen.has(found)) continue;
      seen.add(found);
      queue.push(found);
      files[path.relative(root, found).split(path.sep).join("/")] = fs.readFileSync(found, "utf8");
    }
  }
  return files;
}

export class RemoteSandboxClient implements SandboxClient {
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly timeoutMs: number;
  private readonly routes: (typeof ROUTES)["sandbox" | "api"];

  constructor(private readonly options: RemoteSandboxOptions) {
    let base: URL;
    try {
      base = new URL(options.url);
    } catch {
      throw new SandboxUnavailableError(`The sandbox URL "${options.url}" is not a valid URL.`, "Set uzoncalc.sandbox.remoteUrl to something like http://127.0.0.1:3346.", "unreachable");
    }
    if (base.protocol !== "http:" && base.protocol !== "https:") {
      throw new SandboxUnavailableError(`The sandbox URL "${options.url}" must start with http:// or https://.`, "Set uzoncalc.sandbox.remoteUrl to an http(s) address.", "unreachable");
    }
    if (!base.pathname.endsWith("/")) base.pathname += "/";
    this.base = base;
    this.agent = base.protocol === "https:" ? new https.Agent({ keepAlive: true, maxSockets: 64 }) : new http.Agent({ keepAlive: true, maxSockets: 64 });
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.routes = ROUTES[options.flavor ?? "sandbox"];
  }

  /**
   * Runs a sheet. A `file_path` request is turned into `source` + `files` read here, because the remote service
   * cannot see this machine's disk.
   */
  execute(request: ExecuteRequest) {
    let body: ExecuteRequest = this.options.askDeltas === false ? request : { html_mode: "delta", ...request };
    if (request.file_path !== undefined && request.source === undefined && !this.options.passFilePaths) {
      const { file_path: filePath, ...rest } = body;
      body = { ...rest, source: fs.readFileSync(filePath!, "utf8"), filename: request.filename ?? path.basename(filePath!), files: { ...collectLocalImports(filePath!), ...request.files } };
    }
    return this.request<import("../../protocol/rpc").ExecutionResponse>("POST", this.routes.execute, body);
  }
  resume(request: ResumeRequest) {
    return this.request<import("../../protocol/rpc").ExecutionResponse>("POST", this.routes.resume, this.options.askDeltas === false ? request : { html_mode: "delta", ...request });
  }
  cancel(sessionId: string) {
    return this.request<import("../../protocol/rpc").CancelResponse>("POST", this.routes.cancel, { session_id: sessionId });
  }
  getSession(sessionId: string) {
    return this.request<import("../../protocol/rpc").SessionInfo>("GET", `${this.routes.session}${encodeURIComponent(sessionId)}`);
  }
  listSessions() {
    return this.request<import("../../protocol/rpc").SessionListResponse>("GET", this.routes.sessions);
  }
  health() {
    return this.request<import("../../protocol/rpc").HealthResponse>("GET", this.routes.health);
  }
  invalidateCache(filePath?: string) {
    return this.request<import("../../protocol/rpc").InvalidateCacheResponse>("POST", this.routes.invalidate, filePath === undefined ? {} : { file_path: filePath });
  }
  async dispose(): Promise<void> {
    this.agent.destroy();
  }

  private request<T>(method: "GET" | "POST", route: string, body?: unknown): Promise<T> {
    const url = new URL(route, this.base);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: http.OutgoingHttpHeaders = { accept: "application/json" };
    if (payload !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = Buffer.byteLength(payload);
    }
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
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
            reject(new SandboxUnavailableError(`The sandbox at ${this.base.origin} answered ${status} with something that is not JSON.`, "Check that uzoncalc.sandbox.remoteUrl points at a UzonCalc sandbox, not another web server.", "protocol"));
            return;
          }
          if (status >= 200 && status < 300) resolve(data as T);
          else reject(this.refusal(status, data));
        });
      });
      req.on("timeout", () => req.destroy(new SandboxUnavailableError(`The sandbox at ${this.base.origin} did not answer within ${Math.round(this.timeoutMs / 1000)} s.`, "Check the service is running and not overloaded; long steps are limited by its step time limit.", "timeout")));
      req.on("error", (error) => reject(error instanceof SandboxUnavailableError ? error : this.unreachable(error)));
      req.end(payload);
    });
  }

  private unreachable(error: Error & { code?: string }): SandboxUnavailableError {
    const where = this.base.origin;
    if (error.code === "ECONNREFUSED") return new SandboxUnavailableError(`Nothing is listening at ${where}.`, "Start the sandbox service (uzoncalc serve), fix the sandbox URL (uzoncalc.sandbox.remoteUrl, or --sandbox-url), or switch to the local sandbox.", "unreachable");
    if (error.code === "ENOTFOUND" || error.code === "EAI_AGAIN") return new SandboxUnavailableError(`The host of ${where} cannot be found.`, "Fix uzoncalc.sandbox.remoteUrl, or switch to the local sandbox.", "unreachable");
    if (error.code === "ECONNRESET" || error.code === "EPIPE") return new SandboxUnavailableError(`The connection to ${where} was cut.`, "The service may have restarted; run the sheet again.", "unreachable");
    if (error.code?.startsWith("CERT_") || error.code === "DEPTH_ZERO_SELF_SIGNED_CERT" || error.code === "UNABLE_TO_VERIFY_LEAF_SIGNATURE") return new SandboxUnavailableError(`The certificate of ${where} is not trusted (${error.code}).`, "Install the service's certificate authority, or ask the team lead for the right URL.", "unreachable");
    return new SandboxUnavailableError(`Could not reach the sandbox at ${where}: ${error.message}`, "Check the URL and your network, or switch to the local sandbox.", "unreachable");
  }

  private refusal(status: number, data: unknown): Error {
    const error = (data as Partial<ErrorBody> | undefined)?.error;
    const message = typeof error?.message === "string" ? error.message : `The sandbox answered ${status}.`;
    if (status >= 500) return new SandboxUnavailableError(`The sandbox service failed (${status}): ${message}`, "This is a problem on the service's side; its logs have the request id. Try again, or switch to the local sandbox.", "server");
    const code = (typeof error?.code === "string" && error.code in ERROR_STATUS ? error.code : codeForStatus(status)) as ErrorCode;
    if (status === 401) return new SandboxRequestError(code, status, `${message} Set the token with "UzonCalc: Set Remote Sandbox Token" in VS Code, or UZONCALC_TOKEN for the CLI.`, error?.fields);
    if (status === 404 && code === "not_found" && /session/i.test(message)) return new SandboxRequestError(code, status, `${message} Run the sheet again to start a new session.`, error?.fields);
    return new SandboxRequestError(code, status, message, error?.fields);
  }
}

function codeForStatus(status: number): ErrorCode {
  const entry = Object.entries(ERROR_STATUS).find(([, s]) => s === status);
  return (entry?.[0] ?? "bad_request") as ErrorCode;
}
