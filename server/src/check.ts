// `uzoncalc check <files...>` (SPEC §4): the language server's checks for CI, one line per problem,
//   file:line:col - error|warning CODE: message
// exit 1 if any error. Built as dist/check.js (it carries TypeScript); dist/cli.js loads it only for `check`.
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { TextDocument } from "vscode-languageserver-textdocument";
import { DEFAULT_TYPE_CHECK, parseTypeCheckMode, type SheetDiagnostic } from "./diagnostic";
import { isInputSetFileName } from "../../protocol/limits";
import { inputSetDiagnostics, loadInputSet } from "./inputSets";
import { inputSetSchema } from "./inputSetSchema";
import { isSheetFile } from "./sheetSyntax";
import { sheetWindows } from "./sheetWindows";
import { SheetWorkspace } from "./sheetWorkspace";
import { loadTypeScriptLibs, toTypeScriptPath } from "./typescriptLibs";

export const CHECK_USAGE = `Usage: uzoncalc check <sheet.calc.ts|sheet.calc.js|set.inputs.json>... [--type-check fields|all|off]

Checks calculation sheets without running them: window specs (UZC1xxx), and how the sheet uses the values its
windows return (UZC2001 unknown field; TypeScript's findings on field values). --type-check all also reports
every other TypeScript error; off keeps only the window spec checks. Default: fields.
Input sets (*.inputs.json) are checked against their sheet's windows (UZC4xxx): the sheet is <base>.calc.ts|js
beside the set, or the set's "$sheet".
One line per problem: file:line:col - error|warning CODE: message. Exit code 1 if any error.`;

export interface CheckOutput {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

export function formatDiagnostic(displayName: string, document: TextDocument, diagnostic: SheetDiagnostic): string {
  const position = document.positionAt(diagnostic.start);
  const message = diagnostic.message.replace(/\s*\n\s*/g, " ");
  return `${displayName}:${position.line + 1}:${position.character + 1} - ${diagnostic.severity} ${diagnostic.code}: ${message}`;
}

export async function runCheck(
  argv: readonly string[],
  output: CheckOutput = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { "type-check": { type: "string" }, help: { type: "boolean", short: "h" } },
    });
  } catch (error) {
    output.stderr.write(`uzoncalc check: ${(error as Error).message}\n\n${CHECK_USAGE}\n`);
    return 1;
  }
  if (parsed.values.help) {
    output.stdout.write(`${CHECK_USAGE}\n`);
    return 0;
  }
  const mode = parsed.values["type-check"] === undefined ? DEFAULT_TYPE_CHECK : parseTypeCheckMode(parsed.values["type-check"]);
  if (!mode) {
    output.stderr.write(`uzoncalc check: --type-check must be fields, all or off\n`);
    return 1;
  }
  if (parsed.positionals.length === 0) {
    output.stderr.write(`uzoncalc check: name at least one sheet\n\n${CHECK_USAGE}\n`);
    return 1;
  }
  const workspace = new SheetWorkspace({ libs: loadTypeScriptLibs() });
  const sheets: { displayName: string; fileName: string; text: string }[] = [];
  const inputSets: typeof sheets = [];
  let failed = false;
  for (const displayName of parsed.positionals) {
    const fileName = toTypeScriptPath(path.resolve(displayName));
    if (!isSheetFile(fileName) && !isInputSetFileName(fileName)) {
      output.stderr.write(`uzoncalc check: ${displayName} is not a sheet (*.calc.ts or *.calc.js) or an input set (*.inputs.json)\n`);
      failed = true;
      continue;
    }
    let text: string;
    try {
      text = fs.readFileSync(fileName, "utf8");
    } catch {
      output.stderr.write(`uzoncalc check: cannot read ${displayName}\n`);
      failed = true;
      continue;
    }
    if (isInputSetFileName(fileName)) inputSets.push({ displayName, fileName, text });
    else {
      sheets.push({ displayName, fileName, text });
      workspace.setDocument(fileName, text, 1);
    }
  }
  let errors = 0;
  let warnings = 0;
  for (const sheet of sheets) {
    const document = TextDocument.create("file:///sheet", "typescript", 0, sheet.text);
    for (const diagnostic of await workspace.diagnostics(sheet.fileName, mode)) {
      if (diagnostic.severity === "error") errors++;
      else warnings++;
      output.stdout.write(`${formatDiagnostic(sheet.displayName, document, diagnostic)}\n`);
    }
  }
  for (const set of inputSets) {
    const document = TextDocument.create("file:///set", "json", 0, set.text);
    for (const diagnostic of inputSetDiagnostics(loadInputSet(set.fileName, set.text, readFromDisk))) {
      if (diagnostic.severity === "error") errors++;
      else warnings++;
      output.stdout.write(`${formatDiagnostic(set.displayName, document, diagnostic)}\n`);
    }
  }
  if (errors + warnings > 0) {
    const files = [plural(sheets.length, "sheet"), ...(inputSets.length > 0 ? [plural(inputSets.length, "input set")] : [])];
    output.stderr.write(`${plural(errors, "error")}, ${plural(warnings, "warning")} in ${files.join(" and ")}\n`);
  }
  return failed || errors > 0 ? 1 : 0;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

function readFromDisk(fileName: string): string | undefined {
  try {
    return fs.readFileSync(fileName, "utf8");
  } catch {
    return undefined;
  }
}

export const SCHEMA_USAGE = `Usage: uzoncalc schema <sheet.calc.ts|sheet.calc.js> [--func NAME]

Prints the JSON Schema (2020-12) of the sheet's input sets ({ "window_id": { "field": value } }), read from the
sheet without running it. A window whose fields are built at run time allows any object, and says so.`;

/** \`uzoncalc schema\`: the schema on stdout; exit 1 on a usage error or an unreadable sheet. */
export function runSchema(argv: readonly string[], output: CheckOutput = { stdout: process.stdout, stderr: process.stderr }): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { func: { type: "string" }, help: { type: "boolean", short: "h" } },
    });
  } catch (error) {
    output.stderr.write(`uzoncalc schema: ${(error as Error).message}\n\n${SCHEMA_USAGE}\n`);
    return 1;
  }
  if (parsed.values.help) {
    output.stdout.write(`${SCHEMA_USAGE}\n`);
    return 0;
  }
  if (parsed.positionals.length !== 1) {
    output.stderr.write(`uzoncalc schema: name one sheet\n\n${SCHEMA_USAGE}\n`);
    return 1;
  }
  const displayName = parsed.positionals[0]!;
  const fileName = toTypeScriptPath(path.resolve(displayName));
  const text = isSheetFile(fileName) ? readFromDisk(fileName) : undefined;
  if (text === undefined) {
    output.stderr.write(
      `uzoncalc schema: ${isSheetFile(fileName) ? `cannot read ${displayName}` : `${displayName} is not a sheet (*.calc.ts or *.calc.js)`}\n`,
    );
    return 1;
  }
  const sheet = sheetWindows(fileName, text, { readFile: readFromDisk, ...(parsed.values.func ? { funcName: parsed.values.func } : {}) });
  output.stdout.write(`${JSON.stringify(inputSetSchema(sheet, path.basename(fileName)), null, 2)}\n`);
  return 0;
}

if (require.main === module) {
  runCheck(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`uzoncalc check: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
