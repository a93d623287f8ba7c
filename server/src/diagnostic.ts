// What the checker finds, in source offsets (UTF-16 code units into the sheet as written). The language server
// and `uzoncalc check` each turn these into their own output, so neither depends on the other's types.

export type Severity = "error" | "warning";

/** A one-edit repair: replace [start, end) of the same file with `newText`. */
export interface SheetFix {
  title: string;
  start: number;
  end: number;
  newText: string;
}

export interface SheetDiagnostic {
  start: number;
  end: number;
  severity: Severity;
  /** `UZC1001`…, or `TS2322` for TypeScript's own findings passed through. */
  code: string;
  message: string;
  fix?: SheetFix;
}

export type TypeCheckMode = "all" | "fields" | "off";

export const DEFAULT_TYPE_CHECK: TypeCheckMode = "fields";

export function parseTypeCheckMode(value: unknown): TypeCheckMode | undefined {
  return value === "all" || value === "fields" || value === "off" ? value : undefined;
}

export function compareDiagnostics(a: SheetDiagnostic, b: SheetDiagnostic): number {
  return a.start - b.start || a.end - b.end || a.code.localeCompare(b.code) || a.message.localeCompare(b.message);
}

/** Thrown between phases when the caller gave up on the result (a newer edit, a closed editor). */
export class CheckCancelledError extends Error {
  constructor() {
    super("check cancelled");
    this.name = "CheckCancelledError";
  }
}

/** The LSP token's shape, so the engine needs no LSP import. */
export interface CancellationSignal {
  readonly isCancellationRequested: boolean;
}
