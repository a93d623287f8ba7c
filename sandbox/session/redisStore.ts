// Sessions in Redis (SPEC §6), through the official client. A session is one hash {rev, state}; a commit is
// one Lua script that checks the rev and writes, so two replicas continuing one session at once apply exactly
// one step (the other sees `false` and answers 409), with no lock held in any process. Every key expires with
// the session TTL, refreshed by each commit: a session's key, its owner's index and the bundle it runs.
//
// The client does not queue commands while disconnected (`disableOfflineQueue`): a request answers 503
// `store_unavailable` at once instead of hanging, and the client reconnects by itself when Redis is back.

import { createClient } from "redis";
import { withDeadline } from "../deadline";
import { StoreUnavailableError, type SessionStore, type StoredBundle, type StoredSession } from "./store";

const COMMIT = `
local current = redis.call('HGET', KEYS[1], 'rev')
if current == false then current = '' end
if current ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'rev', ARGV[2], 'state', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[7])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
if redis.call('EXISTS', KEYS[3]) == 1 then redis.call('PEXPIRE', KEYS[3], ARGV[4]) end
return 1
`;

/** How long one store call may take before the request is answered 503 (a Redis that hangs must not hang us). */
const CALL_TIMEOUT_MS = 3_000;

export interface RedisStoreOptions {
  url: string;
  ttlMs: number;
  /** Key prefix, so several services can share one Redis. Default "uzc:". */
  prefix?: string;
  log?: (level: "info" | "warn", message: string) => void;
}

export class RedisStore implements SessionStore {
  readonly description: string;
  private readonly client;
  private readonly prefix: string;
  private readonly ttlMs: number;
  private lastError = "";

  constructor(options: RedisStoreOptions) {
    this.description = describeUrl(options.url);
    this.prefix = options.prefix ?? "uzc:";
    this.ttlMs = options.ttlMs;
    this.client = createClient({
      url: options.url,
      disableOfflineQueue: true,
      socket: { connectTimeout: CALL_TIMEOUT_MS, reconnectStrategy: (retries: number) => Math.min(100 * (retries + 1), 2_000) },
    });
    // Without a listener an error event would end the process; a dropped connection is logged once per cause.
    this.client.on("error", (error: Error) => {
      if (error.message === this.lastError) return;
      this.lastError = error.message;
      options.log?.("warn", `session store ${this.description}: ${error.message}`);
    });
    this.client.on("ready", () => {
      if (this.lastError) options.log?.("info", `session store ${this.description}: connected again`);
      this.lastError = "";
    });
  }

  /**
   * Starts connecting and waits up to `waitMs` for the connection, so a service that says it listens can use its
   * store at once. A Redis that is down does not stop the service: it answers 503 until Redis is up.
   */
  async connect(waitMs = 0): Promise<void> {
    const ready = new Promise<void>((resolve) => this.client.once("ready", () => resolve()));
    this.client.connect().catch(() => undefined);
    await withDeadline(ready, waitMs, () => new Error("not connected yet")).catch(() => undefined);
  }

  async get(key: string): Promise<StoredSession | undefined> {
    const state = await this.call(() => this.client.hGet(this.sessionKey(key), "state"));
    return state ? (JSON.parse(state) as StoredSession) : undefined;
  }

  async commit(key: string, expectedRev: number | undefined, next: StoredSession): Promise<boolean> {
    const now = Date.now();
    const result = await this.call(() =>
      this.client.eval(COMMIT, {
        keys: [this.sessionKey(key), this.ownerKey(next.owner), this.bundleKey(next.record?.sheet.hash ?? "-")],
        arguments: [
          expectedRev === undefined ? "" : String(expectedRev),
          String(next.rev),
          JSON.stringify(next),
          String(this.ttlMs),
          String(now),
          key,
          String(now - this.ttlMs),
        ],
      }),
    );
    return result === 1;
  }

  async list(owner: string): Promise<StoredSession[]> {
    const keys = await this.call(() => this.client.zRange(this.ownerKey(owner), 0, -1, { REV: true }));
    const states = await this.call(() => Promise.all(keys.map((key) => this.client.hGet(this.sessionKey(key), "state"))));
    return states.filter((s): s is string => typeof s === "string").map((s) => JSON.parse(s) as StoredSession);
  }

  async saveBundle(bundle: StoredBundle): Promise<void> {
    await this.call(() => this.client.set(this.bundleKey(bundle.hash), JSON.stringify(bundle), { NX: true, PX: this.ttlMs }));
  }

  async loadBundle(hash: string): Promise<StoredBundle | undefined> {
    const json = await this.call(() => this.client.get(this.bundleKey(hash)));
    return json ? (JSON.parse(json) as StoredBundle) : undefined;
  }

  async ping(): Promise<void> {
    await this.call(() => this.client.ping());
  }

  async close(): Promise<void> {
    if (this.client.isOpen) await this.client.quit().catch(() => this.client.destroy());
  }

  private sessionKey(key: string): string {
    return `${this.prefix}s:${key}`;
  }

  private ownerKey(owner: string): string {
    return `${this.prefix}o:${owner}`;
  }

  private bundleKey(hash: string): string {
    return `${this.prefix}b:${hash}`;
  }

  /** One store call, bounded in time; any failure to reach Redis is StoreUnavailableError. */
  private async call<T>(operation: () => Promise<T>): Promise<T> {
    if (!this.client.isReady) throw new StoreUnavailableError(`not connected${this.lastError ? ` (${this.lastError})` : ""}`);
    try {
      return await withDeadline(operation(), CALL_TIMEOUT_MS, () => new StoreUnavailableError(`no answer within ${CALL_TIMEOUT_MS} ms`));
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      throw new StoreUnavailableError(error instanceof Error ? error.message : String(error));
    }
  }
}

/** The URL as health and errors show it: without its password. */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString().replace(/\/$/, "");
  } catch {
    return "redis (unparsable URL)";
  }
}
