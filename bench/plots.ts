// Figures (issue 18 item 2): what drawing one costs the sandbox's trusted side. A bending moment diagram of 41
// points (the beam example's), a figure of 4 series × 500 points, and the same figure again (drawn figures are kept:
// a full-html response sends every figure on every step). Prints figures, no pass/fail.
import { drawFigures } from "../sandbox/session/plots";
import { loadAverage, median, row } from "./util";

function figure(series: number, points: number, tag: string): string {
  const spec = {
    caption: tag,
    x: { label: "Position x", unit: "m" },
    y: { label: "M", unit: "kN*m" },
    series: Array.from({ length: series }, (_, s) => ({
      name: `case ${s + 1}`,
      type: "line",
      points: Array.from({ length: points }, (_, i) => [
        (7.2 * i) / (points - 1),
        ((s + 1) * ((5.775 * 7.2 * i) / (points - 1)) * (7.2 - (7.2 * i) / (points - 1))) / 2,
      ]),
    })),
  };
  const described = JSON.stringify(spec).replace(/&/g, "&amp;").replace(/"/g, "&quot;");
  return `<figure class="uzc-figure" data-plot="${described}"><figcaption>${tag}</figcaption></figure>\n`;
}

function main(): void {
  console.log(`\nFigures drawn as SVG (ECharts server-side) · load average ${loadAverage()}`);
  drawFigures(figure(1, 10, "warm-up"));
  for (const [series, points] of [
    [1, 41],
    [4, 500],
  ] as const) {
    const first: number[] = [];
    const again: number[] = [];
    let bytes = 0;
    for (let i = 0; i < 15; i++) {
      const html = figure(series, points, `run ${i}`);
      let started = performance.now();
      bytes = drawFigures(html).length;
      first.push(performance.now() - started);
      started = performance.now();
      drawFigures(html);
      again.push(performance.now() - started);
    }
    row(
      `${series} series × ${points} points: drawn (median of 15)`,
      `${median(first).toFixed(2)} ms · ${(bytes / 1024).toFixed(1)} KB of SVG`,
    );
    row(`${series} series × ${points} points: sent again (kept)`, `${(median(again) * 1000).toFixed(0)} µs`);
  }
}

main();
