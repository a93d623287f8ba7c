// A SandboxClient over an Executor in this process: for the API layer's in-process deployment and for the
// sandbox child's own dispatch. Maps the executor's SandboxError to the client-side SandboxRequestError.

import type { ExecuteRequest, ResumeRequest } from "../../protocol/rpc";
import { SandboxError } from "./errors";
import type { Executor, RequestContext } from "./executor";
import { SandboxRequestError, type SandboxClient } from "../connect/sandboxClient";

export class ExecutorClient implements SandboxClient {
  constructor(
    private readonly executor: Executor,
    private readonly context: RequestContext = {},
  ) {}

  execute(request: ExecuteRequest) {
    return this.call(() => this.executor.execute(request, this.context));
  }
  resume(request: ResumeRequest) {
    return this.call(() => this.executor.resume(request, this.context));
  }
  cancel(sessionId: string) {
    return this.call(() => this.executor.cancel({ session_id: sessionId }, this.context));
  }
  getSession(sessionId: string) {
    return this.call(() => this.executor.getSession(sessionId, this.context));
  }
  listSessions() {
    return this.call(() => this.executor.listSessions(this.context));
  }
  health() {
    return this.call(() => this.executor.health());
  }
  invalidateCache(filePath?: string) {
    return this.call(() => this.executor.invalidateCache(filePath === undefined ? {} : { file_path: filePath }));
  }
  async dispose(): Promise<void> {
    await this.executor.close();
  }

  private async call<T>(work: () => T | Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof SandboxError) throw new SandboxRequestError(error.code, error.status, error.message, error.fields);
      throw error;
    }
  }
}
