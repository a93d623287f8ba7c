// Whether a path lies inside a folder, by whole path segments: `/calc/files2` is not inside `/calc/files`. Both
// paths must already be absolute and normalised (and, where symlinks matter, real): this is string logic only,
// so the sandbox's safe dirs and what a client may send from this disk share one rule.

export function isInsideFolder(folder: string, candidate: string, separator: string): boolean {
  if (candidate === folder) return true;
  const prefix = folder.endsWith(separator) ? folder : folder + separator;
  return candidate.startsWith(prefix);
}
