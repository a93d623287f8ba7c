import { ERROR_STATUS, type ErrorBody, type ErrorCode } from "../../protocol/rpc";

/**
 * A request the sandbox refuses (SPEC §2's 4xx). A sheet that fails is not one of these: it is answered
 * with `status: "error"` in an ExecutionResponse.
 */
export class SandboxError extends Error {
  override readonly name = "SandboxError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fields?: Record<string, string>,
  ) {
    super(message);
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  toBody(): ErrorBody {
    return { error: this.fields ? { code: this.code, message: this.message, fields: this.fields } : { code: this.code, message: this.message } };
  }
}
