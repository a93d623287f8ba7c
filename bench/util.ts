import type * as http from "node:http";
import { request } from "node:http";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/**
 * The service benchmark's sheet (bench/sheets/hundred.calc.ts) with rendering off, written into `dir` (one source
 * for both modes); returns its path.
 */
export function renderOffSheet(dir: string): string {
  const file = path.join(dir, "hundred-plain.calc.ts");
  fs.writeFileSync(file, fs.readFileSync(path.join(__dirname, "sheets", "hundred.calc.ts"), "utf8") + "\nexport const render = false;\n");
  return file;
}

/** The load average, printed beside every section's figures: these machines are noisy. */
export function loadAverage(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
}

export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index]!;
}

export function median(samples: number[]): number {
  return percentile(
    [...samples].sort((a, b) => a - b),
    0.5,
  );
}

export function summarize(samples: number[]): { median: number; p99: number; mean: number; n: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  return { median: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), mean, n: samples.length };
}

export function fmt(ms: number): string {
  return ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`;
}

export function row(label: string, value: string): void {
  console.log(`  ${label.padEnd(52)} ${value}`);
}

/** POSTs JSON over a keep-alive agent (plain node:http, so the client's own cost stays small in the figures). */
export function postJson<T>(agent: http.Agent, url: string, body: unknown): Promise<{ status: number; data: T }> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, data: JSON.parse(Buffer.concat(chunks).toString()) as T }));
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}
