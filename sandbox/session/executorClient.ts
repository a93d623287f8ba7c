// A SandboxClient over an Executor in this process: the API layer's in-process deployment and the CLI's local
// runs. Requests go to the executor's handlers as they are: it parses them and refuses what it refuses, the same
// Refusal a remote caller gets.

import type { AnswerOf, PublicMethod, RequestOf } from "../../protocol/methods";
import { RpcClient } from "../connect/sandboxClient";
import type { Executor, RequestContext } from "./executor";

export class ExecutorClient extends RpcClient {
  constructor(
    private readonly executor: Executor,
    private readonly context: RequestContext = {},
  ) {
    super();
  }

  override call<M extends PublicMethod>(method: M, request: RequestOf<M>): Promise<AnswerOf<M>> {
    return this.executor[method](request, this.context);
  }

  override async dispose(): Promise<void> {
    await this.executor.close();
  }
}
