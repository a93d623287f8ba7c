// "▶ Run Calc" above each exported sheet function (an exported async generator).

import * as vscode from "vscode";

const EXPORTED_SHEET = /^\s*export\s+(default\s+)?async\s+function\s*\*\s*([A-Za-z_$][\w$]*)?/gm;

export class SheetCodeLensProvider implements vscode.CodeLensProvider {
  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const lenses: vscode.CodeLens[] = [];
    const text = document.getText();
    for (const match of text.matchAll(EXPORTED_SHEET)) {
      const position = document.positionAt(match.index ?? 0);
      const name = match[1] ? "default" : match[2] ?? "sheet";
      // `sheet` is the sandbox's default entry; the default export is named explicitly (a module may have both).
      const funcName = name === "sheet" ? undefined : name;
      lenses.push(new vscode.CodeLens(new vscode.Range(position, position), {
        title: funcName ? `▶ Run Calc (${funcName})` : "▶ Run Calc",
        tooltip: "Run this sheet in the UzonCalc sandbox; its report opens beside the editor",
        command: "uzoncalc.runCalc",
        arguments: [document.uri, funcName],
      }));
    }
    return lenses;
  }
}
