// A sheet past the region-check threshold (server/src/regionCheck.ts), for the language server's tests and the
// in-host suite. `label()` is declared at the end of the sheet function and used at its top and a little below:
// while it returns a string, both uses are errors. Changing its return at the bottom changes the uses' verdict far
// from the edit, which only a check of their statements can see. (Inside the function, so a region check covers
// statements of its body.) `late` is an error of its own near the bottom.

const FILLER_LINES = 560;

export function longSheet(): string {
  const lines = [
    'import { UI, Window, p } from "uzoncalc";',
    "export async function* sheet() {",
    '  const g = yield UI(Window({ title: "Beam", fields: [{ name: "span", type: "number", default: 6 }] }));',
    "  const top: number = label();",
    "  let total = 0;",
  ];
  for (let i = 0; i < FILLER_LINES; i++) lines.push(i === 120 ? "  const shown: number = label();" : `  total += g.span * ${i};`);
  lines.push(
    "  const late: string = total;",
    "  p(String(total + top + shown + late.length));",
    "  function label() {",
    '    return "x";',
    "  }",
    "}",
    "",
  );
  return lines.join("\n");
}

/** The 0-based line of the first line holding `needle`. */
export function lineOf(text: string, needle: string): number {
  return text.split("\n").findIndex((line) => line.includes(needle));
}
