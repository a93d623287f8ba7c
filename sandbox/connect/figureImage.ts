// A report figure's SVG drawn as PNG, for the Word export: Word 2016 and later draw the SVG itself, but a .docx
// must carry a bitmap beside it for every other reader (older Word, LibreOffice, previews), and the library the
// export writes with insists on one. resvg draws SVG without a browser or a DOM; its WebAssembly build runs
// wherever Node does (one file for every platform the .vsix ships for), with the one font it is given: a figure's
// text comes out the same on every machine, whatever fonts that machine has.

import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { initWasm, Resvg } from "@resvg/resvg-wasm";

/** Twice the figure's size: sharp when printed at the width the document gives it. */
const ZOOM = 2;

let ready: Promise<Uint8Array> | undefined;

/** Starts resvg once per process (its WebAssembly module can be initialised only once) and loads the font. */
function start(): Promise<Uint8Array> {
  ready ??= (async () => {
    await initWasm(fs.readFileSync(wordAssetPath("resvg.wasm")));
    return new Uint8Array(fs.readFileSync(wordAssetPath("DejaVuSans.ttf")));
  })();
  return ready;
}

/** The PNG of an SVG document, on white, at twice its size. */
export async function svgToPng(svg: string): Promise<Uint8Array> {
  const font = await start();
  const drawing = new Resvg(svg, {
    fitTo: { mode: "zoom", value: ZOOM },
    background: "#ffffff",
    font: { fontBuffers: [font], defaultFontFamily: "DejaVu Sans", sansSerifFamily: "DejaVu Sans", serifFamily: "DejaVu Sans" },
  });
  try {
    const image = drawing.render();
    try {
      return image.asPng();
    } finally {
      image.free();
    }
  } finally {
    drawing.free();
  }
}

/** Where the files it draws with are: beside the bundle (dist/word/, which the build fills), else in node_modules (tsx). */
function wordAssetPath(name: "resvg.wasm" | "DejaVuSans.ttf"): string {
  const bundled = path.join(__dirname, "word", name);
  if (fs.existsSync(bundled)) return bundled;
  const packaged = { "resvg.wasm": "@resvg/resvg-wasm/index_bg.wasm", "DejaVuSans.ttf": "dejavu-fonts-ttf/ttf/DejaVuSans.ttf" }[name];
  return createRequire(__filename).resolve(packaged);
}
