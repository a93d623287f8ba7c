// A pad footing under a column: bearing pressure and sliding. Asks for every kind of field a sheet can use.
import { UI, Window, h1, h2, p, table } from "uzoncalc";
import { kN, kPa, m, mm, units } from "uzoncalc/units";
import { round } from "./lib/sections";

/** Allowable bearing pressure and base friction coefficient, for a preliminary design. */
const SOILS = {
  "Dense sand": { q_allow: 300 * kPa, mu: 0.55 },
  "Stiff clay": { q_allow: 150 * kPa, mu: 0.35 },
  "Soft clay": { q_allow: 75 * kPa, mu: 0.25 },
};

const CONCRETE_WEIGHT = 25 * (kN / m ** 3);

export async function* sheet() {
  h1("Pad footing");
  p("Bearing pressure under a rectangular pad footing and its resistance to sliding.");
  // Soil pressures read in kPa (a stress would otherwise read in MPa).
  units({ stress: "kPa" });

  const footing = yield UI(
    Window({
      title: "Footing",
      caption: "Plan size, depth and the soil below",
      fields: [
        { name: "B", type: "number", label: "Width B", unit: "m", default: 1.8, min: 0.3, max: 10, step: 0.1, required: true },
        { name: "L", type: "number", label: "Length L", unit: "m", default: 2.0, min: 0.3, max: 10, step: 0.1, required: true },
        { name: "t", type: "number", label: "Thickness", unit: "mm", default: 500, min: 200, max: 3000, required: true },
        { name: "soil", type: "selectOne", label: "Soil below the base", options: Object.keys(SOILS), default: "Stiff clay" },
        {
          name: "checks",
          type: "selectMany",
          label: "Checks to run",
          options: [
            { value: "bearing", label: "Bearing" },
            { value: "sliding", label: "Sliding" },
          ],
          default: ["bearing"],
        },
        { name: "submerged", type: "boolean", label: "Groundwater above the base (halves the allowable pressure)", default: false },
        { name: "ref", type: "text", label: "Footing mark", placeholder: "e.g. F3" },
        { name: "notes", type: "textarea", label: "Notes for the report", help: "Printed under the results." },
      ],
    }),
  );

  const soil = SOILS[footing.soil as keyof typeof SOILS];
  const B = footing.B * m;
  const L = footing.L * m;
  const t = footing.t * mm;
  const area = B * L;
  const selfWeight = area * t * CONCRETE_WEIGHT;
  const q_allow = footing.submerged ? soil.q_allow / 2 : soil.q_allow;
  h2(`Footing ${footing.ref ?? ""}`.trim());
  table(
    ["Quantity", "Value"],
    [
      ["Plan B × L", `${footing.B} m × ${footing.L} m`],
      ["Thickness", `${footing.t} mm`],
      ["Soil", `${footing.soil}${footing.submerged ? " (submerged)" : ""}`],
      ["Allowable pressure", q_allow],
      ["Self weight", selfWeight],
    ],
    "Footing and soil",
  );

  const loads = yield UI(
    Window({
      title: "Column loads",
      fields: [
        { name: "N", type: "number", label: "Axial load (service)", unit: "kN", default: 400, min: 0, required: true },
        { name: "H", type: "number", label: "Horizontal load (service)", unit: "kN", default: 20, min: 0 },
      ],
    }),
  );

  const N = loads.N * kN;
  const total = N + selfWeight;
  const rows: (string | number)[][] = [];
  if (footing.checks.includes("bearing")) {
    const q = total / area;
    rows.push(["Bearing", q, q_allow, round(q / q_allow, 3), q <= q_allow ? "OK" : "FAILS"]);
  }
  if (footing.checks.includes("sliding")) {
    const resistance = soil.mu * total;
    const H = loads.H * kN;
    rows.push(["Sliding", H, resistance, round(H / resistance, 3), H <= resistance ? "OK" : "FAILS"]);
  }
  h2("Checks");
  if (rows.length === 0) p("No checks were selected.");
  else table(["Check", "Demand", "Capacity", "Utilisation", "Result"], rows, `N = ${loads.N} kN plus ${selfWeight} self weight`);
  if (footing.notes) p(`Notes: ${footing.notes}`);
  return { total: round(total.in("kN"), 1), area: round(area.in("m^2"), 3) };
}
