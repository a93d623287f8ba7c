// A round steel tie in tension (EN 1993-1-1 6.2.3), written with units: quantities carry their units through
// the arithmetic and the report shows them.
import { UI, Window, check, h1, h2, p } from "uzoncalc";
import { MPa, kN, mm } from "uzoncalc/units";

export async function* sheet() {
  h1("Steel tie in tension");
  p("Plastic resistance of a round bar in axial tension.");

  const input = yield UI(
    Window({
      title: "Tie",
      fields: [
        { name: "d", type: "number", label: "Bar diameter", unit: "mm", default: 20, min: 6, max: 60, required: true },
        { name: "N", type: "number", label: "Design tension", unit: "kN", default: 80, min: 0, required: true },
        { name: "grade", type: "selectOne", label: "Steel grade", options: ["S235", "S355"], default: "S355" },
      ],
    }),
  );

  h2("Resistance");
  const d = input.d * mm;
  const N_Ed = input.N * kN;
  const f_y = input.grade === "S355" ? 355 * MPa : 235 * MPa;
  const gamma_M0 = 1.0;
  const A = (Math.PI * d ** 2) / 4;
  const N_plRd = ((A * f_y) / gamma_M0).to("kN");
  check(N_Ed <= N_plRd, "Tension resistance");
}
