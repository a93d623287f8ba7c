// A cantilever retaining wall per metre run: Rankine earth pressure, overturning, sliding and bearing. Written as
// a structural engineer first wrote it (issue 16): two windows, inputs in kN/kPa/m/mm, three checks.
import { UI, Window, check, h1, h2, note } from "uzoncalc";
import { kN, kPa, m, mm, units } from "uzoncalc/units";

export async function* sheet() {
  h1("Cantilever retaining wall");
  note("Per metre run of wall. Active pressure by Rankine on the retained height; base friction angle taken as φ.");
  units({ stress: "kPa" });
  const g = yield UI(
    Window({
      title: "Geometry",
      id: "geometry",
      fields: [
        { name: "H", type: "number", label: "Retained height", unit: "m", default: 3.2, min: 0.5, max: 8, required: true },
        { name: "B", type: "number", label: "Base width", unit: "m", default: 2.6, min: 0.5, max: 8, required: true },
        { name: "toe", type: "number", label: "Toe width", unit: "m", default: 0.6, min: 0, max: 4, required: true },
        { name: "t_stem", type: "number", label: "Stem thickness", unit: "mm", default: 300, min: 150, max: 1000, required: true },
        { name: "t_base", type: "number", label: "Base thickness", unit: "mm", default: 400, min: 150, max: 1500, required: true },
      ],
    }),
  );
  const s = yield UI(
    Window({
      title: "Soil",
      id: "soil",
      fields: [
        { name: "gamma", type: "number", label: "Unit weight of the soil", unit: "kN/m^3", default: 18, min: 10, max: 25, required: true },
        { name: "phi", type: "number", label: "Friction angle", unit: "deg", default: 30, min: 15, max: 45, required: true },
        { name: "q", type: "number", label: "Surcharge", unit: "kPa", default: 10, min: 0, max: 50, required: true },
        {
          name: "q_allow",
          type: "number",
          label: "Allowable bearing pressure",
          unit: "kPa",
          default: 150,
          min: 50,
          max: 600,
          required: true,
        },
      ],
    }),
  );

  h2("Earth pressure");
  const H = g.H * m;
  const L = 1 * m;
  const γ = s.gamma * (kN / m ** 3);
  const φ_rad = (s.phi * Math.PI) / 180;
  const K_a = (1 - Math.sin(φ_rad)) / (1 + Math.sin(φ_rad));
  const P_a = 0.5 * K_a * γ * H ** 2 * L;
  const P_q = K_a * s.q * kPa * H * L;

  h2("Weights and lever arms about the toe");
  const B = g.B * m;
  const toe = g.toe * m;
  const t_stem = g.t_stem * mm;
  const heel = B - toe - t_stem;
  const γ_c = 25 * (kN / m ** 3);
  const W_stem = γ_c * t_stem * H * L;
  const W_base = γ_c * (g.t_base * mm) * B * L;
  const W_soil = γ * heel * H * L;
  const M_stab = W_stem * (toe + t_stem / 2) + W_base * (B / 2) + W_soil * (toe + t_stem + heel / 2);
  const M_over = P_a * (H / 3) + P_q * (H / 2);

  h2("Checks");
  check(M_over <= M_stab / 2, "Overturning (factor of safety 2)");
  const V = W_stem + W_base + W_soil;
  const F_R = Math.tan(φ_rad) * V;
  check(P_a + P_q <= F_R / 1.5, "Sliding (factor of safety 1.5)");
  const e = B / 2 - (M_stab - M_over) / V;
  const q_max = (V / (B * L)) * (1 + (6 * e) / B);
  check(q_max <= s.q_allow * kPa, "Bearing");
}
