// Figures drawn: a sheet's `plot()` leaves its description in the report (`<figure class="uzc-figure" data-plot=…>`,
// sandbox/runtime/report/document.ts), and every report the sandbox hands out gets the figure drawn here, as SVG,
// by Apache ECharts' server-side renderer (no DOM, no script in the result). The session keeps the realm's report
// as written, so replay still compares what the sheet wrote, and a figure costs its drawing only where it is sent.
//
// The drawing is made to sit in any report: no <style> element, no style attribute (the run panel's policy allows
// neither), ids of its own per figure, and text and axes in `currentColor`, so it reads in light and dark themes and
// prints. The description came out of a realm: it is checked again (protocol/plot.ts) before it is drawn.

import { createHash } from "node:crypto";
import { BarChart, LineChart, ScatterChart } from "echarts/charts";
import { GridComponent, LegendComponent } from "echarts/components";
import * as echarts from "echarts/core";
import { SVGRenderer } from "echarts/renderers";
import { escapeHtml } from "../../protocol/html";
import { normalizePlot, type PlotAxis, type PlotSpec } from "../../protocol/plot";
import { unitLabel } from "../../protocol/units";

echarts.use([LineChart, ScatterChart, BarChart, GridComponent, LegendComponent, SVGRenderer]);

const WIDTH = 640;
const HEIGHT = 360;
/** Series colours that read on white and on a dark editor alike (mid lightness, distinct hues). */
const PALETTE = ["#3b76d9", "#d9483b", "#2e9e6b", "#c98a10", "#8a55d6", "#1f9bb5", "#c2477f", "#6b7d2a"];
// Colours the chart is drawn with only to be found again and replaced: text, axes and grid lines follow the text
// colour of whatever page shows the figure.
const TEXT = "#010203";
const AXIS = "#020304";
const GRID = "#030405";
const THEMED: [string, string][] = [
  [`fill="${TEXT}"`, 'fill="currentColor"'],
  [`stroke="${TEXT}"`, 'stroke="currentColor"'],
  [`stroke="${AXIS}"`, 'stroke="currentColor" stroke-opacity="0.7"'],
  [`stroke="${GRID}"`, 'stroke="currentColor" stroke-opacity="0.15"'],
];

const FIGURE = /<figure class="uzc-figure" data-plot="([^"]*)">/g;
const drawn = new Map<string, string>();
/** Figures kept drawn: a full-html response sends every figure again on every step. */
const DRAWN_KEPT = 256;

/** The report with each figure's description drawn; a report without figures is returned as it is. */
export function drawFigures(html: string): string {
  if (html.indexOf('data-plot="') < 0) return html;
  return html.replace(FIGURE, (_, described: string) => {
    let svg = drawn.get(described);
    if (svg === undefined) {
      svg = drawFigure(described);
      if (drawn.size >= DRAWN_KEPT) drawn.delete(drawn.keys().next().value!);
      drawn.set(described, svg);
    }
    return `<figure class="uzc-figure">${svg}`;
  });
}

function drawFigure(described: string): string {
  let raw: unknown;
  try {
    raw = JSON.parse(unescapeAttribute(described));
  } catch {
    return figureProblem("its description is not readable");
  }
  const check = normalizePlot(raw, (value) => value);
  if (!check.ok) return figureProblem(check.message);
  const id = `uzc-fig-${createHash("sha256").update(described).digest("hex").slice(0, 10)}`;
  try {
    return `<div class="uzc-plot">${plotSvg(check.spec, id)}</div>`;
  } catch (error) {
    return figureProblem(error instanceof Error ? error.message : String(error));
  }
}

function figureProblem(why: string): string {
  return `<p class="uzc-plot-error">This figure could not be drawn: ${escapeHtml(why)}</p>`;
}

function axisName(axis: PlotAxis): string {
  return axis.unit ? `${axis.label} [${unitLabel(axis.unit)}]` : axis.label;
}

/** One chart as SVG, ready to sit inline in a report (see the file's head). */
export function plotSvg(spec: PlotSpec, id: string): string {
  const chart = echarts.init(null, null, { renderer: "svg", ssr: true, width: WIDTH, height: HEIGHT });
  try {
    const legend = spec.series.length > 1;
    const axis = (which: "x" | "y") => ({
      type: "value" as const,
      name: axisName(spec[which]),
      nameLocation: "middle" as const,
      nameGap: which === "x" ? 30 : 56,
      nameTextStyle: { color: TEXT, fontSize: 12 },
      scale: true,
      // The x axis spans the data (a 7.2 m beam's diagram ends at 7.2, not at the next round 8); bars need room.
      ...(which === "x" && !spec.series.some((series) => series.type === "bar")
        ? { min: "dataMin" as const, max: "dataMax" as const }
        : {}),
      // The data's own ends label the x axis (7.2 m): a round label crowding them is left out.
      axisLabel: { color: TEXT, fontSize: 11, hideOverlap: true },
      axisLine: { show: true, lineStyle: { color: AXIS } },
      axisTick: { lineStyle: { color: AXIS } },
      splitLine: { lineStyle: { color: GRID } },
    });
    chart.setOption({
      animation: false,
      color: PALETTE,
      textStyle: { fontFamily: "sans-serif", color: TEXT },
      grid: { left: 72, right: 24, top: legend ? 40 : 20, bottom: 48 },
      ...(legend ? { legend: { top: 8, textStyle: { color: TEXT } } } : {}),
      xAxis: axis("x"),
      yAxis: axis("y"),
      series: spec.series.map((series) => ({
        name: series.name,
        type: series.type,
        data: series.points,
        animation: false,
        ...(series.type === "line" ? { showSymbol: series.points.length <= 40, symbolSize: 5, lineStyle: { width: 2 } } : {}),
        ...(series.type === "scatter" ? { symbolSize: 7 } : {}),
        ...(series.type === "bar" ? { barMaxWidth: 24 } : {}),
      })),
    });
    return inline(chart.renderToSVGString(), id, spec.title ?? spec.caption ?? `${spec.y.label} against ${spec.x.label}`);
  } finally {
    chart.dispose();
  }
}

/** ECharts' SVG made to sit inline (see the file's head): its own ids, no style sheet, themed colours. */
function inline(svg: string, id: string, label: string): string {
  let out = svg
    .replace(/<style[\s\S]*?<\/style>/g, "")
    .replace(/ class="zr\d+-cls-\d+"/g, "")
    .replace(/ pointer-events="[^"]*"/g, "")
    .replace(/ ecmeta_[a-z_]+="[^"]*"/g, "")
    .replace(/zr\d+-c(\d+)/g, `${id}-c$1`)
    .replace(/ style="([^"]*)"/g, (_, declarations: string) =>
      declarations
        .split(";")
        .map((declaration) => declaration.trim())
        .filter((declaration) => /^(font-size|font-family|font-weight|font-style):/.test(declaration))
        .map((declaration) => {
          const [property, value] = declaration.split(":");
          return ` ${property!.trim()}="${value!.trim()}"`;
        })
        .join(""),
    )
    .replace(/\n/g, "");
  for (const [from, to] of THEMED) out = out.split(from).join(to);
  return out.replace("<svg ", `<svg role="img" aria-label="${escapeHtml(label)}" `);
}

function unescapeAttribute(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (_, name: string) =>
    name === "amp" ? "&" : name === "lt" ? "<" : name === "gt" ? ">" : name === "quot" ? '"' : "'",
  );
}
