// Code that most runs never need, built as a bundle of its own in dist/ and loaded the first time it is asked
// for: the Word export (docx, an HTML parser and resvg, ~0.7 MB) and the figures' drawing (ECharts, ~1.3 MB).
// Bundled into every entry, either would be compiled and run at every start of the CLI, the service and the
// extension's sandbox child, whether or not a sheet plots or a report goes to Word.

import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";

/**
 * A loader of `bundle` (a file name in dist/) for the module at `caller` (its `__filename`). Bundled, the caller
 * sits in dist/ beside it; run from source (tsx), there is no such file beside it and `source` (a path relative to
 * the caller) is loaded instead. A require the bundler cannot follow keeps the code out of every bundle but its own.
 */
export function ownBundle<T>(caller: string, bundle: string, source: string): () => T {
  let loaded: T | undefined;
  return () => {
    if (loaded === undefined) {
      const bundled = path.join(path.dirname(caller), bundle);
      const requireHere = createRequire(caller);
      loaded = (fs.existsSync(bundled) ? requireHere(bundled) : requireHere(source)) as T;
    }
    return loaded;
  };
}
