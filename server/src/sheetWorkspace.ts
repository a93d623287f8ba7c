// The checker: one TypeScript LanguageService over every open sheet, shared by the language server and
// `uzoncalc check`. Everything it answers is in source offsets of the sheet as written.
import * as ts from "typescript";
import { CheckCancelledError, compareDiagnostics, type CancellationSignal, type SheetDiagnostic, type TypeCheckMode } from "./diagnostic";
import { completionSiteAt, describeField, fieldDetail, fieldUseAt } from "./fieldFeatures";
import { FormTypes } from "./formTypes";
import { dimensionAt, dimensionFindings } from "./dimensions";
import { innermostNodeAt } from "./sheetSyntax";
import { createRuntimeModule } from "./runtimeModule";
import { createSheetHost } from "./sheetHost";
import { SheetFiles } from "./sheetFiles";
import { isSheetFile } from "./sheetSyntax";
import { convertTypeDiagnostics } from "./typeDiagnostics";
import type { TypeScriptLibs } from "./typescriptLibs";
import type { SpecFinding } from "./windowSpecCheck";

export interface FieldHover {
  start: number;
  end: number;
  markdown: string;
}

export interface FieldCompletion {
  name: string;
  detail: string;
  documentation: string;
}

export interface FieldDefinition {
  /** The field name at the use. */
  originStart: number;
  originEnd: number;
  fileName: string;
  /** The field's spec literal `{ name: "span", … }`. */
  specStart: number;
  specEnd: number;
  /** The name's string literal in it. */
  nameStart: number;
  nameEnd: number;
}

/** Time spent in a check's own work (not its waits), for the bench. */
export interface CheckTiming {
  fileName: string;
  ms: number;
  cpuMs: number;
}

/** A span of the sheet as written, in UTF-16 offsets. */
export interface SourceSpan {
  start: number;
  end: number;
}

export interface SheetCheck {
  /** Found over the whole sheet whatever was asked, being cheap: window specs, and syntax errors in `all` mode. */
  sheetWide: SheetDiagnostic[];
  /** The checker's and the unit check's. */
  found: SheetDiagnostic[];
}

export interface RegionCheck extends SheetCheck {
  /** What `found` covers: the statements overlapping the asked ranges. */
  spans: SourceSpan[];
}

export function allFindings(check: SheetCheck): SheetDiagnostic[] {
  return [...check.sheetWide, ...check.found].sort(compareDiagnostics);
}

export interface SheetWorkspaceOptions {
  libs: TypeScriptLibs;
  currentDirectory?: string;
}

export class SheetWorkspace {
  readonly files: SheetFiles;
  private readonly roots = new Set<string>();
  private readonly service: ts.LanguageService;
  private signal: CancellationSignal | undefined;
  /** The last whole check's and the last region check's own work, for the bench. */
  readonly lastChecks: { whole?: CheckTiming; region?: CheckTiming } = {};

  constructor(options: SheetWorkspaceOptions) {
    this.files = new SheetFiles(options.libs, createRuntimeModule(options.libs.dir));
    const host = createSheetHost({
      files: this.files,
      roots: () => [...this.roots],
      currentDirectory: options.currentDirectory ?? process.cwd(),
      signal: () => this.signal,
    });
    this.service = ts.createLanguageService(host, ts.createDocumentRegistry(ts.sys.useCaseSensitiveFileNames, host.getCurrentDirectory()));
  }

  /** Opens or updates a sheet; only sheets are roots (other files come in through imports). */
  setDocument(fileName: string, text: string, version: number): void {
    if (!isSheetFile(fileName)) return;
    this.files.setOpen(fileName, text, version);
    this.roots.add(fileName);
  }

  closeDocument(fileName: string): void {
    this.files.closeOpen(fileName);
    this.roots.delete(fileName);
    this.files.forget(fileName);
  }

  /** Parses and checks a small sheet so TypeScript's lib files are parsed and its checker warm before the first edit. */
  warmUp(): number {
    const started = performance.now();
    const fileName = `${this.files.libs.dir}/uzoncalc/warm-up.calc.ts`;
    this.setDocument(fileName, WARM_UP_SHEET, 1);
    try {
      this.service.getSemanticDiagnostics(fileName);
    } finally {
      this.closeDocument(fileName);
    }
    return performance.now() - started;
  }

  /**
   * With a signal, yields to the event loop before each phase (reading the sheet; type checking), so a
   * cancellation or a newer edit can arrive, and stops with CheckCancelledError once the caller has given up.
   * Each phase itself is synchronous: a program, its checker and the nodes of both trees are only valid until
   * the next sync, which another request could trigger during an await.
   */
  async diagnostics(fileName: string, mode: TypeCheckMode, signal?: CancellationSignal): Promise<SheetDiagnostic[]> {
    return allFindings(await this.checkWhole(fileName, mode, signal));
  }

  /** The whole sheet checked, the sheet-wide findings apart from the checker's (a region check replaces only those). */
  async checkWhole(fileName: string, mode: TypeCheckMode, signal?: CancellationSignal): Promise<SheetCheck> {
    return (await this.check(fileName, mode, signal, undefined)) ?? { sheetWide: [], found: [] };
  }

  /**
   * What TypeScript and the unit check find in the statements that overlap `ranges` (source offsets: what the
   * editor shows, and the edit), without checking the rest of the sheet. On a long sheet that is a fraction of the
   * whole check; tsserver answers a long file's visible part first the same way. The sheet-wide findings are still
   * the whole sheet's. Undefined when a region check would not be cheaper: this version of the sheet is already
   * checked, or TypeScript found no statements to narrow the ranges to.
   */
  async checkRegion(
    fileName: string,
    mode: TypeCheckMode,
    ranges: readonly SourceSpan[],
    signal?: CancellationSignal,
  ): Promise<RegionCheck | undefined> {
    if (mode === "off" || ranges.length === 0) return undefined;
    const result = await this.check(fileName, mode, signal, ranges);
    return result?.spans ? { ...result, spans: result.spans } : undefined;
  }

  private async check(
    fileName: string,
    mode: TypeCheckMode,
    signal: CancellationSignal | undefined,
    ranges: readonly SourceSpan[] | undefined,
  ): Promise<(SheetCheck & { spans?: SourceSpan[] }) | undefined> {
    if (!isSheetFile(fileName)) return undefined;
    await checkpoint(signal);
    const timer = startTimer();
    const early = this.files.state(fileName);
    if (!early) return undefined;
    if (mode === "off") {
      this.lastChecks.whole = timer.stop(fileName);
      return { sheetWide: stripOwners(early.specFindings()), found: [] };
    }
    early.specFindings();
    timer.pause();
    await checkpoint(signal);
    timer.resume();
    this.signal = signal;
    try {
      const program = this.service.getProgram();
      const state = this.files.state(fileName);
      const sourceFile = program?.getSourceFile(fileName);
      if (!program || !state || !sourceFile) return state ? { sheetWide: stripOwners(state.specFindings()), found: [] } : undefined;
      const map = state.virtual.map;
      const region =
        ranges &&
        regionCheck(
          this.service,
          fileName,
          withinStatements(ranges, state.sourceFile).map((range) => ({
            pos: map.toGenerated(range.start),
            end: map.toGenerated(range.end),
          })),
        );
      if (ranges && !region) return undefined;
      const syntactic = mode === "all" ? this.service.getSyntacticDiagnostics(fileName) : [];
      const semantic = region ? region.diagnostics : this.service.getSemanticDiagnostics(fileName);
      const checker = program.getTypeChecker();
      const forms = new FormTypes(checker, this.files.runtime.runtimeFile);
      const context = { checker, sourceFile, map, forms, mode };
      const specFindings = state.specFindings();
      const owners = specFindings.map((finding) => ({ start: finding.owner.getStart(state.sourceFile), end: finding.owner.end }));
      // A spec our own check already explains: TypeScript's type errors inside it say the same thing worse.
      const unexplained = (finding: SheetDiagnostic) =>
        finding.code.startsWith("UZC") || !owners.some((owner) => owner.start <= finding.start && finding.end <= owner.end);
      const result = {
        sheetWide: [...stripOwners(specFindings), ...convertTypeDiagnostics(syntactic, context).filter(unexplained)],
        found: [
          ...convertTypeDiagnostics(semantic, context).filter(unexplained),
          ...dimensionFindings(sourceFile, checker, forms, map, region?.spans),
        ],
      };
      this.lastChecks[region ? "region" : "whole"] = timer.stop(fileName);
      if (!region) return result;
      const spans = region.spans.map(({ start, length }) => ({
        start: map.toSource(start) ?? start,
        end: map.toSource(start + length) ?? start + length,
      }));
      return { ...result, spans };
    } catch (error) {
      if (error instanceof ts.OperationCanceledException) throw new CheckCancelledError();
      throw error;
    } finally {
      this.signal = undefined;
    }
  }

  hover(fileName: string, offset: number): FieldHover | undefined {
    const at = this.at(fileName, offset);
    if (!at) return undefined;
    const use = fieldUseAt(at.sourceFile, at.offset, at.forms);
    if (!use) return this.dimensionHover(at);
    const typeText = at.checker.typeToString(at.checker.getTypeAtLocation(use.node));
    const range = at.map.rangeToSource(use.node.getStart(at.sourceFile), use.node.end);
    return range ? { ...range, markdown: describeField(use, typeText) } : undefined;
  }

  /** A quantity's dimension and display unit, over a name or an expression built from `uzoncalc/units`. */
  private dimensionHover(at: NonNullable<ReturnType<SheetWorkspace["at"]>>): FieldHover | undefined {
    const name = innermostNodeAt(at.sourceFile, at.offset);
    if (!ts.isIdentifier(name)) return undefined;
    // The name a declaration introduces reads as its initializer.
    const declared = ts.isVariableDeclaration(name.parent) && name.parent.name === name ? name.parent.initializer : undefined;
    const found = dimensionAt(at.sourceFile, at.checker, at.forms, declared ?? name);
    const range = found && at.map.rangeToSource(name.getStart(at.sourceFile), name.end);
    return found && range ? { ...range, markdown: `**${found.dims}**, shown in ${found.unit}` } : undefined;
  }

  completions(fileName: string, offset: number): FieldCompletion[] | undefined {
    const at = this.at(fileName, offset);
    if (!at) return undefined;
    const site = completionSiteAt(at.sourceFile, at.offset, at.forms);
    if (!site) return undefined;
    return site.form.fields
      .filter((field) => !site.taken.has(field.name))
      .map((field) => {
        const property = at.checker.getPropertyOfType(site.form.type, field.name);
        const typeText = property ? at.checker.typeToString(at.checker.getTypeOfSymbol(property)) : "unknown";
        return {
          name: field.name,
          detail: fieldDetail(field, typeText),
          documentation: describeField({ form: site.form, field }, typeText),
        };
      });
  }

  definition(fileName: string, offset: number): FieldDefinition | undefined {
    const at = this.at(fileName, offset);
    if (!at) return undefined;
    const use = fieldUseAt(at.sourceFile, at.offset, at.forms);
    const spec = use?.field.spec;
    const name = spec?.attributes.get("name");
    if (!use || !spec || !name) return undefined;
    const origin = at.map.rangeToSource(use.node.getStart(at.sourceFile), use.node.end);
    const target = spec.node.getSourceFile();
    const targetMap = this.files.mapOf(target.fileName);
    const specRange = targetMap.rangeToSource(spec.node.getStart(target), spec.node.end);
    const nameRange = targetMap.rangeToSource(name.valueNode.getStart(target), name.valueNode.end);
    if (!origin || !specRange || !nameRange) return undefined;
    return {
      originStart: origin.start,
      originEnd: origin.end,
      fileName: target.fileName,
      specStart: specRange.start,
      specEnd: specRange.end,
      nameStart: nameRange.start,
      nameEnd: nameRange.end,
    };
  }

  /** The text TypeScript checks for a sheet: for the golden test and for debugging. */
  virtualText(fileName: string): string | undefined {
    return this.files.state(fileName)?.virtual.text;
  }

  private at(fileName: string, offset: number) {
    if (!isSheetFile(fileName) || !this.roots.has(fileName)) return undefined;
    const program = this.service.getProgram();
    const state = this.files.state(fileName);
    const sourceFile = program?.getSourceFile(fileName);
    if (!program || !state || !sourceFile) return undefined;
    const checker = program.getTypeChecker();
    return {
      sourceFile,
      checker,
      map: state.virtual.map,
      offset: state.virtual.map.toGenerated(offset),
      forms: new FormTypes(checker, this.files.runtime.runtimeFile),
    };
  }
}

function startTimer() {
  let ms = 0;
  let cpuMs = 0;
  let wall = performance.now();
  let cpu = process.cpuUsage();
  return {
    pause() {
      const used = process.cpuUsage(cpu);
      ms += performance.now() - wall;
      cpuMs += (used.user + used.system) / 1000;
    },
    resume() {
      wall = performance.now();
      cpu = process.cpuUsage();
    },
    stop(fileName: string): CheckTiming {
      this.pause();
      return { fileName, ms, cpuMs };
    },
  };
}

/**
 * TypeScript's region check (what tsserver answers a long file's visible part with first). It is not in the
 * public declarations, so it is reached through this one typed probe; typescript is pinned, and the language
 * server's tests fail if it goes away.
 */
interface RegionCapable {
  getRegionSemanticDiagnostics?(
    fileName: string,
    ranges: ts.TextRange[],
  ): { diagnostics: ts.Diagnostic[]; spans: ts.TextSpan[] } | undefined;
}

function regionCheck(service: ts.LanguageService, fileName: string, ranges: ts.TextRange[]) {
  const region = (service as ts.LanguageService & RegionCapable).getRegionSemanticDiagnostics?.(fileName, ranges);
  return region && region.spans.length > 0 ? region : undefined;
}

/**
 * Each range cut at the sheet's top-level statements, and within a function at its body's statements. TypeScript
 * checks the statements of the innermost node that holds a whole range: a range that runs past the sheet
 * function's end (an edit near it) or takes in its first line (the top of the sheet shown) is held only by the
 * function or the file, and the whole function would be checked.
 */
function withinStatements(ranges: readonly SourceSpan[], sourceFile: ts.SourceFile): SourceSpan[] {
  const blocks = sourceFile.statements.map((statement) => {
    const body = ts.isFunctionDeclaration(statement) ? statement.body?.statements : undefined;
    return body && body.length > 0
      ? { start: body[0]!.getStart(sourceFile), end: body[body.length - 1]!.end }
      : { start: statement.getStart(sourceFile), end: statement.end };
  });
  const cut: SourceSpan[] = [];
  for (const range of ranges)
    for (const block of blocks) {
      const start = Math.max(range.start, block.start);
      const end = Math.min(range.end, block.end);
      if (start < end) cut.push({ start, end });
    }
  return cut;
}

async function checkpoint(signal: CancellationSignal | undefined): Promise<void> {
  if (!signal) return;
  await new Promise<void>((resolve) => setImmediate(resolve));
  if (signal.isCancellationRequested) throw new CheckCancelledError();
}

function stripOwners(findings: readonly SpecFinding[]): SheetDiagnostic[] {
  return findings.map(({ owner: _owner, ...diagnostic }) => diagnostic);
}

const WARM_UP_SHEET = `import { UI, Window, p } from "uzoncalc";
export async function* sheet() {
  const g = yield UI(Window({ title: "Warm up", fields: [
    { name: "span", type: "number", unit: "m", default: 6, min: 0, max: 40, required: true },
    { name: "grade", type: "selectOne", options: ["a", "b"], default: "a" },
  ] }));
  const area: number = g.span * 2;
  p(\`\${area} \${g.grade.toUpperCase()} \${[1, 2].map((x) => x * 2).join(",")}\`);
}
`;
