// Sheet realms, seen from the trusted side: a MemberRealm is one node:vm context, hardened once, that many
// sessions share (runtime/realm.ts says how they are kept apart); a SheetRealm is one session in it.
//
// The discipline that keeps the host safe (research/sandbox-bench.md A7, config C3): nothing from the host goes
// in (the only values written are strings, and the realm's own compiled sheet function handed back to it),
// nothing comes out but a string, every call that can run sheet code
// runs under `timeout` with `microtaskMode: 'afterEvaluate'` (so code after an `await` is covered too), and the
// host never reads properties of, awaits or inspects an object from the realm. Two places where Node itself
// would read one are closed here: an exception leaving a driver call (`displayErrors: false`, so Node does not
// decorate its stack) and a promise the sheet leaves rejected (the rejection guard below).

import { randomBytes } from "node:crypto";
import * as vm from "node:vm";
import { types } from "node:util";
import { normalizeWindow } from "../../protocol/fields";
import { MAX_TRACE_ENTRIES } from "../../protocol/rpc";
import {
  REALM,
  SHEET_PARAMETERS,
  type RealmErrorData,
  type RealmInit,
  type RealmOutcome,
  type RealmStart,
  type RealmTraceEntry,
} from "../runtime/abi";
import { realmRuntimeSource } from "./realmSource";

export interface RealmLimits {
  stepTimeoutMs: number;
  /**
   * Run each step under vm's `timeout` (default). Node starts a watchdog thread for every such call (~80–110 µs
   * here), so pool members, which a watchdog outside can stop anyway, run trusted-so-far sheets untimed.
   */
  timed?: boolean;
}

export interface RealmProtections {
  dontContextify: boolean;
}

/** Whether this Node offers `vm.constants.DONT_CONTEXTIFY` (traps.md item 5: fall back to a null-prototype global). */
export function realmProtections(): RealmProtections {
  return { dontContextify: typeof (vm.constants as { DONT_CONTEXTIFY?: unknown } | undefined)?.DONT_CONTEXTIFY !== "undefined" };
}

/**
 * Node reads the `stack` of an exception that leaves `runInContext` to decorate it, in the host's context and
 * after the time limit: a sheet's getter would run unbounded there, and formatting an unread Error's stack calls
 * the realm's Error.prepareStackTrace with CallSites made in the host context (their array's constructor is the
 * host's Function: a way to the host `process`). So Node must not look at it.
 */
const RUN_OPTIONS = { breakOnSigint: false, displayErrors: false } as const;

/** Stack lines longer than this are dropped before the host parses them (its frame pattern is not linear). */
const MAX_STACK_LINE = 1_000;
const MAX_STACK_LINES = 200;

const GUARD = Symbol.for("uzoncalc.realmRejectionGuard");

/** True for a promise of this (the host's) realm. Walks the prototype chain without running any trap. */
function isHostPromise(value: unknown): boolean {
  let current: unknown = value;
  for (let depth = 0; depth < 100; depth++) {
    if (typeof current !== "object" || current === null || types.isProxy(current)) return false;
    if (current === Promise.prototype) return true;
    current = Object.getPrototypeOf(current);
  }
  return false;
}

/**
 * A promise a sheet leaves rejected reaches the host process's unhandled-rejection handling (V8 reports it for
 * every context of the isolate). Node's default then ends the process, every session with it, and prints the
 * reason first: it reads its properties (running the sheet's getters with no time limit) and formats its stack
 * (see RUN_OPTIONS). One process-wide listener drops rejections of realm promises without touching them; for
 * the host's own promises, when no other listener is there, it keeps Node's default and throws.
 */
function installRejectionGuard(): void {
  const holder = process as unknown as Record<symbol, boolean>;
  if (holder[GUARD]) return;
  holder[GUARD] = true;
  const listener = (reason: unknown, promise: Promise<unknown>) => {
    if (!isHostPromise(promise)) return;
    if (process.listenerCount("unhandledRejection") > 1) return;
    throw reason instanceof Error ? reason : new Error(`Unhandled promise rejection: ${String(reason)}`);
  };
  process.prependListener("unhandledRejection", listener);
}

let runtimeScript: vm.Script | undefined;
const driverScripts = new Map<string, vm.Script>();

function driverScript(name: string): vm.Script {
  let script = driverScripts.get(name);
  if (!script) {
    script = new vm.Script(`${name}()`, { filename: "uzoncalc://driver" });
    driverScripts.set(name, script);
  }
  return script;
}

function getRuntimeScript(): vm.Script {
  runtimeScript ??= new vm.Script(realmRuntimeSource(), { filename: "uzoncalc://runtime" });
  return runtimeScript;
}

function createContext(): vm.Context {
  installRejectionGuard();
  const options: vm.CreateContextOptions = { microtaskMode: "afterEvaluate", codeGeneration: { strings: false, wasm: false } };
  const dontContextify = (vm.constants as unknown as { DONT_CONTEXTIFY?: unknown }).DONT_CONTEXTIFY;
  return dontContextify !== undefined
    ? vm.createContext(dontContextify as unknown as vm.Context, options)
    : vm.createContext(Object.create(null) as vm.Context, options);
}

/** The timeout error comes from inside the realm, so it is recognised without touching its prototype chain. */
function isTimeout(error: unknown): boolean {
  if (typeof error !== "object" || error === null || types.isProxy(error)) return false;
  const code = Object.getOwnPropertyDescriptor(error, "code");
  return code !== undefined && "value" in code && code.value === "ERR_SCRIPT_EXECUTION_TIMEOUT";
}

/** An outcome for a run the sandbox (not the sheet) ended; `html` is what the step wrote, when known. */
export function errorOutcome(error: RealmErrorData, html = ""): RealmOutcome {
  return { kind: "error", error, html, logs: [] };
}

export function timeLimitOutcome(limitMs: number): RealmOutcome {
  return errorOutcome({
    name: "TimeoutError",
    message: `The sheet ran longer than the step time limit of ${limitMs} ms and was stopped. Look for a loop that never ends, or raise the limit (--step-timeout for the CLI, uzoncalc.sandbox.stepTimeoutMs in VS Code).`,
    limit: "time",
  });
}

/**
 * A member ran out of memory. `step`: during this session's own step; `held`: another session's step tipped it
 * over, but this session held the most of the member's memory.
 */
export function memoryLimitOutcome(limitMb: number, how: "step" | "held"): RealmOutcome {
  return errorOutcome(memoryLimitError(limitMb, how));
}

export function memoryLimitError(limitMb: number, how: "step" | "held"): RealmErrorData & { limit: "memory" } {
  const what =
    how === "step"
      ? `The sheet used more memory than the sandbox's limit of ${limitMb} MB per member (JavaScript objects and typed arrays together) and was stopped.`
      : `The sandbox member this run lived in reached its memory limit of ${limitMb} MB (JavaScript objects and typed arrays together), and this run held the most of it, so it was stopped.`;
  return {
    name: "MemoryLimitError",
    message: `${what} Look for an array, typed array or string that grows without end, or raise the limit (--memory-limit for the CLI and the service, uzoncalc.sandbox.memoryLimitMb in VS Code).`,
    limit: "memory",
  };
}

/** The realm's stack text, without lines too long to be frames (the sheet controls all of it). */
function boundedStack(stack: string): string {
  const lines: string[] = [];
  for (const line of stack.slice(0, MAX_STACK_LINE * MAX_STACK_LINES).split("\n")) {
    if (line.length <= MAX_STACK_LINE) lines.push(line);
    if (lines.length >= MAX_STACK_LINES) break;
  }
  return lines.join("\n");
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === "string");
}

const MAX_TRACE_NAME = 200;
const MAX_TRACE_DISPLAY = 400;

function isTraceScalar(value: unknown): boolean {
  return (
    value === null ||
    typeof value === "boolean" ||
    (typeof value === "number" && Number.isFinite(value)) ||
    (typeof value === "string" && value.length <= 201)
  );
}

/**
 * The step's trace as the realm reported it (rows, RealmTraceRow), keeping only well-formed entries (at most
 * MAX_TRACE_ENTRIES + 1, so the executor can tell that it was cut). Undefined when there is none.
 */
export function parseTrace(raw: unknown): RealmTraceEntry[] | undefined {
  if (!Array.isArray(raw) || raw.length === 0) return undefined;
  const entries: RealmTraceEntry[] = [];
  const count = Math.min(raw.length, MAX_TRACE_ENTRIES + 1);
  for (let i = 0; i < count; i++) {
    const row: unknown = raw[i];
    if (!Array.isArray(row) || row.length < 4 || row.length > 6) continue;
    const [line, name, value, display, formula, unit] = row as unknown[];
    if (typeof line !== "number" || !Number.isInteger(line) || line < 1) continue;
    if (typeof name !== "string" || name.length > MAX_TRACE_NAME || typeof display !== "string") continue;
    if (!(isTraceScalar(value) || (Array.isArray(value) && value.length <= 12 && value.every(isTraceScalar)))) continue;
    const entry: RealmTraceEntry = {
      line,
      name,
      value: value as RealmTraceEntry["value"],
      display: display.length > MAX_TRACE_DISPLAY ? display.slice(0, MAX_TRACE_DISPLAY) + "…" : display,
    };
    if (typeof unit === "string" && unit !== "" && unit.length <= 100) entry.unit = unit;
    if (typeof formula === "string" && formula !== "") entry.formula = formula.length > 1_000 ? formula.slice(0, 1_000) + "…" : formula;
    entries.push(entry);
  }
  return entries.length > 0 ? entries : undefined;
}

/**
 * Re-validates what the realm said: a sheet can corrupt its own driver, never the host's view of it. The text is
 * the outcome as JSON, then (after the first newline) the step's markup as it is (runtime/driver.ts settle).
 */
export function parseOutcome(text: string): RealmOutcome {
  const cut = text.indexOf("\n");
  let data: unknown;
  try {
    data = JSON.parse(cut < 0 ? text : text.slice(0, cut));
  } catch {
    return errorOutcome({
      name: "SandboxError",
      message: "The sheet's realm returned output that is not JSON (did the sheet overwrite the runtime's built-ins?).",
    });
  }
  const record = (typeof data === "object" && data !== null ? data : {}) as Record<string, unknown>;
  if (cut >= 0) record.html = text.slice(cut + 1);
  const outcome = outcomeOf(record);
  const trace = parseTrace(record.trace);
  if (trace) outcome.trace = trace;
  if (record.figures === true) outcome.figures = true;
  return outcome;
}

function outcomeOf(record: Record<string, unknown>): RealmOutcome {
  const html = typeof record.html === "string" ? record.html : "";
  const logs = isStringArray(record.logs) ? record.logs : [];
  switch (record.kind) {
    case "ui": {
      const { window, problems } = normalizeWindow(record.window);
      if (problems.length > 0 || window.id === "")
        return errorOutcome({ name: "SandboxError", message: "The sheet's realm returned an invalid window." });
      const id = (record.window as { id?: unknown }).id;
      return { kind: "ui", window: { ...window, id: typeof id === "string" && id !== "" ? id : window.id }, html, logs };
    }
    case "done":
      return { kind: "done", value: record.value ?? null, html, logs };
    case "cancelled":
      return { kind: "cancelled", html, logs };
    case "error": {
      const raw = (typeof record.error === "object" && record.error !== null ? record.error : {}) as Record<string, unknown>;
      const error: RealmErrorData = {
        name: typeof raw.name === "string" ? raw.name : "Error",
        message: typeof raw.message === "string" ? raw.message : "The sheet failed.",
      };
      if (typeof raw.stack === "string") error.stack = boundedStack(raw.stack);
      return { kind: "error", error, html, logs };
    }
    default:
      return errorOutcome({ name: "SandboxError", message: "The sheet's realm returned an unknown outcome." });
  }
}

/**
 * How long the call that proves the realm's queue empty after a stop may run (settleAfterStop). It is made for
 * session 0, which is never opened, so it runs no session's code, only what is left in the queue.
 */
const QUEUE_CHECK_TIMEOUT_MS = 100;

/** How long the member realm's one-time set-up (runtime and hardening, ~10 ms) may take before it is given up. */
const SETUP_TIMEOUT_MS = 5_000;

/**
 * One hardened context shared by sessions. Retired (and never used again) when a step broke the driver, or its
 * microtask queue cannot be shown empty after a time limit stopped a step (settleAfterStop): a stopped sheet's
 * jobs would otherwise run inside the next session's step. The engine then rebuilds the other sessions in a new
 * realm by replay.
 */
export class MemberRealm {
  private readonly context: vm.Context;
  /** Known to this object and the realm's drivers only; it authenticates every driver call. */
  private readonly secret = randomBytes(16).toString("hex");
  private nextSession = 1;
  private retiredNow = false;
  /** Sheet functions compiled in this realm, by bundle hash: a value of the realm, never called or read here. */
  private readonly sheetFunctions = new Map<string, unknown>();

  constructor() {
    this.context = createContext();
    (this.context as Record<string, unknown>)[REALM.input] = this.secret;
    getRuntimeScript().runInContext(this.context, { ...RUN_OPTIONS, timeout: SETUP_TIMEOUT_MS });
  }

  get retired(): boolean {
    return this.retiredNow;
  }

  retire(): void {
    this.retiredNow = true;
    this.sheetFunctions.clear();
  }

  /**
   * After a step was stopped by its time limit. A stop inside the sync part of a call leaves the jobs the sheet
   * had queued in the realm's microtask queue, and the next call of any session would run them first (measured:
   * a `.then` chain then spins on in that session's step). The salvage call that follows a stop runs them with
   * the stopped session current; a stop inside that checkpoint empties the queue (V8 discards it on
   * termination). This one more call, with a short limit, proves the queue empty, or retires the realm.
   */
  settleAfterStop(): void {
    if (this.retiredNow) return;
    try {
      this.drive(0, REALM.out, "", QUEUE_CHECK_TIMEOUT_MS);
    } catch {
      this.retire();
    }
  }

  newSession(): number {
    return this.nextSession++;
  }

  /** Forgets a compiled sheet function (its bundle left the engine's cache). */
  forgetSheet(hash: string): void {
    this.sheetFunctions.delete(hash);
  }

  /**
   * The sheet's compiled function in this realm. Evaluating the bundle's script only creates the function (its
   * body is the sheet's top level, run per session by the session's runtime), so no sheet code runs here.
   */
  sheetFunction(hash: string, script: vm.Script): unknown {
    let fn = this.sheetFunctions.get(hash);
    if (fn === undefined) {
      fn = script.runInContext(this.context, { ...RUN_OPTIONS, timeout: SETUP_TIMEOUT_MS });
      this.sheetFunctions.set(hash, fn);
    }
    return fn;
  }

  /**
   * Writes the call's mailboxes (strings, and for `open` the sheet function) and runs one driver. Throws what
   * `runInContext` throws; the caller tells a time limit from the rest.
   */
  drive(session: number, driver: string, input: string, timeoutMs: number | undefined, sheetFunction?: unknown): unknown {
    const global = this.context as Record<string, unknown>;
    global[REALM.call] = `${this.secret}:${session}`;
    global[REALM.input] = input;
    if (sheetFunction !== undefined) global[REALM.sheetFunction] = sheetFunction;
    return driverScript(driver).runInContext(this.context, timeoutMs === undefined ? RUN_OPTIONS : { ...RUN_OPTIONS, timeout: timeoutMs });
  }
}

/**
 * A live session in a member realm. Every method returns an outcome and never throws for anything the sheet
 * does; once an outcome ends the run (done, error, cancelled) the realm has forgotten the session.
 */
export class SheetRealm {
  private session: number | undefined;

  constructor(
    private readonly member: MemberRealm,
    private readonly sheet: { hash: string; script: vm.Script },
    private readonly limits: RealmLimits,
  ) {}

  /** False once the run ended, or its member realm was retired (the engine then reports the session lost). */
  get alive(): boolean {
    return this.session !== undefined && !this.member.retired;
  }

  /** Starts the session: its runtime, clock and random sequence, the sheet's top level and its first step. */
  open(init: RealmInit, start: RealmStart): RealmOutcome {
    this.session = this.member.newSession();
    let sheetFunction: unknown;
    try {
      sheetFunction = this.member.sheetFunction(this.sheet.hash, this.sheet.script);
    } catch {
      this.member.retire();
      return this.finish(errorOutcome({ name: "SandboxError", message: "The sheet's code could not be set up in the sandbox." }));
    }
    // Top-level code of the sheet: its own try/catch reports a throw through the runtime, never to us.
    const setup = this.run(REALM.open, JSON.stringify(init), sheetFunction);
    if (setup) return this.finish(setup);
    const early = this.takeOutcome();
    if (early) return this.finish(early);
    return this.step(REALM.start, JSON.stringify(start));
  }

  resume(values: unknown): RealmOutcome {
    return this.step(REALM.resume, JSON.stringify(values));
  }

  /** Runs the sheet's `finally` blocks (under the same time limit) and ends the run. */
  cancel(): RealmOutcome {
    if (!this.alive) return { kind: "cancelled", html: "", logs: [] };
    return this.step(REALM.cancel, "");
  }

  /** Forgets the session; the realm drops its state (a paused session holds its generator and report). */
  dispose(): void {
    if (this.session === undefined) return;
    const session = this.session;
    this.session = undefined;
    if (this.member.retired) return;
    try {
      this.member.drive(session, REALM.drop, "", undefined);
    } catch {
      this.member.retire();
    }
  }

  private step(driver: string, input: string): RealmOutcome {
    if (!this.alive) return errorOutcome({ name: "SandboxError", message: "This sheet's realm has already ended." });
    const failed = this.run(driver, input);
    if (failed) return this.finish(failed);
    const outcome = this.takeOutcome();
    if (outcome) return this.finish(outcome);
    return this.finish(
      errorOutcome({
        name: "SheetError",
        message:
          "The sheet is waiting for a promise that never settles. Sheets cannot wait for timers, I/O or the network; compute the value instead.",
      }),
    );
  }

  /** Runs one driver for this session. Returns an outcome only if the call failed. */
  private run(driver: string, input: string, sheetFunction?: unknown): RealmOutcome | undefined {
    try {
      this.member.drive(this.session!, driver, input, this.limits.timed === false ? undefined : this.limits.stepTimeoutMs, sheetFunction);
      return undefined;
    } catch (error) {
      if (isTimeout(error)) {
        const html = this.salvageOutput();
        this.member.settleAfterStop();
        this.dispose();
        return { ...timeLimitOutcome(this.limits.stepTimeoutMs), html };
      }
      // Anything else thrown here slipped past the runtime's own catch: do not look inside it.
      this.member.retire();
      return errorOutcome({ name: "SandboxError", message: "The sheet broke the sandbox's step driver; the run was stopped." });
    }
  }

  /**
   * After a time limit, what the step had written is still inside the realm. Asking for it runs the realm's
   * pending jobs again (a runaway `.then` chain would spin on), so it gets a short limit of its own and is given
   * up if that passes: keeping the report so far is worth a tenth of a second, not another full step.
   */
  private salvageOutput(): string {
    try {
      const text = this.member.drive(this.session!, REALM.partial, "", Math.min(100, this.limits.stepTimeoutMs));
      return typeof text === "string" ? text : "";
    } catch {
      return "";
    }
  }

  /**
   * Reads the outcome. The out function is the realm's own (a frozen global) and only returns a string the
   * session's runtime already built, and the microtask queue is empty after a completed step, so no sheet code
   * can run here.
   */
  private takeOutcome(): RealmOutcome | undefined {
    let text: unknown;
    try {
      text = this.member.drive(this.session!, REALM.out, "", undefined);
    } catch {
      this.member.retire();
      return errorOutcome({ name: "SandboxError", message: "The sheet's realm could not report its outcome." });
    }
    if (typeof text !== "string")
      return errorOutcome({ name: "SandboxError", message: "The sheet's realm returned something other than text." });
    return text === "" ? undefined : parseOutcome(text);
  }

  /** A run that ended is already forgotten by the realm (its `out` dropped it), so only the handle goes. */
  private finish(outcome: RealmOutcome): RealmOutcome {
    if (outcome.kind !== "ui") this.session = undefined;
    return outcome;
  }
}

/**
 * Compiles a sheet bundle once, as a function expression whose body is the bundle (its top level runs once per
 * session, on that session's scope). The names the bundle reads from its session are its parameters
 * (SHEET_PARAMETERS), so they resolve lexically, at full speed, unlike through a scope proxy (SES compartments).
 * The prefix stays on the bundle's first line, which is only its `try {` banner, so the source map's lines and
 * the sheet's stack frames are unchanged.
 */
export function compileSheetScript(code: string, scriptName: string): vm.Script {
  return new vm.Script(
    `(function (${SHEET_PARAMETERS.join(", ")}) { ${code}\nreturn typeof ${REALM.sheet} === "undefined" ? undefined : ${REALM.sheet};\n})`,
    {
      filename: scriptName,
    },
  );
}
