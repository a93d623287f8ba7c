// A simply supported timber or steel beam under a uniform load: bending and deflection checks.
// Every assignment in the sheet function renders into the report as formula = substitution = value, with units.
import { UI, Window, check, h2, hide, p, plot, show, table, titleBlock } from "uzoncalc";
import { MPa, kN, m, mm } from "uzoncalc/units";
import { round } from "./lib/sections";

/** Bending strength f_m and modulus of elasticity E. */
const MATERIALS = {
  "C24 timber": { f_m: 24 * MPa, E: 11000 * MPa },
  "GL28h glulam": { f_m: 28 * MPa, E: 12600 * MPa },
  "S235 steel": { f_m: 235 * MPa, E: 210000 * MPa },
};

export async function* sheet(params: { loadFactor?: number } = {}) {
  titleBlock({
    title: "Simply supported beam",
    subject: "Bending and deflection of a single-span beam under a uniformly distributed load",
    reference: "EN 1990 (6.10) load combination; elastic beam theory",
  });

  const geometry = yield UI(
    Window({
      title: "Geometry",
      id: "geometry",
      caption: "Clear span between supports",
      fields: [
        { name: "span", type: "number", label: "Span", unit: "m", default: 6, min: 0.5, max: 40, required: true },
        { name: "b", type: "number", label: "Section width", unit: "mm", default: 100, min: 10, max: 2000, required: true },
        { name: "h", type: "number", label: "Section depth", unit: "mm", default: 300, min: 10, max: 3000, required: true },
      ],
    }),
  );
  h2("Geometry");
  table(
    ["Quantity", "Value"],
    [
      ["Span L", `${geometry.span} m`],
      ["Width b", `${geometry.b} mm`],
      ["Depth h", `${geometry.h} mm`],
    ],
    "Beam geometry",
  );
  const L = geometry.span * m;
  const b = geometry.b * mm;
  const h = geometry.h * mm;
  ("Elastic section modulus and second moment of area of the rectangular section:");
  const W = (b * h ** 2) / 6;
  const I = (b * h ** 3) / 12;

  const loads = yield UI(
    Window({
      title: "Loads",
      fields: [
        { name: "g", type: "number", label: "Permanent load", unit: "kN/m", default: 1.2, min: 0, required: true },
        { name: "q", type: "number", label: "Variable load", unit: "kN/m", default: 2.0, min: 0, required: true },
        { name: "cases", type: "selectMany", label: "Load cases", options: ["dead", "live", "snow"], default: ["dead", "live"] },
      ],
    }),
  );
  h2("Loads");
  p(`Load cases considered: ${loads.cases.join(", ") || "none"}.`);
  const g_k = loads.g * (kN / m);
  const q_k = loads.q * (kN / m);
  ("Ultimate limit state, fundamental combination:");
  const gamma_G = 1.35;
  const gamma_Q = params.loadFactor ?? 1.5;
  const w_d = gamma_G * g_k + gamma_Q * q_k;
  const M_Ed = (w_d * L ** 2) / 8;

  const material = yield UI(
    Window({
      title: "Material",
      fields: [
        { name: "grade", type: "selectOne", label: "Material", options: Object.keys(MATERIALS), default: "C24 timber" },
        { name: "limit", type: "number", label: "Deflection limit L/", default: 300, min: 100, max: 1000 },
        { name: "ref", type: "text", label: "Project reference", placeholder: "e.g. P-1042" },
      ],
    }),
  );
  const props = MATERIALS[material.grade as keyof typeof MATERIALS];
  h2("Bending");
  `${material.grade}: bending strength and modulus of elasticity.`;
  const f_m = props.f_m;
  const E = props.E;
  const sigma_m = M_Ed / W;
  const eta_m = sigma_m / f_m;
  check(sigma_m <= f_m, "Bending stress");

  h2("Deflection");
  ("Characteristic (serviceability) load and midspan deflection:");
  const w_k = g_k + q_k;
  const delta = ((5 * w_k * L ** 4) / (384 * E * I)).to("mm");
  const delta_lim = (L / material.limit).to("mm");
  check(delta <= delta_lim, "Deflection");

  // The diagrams along the span, from the same loads: M(x) = w_d·x·(L − x)/2 and, for the characteristic load,
  // δ(x) = w_k·x·(L³ − 2L·x² + x³)/(24·E·I). Their points are plain numbers in the axes' units, worked out unrendered.
  hide();
  const span = L.in("m");
  const stations = Array.from({ length: 41 }, (_, i) => (span * i) / 40);
  const moments = stations.map((x) => [x, (w_d.in("kN/m") * x * (span - x)) / 2] as const);
  const EI = E.in("MPa") * I.in("mm^4");
  const deflections = stations.map(
    (x) =>
      [x, -(w_k.in("N/mm") * x * 1000 * ((span * 1000) ** 3 - 2 * span * 1000 * (x * 1000) ** 2 + (x * 1000) ** 3)) / (24 * EI)] as const,
  );
  show();
  plot({
    caption: "Bending moment along the span (ULS)",
    x: { label: "Position x", unit: "m" },
    y: { label: "Bending moment M_Ed(x)", unit: "kN*m" },
    series: [{ name: "M_Ed", points: moments }],
  });
  plot({
    caption: `Deflection along the span under the characteristic load (limit L/${material.limit} = ${delta_lim})`,
    x: { label: "Position x", unit: "m" },
    y: { label: "Deflection δ(x)", unit: "mm" },
    series: [
      { name: "δ", points: deflections },
      {
        name: "limit",
        points: [
          [0, -delta_lim.in("mm")],
          [span, -delta_lim.in("mm")],
        ],
      },
    ],
  });

  h2("Summary");
  table(
    ["Check", "Demand", "Capacity", "Utilisation", "Result"],
    [
      ["Bending stress", sigma_m, f_m, round(eta_m, 3), eta_m <= 1 ? "OK" : "FAILS"],
      ["Deflection", delta, delta_lim, round(delta / delta_lim, 3), delta <= delta_lim ? "OK" : "FAILS"],
    ],
    `${material.grade}, section ${geometry.b}×${geometry.h} mm`,
  );
  if (material.ref) p(`Project reference: ${material.ref}.`);
  return {
    w: round(w_d.in("kN/m")),
    M: round(M_Ed.in("kN*m")),
    sigma: round(sigma_m.in("MPa"), 2),
    utilisation: round(eta_m, 3),
    ok: eta_m <= 1 && delta <= delta_lim,
  };
}
