// A layer of `uzoncalc serve` alone, for bench/service.ts: the service as it is (HTTP plumbing, executor, loader)
// over an engine that answers at once, with no realm and no member. Its CPU per request above httpLayer.ts's is
// what the executor costs; the real service adds the members and the hop to them.
import type { RealmOutcome } from "../../sandbox/runtime/abi";
import type { EngineOutcome, RealmEngine } from "../../sandbox/engine/realmEngine";
import { serviceLogger } from "../../sandbox/service/jsonServer";
import { createSandboxServer } from "../../sandbox/service/sandboxService";
import { Executor } from "../../sandbox/session/executor";
import { listenAndAnnounce } from "./announce";

/** The service sheet's three windows, then its end: the steps a bench session walks. */
class InstantEngine implements RealmEngine {
  private readonly steps = new Map<string, number>();

  get liveRealms(): number {
    return this.steps.size;
  }

  async open(sessionId: string): Promise<RealmOutcome> {
    this.steps.set(sessionId, 0);
    return this.step(1);
  }

  async resume(sessionId: string): Promise<EngineOutcome> {
    const step = (this.steps.get(sessionId) ?? 0) + 1;
    this.steps.set(sessionId, step);
    return step < 3 ? this.step(step + 1) : { kind: "done", value: 1, html: "", logs: [] };
  }

  async cancel(sessionId: string): Promise<EngineOutcome> {
    this.steps.delete(sessionId);
    return { kind: "cancelled", html: "", logs: [] };
  }

  async restore(): Promise<EngineOutcome> {
    return { kind: "lost" };
  }

  drop(sessionId: string): void {
    this.steps.delete(sessionId);
  }

  async close(): Promise<void> {}

  private step(window: number): RealmOutcome {
    const id = `w${window}`;
    return {
      kind: "ui",
      window: { id, title: `Window ${window}`, fields: [{ name: "x", type: "number", label: "x", required: false, default: 1 }] },
      html: "",
      logs: [],
    };
  }
}

const executor = new Executor({ safeDirs: process.argv.slice(2), engine: new InstantEngine(), maxSessions: 2000 });
const server = createSandboxServer({ executor, logger: serviceLogger("uzoncalc-bench-instant-engine") });
listenAndAnnounce(server);
