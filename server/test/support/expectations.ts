// The expected-diagnostics files: one line per diagnostic, `line:col-line:col severity CODE: message` (1-based,
// newlines in messages written as \n), shared by the server tests and the `uzoncalc check` tests.
import * as path from "node:path";
import * as assert from "node:assert/strict";
import type { Diagnostic, Position } from "vscode-languageserver-protocol";

export const FIXTURES = path.join(__dirname, "..", "fixtures");
export const SHEETS = path.join(FIXTURES, "sheets");
export const EXPECTED = path.join(FIXTURES, "expected");

export function expectedFile(sheet: string, mode: string): string {
  return path.join(EXPECTED, `${sheet}.${mode}.txt`);
}

export function formatDiagnostics(diagnostics: readonly Diagnostic[]): string {
  return (
    diagnostics
      .map((d) => {
        const severity = d.severity === 1 ? "error" : d.severity === 2 ? "warning" : `severity${d.severity}`;
        const range = `${d.range.start.line + 1}:${d.range.start.character + 1}-${d.range.end.line + 1}:${d.range.end.character + 1}`;
        return `${range} ${severity} ${String(d.code)}: ${messageOf(d).replace(/\n/g, "\\n")}`;
      })
      .join("\n") + (diagnostics.length > 0 ? "\n" : "")
  );
}

/** What `uzoncalc check` prints for the same diagnostics: the start position, and the message on one line. */
export function checkLines(displayName: string, expected: string): string[] {
  return expected
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      const match = /^(\d+):(\d+)-\d+:\d+ (error|warning) ([A-Z0-9]+): (.*)$/.exec(line);
      if (!match) throw new Error(`bad expectation line: ${line}`);
      const message = match[5]!.replace(/\s*\\n\s*/g, " ");
      return `${displayName}:${match[1]}:${match[2]} - ${match[3]} ${match[4]}: ${message}`;
    });
}

/** LSP 3.18 allows markup in messages; this server sends plain strings. */
export function messageOf(diagnostic: Diagnostic): string {
  return typeof diagnostic.message === "string" ? diagnostic.message : diagnostic.message.value;
}

/** Where `needle` (plus `within` characters) is in `text`, as an LSP position. */
export function positionOf(text: string, needle: string, within = 0): Position {
  const index = text.indexOf(needle);
  assert.ok(index >= 0, `fixture lost ${JSON.stringify(needle)}`);
  const before = text.slice(0, index + within).split("\n");
  return { line: before.length - 1, character: before[before.length - 1]!.length };
}
