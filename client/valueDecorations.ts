// The last run's values beside the code: each rendered assignment's value at the end of its line, in the
// editor's faint CodeLens colour, with a hover that shows the whole line of the report. A line's value goes
// away as soon as that line is edited (it may no longer be true); lines above and below keep theirs and move
// with the text.

import * as vscode from "vscode";
import type { TraceEntry } from "../protocol/rpc";

/** What one line shows: the last value its assignment took in the run. */
interface LineValue {
  /** "M_Ed = 30.1 kN·m", or the value alone for a bare expression (`a < b;`). */
  text: string;
  formula?: string;
}

export class ValueDecorations implements vscode.Disposable {
  private readonly decoration = vscode.window.createTextEditorDecorationType({
    after: { margin: "0 0 0 2.5em", color: new vscode.ThemeColor("editorCodeLens.foreground"), fontStyle: "italic" },
    rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
  });
  /** Sheet URI → line (0-based) → value. */
  private readonly values = new Map<string, Map<number, LineValue>>();
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly enabled: () => boolean) {
    this.subscriptions.push(
      vscode.window.onDidChangeVisibleTextEditors((editors) => editors.forEach((editor) => this.render(editor))),
      vscode.workspace.onDidChangeTextDocument((event) => this.onEdit(event)),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration("uzoncalc.showValues")) this.renderAll();
      }),
    );
  }

  /** A run started: its values replace the last run's as they arrive. */
  clear(sheet: vscode.Uri): void {
    this.values.delete(sheet.toString());
    this.renderSheet(sheet);
  }

  /** Values from one step of a run. */
  add(sheet: vscode.Uri, entries: readonly TraceEntry[]): void {
    if (entries.length === 0) return;
    const key = sheet.toString();
    const lines = this.values.get(key) ?? new Map<number, LineValue>();
    for (const entry of entries) {
      if (!Number.isInteger(entry.line) || entry.line < 1) continue;
      // `display` is the value as the report shows it, unit included ("3.2 m"); `unit` is that unit on its own.
      lines.set(entry.line - 1, {
        text: entry.name ? `${entry.name} = ${entry.display}` : entry.display,
        ...(entry.formula ? { formula: entry.formula } : {}),
      });
    }
    this.values.set(key, lines);
    this.renderSheet(sheet);
  }

  /** The values shown for a sheet, for tests: line (1-based) → "name = value". */
  shown(sheet: vscode.Uri): Record<number, string> {
    const result: Record<number, string> = {};
    for (const [line, value] of this.values.get(sheet.toString()) ?? []) result[line + 1] = value.text;
    return result;
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.decoration.dispose();
  }

  private onEdit(event: vscode.TextDocumentChangeEvent): void {
    const lines = this.values.get(event.document.uri.toString());
    if (!lines || lines.size === 0 || event.contentChanges.length === 0) return;
    // Changes arrive in any order; apply them from the bottom up so earlier line numbers stay valid.
    const changes = [...event.contentChanges].sort((a, b) => b.range.start.line - a.range.start.line);
    for (const change of changes) {
      const first = change.range.start.line;
      const last = change.range.end.line;
      const delta = (change.text.match(/\n/g)?.length ?? 0) - (last - first);
      const moved = new Map<number, LineValue>();
      for (const [line, value] of lines) {
        if (line < first) moved.set(line, value);
        else if (line > last) moved.set(line + delta, value);
        // Lines the change touched lose their value: it describes code that is no longer there.
      }
      lines.clear();
      for (const [line, value] of moved) lines.set(line, value);
    }
    this.renderSheet(event.document.uri);
  }

  private renderAll(): void {
    for (const editor of vscode.window.visibleTextEditors) this.render(editor);
  }

  private renderSheet(sheet: vscode.Uri): void {
    for (const editor of vscode.window.visibleTextEditors) if (editor.document.uri.toString() === sheet.toString()) this.render(editor);
  }

  private render(editor: vscode.TextEditor): void {
    const lines = this.values.get(editor.document.uri.toString());
    if (!lines || !this.enabled()) {
      editor.setDecorations(this.decoration, []);
      return;
    }
    const options: vscode.DecorationOptions[] = [];
    for (const [line, value] of lines) {
      if (line >= editor.document.lineCount) continue;
      const end = editor.document.lineAt(line).range.end;
      const hover = new vscode.MarkdownString();
      hover.appendMarkdown("**UzonCalc**, last run\n\n");
      hover.appendCodeblock(value.formula ?? value.text, "text");
      options.push({ range: new vscode.Range(end, end), hoverMessage: hover, renderOptions: { after: { contentText: value.text } } });
    }
    editor.setDecorations(this.decoration, options);
  }
}
