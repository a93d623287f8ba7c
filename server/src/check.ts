// `uzoncalc check <files...>` (SPEC §4): the language server's checks for CI, one line per problem,
//   file:line:col - error|warning CODE: message
// exit 1 if any error. Built as dist/check.js (it carries TypeScript); dist/cli.js loads it only for `check`.
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { TextDocument } from "vscode-languageserver-textdocument";
import { DEFAULT_TYPE_CHECK, parseTypeCheckMode, type SheetDiagnostic } from "./diagnostic";
import { isSheetFile } from "./sheetSyntax";
import { SheetWorkspace } from "./sheetWorkspace";
import { loadTypeScriptLibs, toTypeScriptPath } from "./typescriptLibs";

export const CHECK_USAGE = `Usage: uzoncalc check <sheet.calc.ts|sheet.calc.js>... [--type-check fields|all|off]

Checks calculation sheets without running them: window specs (UZC1xxx), and how the sheet uses the values its
windows return (UZC2001 unknown field; TypeScript's findings on field values). --type-check all also reports
every other TypeScript error; off keeps only the window spec checks. Default: fields.
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
  let failed = false;
  for (const displayName of parsed.positionals) {
    const fileName = toTypeScriptPath(path.resolve(displayName));
    if (!isSheetFile(fileName)) {
      output.stderr.write(`uzoncalc check: ${displayName} is not a sheet (*.calc.ts or *.calc.js)\n`);
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
    sheets.push({ displayName, fileName, text });
    workspace.setDocument(fileName, text, 1);
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
  if (errors + warnings > 0)
    output.stderr.write(
      `${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"} in ${sheets.length} sheet${sheets.length === 1 ? "" : "s"}\n`,
    );
  return failed || errors > 0 ? 1 : 0;
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
