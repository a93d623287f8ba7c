// Load-time instrumentation of a sheet module for the calculation report: esbuild strips the types, acorn
// parses the result, the sheet functions' statements get insertions that record values and call the in-realm
// renderer, and the source map goes straight back to the sheet's own source (errors keep their line:column).
// Runs once per bundle: the loader caches bundles by content.
//
// A module is left exactly as it is (undefined is returned) when it has no sheet function, opts out with
// `export const render = false`, mentions the reserved `__uzon` names, or does not compile (the bundler then
// reports the error at its place).

import * as acorn from "acorn";
import * as esbuild from "esbuild";
import { REALM } from "../../runtime/abi";
import { INSTRUMENT_NAMES } from "../../../protocol/reportTemplate";
import type { FormulaEnvironment } from "./formula";
import { inputObjectNames, readSheetScope, renderHelperNames, runtimeCallee } from "./sheetScope";
import { applyInsertions, TransformedSource } from "./sourceText";
import { planInstrumentation, type Plan } from "./statements";
import { importsUnits, planUnitOperators, unitImports, UNITS_HELPER } from "./unitOperators";

export interface InstrumentInput {
  source: string;
  /** The name the source map gives the file (resolved, like the file, from its folder). */
  sourceName: string;
  loader: esbuild.Loader;
  /** The compiler options the bundle uses, so stripping types here changes nothing. */
  tsconfigRaw: esbuild.TransformOptions["tsconfigRaw"];
}

export interface Instrumented {
  /** JavaScript with an inline source map to the sheet's source: for esbuild's `js` loader. */
  contents: string;
  /** Rendered statements. */
  statements: number;
}

const NUMERIC_LITERAL = /^(?:0[xXoObB][0-9a-fA-F_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?)/;

export async function instrumentSheet(input: InstrumentInput): Promise<Instrumented | undefined> {
  if (!/function\s*\*/.test(input.source) || input.source.includes("__uzon")) return undefined;
  let transformed: esbuild.TransformResult;
  try {
    transformed = await esbuild.transform(input.source, {
      loader: input.loader,
      format: "esm",
      target: "es2022",
      charset: "utf8",
      sourcemap: "external",
      sourcefile: input.sourceName,
      legalComments: "none",
      logLevel: "silent",
      tsconfigRaw: input.tsconfigRaw,
    });
  } catch {
    return undefined;
  }
  let program: acorn.Program;
  try {
    program = acorn.parse(transformed.code, { ecmaVersion: "latest", sourceType: "module" });
  } catch {
    return undefined;
  }
  const scope = readSheetScope(program, renderHelperNames(input.source));
  const units = importsUnits(program);
  if (!units && (scope.renderOff || scope.sheetFunctions.length === 0)) return undefined;
  const text = new TransformedSource(transformed.code, input.source, transformed.map);
  const env: FormulaEnvironment = {
    literalText(node) {
      const raw = text.sourceTextAt(node.start, 64);
      const match = raw === undefined ? null : NUMERIC_LITERAL.exec(raw);
      if (!match || Number(match[0].replace(/_/g, "")) !== node.value) return undefined;
      return match[0];
    },
    runtimeCall: (node) => runtimeCallee(scope, node),
    inputObjects: inputObjectNames(scope),
  };
  if (units) {
    const symbols = unitImports(program);
    env.unitSymbol = (name) => symbols.get(name);
  }
  const lineOf = (offset: number) => text.lineOf(offset);
  const plan: Plan = scope.renderOff ? { descriptors: [], insertions: [] } : planInstrumentation({ scope, env, lineOf });
  if (plan.descriptors.length === 0 && !units) return undefined;
  const { renderer, table } = INSTRUMENT_NAMES;
  // One line-free statement in front of the module: the renderer and this module's descriptors.
  if (plan.descriptors.length > 0) {
    plan.insertions.push({
      at: 0,
      // As JSON text: the member realm parses it once and its sessions share the table (report/record.ts).
      text: `var ${renderer} = ${REALM.render}, ${table} = ${renderer}.formulas(${JSON.stringify(JSON.stringify(plan.descriptors))}); `,
      closing: false,
      span: Number.MAX_SAFE_INTEGER,
    });
  }
  if (units) {
    plan.insertions.push({ at: 0, text: `var ${UNITS_HELPER} = ${REALM.units}; `, closing: false, span: Number.MAX_SAFE_INTEGER });
    for (const insertion of planUnitOperators(program, transformed.code, lineOf)) plan.insertions.push(insertion);
  }
  const code = applyInsertions(transformed.code, plan.insertions);
  const map = text.mapAfter(plan.insertions, input.sourceName);
  return {
    contents: `${code}\n//# sourceMappingURL=data:application/json;base64,${Buffer.from(map).toString("base64")}\n`,
    statements: plan.descriptors.length,
  };
}
