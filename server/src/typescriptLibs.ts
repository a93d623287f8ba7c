// TypeScript's own lib declarations, read once at start. A bundled TypeScript looks for them next to the bundle,
// so the build copies them to dist/typescript-lib/. Only ES2022 and what it references: never lib.dom, which
// declares a global `Window` that would collide with the runtime's (hundreds of false errors).
import * as fs from "node:fs";
import * as path from "node:path";

export const ROOT_LIB = "lib.es2022.d.ts";

export interface TypeScriptLibs {
  /** Forward slashes, as TypeScript spells paths. */
  dir: string;
  defaultLibFileName: string;
  /** Full path → text. */
  files: ReadonlyMap<string, string>;
}

const REFERENCE_LIB = /^\/\/\/\s*<reference\s+lib="([^"]+)"\s*\/>/gm;

/** The lib file names an ES2022 program reads, following `/// <reference lib>` from lib.es2022.d.ts. */
export function libClosure(readLib: (fileName: string) => string): string[] {
  const seen = new Set<string>();
  const pending = [ROOT_LIB];
  while (pending.length > 0) {
    const fileName = pending.pop()!;
    if (seen.has(fileName)) continue;
    seen.add(fileName);
    for (const match of readLib(fileName).matchAll(REFERENCE_LIB)) pending.push(`lib.${match[1]!.toLowerCase()}.d.ts`);
  }
  return [...seen].sort();
}

export function toTypeScriptPath(fileName: string): string {
  return fileName.replace(/\\/g, "/");
}

/** dist/typescript-lib beside the bundle; from source (tests, bench), the installed package's lib folder. */
export function findLibDir(): string {
  const candidates = [path.join(__dirname, "typescript-lib")];
  try {
    candidates.push(path.dirname(require.resolve("typescript/lib/lib.es2022.d.ts")));
  } catch {
    /* not installed beside us: the shipped extension, which has typescript-lib */
  }
  const found = candidates.find((dir) => fs.existsSync(path.join(dir, ROOT_LIB)));
  if (!found) throw new Error(`TypeScript's lib files are missing (looked in ${candidates.join(", ")}); run npm run build.`);
  return found;
}

export function loadTypeScriptLibs(dir: string = findLibDir()): TypeScriptLibs {
  const read = (fileName: string) => fs.readFileSync(path.join(dir, fileName), "utf8");
  const tsDir = toTypeScriptPath(dir);
  const files = new Map<string, string>();
  for (const fileName of libClosure(read)) files.set(`${tsDir}/${fileName}`, read(fileName));
  return { dir: tsDir, defaultLibFileName: `${tsDir}/${ROOT_LIB}`, files };
}
