// Window results as TypeScript types. `yield* UI(w)` has the type `ValuesOf<F>` (runtime .d.ts), where F is the
// inferred tuple of field spec literals; TypeScript keeps that alias on the type wherever the value flows (aliases,
// parameters typed `typeof g`), so the alias identifies a window result, and F leads back to each field's literal.
import * as ts from "typescript";
import { VALUES_ALIAS } from "./runtimeModule";
import { skipOuterExpressions } from "./sheetSyntax";
import { readObjectSite, staticWindowId, windowSpecOfField, knownString, type ObjectSite } from "./windowSpecs";

export interface FormField {
  name: string;
  /** The field spec literal; absent when F came from somewhere without one (a declared type). */
  spec: ObjectSite | undefined;
}

export interface FormInfo {
  type: ts.Type;
  fields: FormField[];
  /** The window options literal, when the field list sits inside it. */
  window: ObjectSite | undefined;
  /** The run-time window id, when static. */
  windowId: string | undefined;
  windowTitle: string | undefined;
}

export class FormTypes {
  private readonly cache = new Map<ts.Type, FormInfo | null>();

  constructor(
    private readonly checker: ts.TypeChecker,
    private readonly runtimeFile: string,
  ) {}

  /** The window result a type is, or one member of a union is (`g | undefined`). */
  formOf(type: ts.Type): FormInfo | undefined {
    const cached = this.cache.get(type);
    if (cached !== undefined) return cached ?? undefined;
    let info: FormInfo | undefined;
    if (this.isValuesAlias(type)) info = this.describe(type);
    else if (type.isUnion()) {
      for (const member of type.types) {
        info = this.formOf(member);
        if (info) break;
      }
    }
    this.cache.set(type, info ?? null);
    return info;
  }

  /**
   * The window result at a node. When the field list was declared apart from its window (so the type does not
   * lead to a title), a variable initialised straight from `yield UI(Window({ title, fields }))` names the window.
   */
  formAt(node: ts.Node): FormInfo | undefined {
    const form = this.formOf(this.checker.getTypeAtLocation(node));
    if (!form || form.window) return form;
    const window = this.windowOfVariable(node);
    if (!window) return form;
    return { ...form, window, windowId: staticWindowId(window), windowTitle: knownString(window.attributes.get("title")) };
  }

  private windowOfVariable(node: ts.Node): ObjectSite | undefined {
    if (!ts.isIdentifier(node)) return undefined;
    const declaration = this.checker.getSymbolAtLocation(node)?.valueDeclaration;
    if (!declaration || !ts.isVariableDeclaration(declaration) || !declaration.initializer) return undefined;
    const pause = skipOuterExpressions(declaration.initializer);
    if (!ts.isYieldExpression(pause) || !pause.expression) return undefined;
    const ui = skipOuterExpressions(pause.expression);
    if (!ts.isCallExpression(ui) || ui.arguments.length === 0) return undefined;
    let spec = skipOuterExpressions(ui.arguments[0]!);
    if (ts.isCallExpression(spec) && spec.arguments.length > 0) spec = skipOuterExpressions(spec.arguments[0]!);
    if (!ts.isObjectLiteralExpression(spec)) return undefined;
    const site = readObjectSite(spec);
    return site.attributes.has("fields") ? site : undefined;
  }

  private isValuesAlias(type: ts.Type): boolean {
    const alias = type.aliasSymbol;
    if (!alias || alias.name !== VALUES_ALIAS) return false;
    return alias.declarations?.some((declaration) => declaration.getSourceFile().fileName === this.runtimeFile) ?? false;
  }

  private describe(type: ts.Type): FormInfo {
    const fields: FormField[] = [];
    let window: ObjectSite | undefined;
    for (const element of this.fieldSpecTypes(type)) {
      const nameProperty = this.checker.getPropertyOfType(element, "name");
      const nameType = nameProperty ? this.checker.getTypeOfSymbol(nameProperty) : undefined;
      if (!nameType || !nameType.isStringLiteral()) continue;
      const literal = element.symbol?.declarations?.find(ts.isObjectLiteralExpression);
      fields.push({ name: nameType.value, spec: literal ? readObjectSite(literal) : undefined });
      if (!window && literal) {
        const options = windowSpecOfField(literal);
        if (options) window = readObjectSite(options);
      }
    }
    const windowTitle = window ? knownString(window.attributes.get("title")) : undefined;
    const windowId = window ? staticWindowId(window) : undefined;
    return { type, fields, window, windowId, windowTitle };
  }

  private fieldSpecTypes(type: ts.Type): readonly ts.Type[] {
    const list = type.aliasTypeArguments?.[0];
    if (!list) return [];
    if (this.checker.isTupleType(list)) return this.checker.getTypeArguments(list as ts.TypeReference);
    if (this.checker.isArrayType(list)) {
      const element = this.checker.getTypeArguments(list as ts.TypeReference)[0];
      if (!element) return [];
      return element.isUnion() ? element.types : [element];
    }
    return [];
  }
}

/** What a destructuring pattern takes apart: the initializer of its declaration, or its parameter's type. */
export function destructuredNode(pattern: ts.ObjectBindingPattern): ts.Node | undefined {
  const parent = pattern.parent;
  if (ts.isVariableDeclaration(parent)) {
    if (parent.initializer) return parent.initializer;
    // `for (const { span } of forms)`: no initializer; the pattern's own type is the element type.
    return pattern;
  }
  if (ts.isParameter(parent)) return parent;
  return undefined;
}

export function fieldNames(form: FormInfo): string[] {
  return form.fields.map((field) => field.name);
}
