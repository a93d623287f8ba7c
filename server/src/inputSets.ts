// Input set files (`beam.inputs.json`, `beam.<case>.inputs.json`, SPEC §4) checked like code: each key against the
// windows the sheet shows (sheetWindows.ts), each value by the sandbox's own rules (protocol/validate.ts), so a set
// that passes here is one the sandbox accepts, and a problem reads as the run would report it. Also the set's
// completion, hover and definition. Offsets are UTF-16 positions in the set file, as for a sheet.
import * as path from "node:path";
import * as jsonc from "jsonc-parser";
import type { Field, WindowSpec } from "../../protocol/fields";
import { describeValue } from "../../protocol/fields";
import { inputSetSheetCandidates } from "../../protocol/limits";
import { parseUnit, sameDimensions, unitLabel, unitSymbols, valueWithUnit } from "../../protocol/units";
import { checkField, closestName, type FieldProblem } from "../../protocol/validate";
import { Code } from "./codes";
import { compareDiagnostics, type SheetDiagnostic } from "./diagnostic";
import { sheetWindows, windowIds, windowsWithId, type SheetWindow, type SheetWindows } from "./sheetWindows";
import { knownString } from "./windowSpecs";

/** The key that names a set's sheet when it is not `<base>.calc.ts|js` beside it (a path relative to the set). */
export const SHEET_KEY = "$sheet";
/** Keys an editor or a tool may add that are not windows. */
const RESERVED_KEYS = new Set([SHEET_KEY, "$schema", "$comment"]);

const PROBLEM_CODES: Record<FieldProblem, string> = {
  required: Code.inputRequiredMissing,
  type: Code.inputWrongType,
  unit: Code.inputWrongUnit,
  range: Code.inputOutOfRange,
  option: Code.inputNotAnOption,
};

export interface ParsedInputSet {
  text: string;
  /** The set's tree, read once: its checks, completion, hover and definition all walk it. */
  root: jsonc.Node | undefined;
  /** The `"$sheet"` value, when the set names its sheet. */
  sheetKey: { value: string; node: jsonc.Node } | undefined;
  syntax: SheetDiagnostic[];
}

export function parseInputSet(text: string): ParsedInputSet {
  const errors: jsonc.ParseError[] = [];
  const root = jsonc.parseTree(text, errors, { disallowComments: true, allowTrailingComma: false });
  const syntax = errors.map((error): SheetDiagnostic => ({
    start: error.offset,
    end: error.offset + Math.max(error.length, 1),
    severity: "error",
    code: Code.inputSetNotJson,
    message: `Not valid JSON: ${syntaxMessage(jsonc.printParseErrorCode(error.error))}.`,
  }));
  const sheetNode = root && jsonc.findNodeAtLocation(root, [SHEET_KEY]);
  const sheetKey = sheetNode && typeof sheetNode.value === "string" ? { value: sheetNode.value, node: sheetNode } : undefined;
  return { text, root, sheetKey, syntax };
}

function syntaxMessage(code: string): string {
  return code.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
}

/**
 * The sheet a set belongs to: its `"$sheet"` (relative to the set), else `<base>.calc.ts|js` beside it (the most
 * specific base first: see inputSetSheetCandidates). `exists` answers for a path; the result is a path or why not.
 */
export function sheetOfInputSet(
  setFileName: string,
  parsed: ParsedInputSet,
  exists: (fileName: string) => boolean,
): { fileName: string } | { problem: SheetDiagnostic } {
  const folder = setFileName.slice(0, setFileName.lastIndexOf("/") + 1);
  if (parsed.sheetKey) {
    const { value, node } = parsed.sheetKey;
    const fileName = value.startsWith("/") ? value : path.posix.normalize(folder + value);
    if (exists(fileName)) return { fileName };
    return {
      problem: {
        start: node.offset,
        end: node.offset + node.length,
        severity: "error",
        code: Code.inputSetWithoutSheet,
        message: `The sheet ${JSON.stringify(value)} named by "${SHEET_KEY}" is not there (looked for ${fileName}).`,
      },
    };
  }
  const tried: string[] = [];
  for (const { sheetBase } of inputSetSheetCandidates(setFileName)) {
    for (const extension of [".calc.ts", ".calc.js"]) {
      const fileName = sheetBase + extension;
      if (exists(fileName)) return { fileName };
      tried.push(fileName.slice(folder.length));
    }
  }
  return {
    problem: {
      start: 0,
      end: Math.min(1, parsed.root ? parsed.root.length : 0),
      severity: "error",
      code: Code.inputSetWithoutSheet,
      message: `No sheet for this input set: none of ${tried.join(", ")} is beside it. Name the sheet with "${SHEET_KEY}": "path/to/sheet.calc.ts".`,
    },
  };
}

/** Every problem of a set against its sheet's windows. */
export function checkInputSet(parsed: ParsedInputSet, sheet: SheetWindows, sheetName: string): SheetDiagnostic[] {
  const found: SheetDiagnostic[] = [...parsed.syntax];
  const { root } = parsed;
  if (!root) return found;
  if (root.type !== "object") {
    found.push(
      at(root, Code.inputSetNotAnObject, `An input set is an object of windows, { "window_id": { "field": value } }, got ${kindOf(root)}.`),
    );
    return found;
  }
  const ids = windowIds(sheet);
  for (const property of root.children ?? []) {
    const [keyNode, valueNode] = property.children ?? [];
    if (!keyNode || typeof keyNode.value !== "string") continue;
    const id = keyNode.value;
    if (RESERVED_KEYS.has(id)) {
      if (id === SHEET_KEY && valueNode?.type !== "string")
        found.push(at(valueNode ?? keyNode, Code.inputSetWithoutSheet, `"${SHEET_KEY}" is the path of the set's sheet: a string.`));
      continue;
    }
    const windows = windowsWithId(sheet, id);
    if (windows.length === 0) {
      // A computed id may be this one: say nothing rather than guess.
      if (sheet.openIds) continue;
      const guess = closestName(id, ids);
      found.push({
        ...at(keyNode, Code.inputUnknownWindow, unknownWindowMessage(id, sheetName, ids, guess)),
        ...renameFix(keyNode, guess),
      });
      continue;
    }
    if (!valueNode) continue;
    if (valueNode.type !== "object") {
      found.push(
        at(
          valueNode,
          Code.inputSetNotAnObject,
          `The values of window '${id}' are an object of fields, { "field": value }, got ${kindOf(valueNode)}.`,
        ),
      );
      continue;
    }
    // Branches that show one id with other fields: the first one read is what the set is checked against.
    const window = windows.find((candidate) => candidate.spec);
    if (window) found.push(...checkWindowValues(window, keyNode, valueNode));
  }
  return found;
}

function unknownWindowMessage(id: string, sheetName: string, ids: string[], guess: string | undefined): string {
  const head = `'${id}' is not a window of ${sheetName}`;
  if (guess) return `${head}; did you mean '${guess}'?`;
  return ids.length > 0 ? `${head}; its windows are ${ids.join(", ")}.` : `${head}, which shows no window.`;
}

function checkWindowValues(window: SheetWindow, keyNode: jsonc.Node, valuesNode: jsonc.Node): SheetDiagnostic[] {
  const spec = window.spec!;
  const found: SheetDiagnostic[] = [];
  const names = spec.fields.map((field) => field.name);
  const given = new Map<string, jsonc.Node>();
  for (const property of valuesNode.children ?? []) {
    const [nameNode, valueNode] = property.children ?? [];
    if (!nameNode || typeof nameNode.value !== "string") continue;
    const name = nameNode.value;
    const field = spec.fields.find((candidate) => candidate.name === name);
    if (!field) {
      if (window.fieldsOpen) continue;
      const guess = closestName(name, names);
      found.push({
        ...at(
          nameNode,
          Code.inputUnknownField,
          `'${name}' is not a field of window '${spec.id}'` +
            (guess ? `; did you mean '${guess}'?` : `; its fields are ${names.join(", ")}.`),
        ),
        ...renameFix(nameNode, guess),
      });
      continue;
    }
    given.set(name, nameNode);
    if (!valueNode || window.openFields.has(name)) continue;
    const check = checkField(field, jsonc.getNodeValue(valueNode));
    if (!check.ok) found.push(at(valueNode, PROBLEM_CODES[check.problem], `${spec.id}.${name}: ${check.message}`));
  }
  const missing = spec.fields.filter((field) => field.required && !given.has(field.name));
  if (missing.length > 0)
    found.push(
      at(
        keyNode,
        Code.inputRequiredMissing,
        `Window '${spec.id}' needs ${missing.map((field) => `'${field.name}'`).join(", ")} (required); a run with this set would stop at the window.`,
      ),
    );
  return found;
}

/** The quick fix of an unknown key: the closest name the sheet has, when one is close. */
function renameFix(key: jsonc.Node, guess: string | undefined): Pick<SheetDiagnostic, "fix"> {
  if (guess === undefined) return {};
  return { fix: { title: `Change to '${guess}'`, start: key.offset, end: key.offset + key.length, newText: JSON.stringify(guess) } };
}

function at(node: jsonc.Node, code: string, message: string): SheetDiagnostic {
  return { start: node.offset, end: node.offset + node.length, severity: "error", code, message };
}

function kindOf(node: jsonc.Node): string {
  if (node.type === "array") return "an array";
  if (node.type === "object") return "an object";
  return describeValue(node.value);
}

// -- completion, hover, definition ----------------------------------------------------------------------------------

export interface InputSetCompletion {
  label: string;
  /** Inserted as is (JSON text, quotes included). */
  insertText: string;
  kind: "window" | "field" | "value" | "unit";
  detail: string;
  documentation?: string;
  /** The range the insertion replaces: the string being typed, quotes included. */
  replaceStart: number;
  replaceEnd: number;
}

/** Window ids at the top level, field names inside a window, options and units in a value. */
export function inputSetCompletions(set: ParsedInputSet, offset: number, sheet: SheetWindows): InputSetCompletion[] {
  const { root } = set;
  const location = jsonc.getLocation(set.text, offset);
  const node = location.previousNode;
  const replaceStart = node && node.type === "string" ? node.offset : offset;
  const replaceEnd = node && node.type === "string" ? node.offset + node.length : offset;
  const path = location.path;
  const present = (at: jsonc.JSONPath) => {
    const object = root && jsonc.findNodeAtLocation(root, at);
    return new Set((object?.children ?? []).map((property) => property.children?.[0]?.value as string));
  };
  if (location.isAtPropertyKey && path.length === 1) {
    const used = present([]);
    return windowIds(sheet)
      .filter((id) => !used.has(id) || id === node?.value)
      .map((id) => {
        const spec = windowsWithId(sheet, id).find((window) => window.spec)?.spec;
        return {
          label: id,
          insertText: JSON.stringify(id),
          kind: "window",
          detail: windowsWithId(sheet, id)[0]?.title ?? id,
          ...(spec ? { documentation: windowMarkdown(spec) } : {}),
          replaceStart,
          replaceEnd,
        };
      });
  }
  const spec = typeof path[0] === "string" ? windowSpec(sheet, path[0]) : undefined;
  if (!spec) return [];
  if (location.isAtPropertyKey && path.length === 2) {
    const used = present([path[0]!]);
    return spec.fields
      .filter((field) => !used.has(field.name) || field.name === node?.value)
      .map((field) => ({
        label: field.name,
        insertText: JSON.stringify(field.name),
        kind: "field",
        detail: fieldDetail(field),
        documentation: fieldMarkdown(spec, field),
        replaceStart,
        replaceEnd,
      }));
  }
  if (!location.isAtPropertyKey && path.length >= 2 && typeof path[1] === "string") {
    const field = spec.fields.find((candidate) => candidate.name === path[1]);
    if (!field) return [];
    if (field.options) {
      return field.options.map((option) => ({
        label: String(option.value),
        insertText: JSON.stringify(option.value),
        kind: "value",
        detail: option.label === String(option.value) ? field.type : option.label,
        replaceStart,
        replaceEnd,
      }));
    }
    if (field.type === "boolean")
      return [true, false].map((value) => ({
        label: String(value),
        insertText: String(value),
        kind: "value",
        detail: "boolean",
        replaceStart,
        replaceEnd,
      }));
    if (field.type === "number" && field.unit) {
      // A number in any unit of the field's kind: the sandbox converts it (`"300 mm"` into a field in m).
      const typed = node && node.type === "string" ? String(node.value) : "";
      const number = /^\s*[-+]?[\d.]+(?:e[-+]?\d+)?/i.exec(typed)?.[0]?.trim() ?? String(field.default ?? field.min ?? 0);
      return unitsOfKind(field.unit).map((unit) => ({
        label: `${number} ${unit}`,
        insertText: JSON.stringify(`${number} ${unit}`),
        kind: "unit",
        detail: unit === field.unit ? `the field's unit` : `converted to ${unitLabel(field.unit!)}`,
        replaceStart,
        replaceEnd,
      }));
    }
  }
  return [];
}

function unitsOfKind(unit: string): string[] {
  const target = parseUnit(unit);
  if (!target) return [unit];
  const same = unitSymbols().filter((symbol) => {
    const parsed = parseUnit(symbol);
    return parsed !== undefined && sameDimensions(parsed.dims, target.dims);
  });
  return [unit, ...same.filter((symbol) => symbol !== unit)];
}

export interface InputSetHover {
  start: number;
  end: number;
  markdown: string;
}

/** A window key: its title, caption and fields. A field key: its label, type, unit, range, options. A value: what the sheet receives. */
export function inputSetHover(set: ParsedInputSet, offset: number, sheet: SheetWindows): InputSetHover | undefined {
  const target = inputSetTarget(set.root, offset, sheet);
  if (!target) return undefined;
  const { node, spec, field, part } = target;
  const range = { start: node.offset, end: node.offset + node.length };
  if (!spec)
    return {
      ...range,
      markdown: `Window \`${String(node.value)}\` builds its fields at run time: its values are checked when the set runs.`,
    };
  if (!field) return { ...range, markdown: windowMarkdown(spec) };
  if (part === "key") return { ...range, markdown: fieldMarkdown(spec, field) };
  if (target.window.openFields.has(field.name))
    return {
      ...range,
      markdown: `${fieldMarkdown(spec, field)}\n\nSome of this field's attributes are computed: its value is checked when the set runs.`,
    };
  const check = checkField(field, jsonc.getNodeValue(node));
  const received = check.ok
    ? `The sheet receives \`${JSON.stringify(check.value)}\`${field.unit && typeof check.value === "number" ? ` (${valueWithUnit(check.value, field.unit)})` : ""}.`
    : check.message;
  return { ...range, markdown: `${fieldMarkdown(spec, field)}\n\n${received}` };
}

export interface InputSetDefinition {
  fileName: string;
  /** The window's or field's spec literal in the sheet. */
  specStart: number;
  specEnd: number;
  nameStart: number;
  nameEnd: number;
}

/** From a window id or field name in the set to where the sheet declares it. */
export function inputSetDefinition(
  set: ParsedInputSet,
  offset: number,
  sheet: SheetWindows,
): (InputSetDefinition & { originStart: number; originEnd: number }) | undefined {
  const target = inputSetTarget(set.root, offset, sheet);
  if (!target || target.part !== "key") return undefined;
  const window = target.window;
  const origin = { originStart: target.node.offset, originEnd: target.node.offset + target.node.length };
  const sourceFile = window.sourceFile;
  if (!target.field) {
    const naming = window.site.spec.attributes.get("id") ?? window.site.spec.attributes.get("title");
    const nameNode = naming?.valueNode ?? window.site.call;
    return {
      ...origin,
      fileName: window.fileName,
      specStart: window.site.spec.node.getStart(sourceFile),
      specEnd: window.site.spec.node.end,
      nameStart: nameNode.getStart(sourceFile),
      nameEnd: nameNode.end,
    };
  }
  const entry = window.site.fields?.find(
    (candidate) => candidate.kind === "field" && knownString(candidate.site.attributes.get("name")) === target.field!.name,
  );
  if (!entry || entry.kind !== "field") return undefined;
  const nameNode = entry.site.attributes.get("name")!.valueNode;
  return {
    ...origin,
    fileName: window.fileName,
    specStart: entry.site.node.getStart(sourceFile),
    specEnd: entry.site.node.end,
    nameStart: nameNode.getStart(sourceFile),
    nameEnd: nameNode.end,
  };
}

interface InputSetTarget {
  node: jsonc.Node;
  part: "key" | "value";
  window: SheetWindow;
  spec: WindowSpec | undefined;
  field: Field | undefined;
}

/** What the set's text at `offset` is about: a window key, a field key or a field's value. */
function inputSetTarget(root: jsonc.Node | undefined, offset: number, sheet: SheetWindows): InputSetTarget | undefined {
  const node = root && jsonc.findNodeAtOffset(root, offset, true);
  if (!node || !node.parent || node.parent.type !== "property") return undefined;
  const path = jsonc.getNodePath(node);
  const part = node.parent.children?.[0] === node ? "key" : "value";
  const id = path[0];
  if (typeof id !== "string") return undefined;
  const windows = windowsWithId(sheet, id);
  const window = windows.find((candidate) => candidate.spec) ?? windows[0];
  if (!window) return undefined;
  const spec = window.spec;
  if (path.length === 1) return part === "key" ? { node, part, window, spec, field: undefined } : undefined;
  if (path.length !== 2 || typeof path[1] !== "string" || !spec) return undefined;
  const field = spec.fields.find((candidate) => candidate.name === path[1]);
  return field ? { node, part, window, spec, field } : undefined;
}

function windowSpec(sheet: SheetWindows, id: string): WindowSpec | undefined {
  return windowsWithId(sheet, id).find((window) => window.spec)?.spec;
}

function fieldDetail(field: Field): string {
  return `${field.type}${field.unit ? ` [${unitLabel(field.unit)}]` : ""}${field.required ? ", required" : ""}`;
}

function windowMarkdown(spec: WindowSpec): string {
  const lines = [`**${spec.title}** (window \`${spec.id}\`)`];
  if (spec.caption) lines.push("", spec.caption);
  lines.push(
    "",
    ...spec.fields.map((field) => `- \`${field.name}\`: ${field.label !== field.name ? `${field.label}, ` : ""}${fieldDetail(field)}`),
  );
  return lines.join("\n");
}

function fieldMarkdown(spec: WindowSpec, field: Field): string {
  const facts: string[] = [fieldDetail(field)];
  if (field.min !== undefined || field.max !== undefined)
    facts.push(
      `${field.min !== undefined ? valueWithUnit(field.min, field.unit) : "−∞"} … ${field.max !== undefined ? valueWithUnit(field.max, field.unit) : "∞"}`,
    );
  if (field.options) facts.push(`one of ${field.options.map((option) => `\`${JSON.stringify(option.value)}\``).join(", ")}`);
  if (field.default !== undefined) facts.push(`default ${JSON.stringify(field.default)}`);
  const head = `**${field.label}** (\`${spec.id}.${field.name}\`)`;
  return [head, "", facts.join(" · "), ...(field.help ? ["", field.help] : [])].join("\n");
}

/** A set file and the windows of its sheet, read through `readFile` (open editors first, then the disk). */
export interface LoadedInputSet {
  parsed: ParsedInputSet;
  /** Undefined when the set names no sheet that can be read. */
  sheet: SheetWindows | undefined;
  sheetName: string | undefined;
  /** Finding the sheet, when it failed. */
  problem: SheetDiagnostic | undefined;
}

/**
 * Reads a set and its sheet's windows. `windowsOf` lets the language server keep a sheet's windows between
 * requests (a hover should not parse the sheet again); by default they are read afresh.
 */
export function loadInputSet(
  setFileName: string,
  text: string,
  readFile: (fileName: string) => string | undefined,
  windowsOf: (fileName: string, text: string) => SheetWindows = (fileName, sheetText) => sheetWindows(fileName, sheetText, { readFile }),
): LoadedInputSet {
  const parsed = parseInputSet(text);
  const found = sheetOfInputSet(setFileName, parsed, (fileName) => readFile(fileName) !== undefined);
  if ("problem" in found) return { parsed, sheet: undefined, sheetName: undefined, problem: found.problem };
  const sheetName = found.fileName.slice(found.fileName.lastIndexOf("/") + 1);
  return { parsed, sheet: windowsOf(found.fileName, readFile(found.fileName) ?? ""), sheetName, problem: undefined };
}

/** Every problem of a set file: its JSON, finding its sheet, and its values against the sheet's windows. */
export function inputSetDiagnostics(loaded: LoadedInputSet): SheetDiagnostic[] {
  const found = loaded.sheet
    ? checkInputSet(loaded.parsed, loaded.sheet, loaded.sheetName ?? loaded.sheet.fileName)
    : [...loaded.parsed.syntax, ...(loaded.problem ? [loaded.problem] : [])];
  return found.sort(compareDiagnostics);
}

/** One lens above a window in the sheet: which of the sheet's input sets answer it. */
export interface WindowSetsLens {
  /** The window spec's call in the sheet. */
  start: number;
  id: string;
  /** The sets that give this window values: their names ("default", a case) and files. */
  sets: { name: string; file: string }[];
}

/**
 * For each window written in the sheet itself, the sets (of `sets`, each read as JSON) that answer it. Windows whose
 * id is computed get no lens: which set answers them is not known before a run.
 */
export function windowSetsLenses(sheet: SheetWindows, sets: readonly { name: string; file: string; text: string }[]): WindowSetsLens[] {
  const keysOf = sets.map((set) => {
    const root = jsonc.parseTree(set.text);
    return new Set(root?.type === "object" ? (root.children ?? []).map((property) => property.children?.[0]?.value as string) : []);
  });
  return sheet.windows
    .filter((window) => window.fileName === sheet.fileName && window.id !== undefined)
    .map((window) => ({
      start: window.site.call.getStart(window.sourceFile),
      id: window.id!,
      sets: sets.filter((_, index) => keysOf[index]!.has(window.id!)).map(({ name, file }) => ({ name, file })),
    }));
}
