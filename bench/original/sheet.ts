// The bench sheet (bench/sheets/hundred.calc.ts) as a sheet for the seed's Python UzonCalc, made from the
// TypeScript at bench time, so the two cannot drift: the same three windows and the same 300 statements.
import * as fs from "node:fs";

/** `render: false` starts the sheet with the seed's `hide()`, which skips recording its content: its render off. */
export function pythonSheet(typescript: string, render = true): string {
  const out = ["from uzoncalc import *", "", "", "@uzon_calc()", "async def sheet():", ...(render ? [] : ["    hide()"]), "    carry = 1"];
  for (const raw of typescript.split("\n")) {
    const line = raw.trim();
    let match: RegExpExecArray | null;
    if (
      (match =
        /^const (w\d) = yield UI\(Window\(\{ title: "([^"]+)", id: "[^"]+", fields: \[\{ name: "x", type: "number", default: (\d+) \}\] \}\)\);$/.exec(
          line,
        ))
    )
      out.push(`    ${match[1]} = await UI("${match[2]}", [Field("x", "x", FieldType.number, value=${match[3]})])`);
    else if ((match = /^const (s\d+_\d+) = (.*);$/.exec(line)))
      out.push(`    ${match[1]} = ${match[2]!.replace(/\b(w\d)\.x\b/g, '$1["x"]')}`);
    else if ((match = /^carry = (s\d+_\d+);$/.exec(line))) out.push(`    carry = ${match[1]}`);
    else if ((match = /^p\(`window (\d): \$\{carry\.toFixed\(6\)\}`\);$/.exec(line))) out.push(`    f"window ${match[1]}: {carry:.6f}"`);
    else if (line === "return carry;") out.push("    return carry");
  }
  return out.join("\n") + "\n";
}

export function writePythonSheet(typescriptFile: string, pythonFile: string, render = true): void {
  fs.writeFileSync(pythonFile, pythonSheet(fs.readFileSync(typescriptFile, "utf8"), render));
}
