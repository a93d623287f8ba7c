import * as fs from "node:fs";
import * as path from "node:path";
import { isInsideFolder } from "../../protocol/folders";
import { Refusal } from "../../protocol/refusal";

/**
 * How long a sheet's resolved path is taken as it was. A symlink swapped in the meantime goes unseen for at most
 * this long, and then only where the file a cached bundle was built from still reads the same (sheetLoader.ts).
 */
const RESOLVED_LATELY_MS = 1_000;
const RESOLVED_LATELY_LIMIT = 1_024;

function realpathOrSelf(dir: string): string {
  try {
    return fs.realpathSync.native(dir);
  } catch {
    return path.resolve(dir);
  }
}

/**
 * The folders sheets may be read from. Every check is made on real paths, after symlinks, and by path
 * segments: `/calc/files2` is not inside `/calc/files`, and `/calc/files/../x` is not either.
 */
export class SafeDirs {
  readonly roots: readonly string[];
  /** What resolveSheet answered lately, by the path as requested (see resolvedLately). */
  private readonly lately = new Map<string, { real: string; until: number }>();

  constructor(dirs: readonly string[]) {
    this.roots = [...new Set(dirs.filter((d) => d.trim() !== "").map(realpathOrSelf))];
  }

  get configured(): boolean {
    return this.roots.length > 0;
  }

  contains(realPath: string): boolean {
    return this.roots.some((root) => isInsideFolder(root, path.resolve(realPath), path.sep));
  }

  /**
   * The real path of a file that may be read, or undefined when it may not: outside the safe dirs as written (then
   * it is not even looked at, so a service under the permission model never touches it) or after its symlinks.
   */
  realInside(file: string): string | undefined {
    const lexical = path.resolve(file);
    if (!this.contains(lexical)) return undefined;
    try {
      const real = fs.realpathSync.native(lexical);
      return this.contains(real) ? real : undefined;
    } catch {
      return undefined;
    }
  }

  describe(): string {
    return this.roots.length === 0 ? "(none configured)" : this.roots.join(", ");
  }

  /**
   * The real path resolveSheet gave `requested` within the last RESOLVED_LATELY_MS, or undefined. Resolving costs
   * a realpath and a stat (~15 µs, most of what running a cached sheet costs the loader); a service answering
   * thousands of runs a second of the same few sheets need not repeat it for each. Only for the loader's hit on a
   * bundle it still checks for freshness itself: anything else (a miss, a refusal, a file gone) resolves afresh.
   */
  resolvedLately(requested: string): string | undefined {
    const resolved = this.lately.get(requested);
    if (resolved === undefined) return undefined;
    if (performance.now() < resolved.until) return resolved.real;
    this.lately.delete(requested);
    return undefined;
  }

  /** Resolves a requested sheet path to its real path, or throws the SPEC's 403/404. */
  resolveSheet(requested: string): string {
    const real = this.resolveSheetAfresh(requested);
    // Bounded: requests naming ever new paths must not grow it.
    if (this.lately.size >= RESOLVED_LATELY_LIMIT) this.lately.clear();
    this.lately.set(requested, { real, until: performance.now() + RESOLVED_LATELY_MS });
    return real;
  }

  private resolveSheetAfresh(requested: string): string {
    if (!this.configured) {
      throw new Refusal(
        "forbidden",
        "`file_path` is refused: this sandbox has no safe directories (start it with --safe-dir DIR or SAFE_DIRS), so send the sheet as `source`.",
      );
    }
    const candidates = path.isAbsolute(requested) ? [requested] : this.roots.map((root) => path.join(root, requested));
    for (const candidate of candidates) {
      let real: string;
      try {
        real = fs.realpathSync.native(candidate);
      } catch {
        continue;
      }
      if (!this.contains(real)) {
        throw new Refusal("forbidden", `${requested} resolves to ${real}, which is outside the safe directories (${this.describe()}).`);
      }
      if (!fs.statSync(real).isFile()) throw new Refusal("not_found", `${requested} is not a file.`);
      return real;
    }
    const lexical = path.resolve(candidates[0] ?? requested);
    if (!this.contains(lexical)) {
      throw new Refusal("forbidden", `${requested} is outside the safe directories (${this.describe()}).`);
    }
    throw new Refusal("not_found", `Sheet not found: ${requested}`);
  }
}
