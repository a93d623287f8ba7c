// Compile-time checks of uzoncalc.d.ts: `npm run typecheck` fails if the field value types drift from SPEC §1.
import { UI, Window, check, format, hide, note, p, show, titleBlock } from "./uzoncalc";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(_value?: T): void {}

export async function* typedSheet() {
  const g = yield* UI(
    Window({
      title: "Geometry",
      fields: [
        { name: "span", type: "number", unit: "m", default: 6, required: true },
        { name: "depth", type: "number" },
        { name: "grade", type: "selectOne", options: ["C25/30", "C30/37"], default: "C30/37" },
        { name: "loads", type: "selectMany", options: ["dead", "live", { value: "wind", label: "Wind" }] },
        { name: "propped", type: "boolean" },
        { name: "ref", type: "text" },
        { name: "notes", type: "textarea", default: "none" },
        { name: "untyped" },
      ],
    }),
  );
  assertType<Equal<typeof g.span, number>>();
  assertType<Equal<typeof g.depth, number | null>>();
  assertType<Equal<typeof g.grade, "C25/30" | "C30/37">>();
  assertType<Equal<typeof g.loads, ("dead" | "live" | "wind")[]>>();
  assertType<Equal<typeof g.propped, boolean>>();
  assertType<Equal<typeof g.ref, string | null>>();
  assertType<Equal<typeof g.notes, string>>();
  assertType<Equal<typeof g.untyped, string | null>>();
  // @ts-expect-error unknown field
  g.spna;
  p(`Span ${g.span}`);
  // The report's own functions.
  titleBlock({ title: "Beam", project: "P-1", revision: 2, sheetNo: "1 of 3" });
  format({ decimals: 2, thousands: " " });
  format({ decimals: 1 }, "sigma", "tau");
  hide();
  show();
  note("Assumed simply supported.");
  const _ok = check(g.span <= 40, "Span within range");
  assertType<Equal<typeof _ok, boolean>>();
  // @ts-expect-error unknown format option
  format({ digits: 2 });
  return g.span;
}

// Quantities are branded numbers: unit arithmetic type-checks in the editor, `.to()` and `.in()` are on Number.
import type { Quantity } from "./uzoncalc";
import { kN, m, mm, unit } from "./uzoncalc-units";

export function unitArithmetic(): number {
  const b = 300 * mm;
  const h = 0.5 * m;
  const A = b * h;
  const M = 2 * kN * (3 * m);
  const converted: Quantity = M.to("kN*m");
  const ok: boolean = Math.sqrt(A) < h && M.in("kN*m") > 0;
  assertType<Equal<typeof converted, Quantity>>();
  return ok ? A + unit("mm^2") : converted;
}
