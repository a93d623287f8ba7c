// Diagnostics of a long sheet in two steps. TypeScript 6 checks a whole file again after every edit: on a 600-line
// sheet that is 50–100 ms here, while the user looks at one screen of it. So, as tsserver does for
// files of 500 lines or more, a pull after an edit is answered with the region the user sees (and the edit)
// checked afresh, and the rest carried over from the last whole check, moved by the edit. The whole check follows
// at once, and the client is asked to pull again (workspace/diagnostic/refresh); that pull is answered from it.
import type { Range } from "vscode-languageserver";
import type { TextDocument } from "vscode-languageserver-textdocument";
import type { TextChangeRange } from "typescript";
import { CheckCancelledError, type CancellationSignal, type SheetDiagnostic, type TypeCheckMode } from "./diagnostic";
import { textChangeRange } from "./sheetFiles";
import { allFindings, type SheetCheck, type SheetWorkspace, type SourceSpan } from "./sheetWorkspace";

/** tsserver's own threshold: below it a region check saves too little to be worth a second answer. */
export const REGION_CHECK_MIN_LINES = 500;

/** Lines around the edit checked with it (and from the top, for a sheet just opened): about a screen. */
const EDIT_CONTEXT_LINES = 30;

interface WholeCheck {
  version: number;
  generation: number;
  mode: TypeCheckMode;
  text: string;
  check: SheetCheck;
}

export interface SheetChecksHost {
  workspace(): SheetWorkspace;
  /** The document as it is now (a check awaits: the editor may have moved on). */
  document(uri: string): TextDocument | undefined;
  /** Whether the client pulls again when asked: without it an answer must be whole. */
  canRefresh(): boolean;
  refresh(): void;
  logError(message: string): void;
}

export class SheetChecks {
  private readonly whole = new Map<string, WholeCheck>();
  private readonly visible = new Map<string, readonly Range[]>();
  private readonly pending = new Map<string, NodeJS.Timeout>();
  /** The version whose whole check is scheduled or running, by sheet: a pull again meanwhile does not start another. */
  private readonly scheduled = new Map<string, number>();
  /** Bumped when something outside the open sheets changed (an imported file, the settings). */
  private generation = 0;

  constructor(private readonly host: SheetChecksHost) {}

  /** What the editor shows of a sheet (`uzoncalc/visibleRanges`). */
  setVisibleRanges(uri: string, ranges: readonly Range[]): void {
    this.visible.set(uri, ranges);
  }

  /** Whole checks stay as a base to carry over from, but no longer answer a pull by themselves. */
  invalidate(): void {
    this.generation++;
  }

  forget(uri: string): void {
    this.whole.delete(uri);
    this.visible.delete(uri);
    clearTimeout(this.pending.get(uri));
    this.pending.delete(uri);
    this.scheduled.delete(uri);
  }

  async pull(
    uri: string,
    fileName: string,
    document: TextDocument,
    mode: TypeCheckMode,
    signal: CancellationSignal,
  ): Promise<SheetDiagnostic[]> {
    const last = this.whole.get(uri);
    if (last && last.version === document.version && last.generation === this.generation && last.mode === mode)
      return allFindings(last.check);
    const text = document.getText();
    if (document.lineCount >= REGION_CHECK_MIN_LINES && this.host.canRefresh()) {
      // Without a whole check to carry from (the sheet just opened, or the mode changed) the first answer is the
      // region's alone: what is on screen (an editor opens at the top) comes 3–5× sooner, the rest with the whole.
      const base = last?.mode === mode ? last : undefined;
      const shown = this.visibleSpans(uri, document);
      const edit = base && textChangeRange(base.text, text);
      const ranges = edit ? [...shown, aroundEdit(document, edit)] : shown.length > 0 ? shown : [firstLines(document)];
      const region = await this.host.workspace().checkRegion(fileName, mode, ranges, signal);
      if (region) {
        this.scheduleWholeCheck(uri, fileName, document.version, mode);
        const carried = base && edit ? carryOver(base.check.found, edit, region.spans) : [];
        return allFindings({ sheetWide: region.sheetWide, found: [...region.found, ...carried] });
      }
    }
    const check = await this.host.workspace().checkWhole(fileName, mode, signal);
    this.remember(uri, document.version, text, mode, check);
    return allFindings(check);
  }

  /** Text the editor has already moved past is still the best base to carry over from, if it is the newest checked. */
  private remember(uri: string, version: number, text: string, mode: TypeCheckMode, check: SheetCheck): void {
    const known = this.whole.get(uri);
    if (!this.host.document(uri) || (known && known.version > version)) return;
    this.whole.set(uri, { version, generation: this.generation, mode, text, check });
  }

  /** Runs once the region's answer is sent; a newer edit stops it (that edit's pull schedules its own). */
  private scheduleWholeCheck(uri: string, fileName: string, version: number, mode: TypeCheckMode): void {
    if (this.scheduled.get(uri) === version) return;
    clearTimeout(this.pending.get(uri));
    this.scheduled.set(uri, version);
    const outdated = () => this.host.document(uri)?.version !== version;
    const done = () => {
      if (this.scheduled.get(uri) === version) this.scheduled.delete(uri);
    };
    const timer = setTimeout(() => {
      this.pending.delete(uri);
      const document = this.host.document(uri);
      if (!document || outdated()) return done();
      const text = document.getText();
      this.host
        .workspace()
        .checkWhole(fileName, mode, {
          get isCancellationRequested() {
            return outdated();
          },
        })
        .then(
          (check) => {
            this.remember(uri, version, text, mode, check);
            if (!outdated()) this.host.refresh();
          },
          (error: unknown) => {
            if (!(error instanceof CheckCancelledError)) this.host.logError(`whole check of ${uri} failed: ${String(error)}`);
          },
        )
        .finally(done);
    }, 0);
    this.pending.set(uri, timer);
  }

  private visibleSpans(uri: string, document: TextDocument): SourceSpan[] {
    return (this.visible.get(uri) ?? []).map((range) => ({
      start: document.offsetAt({ line: range.start.line, character: 0 }),
      end: document.offsetAt({ line: range.end.line + 1, character: 0 }),
    }));
  }
}

/** A screen from the top, where an editor opens a file. */
function firstLines(document: TextDocument): SourceSpan {
  return { start: 0, end: document.offsetAt({ line: 2 * EDIT_CONTEXT_LINES, character: 0 }) };
}

/** The edited lines and a screen's worth around them, in the new text. */
function aroundEdit(document: TextDocument, change: TextChangeRange): SourceSpan {
  const first = document.positionAt(change.span.start).line;
  const last = document.positionAt(change.span.start + change.newLength).line;
  return {
    start: document.offsetAt({ line: Math.max(0, first - EDIT_CONTEXT_LINES), character: 0 }),
    end: document.offsetAt({ line: last + EDIT_CONTEXT_LINES + 1, character: 0 }),
  };
}

/**
 * The last whole check's findings that still hold as far as anyone can tell without checking: those outside the
 * edit (`change`: from the checked text to the text now), moved by it, and outside what the region check has just
 * covered (its own findings replace those).
 */
function carryOver(found: readonly SheetDiagnostic[], change: TextChangeRange, checked: readonly SourceSpan[]): SheetDiagnostic[] {
  const editStart = change.span.start;
  const editEnd = editStart + change.span.length;
  const shift = change.newLength - change.span.length;
  const moved = (start: number, end: number): SourceSpan | undefined =>
    end <= editStart ? { start, end } : start >= editEnd ? { start: start + shift, end: end + shift } : undefined;
  const carried: SheetDiagnostic[] = [];
  for (const diagnostic of found) {
    const at = moved(diagnostic.start, diagnostic.end);
    if (!at || checked.some((span) => at.start < span.end && at.end > span.start)) continue;
    const { fix, ...rest } = diagnostic;
    const fixAt = fix && moved(fix.start, fix.end);
    carried.push({ ...rest, ...at, ...(fix && fixAt ? { fix: { ...fix, ...fixAt } } : {}) });
  }
  return carried;
}
