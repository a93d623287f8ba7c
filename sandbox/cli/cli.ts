// `uzoncalc`: run calculation sheets from the terminal or in batch (SPEC §4).

import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { isRecord, type JsonObject } from "../../protocol/json";
import { DEFAULT_PORTS, LIMITS, PAPER_SIZES, reportFileName, studyFolderName, type Limit, type PaperSize } from "../../protocol/limits";
import { Refusal } from "../../protocol/refusal";
import { RemoteSandboxClient } from "../connect/remoteClient";
import { RunDriver, type StepResult } from "../connect/runDriver";
import { SandboxUnavailableError, type SandboxClient } from "../connect/sandboxClient";
import { Executor } from "../session/executor";
import { ExecutorClient } from "../session/executorClient";
import { renderReportDocument } from "../session/reportDocument";
import { createSandboxEngine } from "../engine/protections";
import { api } from "../service/apiService";
import { runUnderPermissionModel, safeDirsFromEnvironment, serve, listFromEnvironment } from "../service/serve";
import { reportToWord } from "../connect/wordExport";
import { findChromium, PdfError, printReportPdf } from "./pdf";
import { errorLocationFrom } from "../loader/sourceMap";
import { VERSION } from "../version";
import { askWindow, Prompter } from "./terminalPrompt";
import { describeField } from "../../protocol/fields";
import { runStudy } from "../session/study";
import { CasesFileError, readCases } from "../session/studyCases";
import { diffReports, formatReportDiff } from "../connect/reportDiff";
import { readReport, type ReadReport } from "../connect/reportReading";

const USAGE = `Usage:
  uzoncalc run <sheet> [--func NAME] [--params JSON|@file] [--inputs FILE] [-o report.html]
                       [--pdf report.pdf] [--docx report.docx] [--paper A4|Letter] [--sandbox-url URL] [--step-timeout MS]
                       [--memory-limit MB]  (env: UZONCALC_CHROMIUM, the browser --pdf prints with)
  uzoncalc study <sheet> --cases FILE.csv|FILE.json [--jobs N] [-o DIR] [--func NAME] [--params JSON|@file]
                         [--step-timeout MS] [--memory-limit MB]
  uzoncalc serve [--host 127.0.0.1] [--port 3346] [--safe-dir DIR]... [--max-body BYTES]
                 [--max-sessions N] [--step-timeout MS] [--request-timeout MS] [--memory-limit MB] [--members N] [--isolation process|thread] [--store memory|redis://…]
                 [--max-report CHARS] [--session-ttl SECONDS] [--shutdown-timeout MS] [--public-metrics] [--allowed-host NAME]... [--no-permission]
                 (env: SAFE_DIRS=dir1:dir2, UZONCALC_TOKEN=token1,token2, UZONCALC_STORE, UZONCALC_ALLOWED_HOSTS=name1,name2, LOG_LEVEL)
  uzoncalc api [--host 127.0.0.1] [--port 8000] [--sandbox-url URL] [--safe-dir DIR]... [--max-body BYTES]
               [--max-sessions N] [--step-timeout MS] [--request-timeout MS] [--memory-limit MB] [--members N] [--isolation process|thread] [--store memory|redis://…]
               [--max-report CHARS] [--session-ttl SECONDS] [--shutdown-timeout MS] [--public-metrics] [--allowed-host NAME]... [--no-permission]
               (env: SANDBOX_URL, SAFE_DIRS, UZONCALC_TOKEN, UZONCALC_STORE, UZONCALC_ALLOWED_HOSTS, LOG_LEVEL; without a sandbox
               URL the sandbox runs in this process and the limit flags apply)
  uzoncalc check <sheet.calc.ts|sheet.calc.js|set.inputs.json>... [--type-check fields|all|off]
  uzoncalc schema <sheet.calc.ts|sheet.calc.js> [--func NAME]   (the JSON Schema of the sheet's input sets)
  uzoncalc diff <old.report.html> <new.report.html> [--json]
  uzoncalc --version

Runs a calculation sheet to the end and writes its report (default: <sheet>.report.html beside the sheet; -o -
writes it to stdout).
Windows are answered from --inputs ({ "window_id": { "field": value } }); others are asked in the terminal,
or, when stdin is not a terminal, the run stops with exit code 2 naming the window and its fields.
--pdf also prints the completed report to PDF (A4 unless --paper Letter) with a headless Chromium or Chrome
found on this machine (UZONCALC_CHROMIUM, else chromium, chromium-browser, google-chrome on PATH); without one
the HTML report is still written and the run exits 1 saying what to install.
--docx also writes the completed report as a Word document: equations as Office Math (editable in Word),
headings, tables, checks, figures and the title block (A4 unless --paper Letter).
study runs the sheet once per case (CSV: a column per window.field, values may carry units like 300 mm, an
optional case column; JSON: an array of { "window_id": { "field": value } } with an optional "case"), --jobs at
once (default: the cores), and writes DIR/study.csv, DIR/study.html and DIR/<case>.report.html (default DIR:
<sheet>.study beside the sheet); it exits 1 if a case failed (a check NOT OK is a result, not a failure).
diff prints what changed in the calculation between two reports (inputs, values old → new, lines added and
removed, checks whose verdict changed; --json: the same as JSON); the date and runtime are not compared.

Exit codes: 0 done, 1 sheet error or usage error, 2 input needed but stdin is not a terminal.
diff: 0 the calculations match, 1 they differ, 2 a report cannot be read or the arguments are wrong.`;

class UsageError extends Error {}

/** Where prompts and progress go: stderr, so stdout carries only the report's path. */
const out = process.stderr;

function progress(step: number, what: string, ms: number): void {
  out.write(`uzoncalc: step ${step} · ${what} · ${ms.toFixed(1)} ms\n`);
}

function readJsonArgument(value: string, what: string): unknown {
  const text = value.startsWith("@") ? readFileOrThrow(value.slice(1), what) : value;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${what} is not valid JSON: ${(error as Error).message}`);
  }
}

function readFileOrThrow(file: string, what: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    throw new UsageError(`${what}: cannot read ${file}`);
  }
}

interface RunOptions {
  sheet: string;
  func?: string;
  params?: JsonObject;
  inputs: Record<string, Record<string, unknown>>;
  output: string;
  stepTimeoutMs?: number;
  memoryLimitMb?: number;
  sandboxUrl?: string;
  /** Also print the completed report to this PDF (with a Chromium found on the machine). */
  pdf?: string;
  /** Also write the completed report as Word, equations as Office Math. */
  docx?: string;
  paper?: PaperSize;
}

/** The sandbox the run talks to: a remote service, or one in this process with an isolated member. */
async function openSandbox(options: RunOptions, sheetPath: string): Promise<SandboxClient> {
  if (options.sandboxUrl !== undefined) {
    return new RemoteSandboxClient({
      url: options.sandboxUrl,
      // What a local run may read, a remote run may send: the sheet's folder and this one.
      sendFrom: [path.dirname(sheetPath), process.cwd()],
      ...(process.env.UZONCALC_TOKEN ? { token: listFromEnvironment(process.env.UZONCALC_TOKEN)[0]! } : {}),
    });
  }
  return new ExecutorClient(await openLocalSandbox(sheetPath, options));
}

/** What a sandbox in this process takes from the command line; absent, its defaults. */
type LocalLimits = Pick<RunOptions, "stepTimeoutMs" | "memoryLimitMb">;

/**
 * A sandbox of the CLI's own, in this process: sheets from the sheet's folder and this one, run in isolated members,
 * each with a memory cap of its own. A run needs one member; a study one per job, and the pool spreads the cases
 * running at once over them, one sheet bundle serving all.
 */
async function openLocalSandbox(sheetPath: string, limits: LocalLimits, members = 1): Promise<Executor> {
  const stepTimeoutMs = limits.stepTimeoutMs ?? LIMITS.stepTimeoutMs.default;
  const { engine } = await createSandboxEngine({
    stepTimeoutMs,
    maxWorkers: members,
    ...(limits.memoryLimitMb !== undefined ? { memoryLimitMb: limits.memoryLimitMb } : {}),
    log: (level, message) => {
      if (level === "warn") out.write(`uzoncalc: warning: ${message}\n`);
    },
  });
  return new Executor({ safeDirs: [path.dirname(fs.realpathSync(sheetPath)), process.cwd()], stepTimeoutMs, engine });
}

/** One run of a sheet to its end: what `uzoncalc run` does once its flags are read. */
async function run(options: RunOptions): Promise<number> {
  const sheetPath = path.resolve(options.sheet);
  if (!fs.existsSync(sheetPath)) throw new UsageError(`sheet not found: ${options.sheet}`);
  const sheetHash = createHash("sha256").update(fs.readFileSync(sheetPath)).digest("hex");
  const startedAt = Date.now();
  const sandbox = await openSandbox(options, sheetPath);
  const driver = new RunDriver(async () => sandbox);
  const { transcript } = driver;
  const interactive = process.stdin.isTTY === true || process.env.UZONCALC_FORCE_TTY === "1";
  const answers: Answers = { inputs: options.inputs, used: new Set(), ...(interactive ? { prompter: new Prompter() } : {}) };
  try {
    let result = await driver.start({
      file_path: sheetPath,
      ...(options.func ? { func_name: options.func } : {}),
      ...(options.params ? { params: options.params } : {}),
    });
    let answeredFrom = "started " + path.basename(sheetPath);
    for (let step = 1; ; step++) {
      for (const line of result.response.logs ?? []) out.write(`  console: ${line}\n`);
      if (!transcript.waiting) {
        progress(step, `${answeredFrom} → ${transcript.status}`, result.ms);
        if (transcript.status === "completed") return await writeCompleted(transcript.result ?? "", options, answers.used);
        writeFailure(driver, { sheetPath, sheetHash, startedAt, output: options.output });
        const asked = [options.pdf !== undefined ? "PDF" : "", options.docx !== undefined ? "Word document" : ""].filter(Boolean);
        if (asked.length > 0) out.write(`uzoncalc: no ${asked.join(" or ")} was written: they are made from a completed report.\n`);
        return 1;
      }
      const window = transcript.window!;
      progress(step, `${answeredFrom} → waiting for "${window.title}" (${window.id})`, result.ms);
      const answered = await answerWindow(driver, answers);
      if (typeof answered === "number") return answered;
      ({ result, from: answeredFrom } = answered);
    }
  } finally {
    answers.prompter?.close();
    await sandbox.dispose();
  }
}

/** Where a run's answers come from: the --inputs file, else the terminal when there is one. */
interface Answers {
  inputs: Record<string, Record<string, unknown>>;
  /** The windows --inputs answered, to warn about the ones never asked for. */
  used: Set<string>;
  prompter?: Prompter;
}

/**
 * Answers the window the run waits at, asking again in the terminal for values the sandbox refuses. An exit code
 * when it cannot be answered (no terminal, input ended, refused values from a file): the run is cancelled.
 */
async function answerWindow(driver: RunDriver, answers: Answers): Promise<{ result: StepResult; from: string } | number> {
  const window = driver.transcript.window!;
  const { prompter } = answers;
  let values: Record<string, unknown> | undefined;
  let from = `answered "${window.id}" in the terminal`;
  if (Object.prototype.hasOwnProperty.call(answers.inputs, window.id) && driver.transcript.inputErrors === undefined) {
    answers.used.add(window.id);
    values = answers.inputs[window.id];
    from = `answered "${window.id}" from inputs`;
  } else if (prompter) {
    values = await askWindow(prompter, window);
  }
  for (;;) {
    if (values === undefined) {
      await driver.cancel().catch(() => undefined);
      // In a terminal this means the input ended (Ctrl-D) at a prompt: say so, not "run in a terminal".
      if (prompter) out.write(`\nuzoncalc: input ended before window '${window.id}' was answered.\n`);
      out.write(`uzoncalc: window '${window.id}' ("${window.title}") needs input: ${window.fields.map(describeField).join("; ")}.\n`);
      const shape = window.fields.map((f) => `"${f.name}": …`).join(", ");
      out.write(
        `uzoncalc: give it in --inputs as { "${window.id}": { ${shape} } }${prompter ? "" : ", or run in a terminal to be asked"}.\n`,
      );
      return 2;
    }
    try {
      return { result: await driver.answer(values), from };
    } catch (error) {
      if (!(error instanceof Refusal) || error.code !== "invalid_input" || !error.fields) throw error;
      const errors = error.fields;
      for (const [name, message] of Object.entries(errors)) out.write(`uzoncalc: ${window.id}.${name}: ${message}\n`);
      if (!prompter) {
        await driver.cancel().catch(() => undefined);
        out.write(`uzoncalc: fix the values for window '${window.id}' in the inputs file.\n`);
        return 2;
      }
      const known = Object.fromEntries(Object.entries(values).filter(([name]) => !(name in errors)));
      values = await askWindow(prompter, window, errors, known);
      from = `answered "${window.id}" in the terminal`;
    }
  }
}

/** A completed run: the report (and the PDF when asked), the report's path on stdout. */
async function writeCompleted(document: string, options: RunOptions, used: Set<string>): Promise<number> {
  for (const id of Object.keys(options.inputs))
    if (!used.has(id)) out.write(`uzoncalc: warning: inputs for window '${id}' were not used (the sheet never asked for it)\n`);
  if (!saveReport(options.output, document)) return 1;
  if (options.output !== STDOUT) process.stdout.write(path.resolve(options.output) + "\n");
  const pdf = options.pdf === undefined ? 0 : await writePdf(document, options.pdf, options.paper ?? "A4", options.output);
  const docx = options.docx === undefined ? 0 : await writeWord(document, options.docx, options.paper ?? "A4");
  return Math.max(pdf, docx);
}

/** The Word document of a completed run; the HTML report is already written whatever happens here. */
async function writeWord(html: string, target: string, paper: PaperSize): Promise<number> {
  const started = performance.now();
  const bytes = await reportToWord(html, { paper });
  try {
    fs.mkdirSync(path.dirname(path.resolve(target)), { recursive: true });
    fs.writeFileSync(target, bytes);
  } catch (error) {
    out.write(`uzoncalc: cannot write the Word document to ${target}: ${whyNotWritten(error)}; the HTML report was written.\n`);
    return 1;
  }
  out.write(
    `uzoncalc: wrote the report as Word (${paper}, ${Math.round(bytes.length / 1024)} KB) in ${Math.round(performance.now() - started)} ms\n`,
  );
  process.stdout.write(path.resolve(target) + "\n");
  return 0;
}

/** `-o -`: the report goes to stdout. */
const STDOUT = "-";

const WRITE_ERRORS: Record<string, string> = {
  ENOSPC: "no space left on the device",
  EISDIR: "it is a folder",
  ENOTDIR: "a part of the path is a file, not a folder",
  EEXIST: "a part of the path is a file, not a folder",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EROFS: "the file system is read-only",
};

/** Why a file or folder could not be written, as the user can act on it. */
function whyNotWritten(error: unknown): string {
  return WRITE_ERRORS[(error as NodeJS.ErrnoException).code ?? ""] ?? (error as Error).message;
}

/**
 * Writes a report where the user asked (`-`: stdout). Where that fails, one line says where and why, and the text
 * is kept in a temporary file if it can be: a finished calculation is not thrown away over a bad path.
 */
function saveReport(target: string, text: string): boolean {
  if (target === STDOUT) {
    process.stdout.write(text);
    return true;
  }
  try {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, text);
    return true;
  } catch (error) {
    out.write(`uzoncalc: cannot write the report to ${target}: ${whyNotWritten(error)}\n`);
    const kept = path.join(os.tmpdir(), `uzoncalc-${process.pid}-${path.basename(target).replace(/[^\w.-]/g, "") || "report"}.html`);
    try {
      fs.writeFileSync(kept, text);
      out.write(`uzoncalc: the report was kept in ${kept}; give another -o, or -o - for stdout\n`);
    } catch {
      // Nowhere to keep it either: the line above says what went wrong.
    }
    return false;
  }
}

/** A run that failed or was cancelled: where and why on stderr, and nothing lost: the report so far is written. */
function writeFailure(driver: RunDriver, run: { sheetPath: string; sheetHash: string; startedAt: number; output: string }): void {
  const { transcript } = driver;
  const error = transcript.error ?? { message: "The run was cancelled." };
  const filename = path.relative(process.cwd(), run.sheetPath) || path.basename(run.sheetPath);
  // Stack frames name files relative to the sheet; the terminal wants them relative to where it stands.
  const sheetDir = path.dirname(filename);
  const fromCwd = (file: string) => (sheetDir === "." ? file : path.join(sheetDir, file));
  const where = errorLocationFrom(filename, error);
  out.write(`${where} - ${error.name ?? "Error"}: ${error.message}\n`);
  for (const frame of error.stack?.split("\n").slice(1) ?? []) {
    out.write(
      frame
        .replace(/\(([^()]+:\d+:\d+)\)$/, (_, loc: string) => `(${fromCwd(loc)})`)
        .replace(/^(\s*at )([^ ()]+:\d+:\d+)$/, (_, at: string, loc: string) => at + fromCwd(loc)) + "\n",
    );
  }
  if (transcript.report === "") {
    out.write("uzoncalc: the sheet wrote nothing before it stopped, so no report was written.\n");
    return;
  }
  const saved = saveReport(
    run.output,
    renderReportDocument({
      body: transcript.report,
      sheetName: path.basename(run.sheetPath),
      sheetHash: run.sheetHash,
      createdAt: run.startedAt,
      inputs: driver.answered,
      version: VERSION,
      error: { ...error },
    }),
  );
  if (saved && run.output !== STDOUT) out.write(`uzoncalc: the report so far was written to ${path.resolve(run.output)}\n`);
}

/** The PDF of a completed run; the HTML report is already written whatever happens here. */
async function writePdf(html: string, pdf: string, paper: PaperSize, htmlPath: string): Promise<number> {
  const started = performance.now();
  try {
    const chromium = findChromium();
    await printReportPdf(html, pdf, { chromium, paper });
    out.write(`uzoncalc: printed the report to PDF (${paper}) with ${chromium} in ${Math.round(performance.now() - started)} ms\n`);
    process.stdout.write(path.resolve(pdf) + "\n");
    return 0;
  } catch (error) {
    if (!(error instanceof PdfError)) throw error;
    const where = htmlPath === STDOUT ? "to stdout" : `to ${path.resolve(htmlPath)}`;
    out.write(`uzoncalc: ${error.message}\nuzoncalc: the HTML report was written ${where}; no PDF was written.\n`);
    return 1;
  }
}

function wholeNumber(value: string | undefined, flag: string, fallback: number, minimum: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < minimum) throw new UsageError(`${flag} must be a whole number, at least ${minimum}`);
  return number;
}

/** A limit given as a flag: checked against its minimum, its default when absent (protocol/limits.ts). */
function limitFlag(value: string | undefined, flag: string, limit: Limit, scale = 1): number {
  return wholeNumber(value, flag, limit.default / scale, Math.ceil(limit.min / scale)) * scale;
}

/** `--isolation process|thread`: what a sheet member is (process by default: see the README). */
function isolationFlag(value: string | undefined): "process" | "thread" {
  if (value === undefined || value === "process" || value === "thread") return value ?? "process";
  throw new UsageError(`--isolation must be process or thread, got '${value}'`);
}

/** `--store` (or UZONCALC_STORE): "memory" or a Redis URL (SPEC §6). */
function storeFlag(value: string | undefined): string {
  if (value === undefined || value === "" || value === "memory") return "memory";
  if (/^rediss?:\/\/./.test(value)) return value;
  throw new UsageError(`--store must be memory or a redis:// (rediss://) URL, got '${value.replace(/\/\/[^@/]*@/, "//***@")}'`);
}

/** The flags `serve` and `api` share: where to listen, where sheets may come from, and the sandbox's limits. */
const SERVICE_OPTIONS = {
  host: { type: "string" },
  port: { type: "string" },
  "safe-dir": { type: "string", multiple: true },
  "max-body": { type: "string" },
  "max-sessions": { type: "string" },
  "step-timeout": { type: "string" },
  "memory-limit": { type: "string" },
  members: { type: "string" },
  isolation: { type: "string" },
  store: { type: "string" },
  "session-ttl": { type: "string" },
  "request-timeout": { type: "string" },
  "public-metrics": { type: "boolean" },
  "max-report": { type: "string" },
  "shutdown-timeout": { type: "string" },
  "allowed-host": { type: "string", multiple: true },
  "no-permission": { type: "boolean" },
} as const;

type ServiceFlags = {
  [K in keyof typeof SERVICE_OPTIONS]?: (typeof SERVICE_OPTIONS)[K] extends { multiple: true }
    ? string[]
    : (typeof SERVICE_OPTIONS)[K] extends { type: "boolean" }
      ? boolean
      : string;
};

function checkSafeDirs(dirs: string[]): string[] {
  for (const dir of dirs)
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UsageError(`--safe-dir ${dir} is not a folder`);
  return dirs;
}

function serviceSettings(values: ServiceFlags, defaultPort: number) {
  return {
    host: values.host ?? "127.0.0.1",
    port: wholeNumber(values.port, "--port", defaultPort, 0),
    tokens: listFromEnvironment(process.env.UZONCALC_TOKEN),
    maxBodyBytes: limitFlag(values["max-body"], "--max-body", LIMITS.maxBodyBytes),
    maxSessions: limitFlag(values["max-sessions"], "--max-sessions", LIMITS.maxSessions),
    stepTimeoutMs: limitFlag(values["step-timeout"], "--step-timeout", LIMITS.stepTimeoutMs),
    memoryLimitMb: limitFlag(values["memory-limit"], "--memory-limit", LIMITS.memoryLimitMb),
    members: wholeNumber(values.members, "--members", os.availableParallelism(), 1),
    store: storeFlag(values.store ?? process.env.UZONCALC_STORE),
    isolation: isolationFlag(values.isolation),
    sessionTtlMs: limitFlag(values["session-ttl"], "--session-ttl", LIMITS.sessionTtlMs, 1000),
    requestTimeoutMs: limitFlag(values["request-timeout"], "--request-timeout", LIMITS.requestTimeoutMs),
    publicMetrics: values["public-metrics"] === true,
    maxReportBytes: limitFlag(values["max-report"], "--max-report", LIMITS.maxReportBytes),
    shutdownGraceMs: limitFlag(values["shutdown-timeout"], "--shutdown-timeout", LIMITS.shutdownGraceMs),
    allowedHosts: [...(values["allowed-host"] ?? []), ...listFromEnvironment(process.env.UZONCALC_ALLOWED_HOSTS)],
  };
}

async function serveCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: SERVICE_OPTIONS });
  if (positionals.length > 0)
    throw new UsageError(`serve takes no file arguments (got ${positionals.join(" ")}); give folders with --safe-dir`);
  const safeDirs = checkSafeDirs([...(values["safe-dir"] ?? []), ...safeDirsFromEnvironment(process.env.SAFE_DIRS)]);
  if (!values["no-permission"]) {
    const supervised = runUnderPermissionModel(args, safeDirs);
    if (supervised) return supervised;
  }
  return serve({ ...serviceSettings(values, DEFAULT_PORTS.sandbox), safeDirs });
}

async function apiCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...SERVICE_OPTIONS, "sandbox-url": { type: "string" } },
  });
  if (positionals.length > 0) throw new UsageError(`api takes no file arguments (got ${positionals.join(" ")})`);
  const sandboxUrl = values["sandbox-url"] ?? (process.env.SANDBOX_URL?.trim() || undefined);
  if (sandboxUrl !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(sandboxUrl);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== "http:" && url.protocol !== "https:"))
      throw new UsageError(`the sandbox URL "${sandboxUrl}" must be an http(s) address, like http://127.0.0.1:3346`);
  }
  if (sandboxUrl !== undefined && values["safe-dir"] !== undefined)
    throw new UsageError(
      "--safe-dir is for the in-process sandbox; with --sandbox-url (or SANDBOX_URL) give the folders to the sandbox service",
    );
  // With a remote sandbox, safe dirs are the sandbox's own business: this process reads no sheet.
  const safeDirs =
    sandboxUrl === undefined ? checkSafeDirs([...(values["safe-dir"] ?? []), ...safeDirsFromEnvironment(process.env.SAFE_DIRS)]) : [];
  if (!values["no-permission"]) {
    const supervised = runUnderPermissionModel(args, safeDirs, "api");
    if (supervised) return supervised;
  }
  return api({ ...serviceSettings(values, DEFAULT_PORTS.api), ...(sandboxUrl !== undefined ? { sandboxUrl } : {}), safeDirs });
}

/** What dist/check.js offers the CLI: the language server's engine, without its connection. */
interface CheckModule {
  runCheck(argv: readonly string[]): Promise<number>;
  runSchema(argv: readonly string[]): number;
}

/**
 * `check` and `schema` run the language server's reading of sheets, which carries TypeScript (several MB): it is
 * built into dist/check.js and loaded only for these commands, so `run`, `serve` and `api` start without it.
 */
function loadCheckModule(command: string): CheckModule {
  const checkModule = path.join(__dirname, "check.js");
  if (!fs.existsSync(checkModule)) throw new UsageError(`${command} needs ${checkModule}; run npm run build`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- found beside this bundle at run time: the bundler must not follow it
  return require(checkModule) as CheckModule;
}

async function checkCommand(args: string[]): Promise<number> {
  return loadCheckModule("check").runCheck(args);
}

async function schemaCommand(args: string[]): Promise<number> {
  return loadCheckModule("schema").runSchema(args);
}

/** `uzoncalc run`: its flags read and checked, then one run. */
async function runCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      func: { type: "string" },
      params: { type: "string" },
      inputs: { type: "string" },
      output: { type: "string", short: "o" },
      "sandbox-url": { type: "string" },
      "step-timeout": { type: "string" },
      "memory-limit": { type: "string" },
      pdf: { type: "string" },
      docx: { type: "string" },
      paper: { type: "string" },
    },
  });
  if (positionals.length !== 1)
    throw new UsageError(positionals.length === 0 ? "run needs a sheet file" : `run takes one sheet, got ${positionals.length}`);
  const sheet = positionals[0]!;
  const params = paramsFlag(values.params);
  let inputs: Record<string, Record<string, unknown>> = {};
  if (values.inputs !== undefined) {
    const parsed = readJsonArgument("@" + values.inputs, "--inputs");
    if (!isRecord(parsed) || !Object.values(parsed).every(isRecord))
      throw new UsageError('--inputs must hold { "window_id": { "field": value } }');
    inputs = parsed as Record<string, Record<string, unknown>>;
  }
  let paper: PaperSize | undefined;
  if (values.paper !== undefined) {
    paper = PAPER_SIZES.find((size) => size.toLowerCase() === values.paper!.toLowerCase());
    if (paper === undefined) throw new UsageError(`--paper must be ${PAPER_SIZES.join(" or ")}`);
    if (values.pdf === undefined && values.docx === undefined) throw new UsageError("--paper goes with --pdf or --docx");
  }
  if (values.pdf === "") throw new UsageError("--pdf needs a file name, e.g. --pdf report.pdf");
  if (values.docx === "") throw new UsageError("--docx needs a file name, e.g. --docx report.docx");
  return run({
    sheet,
    inputs,
    output: values.output ?? reportFileName(sheet),
    ...(values.pdf !== undefined ? { pdf: values.pdf } : {}),
    ...(values.docx !== undefined ? { docx: values.docx } : {}),
    ...(paper !== undefined ? { paper } : {}),
    ...(values.func !== undefined ? { func: values.func } : {}),
    ...(params !== undefined ? { params } : {}),
    ...localLimitFlags(values),
    ...(values["sandbox-url"] !== undefined ? { sandboxUrl: values["sandbox-url"] } : {}),
  });
}

/** `--params JSON|@file`: the sheet function's parameters. */
function paramsFlag(value: string | undefined): JsonObject | undefined {
  if (value === undefined) return undefined;
  const parsed = readJsonArgument(value, "--params");
  if (!isRecord(parsed)) throw new UsageError("--params must be a JSON object");
  return parsed as JsonObject;
}

/** `--step-timeout` and `--memory-limit` of a sandbox in this process. */
function localLimitFlags(values: { "step-timeout"?: string; "memory-limit"?: string }): LocalLimits {
  return {
    ...(values["step-timeout"] !== undefined
      ? { stepTimeoutMs: limitFlag(values["step-timeout"], "--step-timeout", LIMITS.stepTimeoutMs) }
      : {}),
    ...(values["memory-limit"] !== undefined
      ? { memoryLimitMb: limitFlag(values["memory-limit"], "--memory-limit", LIMITS.memoryLimitMb) }
      : {}),
  };
}

/** `uzoncalc study`: the flags and the whole cases file checked before any member starts, then the study. */
async function studyCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      cases: { type: "string" },
      jobs: { type: "string" },
      output: { type: "string", short: "o" },
      func: { type: "string" },
      params: { type: "string" },
      "step-timeout": { type: "string" },
      "memory-limit": { type: "string" },
    },
  });
  if (positionals.length !== 1)
    throw new UsageError(positionals.length === 0 ? "study needs a sheet file" : `study takes one sheet, got ${positionals.length}`);
  const sheet = positionals[0]!;
  const sheetPath = path.resolve(sheet);
  if (!fs.existsSync(sheetPath)) throw new UsageError(`sheet not found: ${sheet}`);
  if (values.cases === undefined) throw new UsageError("study needs --cases FILE.csv or FILE.json: a row (an input set) per case");
  const jobs = wholeNumber(values.jobs, "--jobs", os.availableParallelism(), 1);
  const params = paramsFlag(values.params);
  const limits = localLimitFlags(values);
  let study;
  try {
    study = readCases(values.cases);
  } catch (error) {
    if (!(error instanceof CasesFileError)) throw error;
    out.write(`uzoncalc: ${error.message}\n`);
    return 1;
  }
  const outputDir = values.output ?? studyFolderName(sheet);
  try {
    fs.mkdirSync(outputDir, { recursive: true });
    fs.accessSync(outputDir, fs.constants.W_OK);
  } catch (error) {
    out.write(`uzoncalc: cannot write the study to ${outputDir}: ${whyNotWritten(error)}\n`);
    return 1;
  }
  const running = Math.min(jobs, study.cases.length);
  const sandbox = await openLocalSandbox(sheetPath, limits, running);
  try {
    const outcome = await runStudy(
      {
        sheetPath,
        casesFile: values.cases,
        study,
        outputDir,
        ...(values.func !== undefined ? { func: values.func } : {}),
        ...(params !== undefined ? { params } : {}),
      },
      sandbox,
      running,
      out,
    );
    if (outcome.html !== undefined && outcome.csv !== undefined) process.stdout.write(`${outcome.html}\n${outcome.csv}\n`);
    return outcome.code;
  } finally {
    await sandbox.close();
  }
}

/** A report `diff` cannot compare, or arguments it cannot take: exit 2, GNU diff's "trouble". */
class DiffTrouble extends Error {}

function readReportFile(file: string): ReadReport {
  let html: string;
  try {
    html = fs.readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a folder" : code === "EACCES" ? "permission denied" : String(error);
    throw new DiffTrouble(`cannot read ${file}: ${reason}`);
  }
  if (!html.includes('<main class="uzc-report">')) throw new DiffTrouble(`${file} is not a UzonCalc report (no <main class="uzc-report">)`);
  return readReport(html);
}

/** `uzoncalc diff`: exit 0 when the calculations match, 1 when they differ, 2 on trouble (as GNU diff). */
async function diffCommand(args: string[]): Promise<number> {
  try {
    const { values, positionals: files } = diffArguments(args);
    const diff = diffReports(readReportFile(files[0]!), readReportFile(files[1]!));
    process.stdout.write(values.json ? JSON.stringify(diff, null, 2) + "\n" : formatReportDiff(diff, { old: files[0]!, new: files[1]! }));
    return diff.same ? 0 : 1;
  } catch (error) {
    if (!(error instanceof DiffTrouble)) throw error;
    out.write(`uzoncalc diff: ${error.message}\n`);
    return 2;
  }
}

function diffArguments(args: string[]) {
  const usage = "usage: uzoncalc diff <old.report.html> <new.report.html> [--json]";
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { json: { type: "boolean" } } });
  } catch (error) {
    throw new DiffTrouble(`${(error as Error).message} (${usage})`);
  }
  if (parsed.positionals.length !== 2) throw new DiffTrouble(`takes two reports, got ${parsed.positionals.length} (${usage})`);
  return parsed;
}

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  run: runCommand,
  serve: serveCommand,
  api: apiCommand,
  check: checkCommand,
  diff: diffCommand,
  schema: schemaCommand,
  study: studyCommand,
};

/** What went wrong, said on stderr as the user can act on it; the exit code. Anything else is a bug: rethrown. */
function explain(error: unknown): number {
  const usage =
    error instanceof UsageError || (error instanceof Error && String((error as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS"));
  if (usage) out.write(`uzoncalc: ${(error as Error).message}\n\n${USAGE}\n`);
  else if (error instanceof Refusal) out.write(`uzoncalc: ${error.message}\n`);
  else if (error instanceof SandboxUnavailableError) out.write(`uzoncalc: ${error.message}\nuzoncalc: ${error.hint}\n`);
  else throw error;
  return 1;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "--version" || command === "-v") {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    (command === undefined ? out : process.stdout).write(USAGE + "\n");
    return command === undefined ? 1 : 0;
  }
  try {
    const handler = Object.prototype.hasOwnProperty.call(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (!handler) throw new UsageError(`unknown command '${command}'`);
    return await handler(rest);
  } catch (error) {
    return explain(error);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      out.write(`uzoncalc: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
