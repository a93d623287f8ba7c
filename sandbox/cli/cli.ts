// `uzoncalc`: run calculation sheets from the terminal or in batch (SPEC §4).

import * as fs from "node:fs";
import * as path from "node:path";
import * as readline from "node:readline";
import { parseArgs } from "node:util";
import type { Field, FieldValue, WindowSpec } from "../../protocol/fields";
import { createHash } from "node:crypto";
import type { ExecutionResponse, InputLogEntry, JsonObject } from "../../protocol/rpc";
import { ExecutorClient } from "../session/executorClient";
import { RemoteSandboxClient } from "../connect/remoteClient";
import { SandboxRequestError, SandboxUnavailableError, type SandboxClient } from "../connect/sandboxClient";
import { checkField, missingValue } from "../../protocol/validate";
import { SandboxError } from "../session/errors";
import { Executor } from "../session/executor";
import { renderReportDocument } from "../session/reportDocument";
import { createSandboxEngine } from "../engine/protections";
import { api } from "../service/apiService";
import { runUnderPermissionModel, safeDirsFromEnvironment, serve, tokensFromEnvironment } from "../service/serve";
import { findChromium, PAPER_SIZES, PdfError, printReportPdf, type PaperSize } from "./pdf";
import { formatErrorLocation } from "../loader/sourceMap";
import { VERSION } from "../version";

const USAGE = `Usage:
  uzoncalc run <sheet> [--func NAME] [--params JSON|@file] [--inputs FILE] [-o report.html]
                       [--pdf report.pdf [--paper A4|Letter]] [--sandbox-url URL] [--step-timeout MS]
                       [--memory-limit MB]  (env: UZONCALC_CHROMIUM, the browser --pdf prints with)
  uzoncalc serve [--host 127.0.0.1] [--port 3346] [--safe-dir DIR]... [--max-body BYTES]
                 [--max-sessions N] [--step-timeout MS] [--memory-limit MB] [--session-ttl SECONDS]
                 [--no-permission]  (env: SAFE_DIRS=dir1:dir2, UZONCALC_TOKEN=token1,token2, LOG_LEVEL)
  uzoncalc api [--host 127.0.0.1] [--port 8000] [--sandbox-url URL] [--safe-dir DIR]... [--max-body BYTES]
               [--max-sessions N] [--step-timeout MS] [--memory-limit MB] [--session-ttl SECONDS]
               [--no-permission]  (env: SANDBOX_URL, SAFE_DIRS, UZONCALC_TOKEN, LOG_LEVEL; without a sandbox
               URL the sandbox runs in this process and the limit flags apply)
  uzoncalc check <sheet.calc.ts|sheet.calc.js>... [--type-check fields|all|off]
  uzoncalc --version

Runs a calculation sheet to the end and writes its report (default: <sheet>.report.html beside the sheet).
Windows are answered from --inputs ({ "window_id": { "field": value } }); others are asked in the terminal,
or, when stdin is not a terminal, the run stops with exit code 2 naming the window and its fields.
--pdf also prints the completed report to PDF (A4 unless --paper Letter) with a headless Chromium or Chrome
found on this machine (UZONCALC_CHROMIUM, else chromium, chromium-browser, google-chrome on PATH); without one
the HTML report is still written and the run exits 1 saying what to install.

Exit codes: 0 done, 1 sheet error or usage error, 2 input needed but stdin is not a terminal.`;

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

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describeField(field: Field): string {
  const parts: string[] = [field.type];
  if (field.unit) parts.push(field.unit);
  if (field.required) parts.push("required");
  if (field.options) parts.push(`one of ${field.options.map((o) => JSON.stringify(o.value)).join("|")}`);
  if (field.default !== undefined) parts.push(`default ${JSON.stringify(field.default)}`);
  return `${field.name} (${parts.join(", ")})`;
}

function defaultOutput(sheet: string): string {
  const base = path.basename(sheet).replace(/(\.calc)?\.(ts|js|mts|mjs)$/i, "");
  return path.join(path.dirname(sheet), `${base}.report.html`);
}

/** Reads answers line by line; lines typed (or piped into a terminal) ahead of a prompt are kept, not lost. */
class Prompter {
  private readonly lines: string[] = [];
  private waiting: ((line: string | undefined) => void) | undefined;
  private closed = false;
  private readonly rl: readline.Interface;

  constructor() {
    this.rl = readline.createInterface({ input: process.stdin, output: out, terminal: false });
    this.rl.on("line", (line) => {
      if (this.waiting) {
        const resolve = this.waiting;
        this.waiting = undefined;
        resolve(line);
      } else this.lines.push(line);
    });
    this.rl.on("close", () => {
      this.closed = true;
      this.waiting?.(undefined);
    });
  }

  async ask(prompt: string): Promise<string | undefined> {
    out.write(prompt);
    const queued = this.lines.shift();
    if (queued !== undefined) return queued;
    if (this.closed) return undefined;
    return new Promise((resolve) => (this.waiting = resolve));
  }

  close(): void {
    this.rl.close();
  }
}

function promptFor(field: Field): string {
  const bits: string[] = [];
  if (field.unit) bits.push(field.unit);
  if (field.min !== undefined || field.max !== undefined) bits.push(`${field.min ?? "−∞"}…${field.max ?? "∞"}`);
  if (field.required) bits.push("required");
  if (field.type === "boolean") bits.push("y/n");
  if (field.type === "selectMany") bits.push("comma-separated");
  const label = field.label !== field.name ? `${field.label} (${field.name})` : field.name;
  const def = field.default !== undefined ? ` [${Array.isArray(field.default) ? field.default.join(", ") : String(field.default)}]` : "";
  return `  ${label}${bits.length ? ` {${bits.join(", ")}}` : ""}${def}: `;
}

function optionByIndex(field: Field, answer: string): string {
  if (!field.options) return answer;
  const pick = (token: string) => {
    const index = /^\d+$/.test(token) ? Number(token) - 1 : -1;
    const option = field.options![index];
    return option && !field.options!.some((o) => String(o.value) === token) ? String(option.value) : token;
  };
  return field.type === "selectMany" ? answer.split(",").map((t) => pick(t.trim())).join(",") : pick(answer.trim());
}

async function askWindow(prompter: Prompter, window: WindowSpec, errors: Record<string, string> = {}, previous: Record<string, unknown> = {}): Promise<Record<string, unknown> | undefined> {
  out.write(`\n${window.title}${window.caption ? ` — ${window.caption}` : ""}\n`);
  const values: Record<string, unknown> = { ...previous };
  for (const field of window.fields) {
    if (Object.keys(errors).length > 0 && !(field.name in errors)) continue;
    if (errors[field.name]) out.write(`  ! ${errors[field.name]}\n`);
    if (field.help) out.write(`    ${field.help}\n`);
    if (field.options) out.write(`    ${field.options.map((o, i) => `${i + 1}) ${o.label}`).join("  ")}\n`);
    for (;;) {
      const answer = await prompter.ask(promptFor(field));
      if (answer === undefined) return undefined;
      const raw: FieldValue | string = answer.trim() === "" ? (field.default ?? missingValue(field)) : optionByIndex(field, answer);
      const check = checkField(field, raw);
      if (check.ok) {
        values[field.name] = check.value;
        break;
      }
      out.write(`  ! ${check.message}\n`);
    }
  }
  return values;
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
  paper?: PaperSize;
}

/** The sandbox the run talks to: a remote service, or one in this process with an isolated member. */
async function openSandbox(options: RunOptions, sheetPath: string): Promise<SandboxClient> {
  if (options.sandboxUrl !== undefined) {
    return new RemoteSandboxClient({ url: options.sandboxUrl, ...(process.env.UZONCALC_TOKEN ? { token: tokensFromEnvironment(process.env.UZONCALC_TOKEN)[0]! } : {}) });
  }
  const stepTimeoutMs = options.stepTimeoutMs ?? 10_000;
  // One member is enough for one run, and it is what gives the run a memory cap of its own.
  const { engine } = await createSandboxEngine({
    stepTimeoutMs,
    maxWorkers: 1,
    ...(options.memoryLimitMb !== undefined ? { memoryLimitMb: options.memoryLimitMb } : {}),
    log: (level, message) => {
      if (level === "warn") out.write(`uzoncalc: warning: ${message}\n`);
    },
  });
  return new ExecutorClient(new Executor({ safeDirs: [path.dirname(fs.realpathSync(sheetPath)), process.cwd()], stepTimeoutMs, engine }));
}

async function run(options: RunOptions): Promise<number> {
  const sheetPath = path.resolve(options.sheet);
  if (!fs.existsSync(sheetPath)) throw new UsageError(`sheet not found: ${options.sheet}`);
  const sheetHash = createHash("sha256").update(fs.readFileSync(sheetPath)).digest("hex");
  const startedAt = Date.now();
  const executor = await openSandbox(options, sheetPath);
  // The report so far, whether the sandbox sends it whole or as deltas, and what was answered: for the
  // partial report written when a run fails.
  let report = "";
  const answered: InputLogEntry[] = [];
  const absorb = (next: ExecutionResponse): ExecutionResponse => {
    report = next.html !== undefined ? next.html : report + (next.html_delta ?? "");
    return next;
  };
  const interactive = process.stdin.isTTY === true || process.env.UZONCALC_FORCE_TTY === "1";
  const prompter = interactive ? new Prompter() : undefined;
  const used = new Set<string>();
  try {
    let started = performance.now();
    let response: ExecutionResponse = absorb(await executor.execute({
      file_path: sheetPath,
      ...(options.func ? { func_name: options.func } : {}),
      ...(options.params ? { params: options.params } : {}),
    }));
    let step = 1;
    let answeredFrom = "started " + path.basename(sheetPath);
    for (;;) {
      const ms = performance.now() - started;
      for (const line of response.logs ?? []) out.write(`  console: ${line}\n`);
      if (response.status === "completed") {
        progress(step, `${answeredFrom} → completed`, ms);
        fs.mkdirSync(path.dirname(options.output), { recursive: true });
        fs.writeFileSync(options.output, response.result ?? "");
        for (const id of Object.keys(options.inputs)) if (!used.has(id)) out.write(`uzoncalc: warning: inputs for window '${id}' were not used (the sheet never asked for it)\n`);
        process.stdout.write(path.resolve(options.output) + "\n");
        return options.pdf === undefined ? 0 : await writePdf(response.result ?? "", options.pdf, options.paper ?? "A4", options.output);
      }
      if (response.status === "error" || response.status === "cancelled") {
        progress(step, `${answeredFrom} → ${response.status}`, ms);
        const error = response.error ?? { message: "The run was cancelled." };
        const filename = path.relative(process.cwd(), sheetPath) || path.basename(sheetPath);
        // Stack frames name files relative to the sheet; the terminal wants them relative to where it stands.
        const sheetDir = path.dirname(filename);
        const fromCwd = (file: string) => (sheetDir === "." ? file : path.join(sheetDir, file));
        const where = error.file ? formatErrorLocation(fromCwd(error.file), { ...error, file: undefined }) : formatErrorLocation(filename, error);
        out.write(`${where} - ${error.name ?? "Error"}: ${error.message}\n`);
        if (error.stack) {
          for (const frame of error.stack.split("\n").slice(1)) out.write(frame.replace(/\(([^()]+:\d+:\d+)\)$/, (_, loc: string) => `(${fromCwd(loc)})`).replace(/^(\s*at )([^ ()]+:\d+:\d+)$/, (_, at: string, loc: string) => at + fromCwd(loc)) + "\n");
        }
        if (report === "") {
          out.write("uzoncalc: the sheet wrote nothing before it stopped, so no report was written.\n");
          return 1;
        }
        // Nothing is lost: the report so far is written, with the error where the run stopped.
        fs.mkdirSync(path.dirname(options.output), { recursive: true });
        fs.writeFileSync(options.output, renderReportDocument({
          body: report,
          sheetName: path.basename(sheetPath),
          sheetHash,
          createdAt: startedAt,
          inputs: answered,
          version: VERSION,
          error: { ...error },
        }));
        out.write(`uzoncalc: the report so far was written to ${path.resolve(options.output)}\n`);
        return 1;
      }
      const window = response.ui!;
      progress(step, `${answeredFrom} → waiting for "${window.title}" (${window.id})`, ms);
      let values: Record<string, unknown> | undefined;
      let errors = response.input_errors ?? {};
      if (Object.prototype.hasOwnProperty.call(options.inputs, window.id) && Object.keys(errors).length === 0) {
        used.add(window.id);
        values = options.inputs[window.id];
        answeredFrom = `answered "${window.id}" from inputs`;
      } else if (prompter) {
        values = await askWindow(prompter, window);
        answeredFrom = `answered "${window.id}" in the terminal`;
      }
      for (;;) {
        if (values === undefined) {
          await executor.cancel(response.session_id).catch(() => undefined);
          // In a terminal this means the input ended (Ctrl-D) at a prompt: say so, not "run in a terminal".
          if (prompter) out.write(`\nuzoncalc: input ended before window '${window.id}' was answered.\n`);
          out.write(`uzoncalc: window '${window.id}' ("${window.title}") needs input: ${window.fields.map(describeField).join("; ")}.\n`);
          out.write(`uzoncalc: give it in --inputs as { "${window.id}": { ${window.fields.map((f) => `"${f.name}": …`).join(", ")} } }${prompter ? "" : ", or run in a terminal to be asked"}.\n`);
          return 2;
        }
        started = performance.now();
        try {
          response = absorb(await executor.resume({ session_id: response.session_id, user_input: values }));
          answered.push({ window: window.id, values: values as InputLogEntry["values"] });
          break;
        } catch (error) {
          if (!(error instanceof SandboxRequestError) || error.code !== "invalid_input" || !error.fields) throw error;
          errors = error.fields;
          for (const [name, message] of Object.entries(errors)) out.write(`uzoncalc: ${window.id}.${name}: ${message}\n`);
          if (!prompter) {
            await executor.cancel(response.session_id).catch(() => undefined);
            out.write(`uzoncalc: fix the values for window '${window.id}' in the inputs file.\n`);
            return 2;
          }
          const known = Object.fromEntries(Object.entries(values).filter(([name]) => !(name in errors)));
          values = await askWindow(prompter, window, errors, known);
          answeredFrom = `answered "${window.id}" in the terminal`;
        }
      }
      step++;
    }
  } finally {
    prompter?.close();
    await executor.dispose();
  }
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
    out.write(`uzoncalc: ${error.message}\nuzoncalc: the HTML report was written to ${path.resolve(htmlPath)}; no PDF was written.\n`);
    return 1;
  }
}

function positiveInteger(value: string | undefined, flag: string, fallback: number, minimum = 1): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < minimum) throw new UsageError(`${flag} must be a whole number, at least ${minimum}`);
  return number;
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
  "session-ttl": { type: "string" },
  "no-permission": { type: "boolean" },
} as const;

type ServiceFlags = { [K in keyof typeof SERVICE_OPTIONS]?: (typeof SERVICE_OPTIONS)[K] extends { multiple: true } ? string[] : (typeof SERVICE_OPTIONS)[K] extends { type: "boolean" } ? boolean : string };

function checkSafeDirs(dirs: string[]): string[] {
  for (const dir of dirs) if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UsageError(`--safe-dir ${dir} is not a folder`);
  return dirs;
}

function serviceSettings(values: ServiceFlags, defaultPort: number) {
  return {
    host: values.host ?? "127.0.0.1",
    port: positiveInteger(values.port, "--port", defaultPort, 0),
    tokens: tokensFromEnvironment(process.env.UZONCALC_TOKEN),
    maxBodyBytes: positiveInteger(values["max-body"], "--max-body", 1_048_576, 1024),
    maxSessions: positiveInteger(values["max-sessions"], "--max-sessions", 1_000),
    stepTimeoutMs: positiveInteger(values["step-timeout"], "--step-timeout", 10_000),
    memoryLimitMb: positiveInteger(values["memory-limit"], "--memory-limit", 256, 16),
    sessionTtlMs: positiveInteger(values["session-ttl"], "--session-ttl", 3_600) * 1000,
  };
}

async function serveCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: SERVICE_OPTIONS });
  if (positionals.length > 0) throw new UsageError(`serve takes no file arguments (got ${positionals.join(" ")}); give folders with --safe-dir`);
  const safeDirs = checkSafeDirs([...(values["safe-dir"] ?? []), ...safeDirsFromEnvironment(process.env.SAFE_DIRS)]);
  if (!values["no-permission"]) {
    const supervised = runUnderPermissionModel(args, safeDirs);
    if (supervised) return supervised;
  }
  return serve({ ...serviceSettings(values, 3346), safeDirs });
}

async function apiCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...SERVICE_OPTIONS, "sandbox-url": { type: "string" } } });
  if (positionals.length > 0) throw new UsageError(`api takes no file arguments (got ${positionals.join(" ")})`);
  const sandboxUrl = values["sandbox-url"] ?? (process.env.SANDBOX_URL?.trim() || undefined);
  if (sandboxUrl !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(sandboxUrl);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) throw new UsageError(`the sandbox URL "${sandboxUrl}" must be an http(s) address, like http://127.0.0.1:3346`);
  }
  if (sandboxUrl !== undefined && values["safe-dir"] !== undefined) throw new UsageError("--safe-dir is for the in-process sandbox; with --sandbox-url (or SANDBOX_URL) give the folders to the sandbox service");
  // With a remote sandbox, safe dirs are the sandbox's own business: this process reads no sheet.
  const safeDirs = sandboxUrl === undefined ? checkSafeDirs([...(values["safe-dir"] ?? []), ...safeDirsFromEnvironment(process.env.SAFE_DIRS)]) : [];
  if (!values["no-permission"]) {
    const supervised = runUnderPermissionModel(args, safeDirs, "api");
    if (supervised) return supervised;
  }
  return api({ ...serviceSettings(values, 8000), ...(sandboxUrl !== undefined ? { sandboxUrl } : {}), safeDirs });
}

/**
 * `check` runs the language server's checks, which carry TypeScript (several MB): they are built into
 * dist/check.js and loaded only for this command, so `run`, `serve` and `api` start without them.
 */
async function checkCommand(args: string[]): Promise<number> {
  const checkModule = path.join(__dirname, "check.js");
  if (!fs.existsSync(checkModule)) throw new UsageError(`check needs ${checkModule}; run npm run build`);
  const { runCheck } = require(checkModule) as { runCheck(argv: readonly string[]): Promise<number> };
  return runCheck(args);
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
    if (command === "serve") return await serveCommand(rest);
    if (command === "api") return await apiCommand(rest);
    if (command === "check") return await checkCommand(rest);
    if (command !== "run") throw new UsageError(`unknown command '${command}'`);
    const { values, positionals } = parseArgs({
      args: rest,
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
        paper: { type: "string" },
      },
    });
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? "run needs a sheet file" : `run takes one sheet, got ${positionals.length}`);
    const sheet = positionals[0]!;
    let params: JsonObject | undefined;
    if (values.params !== undefined) {
      const parsed = readJsonArgument(values.params, "--params");
      if (!isRecord(parsed)) throw new UsageError("--params must be a JSON object");
      params = parsed as JsonObject;
    }
    let inputs: Record<string, Record<string, unknown>> = {};
    if (values.inputs !== undefined) {
      const parsed = readJsonArgument("@" + values.inputs, "--inputs");
      if (!isRecord(parsed) || !Object.values(parsed).every(isRecord)) throw new UsageError('--inputs must hold { "window_id": { "field": value } }');
      inputs = parsed as Record<string, Record<string, unknown>>;
    }
    let stepTimeoutMs: number | undefined;
    if (values["step-timeout"] !== undefined) {
      stepTimeoutMs = Number(values["step-timeout"]);
      if (!Number.isInteger(stepTimeoutMs) || stepTimeoutMs <= 0) throw new UsageError("--step-timeout must be a positive whole number of milliseconds");
    }
    let memoryLimitMb: number | undefined;
    if (values["memory-limit"] !== undefined) {
      memoryLimitMb = Number(values["memory-limit"]);
      if (!Number.isInteger(memoryLimitMb) || memoryLimitMb < 16) throw new UsageError("--memory-limit must be a whole number of megabytes, at least 16");
    }
    let paper: PaperSize | undefined;
    if (values.paper !== undefined) {
      paper = PAPER_SIZES.find((size) => size.toLowerCase() === values.paper!.toLowerCase());
      if (paper === undefined) throw new UsageError(`--paper must be ${PAPER_SIZES.join(" or ")}`);
      if (values.pdf === undefined) throw new UsageError("--paper goes with --pdf");
    }
    if (values.pdf === "") throw new UsageError("--pdf needs a file name, e.g. --pdf report.pdf");
    return await run({
      sheet,
      ...(values.pdf !== undefined ? { pdf: values.pdf } : {}),
      ...(paper !== undefined ? { paper } : {}),
      inputs,
      output: values.output ?? defaultOutput(sheet),
      ...(values.func !== undefined ? { func: values.func } : {}),
      ...(params !== undefined ? { params } : {}),
      ...(stepTimeoutMs !== undefined ? { stepTimeoutMs } : {}),
      ...(memoryLimitMb !== undefined ? { memoryLimitMb } : {}),
      ...(values["sandbox-url"] !== undefined ? { sandboxUrl: values["sandbox-url"] } : {}),
    });
  } catch (error) {
    if (error instanceof UsageError) {
      out.write(`uzoncalc: ${error.message}\n\n${USAGE}\n`);
      return 1;
    }
    if (error instanceof SandboxError || error instanceof SandboxRequestError) {
      out.write(`uzoncalc: ${error.message}\n`);
      return 1;
    }
    if (error instanceof SandboxUnavailableError) {
      out.write(`uzoncalc: ${error.message}\nuzoncalc: ${error.hint}\n`);
      return 1;
    }
    if (error instanceof Error && "code" in error && typeof (error as { code?: unknown }).code === "string" && (error as { code: string }).code.startsWith("ERR_PARSE_ARGS")) {
      out.write(`uzoncalc: ${error.message}\n\n${USAGE}\n`);
      return 1;
    }
    throw error;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      out.write(`uzoncalc: internal error: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
