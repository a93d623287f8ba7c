// Positions between the code esbuild produced from the sheet (TypeScript stripped) and the sheet's own source,
// through esbuild's source map, and the source map of the instrumented code. Insertions never contain a line
// break, so lines stay the same and only columns move.

import { decodedMappings, encodedMap, presortedDecodedMap, TraceMap, type SourceMapSegment } from "@jridgewell/trace-mapping";
import type { Insertion } from "./statements";

export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

/** 0-based line of an offset. */
function lineAt(starts: readonly number[], offset: number): number {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (starts[mid]! <= offset) low = mid;
    else high = mid - 1;
  }
  return low;
}

export class TransformedSource {
  private readonly codeLines: number[];
  private readonly sourceLines: number[];
  private readonly segments: readonly (readonly SourceMapSegment[])[];

  constructor(
    readonly code: string,
    readonly source: string,
    map: string,
  ) {
    this.codeLines = lineStarts(code);
    this.sourceLines = lineStarts(source);
    this.segments = decodedMappings(new TraceMap(map));
  }

  /** The mapping at or just before a code offset on its line: [line 0-based, column] in the source. */
  private mappingAt(offset: number, exact: boolean): [number, number] | undefined {
    const line = lineAt(this.codeLines, offset);
    const column = offset - this.codeLines[line]!;
    const segments = this.segments[line] ?? [];
    let found: SourceMapSegment | undefined;
    for (const segment of segments) {
      if (segment[0] > column) break;
      if (segment.length >= 4) found = segment;
    }
    if (!found || found.length < 4 || (exact && found[0] !== column)) return undefined;
    return [found[2]!, found[3]!];
  }

  /** The sheet-source line (1-based) of a code offset. */
  lineOf(offset: number): number {
    const mapped = this.mappingAt(offset, false);
    return mapped ? mapped[0] + 1 : lineAt(this.codeLines, offset) + 1;
  }

  /** The source text that starts where a code token starts (for literals as the author wrote them). */
  sourceTextAt(offset: number, length: number): string | undefined {
    const mapped = this.mappingAt(offset, true);
    if (!mapped) return undefined;
    const start = (this.sourceLines[mapped[0]] ?? Infinity) + mapped[1];
    return start < this.source.length ? this.source.slice(start, start + length) : undefined;
  }

  /**
   * The source map of the code after the insertions, straight to the sheet's source: every segment of esbuild's
   * map, moved right by what was inserted before it on its line.
   */
  mapAfter(insertions: readonly Insertion[], sourceName: string): string {
    const sorted = [...insertions].sort((a, b) => a.at - b.at);
    const offsets = sorted.map((i) => i.at);
    const cumulative: number[] = [];
    let total = 0;
    for (const insertion of sorted) cumulative.push((total += insertion.text.length));
    /** Length inserted at offsets ≤ `offset`. */
    const insertedUpTo = (offset: number): number => {
      let low = 0;
      let high = offsets.length;
      while (low < high) {
        const mid = (low + high) >> 1;
        if (offsets[mid]! <= offset) low = mid + 1;
        else high = mid;
      }
      return low === 0 ? 0 : cumulative[low - 1]!;
    };
    const mappings: SourceMapSegment[][] = [];
    for (let line = 0; line < this.codeLines.length; line++) {
      const start = this.codeLines[line]!;
      const before = insertedUpTo(start - 1);
      const out: SourceMapSegment[] = [];
      for (const segment of this.segments[line] ?? []) {
        if (segment.length < 4) continue;
        const offset = start + segment[0];
        out.push([segment[0] + insertedUpTo(offset) - before, 0, segment[2]!, segment[3]!]);
      }
      mappings.push(out);
    }
    const encoded = encodedMap(presortedDecodedMap({ version: 3, file: "", sources: [sourceName], names: [], mappings }));
    return JSON.stringify({ version: 3, sources: [sourceName], names: [], mappings: encoded.mappings });
  }
}

/** Applies insertions: at one offset, what closes goes before what opens, the outer opens first and closes last. */
export function applyInsertions(code: string, insertions: readonly Insertion[]): string {
  const sorted = insertions
    .map((insertion, index) => ({ insertion, index }))
    .sort((a, b) => {
      const x = a.insertion;
      const y = b.insertion;
      if (x.at !== y.at) return x.at - y.at;
      if (x.closing !== y.closing) return x.closing ? -1 : 1;
      if (x.span !== y.span) return x.closing ? x.span - y.span : y.span - x.span;
      return a.index - b.index;
    });
  let out = "";
  let position = 0;
  for (const { insertion } of sorted) {
    out += code.slice(position, insertion.at) + insertion.text;
    position = insertion.at;
  }
  return out + code.slice(position);
}
