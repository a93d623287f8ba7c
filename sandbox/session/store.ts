// Where sessions live when they must outlive one process (SPEC §6): what it takes to continue a session, written
// before its answer goes out, so any replica can continue it by replay. The executor keeps its live sessions
// (realm, report) in memory as a cache of this; a replica knows its cached session is current when its `rev`
// equals the stored one (every step that moves a session on bumps it, atomically, in the store).
//
// Two implementations behind one interface: MemoryStore (one process; the reference the store contract tests
// run against) and RedisStore (redisStore.ts, shared by replicas).

import type { WindowSpec } from "../../protocol/fields";
import type { JsonValue } from "../../protocol/json";
import type { HtmlMode, SessionStatus, SheetError } from "../../protocol/rpc";
import type { SessionRecord } from "../../protocol/session";

/** A session as the store keeps it: a few hundred bytes while paused (no report: replay rebuilds it). */
export interface StoredSession {
  id: string;
  /** The owner's scope (a hash of its token), "" without tokens. */
  owner: string;
  /** Bumped by every commit; a cached session with another rev is stale. */
  rev: number;
  status: SessionStatus;
  created_at: number;
  updated_at: number;
  ui_steps: number;
  filename: string;
  html_mode: HtmlMode;
  window?: WindowSpec;
  /** Without the sheet's source: the bundle is stored by its hash (`sheet.hash`). Absent when the sheet failed to load. */
  record?: SessionRecord;
  /** sha256 of the report body so far: a replay elsewhere must reproduce it. */
  report_hash: string;
  /** sha256 of each resume's raw `user_input`, by step: a retry of an applied step is recognised (SPEC §6 ui_steps). */
  answers: string[];
  error?: SheetError;
  /** A finished session's answer, for a retry that lost it. */
  finished?: { html: string; value?: JsonValue; result?: string };
}

/** A bundle as stored: enough to run it and map its errors, without the files it came from. */
export interface StoredBundle {
  hash: string;
  code: string;
  scriptName: string;
  filename: string;
  origin: string;
  /** The source map, encoded (trace-mapping's `encodedMap`). */
  map: unknown;
  sources: { display: string; isEntry: boolean; isRuntime: boolean }[];
}

/** The store cannot be reached: requests that need it are refused 503 `store_unavailable`, and retried later. */
export class StoreUnavailableError extends Error {
  override readonly name = "StoreUnavailableError";
}

export interface SessionStore {
  /** What `--store` named ("memory", "redis://host:6379/0" without its password): health and errors say it. */
  readonly description: string;
  get(key: string): Promise<StoredSession | undefined>;
  /**
   * Writes `next` if the stored session's rev is `expectedRev` (undefined: no session under `key` yet), and
   * refreshes the expiry of it and its bundle. false: another request moved first, nothing was written.
   */
  commit(key: string, expectedRev: number | undefined, next: StoredSession): Promise<boolean>;
  /** Sessions of one owner, newest first. */
  list(owner: string): Promise<StoredSession[]>;
  saveBundle(bundle: StoredBundle): Promise<void>;
  loadBundle(hash: string): Promise<StoredBundle | undefined>;
  /** Throws StoreUnavailableError when the store cannot answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Sessions of one process. Values are copied in and out as JSON, so nothing a caller keeps can change what is
 * stored, exactly as with a remote store.
 */
export class MemoryStore implements SessionStore {
  readonly description = "memory";
  private readonly sessions = new Map<string, { json: string; expires: number }>();
  private readonly bundles = new Map<string, { json: string; expires: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  async get(key: string): Promise<StoredSession | undefined> {
    const entry = this.live(this.sessions, key);
    return entry ? (JSON.parse(entry) as StoredSession) : undefined;
  }

  async commit(key: string, expectedRev: number | undefined, next: StoredSession): Promise<boolean> {
    // Checked and written with no await between: the atomic step a remote store does in one script.
    const current = this.live(this.sessions, key);
    if ((current === undefined ? undefined : (JSON.parse(current) as StoredSession).rev) !== expectedRev) return false;
    const expires = this.clock() + this.ttlMs;
    this.sessions.set(key, { json: JSON.stringify(next), expires });
    const hash = next.record?.sheet.hash;
    const bundle = hash !== undefined ? this.bundles.get(hash) : undefined;
    if (bundle) bundle.expires = Math.max(bundle.expires, expires);
    return true;
  }

  async list(owner: string): Promise<StoredSession[]> {
    const found: StoredSession[] = [];
    for (const key of [...this.sessions.keys()]) {
      const session = await this.get(key);
      if (session?.owner === owner) found.push(session);
    }
    return found.sort((a, b) => b.updated_at - a.updated_at);
  }

  async saveBundle(bundle: StoredBundle): Promise<void> {
    if (!this.live(this.bundles, bundle.hash))
      this.bundles.set(bundle.hash, { json: JSON.stringify(bundle), expires: this.clock() + this.ttlMs });
  }

  async loadBundle(hash: string): Promise<StoredBundle | undefined> {
    const entry = this.live(this.bundles, hash);
    return entry ? (JSON.parse(entry) as StoredBundle) : undefined;
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.sessions.clear();
    this.bundles.clear();
  }

  private live(map: Map<string, { json: string; expires: number }>, key: string): string | undefined {
    const entry = map.get(key);
    if (!entry) return undefined;
    if (entry.expires <= this.clock()) {
      map.delete(key);
      return undefined;
    }
    return entry.json;
  }
}
