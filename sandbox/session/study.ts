// `uzoncalc study` (SPEC §4): one sheet run once per case of a cases file, in parallel in isolated members,
// into a table an engineer reads to find the governing case: each case's inputs, the fields of the value the sheet
// returned, each check's utilisation and verdict, and the status or error (`study.csv`, `study.html`), beside each
// case's own report (`<case>.report.html`). A check that fails is a result, not a failure: only a case that did not
// run to its end (an error, a refused value, a window the case does not answer) fails, and fails the study.

import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { stringify as stringifyCsv } from "csv-stringify/sync";
import { escapeHtml } from "../../protocol/html";
import type { JsonObject, JsonValue } from "../../protocol/json";
import { Refusal } from "../../protocol/refusal";
import type { CancelResponse, ExecuteRequest, ExecutionResponse, SessionRequest, SheetError } from "../../protocol/rpc";
import type { FieldLegend, InputLogEntry } from "../../protocol/session";
import { unitLabel, valueWithUnit } from "../../protocol/units";
import { closestName } from "../../protocol/validate";
import { errorLocationFrom } from "../loader/sourceMap";
import { PAGE_THEME, renderReportDocument, standaloneHead } from "./reportDocument";
import { VERSION } from "../version";
import { readReport } from "../connect/reportReading";
import { givenText, type StudyCase, type StudyCases, type StudyColumn } from "./studyCases";
import { describeField } from "../../protocol/fields";

/** What a study needs of the sandbox (the CLI's in-process Executor): a run per case, and the windows it answered. */
export interface StudySandbox {
  execute(request: ExecuteRequest): Promise<ExecutionResponse>;
  cancel(request: SessionRequest): Promise<CancelResponse>;
  inputLog(sessionId: string): readonly InputLogEntry[];
}

export interface StudyOptions {
  sheetPath: string;
  /** The cases file as the user named it, for messages and the study's heading. */
  casesFile: string;
  study: StudyCases;
  outputDir: string;
  func?: string;
  params?: JsonObject;
}

/** One check of a case's report, under the column it shares with the same check of the other cases. */
interface CaseCheck {
  /** The check's label, `check N` when it has none, `label (2)` for its second time in one report. */
  key: string;
  utilisation: number | undefined;
  verdict: string;
  ok: boolean;
}

interface CaseResult {
  studyCase: StudyCase;
  /** The error that ended the case (shown in its row); undefined when it ran to its end. */
  error: string | undefined;
  value: JsonValue | undefined;
  checks: CaseCheck[];
  /** The windows the case answered, with their legends (labels and units for the study's headings). */
  answered: readonly InputLogEntry[];
  /** The windows the case got to: those it answered, and the one it stopped at. */
  reached: string[];
  /** Columns the window they name does not have, each with the sandbox's message: the cases file is wrong, not the case. */
  unknownColumns: string[];
  ms: number;
}

const STUDY_CSV = "study.csv";
const STUDY_HTML = "study.html";

/** The report of each case: `<case>.report.html`, as SPEC §4 names it whatever the case is called. */
export function caseReportFile(studyCase: StudyCase): string {
  return `${studyCase.fileBase}.report.html`;
}

/** Where a study says how it goes: the terminal's stderr (a bar when it is a terminal), or a log. */
export interface StudyMessages {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** How a study ended: the exit code, its files (absent when it did not run), and one line saying how it went. */
export interface StudyOutcome {
  code: number;
  html?: string;
  csv?: string;
  cases: number;
  failed: number;
  message: string;
}

/**
 * Runs the study and writes its files; the exit code: 1 if a case failed (or the cases file names unknown inputs),
 * else 0. `jobs` cases run at once in the one sandbox (a pool spreads them over its members).
 */
export async function runStudy(options: StudyOptions, sandbox: StudySandbox, jobs: number, err: StudyMessages): Promise<StudyOutcome> {
  const { cases } = options.study;
  const sheetText = fs.readFileSync(options.sheetPath);
  const context: RunContext = {
    options,
    sheetHash: createHash("sha256").update(sheetText).digest("hex"),
    sheetLabel: path.relative(process.cwd(), options.sheetPath) || path.basename(options.sheetPath),
  };
  const startedAt = performance.now();
  const progress = new StudyProgress(cases.length, jobs, err);
  const results: CaseResult[] = [];
  const runOne = async (index: number) => {
    const { result, report } = await runCase(context, sandbox, cases[index]!);
    results[index] = result;
    if (index === 0 && result.unknownColumns.length > 0) return;
    try {
      fs.writeFileSync(path.join(options.outputDir, caseReportFile(result.studyCase)), report);
    } catch (error) {
      result.error ??= `its report could not be written: ${(error as Error).message}`;
    }
    progress.finished(result);
  };
  // The first case runs alone: it warms the sheet's bundle for the others, and a column naming a field its window
  // does not have is wrong in every case, so it stops the study here rather than fail every row.
  await runOne(0);
  if (results[0]!.unknownColumns.length > 0) {
    progress.clear();
    for (const message of results[0]!.unknownColumns) err.write(`uzoncalc: ${options.casesFile}: unknown column ${message}\n`);
    err.write("uzoncalc: fix the column names in the cases file; the study was not run.\n");
    return {
      code: 1,
      cases: cases.length,
      failed: cases.length,
      message: results[0]!.unknownColumns.map((m) => `unknown column ${m}`).join("; "),
    };
  }
  let next = 1;
  await Promise.all(
    Array.from({ length: jobs }, async () => {
      while (next < cases.length) await runOne(next++);
    }),
  );
  progress.clear();

  const columns = studyColumns(options.study, results);
  const governing = governingCase(results);
  const warnings = unusedColumns(options.study, results);
  fs.writeFileSync(path.join(options.outputDir, STUDY_CSV), studyCsv(columns, results));
  fs.writeFileSync(path.join(options.outputDir, STUDY_HTML), studyHtml(columns, results, { governing, warnings }, context));
  const governs = governing ? `; governing: ${governingText(governing)}` : "";
  err.write(`uzoncalc: ${summary(results)}${governs} · ${formatSeconds(performance.now() - startedAt)} with ${jobsText(jobs)}\n`);
  for (const line of warnings) err.write(`uzoncalc: warning: ${line}\n`);
  const failed = results.filter((result) => result.error !== undefined).length;
  return {
    code: failed > 0 ? 1 : 0,
    html: path.resolve(options.outputDir, STUDY_HTML),
    csv: path.resolve(options.outputDir, STUDY_CSV),
    cases: results.length,
    failed,
    message: `${summary(results)}${governs}`,
  };
}

interface RunContext {
  options: StudyOptions;
  /** sha256 of the sheet file, for the report of a case that failed (a completed one has the sandbox's own). */
  sheetHash: string;
  /** The sheet as the terminal names it, where a sheet error is located. */
  sheetLabel: string;
}

/** One case: one request that answers its windows; its row's content and its report. */
async function runCase(context: RunContext, sandbox: StudySandbox, studyCase: StudyCase): Promise<{ result: CaseResult; report: string }> {
  const { options } = context;
  const started = performance.now();
  const startedAt = Date.now();
  const result: CaseResult = {
    studyCase,
    error: undefined,
    value: undefined,
    checks: [],
    answered: [],
    reached: [],
    unknownColumns: [],
    ms: 0,
  };
  let document: string;
  let response: ExecutionResponse | undefined;
  try {
    response = await sandbox.execute({
      file_path: options.sheetPath,
      inputs: studyCase.inputs,
      ...(options.func !== undefined ? { func_name: options.func } : {}),
      ...(options.params !== undefined ? { params: options.params } : {}),
    });
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    result.error = error.message;
  }
  if (response) {
    result.answered = sandbox.inputLog(response.session_id);
    result.reached = [...result.answered.map((entry) => entry.window), ...(response.ui ? [response.ui.id] : [])];
  }
  if (response?.status === "completed") {
    document = response.result ?? "";
    result.value = response.value ?? null;
    result.checks = checksOf(document);
  } else {
    if (response) ({ error: result.error, unknownColumns: result.unknownColumns } = await failureOf(context.sheetLabel, sandbox, response));
    const error: SheetError = response?.error ?? { message: result.error ?? "" };
    document = renderReportDocument({
      body: response?.html ?? "",
      sheetName: path.basename(options.sheetPath),
      sheetHash: context.sheetHash,
      createdAt: startedAt,
      inputs: result.answered,
      version: VERSION,
      error,
      ...(options.params !== undefined ? { params: options.params } : {}),
    });
  }
  result.ms = performance.now() - started;
  return { result, report: document };
}

/**
 * Why a case did not complete, as its row says it, and the columns its window refused as none of its fields. A case
 * left waiting at a window is cancelled.
 */
async function failureOf(
  sheetLabel: string,
  sandbox: StudySandbox,
  response: ExecutionResponse,
): Promise<{ error: string; unknownColumns: string[] }> {
  if (response.status === "error" && response.error) return { error: sheetErrorText(sheetLabel, response.error), unknownColumns: [] };
  if (response.status !== "waiting_ui" || !response.ui) return { error: "The run was cancelled.", unknownColumns: [] };
  await sandbox.cancel({ session_id: response.session_id }).catch(() => undefined);
  const window = response.ui;
  const refused = Object.entries(response.input_errors ?? {});
  if (refused.length === 0)
    return {
      error: `window '${window.id}' (${window.title}) needs input: ${window.fields.map(describeField).join("; ")}`,
      unknownColumns: [],
    };
  const known = new Set(window.fields.map((field) => field.name));
  return {
    error: refused.map(([name, message]) => `${window.id}.${name}: ${message}`).join(" "),
    unknownColumns: refused.filter(([name]) => !known.has(name)).map(([name, message]) => `'${window.id}.${name}': ${message}`),
  };
}

/** `file:line:col - Name: message`, the file as the terminal names it (an imported file beside the sheet). */
function sheetErrorText(sheetLabel: string, error: SheetError): string {
  return `${errorLocationFrom(sheetLabel, error)} - ${error.name ?? "Error"}: ${error.message}`;
}

function checksOf(document: string): CaseCheck[] {
  const seen = new Map<string, number>();
  return readReport(document)
    .items.flatMap((item) => (item.kind === "check" ? [item] : []))
    .map((check, index) => {
      const label = check.label || `check ${index + 1}`;
      const times = (seen.get(label) ?? 0) + 1;
      seen.set(label, times);
      return { key: times === 1 ? label : `${label} (${times})`, utilisation: check.utilisation, verdict: check.verdict, ok: check.ok };
    });
}

/** The check that governs a case: the highest utilisation (a check without one cannot govern). */
function governingCheck(result: CaseResult): CaseCheck | undefined {
  let governing: CaseCheck | undefined;
  for (const check of result.checks)
    if (check.utilisation !== undefined && (governing === undefined || check.utilisation > governing.utilisation!)) governing = check;
  return governing;
}

/** The case of the study with the highest utilisation of all. */
function governingCase(results: readonly CaseResult[]): CaseResult | undefined {
  let governing: CaseResult | undefined;
  for (const result of results) {
    const utilisation = governingCheck(result)?.utilisation;
    if (utilisation !== undefined && (governing === undefined || utilisation > governingCheck(governing)!.utilisation!)) governing = result;
  }
  return governing;
}

function failedChecks(result: CaseResult): number {
  return result.checks.filter((check) => !check.ok).length;
}

// ---- the study's table: one set of columns, written as CSV and as HTML ----

/** A returned value that is not an object is one column of this name. */
const WHOLE_VALUE = "value";

interface StudyColumns {
  inputs: StudyColumn[];
  /** Each input's label and unit, from the window as a case answered it. */
  legends: Map<string, FieldLegend>;
  values: string[];
  checks: string[];
}

/** The columns, in the order of the cases file, then of first appearance case by case: the same whatever ran first. */
function studyColumns(study: StudyCases, results: readonly CaseResult[]): StudyColumns {
  const legends = new Map<string, FieldLegend>();
  const values = new Set<string>();
  const checks = new Set<string>();
  for (const result of results) {
    for (const entry of result.answered)
      for (const [field, legend] of Object.entries(entry.legend?.fields ?? {}))
        if (!legends.has(`${entry.window}.${field}`)) legends.set(`${entry.window}.${field}`, legend);
    for (const key of Object.keys(valueFields(result.value))) values.add(key);
    for (const check of result.checks) checks.add(check.key);
  }
  return { inputs: study.columns, legends, values: [...values], checks: [...checks] };
}

function valueFields(value: JsonValue | undefined): Record<string, JsonValue> {
  if (value === undefined || value === null) return {};
  if (typeof value === "object" && !Array.isArray(value)) return value;
  return { [WHOLE_VALUE]: value };
}

function inputGiven(result: CaseResult, column: StudyColumn): string {
  return givenText(result.studyCase.inputs[column.window]?.[column.field]);
}

function statusOf(result: CaseResult): string {
  return result.error === undefined ? "completed" : "failed";
}

/** A check's or the governing utilisation as the report printed it. */
function utilisationText(utilisation: number | undefined): string {
  return utilisation === undefined ? "" : String(utilisation);
}

/** The CSV's own columns: a returned field of one of these names is written as `name (value)`. */
const FIXED_CSV_COLUMNS = ["case", "status", "max utilisation", "governing check", "verdict", "error", "report"];

function studyCsv(columns: StudyColumns, results: readonly CaseResult[]): string {
  const taken = new Set([...FIXED_CSV_COLUMNS, ...columns.inputs.map((column) => column.key)]);
  const header = [
    "case",
    "status",
    ...columns.inputs.map((column) => column.key),
    ...columns.values.map((key) => (taken.has(key) ? `${key} (value)` : key)),
    "max utilisation",
    "governing check",
    "verdict",
    ...columns.checks.flatMap((key) => [`utilisation: ${key}`, `verdict: ${key}`]),
    "error",
    "report",
  ];
  const rows = results.map((result) => {
    const values = valueFields(result.value);
    const governing = governingCheck(result);
    const byKey = new Map(result.checks.map((check) => [check.key, check]));
    return [
      result.studyCase.name,
      statusOf(result),
      ...columns.inputs.map((column) => inputGiven(result, column)),
      ...columns.values.map((key) => givenText(values[key])),
      utilisationText(governing?.utilisation),
      governing?.key ?? "",
      result.checks.length === 0 ? "" : failedChecks(result) === 0 ? "OK" : "NOT OK",
      ...columns.checks.flatMap((key) => [utilisationText(byKey.get(key)?.utilisation), byKey.get(key)?.verdict ?? ""]),
      result.error ?? "",
      caseReportFile(result.studyCase),
    ];
  });
  return stringifyCsv([header, ...rows]);
}

const STYLE = `${PAGE_THEME}body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; margin: 1.5rem; }
h1 { font-size: 1.5rem; margin: 0 0 0.6rem; }
p { margin: 0.3rem 0; }
a { color: var(--accent); }
.scroll { overflow-x: auto; margin-top: 1rem; }
table { border-collapse: collapse; }
th, td { border: 1px solid var(--rule); padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: color-mix(in srgb, var(--rule) 35%, var(--bg)); font-weight: 600; }
td.case, thead tr:first-child th:first-child { position: sticky; left: 0; z-index: 1; background: var(--bg); white-space: nowrap; }
thead tr:first-child th:first-child { background: color-mix(in srgb, var(--rule) 35%, var(--bg)); }
th .sub { display: block; font-weight: 400; color: var(--muted); font-size: 0.85em; }
thead tr:first-child th { text-align: center; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.util { background: linear-gradient(to right, color-mix(in srgb, var(--accent) 18%, transparent) calc(min(var(--u), 1) * 100%), transparent 0); }
.near { color: var(--warn); font-weight: 600; }
.over, .fail { color: var(--bad); font-weight: 700; }
td.fail { background: color-mix(in srgb, var(--bad) 10%, transparent); }
tr.failed td { background: color-mix(in srgb, var(--bad) 6%, transparent); }
tr.checks-fail td:first-child { box-shadow: inset 4px 0 var(--bad); }
tr.governing td:first-child { box-shadow: inset 4px 0 var(--warn); }
.badge { display: inline-block; margin-left: 0.4em; padding: 0 0.35em; border-radius: 0.3em; font-size: 0.8em; background: var(--warn); color: var(--bg); }
.error { color: var(--bad); white-space: pre-wrap; max-width: 40rem; }
.note { color: var(--muted); }
.warning { color: var(--warn); font-weight: 600; }
footer { margin-top: 1.5rem; color: var(--muted); font-size: 0.85em; }
@media print { :root { color-scheme: light; } body { margin: 0; font-size: 9pt; } .scroll { overflow: visible; } }
`;

/** How close to its capacity a utilisation is, as a colour: over 1 fails, from 0.9 it is near. */
function utilisationClass(utilisation: number | undefined): string {
  if (utilisation === undefined) return "";
  return utilisation > 1 ? "over" : utilisation >= 0.9 ? "near" : "";
}

function studyHtml(
  columns: StudyColumns,
  results: readonly CaseResult[],
  { governing, warnings }: { governing: CaseResult | undefined; warnings: string[] },
  context: RunContext,
): string {
  const { options } = context;
  const sheetName = path.basename(options.sheetPath);
  const cell = (text: string, className = "", attributes = "") =>
    `<td${className ? ` class="${className}"` : ""}${attributes}>${escapeHtml(text)}</td>`;
  const reportLink = (result: CaseResult) =>
    `<a href="${escapeHtml(encodeURIComponent(caseReportFile(result.studyCase)))}">${escapeHtml(result.studyCase.name)}</a>`;
  // A sweep varies a few inputs: those the same in every case are said once above the table, which keeps the rest.
  const varies = (column: StudyColumn) => new Set(results.map((result) => inputGiven(result, column))).size > 1;
  const swept = results.length > 1 ? columns.inputs.filter(varies) : columns.inputs;
  const fixed = columns.inputs.filter((column) => !swept.includes(column));
  const fixedText = fixed
    .map((column) => {
      const given = inputGiven(results[0]!, column);
      const unit = columns.legends.get(column.key)?.unit;
      return `${column.key} = ${given !== "" && Number.isFinite(Number(given)) ? valueWithUnit(given, unit) : given || "(default)"}`;
    })
    .join(", ");
  const inputHeader = (column: StudyColumn) => {
    const legend = columns.legends.get(column.key);
    const sub = legend ? legend.label + (legend.unit ? ` [${unitLabel(legend.unit)}]` : "") : "";
    return `<th>${escapeHtml(column.key)}${sub ? `<span class="sub">${escapeHtml(sub)}</span>` : ""}</th>`;
  };
  const groups = [
    `<th rowspan="2">Case</th>`,
    `<th rowspan="2">Status</th>`,
    swept.length > 0 ? `<th colspan="${swept.length}">Inputs</th>` : "",
    columns.values.length > 0 ? `<th colspan="${columns.values.length}">Returned value</th>` : "",
    `<th colspan="2">Governing check</th>`,
    columns.checks.length > 0 ? `<th colspan="${columns.checks.length}">Checks: utilisation and verdict</th>` : "",
  ].join("");
  const names = [
    ...swept.map(inputHeader),
    ...columns.values.map((key) => `<th>${escapeHtml(key)}</th>`),
    `<th>utilisation</th><th>check</th>`,
    ...columns.checks.map((key) => `<th>${escapeHtml(key)}</th>`),
  ].join("");
  const rows = results.map((result) => {
    const values = valueFields(result.value);
    const top = governingCheck(result);
    const notOk = failedChecks(result);
    const byKey = new Map(result.checks.map((check) => [check.key, check]));
    const rowClass = [result.error !== undefined ? "failed" : "", notOk > 0 ? "checks-fail" : "", result === governing ? "governing" : ""]
      .filter(Boolean)
      .join(" ");
    const badge = result === governing ? `<span class="badge">governing</span>` : "";
    const status =
      result.error === undefined
        ? cell(notOk > 0 ? `completed, ${notOk} NOT OK` : "completed", notOk > 0 ? "fail" : "")
        : cell(`failed: ${result.error}`, "error");
    const governingCells =
      top === undefined
        ? cell("") + cell("")
        : cell(
            utilisationText(top.utilisation),
            `num util ${utilisationClass(top.utilisation)}`.trim(),
            ` style="--u: ${top.utilisation}"`,
          ) + cell(top.key);
    const checkCells = columns.checks.map((key) => {
      const check = byKey.get(key);
      if (!check) return cell("");
      const text = [utilisationText(check.utilisation), check.verdict].filter(Boolean).join(" ");
      return cell(text, check.ok ? `num ${utilisationClass(check.utilisation)}`.trim() : "num fail");
    });
    return [
      `<tr${rowClass ? ` class="${rowClass}"` : ""}><td class="case">${reportLink(result)}${badge}</td>`,
      status,
      ...swept.map((column) => cell(inputGiven(result, column))),
      ...columns.values.map((key) => cell(givenText(values[key]), typeof values[key] === "number" ? "num" : "")),
      governingCells,
      ...checkCells,
      "</tr>",
    ].join("");
  });
  const paragraphs = [
    `<p>${escapeHtml(summary(results))}.</p>`,
    governing
      ? `<p>Governing case: ${reportLink(governing)}, utilisation ${escapeHtml(utilisationText(governingCheck(governing)!.utilisation))} (${escapeHtml(governingCheck(governing)!.key)}).</p>`
      : "",
    fixed.length > 0 ? `<p>The same in every case: ${escapeHtml(fixedText)}.</p>` : "",
    ...warnings.map((warning) => `<p class="warning">Warning: ${escapeHtml(warning)}</p>`),
    `<p class="note">Each case's name opens its report. A check NOT OK is in red, a utilisation from 0.9 in amber.</p>`,
  ];
  return `${standaloneHead(`Study of ${sheetName}`, VERSION, STYLE)}
<body>
<h1>Study of ${escapeHtml(sheetName)}</h1>
${paragraphs.filter(Boolean).join("\n")}
<div class="scroll"><table>
<thead>
<tr>${groups}</tr>
<tr>${names}</tr>
</thead>
<tbody>
${rows.join("\n")}
</tbody>
</table></div>
<footer>Sheet ${escapeHtml(sheetName)} (sha256:${escapeHtml(context.sheetHash)}), cases from ${escapeHtml(path.basename(options.casesFile))}, UzonCalc ${escapeHtml(VERSION)}.</footer>
</body>
</html>
`;
}

/** `20 cases: 18 completed (3 with a check NOT OK), 2 failed`. */
function summary(results: readonly CaseResult[]): string {
  const failed = results.filter((result) => result.error !== undefined).length;
  const withFailedChecks = results.filter((result) => result.error === undefined && failedChecks(result) > 0).length;
  return (
    `${results.length} case${results.length === 1 ? "" : "s"}: ${results.length - failed} completed` +
    ` (${withFailedChecks} with a check NOT OK), ${failed} failed`
  );
}

/** `h400-M200, utilisation 1.651 (Bending resistance)`: a governing case, which has a check with a utilisation. */
function governingText(governing: CaseResult): string {
  const top = governingCheck(governing)!;
  return `${governing.studyCase.name}, utilisation ${utilisationText(top.utilisation)} (${top.key})`;
}

/**
 * Columns whose window no case got to: the sheet never asked for them. Said after the study rather than refused
 * before it: a window a sheet asks for only in some cases is not known until a case gets there.
 */
function unusedColumns(study: StudyCases, results: readonly CaseResult[]): string[] {
  const reached = [...new Set(results.flatMap((result) => result.reached))];
  // Without a case that ran to its end, a window none reached may only come later: only a likely misspelling is said.
  const someCompleted = results.some((result) => result.error === undefined);
  return study.columns.flatMap((column) => {
    if (reached.includes(column.window)) return [];
    const guess = closestName(column.window, reached);
    if (!guess && !someCompleted) return [];
    const hint = guess ? `did you mean '${guess}.${column.field}'?` : `the windows reached: ${reached.join(", ")}`;
    return [`column '${column.key}' was not used: no case reached a window '${column.window}'; ${hint}`];
  });
}

function jobsText(jobs: number): string {
  return `${jobs} job${jobs === 1 ? "" : "s"}`;
}

function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/**
 * Where the study stands, on stderr: in a terminal a bar redrawn in place (a failed case's error printed above it),
 * else one line per finished case, so a log or CI shows each case as it finished.
 */
class StudyProgress {
  private done = 0;
  private failed = 0;
  private readonly started = performance.now();
  /** In a terminal: the bar's clock, redrawn while a long case runs; undefined for line-per-case output. */
  private ticker: NodeJS.Timeout | undefined;

  constructor(
    private readonly total: number,
    private readonly jobs: number,
    private readonly err: StudyMessages,
  ) {
    if (err.isTTY !== true) return;
    this.ticker = setInterval(() => this.draw(), 1000).unref();
    this.draw();
  }

  finished(result: CaseResult): void {
    this.done++;
    if (result.error !== undefined) this.failed++;
    const line = `uzoncalc: [${this.done}/${this.total}] ${result.studyCase.name} · ${caseLine(result)} · ${Math.round(result.ms)} ms\n`;
    if (this.ticker === undefined) {
      this.err.write(line);
      return;
    }
    if (result.error !== undefined) this.err.write(`\r\x1b[2K${line}`);
    this.draw();
  }

  /** The bar is gone; what follows is written where it was. */
  clear(): void {
    if (this.ticker === undefined) return;
    clearInterval(this.ticker);
    this.ticker = undefined;
    this.err.write("\r\x1b[2K");
  }

  private draw(): void {
    const width = Math.max(10, Math.min(40, (this.err.columns || 80) - 60));
    const filled = Math.round((width * this.done) / this.total);
    const elapsed = formatSeconds(performance.now() - this.started);
    const failed = this.failed > 0 ? ` · ${this.failed} failed` : "";
    this.err.write(
      `\r\x1b[2Kuzoncalc: study [${"█".repeat(filled)}${"░".repeat(width - filled)}] ${this.done}/${this.total} cases${failed} · ${elapsed} · ${jobsText(this.jobs)}`,
    );
  }
}

/** A finished case in one line: the error, or what governs it. */
function caseLine(result: CaseResult): string {
  if (result.error !== undefined) return `failed: ${result.error}`;
  const top = governingCheck(result);
  const notOk = failedChecks(result);
  return [
    "completed",
    notOk > 0 ? `${notOk} check${notOk === 1 ? "" : "s"} NOT OK` : "",
    top ? `max utilisation ${utilisationText(top.utilisation)} (${top.key})` : "",
  ]
    .filter(Boolean)
    .join(" · ");
}
