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

/** Time spent in the last diagnostics call's own work (not its waits), for the bench. */
export interface CheckTiming {
  fileName: string;
  ms: number;
  cpuMs: number;
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
  lastCheck: CheckTiming | undefined;

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
    if (!isSheetFile(fileName)) return [];
    await checkpoint(signal);
    const timer = startTimer();
    const early = this.files.state(fileName);
    if (!early) return [];
    if (mode === "off") {
      const findings = stripOwners(early.specFindings()).sort(compareDiagnostics);
      this.lastCheck = timer.stop(fileName);
      return findings;
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
      if (!program || !state || !sourceFile) return state ? stripOwners(state.specFindings()).sort(compareDiagnostics) : [];
      const syntactic = mode === "all" ? this.service.getSyntacticDiagnostics(fileName) : [];
      const semantic = this.service.getSemanticDiagnostics(fileName);
      const checker = program.getTypeChecker();
      const forms = new FormTypes(checker, this.files.runtime.runtimeFile);
      const typeFindings = convertTypeDiagnostics([...syntactic, ...semantic], {
        checker,
        sourceFile,
        map: state.virtual.map,
        forms,
        mode,
      });
      const unitFindings = dimensionFindings(sourceFile, checker, forms, state.virtual.map);
      const specFindings = state.specFindings();
      const owners = specFindings.map((finding) => ({ start: finding.owner.getStart(state.sourceFile), end: finding.owner.end }));
      // A spec our own check already explains: TypeScript's type errors inside it say the same thing worse.
      const kept = typeFindings.filter(
        (finding) => finding.code.startsWith("UZC") || !owners.some((owner) => owner.start <= finding.start && finding.end <= owner.end),
      );
      const result = [...stripOwners(specFindings), ...kept, ...unitFindings].sort(compareDiagnostics);
      this.lastCheck = timer.stop(fileName);
      return result;
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
