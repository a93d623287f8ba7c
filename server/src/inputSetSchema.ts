// `uzoncalc schema <sheet>` (SPEC §4): the JSON Schema (2020-12) of a sheet's input sets, from the windows read
// statically (sheetWindows.ts). It describes what the sandbox accepts (protocol/validate.ts): a number may also be
// written with a unit of its kind, a choice by its option value. A window whose fields are built at run time allows
// any object, and its description says so; so does the set when some window's id is computed.
import type { Field } from "../../protocol/fields";
import { unitLabel } from "../../protocol/units";
import { FALSE_WORDS, TRUE_WORDS } from "../../protocol/validate";
import { SHEET_KEY } from "./inputSets";
import { windowIds, windowsWithId, type SheetWindow, type SheetWindows } from "./sheetWindows";

type Schema = { [key: string]: unknown };

/** The yes/no words validate.ts takes, in any case: JSON Schema's patterns have no case-insensitive flag. */
const YES_NO_PATTERN = `^\\s*(${[...TRUE_WORDS, ...FALSE_WORDS]
  .map((word) => [...word].map((c) => (c.toLowerCase() === c.toUpperCase() ? c : `[${c.toLowerCase()}${c.toUpperCase()}]`)).join(""))
  .join("|")})\\s*$`;

/** A number followed by a unit (`300 mm`, `1.5e3 kN/m`): what parseQuantity reads, loosely (the unit is checked when the set runs). */
const QUANTITY_PATTERN = "^\\s*[-+]?(\\d+\\.?\\d*|\\.\\d+)([eE][-+]?\\d+)?\\s*[^\\s\\d].*$";

export function inputSetSchema(sheet: SheetWindows, sheetName: string): Schema {
  const properties: Schema = {
    [SHEET_KEY]: {
      type: "string",
      description: "The sheet this set answers, relative to the set, when it is not <base>.calc.ts|js beside it.",
    },
    $schema: { type: "string" },
  };
  for (const id of windowIds(sheet)) {
    const windows = windowsWithId(sheet, id);
    const window = windows.find((candidate) => candidate.spec);
    properties[id] = window
      ? windowSchema(window)
      : {
          type: "object",
          title: windows[0]?.title ?? id,
          description: `Window '${id}' builds its fields at run time, so they cannot be read from the sheet: any object is allowed here, and the sandbox checks the values when the set runs.`,
        };
  }
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: `Input sets of ${sheetName}`,
    description:
      `Values for the windows of ${sheetName}: { "window_id": { "field": value } }. A window the set leaves out is asked as a form when the set runs.` +
      (sheet.openIds ? " Some window's id is computed at run time, so other window ids are allowed too." : ""),
    type: "object",
    properties,
    additionalProperties: sheet.openIds,
  };
}

function windowSchema(window: SheetWindow): Schema {
  const spec = window.spec!;
  const required = spec.fields.filter((field) => field.required).map((field) => field.name);
  const caption = window.site.spec.attributes.get("caption");
  const description = [
    caption?.value.known && typeof caption.value.value === "string" ? caption.value.value : undefined,
    window.fieldsOpen ? "Some of its fields are built at run time: other field names are allowed too." : undefined,
  ].filter(Boolean);
  return {
    type: "object",
    title: spec.title,
    ...(description.length > 0 ? { description: description.join(" ") } : {}),
    properties: Object.fromEntries(
      spec.fields.map((field) => [
        field.name,
        window.openFields.has(field.name)
          ? {
              title: field.label,
              description: "Some of this field's attributes are computed at run time: its value is checked when the set runs.",
            }
          : fieldSchema(field),
      ]),
    ),
    additionalProperties: window.fieldsOpen,
    ...(required.length > 0 ? { required } : {}),
  };
}

function fieldSchema(field: Field): Schema {
  const described: Schema = {
    title: field.label,
    ...(field.help ? { description: field.help } : {}),
    ...(field.default !== undefined && field.default !== null ? { default: field.default } : {}),
  };
  const optionValues = (field.options ?? []).map((option) => option.value);
  switch (field.type) {
    case "number": {
      const number: Schema = {
        type: "number",
        ...(field.min !== undefined ? { minimum: field.min } : {}),
        ...(field.max !== undefined ? { maximum: field.max } : {}),
      };
      if (!field.unit) return { ...described, ...number };
      const unit = unitLabel(field.unit);
      return {
        ...described,
        description: [
          `In ${unit}, or a text with a unit of its kind (e.g. "${field.default ?? 1} ${unit}"); limits apply after conversion.`,
          field.help,
        ]
          .filter(Boolean)
          .join(" "),
        anyOf: [number, { type: "string", pattern: QUANTITY_PATTERN }],
      };
    }
    case "boolean":
      return { ...described, anyOf: [{ type: "boolean" }, { enum: [0, 1] }, { type: "string", pattern: YES_NO_PATTERN }] };
    case "selectOne":
      return { ...described, enum: optionValues };
    case "selectMany":
      return { ...described, type: "array", items: { enum: optionValues }, uniqueItems: true, ...(field.required ? { minItems: 1 } : {}) };
    default:
      return { ...described, type: "string", ...(field.required ? { minLength: 1 } : {}) };
  }
}
