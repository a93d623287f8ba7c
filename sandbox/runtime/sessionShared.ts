// What the per-session runtime would otherwise make for every session or every window, made once per member realm
// instead (scripts/realmRuntime.cjs: evaluated before realm.ts hardens the realm, then frozen with its
// intrinsics). Nothing here holds a session's state.

import { EQUALS, EQUATION_OPEN, type RenderDescriptor } from "../../protocol/reportTemplate";

/**
 * Descriptor tables by their JSON text, parsed once per member realm and frozen, so the sessions of a sheet share
 * one copy (a 300-line sheet's table is most of what a paused session would otherwise hold). Code run elsewhere
 * (the host's tests) gets this module's own map.
 */
const descriptorTables = new Map<string, readonly RenderDescriptor[]>();
const MAX_DESCRIPTOR_TABLES = 512;

/** A module's render descriptors from their JSON text (the instrumented bundle's `formulas(...)` call). */
export function descriptorTable(json: string): readonly RenderDescriptor[] {
  let table = descriptorTables.get(json);
  if (table === undefined) {
    table = JSON.parse(json) as RenderDescriptor[];
    if (Array.isArray(table)) for (const descriptor of table) addHead(descriptor);
    deepFreeze(table);
    // Bounded: a sheet that calls this itself with ever new text must not grow what outlives its session.
    if (descriptorTables.size < MAX_DESCRIPTOR_TABLES) descriptorTables.set(json, table);
  }
  return table;
}

/**
 * An equation's head (EquationDescriptor.head), made here once for all the sessions of the member: every render of
 * the line starts with it. Joined, so it is one flat string and not a rope of four, both to append and for the host
 * to read. Made only from the descriptor's own lhs and sym: a head in the JSON (a sheet may call `formulas` itself)
 * is dropped.
 */
function addHead(descriptor: unknown): void {
  if (typeof descriptor !== "object" || descriptor === null) return;
  const d = descriptor as Record<string, unknown>;
  delete d.head;
  if (d.k !== "eq" || typeof d.lhs !== "string" || typeof d.sym !== "string" || d.lhs === "" || d.sym === d.lhs) return;
  d.head = [EQUATION_OPEN, d.lhs, EQUALS, d.sym].join("");
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

/**
 * What `UI(window)` returns. It works with `yield UI(w)` (the driver sees it as the yielded value) and with
 * `yield* UI(w)` (its iterator yields the request once, then returns the injected values as the expression's
 * value). It holds nothing: the session's runtime keeps its window in a WeakMap keyed by the request.
 */
export class WindowRequest {
  [Symbol.iterator](): Iterator<unknown, unknown, unknown> {
    let yielded = false;
    return {
      next: (value: unknown) => {
        if (yielded) return { done: true, value };
        yielded = true;
        return { done: false, value: this };
      },
    };
  }
}
