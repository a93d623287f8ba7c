// The windows a sheet will show, read from its source without running it: what an input set file is checked
// against and what `uzoncalc schema` describes. A window whose id or fields are computed at run time cannot be
// known here; it is kept as "open" (any values allowed) rather than guessed, as the spec checks do.
import * as path from "node:path";
import * as ts from "typescript";
import { normalizeWindow, type WindowSpec } from "../../protocol/fields";
import type { StaticValue } from "./staticValues";
import { findRuntimeBindings, isFunctionBoundary, parseSheet } from "./sheetSyntax";
import { findWindowSites, knownString, staticWindowId, type FieldEntry, type WindowSite } from "./windowSpecs";

export interface SheetWindow {
  /** The file the spec is written in: the sheet, or a local module it imports. */
  fileName: string;
  sourceFile: ts.SourceFile;
  /** Undefined when the id is computed (a title or id built at run time). */
  id: string | undefined;
  title: string | undefined;
  /** The window as the sandbox will validate it; undefined when its field list is built at run time. */
  spec: WindowSpec | undefined;
  /** Fields whose name is written out but some attribute is computed (`options: Object.keys(TABLE)`): their values are not checked. */
  openFields: ReadonlySet<string>;
  /** Some field's name is computed (a spread, a call): a field not in `spec` may still be a real one. */
  fieldsOpen: boolean;
  site: WindowSite;
}

export interface SheetWindows {
  fileName: string;
  sourceFile: ts.SourceFile;
  windows: SheetWindow[];
  /** Some window's id is computed: a window id not found statically may still be a real one. */
  openIds: boolean;
}

export interface SheetWindowsOptions {
  /** The entry function (`--func`): its windows and its helpers', not those of other exported entries. */
  funcName?: string;
  /** Reads a local module the sheet imports (`./lib/ask`), whose windows the sheet may show; undefined: unreadable. */
  readFile?: (fileName: string) => string | undefined;
}

/**
 * Every window spec in the sheet, in source order, then those of the local modules it imports (one level: a
 * helper module that shows a window is common, a chain of them is not). A module that cannot be read makes the
 * ids open, so no set key is called unknown on a guess.
 */
export function sheetWindows(fileName: string, text: string, options: SheetWindowsOptions = {}): SheetWindows {
  const { funcName } = options;
  const sourceFile = parseSheet(fileName, text);
  let sites = findWindowSites(sourceFile, findRuntimeBindings(sourceFile));
  if (funcName !== undefined) {
    const entries = sites.map((site) => enclosingEntry(site.call));
    // As the sandbox picks the entry (SPEC §1): the function named, else the default export.
    const entry = entries.some((found) => found?.exported && found.name === funcName) ? funcName : "default";
    sites = sites.filter((_, index) => {
      const found = entries[index];
      return !found || !found.exported || found.name === entry;
    });
  }
  const windows = sites.map((site): SheetWindow => {
    const id = staticWindowId(site.spec);
    const title = knownString(site.spec.attributes.get("title"));
    const fields = site.fields && readFields(site.fields);
    const spec = id !== undefined && fields ? normalizeWindow({ id, title: title ?? id, fields: fields.raw }).window : undefined;
    // An attribute left out because it is computed must not read as absent: a select's options, for one.
    for (const field of spec?.fields ?? []) if (fields?.open.has(field.name) && field.options?.length === 0) delete field.options;
    return {
      fileName,
      sourceFile,
      id,
      title,
      spec,
      openFields: fields?.open ?? new Set(),
      fieldsOpen: fields?.someNameOpen ?? true,
      site,
    };
  });
  let openIds = false;
  for (const imported of localImports(sourceFile)) {
    const moduleFile = resolveLocalModule(fileName, imported, options.readFile);
    if (!moduleFile) {
      openIds = true;
      continue;
    }
    windows.push(...sheetWindows(moduleFile.fileName, moduleFile.text).windows);
  }
  return { fileName, sourceFile, windows, openIds: openIds || windows.some((window) => window.id === undefined) };
}

function localImports(sourceFile: ts.SourceFile): string[] {
  return sourceFile.statements.flatMap((statement) =>
    (ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) &&
    statement.moduleSpecifier &&
    ts.isStringLiteral(statement.moduleSpecifier) &&
    statement.moduleSpecifier.text.startsWith(".")
      ? [statement.moduleSpecifier.text]
      : [],
  );
}

/** `./lib/ask` as the bundler finds it: the path itself, then with a script extension, then as a folder's index. */
function resolveLocalModule(
  fromFile: string,
  specifier: string,
  readFile: SheetWindowsOptions["readFile"],
): { fileName: string; text: string } | undefined {
  if (!readFile) return undefined;
  const base = path.posix.join(path.posix.dirname(fromFile), specifier);
  const stem = base.replace(/\.(js|mjs|cjs)$/, "");
  for (const fileName of [base, ...[".ts", ".mts", ".js", ".mjs"].flatMap((ext) => [stem + ext, `${base}/index${ext}`])]) {
    const text = readFile(fileName);
    if (text !== undefined) return { fileName, text };
  }
  return undefined;
}

/** Each field's attributes that are written out, and which fields have others that are computed. */
function readFields(entries: FieldEntry[]): { raw: StaticValue[]; open: Set<string>; someNameOpen: boolean } {
  const raw: StaticValue[] = [];
  const open = new Set<string>();
  let someNameOpen = false;
  for (const entry of entries) {
    if (entry.kind === "other") {
      if (entry.value.known) raw.push(entry.value.value);
      else someNameOpen = true;
      continue;
    }
    const name = knownString(entry.site.attributes.get("name"));
    if (name === undefined) {
      someNameOpen = true;
      continue;
    }
    const field: { [key: string]: StaticValue } = {};
    for (const [key, attribute] of entry.site.attributes) {
      if (attribute.value.known) field[key] = attribute.value.value;
      else open.add(name);
    }
    if (entry.site.open) open.add(name);
    raw.push(field);
  }
  return { raw, open, someNameOpen };
}

/** The windows an input set's key names (several when branches of the sheet show one id with other fields). */
export function windowsWithId(sheet: SheetWindows, id: string): SheetWindow[] {
  return sheet.windows.filter((window) => window.id === id);
}

/** Each id once, in the order the sheet first shows it. */
export function windowIds(sheet: SheetWindows): string[] {
  return [...new Set(sheet.windows.flatMap((window) => (window.id === undefined ? [] : [window.id])))];
}

/**
 * The outermost function around `node`, named as an entry would be (`sheet`, or "default" for the default
 * export), and whether it is exported; undefined at the top level.
 */
function enclosingEntry(node: ts.Node): { name: string | undefined; exported: boolean } | undefined {
  let outermost: ts.Node | undefined;
  for (let current: ts.Node | undefined = node.parent; current; current = current.parent)
    if (isFunctionBoundary(current)) outermost = current;
  if (!outermost) return undefined;
  const declaration = ts.isVariableDeclaration(outermost.parent) ? outermost.parent : undefined;
  const statement = declaration ? declaration.parent.parent : outermost;
  const modifiers = ts.canHaveModifiers(statement) ? (ts.getModifiers(statement) ?? []) : [];
  const isDefault = ts.isExportAssignment(outermost.parent) || modifiers.some((m) => m.kind === ts.SyntaxKind.DefaultKeyword);
  const exported = isDefault || modifiers.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
  let name: string | undefined;
  if (isDefault) name = "default";
  else if ((ts.isFunctionDeclaration(outermost) || ts.isFunctionExpression(outermost)) && outermost.name) name = outermost.name.text;
  else if (declaration && ts.isIdentifier(declaration.name)) name = declaration.name.text;
  return { name, exported };
}
