// Prometheus metrics of the sandbox service and the API layer: sessions by status, steps, step durations, errors
// by code.

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ExecutionResponse, SessionStatus } from "../../protocol/rpc";
import type { QueueStats } from "../engine/realmEngine";
import type { ReplayCause, StoreOp } from "../session/executor";

/** What a sandbox process reports besides its requests, read at each scrape. */
export interface SandboxSources {
  /** Queueing in front of the sandbox's members. */
  queue?: () => (QueueStats & { waiting: number }) | undefined;
  /** Rebuilds by replay, by cause. */
  replays?: () => Record<ReplayCause, number>;
  /** Calls to the session store and their time, by operation. */
  store?: () => Partial<Record<StoreOp, { calls: number; seconds: number }>>;
}

export class Metrics {
  private readonly registry = new Registry();
  /**
   * Requests by route and status code, and steps by the status they ended in, counted here and read at each
   * scrape: prom-client's labelled inc() hashes its labels on every call (~1 µs a request, measured in the service).
   */
  private readonly requestCounts = new Map<string, { route: string; status: string; count: number }>();
  private readonly stepCounts = new Map<string, number>();
  private readonly stepSeconds: Histogram<string>;
  private readonly errors: Counter<"code">;

  /** `sessionsByStatus`: the sessions this process holds (none for the API layer in front of a remote sandbox). */
  /**
   * `sources`: what the sandbox in this process reports (none for the API layer in front of a remote one). Average
   * member queue wait = rate(wait_seconds_total) / rate(requests_total); store latency likewise per op.
   */
  constructor(sessionsByStatus: () => Partial<Record<SessionStatus, number>> = () => ({}), sources: SandboxSources = {}) {
    // The process's own: CPU, memory, event-loop lag and garbage collection (nodejs_gc_duration_seconds), which was a
    // tenth of a busy service's CPU before its responses in flight left a Set (jsonServer.ts).
    collectDefaultMetrics({ register: this.registry });
    if (sources.queue) this.queueMetrics(sources.queue);
    if (sources.replays) this.replayMetrics(sources.replays);
    if (sources.store) this.storeMetrics(sources.store);
    new Gauge({
      name: "uzoncalc_sessions",
      help: "Sessions held by the sandbox, by status.",
      labelNames: ["status"],
      registers: [this.registry],
      collect() {
        for (const [status, count] of Object.entries(sessionsByStatus())) this.set({ status }, count);
      },
    });
    this.mirroredCounter("uzoncalc_http_requests_total", "HTTP requests by route and status code.", ["route", "status"], () =>
      [...this.requestCounts.values()].map(({ route, status, count }) => [{ route, status }, count]),
    );
    this.mirroredCounter(
      "uzoncalc_steps_total",
      "Execute and resume requests answered, by the session status they ended in.",
      ["status"],
      () => [...this.stepCounts].map(([status, count]) => [{ status }, count]),
    );
    this.stepSeconds = new Histogram({
      name: "uzoncalc_step_duration_seconds",
      help: "Time to answer an execute or resume request (load, validation, the sheet's steps).",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [this.registry],
    });
    this.errors = new Counter({
      name: "uzoncalc_errors_total",
      help: "Refused requests by error code, and sheet errors (code sheet_error) and sandbox limits (time_limit, memory_limit).",
      labelNames: ["code"],
      registers: [this.registry],
    });
  }

  /**
   * A counter that mirrors a total kept elsewhere in this process (the pool's, the executor's), read at each
   * scrape: `read` gives the current value per label set, or nothing when there is nothing to report.
   */
  private mirroredCounter<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    read: () => Iterable<[Partial<Record<L, string>>, number]> | undefined,
  ): void {
    new Counter({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        const values = read();
        if (!values) return;
        this.reset();
        for (const [labels, value] of values) this.inc(labels, value);
      },
    });
  }

  private queueMetrics(queue: () => (QueueStats & { waiting: number }) | undefined): void {
    const total = (name: string, help: string, of: (stats: QueueStats) => number) =>
      this.mirroredCounter(name, help, [], () => {
        const stats = queue();
        return stats ? [[{}, of(stats)]] : undefined;
      });
    total("uzoncalc_member_requests_total", "Requests sent to the sandbox's members.", (s) => s.requests);
    total("uzoncalc_member_queue_wait_seconds_total", "Time requests waited for a busy member before it took them.", (s) => s.waitSeconds);
    total(
      "uzoncalc_member_requests_moved_total",
      "Requests moved to another member (rebuilt by replay) rather than wait behind a long step.",
      (s) => s.moved,
    );
    new Gauge({
      name: "uzoncalc_member_queue_depth",
      help: "Requests waiting for a busy member now.",
      registers: [this.registry],
      collect() {
        const stats = queue();
        if (stats) this.set(stats.waiting);
      },
    });
  }

  private replayMetrics(replays: () => Record<ReplayCause, number>): void {
    this.mirroredCounter(
      "uzoncalc_replays_total",
      "Sessions rebuilt by replay, by cause: member (its member died), evicted (idle), new_replica, stale_realm (another replica moved it on), reload (a client replayed its saved record), answer_again (a completed run's answer asked for again).",
      ["cause"],
      () => Object.entries(replays()).map(([cause, count]) => [{ cause }, count]),
    );
  }

  private storeMetrics(store: () => Partial<Record<StoreOp, { calls: number; seconds: number }>>): void {
    const totals = (name: string, help: string, of: (timing: { calls: number; seconds: number }) => number) =>
      this.mirroredCounter(name, help, ["op"], () =>
        Object.entries(store()).flatMap(([op, timing]) => (timing ? [[{ op }, of(timing)] as [{ op: string }, number]] : [])),
      );
    totals("uzoncalc_store_calls_total", "Calls to the session store, by operation.", (t) => t.calls);
    totals("uzoncalc_store_seconds_total", "Time spent in session store calls, by operation.", (t) => t.seconds);
  }

  observeRequest(route: string, status: number, _ms: number): void {
    const key = `${route} ${status}`;
    const counted = this.requestCounts.get(key);
    if (counted) counted.count++;
    else this.requestCounts.set(key, { route, status: String(status), count: 1 });
  }

  observeStep(response: ExecutionResponse, ms: number): void {
    this.stepCounts.set(response.status, (this.stepCounts.get(response.status) ?? 0) + 1);
    this.stepSeconds.observe(ms / 1000);
    if (response.status === "error") this.errors.inc({ code: response.error?.limit ? `${response.error.limit}_limit` : "sheet_error" });
  }

  observeError(code: string): void {
    this.errors.inc({ code });
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
