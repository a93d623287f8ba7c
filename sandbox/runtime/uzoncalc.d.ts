// Types of the `uzoncalc` sheet runtime (SPEC §1). Sheets, the language server and the report engine build on
// these. The field value types follow SPEC §1 "Values injected": a field that can be missing (optional, no
// default) is `| null`; booleans and selectMany fields always have a value.

export type FieldType = "text" | "number" | "selectOne" | "selectMany" | "boolean" | "textarea";
export type OptionValue = string | number | boolean;
export type FieldOption = OptionValue | { readonly value: OptionValue; readonly label?: string };

export interface FieldSpec {
  /** Identifier, unique in the window: the property the sheet reads. */
  readonly name: string;
  /** Default `text`. */
  readonly type?: FieldType;
  readonly label?: string;
  readonly default?: OptionValue | readonly OptionValue[];
  readonly placeholder?: string;
  readonly help?: string;
  /** Default false. */
  readonly required?: boolean;
  /** For selectOne and selectMany: strings, or `{ value, label }`. */
  readonly options?: readonly FieldOption[];
  /** For number fields: the unit the sheet receives the value in (a user may type `300 mm` into a field in `m`). */
  readonly unit?: string;
  readonly min?: number;
  readonly max?: number;
  /** Only the control's increment. */
  readonly step?: number;
}

export interface WindowOptions<F extends readonly FieldSpec[] = readonly FieldSpec[]> {
  /** The form heading. */
  readonly title: string;
  /** Default: the slug of the title. Unique within a run. */
  readonly id?: string;
  /** Text under the heading. */
  readonly caption?: string;
  readonly fields: F;
}

/** A window built by `Window(...)`, ready for `UI(...)`. */
export interface WindowSpec<F extends readonly FieldSpec[] = readonly FieldSpec[]> extends WindowOptions<F> {
  readonly __uzoncalcWindow?: true;
}

type OptionValueOf<O> = O extends { readonly value: infer V } ? V : O;
type BaseValue<F> = F extends { readonly type: "number" }
  ? number
  : F extends { readonly type: "boolean" }
    ? boolean
    : F extends { readonly type: "selectOne"; readonly options: readonly (infer O)[] }
      ? OptionValueOf<O>
      : F extends { readonly type: "selectMany"; readonly options: readonly (infer O)[] }
        ? OptionValueOf<O>[]
        : string;
type AlwaysPresent<F> = F extends { readonly required: true }
  ? true
  : F extends { readonly default: OptionValue | readonly OptionValue[] }
    ? true
    : F extends { readonly type: "boolean" | "selectMany" }
      ? true
      : false;

/** The value a sheet receives for one field. */
export type FieldValueOf<F> = AlwaysPresent<F> extends true ? BaseValue<F> : BaseValue<F> | null;

/** The object `yield UI(window)` resumes with. */
export type ValuesOf<F extends readonly FieldSpec[]> = { -readonly [K in F[number] as K["name"]]: FieldValueOf<K> };

/** What `UI(...)` returns: yield it to pause. `yield* UI(w)` is typed by TypeScript itself. */
export interface UIRequest<V> {
  [Symbol.iterator](): Iterator<UIRequest<V>, V, unknown>;
  readonly __uzoncalcValues?: V;
}

/** Describes a form. Throws, naming every problem, if the spec is not valid (unknown type, duplicate names, ...). */
export declare function Window<const F extends readonly FieldSpec[]>(window: WindowOptions<F>): WindowSpec<F>;

/** Pauses the sheet at this form: `const g = yield UI(Window({...}))` or `const g = yield* UI(Window({...}))`. */
export declare function UI<const F extends readonly FieldSpec[]>(window: WindowSpec<F> | WindowOptions<F>): UIRequest<ValuesOf<F>>;

/** Headings and paragraphs: the text is escaped. */
export declare function h1(text: string | number): void;
export declare function h2(text: string | number): void;
export declare function h3(text: string | number): void;
export declare function p(text: string | number): void;

/** A table; cells are escaped text. */
export declare function table(
  headers: readonly (string | number)[],
  rows: readonly (readonly (string | number | boolean | null)[])[],
  caption?: string,
): void;

/** Trusted markup, written as is into the report (it is sanitised before display). */
export declare function html(markup: string): void;
