// An eccentrically loaded bolt group in shear (a bracket or fin plate), elastic method: the direct shear is
// shared equally, the moment about the group's centroid in proportion to each bolt's distance from it; the most
// loaded (corner) bolt is checked against the shear resistance of EN 1993-1-8 Table 3.4. Written with units.
import { UI, Window, check, h2, note, table, titleBlock } from "uzoncalc";
import { MPa, kN, mm } from "uzoncalc/units";

/** Tensile stress areas A_s (mm²), ISO 898-1. */
const BOLTS = { M16: 157, M20: 245, M24: 353, M27: 459 } as const;
/** Ultimate strength f_ub (MPa) and α_v with the shear plane through the thread (Table 3.4). */
const CLASSES = { "8.8": { f_ub: 800, alpha_v: 0.6 }, "10.9": { f_ub: 1000, alpha_v: 0.5 } } as const;

export async function* sheet() {
  titleBlock({
    title: "Eccentrically loaded bolt group",
    subject: "Rectangular pattern of bolts in single shear, load in the plane of the joint",
    reference: "Elastic (vector) method; EN 1993-1-8:2005, 3.6.1 Table 3.4",
  });
  note(
    "Non-preloaded bolts, category A (bearing type), one shear plane through the threaded part. Bearing of the plies and block tearing are checked separately.",
  );

  const grp = yield UI(
    Window({
      title: "Bolt group",
      id: "group",
      fields: [
        { name: "rows", type: "number", label: "Rows (vertical)", default: 4, min: 1, max: 10, step: 1, required: true },
        { name: "cols", type: "number", label: "Columns (horizontal)", default: 2, min: 1, max: 4, step: 1, required: true },
        { name: "p", type: "number", label: "Pitch p (vertical spacing)", unit: "mm", default: 70, min: 40, max: 200, required: true },
        { name: "g", type: "number", label: "Gauge g (horizontal spacing)", unit: "mm", default: 80, min: 40, max: 200, required: true },
        { name: "size", type: "selectOne", label: "Bolt size", options: Object.keys(BOLTS), default: "M20" },
        { name: "grade", type: "selectOne", label: "Property class", options: Object.keys(CLASSES), default: "8.8" },
      ],
    }),
  );
  const load = yield UI(
    Window({
      title: "Load",
      id: "load",
      caption: "Vertical design shear acting at an eccentricity from the group's centroid",
      fields: [
        { name: "V", type: "number", label: "Design shear V_Ed", unit: "kN", default: 120, min: 0, required: true },
        { name: "e", type: "number", label: "Eccentricity e", unit: "mm", default: 150, min: 0, max: 1000, required: true },
      ],
    }),
  );
  const _bolt = CLASSES[grp.grade as keyof typeof CLASSES];

  h2("Geometry of the group");
  const n_r = grp.rows;
  const n_c = grp.cols;
  const n = n_r * n_c;
  const p = grp.p * mm;
  const g = grp.g * mm;
  ("Second moments of the bolt positions about the centroid, x horizontal and y vertical (sums over a regular grid):");
  const sum_x2 = (n_r * n_c * (n_c ** 2 - 1) * g ** 2) / 12;
  const sum_y2 = (n_c * n_r * (n_r ** 2 - 1) * p ** 2) / 12;
  const I_p = sum_x2 + sum_y2;
  ("The corner bolt is furthest from the centroid:");
  const x_max = ((n_c - 1) * g) / 2;
  const y_max = ((n_r - 1) * p) / 2;

  h2("Forces on the corner bolt");
  const V_Ed = load.V * kN;
  const e = load.e * mm;
  const M_Ed = V_Ed * e;
  ("Direct shear, shared equally:");
  const F_V = V_Ed / n;
  ("From the moment, perpendicular to the radius, split into components (F = M·r/I_p):");
  const F_M_x = (M_Ed * y_max) / I_p;
  const F_M_y = (M_Ed * x_max) / I_p;
  ("Resultant, with the vertical components adding at the corner on the side of the load:");
  const F_v_Ed = Math.hypot(F_M_x, F_V + F_M_y);

  h2("Shear resistance of one bolt");
  ("EN 1993-1-8 Table 3.4, shear plane through the thread (A = A_s), γ_M2 = 1.25:");
  const f_ub = _bolt.f_ub * MPa;
  const alpha_v = _bolt.alpha_v;
  const A_s = BOLTS[grp.size as keyof typeof BOLTS] * mm ** 2;
  const gamma_M2 = 1.25;
  const F_v_Rd = ((alpha_v * f_ub * A_s) / gamma_M2).to("kN");
  check(F_v_Ed <= F_v_Rd, `Shear in the most loaded bolt (${grp.size} ${grp.grade})`);

  h2("Summary");
  table(
    ["Quantity", "Value"],
    [
      ["Bolts", `${n} × ${grp.size} ${grp.grade} (${n_r} rows × ${n_c} columns)`],
      ["Moment about the centroid", `${(M_Ed / (kN * mm) / 1000).toFixed(2)} kN·m`],
      ["Corner bolt force F_v,Ed", `${F_v_Ed.in("kN").toFixed(1)} kN`],
      ["Shear resistance F_v,Rd", `${F_v_Rd.in("kN").toFixed(1)} kN`],
    ],
    "Bolt group under eccentric shear",
  );
  return { n, F_v_Ed: Number(F_v_Ed.in("kN").toFixed(2)), F_v_Rd: Number(F_v_Rd.in("kN").toFixed(2)) };
}
