// The Word export, loaded the first time it is asked for. docx, the HTML parser and resvg are ~0.7 MB of code
// that neither a Run Calc nor a CLI run without --docx should pay to load: the build writes them to their own
// bundle, dist/word.js (wordReport.ts), with what resvg draws with in dist/word/.

import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import type { WordOptions } from "./wordReport";

export type { WordOptions } from "./wordReport";

type WordModule = typeof import("./wordReport");

let loaded: WordModule | undefined;

/** The .docx bytes of a completed report document (`ExecutionResponse.result`, a `*.report.html`). */
export async function reportToWord(html: string, options: WordOptions = {}): Promise<Uint8Array> {
  loaded ??= load();
  return loaded.reportToWord(html, options);
}

function load(): WordModule {
  // Bundled, this file sits in dist/ beside word.js; run from source (tsx), beside wordReport.ts. A require the
  // bundler cannot follow keeps the export out of every bundle but its own.
  const bundled = path.join(__dirname, "word.js");
  const requireHere = createRequire(__filename);
  return (fs.existsSync(bundled) ? requireHere(bundled) : requireHere("./wordReport")) as WordModule;
}
