// A figure as a sheet describes it (SPEC §1 `plot()`): axes with labels and units, series of [x, y] points. The sheet
// only describes the chart; trusted code draws it (sandbox/session/plots.ts, as SVG), so the one rule set below
// serves both sides: the realm checks what the sheet gave and writes the figure's description into the report,
// and the host checks that description again before drawing it (what comes out of a realm is untrusted).

import { isRecord } from "./json";

export const PLOT_SERIES_TYPES = ["line", "scatter", "bar"] as const;
export type PlotSeriesType = (typeof PLOT_SERIES_TYPES)[number];

export interface PlotAxis {
  label: string;
  unit?: string;
}

export interface PlotSeries {
  name: string;
  type: PlotSeriesType;
  points: [number, number][];
}

export interface PlotSpec {
  title?: string;
  caption?: string;
  x: PlotAxis;
  y: PlotAxis;
  series: PlotSeries[];
}

/** Past these a chart is no longer read by a person, and a report would carry megabytes of SVG. */
export const PLOT_LIMITS = { series: 12, pointsPerSeries: 5000, points: 20000, text: 200 } as const;

export type PlotCheck = { ok: true; spec: PlotSpec } | { ok: false; message: string };

/**
 * Checks a plot description and returns it in canonical form. `number(value, axis)` turns a point's coordinate
 * into a plain number in the axis' unit: in the realm it converts a quantity (and throws its unit error); on the
 * host, where only plain numbers arrive, it is the identity.
 */
export function normalizePlot(raw: unknown, number: (value: unknown, axis: "x" | "y", unit: string | undefined) => unknown): PlotCheck {
  const fail = (message: string): PlotCheck => ({ ok: false, message: `plot(): ${message}` });
  if (!isRecord(raw)) return fail("give { x: { label }, y: { label }, series: [{ name, points: [[x, y], …] }] }.");
  const text = (value: unknown, what: string, required: boolean): string | undefined | Error => {
    if (value === undefined || value === null) return required ? new Error(`${what} is required (a text).`) : undefined;
    if (typeof value !== "string") return new Error(`${what} must be a text.`);
    if (value.length > PLOT_LIMITS.text) return new Error(`${what} must be at most ${PLOT_LIMITS.text} characters.`);
    return value;
  };
  const axis = (value: unknown, name: "x" | "y"): PlotAxis | Error => {
    if (!isRecord(value)) return new Error(`\`${name}\` must be { label, unit? }.`);
    const label = text(value.label, `${name}.label`, true);
    if (label instanceof Error) return label;
    const unit = text(value.unit, `${name}.unit`, false);
    if (unit instanceof Error) return unit;
    return unit === undefined ? { label: label! } : { label: label!, unit };
  };
  const title = text(raw.title, "`title`", false);
  if (title instanceof Error) return fail(title.message);
  const caption = text(raw.caption, "`caption`", false);
  if (caption instanceof Error) return fail(caption.message);
  const x = axis(raw.x, "x");
  if (x instanceof Error) return fail(x.message);
  const y = axis(raw.y, "y");
  if (y instanceof Error) return fail(y.message);
  if (!Array.isArray(raw.series) || raw.series.length === 0) return fail("`series` must be a non-empty array of { name, points }.");
  if (raw.series.length > PLOT_LIMITS.series) return fail(`at most ${PLOT_LIMITS.series} series, got ${raw.series.length}.`);
  const series: PlotSeries[] = [];
  let total = 0;
  for (let i = 0; i < raw.series.length; i++) {
    const entry: unknown = raw.series[i];
    const where = `series ${i + 1}`;
    if (!isRecord(entry)) return fail(`${where} must be { name, points, type? }.`);
    const name = text(entry.name, `${where}: \`name\``, true);
    if (name instanceof Error) return fail(name.message);
    const type = entry.type ?? "line";
    if (typeof type !== "string" || !(PLOT_SERIES_TYPES as readonly string[]).includes(type))
      return fail(`${where}: \`type\` must be one of ${PLOT_SERIES_TYPES.join(", ")}.`);
    if (!Array.isArray(entry.points)) return fail(`${where}: \`points\` must be an array of [x, y] pairs.`);
    if (entry.points.length > PLOT_LIMITS.pointsPerSeries)
      return fail(`${where} has ${entry.points.length} points; at most ${PLOT_LIMITS.pointsPerSeries} a series.`);
    total += entry.points.length;
    if (total > PLOT_LIMITS.points) return fail(`at most ${PLOT_LIMITS.points} points in one figure.`);
    const points: [number, number][] = [];
    for (let j = 0; j < entry.points.length; j++) {
      const point: unknown = entry.points[j];
      if (!Array.isArray(point) || point.length !== 2) return fail(`${where}, point ${j + 1} must be [x, y].`);
      const px = number(point[0], "x", x.unit);
      const py = number(point[1], "y", y.unit);
      if (typeof px !== "number" || !Number.isFinite(px) || typeof py !== "number" || !Number.isFinite(py))
        return fail(
          `${where}, point ${j + 1}: x and y must be finite numbers${x.unit || y.unit ? " (or quantities in the axis' unit)" : ""}.`,
        );
      points.push([px, py]);
    }
    series.push({ name: name!, type: type as PlotSeriesType, points });
  }
  return {
    ok: true,
    spec: { ...(title !== undefined ? { title } : {}), ...(caption !== undefined ? { caption } : {}), x, y, series },
  };
}
