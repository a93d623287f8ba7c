// The realm side of "uzoncalc/units": the object the sheet bundle's units module and the instrumented
// operators read (REALM.units), and the report's formatting of quantities (value, then unit).

import { addValueFormatter, formatValue } from "../report/values";
import { isQuantity, numberTo, unitMath, unitOps, type UnitPreferences } from "./quantity";

export { isQuantity };

const preferences: UnitPreferences = [];

/** What the realm exposes as REALM.units: the operations and `unit(text)`, around this session's preferences. */
export const unitsApi = Object.freeze(unitOps(preferences));

/** Quantities read as their value in their unit's number format, then the unit: 6 kN·m (per session). */
export function installUnits(): void {
  addValueFormatter((value, key) => {
    if (!isQuantity(value)) return undefined;
    const number = formatValue(value.value, key);
    if (!number) return undefined;
    return {
      math: `<mrow>${number.math}<mtext>\u00a0</mtext>${unitMath(value.terms)}</mrow>`,
      text: `${number.text} ${value.unit}`,
      negative: number.negative,
      compound: true,
    };
  });
}

/** Once per member realm, before its intrinsics are frozen. */
export function installNumberConversions(): void {
  // Declared on Number for the editor's TypeScript (quantities are typed as branded numbers): on a plain number
  // it says why it cannot convert.
  for (const name of ["to", "in"])
    Object.defineProperty(Number.prototype, name, { value: numberTo, writable: true, configurable: true, enumerable: false });
}
