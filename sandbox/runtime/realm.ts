// The member realm: one node:vm context shared by many sessions, each with its own cheap scope.
//
// Why one realm and not a context per session (issue 15): a fresh context costs ~0.9 ms and ~190 KB before the
// sheet runs a line, which decided the service's throughput. Here the context, the runtime's code and its warm
// inline caches are made once per member; a session is an object inheriting from the realm's global plus one
// evaluation of the per-session runtime (driver.ts) and of the sheet's top level, both compiled once.
//
// What keeps sessions apart, in the order it is set up below, all before any sheet code runs:
// - Every intrinsic reachable from the global (and the ones reachable only through syntax: generator, iterator
//   and typed-array prototypes, %ThrowTypeError%) is frozen, and the global itself is made non-extensible with
//   every property read-only, as SES's lockdown() does. A session can reach all of them and change none.
//   Assignments that only look like changes (`error.name = "…"` on an instance, `o.toString = f`) are kept
//   working by turning those few inherited properties into accessors that define an own property instead.
// - What must differ per session reads the current session: Date (its clock), Math.random (its seeded
//   sequence), Intl's "now" and console. Only one session runs at a time (a step drains its own microtasks
//   before the host's call returns), and the realm switches the current session at every driver call.
// - State that the language keeps per realm is removed: RegExp's legacy statics (`RegExp.$1`, `lastMatch`)
//   would show one session another's last match. SharedArrayBuffer, Atomics, WebAssembly and
//   FinalizationRegistry go as before (FinalizationRegistry's callbacks would run sheet code outside any step).
// - Error.prepareStackTrace is pinned to undefined: Node calls it with CallSites made in the host's context.
// - The host drives a session by writing two strings, the call (this realm's secret and the session's number)
//   and its input, then running one driver. The driver clears both before any sheet code runs, so a session
//   that calls a driver itself, or writes the mailboxes, reaches no other session: it never sees the secret.
// After a step the host had to stop (time limit), the realm's microtask queue may still hold that sheet's jobs;
// the host runs them out under a short limit with that session current, and retires the whole realm if the queue
// cannot be shown empty (sheetRealm.ts MemberRealm.settleAfterStop); its other sessions are then rebuilt by replay.

import { REALM, type SessionDrivers } from "./abi";
import { installNumberConversions } from "./units";

/** The per-session runtime (driver.ts), wrapped by the build (scripts/realmRuntime.cjs). */
declare const __uzon_session_factory: (scope: object) => void;
/** The runtime's stateless modules, made once per member and shared by its sessions (scripts/realmRuntime.cjs). */
declare const __uzon_library: object;

const G = globalThis as unknown as Record<string, unknown>;
const { defineProperty, getOwnPropertyDescriptor, getPrototypeOf, freeze, create, preventExtensions } = Object;
const ownKeys = Reflect.ownKeys;
const apply = Reflect.apply;
const construct = Reflect.construct;
const hasOwn = Object.prototype.hasOwnProperty;

const secret = String(G[REALM.input]);
G[REALM.input] = "";

const sessions = new Map<number, SessionDrivers>();
/** What the realm-wide Date, Math.random and console read: the session the last call was for. */
let current: Pick<SessionDrivers, "now" | "random" | "log"> = { now: () => 0, random: () => 0, log() {} };

// ---- the calls the host makes ------------------------------------------------------------------------------

/** The call's session number and input, when the host (who alone knows the secret) made it. */
function enter(): { id: number; input: string } | undefined {
  const call = G[REALM.call];
  const input = G[REALM.input];
  G[REALM.call] = "";
  G[REALM.input] = "";
  if (typeof call !== "string" || !call.startsWith(`${secret}:`)) return undefined;
  return { id: Number(call.slice(secret.length + 1)), input: typeof input === "string" ? input : "" };
}

/** The call's session, made current, with the call's input. */
function select(): { id: number; drivers: SessionDrivers; input: string } | undefined {
  const call = enter();
  const drivers = call && sessions.get(call.id);
  if (!call || !drivers) return undefined;
  current = drivers;
  return { id: call.id, drivers, input: call.input };
}

function open(): void {
  const sheetFunction = G[REALM.sheetFunction];
  G[REALM.sheetFunction] = undefined;
  const call = enter();
  if (!call || typeof sheetFunction !== "function") return;
  const scope = create(G) as Record<string, unknown>;
  __uzon_session_factory(scope);
  const drivers = scope[REALM.drivers] as SessionDrivers;
  sessions.set(call.id, drivers);
  current = drivers;
  drivers.init(call.input);
  drivers.load(sheetFunction);
}

function start(): void {
  const call = select();
  if (call) call.drivers.start(call.input);
}

function resume(): void {
  const call = select();
  if (call) call.drivers.resume(call.input);
}

function cancel(): void {
  const call = select();
  if (call) call.drivers.cancel();
}

/** The outcome of the session's last step ("" while pending); a session whose run is over is forgotten. */
function out(): string {
  const call = select();
  if (!call) return "";
  const text = call.drivers.out();
  if (call.drivers.over()) sessions.delete(call.id);
  return text;
}

function partial(): string {
  const call = select();
  return call ? call.drivers.partial() : "";
}

function drop(): void {
  const call = enter();
  if (call) sessions.delete(call.id);
}

// ---- what differs per session -------------------------------------------------------------------------------

const RealDate = Date;

function SessionDate(this: unknown, ...args: unknown[]): unknown {
  if (new.target === undefined) return String(construct(RealDate, [current.now()]));
  return construct(RealDate, args.length === 0 ? [current.now()] : args, new.target);
}
defineProperty(SessionDate, "prototype", { value: RealDate.prototype, writable: false });
defineProperty(SessionDate, "name", { value: "Date" });
defineProperty(SessionDate, "length", { value: 7 });
for (const [name, value] of [
  ["now", () => current.now()],
  ["parse", RealDate.parse],
  ["UTC", RealDate.UTC],
] as const)
  defineProperty(SessionDate, name, { value, writable: true, configurable: true });
defineProperty(RealDate.prototype, "constructor", { value: SessionDate, writable: true, configurable: true });
G.Date = SessionDate;

// Intl formats "now" when given no date, reading the real clock: give it the session's instead.
const dateTimeFormat = Intl.DateTimeFormat.prototype;
const formatGetter = getOwnPropertyDescriptor(dateTimeFormat, "format")?.get;
if (formatGetter) {
  defineProperty(dateTimeFormat, "format", {
    configurable: true,
    get(this: Intl.DateTimeFormat) {
      const format = apply(formatGetter, this, []) as (date?: unknown) => string;
      return (date?: unknown) => format(date === undefined ? current.now() : date);
    },
  });
}
const formatToParts = dateTimeFormat.formatToParts;
defineProperty(dateTimeFormat, "formatToParts", {
  configurable: true,
  writable: true,
  value(this: Intl.DateTimeFormat, date?: unknown) {
    return apply(formatToParts, this, [date === undefined ? current.now() : date]);
  },
});

defineProperty(Math, "random", { value: () => current.random(), writable: true, configurable: true });

const consoleLog = (...args: unknown[]) => apply(current.log, undefined, args);
G.console = { log: consoleLog, info: consoleLog, warn: consoleLog, error: consoleLog, debug: consoleLog };

installNumberConversions();

// ---- what must not be shared at all ---------------------------------------------------------------------------

for (const name of ["SharedArrayBuffer", "Atomics", "WebAssembly", "FinalizationRegistry"]) delete G[name];
for (const name of ["$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9", "input", "$_", "lastMatch", "$&", "lastParen", "$+"])
  delete (RegExp as unknown as Record<string, unknown>)[name];
for (const name of ["leftContext", "$`", "rightContext", "$'"]) delete (RegExp as unknown as Record<string, unknown>)[name];

// No Error.prepareStackTrace for sheets. Node calls the one of the realm an error comes from whenever that
// error's stack is formatted, also when the host formats it: the CallSite array it then gets is made in the
// host's context, and its constructor chain is the host's Function.
defineProperty(Error, "prepareStackTrace", { value: undefined, writable: false, enumerable: false, configurable: false });

// ---- hardening ------------------------------------------------------------------------------------------------

/**
 * Inherited properties that ordinary code assigns on its own objects (SES's "moderate" override taming, minus
 * the hot Array methods): once the prototype is frozen, `instance.name = "X"` would throw, so the property
 * becomes an accessor whose setter defines the property on the instance.
 */
function enableOverride(target: object, key: PropertyKey): void {
  const desc = getOwnPropertyDescriptor(target, key);
  if (!desc || !("value" in desc)) return;
  const value: unknown = desc.value;
  defineProperty(target, key, {
    get: function getter() {
      return value;
    },
    set: function setter(this: unknown, next: unknown) {
      if (this === target || typeof this !== "object" || this === null)
        throw new TypeError(`Cannot assign to read only property '${String(key)}' of a shared built-in object`);
      if (apply(hasOwn, this, [key])) (this as Record<PropertyKey, unknown>)[key] = next;
      else defineProperty(this, key, { value: next, writable: true, enumerable: true, configurable: true });
    },
    enumerable: desc.enumerable ?? false,
    configurable: false,
  });
}

const errorPrototypes = [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError, AggregateError].map(
  (ctor) => ctor.prototype as object,
);
const iteratorPrototype = getPrototypeOf(getPrototypeOf([][Symbol.iterator]())) as object;
for (const key of ["toString", "valueOf"]) enableOverride(Object.prototype, key);
for (const key of ["toString", "constructor", "bind"]) enableOverride(Function.prototype, key);
for (const proto of errorPrototypes) for (const key of ["name", "message", "constructor", "toString"]) enableOverride(proto, key);
for (const key of ["toString", Symbol.iterator]) enableOverride(iteratorPrototype, key);
enableOverride(Array.prototype, "toString");

/** The intrinsics that only syntax reaches (SES's anonymous intrinsics). */
function hiddenIntrinsics(): unknown[] {
  const throwTypeError = getOwnPropertyDescriptor(
    (function () {
      // eslint-disable-next-line prefer-rest-params
      return arguments;
    })(),
    "callee",
  )?.get;
  return [
    throwTypeError,
    function* () {},
    async function () {},
    async function* () {},
    (async function* () {})(),
    (function* () {})(),
    [][Symbol.iterator](),
    new Map()[Symbol.iterator](),
    new Set()[Symbol.iterator](),
    ""[Symbol.iterator](),
    /./[Symbol.matchAll](""),
    getPrototypeOf(Int8Array),
  ];
}

/**
 * Freezes everything reachable from `roots` through properties, accessors and prototypes.
 *
 * What it costs: with Array.prototype and Object.prototype frozen, V8 (Node 20) can no longer assume that no
 * prototype holds elements, and drops that fast path for the whole realm. A store that grows an array by index
 * (`a[a.length] = x`, `new Array(n)` filled in) and a read past an array's end then go through the runtime, 5-12×
 * slower; push(), literals, rest parameters and at() keep their speed. The runtime sticks to those (ESLint's
 * no-restricted-syntax for realm code): a rendered line did three such stores, most of what rendering cost.
 * A sheet's own code pays it too, the price of sessions sharing one realm safely.
 */
function freezeReachable(roots: unknown[], except: object): void {
  const seen = new WeakSet<object>();
  const pending = roots.slice();
  while (pending.length > 0) {
    const value = pending.pop();
    if ((typeof value !== "object" && typeof value !== "function") || value === null) continue;
    if (seen.has(value)) continue;
    seen.add(value);
    if (value !== except) freeze(value);
    pending.push(getPrototypeOf(value));
    for (const key of ownKeys(value)) {
      const desc = getOwnPropertyDescriptor(value, key);
      if (!desc) continue;
      if ("value" in desc) pending.push(desc.value);
      else pending.push(desc.get, desc.set);
    }
  }
}

const MAILBOXES = new Set<PropertyKey>([REALM.input, REALM.call, REALM.sheetFunction]);
for (const name of MAILBOXES) G[name as string] = name === REALM.sheetFunction ? undefined : "";
for (const [name, driver] of [
  [REALM.open, open],
  [REALM.start, start],
  [REALM.resume, resume],
  [REALM.cancel, cancel],
  [REALM.out, out],
  [REALM.partial, partial],
  [REALM.drop, drop],
] as const)
  G[name] = driver;

// The member library is frozen with the intrinsics: a session reaches its functions and tables through what the
// runtime hands it (a unit's dimensions, a field's type list), and they are the same objects in every session.
freezeReachable([G, ...hiddenIntrinsics(), __uzon_library], G);
for (const key of ownKeys(G)) {
  const desc = getOwnPropertyDescriptor(G, key)!;
  if (MAILBOXES.has(key)) defineProperty(G, key, { writable: true, enumerable: false, configurable: false });
  else if ("value" in desc) defineProperty(G, key, { writable: false, configurable: false });
  else defineProperty(G, key, { configurable: false });
}
preventExtensions(G);
