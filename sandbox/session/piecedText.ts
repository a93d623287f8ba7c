// A run's report as the pieces its steps wrote, read as if it were one string without ever joining it.
//
// Why: a rendered run's report is ~100 000 characters of two-byte text (−, ·, “), 200 KB. V8 puts a string that
// large in its large-object space: every one is freshly mapped memory, faulted in page by page, and counts against
// the young generation whole. Measured on the 2-core test machine, joining four 50 KB pieces took 17 µs, and four
// 50 KB two-byte pieces (the same 200 KB) took ~300 µs. Building a completed run's document joined the report for
// its searches, a third of what its last step cost, and the wire never needs the joined text: the executor writes
// the document from the pieces' bytes (wireJson.ts).
//
// The searches the document makes are fixed patterns of a known greatest length, so each piece is searched on its
// own and each boundary in a window of that length either side: the first match found is the one a search over
// the joined text finds. Patterns must not use anchors or look-behind (a piece's edges are not the text's).

export class PiecedText {
  /** Where each piece starts in the whole text. */
  private readonly starts: number[] = [];
  readonly length: number;

  constructor(readonly pieces: readonly string[]) {
    let at = 0;
    for (const piece of pieces) {
      this.starts.push(at);
      at += piece.length;
    }
    this.length = at;
  }

  /**
   * The whole text, concatenated rather than joined: V8 keeps it as a rope of the pieces and copies them into one
   * string only if it is read character by character, which a caller sending it by its pieces' bytes never does.
   */
  text(): string {
    let out = "";
    for (const piece of this.pieces) out += piece;
    return out;
  }

  /**
   * The first match of `pattern` (which has the `g` flag) at or after `from`. `longest` bounds a match's length,
   * look-ahead included: a match crossing a boundary is found in a window that long either side of it.
   */
  search(pattern: RegExp, longest: number, from = 0): number {
    for (let k = this.pieceAt(from); k < this.pieces.length; k++) {
      const piece = this.pieces[k]!;
      const start = this.starts[k]!;
      pattern.lastIndex = Math.max(from - start, 0);
      const inside = pattern.exec(piece);
      // A match starting in this piece's last characters may end in the next pieces (or need them to match).
      const tailStart = Math.max(piece.length - (longest - 1), from - start, 0);
      if (k + 1 < this.pieces.length && (inside === null || inside.index > tailStart)) {
        const window = this.slice(start + tailStart, start + piece.length + longest - 1);
        pattern.lastIndex = 0;
        const across = pattern.exec(window);
        if (across !== null && across.index < piece.length - tailStart && (inside === null || tailStart + across.index < inside.index)) {
          return start + tailStart + across.index;
        }
      }
      if (inside !== null) return start + inside.index;
    }
    return -1;
  }

  /** `needle`'s first position at or after `from`, or -1. */
  indexOf(needle: string, from = 0): number {
    for (let k = this.pieceAt(from); k < this.pieces.length; k++) {
      const piece = this.pieces[k]!;
      const start = this.starts[k]!;
      const local = Math.max(from - start, 0);
      const tailStart = Math.max(piece.length - (needle.length - 1), local);
      const inside = piece.indexOf(needle, local);
      if (inside >= 0 && inside < tailStart) return start + inside;
      if (k + 1 < this.pieces.length) {
        const across = this.slice(start + tailStart, start + piece.length + needle.length - 1).indexOf(needle);
        if (across >= 0 && across < piece.length - tailStart) return start + tailStart + across;
      }
      if (inside >= 0) return start + inside;
    }
    return -1;
  }

  /** Characters `from` to `to` (clamped), as String.prototype.slice with non-negative bounds. */
  slice(from: number, to = this.length): string {
    to = Math.min(to, this.length);
    if (from >= to) return "";
    let k = this.pieceAt(from);
    const start = this.starts[k]!;
    const piece = this.pieces[k]!;
    if (to <= start + piece.length) return piece.slice(from - start, to - start);
    let out = piece.slice(from - start);
    for (k++; k < this.pieces.length && this.starts[k]! < to; k++) out += this.pieces[k]!.slice(0, to - this.starts[k]!);
    return out;
  }

  startsWith(prefix: string, at: number): boolean {
    return this.slice(at, at + prefix.length) === prefix;
  }

  charCodeAt(at: number): number {
    if (at < 0 || at >= this.length) return NaN;
    const k = this.pieceAt(at);
    return this.pieces[k]!.charCodeAt(at - this.starts[k]!);
  }

  /**
   * Every match of `pattern` made inert where it starts: the `<` there becomes `&lt;`. The same pieces (this very
   * object) when nothing matched, else new ones.
   */
  escapeOpenings(pattern: RegExp, longest: number): PiecedText {
    let at = this.search(pattern, longest);
    if (at < 0) return this;
    const cuts: number[][] = this.pieces.map(() => []);
    for (; at >= 0; at = this.search(pattern, longest, at + 1)) {
      if (this.charCodeAt(at) !== 60) throw new Error("escapeOpenings: a pattern must match from a '<'");
      const k = this.pieceAt(at);
      cuts[k]!.push(at - this.starts[k]!);
    }
    return new PiecedText(
      this.pieces.map((piece, k) => {
        let out = "";
        let from = 0;
        for (const cut of cuts[k]!) {
          out += piece.slice(from, cut) + "&lt;";
          from = cut + 1;
        }
        return from === 0 ? piece : out + piece.slice(from);
      }),
    );
  }

  /**
   * The piece holding character `at`: the last piece starting at or before it (so never an empty one, but for a
   * last piece at the end).
   */
  private pieceAt(at: number): number {
    let low = 0;
    let high = this.pieces.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.starts[mid]! <= at) low = mid;
      else high = mid - 1;
    }
    return low;
  }
}
