import assert from "node:assert/strict";
import { PiecedText } from "../session/piecedText";
import { documentText, renderReportDocument, reportDocumentParts } from "../session/reportDocument";

/** A small deterministic generator: the same cuts on every run, so a failure names a case that comes back. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

/** `text` cut at `count` random places (empty pieces and one-character ones included). */
function cut(text: string, count: number, next: () => number): string[] {
  const at = Array.from({ length: count }, () => Math.floor(next() * (text.length + 1))).sort((a, b) => a - b);
  const pieces: string[] = [];
  let from = 0;
  for (const point of at) {
    pieces.push(text.slice(from, point));
    from = point;
  }
  pieces.push(text.slice(from));
  return pieces;
}

/** Every cut of `text` near each of `points`: where a boundary falls inside (or just beside) a match. */
function cutsAround(text: string, points: number[]): string[][] {
  const cuts: string[][] = [];
  for (const point of points)
    for (let at = Math.max(point - 12, 0); at <= Math.min(point + 12, text.length); at++) cuts.push([text.slice(0, at), text.slice(at)]);
  return cuts;
}

const ACTIVE = /<\/?(?:meta|base|form|link|script|iframe|frame|frameset|object|embed|applet|portal)(?=[\s/>])/gi;

const REPORT = [
  '<header class="uzc-title-block"><h1>Beam “B1” − check</h1></header>\n',
  '<p>Introduction.</p>\n<p class="uzc-note">A note.</p>\n',
  '<h2 id="sec-1"><span class="uzc-num">1</span> Loads</h2>\n',
  '<div class="uzc-eq"><math displaystyle="true"><mi>γ</mi><mo>=</mo><mn>1.35</mn></math></div>\n',
  "<SCRIPT>alert(1)</script><iframe src=x></iframe><Meta http-equiv=refresh><frameset/><link\trel=x><p>a<b</p>\n",
  '<h3 id="sec-1-1"><span class="uzc-num">1.1</span> Dead load</h3>\n<p>g = 5 kN/m</p>\n',
  '<h2 id="sec-2"><span class="uzc-num">2</span> Checks</h2>\n<p>η ≤ 1 ✓</p>\n<scriptx>not a tag we make inert</scriptx>\n',
].join("");

describe("report markup in pieces, read as one string (piecedText.ts)", () => {
  it("searches, finds, slices and reads characters as the joined text does, however it is cut", () => {
    const next = random(15);
    const needles = ["<h", "</h1>", '<header class="uzc-title-block">', "</header>", "</p>", ">", "γ", "sec-2"];
    const patterns: [RegExp, number][] = [
      [/<h1[\s>]/gi, 4],
      [/<\/h1>/gi, 5],
      [/<h[23] id="sec-/g, 12],
      [ACTIVE, 11],
    ];
    for (let round = 0; round < 400; round++) {
      const pieces = cut(REPORT, 1 + Math.floor(next() * 12), next);
      const text = new PiecedText(pieces);
      assert.equal(text.length, REPORT.length);
      assert.equal(text.text(), REPORT);
      for (const from of [0, 1, 57, 200, REPORT.length - 3, REPORT.length]) {
        for (const needle of needles)
          assert.equal(text.indexOf(needle, from), REPORT.indexOf(needle, from), `${needle} from ${from} in ${JSON.stringify(pieces)}`);
        for (const [pattern, longest] of patterns) {
          const expected = REPORT.slice(from).search(new RegExp(pattern.source, pattern.flags.replace("g", "")));
          assert.equal(
            text.search(pattern, longest, from),
            expected < 0 ? -1 : expected + from,
            `${pattern} from ${from} in ${JSON.stringify(pieces)}`,
          );
        }
      }
      const a = Math.floor(next() * REPORT.length);
      const b = a + Math.floor(next() * 300);
      assert.equal(text.slice(a, b), REPORT.slice(a, b));
      assert.equal(text.charCodeAt(a), REPORT.charCodeAt(a));
      assert.equal(text.startsWith("<h2", a), REPORT.startsWith("<h2", a));
    }
  });

  it("makes every active tag inert, also one cut anywhere across its pieces, and nothing else", () => {
    const expected = REPORT.replace(ACTIVE, (tag) => "&lt;" + tag.slice(1));
    const starts = [...REPORT.matchAll(ACTIVE)].map((match) => match.index);
    assert.equal(starts.length, 7, "the sample has its active tags, upper case and closing ones among them");
    const next = random(7);
    const cuts = [...cutsAround(REPORT, starts), ...Array.from({ length: 300 }, () => cut(REPORT, 1 + Math.floor(next() * 20), next))];
    for (const pieces of cuts) {
      const inert = new PiecedText(pieces).escapeOpenings(ACTIVE, 11);
      assert.equal(inert.text(), expected, JSON.stringify(pieces));
    }
    // A tag whose name ends a piece and whose next character starts the next: found only across the boundary.
    for (const pieces of [
      ["<scr", "ipt>"],
      ["<script", " src=x>"],
      ["</ifr", "ame>"],
      ["<", "meta", ">"],
      ["a<li", "", "nk/>"],
    ])
      assert.equal(
        new PiecedText(pieces).escapeOpenings(ACTIVE, 11).text(),
        pieces.join("").replace(ACTIVE, (tag) => "&lt;" + tag.slice(1)),
      );
    const quiet = new PiecedText(["<p>no active tag</p>", "<math><mi>x</mi></math>"]);
    assert.equal(quiet.escapeOpenings(ACTIVE, 11), quiet, "nothing to make inert: the very same pieces");
  });

  it("gives the same document from the steps' pieces as from the joined report: title, contents, inert markup", () => {
    const input = { sheetName: "beam.calc.ts", sheetHash: "abc", createdAt: 0, inputs: [], version: "test" };
    const whole = renderReportDocument({ ...input, body: REPORT });
    assert.match(whole, /<title>Beam “B1” − check<\/title>/);
    assert.match(whole, /<nav class="uzc-toc">/);
    assert.match(whole, /&lt;SCRIPT>/);
    const next = random(3);
    const starts = [...REPORT.matchAll(/<h[123]|<\/h1>|<header|<SCRIPT|<\/script/g)].map((match) => match.index);
    for (const pieces of [
      ...cutsAround(REPORT, starts),
      ...Array.from({ length: 200 }, () => cut(REPORT, 1 + Math.floor(next() * 8), next)),
    ]) {
      const parts = reportDocumentParts({ ...input, body: pieces });
      assert.equal(documentText(parts), whole, JSON.stringify(pieces));
    }
  });
});
