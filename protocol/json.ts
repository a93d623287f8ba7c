// JSON as it crosses a boundary: the value types, and the one check that an untrusted value is a plain object.

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * Whether a JSON value nests no deeper than `max` (a scalar is depth 0). Iterative, so a value nested thousands
 * deep is measured without using the stack (where the structured clone of an IPC send would overflow on it).
 */
export function nestsWithin(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (typeof current !== "object" || current === null) continue;
    if (depth >= max) return false;
    for (const child of Array.isArray(current) ? current : Object.values(current)) stack.push([child, depth + 1]);
  }
  return true;
}

/** A plain object (not null, not an array): what every request body, params and inputs must be. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
