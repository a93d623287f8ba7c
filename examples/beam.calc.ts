// A simply supported timber or steel beam under a uniform load: bending and deflection checks.
import { UI, Window, h1, h2, p, table } from "uzoncalc";
import { round, secondMoment, sectionModulus } from "./lib/sections";

const MATERIALS = {
  "C24 timber": { f_m: 24, E: 11000 },
  "GL28h glulam": { f_m: 28, E: 12600 },
  "S235 steel": { f_m: 235, E: 210000 },
} as const;

export async function* sheet(params: { loadFactor?: number } = {}) {
  const gammaQ = params.loadFactor ?? 1.5;
  h1("Simply supported beam");
  p("Bending and deflection of a single-span beam under a uniformly distributed load.");

  const geometry = yield UI(Window({
    title: "Geometry",
    id: "geometry",
    caption: "Clear span between supports",
    fields: [
      { name: "span", type: "number", label: "Span", unit: "m", default: 6, min: 0.5, max: 40, required: true },
      { name: "b", type: "number", label: "Section width", unit: "mm", default: 100, min: 10, max: 2000, required: true },
      { name: "h", type: "number", label: "Section depth", unit: "mm", default: 300, min: 10, max: 3000, required: true },
    ],
  }));
  const L: number = geometry.span;
  const section = { b: geometry.b as number, h: geometry.h as number };
  h2("Geometry");
  table(["Quantity", "Value"], [["Span L", `${L} m`], ["Width b", `${section.b} mm`], ["Depth h", `${section.h} mm`]], "Beam geometry");

  const loads = yield UI(Window({
    title: "Loads",
    fields: [
      { name: "g", type: "number", label: "Permanent load", unit: "kN/m", default: 1.2, min: 0, required: true },
      { name: "q", type: "number", label: "Variable load", unit: "kN/m", default: 2.0, min: 0, required: true },
      { name: "cases", type: "selectMany", label: "Load cases", options: ["dead", "live", "snow"], default: ["dead", "live"] },
    ],
  }));
  const w = 1.35 * loads.g + gammaQ * loads.q;
  const M = (w * L * L) / 8;
  h2("Loads");
  p(`Design load w = 1.35·${loads.g} + ${gammaQ}·${loads.q} = ${round(w)} kN/m (cases: ${loads.cases.join(", ") || "none"}).`);
  p(`Design moment M = w·L²/8 = ${round(M)} kN·m.`);

  const material = yield UI(Window({
    title: "Material",
    fields: [
      { name: "grade", type: "selectOne", label: "Material", options: Object.keys(MATERIALS), default: "C24 timber" },
      { name: "limit", type: "number", label: "Deflection limit L/", default: 300, min: 100, max: 1000 },
      { name: "ref", type: "text", label: "Project reference", placeholder: "e.g. P-1042" },
    ],
  }));
  const props = MATERIALS[material.grade as keyof typeof MATERIALS];
  const W = sectionModulus(section);
  const I = secondMoment(section);
  const sigma = (M * 1e6) / W;
  const utilisation = sigma / props.f_m;
  const wk = loads.g + loads.q;
  const delta = (5 * wk * (L * 1000) ** 4) / (384 * props.E * I);
  const deltaLimit = (L * 1000) / material.limit;

  h2("Checks");
  table(
    ["Check", "Demand", "Capacity", "Utilisation", "Result"],
    [
      ["Bending stress", `${round(sigma, 2)} MPa`, `${props.f_m} MPa`, round(utilisation, 3), utilisation <= 1 ? "OK" : "FAILS"],
      ["Deflection", `${round(delta, 1)} mm`, `${round(deltaLimit, 1)} mm`, round(delta / deltaLimit, 3), delta <= deltaLimit ? "OK" : "FAILS"],
    ],
    `${material.grade}, section ${section.b}×${section.h} mm`,
  );
  if (material.ref) p(`Project reference: ${material.ref}.`);
  return { w: round(w), M: round(M), sigma: round(sigma, 2), utilisation: round(utilisation, 3), ok: utilisation <= 1 && delta <= deltaLimit };
}
