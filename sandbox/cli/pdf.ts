// `uzoncalc run … --pdf report.pdf`: prints the completed report (one self-contained HTML file) to PDF with a
// Chromium found on this machine, headless, with a throwaway profile and no network. No npm dependency: the
// browser is the one the system has (Debian's `chromium`; `fonts-stix` gives MathML a math font).

import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import type { PaperSize } from "../../protocol/limits";

/** The environment variable that names the browser to print with (it wins over the search). */
export const CHROMIUM_ENV = "UZONCALC_CHROMIUM";
/** Looked up on PATH, in this order, when the variable is not set. */
export const CHROMIUM_NAMES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"] as const;

const INSTALL_HINT = `Install Chromium (Debian/Ubuntu: sudo apt-get install chromium fonts-stix) or Google Chrome, or set ${CHROMIUM_ENV} to the browser's executable.`;

export class PdfError extends Error {}

function isExecutableFile(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) return false;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The browser to print with, or a PdfError that says what to install. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string {
  const named = env[CHROMIUM_ENV];
  if (named !== undefined && named !== "") {
    if (isExecutableFile(named)) return named;
    throw new PdfError(
      `${CHROMIUM_ENV} is set to '${named}', which is not an executable file, so the report cannot be printed to PDF. ${INSTALL_HINT}`,
    );
  }
  const dirs = (env.PATH ?? "").split(path.delimiter).filter((d) => d !== "");
  for (const name of CHROMIUM_NAMES) {
    for (const dir of dirs) {
      const candidate = path.join(dir, name);
      if (isExecutableFile(candidate)) return candidate;
    }
  }
  throw new PdfError(
    `--pdf needs Chromium or Google Chrome to print the report, and none was found (${CHROMIUM_ENV} is not set; looked for ${CHROMIUM_NAMES.join(", ")} on PATH). ${INSTALL_HINT}`,
  );
}

/** The report with the paper size set (its own print CSS sets the margins, the page numbers and the colours). */
function withPaper(html: string, paper: PaperSize): string {
  const style = `<style>@page { size: ${paper}; }</style>`;
  const head = html.indexOf("</head>");
  return head >= 0 ? html.slice(0, head) + style + html.slice(head) : style + html;
}

/**
 * Chromium's flags: headless, a fresh profile, nothing started in the background, and every host name resolved
 * to nowhere behind an unreachable proxy, so a report (which needs nothing from the network) cannot fetch either.
 */
function chromiumArgs(profile: string, pdf: string, page: string): string[] {
  const args = [
    "--headless",
    `--user-data-dir=${profile}`,
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-gpu",
    "--disable-extensions",
    "--disable-sync",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-dev-shm-usage",
    "--mute-audio",
    "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--no-pdf-header-footer",
    "--print-to-pdf-no-header",
    `--print-to-pdf=${pdf}`,
  ];
  // As root (containers, CI) Chromium refuses to start without this; the page is our own report, no scripts.
  if (typeof process.getuid === "function" && process.getuid() === 0) args.push("--no-sandbox");
  args.push(page);
  return args;
}

export interface PrintOptions {
  chromium: string;
  paper?: PaperSize;
  timeoutMs?: number;
}

/** Prints `html` (a whole self-contained document) to `pdfPath`. Throws PdfError with the reason. */
export async function printReportPdf(html: string, pdfPath: string, options: PrintOptions): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "uzoncalc-pdf-"));
  const profile = path.join(work, "profile");
  const page = path.join(work, "report.html");
  const printed = path.join(work, "report.pdf");
  try {
    fs.mkdirSync(profile);
    fs.writeFileSync(page, withPaper(html, options.paper ?? "A4"));
    const { code, stderr, timedOut } = await runChromium(
      options.chromium,
      chromiumArgs(profile, printed, pathToFileURL(page).href),
      options.timeoutMs ?? 60_000,
    );
    let size = 0;
    try {
      size = fs.statSync(printed).size;
    } catch {
      // not written
    }
    if (size === 0) {
      const why = timedOut
        ? `it did not finish within ${Math.round((options.timeoutMs ?? 60_000) / 1000)} s`
        : `it exited with code ${code}`;
      const detail = stderr
        .split("\n")
        .filter((l) => l.trim() !== "" && !/^\[\d+:\d+:/.test(l))
        .slice(-3)
        .join(" | ");
      throw new PdfError(`${options.chromium} did not print the report to PDF: ${why}${detail ? ` (${detail})` : ""}.`);
    }
    fs.mkdirSync(path.dirname(path.resolve(pdfPath)), { recursive: true });
    fs.copyFileSync(printed, pdfPath);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function runChromium(file: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stderr: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    let stderr = "";
    let timedOut = false;
    const child = spawn(file, args, { stdio: ["ignore", "ignore", "pipe"], detached: process.platform !== "win32" });
    // Chromium starts helper processes: a timeout ends the whole group it leads.
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid !== undefined && process.platform !== "win32") process.kill(-child.pid, "SIGKILL");
        else child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }, timeoutMs);
    child.stderr.on("data", (chunk: Buffer) => {
      if (stderr.length < 20_000) stderr += chunk.toString();
    });
    child.on("error", (error) => {
      clearTimeout(timer);
      resolve({ code: null, stderr: error.message, timedOut });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, timedOut });
    });
  });
}
