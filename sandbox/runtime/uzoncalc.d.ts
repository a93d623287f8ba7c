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

// ---- the calculation report ----------------------------------------------------------------------------
// In a sheet function, every assignment, bare string or template and bare expression also renders into the
// report (formula = substitution = value); `export const render = false` turns that off for the whole sheet.

/**
 * A design check: ✓ or ✗, the label, and (in a rendered sheet) the condition as formula ⇒ substitution ⇒
 * values, with the utilisation for `demand <= capacity`. Returns the condition.
 */
export declare function check(condition: boolean, label?: string): boolean;

/** Stops rendering assignments, bare strings and bare expressions until `show()`. Output calls still write. */
export declare function hide(): void;

/** Renders assignments, bare strings and bare expressions again after `hide()`. */
export declare function show(): void;

/** An axis of a figure: its label and, for quantities, the unit it reads them in (`"kN*m"`). */
export interface PlotAxis {
  readonly label: string;
  readonly unit?: string;
}

export interface PlotSeries {
  readonly name: string;
  /** [x, y] pairs: numbers, or quantities (read in the axis' unit). */
  readonly points: ReadonlyArray<readonly [number, number]>;
  /** Default `line`. */
  readonly type?: "line" | "scatter" | "bar";
}

export interface PlotSpec {
  readonly title?: string;
  /** Under the figure, after its number; the title when there is none. */
  readonly caption?: string;
  readonly x: PlotAxis;
  readonly y: PlotAxis;
  /** Up to 12 series, 5000 points each. */
  readonly series: ReadonlyArray<PlotSeries>;
}

/**
 * A numbered figure: the sheet describes the chart, and UzonCalc draws it as SVG into the report (no script, no
 * external resource: it prints, and reads in light and dark themes).
 */
export declare function plot(spec: PlotSpec): void;

/** A note set apart from the calculation (assumptions, references). The text is escaped. */
export declare function note(text: string | number): void;

export interface TitleBlockInfo {
  /** Becomes the document's title (its h1). */
  readonly title?: string;
  readonly project?: string;
  readonly subject?: string;
  readonly client?: string;
  readonly reference?: string;
  readonly revision?: string | number;
  /** Shown as "Prepared by". */
  readonly author?: string;
  /** Shown as "Checked by". */
  readonly checker?: string;
  /** Shown as "Approved by". */
  readonly approver?: string;
  readonly date?: string;
  /** Any other field is shown under its own name. */
  readonly [field: string]: string | number | undefined;
}

/** The title block at the head of the report: the title, then a table of the fields given. */
export declare function titleBlock(info: TitleBlockInfo): void;

export interface NumberFormatOptions {
  /** Decimals shown (default 3); below 1 in magnitude, significant digits instead. */
  readonly decimals?: number;
  /** Magnitudes from here up in scientific notation (default 1e6; Infinity: never). */
  readonly sciAbove?: number;
  /** Non-zero magnitudes below this in scientific notation (default 1e-4; 0: never). */
  readonly sciBelow?: number;
  /** Thousands separator (default none), e.g. " " or ",". */
  readonly thousands?: string;
  /** Decimal separator (default "."). */
  readonly decimal?: string;
}

/**
 * How numbers read in the report from here on: `format({ decimals: 2 })` for every value, or
 * `format({ decimals: 1 }, "sigma", "tau")` for the values of those variables only.
 */
export declare function format(options: NumberFormatOptions, ...names: string[]): void;

// ---- units ("uzoncalc/units") ----------------------------------------------------------------------------

/**
 * A number with a unit (`300 * mm`, `unit("kN*m")`). Typed as a branded number so that `b * h`, `F / A`,
 * `Math.sqrt(A)` and comparisons type-check: in the sheet module they keep and check units at run time.
 * Passed to code outside the sheet module that does arithmetic, a quantity throws instead of losing its unit.
 */
export type Quantity = number & { readonly __uzoncalcQuantity: true };

declare global {
  interface Number {
    /** On a quantity: the same quantity shown in `unit` (`M.to("kN*m")`, `sigma.to("MPa")`); throws for another kind. */
    to(unit: string): Quantity;
    /** On a quantity: its magnitude in `unit`, as a plain number (`b.in("mm")`). */
    in(unit: string): number;
  }
}
