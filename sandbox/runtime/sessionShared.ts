// What the per-session runtime (driver.ts) would otherwise make for every window, made once per member realm
// instead (scripts/realmRuntime.cjs: evaluated before realm.ts hardens the realm, then frozen with its
// intrinsics). Nothing here holds a session's state.

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
