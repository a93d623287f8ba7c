// What the instrumentation needs to know about a sheet module before it touches a statement: which functions
// are sheet functions, which names are the `uzoncalc` runtime's (output calls render nothing themselves), and
// whether the sheet opted out with `export const render = false`.
//
// Sheet functions are the module's exported async generator functions (any of them can be the entry, by
// `func_name`). Functions they call are not rendered: helpers compute, sheets report.

import type * as acorn from "acorn";
import * as walk from "acorn-walk";

export type FunctionNode = acorn.FunctionDeclaration | acorn.FunctionExpression | acorn.AnonymousFunctionDeclaration;

export interface SheetScope {
  sheetFunctions: FunctionNode[];
  /** Local functions whose JSDoc says `@render`: they show their working under each call (see renderHelperNames). */
  renderHelpers: RenderHelper[];
  renderOff: boolean;
  /** Local name → exported name, for `import { p as para } from "uzoncalc"`. */
  runtimeNames: Map<string, string>;
  /** `import * as uz from "uzoncalc"`. */
  runtimeNamespaces: Set<string>;
}

function isAsyncGenerator(node: acorn.Node | null | undefined): node is FunctionNode {
  if (!node || (node.type !== "FunctionDeclaration" && node.type !== "FunctionExpression")) return false;
  const fn = node as FunctionNode;
  return fn.async && fn.generator;
}

function isFalse(node: acorn.Node | null | undefined): boolean {
  return !!node && node.type === "Literal" && (node as acorn.Literal).value === false;
}

/**
 * The local functions a sheet marks `@render` in their JSDoc (`/** … @render *\/ function moment(w, L) {…}`), read
 * from the source as written: the bundler's output has no comments left to read them from.
 */
export function renderHelperNames(source: string): Map<string, RenderMode> {
  const names = new Map<string, RenderMode>();
  for (const match of source.matchAll(
    /\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*(?:export\s+)?(?:async\s+)?function\s*\*?\s*([A-Za-z_$][\w$]*)/g,
  )) {
    const tag = /(?:^|\s|\*)@render\b(\s+table\b)?/.exec(match[1]!);
    if (tag) names.set(match[2]!, tag[1] ? "table" : "lines");
  }
  return names;
}

/** How a `@render` helper shows its working: line by line, or its loops as tables of their iterations (`@render table`). */
export type RenderMode = "lines" | "table";

export interface RenderHelper {
  fn: FunctionNode;
  mode: RenderMode;
}

export function readSheetScope(program: acorn.Program, renderNames: ReadonlyMap<string, RenderMode> = new Map()): SheetScope {
  const runtimeNames = new Map<string, string>();
  const runtimeNamespaces = new Set<string>();
  const topFunctions = new Map<string, FunctionNode>();
  const topConstants = new Map<string, acorn.Expression | null | undefined>();
  const exported = new Set<string>();
  const sheetFunctions = new Set<FunctionNode>();
  let renderOff = false;

  /** Every top-level function declaration, generator or not: a `@render` helper is one of them. */
  const helperDeclarations = new Map<string, FunctionNode>();
  const declare = (statement: acorn.Node) => {
    if (statement.type === "FunctionDeclaration") {
      const fn = statement as acorn.FunctionDeclaration;
      topFunctions.set(fn.id.name, fn);
      helperDeclarations.set(fn.id.name, fn);
    } else if (statement.type === "VariableDeclaration") {
      for (const declarator of (statement as acorn.VariableDeclaration).declarations) {
        if (declarator.id.type !== "Identifier") continue;
        topConstants.set(declarator.id.name, declarator.init);
        if (isAsyncGenerator(declarator.init)) topFunctions.set(declarator.id.name, declarator.init);
      }
    }
  };

  for (const statement of program.body) {
    switch (statement.type) {
      case "ImportDeclaration":
        if (statement.source.value !== "uzoncalc") break;
        for (const specifier of statement.specifiers) {
          if (specifier.type === "ImportSpecifier") {
            const imported = specifier.imported.type === "Identifier" ? specifier.imported.name : String(specifier.imported.value);
            runtimeNames.set(specifier.local.name, imported);
          } else if (specifier.type === "ImportNamespaceSpecifier") {
            runtimeNamespaces.add(specifier.local.name);
          }
        }
        break;
      case "ExportNamedDeclaration":
        if (statement.declaration) {
          declare(statement.declaration);
          if (statement.declaration.type === "FunctionDeclaration") exported.add(statement.declaration.id.name);
          if (statement.declaration.type === "VariableDeclaration") {
            for (const declarator of statement.declaration.declarations)
              if (declarator.id.type === "Identifier") exported.add(declarator.id.name);
          }
        } else if (!statement.source) {
          for (const specifier of statement.specifiers) {
            if (specifier.local.type !== "Identifier") continue;
            const exportedAs = specifier.exported.type === "Identifier" ? specifier.exported.name : String(specifier.exported.value);
            exported.add(specifier.local.name);
            if (exportedAs === "render" && specifier.local.name !== "render") renderOff ||= isFalse(topConstants.get(specifier.local.name));
          }
        }
        break;
      case "ExportDefaultDeclaration":
        if (isAsyncGenerator(statement.declaration)) sheetFunctions.add(statement.declaration);
        else if (statement.declaration.type === "Identifier") exported.add(statement.declaration.name);
        break;
      default:
        declare(statement);
    }
  }
  for (const name of exported) {
    const fn = topFunctions.get(name);
    if (fn && isAsyncGenerator(fn)) sheetFunctions.add(fn);
  }
  if (exported.has("render") && isFalse(topConstants.get("render"))) renderOff = true;
  const renderHelpers = [...renderNames].flatMap(([name, mode]): RenderHelper[] => {
    const fn = topFunctions.get(name) ?? helperDeclarations.get(name);
    return fn && !sheetFunctions.has(fn) ? [{ fn, mode }] : [];
  });
  return { sheetFunctions: [...sheetFunctions], renderHelpers, renderOff, runtimeNames, runtimeNamespaces };
}

/**
 * Names whose members are the sheet's inputs: what the sheet functions bind a window's values to
 * (`const g = yield UI(...)`, or `yield*`) and their parameters objects (`params` in `sheet(params = {})`). By
 * name, not by scope: a name reused for something else in the same sheet reads as an input there too, which only
 * changes how it is printed.
 */
export function inputObjectNames(scope: SheetScope): Set<string> {
  const names = new Set<string>();
  for (const fn of scope.sheetFunctions) {
    const first = fn.params[0];
    const param = first?.type === "AssignmentPattern" ? first.left : first;
    if (param?.type === "Identifier") names.add(param.name);
    walk.simple(fn.body, {
      VariableDeclarator(declarator) {
        const init = declarator.init;
        if (declarator.id.type !== "Identifier" || init?.type !== "YieldExpression" || init.argument?.type !== "CallExpression") return;
        if (runtimeCallee(scope, init.argument) === "UI") names.add(declarator.id.name);
      },
    });
  }
  return names;
}

/** The `uzoncalc` export a call goes to (`p(...)`, `uz.p(...)`), if it does. */
export function runtimeCallee(scope: SheetScope, call: acorn.CallExpression): string | undefined {
  const callee = call.callee;
  if (callee.type === "Identifier") return scope.runtimeNames.get(callee.name);
  if (
    callee.type === "MemberExpression" &&
    !callee.computed &&
    callee.object.type === "Identifier" &&
    scope.runtimeNamespaces.has(callee.object.name) &&
    callee.property.type === "Identifier"
  ) {
    return callee.property.name;
  }
  return undefined;
}
