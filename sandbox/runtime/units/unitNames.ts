// The names "uzoncalc/units" exports: every unit symbol the form parser knows (protocol/units.ts), with the
// common SI prefixes; any other unit by `unit("daN")`. Shared by the loader (the module's code) and a test that
// keeps uzoncalc-units.d.ts in step.

import { unitSymbols } from "../../../protocol/units";

const ALL_PREFIXES = ["G", "M", "k", "h", "da", "d", "c", "m", "µ", "μ", "u", "n"];
const COMMON_PREFIXES = ["G", "M", "k", "m", "µ", "u", "n"];
/** Centi and deci only where engineers use them. */
const SMALL_PREFIXED = new Set(["cm", "dm", "cL", "dL", "cl", "dl"]);
const RENAMED: Record<string, string> = { in: "inch" };

/** [export name, unit symbol] pairs. */
export function unitExports(): [string, string][] {
  const out: [string, string][] = [];
  for (const symbol of unitSymbols()) {
    const name = RENAMED[symbol] ?? symbol;
    if (!/^[A-Za-zµ][A-Za-zµ]*$/.test(name)) continue;
    const base = ["mol", "rad", "bar", "Pa", "Hz", "N", "J", "W", "V", "A", "K", "L", "l", "m", "g", "s"].find(
      (b) => symbol.endsWith(b) && symbol.length > b.length,
    );
    const prefix = base === undefined ? "" : symbol.slice(0, symbol.length - base.length);
    if (
      prefix !== "" &&
      ALL_PREFIXES.includes(prefix) &&
      !COMMON_PREFIXES.includes(prefix) &&
      !SMALL_PREFIXED.has(symbol) &&
      symbol !== "min"
    )
      continue;
    out.push([name, symbol]);
  }
  return out;
}

/** The JavaScript of the "uzoncalc/units" module inside a sheet bundle (unused units are dropped by the bundler). */
export function unitsModuleSource(global: string): string {
  let out = `const u = globalThis.${global};\nexport const unit = u.unit;\nexport const units = u.units;\n`;
  for (const [name, symbol] of unitExports()) out += `export const ${name} = /* @__PURE__ */ u.unit(${JSON.stringify(symbol)});\n`;
  return out;
}
