// A rectangular reinforced-concrete beam to EN 1992-1-1: bending with the rectangular stress block (3.1.7),
// the tension steel required against the bars provided, minimum and maximum reinforcement (9.2.1.1) and shear
// with and without links (6.2.2, 6.2.3). Written with units.
import { UI, Window, check, h2, note, table, titleBlock } from "uzoncalc";
import { MPa, kN, mm, unit } from "uzoncalc/units";

/** EN 1992-1-1 Table 3.1: characteristic cylinder strength and mean tensile strength (MPa). */
const CONCRETE = {
  "C25/30": { f_ck: 25, f_ctm: 2.6 },
  "C30/37": { f_ck: 30, f_ctm: 2.9 },
  "C35/45": { f_ck: 35, f_ctm: 3.2 },
  "C40/50": { f_ck: 40, f_ctm: 3.5 },
} as const;

export async function* sheet() {
  titleBlock({
    title: "Reinforced-concrete beam",
    subject: "Rectangular section: bending, reinforcement limits and shear",
    reference: "EN 1992-1-1:2004, 3.1.7, 6.1, 6.2.2, 6.2.3, 9.2.1.1, 9.2.2",
  });
  note(
    "Persistent design situation: γ_c = 1.5, γ_s = 1.15, α_cc = 1.0 (recommended values). Concrete classes up to C50/60, so λ = 0.8 and η = 1.0.",
  );

  const sec = yield UI(
    Window({
      title: "Section and reinforcement",
      id: "section",
      fields: [
        { name: "b", type: "number", label: "Width b", unit: "mm", default: 300, min: 150, max: 1500, required: true },
        { name: "h", type: "number", label: "Overall depth h", unit: "mm", default: 500, min: 200, max: 2000, required: true },
        { name: "c", type: "number", label: "Nominal cover to links", unit: "mm", default: 30, min: 15, max: 75, required: true },
        { name: "n", type: "number", label: "Number of tension bars", default: 3, min: 2, max: 12, step: 1, required: true },
        { name: "phi", type: "selectOne", label: "Tension bar diameter (mm)", options: ["12", "16", "20", "25", "32"], default: "20" },
        { name: "phi_w", type: "selectOne", label: "Link diameter (mm), two legs", options: ["8", "10", "12"], default: "8" },
        { name: "s", type: "number", label: "Link spacing", unit: "mm", default: 200, min: 50, max: 400, required: true },
        { name: "concrete", type: "selectOne", label: "Concrete class", options: Object.keys(CONCRETE), default: "C30/37" },
        { name: "f_yk", type: "number", label: "Reinforcement yield strength f_yk", unit: "MPa", default: 500, min: 400, max: 600 },
      ],
    }),
  );
  const act = yield UI(
    Window({
      title: "Design actions (ULS)",
      id: "actions",
      fields: [
        { name: "M", type: "number", label: "Design moment M_Ed", unit: "kN*m", default: 150, min: 0, required: true },
        { name: "V", type: "number", label: "Design shear V_Ed", unit: "kN", default: 110, min: 0, required: true },
      ],
    }),
  );
  const _c = CONCRETE[sec.concrete as keyof typeof CONCRETE];

  h2("Materials");
  const f_ck = _c.f_ck * MPa;
  const f_ctm = _c.f_ctm * MPa;
  const f_yk = sec.f_yk * MPa;
  const gamma_c = 1.5;
  const gamma_s = 1.15;
  const alpha_cc = 1.0;
  ("Design strengths (3.1.6(1), 3.2.7(2)):");
  const f_cd = (alpha_cc * f_ck) / gamma_c;
  const f_yd = f_yk / gamma_s;

  h2("Section");
  const b = sec.b * mm;
  const h = sec.h * mm;
  const c_nom = sec.c * mm;
  const phi = Number(sec.phi) * mm;
  const phi_w = Number(sec.phi_w) * mm;
  ("Effective depth to the centroid of one layer of tension bars:");
  const d = h - c_nom - phi_w - phi / 2;
  const n = sec.n;
  const A_s_prov = (n * Math.PI * phi ** 2) / 4;

  h2("Bending");
  ("Rectangular stress block (3.1.7(3)): depth λx, uniform stress η·f_cd, with λ = 0.8 and η = 1.0 for f_ck ≤ 50 MPa.");
  const lambda = 0.8;
  const eta = 1.0;
  const M_Ed = act.M * unit("kN*m");
  const M_0 = (b * d ** 2 * eta * f_cd).to("kN*m");
  const mu = M_Ed / M_0;
  // Past μ = 0.5 no neutral axis balances the moment (the square root below has no real value): say so in the
  // engineer's terms rather than let NaN reach a unit conversion.
  if (mu > 0.5)
    throw new RangeError(
      `M_Ed is beyond what this section can resist with tension steel alone (μ = ${mu.toFixed(3)} > 0.5): deepen the section or add compression steel.`,
    );
  ("Depth of the neutral axis from equilibrium, μ = λξ(1 − λξ/2):");
  const xi = (1 - Math.sqrt(1 - 2 * mu)) / lambda;
  const x = xi * d;
  check(xi <= 0.45, "Neutral axis depth x/d ≤ 0.45 (ductility, 5.6.3(2))");
  const z = Math.min(d - (lambda * x) / 2, 0.95 * d);
  const A_s_req = (M_Ed / (z * f_yd)).to("mm^2");
  check(A_s_req <= A_s_prov, `Tension steel: ${n} bars Ø${sec.phi}`);
  ("Moment resistance of the bars provided (steel yielding):");
  const x_prov = (A_s_prov * f_yd) / (lambda * eta * f_cd * b);
  const M_Rd = (A_s_prov * f_yd * (d - (lambda * x_prov) / 2)).to("kN*m");
  check(M_Ed <= M_Rd, "Bending resistance");

  h2("Reinforcement limits");
  ("Minimum tension reinforcement (9.2.1.1(1), Eq. 9.1N) and maximum outside laps (9.2.1.1(3)):");
  const A_s_min = Math.max((0.26 * f_ctm * b * d) / f_yk, 0.0013 * b * d);
  check(A_s_min <= A_s_prov, "Minimum reinforcement");
  const A_s_max = 0.04 * b * h;
  check(A_s_prov <= A_s_max, "Maximum reinforcement");

  h2("Shear");
  const V_Ed = act.V * kN;
  ("Resistance of the concrete alone (6.2.2(1), Eq. 6.2a and 6.2b), d in mm and f_ck in MPa:");
  const C_Rd_c = 0.18 / gamma_c;
  const k = Math.min(1 + Math.sqrt((200 * mm) / d), 2.0);
  const rho_l = Math.min(A_s_prov / (b * d), 0.02);
  const v_Rd_c = C_Rd_c * k * (100 * rho_l * (f_ck / MPa)) ** (1 / 3) * MPa;
  const v_min = 0.035 * k ** 1.5 * Math.sqrt(f_ck / MPa) * MPa;
  const V_Rd_c = (Math.max(v_Rd_c, v_min) * b * d).to("kN");
  if (V_Ed <= V_Rd_c) note("V_Ed ≤ V_Rd,c: no shear reinforcement is required by calculation; minimum links to 9.2.2 still apply.");
  else note("V_Ed > V_Rd,c: shear reinforcement is designed (6.2.3) with the variable strut inclination method.");
  ("Vertical links (6.2.3(3)), strut angle at its lower limit cot θ = 2.5, lever arm z = 0.9d:");
  const cot_theta = 2.5;
  const z_v = 0.9 * d;
  const s = sec.s * mm;
  const A_sw = (2 * Math.PI * phi_w ** 2) / 4;
  const f_ywd = f_yd;
  const V_Rd_s = ((A_sw / s) * z_v * f_ywd * cot_theta).to("kN");
  check(V_Ed <= V_Rd_s, "Shear resistance of the links");
  ("Crushing of the compression strut (Eq. 6.9), α_cw = 1 (no prestress), ν₁ = ν (Eq. 6.6N):");
  const nu_1 = 0.6 * (1 - f_ck / (250 * MPa));
  const V_Rd_max = ((b * z_v * nu_1 * f_cd) / (cot_theta + 1 / cot_theta)).to("kN");
  check(V_Ed <= V_Rd_max, "Strut crushing");
  ("Minimum shear reinforcement (9.2.2(5), Eq. 9.4 and 9.5N) and maximum spacing (9.2.2(6)):");
  const rho_w = A_sw / (s * b);
  const rho_w_min = (0.08 * Math.sqrt(f_ck / MPa)) / (f_yk / MPa);
  check(rho_w >= rho_w_min, "Minimum links");
  const s_l_max = 0.75 * d;
  check(s <= s_l_max, "Link spacing");

  h2("Summary");
  table(
    ["Check", "Demand", "Resistance", "Utilisation"],
    [
      ["Bending", `${M_Ed.in("kN*m").toFixed(1)} kN·m`, `${M_Rd.in("kN*m").toFixed(1)} kN·m`, (M_Ed / M_Rd).toFixed(3)],
      ["Shear (links)", `${V_Ed.in("kN").toFixed(1)} kN`, `${V_Rd_s.in("kN").toFixed(1)} kN`, (V_Ed / V_Rd_s).toFixed(3)],
      ["Strut crushing", `${V_Ed.in("kN").toFixed(1)} kN`, `${V_Rd_max.in("kN").toFixed(1)} kN`, (V_Ed / V_Rd_max).toFixed(3)],
    ],
    `${sec.b} × ${sec.h} mm, ${sec.concrete}, ${n} Ø${sec.phi} bottom, Ø${sec.phi_w} links at ${sec.s} mm`,
  );
  return { A_s_req: Math.round(A_s_req.in("mm^2")), M_Rd: Number(M_Rd.in("kN*m").toFixed(1)), V_Rd_s: Number(V_Rd_s.in("kN").toFixed(1)) };
}
