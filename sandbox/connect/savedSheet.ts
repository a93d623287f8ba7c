// A sheet on this disk as a sandbox that cannot read this disk gets it: its saved text and the saved text of its
// local imports. The remote client sends file sheets this way, and so does the extension for a sheet its local
// sandbox may not read. Always the saved files: what runs is what is on disk, in every mode. Only files inside
// the folders the caller names are sent (the sheet's own by default): an import that leaves them is refused here,
// as a sandbox refuses one that leaves its safe dirs.

import * as fs from "node:fs";
import * as path from "node:path";
import { isInsideFolder } from "../../protocol/folders";
import { Refusal } from "../../protocol/refusal";
import type { ExecuteRequest } from "../../protocol/rpc";

const SHEET_EXTENSIONS = [".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs"];

/** A sheet request's `source`, `filename` and `files` for the sheet saved at `sheetPath`. */
export function readSavedSheet(
  sheetPath: string,
  folders: readonly string[] = [path.dirname(sheetPath)],
): Required<Pick<ExecuteRequest, "source" | "filename" | "files">> {
  return { source: fs.readFileSync(sheetPath, "utf8"), filename: path.basename(sheetPath), files: collectLocalImports(sheetPath, folders) };
}

function realOrResolved(file: string): string {
  try {
    return fs.realpathSync.native(file);
  } catch {
    return path.resolve(file);
  }
}

/**
 * The sheet's local imports, read from disk, by path relative to the sheet. Follows relative imports transitively;
 * bare imports are left for the sandbox to refuse; one outside `folders` (after symlinks) is refused here.
 */
export function collectLocalImports(sheetPath: string, folders: readonly string[] = [path.dirname(sheetPath)]): Record<string, string> {
  const root = path.dirname(sheetPath);
  const allowed = folders.map(realOrResolved);
  const files: Record<string, string> = {};
  const seen = new Set<string>([path.resolve(sheetPath)]);
  const queue = [path.resolve(sheetPath)];
  const importPattern = /(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|import\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;
  while (queue.length > 0) {
    const file = queue.shift()!;
    const text = fs.readFileSync(file, "utf8");
    for (const match of text.matchAll(importPattern)) {
      const specifier = match[1] ?? match[2] ?? match[3];
      if (!specifier || !(specifier.startsWith("./") || specifier.startsWith("../"))) continue;
      const base = path.resolve(path.dirname(file), specifier);
      const candidates = [base, ...SHEET_EXTENSIONS.map((e) => base + e), ...SHEET_EXTENSIONS.map((e) => path.join(base, "index" + e))];
      const found = candidates.find((c) => fs.existsSync(c) && fs.statSync(c).isFile());
      if (!found || seen.has(found)) continue;
      const real = realOrResolved(found);
      if (!allowed.some((folder) => isInsideFolder(folder, real, path.sep))) {
        const from = path.relative(root, file) || path.basename(file);
        throw new Refusal(
          "forbidden",
          `${from} imports "${specifier}", which resolves to ${real}, outside the folders a sheet may send from (${allowed.join(", ")}).`,
        );
      }
      seen.add(found);
      queue.push(found);
      files[path.relative(root, found).split(path.sep).join("/")] = fs.readFileSync(found, "utf8");
    }
  }
  return files;
}
