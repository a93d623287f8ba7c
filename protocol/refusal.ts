// A request the sandbox refuses, in one shape from where it is decided to whoever asked: a code, a message that
// names the problem, field errors for a form (422), and a hint for what to do about it. The HTTP status comes
// from the code through one table. Every transport carries the same fields (an HTTP body, an IPC reply) and
// rebuilds this same class at the other end, so a caller checks one type whatever sandbox it talks to.
//
// A sheet that fails is not a refusal: it is a normal answer with `status: "error"`.

export const REFUSAL_STATUS = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  /** A body that is not sent as `application/json` (a browser's cross-site form post is `text/plain`). */
  unsupported_media_type: 415,
  invalid_input: 422,
  too_many_sessions: 429,
  /** The sandbox itself failed on this request (a bug or a dead part); callers see it as "unavailable". */
  internal: 500,
  /** The API layer could not get an answer from the sandbox behind it. */
  bad_gateway: 502,
  /** The service cannot answer now (it is stopping); the request may be sent again. */
  unavailable: 503,
  /** The session store (Redis) cannot be reached; the request may be sent again once it is back (SPEC §6). */
  store_unavailable: 503,
} as const;

export type RefusalCode = keyof typeof REFUSAL_STATUS;

/** The body of every refused HTTP request (SPEC §2): `{ error: { code, message, fields? } }`, `hint` an extension. */
export interface RefusalBody {
  error: { code: RefusalCode; message: string; fields?: Record<string, string>; hint?: string };
}

function isRefusalCode(value: unknown): value is RefusalCode {
  return typeof value === "string" && Object.prototype.hasOwnProperty.call(REFUSAL_STATUS, value);
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === "string");
}

export class Refusal extends Error {
  override readonly name = "Refusal";

  constructor(
    readonly code: RefusalCode,
    message: string,
    readonly fields?: Record<string, string>,
    readonly hint?: string,
  ) {
    super(message);
  }

  get status(): number {
    return REFUSAL_STATUS[this.code];
  }

  toBody(): RefusalBody {
    const error: RefusalBody["error"] = { code: this.code, message: this.message };
    if (this.fields) error.fields = this.fields;
    if (this.hint) error.hint = this.hint;
    return { error };
  }

  /**
   * The refusal a body describes, as it arrived from another process. A code this side does not know is read from
   * the status, so an older or newer peer still gives a refusal with the right status.
   */
  static fromBody(status: number, body: unknown): Refusal {
    const error = typeof body === "object" && body !== null ? (body as { error?: unknown }).error : undefined;
    const fields = typeof error === "object" && error !== null ? (error as Record<string, unknown>) : {};
    const message = typeof fields.message === "string" ? fields.message : `The sandbox answered ${status}.`;
    const code = isRefusalCode(fields.code) ? fields.code : codeForStatus(status);
    return new Refusal(
      code,
      message,
      isStringRecord(fields.fields) ? fields.fields : undefined,
      typeof fields.hint === "string" ? fields.hint : undefined,
    );
  }
}

function codeForStatus(status: number): RefusalCode {
  const entry = (Object.entries(REFUSAL_STATUS) as [RefusalCode, number][]).find(([, s]) => s === status);
  return entry?.[0] ?? (status >= 500 ? "internal" : "bad_request");
}
