// "▶ Run Calc" above each exported sheet function (an exported async generator). In Restricted Mode the lens says
// why the sheet cannot run and opens the trust editor instead.

import * as vscode from "vscode";

const EXPORTED_SHEET = /^\s*export\s+(default\s+)?async\s+function\s*\*\s*([A-Za-z_$][\w$]*)?/gm;

export class SheetCodeLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly trustGranted = vscode.workspace.onDidGrantWorkspaceTrust(() => this.changed.fire());

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const lenses: vscode.CodeLens[] = [];
    const text = document.getText();
    const trusted = vscode.workspace.isTrusted;
    for (const match of text.matchAll(EXPORTED_SHEET)) {
      const position = document.positionAt(match.index ?? 0);
      const range = new vscode.Range(position, position);
      if (!trusted) {
        lenses.push(
          new vscode.CodeLens(range, {
            title: "$(workspace-untrusted) Run Calc needs a trusted workspace",
            tooltip: "Running a sheet runs its code. Trust this folder to run sheets.",
            command: "workbench.trust.manage",
          }),
        );
        continue;
      }
      const name = match[1] ? "default" : (match[2] ?? "sheet");
      // `sheet` is the sandbox's default entry; the default export is named explicitly (a module may have both).
      const funcName = name === "sheet" ? undefined : name;
      lenses.push(
        new vscode.CodeLens(range, {
          title: funcName ? `▶ Run Calc (${funcName})` : "▶ Run Calc",
          tooltip: "Run this sheet in the UzonCalc sandbox; its report opens beside the editor",
          command: "uzoncalc.runCalc",
          arguments: [document.uri, funcName],
        }),
      );
    }
    return lenses;
  }

  dispose(): void {
    this.trustGranted.dispose();
    this.changed.dispose();
  }
}
