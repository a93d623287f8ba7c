// The Word export, loaded the first time it is asked for. docx, the HTML parser and resvg are ~0.7 MB of code
// that neither a Run Calc nor a CLI run without --docx should pay to load: the build writes them to their own
// bundle, dist/word.js (wordReport.ts), with what resvg draws with in dist/word/.

import { ownBundle } from "../ownBundle";
import type { WordOptions } from "./wordReport";

export type { WordOptions } from "./wordReport";

const wordModule = ownBundle<typeof import("./wordReport")>(__filename, "word.js", "./wordReport");

/** The .docx bytes of a completed report document (`ExecutionResponse.result`, a `*.report.html`). */
export async function reportToWord(html: string, options: WordOptions = {}): Promise<Uint8Array> {
  return wordModule().reportToWord(html, options);
}
