// Every file the checker reads, from one place: open documents (their text and version come from the editor),
// files on disk (versioned by mtime and size), TypeScript's lib files and the in-memory "uzoncalc" module.
// A sheet (*.calc.ts / *.calc.js) is served as its virtual text, whoever reads it.
import * as fs from "node:fs";
import * as ts from "typescript";
import { OffsetMap } from "./offsetMap";
import type { RuntimeModule } from "./runtimeModule";
import { rewriteSheet, type VirtualSheet } from "./sheetRewrite";
import { findRuntimeBindings, isSheetFile, parseSheet, type RuntimeBindings } from "./sheetSyntax";
import type { TypeScriptLibs } from "./typescriptLibs";
import { checkWindowSites, type SpecFinding } from "./windowSpecCheck";
import { findWindowSites, type WindowSite } from "./windowSpecs";

/** A snapshot that tells TypeScript what changed since the previous one, so it reparses only that much. */
export class TextSnapshot implements ts.IScriptSnapshot {
  constructor(readonly text: string) {}

  getText(start: number, end: number): string {
    return this.text.substring(start, end);
  }

  getLength(): number {
    return this.text.length;
  }

  getChangeRange(old: ts.IScriptSnapshot): ts.TextChangeRange | undefined {
    return old instanceof TextSnapshot ? textChangeRange(old.text, this.text) : undefined;
  }
}

/** The one span that differs between two texts (common prefix and suffix kept), as TypeScript's reparse wants it. */
export function textChangeRange(before: string, after: string): ts.TextChangeRange {
  const shorter = Math.min(before.length, after.length);
  let prefix = 0;
  while (prefix < shorter && before.charCodeAt(prefix) === after.charCodeAt(prefix)) prefix++;
  let suffix = 0;
  while (suffix < shorter - prefix && before.charCodeAt(before.length - 1 - suffix) === after.charCodeAt(after.length - 1 - suffix))
    suffix++;
  return ts.createTextChangeRange(ts.createTextSpan(prefix, before.length - prefix - suffix), after.length - prefix - suffix);
}

/** One version of one sheet: its parse, its virtual text and its window specs, computed once. */
export class SheetState {
  readonly sourceFile: ts.SourceFile;
  readonly bindings: RuntimeBindings;
  readonly virtual: VirtualSheet;
  readonly snapshot: TextSnapshot;
  private windows: WindowSite[] | undefined;
  private findings: SpecFinding[] | undefined;

  /**
   * `previous` is reparsed incrementally (a 2000-line sheet: ~4 ms instead of ~30). TypeScript reuses and moves
   * its nodes, so the previous state is dead afterwards: callers never keep a state across an await.
   */
  constructor(
    readonly fileName: string,
    readonly version: string,
    readonly text: string,
    previous?: SheetState,
  ) {
    this.sourceFile = previous
      ? ts.updateSourceFile(previous.sourceFile, text, textChangeRange(previous.text, text))
      : parseSheet(fileName, text);
    this.bindings = findRuntimeBindings(this.sourceFile);
    this.virtual = rewriteSheet(this.sourceFile, this.bindings);
    this.snapshot = new TextSnapshot(this.virtual.text);
  }

  windowSites(): WindowSite[] {
    this.windows ??= findWindowSites(this.sourceFile, this.bindings);
    return this.windows;
  }

  specFindings(): SpecFinding[] {
    this.findings ??= checkWindowSites(this.sourceFile, this.windowSites());
    return this.findings;
  }
}

interface DiskFile {
  version: string;
  text: string;
  snapshot: TextSnapshot;
}

interface OpenDocument {
  version: string;
  text: string;
  /** Which open of the file this is (see SheetFiles.opens). */
  open: number;
}

export class SheetFiles {
  private readonly open = new Map<string, OpenDocument>();
  private readonly disk = new Map<string, DiskFile>();
  private readonly sheets = new Map<string, SheetState>();
  private readonly fixed = new Map<string, TextSnapshot>();
  /** Counts opens: an editor numbers a document's versions from 1 on every open, so the same number can mean other text. */
  private opens = 0;

  constructor(
    readonly libs: TypeScriptLibs,
    readonly runtime: RuntimeModule,
  ) {
    for (const [fileName, text] of [...libs.files, ...runtime.files]) this.fixed.set(fileName, new TextSnapshot(text));
  }

  setOpen(fileName: string, text: string, version: number): void {
    const open = this.open.get(fileName)?.open ?? ++this.opens;
    this.open.set(fileName, { text, open, version: `open:${open}:${version}` });
  }

  closeOpen(fileName: string): void {
    this.open.delete(fileName);
  }

  isOpen(fileName: string): boolean {
    return this.open.has(fileName);
  }

  version(fileName: string): string {
    if (this.fixed.has(fileName)) return "fixed";
    const open = this.open.get(fileName);
    if (open) return open.version;
    return this.diskVersion(fileName) ?? "missing";
  }

  snapshot(fileName: string): ts.IScriptSnapshot | undefined {
    const fixed = this.fixed.get(fileName);
    if (fixed) return fixed;
    if (isSheetFile(fileName)) return this.state(fileName)?.snapshot;
    if (this.open.has(fileName)) return new TextSnapshot(this.open.get(fileName)!.text);
    return this.readDisk(fileName)?.snapshot;
  }

  /** The text as written (not the virtual text). */
  text(fileName: string): string | undefined {
    const fixed = this.fixed.get(fileName);
    if (fixed) return fixed.text;
    return this.open.get(fileName)?.text ?? this.readDisk(fileName)?.text;
  }

  exists(fileName: string): boolean {
    return this.fixed.has(fileName) || this.open.has(fileName) || fs.existsSync(fileName);
  }

  /** The current version of a sheet, parsed and rewritten; undefined when it cannot be read. */
  state(fileName: string): SheetState | undefined {
    const version = this.version(fileName);
    const cached = this.sheets.get(fileName);
    if (cached && cached.version === version) return cached;
    const text = this.text(fileName);
    if (text === undefined) {
      this.sheets.delete(fileName);
      return undefined;
    }
    const state = new SheetState(fileName, version, text, cached);
    this.sheets.set(fileName, state);
    return state;
  }

  /** Generated → source offsets for any file the program holds: sheets have a map, other files are as written. */
  mapOf(fileName: string): OffsetMap {
    return isSheetFile(fileName) ? (this.state(fileName)?.virtual.map ?? OffsetMap.identity()) : OffsetMap.identity();
  }

  /** Forget cached parses of files no longer open, so a long session does not keep every sheet ever seen. */
  forget(fileName: string): void {
    if (!this.open.has(fileName)) {
      this.sheets.delete(fileName);
      this.disk.delete(fileName);
    }
  }

  private diskVersion(fileName: string): string | undefined {
    try {
      const stat = fs.statSync(fileName);
      return stat.isFile() ? `disk:${stat.mtimeMs}:${stat.size}` : undefined;
    } catch {
      return undefined;
    }
  }

  private readDisk(fileName: string): DiskFile | undefined {
    const version = this.diskVersion(fileName);
    if (version === undefined) {
      this.disk.delete(fileName);
      return undefined;
    }
    const cached = this.disk.get(fileName);
    if (cached && cached.version === version) return cached;
    let text: string;
    try {
      text = fs.readFileSync(fileName, "utf8");
    } catch {
      return undefined;
    }
    const file = { version, text, snapshot: new TextSnapshot(text) };
    this.disk.set(fileName, file);
    return file;
  }
}
