// The escape battery: hostile sheets that try to reach the host (its `process`, `require`, the file system, child
// processes) or to break other sessions, each run through a real Executor; and, assuming an escape anyway, what
// code could do inside a sheet worker started exactly as the sandbox starts them.
//
// Each vector sheet (fixtures/escape) records what it obtained in a Probe: `hits` lists anything that looked like
// the host, and whenever a vector does reach a host `process` it also acts on it (a flag on `process`, a marker
// file, the host's `__uzcCanary` global), so an escape is seen from outside even when the sheet's own answer
// never comes back.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as v8 from "node:v8";
import * as vm from "node:vm";
import { Worker } from "node:worker_threads";
import type { ExecutionResponse } from "../../protocol/rpc";
import { Executor } from "../session/executor";
import { sheetWorkerOptions } from "../engine/worker/options";

const ESCAPE = path.join(__dirname, "fixtures", "escape");
const fixture = (name: string) => path.join(ESCAPE, name);

interface Probe {
  hits: string[];
  seen: Record<string, string>;
}

const hostGlobal = globalThis as { __uzcCanary?: unknown };
const hostProcess = process as unknown as { __uzcEscaped?: unknown };

let tmp: string;
let markerCount = 0;

/** A path the sheet would need the host's fs to create. */
function newMarker(): string {
  return path.join(tmp, `marker-${++markerCount}.txt`);
}

/** Checks the host canaries, and resets them so that one escape does not fail every later vector too. */
function assertHostUntouched(marker: string): void {
  const canary = hostGlobal.__uzcCanary;
  const escaped = hostProcess.__uzcEscaped;
  const written = fs.existsSync(marker) ? fs.readFileSync(marker, "utf8") : undefined;
  hostGlobal.__uzcCanary = 1;
  delete hostProcess.__uzcEscaped;
  fs.rmSync(marker, { force: true });
  assert.equal(escaped, undefined, `a sheet reached the host process: ${String(escaped)}`);
  assert.equal(canary, 1, "the host canary global was changed");
  assert.equal(written, undefined, `a sheet wrote ${marker} through the host's fs: ${written}`);
}

function assertClean(probe: Probe | undefined): Probe {
  assert.ok(probe && Array.isArray(probe.hits) && typeof probe.seen === "object", `no probe in the answer: ${JSON.stringify(probe)}`);
  assert.deepEqual(probe.hits, [], `host reached: ${probe.hits.join("; ")}`);
  return probe;
}

/** Every attempt to compile `return process` with a constructor reached by the vector failed. */
function assertNothingCompiled(probe: Probe, minimum: number): void {
  const compiles = Object.entries(probe.seen).filter(([label]) => /constructor|^Function$|\(Function/.test(label));
  assert.ok(compiles.length >= minimum, `expected at least ${minimum} compile attempts, saw ${compiles.length}`);
  for (const [label, seen] of compiles) {
    assert.ok(seen.startsWith("threw ") || seen === "undefined" || seen === "null", `${label} gave ${seen}`);
  }
}

/** Runs a fixture from start to end, answering every window with `{}` (each window's defaults). */
async function runToEnd(executor: Executor, file: string, params: Record<string, unknown> = {}): Promise<ExecutionResponse> {
  let response = await executor.execute({ file_path: fixture(file), params });
  for (let step = 0; step < 10 && response.status === "waiting_ui"; step++) {
    response = await executor.resume({ session_id: response.session_id, user_input: {} });
  }
  return response;
}

function completedValue<T>(response: ExecutionResponse): T {
  assert.equal(response.status, "completed", JSON.stringify(response.error));
  return response.value as T;
}

/** A normal session, paused at its first window while a hostile one runs. */
async function openBystander(executor: Executor): Promise<string> {
  const opened = await executor.execute({ file_path: fixture("bystander.calc.ts") });
  assert.equal(opened.status, "waiting_ui");
  assert.equal(opened.ui?.title, "First");
  return opened.session_id;
}

async function finishBystander(executor: Executor, sessionId: string): Promise<void> {
  const second = await executor.resume({ session_id: sessionId, user_input: { x: 2 } });
  assert.equal(second.status, "waiting_ui", JSON.stringify(second.error));
  assert.equal(second.ui?.title, "Second");
  const done = await executor.resume({ session_id: sessionId, user_input: { y: "300 cm" } });
  assert.equal(done.status, "completed", JSON.stringify(done.error));
  assert.deepEqual(done.value, { sum: 5, json: '{"k":"1-2"}', proto: null });
  assert.match(done.html!, /<h1>Bystander<\/h1>\n<p>x = 2<\/p>\n<p>y = 3 m<\/p>/);
  // A session started after the hostile one is just as clean.
  const fresh = await executor.execute({ file_path: fixture("bystander.calc.ts"), inputs: { first: { x: 1 }, second: { y: 1 } } });
  assert.deepEqual(completedValue(fresh), { sum: 2, json: '{"k":"1-2"}', proto: null });
}

/** Reads the probe a sheet logged (for vectors whose session ends in an error, so logs are all that comes back). */
function loggedProbes(response: ExecutionResponse): { hits: string[] }[] {
  return (response.logs ?? []).filter((line) => line.startsWith("probe ")).map((line) => JSON.parse(line.slice(6)) as { hits: string[] });
}

/** Plain JSON of this (host) realm, through and through. */
function assertHostJson(value: unknown, where = "value"): void {
  if (value === null || typeof value !== "object") {
    assert.ok(value === null || ["string", "number", "boolean"].includes(typeof value), `${where} is a ${typeof value}`);
    return;
  }
  const proto = Object.getPrototypeOf(value);
  assert.ok(proto === Object.prototype || proto === Array.prototype, `${where} is not a plain host object or array`);
  for (const [key, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(value))) {
    if (key === "length" && Array.isArray(value)) continue;
    assert.ok("value" in descriptor, `${where}.${key} is an accessor`);
    assertHostJson(descriptor.value, `${where}.${key}`);
  }
}

before(() => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "uzc-escape-")));
  hostGlobal.__uzcCanary = 1;
});

after(() => {
  delete hostGlobal.__uzcCanary;
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe("escape battery: sheet vectors through a real Executor", () => {
  let executor: Executor;
  let marker: string;
  let params: { marker: string };

  beforeEach(() => {
    executor = new Executor({ safeDirs: [ESCAPE], stepTimeoutMs: 2_000 });
    marker = newMarker();
    params = { marker };
  });

  afterEach(() => executor.close());

  /** One vector: its own checks, then the host's canaries. */
  function vector(title: string, body: () => Promise<void>): void {
    it(title, async () => {
      try {
        await body();
      } finally {
        assertHostUntouched(marker);
      }
    });
  }

  vector(
    "constructor chains from realm objects (this, globalThis, {}, [], primitives, Function.prototype.constructor) cannot compile",
    async () => {
      const probe = assertClean(completedValue<Probe>(await runToEnd(executor, "realm-chains.calc.ts", params)));
      assertNothingCompiled(probe, 20);
      assert.equal(probe.seen["this.constructor.constructor"], "threw EvalError");
      assert.equal(probe.seen["Function.prototype.constructor"], "threw EvalError");
    },
  );

  vector("async, generator, async generator, class and bound function constructors cannot compile", async () => {
    const probe = assertClean(completedValue<Probe>(await runToEnd(executor, "function-kinds.calc.ts", params)));
    assertNothingCompiled(probe, 11);
    assert.equal(probe.seen["(async function(){}).constructor"], "threw EvalError");
    assert.equal(probe.seen["(async function*(){}).constructor"], "threw EvalError");
    assert.equal(probe.seen["(function*(){}).constructor"], "threw EvalError");
  });

  vector("injected values (the yield UI(...) object, a selectMany array, params) are realm JSON with no way out", async () => {
    const probe = assertClean(completedValue<Probe>(await runToEnd(executor, "inputs.calc.ts", params)));
    assertNothingCompiled(probe, 20);
    assert.equal(probe.seen["input keys"], "x,t,loads,ok");
    assert.equal(probe.seen["input.loads: value"], "object");
  });

  vector("errors thrown by runtime functions (Window({}), table(1,2), UI(5), a bad yield) lead back to the realm only", async () => {
    const probe = assertClean(completedValue<Probe>(await runToEnd(executor, "runtime-errors.calc.ts", params)));
    assertNothingCompiled(probe, 35);
    assert.equal(probe.seen["caught"], "TypeError,TypeError,TypeError,TypeError,TypeError,TypeError,TypeError");
  });

  vector(
    "runtime functions and what they return (UI, Window, h1, h2, h3, p, table, html, handles, requests) lead back to the realm only",
    async () => {
      const probe = assertClean(completedValue<Probe>(await runToEnd(executor, "runtime-functions.calc.ts", params)));
      assertNothingCompiled(probe, 80);
      // Strict runtime functions refuse .caller and .arguments.
      assert.equal(probe.seen["UI.caller"], "threw TypeError");
      assert.equal(probe.seen["table.arguments"], "threw TypeError");
    },
  );

  vector("import() is refused when the sheet is loaded (CompileError)", async () => {
    const response = await executor.execute({ file_path: fixture("dynamic-import.calc.ts"), params });
    assert.equal(response.status, "error");
    assert.equal(response.error!.name, "CompileError");
    assert.match(response.error!.message, /Dynamic import\(\) is not allowed/);
  });

  vector("import.meta is refused at load with its position", async () => {
    const response = await executor.execute({ file_path: fixture("import-meta.calc.ts"), params });
    assert.equal(response.status, "error");
    assert.equal(response.error!.name, "CompileError");
    assert.match(response.error!.message, /import\.meta/);
    const lines = fs.readFileSync(fixture("import-meta.calc.ts"), "utf8").split("\n");
    assert.equal(response.error!.line, lines.findIndex((l) => l.includes("= import.meta")) + 1);
  });

  vector("code generation from strings is off: eval, Function, indirect eval throw EvalError; no timers, no WebAssembly", async () => {
    const probe = assertClean(completedValue<Probe>(await runToEnd(executor, "codegen.calc.ts", params)));
    for (const label of [
      "eval('process')",
      "eval('1+1')",
      "(0, eval)('this')",
      "globalThis.eval('this')",
      "new Function('return this')()",
      "Function('return process')()",
    ]) {
      assert.equal(probe.seen[label], "threw EvalError", label);
    }
    for (const label of ["setTimeout('code')", "setInterval('code')", "setImmediate", "queueMicrotask", "new WebAssembly.Module"]) {
      assert.equal(probe.seen[label], "threw TypeError", `${label}: ${probe.seen[label]}`);
    }
    assert.equal(probe.seen["__ran"], "undefined");
  });

  vector("Error.prepareStackTrace: no CallSite gives a host function or object, the trace array is the realm's", async () => {
    const value = completedValue<{ probe: Probe; sites: string[] }>(await runToEnd(executor, "prepare-stack-trace.calc.ts", params));
    const probe = assertClean(value.probe);
    assertNothingCompiled(probe, 0);
    assert.ok(probe.seen["installed"] === "false" || value.sites.length > 0, "either sheets cannot set it, or its CallSites were checked");
    // Frames of host files (the step driver's callers) may show, but never their functions or receivers.
    for (const site of value.sites) {
      if (!site.startsWith("uzoncalc://")) assert.match(site, / fn=undefined this=undefined$/, site);
    }
  });

  vector("Error.captureStackTrace with runtime functions as the cut-off gives nothing from the host", async () => {
    const probe = assertClean(completedValue<Probe>(await runToEnd(executor, "capture-stack-trace.calc.ts", params)));
    assert.equal(probe.seen["captured stack is a string"], "true");
    for (const [label, seen] of Object.entries(probe.seen)) {
      if (/getFunction\(\)|getThis\(\)/.test(label)) assert.ok(seen === "undefined", `${label} gave ${seen}`);
    }
    assertNothingCompiled(probe, 3);
  });

  vector("a returned Proxy: its traps run inside the realm during the step, the host gets plain JSON", async () => {
    const value = completedValue<{ proxy: unknown; probe: Probe; traps: number }>(await runToEnd(executor, "return-proxy.calc.ts", params));
    assertHostJson(value);
    assert.deepEqual(value.proxy, { a: 1, nested: { b: [1, 2] } });
    assert.ok(value.traps > 0, "the traps ran (in the realm)");
    assertClean(value.probe);
    assertNothingCompiled(value.probe, 0);
  });

  vector("returned getters, toJSON, toPrimitive and util.inspect.custom run in the realm only; the host gets JSON", async () => {
    const value = completedValue<{ getter: unknown; withToJSON: unknown; probe: Probe; runs: string[] }>(
      await runToEnd(executor, "return-getters.calc.ts", params),
    );
    assertHostJson(value);
    assert.equal(value.getter, "getter");
    assert.equal(value.withToJSON, "toJSON");
    assert.deepEqual(value.runs, ["getter", "toJSON"], "only JSON's own reads ran: no conversion, no inspect");
    assertClean(value.probe);
  });

  vector("a thrown Proxy is read inside the realm; the host gets a plain error", async () => {
    const response = await runToEnd(executor, "throw-proxy.calc.ts", params);
    assert.equal(response.status, "error");
    assert.equal(response.error!.name, "Error");
    assert.equal(response.error!.message, "proxied error");
    assertHostJson(response.error);
    const probes = loggedProbes(response);
    assert.ok(probes.length > 0, "the traps ran and logged");
    for (const probe of probes) assert.deepEqual(probe.hits, []);
  });

  vector("a thrown object with getters on stack, message and name is read inside the realm; its fake frames are dropped", async () => {
    const response = await runToEnd(executor, "throw-getters.calc.ts", params);
    assert.equal(response.status, "error");
    assert.equal(response.error!.name, "GetterError");
    assert.equal(response.error!.message, "message from a getter");
    assert.doesNotMatch(response.error!.stack ?? "", /passwd|node:internal/);
    const probes = loggedProbes(response);
    assert.ok(probes.length > 0);
    for (const probe of probes) assert.deepEqual(probe.hits, []);
  });

  vector("a Window spec made of getters and Proxies: the host sees a validated plain window", async () => {
    const opened = await executor.execute({ file_path: fixture("window-getters.calc.ts"), params });
    assert.equal(opened.status, "waiting_ui", JSON.stringify(opened.error));
    assertHostJson(opened.ui);
    assert.deepEqual(opened.ui, {
      id: "getter-window",
      title: "Getter window",
      fields: [{ name: "x", type: "number", label: "x", required: false, default: 3 }],
    });
    const done = await executor.resume({ session_id: opened.session_id, user_input: { x: 4 } });
    const probe = assertClean(completedValue<Probe>(done));
    assert.equal(probe.seen["value x"], "4");
  });

  for (const mode of ["Object.prototype", "toJSON", "JSON", "Promise.then", "Array.join", "String.replace", "Reflect", "String"]) {
    vector(`pollution (${mode}) garbles at most its own session; another session resumes correctly`, async () => {
      const bystander = await openBystander(executor);
      const response = await runToEnd(executor, "pollute.calc.ts", { ...params, mode });
      assert.ok(["completed", "error", "cancelled"].includes(response.status), response.status);
      assertHostJson(response.value ?? null);
      if (response.status === "completed") {
        const value = response.value as { probe?: Probe } | null;
        if (value && typeof value === "object" && value.probe && Array.isArray(value.probe.hits)) assertClean(value.probe);
      }
      await finishBystander(executor, bystander);
    });
  }

  vector("the __uzon_* driver globals and the runtime module cannot be replaced, redefined or deleted", async () => {
    const bystander = await openBystander(executor);
    const response = await runToEnd(executor, "driver-redefine.calc.ts", params);
    const value = completedValue<{ probe: Probe; x: number }>(response);
    assert.equal(value.x, 5, "the driver still drives the sheet");
    const probe = assertClean(value.probe);
    for (const name of [
      "__uzon_open",
      "__uzon_start",
      "__uzon_resume",
      "__uzon_cancel",
      "__uzon_out",
      "__uzon_partial",
      "__uzon_drop",
      "__uzon_fail",
      "__uzon_render",
      "__uzon_trace",
      "__uzon_units",
      "__uzon_drivers",
      "__uzoncalc",
    ]) {
      assert.equal(probe.seen[`${name} defineProperty`], "threw TypeError", name);
      assert.equal(probe.seen[`${name} delete`], "false", name);
      assert.equal(probe.seen[`${name} assignment took`], "false", name);
    }
    for (const mailbox of ["__uzon_in", "__uzon_call", "__uzon_fn"])
      assert.equal(probe.seen[`${mailbox} defineProperty`], "threw TypeError", mailbox);
    assert.equal(probe.seen["__uzoncalc frozen"], "true");
    assert.equal(probe.seen["__uzoncalc.UI replaced"], "false");
    await finishBystander(executor, bystander);
  });

  vector("calling the driver functions from inside the sheet affects only its own session", async () => {
    const bystander = await openBystander(executor);
    const response = await runToEnd(executor, "driver-call.calc.ts", params);
    assert.ok(["completed", "error", "cancelled"].includes(response.status), response.status);
    assertHostJson(response.value ?? null);
    await finishBystander(executor, bystander);
  });

  for (const mode of ["freeze", "seal", "preventExtensions"]) {
    vector(`Object.${mode}(globalThis) ends its own session cleanly; another session resumes correctly`, async () => {
      const bystander = await openBystander(executor);
      const first = await executor.execute({ file_path: fixture("freeze-global.calc.ts"), params: { ...params, mode } });
      assert.equal(first.status, "waiting_ui");
      // The resume must answer (never throw a host exception), whatever the sheet did to its global.
      const second = await executor.resume({ session_id: first.session_id, user_input: {} });
      assert.ok(["waiting_ui", "error"].includes(second.status), second.status);
      if (second.status === "waiting_ui") {
        const done = await executor.resume({ session_id: first.session_id, user_input: { x: 7 } });
        assert.ok(done.status === "completed" || done.status === "error", done.status);
      }
      await finishBystander(executor, bystander);
    });
  }

  vector("FinalizationRegistry callbacks never run sheet code between steps (outside the time limit)", async () => {
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as () => void;
    const bystander = await openBystander(executor);
    const opened = await executor.execute({ file_path: fixture("finalization.calc.ts"), params });
    assert.equal(opened.status, "waiting_ui");
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const done = await executor.resume({ session_id: opened.session_id, user_input: {} });
    const state = completedValue<{ available: string; ran: number; outsideStep: number }>(done);
    assert.equal(state.outsideStep, 0, `${state.outsideStep} cleanup callbacks ran sheet code between steps`);
    await finishBystander(executor, bystander);
  });

  vector(
    "global lookups find no host object: process, require, module, Buffer, fetch, timers, WebAssembly, SharedArrayBuffer, Atomics",
    async () => {
      const value = completedValue<{ probe: Probe; types: Record<string, string>; names: string[]; symbols: string[] }>(
        await runToEnd(executor, "globals.calc.ts", params),
      );
      assertClean(value.probe);
      for (const [name, type] of Object.entries(value.types)) assert.equal(type, "undefined", `globalThis.${name} is ${type}`);
      assert.equal(value.probe.seen["__uzcCanary"], "undefined", "the host canary is not visible");
      // Every global name is one a fresh V8 context has, or one the runtime defines.
      const dontContextify = (vm.constants as unknown as { DONT_CONTEXTIFY: vm.Context }).DONT_CONTEXTIFY;
      const fresh = vm.runInContext("Object.getOwnPropertyNames(globalThis)", vm.createContext(dontContextify)) as string[];
      const runtime = [
        "__uzoncalc",
        "__uzon_in",
        "__uzon_call",
        "__uzon_fn",
        "__uzon_open",
        "__uzon_drop",
        "__uzon_drivers",
        "__uzon_start",
        "__uzon_resume",
        "__uzon_cancel",
        "__uzon_out",
        "__uzon_partial",
        "__uzon_fail",
        "__uzon_render",
        "__uzon_trace",
        "__uzon_units",
        "__uzon_sheet",
      ];
      const allowed = new Set([...fresh, ...runtime]);
      assert.deepEqual(
        value.names.filter((name) => !allowed.has(name)),
        [],
        "unexpected globals",
      );
      assert.deepEqual(value.symbols, []);
    },
  );

  vector("console is the runtime's frozen collector (no streams, no Console), and its output is capped", async () => {
    const response = await runToEnd(executor, "console.calc.ts", params);
    const probe = assertClean(completedValue<Probe>(response));
    assert.equal(probe.seen["keys"], "log,info,warn,error,debug");
    assert.equal(probe.seen["frozen"], "true");
    assert.equal(probe.seen["log replaced"], "false");
    for (const name of ["_stdout", "_stderr", "Console", "context", "profile", "table", "dir", "trace", "time"])
      assert.equal(probe.seen[`console.${name}`], "undefined", name);
    assertNothingCompiled(probe, 10);
    assert.ok(response.logs!.length <= 201, `${response.logs!.length} log lines`);
    assert.ok(response.logs!.every((line) => line.length <= 4001));
  });

  vector(
    "reflection scans (every own property and accessor of the global and what it holds, Symbol.for keys) find no host object",
    async () => {
      const probe = assertClean(completedValue<Probe>(await runToEnd(executor, "symbol-scan.calc.ts", params)));
      assert.ok(Number(probe.seen["checked"]) > 500, `only ${probe.seen["checked"]} properties checked`);
      assert.equal(probe.seen["registered symbols found"], "none");
    },
  );

  vector(
    "arguments.callee.caller from callbacks the runtime invokes (toJSON, Symbol.iterator, toString, then) stops in the realm",
    async () => {
      const value = completedValue<{ chains: Record<string, string>; probe: Probe }>(
        await runToEnd(executor, "callee-caller.calc.ts", params),
      );
      const probe = assertClean(value.probe);
      const expected = [
        "toJSON via console.log",
        "headers Symbol.iterator",
        "headers Symbol.iterator next",
        "row Symbol.iterator",
        "row Symbol.iterator next",
        "cell toString",
        "h1 toPrimitive",
        "p toString",
        "html toString",
        "yielded thenable then",
        "returned thenable then",
        "return value toJSON",
      ];
      assert.deepEqual(Object.keys(value.chains).sort(), [...expected].sort(), "every callback ran");
      for (const label of expected) assert.equal(value.chains[label], "none", `${label}: ${value.chains[label]}`);
      assertNothingCompiled(probe, 0);
    },
  );

  vector("yielding a Proxy, getters, a function or a copied request is refused without the driver touching them", async () => {
    const probe = assertClean(completedValue<Probe>(await runToEnd(executor, "yield-proxy.calc.ts", params)));
    for (const label of ["proxy", "proxy of a real request", "getters", "function", "copy of a real request"])
      assert.equal(probe.seen[label], "threw TypeError", label);
    // Only the language's own await of a yielded value reads `then`; the driver reads nothing of them.
    assert.equal(probe.seen["touched"], "get then,get then");
    assertNothingCompiled(probe, 10);
  });

  vector("an exported Proxy as the sheet function: its traps get realm values only", async () => {
    const value = completedValue<{ probe: Probe; traps: string[] }>(await runToEnd(executor, "exported-proxy.calc.ts", params));
    assertClean(value.probe);
    assert.ok(value.traps.includes("apply"), `traps: ${value.traps.join(",")}`);
  });

  vector(
    "a driver made to throw out to the host with an unread Error and Error.prepareStackTrace set gives no host CallSites",
    async () => {
      const bystander = await openBystander(executor);
      const response = await runToEnd(executor, "driver-throw.calc.ts", { ...params, mode: "prepareStackTrace" });
      assert.equal(response.status, "error");
      assertHostUntouched(marker);
      await finishBystander(executor, bystander);
    },
  );

  vector("a driver made to throw out an object with a slow `stack` getter: the host never runs it", async () => {
    const spin = 100_000_000;
    await runToEnd(executor, "driver-throw.calc.ts", { ...params, mode: "control", spin: 0 }); // bundles it once
    let started = performance.now();
    const control = await runToEnd(executor, "driver-throw.calc.ts", { ...params, mode: "control", spin });
    const controlMs = performance.now() - started;
    assert.equal(control.status, "completed");
    started = performance.now();
    const response = await runToEnd(executor, "driver-throw.calc.ts", { ...params, mode: "getter", spin });
    const attackMs = performance.now() - started;
    assert.equal(response.status, "error");
    assert.ok(
      attackMs < controlMs / 2,
      `the getter ran in the host: ${attackMs.toFixed(0)} ms, the same loop in a step took ${controlMs.toFixed(0)} ms`,
    );
  });

  for (const [shape, length, lines] of [
    ["one 120 000-character line", 120_000, 1],
    ["5 000 lines of 990 characters", 990, 5_000],
  ] as const) {
    vector(`a frame-shaped stack (${shape}) does not stall the host's stack mapping`, async () => {
      await runToEnd(executor, "stack-redos.calc.ts", { ...params, length: 10, lines: 1 }); // bundles it once
      const started = performance.now();
      const response = await runToEnd(executor, "stack-redos.calc.ts", { ...params, length, lines });
      const ms = performance.now() - started;
      assert.equal(response.status, "error");
      assert.equal(response.error!.message, "long stack");
      assert.ok(ms < 1_000, `mapping the stack blocked the host for ${ms.toFixed(0)} ms`);
    });
  }

  vector("a report body that is slow to scan does not stall the host when the report is rendered", async () => {
    const started = performance.now();
    const response = await runToEnd(executor, "report-redos.calc.ts", { ...params, length: 120_000 });
    const ms = performance.now() - started;
    assert.equal(response.status, "completed");
    assert.ok(ms < 1_000, `rendering the report blocked the host for ${ms.toFixed(0)} ms`);
  });
});

describe("escape battery: unhandled rejections, in a host process of its own (as the CLI runs)", function () {
  // Mocha keeps its own 'unhandledRejection' listener, which changes what Node does with them; these vectors run
  // in a child process that hosts an Executor the way the product does, with no listener of its own.
  this.timeout(60_000);
  let script: string;

  before(() => {
    script = path.join(tmp, "host.ts");
    const executorModule = path.join(__dirname, "..", "session", "executor.ts").split(path.sep).join("/");
    fs.writeFileSync(
      script,
      `import { Executor } from ${JSON.stringify(executorModule)};
(globalThis as any).__uzcCanary = 1;
const [file, marker] = process.argv.slice(2);
const tick = () => new Promise((resolve) => setTimeout(resolve, 30));
(async () => {
  const executor = new Executor({ safeDirs: [${JSON.stringify(ESCAPE)}], stepTimeoutMs: 2000 });
  const bystander = await executor.execute({ file_path: ${JSON.stringify(fixture("bystander.calc.ts"))} });
  let response = await executor.execute({ file_path: file, params: { marker } });
  const statuses = [response.status];
  await tick();
  while (response.status === "waiting_ui") {
    response = await executor.resume({ session_id: response.session_id, user_input: {} });
    statuses.push(response.status);
    await tick();
  }
  await executor.resume({ session_id: bystander.session_id, user_input: { x: 2 } });
  const other = await executor.resume({ session_id: bystander.session_id, user_input: { y: 3 } });
  await tick();
  process.stdout.write(JSON.stringify({ statuses, value: response.value ?? null, bystander: other.value, canary: (globalThis as any).__uzcCanary, escaped: (process as any).__uzcEscaped ?? null }) + "\\n");
  await executor.close();
})();
`,
    );
  });

  function host(file: string): Promise<{ code: number | null; stdout: string; stderr: string; marker: string }> {
    const marker = newMarker();
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        ["--require", require.resolve("tsx/cjs"), script, fixture(file), marker],
        { timeout: 50_000, env: { ...process.env, NODE_OPTIONS: "" } },
        (error, stdout, stderr) => {
          resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr, marker });
        },
      );
    });
  }

  async function survives(file: string): Promise<{ value: unknown }> {
    const run = await host(file);
    assert.equal(fs.existsSync(run.marker), false, `the sheet wrote ${run.marker} through the host's fs`);
    assert.doesNotMatch(run.stdout + run.stderr, /uzc-escape|ESCAPED/);
    assert.equal(run.code, 0, `the host process died (exit ${run.code}): ${run.stderr.slice(0, 600)}`);
    const report = JSON.parse(run.stdout.trim().split("\n").pop()!) as {
      statuses: string[];
      value: unknown;
      bystander: unknown;
      canary: unknown;
      escaped: unknown;
    };
    assert.equal(report.escaped, null, `the sheet reached the host process: ${String(report.escaped)}`);
    assert.equal(report.canary, 1);
    assert.deepEqual(report.bystander, { sum: 5, json: '{"k":"1-2"}', proto: null }, "the other session resumed correctly");
    assert.deepEqual(report.statuses, ["waiting_ui", "completed"]);
    return report;
  }

  it("a sheet's unhandled rejections (Promise.reject, a throwing async function) do not end the host process", async () => {
    assert.equal((await survives("reject-primitive.calc.ts")).value, "survived");
  });

  it("an unhandled rejection with Error.prepareStackTrace set gives the sheet no host CallSites", async () => {
    assert.equal((await survives("reject-prepare-stack.calc.ts")).value, "survived");
  });

  it("an unhandled rejection with util.inspect.custom is never inspected by the host", async () => {
    assert.equal((await survives("reject-inspect.calc.ts")).value, "survived");
  });

  it("the host reads nothing of a rejected reason (getters, Proxy traps) between steps", async () => {
    const { value } = await survives("reject-getters.calc.ts");
    assert.deepEqual((value as { outsideStep: string[] }).outsideStep, []);
  });
});

describe("escape battery: assuming an escape, inside a sheet worker", function () {
  this.timeout(30_000);
  interface Result {
    ok: boolean;
    code?: string;
    message?: string;
    value?: string;
  }
  let results: Record<string, Result>;
  let workerDir: string;
  let outsideDir: string;

  before(async () => {
    workerDir = path.join(tmp, "worker");
    outsideDir = path.join(tmp, "outside");
    fs.mkdirSync(workerDir);
    fs.mkdirSync(outsideDir);
    fs.writeFileSync(path.join(workerDir, "readable.txt"), "inside");
    const script = path.join(workerDir, "probe.js");
    fs.writeFileSync(
      script,
      `"use strict";
const { parentPort, Worker } = require("worker_threads");
const fs = require("fs");
const path = require("path");
const childProcess = require("child_process");
const results = {};
function probe(name, fn) {
  try {
    const value = fn();
    results[name] = { ok: true, value: String(value).slice(0, 200) };
  } catch (error) {
    results[name] = { ok: false, code: error && error.code, message: String(error && error.message).slice(0, 200) };
  }
}
probe("readInside", () => fs.readFileSync(path.join(__dirname, "readable.txt"), "utf8"));
probe("writeInside", () => fs.writeFileSync(path.join(__dirname, "written.txt"), "x"));
probe("writeOutside", () => fs.writeFileSync(${JSON.stringify(path.join(outsideDir, "written.txt"))}, "x"));
probe("mkdirOutside", () => fs.mkdirSync(${JSON.stringify(path.join(outsideDir, "made"))}));
probe("readOutside", () => fs.readFileSync("/etc/hostname", "utf8"));
probe("spawnSync", () => {
  const result = childProcess.spawnSync("id");
  if (result.error) throw result.error;
  return result.stdout;
});
probe("execSync", () => childProcess.execSync("id"));
probe("worker", () => new Worker("require('fs').writeFileSync(" + JSON.stringify(${JSON.stringify(path.join(outsideDir, "from-worker.txt"))}) + ", 'x')", { eval: true, execArgv: [] }));
probe("binding", () => process.binding("fs"));
probe("dlopen", () => process.dlopen({ exports: {} }, "/nonexistent/addon.node"));
probe("inspector", () => require("inspector").open(0));
probe("env", () => JSON.stringify(Object.keys(process.env)));
probe("permissionWrite", () => process.permission.has("fs.write"));
parentPort.postMessage(results);
`,
    );
    const worker = new Worker(script, sheetWorkerOptions(script, { memoryLimitMb: 64 }));
    results = await new Promise<Record<string, Result>>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
      worker.once("exit", (code) => reject(new Error(`the probe worker exited (${code}) without an answer`)));
    });
    // Give a nested worker, had it started, the time to write its file.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await worker.terminate();
  });

  function denied(name: string, code = "ERR_ACCESS_DENIED"): void {
    const result = results[name];
    assert.ok(result, `no result for ${name}`);
    assert.equal(result.ok, false, `${name} was allowed: ${result.value}`);
    assert.equal(result.code, code, `${name}: ${result.message}`);
  }

  it("can read its own folder (the probe itself works)", () => {
    assert.deepEqual(results.readInside, { ok: true, value: "inside" });
    assert.deepEqual(results.permissionWrite, { ok: true, value: "false" });
  });
  it("cannot write inside its own folder", () => {
    denied("writeInside");
    assert.equal(fs.existsSync(path.join(workerDir, "written.txt")), false);
  });
  it("cannot write or create folders outside its folder", () => {
    denied("writeOutside");
    denied("mkdirOutside");
    assert.deepEqual(fs.readdirSync(outsideDir), []);
  });
  it("cannot read outside its folder (/etc/hostname)", () => denied("readOutside"));
  it("cannot spawn a child process (spawnSync, execSync)", () => {
    denied("spawnSync");
    denied("execSync");
  });
  it("cannot start a worker of its own, even with execArgv: []", () => {
    denied("worker");
    assert.equal(fs.existsSync(path.join(outsideDir, "from-worker.txt")), false);
  });
  it("cannot use process.binding('fs')", () => denied("binding"));
  it("cannot load native code (process.dlopen)", () => denied("dlopen", "ERR_DLOPEN_DISABLED"));
  it("cannot open the inspector", () => denied("inspector"));
  it("sees an empty environment", () => assert.deepEqual(results.env, { ok: true, value: "[]" }));
});
