// The one way the extension, the CLI and the API layer talk to a sandbox, wherever it runs: a child process over
// IPC (LocalSandboxClient), a remote service over HTTP (RemoteSandboxClient), or this process (ExecutorClient,
// on the sandbox side only). A client has one function per method of the RPC table (protocol/methods.ts); a
// transport implements `call` once and gets them all. The two the extension uses import no node:vm: sheets never
// run in the extension host.
//
// What can go wrong has two shapes: the sandbox refused the request (a Refusal, protocol/refusal.ts: the same
// class whichever transport carried it), or no answer came at all (SandboxUnavailableError, below).

import { CLIENT_HTML_MODE } from "../../protocol/limits";
import { PUBLIC_METHODS, SANDBOX_RPC, type AnswerOf, type PublicMethod, type RequestOf } from "../../protocol/methods";

/** `client.execute(request)`, `client.health()`: a method of the table whose request may be left out takes none. */
export type SandboxCalls = {
  readonly [M in PublicMethod]: Record<never, never> extends RequestOf<M>
    ? (request?: RequestOf<M>) => Promise<AnswerOf<M>>
    : (request: RequestOf<M>) => Promise<AnswerOf<M>>;
};

/** What a relay passes along with a request: the id its own caller's request is logged under. */
export interface CallOptions {
  requestId?: string;
}

export interface SandboxClient extends SandboxCalls {
  /** Any method of the table by name: what a relay (the API layer) uses. */
  call<M extends PublicMethod>(method: M, request: RequestOf<M>, options?: CallOptions): Promise<AnswerOf<M>>;
  dispose(): Promise<void>;
}

abstract class ClientBase {
  /** Sends one request over this transport and answers its answer, or throws a Refusal or SandboxUnavailableError. */
  abstract call<M extends PublicMethod>(method: M, request: RequestOf<M>, options?: CallOptions): Promise<AnswerOf<M>>;
  abstract dispose(): Promise<void>;
}

// Each method of the table becomes a function of every client, so a new method needs no edit here.
for (const method of PUBLIC_METHODS) {
  Object.defineProperty(ClientBase.prototype, method, {
    value(this: ClientBase, request: object = {}) {
      return this.call(method, request as RequestOf<typeof method>);
    },
    writable: true,
    configurable: true,
  });
}

/** The base class of every SandboxClient: a subclass implements `call` and `dispose`. */
export const RpcClient = ClientBase as unknown as abstract new () => ClientBase & SandboxClient;

/**
 * The sandbox could not be reached or failed on its side (connection refused, timeout, 5xx, a dead child).
 * `hint` says what the user can do about it.
 */
export class SandboxUnavailableError extends Error {
  override readonly name = "SandboxUnavailableError";
  constructor(
    message: string,
    readonly hint: string,
    readonly kind: "unreachable" | "timeout" | "server" | "crashed" | "protocol",
  ) {
    super(message);
  }
}

/**
 * A request as the product's own clients send it: a step that names no `html_mode` asks for deltas
 * (protocol/limits.ts CLIENT_HTML_MODE), so a long report does not travel again on every step.
 */
export function withClientDefaults<M extends PublicMethod>(method: M, request: RequestOf<M>): RequestOf<M> {
  if (!SANDBOX_RPC[method].step || (request as { html_mode?: unknown }).html_mode !== undefined) return request;
  return { ...request, html_mode: CLIENT_HTML_MODE };
}
