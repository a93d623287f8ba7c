// A loaded sheet as the session store keeps it, and back: the bundle's code, its name, and its source map
// (encoded), so a replica that never read the sheet's files runs the very code the session started with and
// maps its errors to the sheet's lines.

import { encodedMap, TraceMap, type EncodedSourceMap } from "@jridgewell/trace-mapping";
import type { LoadedSheet } from "../loader/sheetLoader";
import type { StoredBundle } from "./store";

export function storedBundle(sheet: LoadedSheet): StoredBundle {
  return {
    hash: sheet.hash,
    code: sheet.code,
    scriptName: sheet.scriptName,
    filename: sheet.filename,
    origin: sheet.origin,
    map: encodedMap(sheet.map),
    sources: sheet.sources,
  };
}

export function loadedFromStore(bundle: StoredBundle): LoadedSheet {
  return {
    hash: bundle.hash,
    code: bundle.code,
    scriptName: bundle.scriptName,
    filename: bundle.filename,
    origin: bundle.origin,
    map: new TraceMap(bundle.map as EncodedSourceMap),
    sources: bundle.sources,
  };
}
