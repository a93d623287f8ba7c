// Offsets between a sheet as written (source) and its virtual TypeScript text (generated), in UTF-16 code units
// like TypeScript and LSP. The virtual text is the source with short insertions; everything else is copied, so
// the map is a sorted list of insertions (a Volar-style segment list with only two kinds of segment).

export interface Insertion {
  /** Source offset the text is inserted before. */
  sourceOffset: number;
  text: string;
}

interface PlacedInsertion {
  sourceOffset: number;
  generatedStart: number;
  length: number;
}

export class OffsetMap {
  private readonly placed: PlacedInsertion[];

  constructor(insertions: readonly Insertion[]) {
    const sorted = [...insertions].sort((a, b) => a.sourceOffset - b.sourceOffset);
    let shift = 0;
    this.placed = sorted.map((insertion) => {
      const placed = {
        sourceOffset: insertion.sourceOffset,
        generatedStart: insertion.sourceOffset + shift,
        length: insertion.text.length,
      };
      shift += insertion.text.length;
      return placed;
    });
  }

  static identity(): OffsetMap {
    return new OffsetMap([]);
  }

  get isIdentity(): boolean {
    return this.placed.length === 0;
  }

  /** Where the source character at this offset went: text inserted before it comes first. */
  toGenerated(sourceOffset: number): number {
    let shift = 0;
    for (const insertion of this.placed) {
      if (insertion.sourceOffset > sourceOffset) break;
      shift += insertion.length;
    }
    return sourceOffset + shift;
  }

  /** Undefined for an offset strictly inside inserted text: nothing in the source corresponds to it. */
  toSource(generatedOffset: number): number | undefined {
    let low = 0;
    let high = this.placed.length - 1;
    let before: PlacedInsertion | undefined;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const insertion = this.placed[middle]!;
      if (insertion.generatedStart <= generatedOffset) {
        before = insertion;
        low = middle + 1;
      } else high = middle - 1;
    }
    if (!before) return generatedOffset;
    const end = before.generatedStart + before.length;
    if (generatedOffset > before.generatedStart && generatedOffset < end) return undefined;
    if (generatedOffset === before.generatedStart) return before.sourceOffset;
    return before.sourceOffset + (generatedOffset - end);
  }

  /**
   * Maps a generated range back; undefined when it starts or ends inside inserted text, or lies entirely within it
   * (a diagnostic about code the user did not write).
   */
  rangeToSource(start: number, end: number): { start: number; end: number } | undefined {
    if (this.insideInsertion(start, end)) return undefined;
    const sourceStart = this.toSource(start);
    const sourceEnd = this.toSource(end);
    if (sourceStart === undefined || sourceEnd === undefined) return undefined;
    return { start: sourceStart, end: Math.max(sourceStart, sourceEnd) };
  }

  private insideInsertion(start: number, end: number): boolean {
    return this.placed.some(
      (insertion) =>
        insertion.length > 0 && start >= insertion.generatedStart && end <= insertion.generatedStart + insertion.length && end > start,
    );
  }
}
