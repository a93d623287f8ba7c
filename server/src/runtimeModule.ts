// The "uzoncalc" module as virtual sheets import it: the runtime's own declarations (sandbox/runtime/uzoncalc.d.ts,
// the single source of the field value types), behind a thin wrapper that changes one thing about `UI`.
import * as fs from "node:fs";
import * as path from "node:path";

declare const __UZON_RUNTIME_DTS__: string | undefined;
declare const __UZON_UNITS_DTS__: string | undefined;

/**
 * A field list built at run time has names of type `string`, and the runtime's `ValuesOf` would then give every
 * property the union of all field value types: every use would be an error. Such windows get
 * `Record<string, any>` instead (not `unknown`, which makes every use an error too).
 */
export const RUNTIME_WRAPPER = `// uzoncalc as the language server types it: the runtime's declarations with UI's fallback for run-time field lists.
export * from "./runtime";
import type { FieldSpec, UIRequest, ValuesOf, WindowOptions, WindowSpec } from "./runtime";
export type SheetValues<F extends readonly FieldSpec[]> = string extends F[number]["name"] ? Record<string, any> : ValuesOf<F>;
export declare function UI<const F extends readonly FieldSpec[]>(window: WindowSpec<F> | WindowOptions<F>): UIRequest<SheetValues<F>>;
`;

/** The alias whose instantiations are window results: recognised by name and by the file declaring it. */
export const VALUES_ALIAS = "ValuesOf";

export function runtimeDeclarations(): string {
  if (typeof __UZON_RUNTIME_DTS__ === "string") return __UZON_RUNTIME_DTS__;
  // Running from source (tests, bench): the build inlines this file into the bundles.
  return fs.readFileSync(path.join(__dirname, "..", "..", "sandbox", "runtime", "uzoncalc.d.ts"), "utf8");
}

/** "uzoncalc/units" (sandbox/runtime/uzoncalc-units.d.ts), importing the runtime's types as "./runtime" here. */
export function unitsDeclarations(): string {
  const text =
    typeof __UZON_UNITS_DTS__ === "string"
      ? __UZON_UNITS_DTS__
      : fs.readFileSync(path.join(__dirname, "..", "..", "sandbox", "runtime", "uzoncalc-units.d.ts"), "utf8");
  return text.replace(/from "\.\/uzoncalc"/g, 'from "./runtime"');
}

export interface RuntimeModule {
  /** What `import … from "uzoncalc"` resolves to. */
  indexFile: string;
  /** What `import … from "uzoncalc/units"` resolves to. */
  unitsFile: string;
  /** The runtime's declarations; ValuesOf is declared here. */
  runtimeFile: string;
  files: ReadonlyMap<string, string>;
}

/** In-memory files under a folder of ours (the lib folder), so they cannot collide with a user's files. */
export function createRuntimeModule(libDir: string): RuntimeModule {
  const indexFile = `${libDir}/uzoncalc/index.d.ts`;
  const runtimeFile = `${libDir}/uzoncalc/runtime.d.ts`;
  const unitsFile = `${libDir}/uzoncalc/units.d.ts`;
  return {
    indexFile,
    runtimeFile,
    unitsFile,
    files: new Map([
      [indexFile, RUNTIME_WRAPPER],
      [runtimeFile, runtimeDeclarations()],
      [unitsFile, unitsDeclarations()],
    ]),
  };
}
