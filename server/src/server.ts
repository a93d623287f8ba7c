// The UzonCalc language server (dist/server.js): field type checking, window spec checks, completion, hover,
// definition and quick fixes for *.calc.ts / *.calc.js. Started by the extension over IPC (`--node-ipc`), or
// over `--stdio`; vscode-languageserver picks the transport from argv.
import {
  CodeActionKind,
  CodeLensRefreshRequest,
  CompletionItemKind,
  DiagnosticSeverity,
  DidChangeWatchedFilesNotification,
  DocumentDiagnosticReportKind,
  LSPErrorCodes,
  MarkupKind,
  ProposedFeatures,
  ResponseError,
  TextDocumentSyncKind,
  createConnection,
  type CodeAction,
  type Diagnostic,
  type InitializeResult,
  type Location,
  type LocationLink,
  type Range,
} from "vscode-languageserver/node";
import { TextDocument } from "vscode-languageserver-textdocument";
import { isRecord } from "../../protocol/json";
import { ServerStatsRequest, VisibleRangesNotification, type ServerStats } from "./customRequests";
import { CheckCancelledError, DEFAULT_TYPE_CHECK, parseTypeCheckMode, type SheetDiagnostic, type TypeCheckMode } from "./diagnostic";
import { fileNameOf, uriOf } from "./paths";
import { SheetWorkspace, type CheckTiming, type FieldDefinition } from "./sheetWorkspace";
import { SheetChecks } from "./regionCheck";
import { isSheetFile } from "./sheetSyntax";
import { loadTypeScriptLibs } from "./typescriptLibs";
import * as fs from "node:fs";
import * as os from "node:os";
import { INPUT_SET_GLOB, inputSetsOfSheet, isInputSetFileName } from "../../protocol/limits";
import * as path from "node:path";
import {
  inputSetCompletions,
  inputSetDefinition,
  inputSetDiagnostics,
  inputSetHover,
  loadInputSet,
  windowSetsLenses,
  type LoadedInputSet,
} from "./inputSets";
import { sheetWindows, type SheetWindows } from "./sheetWindows";

const DIAGNOSTIC_SOURCE = "uzoncalc";

/**
 * Rides on the diagnostic to the client and back in codeAction requests. A fix usually replaces exactly the
 * diagnostic's range, which VS Code keeps up to date as the user types; only a fix elsewhere carries its own.
 */
interface DiagnosticData {
  fix?: { title: string; newText: string; range?: Range };
}

// Checking is background work: it must not slow down what the user is waiting for. When a window opens, the checker's
// warm-up (about 1.5 s of CPU for TypeScript's lib files) runs at the same time as the editor's own start-up, the run
// panel's webview and the sandbox's first step. On two cores, that made the first Run Calc's form late by about
// a second (issue 15 item 6). On an idle machine, below-normal priority changes nothing. It is set once: a process
// may not raise its own priority again.
try {
  os.setPriority(os.constants.priority.PRIORITY_BELOW_NORMAL);
} catch {
  // Not allowed here (some containers): checks run as before.
}
function belowNormal(): boolean {
  try {
    return os.getPriority() >= os.constants.priority.PRIORITY_BELOW_NORMAL;
  } catch {
    return false;
  }
}
// TypeScript and its lib files load now, at start: the first diagnostic request should not pay for them.
const libs = loadTypeScriptLibs();
const connection = createConnection(ProposedFeatures.all);
const documents = new Map<string, TextDocument>();
/** The client's own spelling of each open sheet's URI (encodings of the same path differ between tools). */
const uriByFileName = new Map<string, string>();
const settings = new Map<string, Promise<TypeCheckMode>>();
let workspace = new SheetWorkspace({ libs });
let configurationSupport = false;
let linkSupport = false;
let refreshSupport = false;
let codeLensRefreshSupport = false;
let watchSupport = false;
let warmUpMs: number | undefined;
const checks = new SheetChecks({
  workspace: () => workspace,
  document: (uri) => documents.get(uri),
  canRefresh: () => refreshSupport,
  refresh: () => void connection.languages.diagnostics.refresh(),
  logError: (message) => connection.console.error(message),
});

connection.onInitialize((params): InitializeResult => {
  const capabilities = params.capabilities;
  configurationSupport = capabilities.workspace?.configuration === true;
  linkSupport = capabilities.textDocument?.definition?.linkSupport === true;
  refreshSupport = capabilities.workspace?.diagnostics?.refreshSupport === true;
  codeLensRefreshSupport = capabilities.workspace?.codeLens?.refreshSupport === true;
  watchSupport = capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration === true;
  const folder = params.workspaceFolders?.[0]?.uri ?? params.rootUri ?? undefined;
  const root = folder ? fileNameOf(folder) : undefined;
  if (root) workspace = new SheetWorkspace({ libs, currentDirectory: root });
  return {
    capabilities: {
      textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
      diagnosticProvider: { identifier: DIAGNOSTIC_SOURCE, interFileDependencies: true, workspaceDiagnostics: false },
      completionProvider: { triggerCharacters: ["."], resolveProvider: false },
      hoverProvider: true,
      definitionProvider: true,
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
      codeLensProvider: { resolveProvider: false },
    },
    serverInfo: { name: "uzoncalc-language-server" },
  };
});

connection.onInitialized(() => {
  // A sheet's imports (./lib/*.ts) are read from disk: when one is saved, the open sheets' diagnostics are stale.
  if (watchSupport)
    void connection.client.register(DidChangeWatchedFilesNotification.type, {
      // Input sets too: a window's lens counts the sets that answer it.
      watchers: [{ globPattern: "**/*.{ts,mts,cts,js,mjs,cjs}" }, { globPattern: INPUT_SET_GLOB }],
    });
  // After the initialize answer, so the client is not held up; before the first request is served, since
  // requests queue behind this synchronous work.
  setImmediate(() => {
    try {
      warmUpMs = workspace.warmUp();
      connection.console.log(
        `UzonCalc checker ready (TypeScript lib files parsed, checker warm) in ${Math.round(warmUpMs)} ms${belowNormal() ? ", below normal priority" : ""}`,
      );
    } catch (error) {
      connection.console.error(`warm-up failed (checks still run, the first one slower): ${describeError(error)}`);
    }
  });
});

connection.onDidChangeConfiguration(() => {
  settings.clear();
  checks.invalidate();
  if (refreshSupport) void connection.languages.diagnostics.refresh();
});

connection.onDidChangeWatchedFiles(() => {
  windowsRead.clear();
  checks.invalidate();
  if (refreshSupport) void connection.languages.diagnostics.refresh();
  if (codeLensRefreshSupport) void connection.sendRequest(CodeLensRefreshRequest.type);
});

function typeCheckMode(uri: string): Promise<TypeCheckMode> {
  if (!configurationSupport) return Promise.resolve(DEFAULT_TYPE_CHECK);
  let mode = settings.get(uri);
  if (!mode) {
    mode = connection.workspace.getConfiguration({ scopeUri: uri, section: "uzoncalc" }).then(
      (value: unknown) => parseTypeCheckMode(isRecord(value) ? value.typeCheck : undefined) ?? DEFAULT_TYPE_CHECK,
      () => DEFAULT_TYPE_CHECK,
    );
    settings.set(uri, mode);
  }
  return mode;
}

/** The client's selector already filters by pattern; this server still ignores anything that is not a sheet. */
function sheetFileName(uri: string): string | undefined {
  const fileName = fileNameOf(uri);
  return fileName !== undefined && isSheetFile(fileName) ? fileName : undefined;
}

/** An input set file (`beam.inputs.json`), checked against its sheet's windows. */
function inputSetFileName(uri: string): string | undefined {
  const fileName = fileNameOf(uri);
  return fileName !== undefined && isInputSetFileName(fileName) ? fileName : undefined;
}

connection.onDidOpenTextDocument(({ textDocument }) => {
  const fileName = sheetFileName(textDocument.uri) ?? inputSetFileName(textDocument.uri);
  if (!fileName) return;
  const document = TextDocument.create(textDocument.uri, textDocument.languageId, textDocument.version, textDocument.text);
  documents.set(textDocument.uri, document);
  uriByFileName.set(fileName, textDocument.uri);
  if (isSheetFile(fileName)) workspace.setDocument(fileName, document.getText(), document.version);
});

connection.onDidChangeTextDocument(({ textDocument, contentChanges }) => {
  const fileName = sheetFileName(textDocument.uri) ?? inputSetFileName(textDocument.uri);
  const document = documents.get(textDocument.uri);
  if (!fileName || !document) return;
  const updated = TextDocument.update(document, contentChanges, textDocument.version);
  documents.set(textDocument.uri, updated);
  if (isSheetFile(fileName)) {
    workspace.setDocument(fileName, updated.getText(), updated.version);
    refreshInputSets();
  }
});

connection.onDidCloseTextDocument(({ textDocument }) => {
  const fileName = sheetFileName(textDocument.uri) ?? inputSetFileName(textDocument.uri);
  documents.delete(textDocument.uri);
  settings.delete(textDocument.uri);
  checks.forget(textDocument.uri);
  if (fileName) {
    uriByFileName.delete(fileName);
    if (isSheetFile(fileName)) workspace.closeDocument(fileName);
  }
});

// -- input sets ------------------------------------------------------------------------------------------------------

/** A sheet's windows as last read, by file name: a set's hover and completion should not parse the sheet again. */
const windowsRead = new Map<string, { text: string; windows: SheetWindows }>();

/** A file's text as the user sees it: the open editor's, else the disk's. */
function currentText(fileName: string): string | undefined {
  const uri = uriByFileName.get(fileName);
  const open = uri ? documents.get(uri) : undefined;
  if (open) return open.getText();
  try {
    return fs.readFileSync(fileName, "utf8");
  } catch {
    return undefined;
  }
}

function loadOpenInputSet(uri: string): { document: TextDocument; loaded: LoadedInputSet } | undefined {
  const fileName = inputSetFileName(uri);
  const document = documents.get(uri);
  if (!fileName || !document) return undefined;
  const loaded = loadInputSet(fileName, document.getText(), currentText, (sheetFile, text) => {
    const read = windowsRead.get(sheetFile);
    if (read && read.text === text) return read.windows;
    const windows = sheetWindows(sheetFile, text, { readFile: currentText });
    windowsRead.set(sheetFile, { text, windows });
    return windows;
  });
  return { document, loaded };
}

let refreshTimer: NodeJS.Timeout | undefined;
/**
 * A sheet changed: the open sets' problems may have changed with it, so the client is asked to pull diagnostics
 * again (once typing pauses) and sets show their new problems without being reopened.
 */
function refreshInputSets(): void {
  if (!refreshSupport || ![...documents.keys()].some((uri) => inputSetFileName(uri))) return;
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => void connection.languages.diagnostics.refresh(), INPUT_SET_REFRESH_MS);
}
const INPUT_SET_REFRESH_MS = 300;

/** The client command a window's lens runs: opens the sets that answer it (the extension registers it). */
const OPEN_INPUT_SETS_COMMAND = "uzoncalc.openInputSets";

/** Above each window of a sheet that has input sets: how many of them answer it, one click to open them. */
connection.onCodeLens(({ textDocument }) => {
  const fileName = sheetFileName(textDocument.uri);
  const document = documents.get(textDocument.uri);
  if (!fileName || !document) return [];
  return guarded(
    "code lens",
    () => {
      const folder = path.dirname(fileName);
      let files: string[];
      try {
        files = fs.readdirSync(folder).map((name) => `${folder}/${name}`);
      } catch {
        return [];
      }
      const sets = inputSetsOfSheet(fileName, files, (file) => currentText(file) !== undefined).flatMap(({ name, file }) => {
        const text = currentText(file);
        return text === undefined ? [] : [{ name: name ?? "default", file, text }];
      });
      if (sets.length === 0) return [];
      const windows = sheetWindows(fileName, document.getText(), { readFile: currentText });
      return windowSetsLenses(windows, sets).map((lens) => {
        const position = document.positionAt(lens.start);
        const names = lens.sets.map((set) => set.name).join(", ");
        const count = lens.sets.length;
        return {
          range: { start: position, end: position },
          command:
            count === 0
              ? { title: `no input set answers '${lens.id}'`, command: "" }
              : {
                  title: `${count} input set${count === 1 ? "" : "s"} answer${count === 1 ? "s" : ""} '${lens.id}': ${names}`,
                  command: OPEN_INPUT_SETS_COMMAND,
                  arguments: [lens.sets.map((set) => uriByFileName.get(set.file) ?? uriOf(set.file))],
                },
        };
      });
    },
    [],
  );
});

connection.languages.diagnostics.on(async (params, token) => {
  const uri = params.textDocument.uri;
  const set = loadOpenInputSet(uri);
  if (set)
    return {
      kind: DocumentDiagnosticReportKind.Full,
      items: guarded("input set diagnostics", () => inputSetDiagnostics(set.loaded), []).map((d) => toLspDiagnostic(set.document, d)),
    };
  const fileName = sheetFileName(uri);
  const document = documents.get(uri);
  if (!fileName || !document) return { kind: DocumentDiagnosticReportKind.Full, items: [] };
  try {
    const mode = await typeCheckMode(uri);
    const found = await checks.pull(uri, fileName, document, mode, token);
    const current = documents.get(uri) ?? document;
    return { kind: DocumentDiagnosticReportKind.Full, items: found.map((diagnostic) => toLspDiagnostic(current, diagnostic)) };
  } catch (error) {
    if (error instanceof CheckCancelledError) throw new ResponseError(LSPErrorCodes.RequestCancelled, "cancelled");
    connection.console.error(`diagnostics of ${uri} failed: ${describeError(error)}`);
    return { kind: DocumentDiagnosticReportKind.Full, items: [] };
  }
});

function toLspDiagnostic(document: TextDocument, diagnostic: SheetDiagnostic): Diagnostic {
  const range = (start: number, end: number): Range => ({ start: document.positionAt(start), end: document.positionAt(end) });
  const fix = diagnostic.fix;
  const data: DiagnosticData | undefined = fix && {
    fix: {
      title: fix.title,
      newText: fix.newText,
      ...(fix.start !== diagnostic.start || fix.end !== diagnostic.end ? { range: range(fix.start, fix.end) } : {}),
    },
  };
  return {
    range: range(diagnostic.start, diagnostic.end),
    severity: diagnostic.severity === "error" ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    code: diagnostic.code,
    source: DIAGNOSTIC_SOURCE,
    message: diagnostic.message,
    ...(data ? { data } : {}),
  };
}

connection.onCodeAction(({ textDocument, context }) => {
  if (!documents.has(textDocument.uri)) return [];
  const actions: CodeAction[] = [];
  for (const diagnostic of context.diagnostics) {
    if (diagnostic.source !== DIAGNOSTIC_SOURCE) continue;
    const fix = fixOf(diagnostic.data);
    if (!fix) continue;
    actions.push({
      title: fix.title,
      kind: CodeActionKind.QuickFix,
      isPreferred: true,
      diagnostics: [diagnostic],
      edit: { changes: { [textDocument.uri]: [{ range: fix.range ?? diagnostic.range, newText: fix.newText }] } },
    });
  }
  return actions;
});

function fixOf(data: unknown): DiagnosticData["fix"] {
  if (!isRecord(data) || !isRecord(data.fix)) return undefined;
  const { title, newText, range } = data.fix;
  if (typeof title !== "string" || typeof newText !== "string") return undefined;
  return isRange(range) ? { title, newText, range } : { title, newText };
}

function isRange(value: unknown): value is Range {
  const isPosition = (p: unknown) => isRecord(p) && typeof p.line === "number" && typeof p.character === "number";
  return isRecord(value) && isPosition(value.start) && isPosition(value.end);
}

connection.onHover(({ textDocument, position }) => {
  const set = loadOpenInputSet(textDocument.uri);
  if (set?.loaded.sheet) {
    const sheet = set.loaded.sheet;
    const hover = guarded("hover", () => inputSetHover(set.loaded.parsed, set.document.offsetAt(position), sheet), undefined);
    return hover
      ? {
          contents: { kind: MarkupKind.Markdown, value: hover.markdown },
          range: { start: set.document.positionAt(hover.start), end: set.document.positionAt(hover.end) },
        }
      : null;
  }
  const fileName = sheetFileName(textDocument.uri);
  const document = documents.get(textDocument.uri);
  if (!fileName || !document) return null;
  return guarded(
    "hover",
    () => {
      const hover = workspace.hover(fileName, document.offsetAt(position));
      if (!hover) return null;
      return {
        contents: { kind: MarkupKind.Markdown, value: hover.markdown },
        range: { start: document.positionAt(hover.start), end: document.positionAt(hover.end) },
      };
    },
    null,
  );
});

connection.onCompletion(({ textDocument, position }) => {
  const set = loadOpenInputSet(textDocument.uri);
  if (set?.loaded.sheet) {
    const { document } = set;
    const sheet = set.loaded.sheet;
    const items = guarded("completion", () => inputSetCompletions(set.loaded.parsed, document.offsetAt(position), sheet), []);
    return items.map((item, index) => ({
      label: item.label,
      kind: COMPLETION_KINDS[item.kind],
      detail: item.detail,
      ...(item.documentation ? { documentation: { kind: MarkupKind.Markdown, value: item.documentation } } : {}),
      textEdit: {
        range: { start: document.positionAt(item.replaceStart), end: document.positionAt(item.replaceEnd) },
        newText: item.insertText,
      },
      filterText: item.insertText,
      sortText: String(index).padStart(4, "0"),
    }));
  }
  const fileName = sheetFileName(textDocument.uri);
  const document = documents.get(textDocument.uri);
  if (!fileName || !document) return null;
  return guarded(
    "completion",
    () => {
      const fields = workspace.completions(fileName, document.offsetAt(position));
      if (!fields) return null;
      return fields.map((field, index) => ({
        label: field.name,
        kind: CompletionItemKind.Field,
        detail: field.detail,
        documentation: { kind: MarkupKind.Markdown, value: field.documentation },
        sortText: String(index).padStart(4, "0"),
      }));
    },
    null,
  );
});

const COMPLETION_KINDS = {
  window: CompletionItemKind.Module,
  field: CompletionItemKind.Field,
  value: CompletionItemKind.EnumMember,
  unit: CompletionItemKind.Unit,
} as const;

connection.onDefinition(({ textDocument, position }) => {
  const set = loadOpenInputSet(textDocument.uri);
  if (set?.loaded.sheet) {
    const { document } = set;
    const sheet = set.loaded.sheet;
    const found = guarded("definition", () => inputSetDefinition(set.loaded.parsed, document.offsetAt(position), sheet), undefined);
    return found ? definitionAnswer(document, found) : null;
  }
  const fileName = sheetFileName(textDocument.uri);
  const document = documents.get(textDocument.uri);
  if (!fileName || !document) return null;
  const found = guarded("definition", () => workspace.definition(fileName, document.offsetAt(position)), undefined);
  return found ? definitionAnswer(document, found) : null;
});

/** Where a field or window is declared, as a link when the client takes links (it then highlights the whole spec). */
function definitionAnswer(document: TextDocument, found: FieldDefinition): Location[] | LocationLink[] {
  const targetUri = uriByFileName.get(found.fileName) ?? uriOf(found.fileName);
  const target =
    documents.get(targetUri) ??
    TextDocument.create(targetUri, "typescript", 0, workspace.files.text(found.fileName) ?? currentText(found.fileName) ?? "");
  const range = (start: number, end: number) => ({ start: target.positionAt(start), end: target.positionAt(end) });
  if (!linkSupport) return [{ uri: targetUri, range: range(found.nameStart, found.nameEnd) }];
  return [
    {
      originSelectionRange: { start: document.positionAt(found.originStart), end: document.positionAt(found.originEnd) },
      targetUri,
      targetRange: range(found.specStart, found.specEnd),
      targetSelectionRange: range(found.nameStart, found.nameEnd),
    },
  ];
}

connection.onNotification(VisibleRangesNotification, (params: unknown) => {
  // Read at every long sheet's pull: a malformed notification is named and dropped, never kept to fail a check later.
  const ranges = isRecord(params) && Array.isArray(params.ranges) ? params.ranges : undefined;
  if (!isRecord(params) || typeof params.uri !== "string" || !ranges?.every(isLineRange)) {
    connection.console.error(`uzoncalc/visibleRanges ignored: expected { uri: string, ranges: Range[] }, got ${JSON.stringify(params)}`);
    return;
  }
  checks.setVisibleRanges(params.uri, ranges);
});

function isLineRange(value: unknown): value is Range {
  const line = (position: unknown) => isRecord(position) && Number.isInteger(position.line) && (position.line as number) >= 0;
  return isRecord(value) && line(value.start) && line(value.end);
}

connection.onRequest(ServerStatsRequest, (params): ServerStats => {
  // Measure what is live, not what awaits collection.
  if (params.collectGarbage) (globalThis as { gc?: () => void }).gc?.();
  const memory = process.memoryUsage();
  const cost = (check: CheckTiming | undefined) => check && { ms: check.ms, cpuMs: check.cpuMs };
  return {
    heapUsedMb: memory.heapUsed / 1048576,
    rssMb: memory.rss / 1048576,
    warmUpMs,
    openSheets: documents.size,
    lastCheck: cost(workspace.lastChecks.whole),
    lastRegionCheck: cost(workspace.lastChecks.region),
  };
});

/** A failing feature answers "nothing" and is logged: it never takes the server down. */
function guarded<T>(what: string, run: () => T, fallback: T): T {
  try {
    return run();
  } catch (error) {
    connection.console.error(`${what} failed: ${describeError(error)}`);
    return fallback;
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

process.on("uncaughtException", (error) => connection.console.error(`uncaught: ${describeError(error)}`));

connection.listen();
