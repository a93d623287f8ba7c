// A pinned steel column in axial compression to EN 1993-1-1: cross-section class (Table 5.2), resistance of the
// section (6.2.4) and flexural buckling about both axes (6.3.1) for a hot-rolled I section. Written with units.
import { UI, Window, check, h2, note, table, titleBlock } from "uzoncalc";
import { MPa, kN, m, mm } from "uzoncalc/units";

/** Hot-rolled sections (EN 10365): dimensions in mm, area in cm², radii of gyration in mm. */
const SECTIONS = {
  "HEB 200": { h: 200, b: 200, t_w: 9, t_f: 15, r: 18, A: 78.1, i_y: 85.4, i_z: 50.7 },
  "HEB 240": { h: 240, b: 240, t_w: 10, t_f: 17, r: 21, A: 106.0, i_y: 103.1, i_z: 60.8 },
  "HEB 300": { h: 300, b: 300, t_w: 11, t_f: 19, r: 27, A: 149.1, i_y: 130.4, i_z: 75.8 },
  "IPE 300": { h: 300, b: 150, t_w: 7.1, t_f: 10.7, r: 15, A: 53.8, i_y: 124.6, i_z: 33.5 },
  "IPE 360": { h: 360, b: 170, t_w: 8, t_f: 12.7, r: 18, A: 72.7, i_y: 149.5, i_z: 37.9 },
} as const;

export async function* sheet() {
  titleBlock({
    title: "Steel column: flexural buckling",
    subject: "Pinned column in axial compression, hot-rolled I or H section",
    reference: "EN 1993-1-1:2005, 5.5, 6.2.4, 6.3.1; EN 10365 section properties",
  });
  note(
    "γ_M0 = 1.0 and γ_M1 = 1.0 (recommended values, 6.1(1)). Both ends pinned, so the buckling length L_cr equals the storey height about both axes. Steel grades S235 to S420 with t_f ≤ 40 mm (Table 6.2).",
  );

  const col = yield UI(
    Window({
      title: "Column",
      id: "column",
      fields: [
        { name: "section", type: "selectOne", label: "Section", options: Object.keys(SECTIONS), default: "HEB 240" },
        { name: "grade", type: "selectOne", label: "Steel grade", options: ["S235", "S275", "S355"], default: "S355" },
        { name: "L", type: "number", label: "System length (pin to pin)", unit: "m", default: 5, min: 1, max: 20, required: true },
        { name: "N", type: "number", label: "Design axial force N_Ed", unit: "kN", default: 1500, min: 0, required: true },
      ],
    }),
  );
  const _sec = SECTIONS[col.section as keyof typeof SECTIONS];

  h2(`Section ${col.section}, ${col.grade}`);
  const h = _sec.h * mm;
  const b = _sec.b * mm;
  const t_w = _sec.t_w * mm;
  const t_f = _sec.t_f * mm;
  const r = _sec.r * mm;
  const A = _sec.A * 100 * mm ** 2;
  const i_y = _sec.i_y * mm;
  const i_z = _sec.i_z * mm;
  const f_y = Number(col.grade.slice(1)) * MPa;
  const E = 210000 * MPa;
  const gamma_M0 = 1.0;
  const gamma_M1 = 1.0;

  h2("Cross-section class");
  ("Table 5.2, whole section in compression:");
  const epsilon = Math.sqrt((235 * MPa) / f_y);
  const c_f = (b - t_w - 2 * r) / 2;
  check(c_f / t_f <= 14 * epsilon, "Flange outstand, class 3 limit c/t ≤ 14ε");
  const c_w = h - 2 * t_f - 2 * r;
  check(c_w / t_w <= 42 * epsilon, "Web, class 3 limit c/t ≤ 42ε");
  note("Class 1 to 3 in compression: the gross area is effective, A_eff = A.");

  h2("Resistance of the cross-section");
  const N_Ed = col.N * kN;
  const N_c_Rd = ((A * f_y) / gamma_M0).to("kN");
  check(N_Ed <= N_c_Rd, "Compression resistance (6.2.4)");

  h2("Flexural buckling");
  const L_cr = col.L * m;
  ("Slenderness for flexural buckling (6.3.1.3, Eq. 6.50) with λ₁ = π√(E/f_y):");
  const lambda_1 = Math.PI * Math.sqrt(E / f_y);
  const lambda_bar_y = L_cr / (i_y * lambda_1);
  const lambda_bar_z = L_cr / (i_z * lambda_1);
  ("Imperfection factors (Tables 6.1 and 6.2, rolled I sections, t_f ≤ 40 mm): curve a (α = 0.21) about y and b (α = 0.34) about z when h/b > 1.2, else curve b (0.34) about y and c (0.49) about z.");
  const alpha_y = h / b > 1.2 ? 0.21 : 0.34;
  const alpha_z = h / b > 1.2 ? 0.34 : 0.49;
  ("Reduction factors (6.3.1.2, Eq. 6.49):");
  const Phi_y = 0.5 * (1 + alpha_y * (lambda_bar_y - 0.2) + lambda_bar_y ** 2);
  const chi_y = Math.min(1 / (Phi_y + Math.sqrt(Phi_y ** 2 - lambda_bar_y ** 2)), 1.0);
  const Phi_z = 0.5 * (1 + alpha_z * (lambda_bar_z - 0.2) + lambda_bar_z ** 2);
  const chi_z = Math.min(1 / (Phi_z + Math.sqrt(Phi_z ** 2 - lambda_bar_z ** 2)), 1.0);
  if (Math.max(lambda_bar_y, lambda_bar_z) <= 0.2) note("λ̄ ≤ 0.2 about both axes: buckling effects may be ignored (6.3.1.2(4)).");
  const chi = Math.min(chi_y, chi_z);
  ("Buckling resistance (6.3.1.1, Eq. 6.47), class 1 to 3:");
  const N_b_Rd = ((chi * A * f_y) / gamma_M1).to("kN");
  check(N_Ed <= N_b_Rd, "Flexural buckling resistance");

  h2("Summary");
  table(
    ["Axis", "λ̄", "α", "Φ", "χ"],
    [
      ["y–y", lambda_bar_y.toFixed(3), alpha_y, Phi_y.toFixed(3), chi_y.toFixed(3)],
      ["z–z", lambda_bar_z.toFixed(3), alpha_z, Phi_z.toFixed(3), chi_z.toFixed(3)],
    ],
    `${col.section} ${col.grade}, L_cr = ${col.L} m, N_b,Rd = ${N_b_Rd.in("kN").toFixed(0)} kN`,
  );
  return { chi: Number(chi.toFixed(3)), N_b_Rd: Number(N_b_Rd.in("kN").toFixed(1)), utilisation: Number((N_Ed / N_b_Rd).toFixed(3)) };
}
