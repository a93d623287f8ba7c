// The LanguageServiceHost over SheetFiles: explicit compiler options (never the user's tsconfig, never lib.dom),
// and "uzoncalc" resolved to the in-memory runtime module wherever it is imported from.
import * as fs from "node:fs";
import * as ts from "typescript";
import type { CancellationSignal } from "./diagnostic";
import { RUNTIME_MODULE, UNITS_MODULE } from "./sheetSyntax";
import type { SheetFiles } from "./sheetFiles";

/**
 * `noImplicitAny: false`: a plain `yield` (not a pause point) would otherwise be TS7057 in every sheet, and
 * untyped helper parameters are normal in sheets. `checkJs` so a .calc.js is checked as the JavaScript it is.
 */
export function sheetCompilerOptions(): ts.CompilerOptions {
  return {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    moduleDetection: ts.ModuleDetectionKind.Force,
    lib: ["lib.es2022.d.ts"],
    types: [],
    strict: true,
    noImplicitAny: false,
    allowJs: true,
    checkJs: true,
    noEmit: true,
    allowImportingTsExtensions: true,
    resolveJsonModule: true,
    esModuleInterop: true,
    skipLibCheck: true,
    // A window result's type is printed in full so it can be recognised in messages and shown as its shape.
    noErrorTruncation: true,
  };
}

export interface SheetHostOptions {
  files: SheetFiles;
  roots: () => readonly string[];
  currentDirectory: string;
  /** The request being served, read whenever TypeScript polls for cancellation. */
  signal: () => CancellationSignal | undefined;
}

export function createSheetHost(options: SheetHostOptions): ts.LanguageServiceHost {
  const { files } = options;
  const compilerOptions = sheetCompilerOptions();
  const resolutionHost: ts.ModuleResolutionHost = {
    fileExists: (fileName) => files.exists(fileName),
    readFile: (fileName) => files.text(fileName),
    directoryExists: (directory) => directoryExists(directory),
    useCaseSensitiveFileNames: () => ts.sys.useCaseSensitiveFileNames,
  };
  const runtimeResolution: ts.ResolvedModuleWithFailedLookupLocations = {
    resolvedModule: { resolvedFileName: files.runtime.indexFile, extension: ts.Extension.Dts, isExternalLibraryImport: false },
  };
  const unitsResolution: ts.ResolvedModuleWithFailedLookupLocations = {
    resolvedModule: { resolvedFileName: files.runtime.unitsFile, extension: ts.Extension.Dts, isExternalLibraryImport: false },
  };
  const cancellation: ts.HostCancellationToken = { isCancellationRequested: () => options.signal()?.isCancellationRequested ?? false };
  return {
    getCompilationSettings: () => compilerOptions,
    getScriptFileNames: () => [...options.roots()],
    getScriptVersion: (fileName) => files.version(fileName),
    getScriptSnapshot: (fileName) => files.snapshot(fileName),
    getCurrentDirectory: () => options.currentDirectory,
    getDefaultLibFileName: () => files.libs.defaultLibFileName,
    fileExists: resolutionHost.fileExists,
    readFile: resolutionHost.readFile,
    directoryExists: resolutionHost.directoryExists!,
    useCaseSensitiveFileNames: () => ts.sys.useCaseSensitiveFileNames,
    getCancellationToken: () => cancellation,
    resolveModuleNameLiterals: (literals, containingFile, redirectedReference, settings) =>
      literals.map((literal) => {
        if (literal.text === RUNTIME_MODULE) return runtimeResolution;
        if (literal.text === UNITS_MODULE) return unitsResolution;
        if ((containingFile === files.runtime.indexFile || containingFile === files.runtime.unitsFile) && literal.text === "./runtime") {
          return {
            resolvedModule: { resolvedFileName: files.runtime.runtimeFile, extension: ts.Extension.Dts, isExternalLibraryImport: false },
          };
        }
        return ts.resolveModuleName(literal.text, containingFile, settings, resolutionHost, undefined, redirectedReference);
      }),
  };
}

function directoryExists(directory: string): boolean {
  try {
    return fs.statSync(directory).isDirectory();
  } catch {
    return false;
  }
}
