// Prometheus metrics of the sandbox service and the API layer: sessions by status, steps, step durations, errors
// by code.

import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ExecutionResponse, SessionStatus } from "../../protocol/rpc";
import type { QueueStats } from "../engine/realmEngine";

export class Metrics {
  private readonly registry = new Registry();
  private readonly requests: Counter<"route" | "status">;
  private readonly steps: Counter<"status">;
  private readonly stepSeconds: Histogram<string>;
  private readonly errors: Counter<"code">;

  /** `sessionsByStatus`: the sessions this process holds (none for the API layer in front of a remote sandbox). */
  /**
   * `queue`: queueing in front of the sandbox's members (none for the API layer), read at each scrape. Average
   * wait = rate(wait_seconds_total) / rate(requests_total).
   */
  constructor(
    sessionsByStatus: () => Partial<Record<SessionStatus, number>> = () => ({}),
    queue?: () => (QueueStats & { waiting: number }) | undefined,
  ) {
    if (queue) this.queueMetrics(queue);
    new Gauge({
      name: "uzoncalc_sessions",
      help: "Sessions held by the sandbox, by status.",
      labelNames: ["status"],
      registers: [this.registry],
      collect() {
        for (const [status, count] of Object.entries(sessionsByStatus())) this.set({ status }, count);
      },
    });
    this.requests = new Counter({
      name: "uzoncalc_http_requests_total",
      help: "HTTP requests by route and status code.",
      labelNames: ["route", "status"],
      registers: [this.registry],
    });
    this.steps = new Counter({
      name: "uzoncalc_steps_total",
      help: "Execute and resume requests answered, by the session status they ended in.",
      labelNames: ["status"],
      registers: [this.registry],
    });
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

  private queueMetrics(queue: () => (QueueStats & { waiting: number }) | undefined): void {
    const total = (name: string, help: string, read: (stats: QueueStats) => number) =>
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect() {
          const stats = queue();
          if (!stats) return;
          this.reset();
          this.inc(read(stats));
        },
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

  observeRequest(route: string, status: number, _ms: number): void {
    this.requests.inc({ route, status: String(status) });
  }

  observeStep(response: ExecutionResponse, ms: number): void {
    this.steps.inc({ status: response.status });
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
