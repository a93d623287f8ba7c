// Document URIs ↔ the file names TypeScript works with (forward slashes, also on Windows).
import { fileURLToPath, pathToFileURL } from "node:url";
import { toTypeScriptPath } from "./typescriptLibs";

/** Undefined for anything but file: URIs (untitled buffers, remote schemes): they are not checked. */
export function fileNameOf(uri: string): string | undefined {
  if (!uri.startsWith("file:")) return undefined;
  try {
    return toTypeScriptPath(fileURLToPath(uri));
  } catch {
    return undefined;
  }
}

export function uriOf(fileName: string): string {
  return pathToFileURL(fileName).href;
}
