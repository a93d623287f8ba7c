// The virtual TypeScript text of a sheet. A plain `yield` result is the generator's single `TNext` type, so no
// checker can type `const g = yield UI(w)` per window; `yield* UI(w)` takes the type of the iterator's return
// value, which the runtime declarations compute from the window's fields. So the rewrite is one `*` per pause
// point, and every other character is the sheet's own.
import * as ts from "typescript";
import { OffsetMap, type Insertion } from "./offsetMap";
import { runtimeCallee, skipOuterExpressions, type RuntimeBindings } from "./sheetSyntax";

export interface VirtualSheet {
  text: string;
  map: OffsetMap;
  /** Source offsets of the `yield` keywords that were made `yield*`. */
  pausePoints: number[];
}

const YIELD = "yield";

export function rewriteSheet(sourceFile: ts.SourceFile, bindings: RuntimeBindings): VirtualSheet {
  const insertions: Insertion[] = [];
  const pausePoints: number[] = [];
  if (bindings.named.size > 0 || bindings.namespaces.size > 0) {
    const visit = (node: ts.Node): void => {
      if (ts.isYieldExpression(node) && !node.asteriskToken && node.expression) {
        const operand = skipOuterExpressions(node.expression);
        if (ts.isCallExpression(operand) && runtimeCallee(operand, bindings) === "UI") {
          const keyword = node.getStart(sourceFile);
          pausePoints.push(keyword);
          insertions.push({ sourceOffset: keyword + YIELD.length, text: "*" });
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sourceFile);
  }
  return { text: applyInsertions(sourceFile.text, insertions), map: new OffsetMap(insertions), pausePoints };
}

function applyInsertions(text: string, insertions: readonly Insertion[]): string {
  if (insertions.length === 0) return text;
  const sorted = [...insertions].sort((a, b) => a.sourceOffset - b.sourceOffset);
  const parts: string[] = [];
  let copied = 0;
  for (const insertion of sorted) {
    parts.push(text.slice(copied, insertion.sourceOffset), insertion.text);
    copied = insertion.sourceOffset;
  }
  parts.push(text.slice(copied));
  return parts.join("");
}
