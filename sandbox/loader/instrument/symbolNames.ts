// Variable names as an engineer writes them on paper: Greek words become letters (alpha → α, Delta → Δ) and
// what follows `_` is a subscript, several parts joined by commas as in the Eurocodes (sigma_c_max → σ_c,max,
// N_c_Rd → N_c,Rd). A Greek word followed by a capital or a digit reads the same way, as engineers write it in
// camel case: gammaM0 → γ_M0, gammaQ → γ_Q, etaRd_fi → η_Rd,fi; a word that only starts like one (`alphabet`,
// `betaweight`) stays as written. A constant in capitals (CONCRETE_WEIGHT) is a name, not a symbol with a
// subscript, and is shown as written.

const GREEK_LOWER =
  "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon phi chi psi omega".split(" ");
const GREEK: Record<string, string> = Object.create(null) as Record<string, string>;
GREEK_LOWER.forEach((word, index) => {
  // Greek capitals start at U+0391 and lower case at U+03B1; U+03A2 (after rho) is unassigned, and final sigma
  // (U+03C2) is skipped in lower case, so letters after rho are one code point further on.
  const offset = index >= 17 ? index + 1 : index;
  GREEK[word] = String.fromCharCode(0x03b1 + offset);
  GREEK[word[0]!.toUpperCase() + word.slice(1)] = String.fromCharCode(0x0391 + offset);
});

export function escapeMarkup(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

function partMath(part: string): string {
  const greek = GREEK[part];
  if (greek !== undefined) return `<mi>${greek}</mi>`;
  if (/^\d+$/.test(part)) return `<mn>${part}</mn>`;
  return `<mi>${escapeMarkup(part)}</mi>`;
}

const CONSTANT_NAME = /^[A-Z][A-Z0-9]{2,}(?:_[A-Z0-9]+)+$/;

/** A Greek word, then a subscript that starts with a capital or a digit: gammaM0, etaRd, Delta2 (longest word first). */
const GREEK_CAMEL = new RegExp(
  `^(${Object.keys(GREEK)
    .sort((a, b) => b.length - a.length)
    .join("|")})([A-Z0-9][A-Za-z0-9]*)$`,
);

/** The name as one MathML element: `<mi>`, or `<msub>` when it has subscript parts. */
export function nameMath(name: string): string {
  if (CONSTANT_NAME.test(name)) return `<mi>${escapeMarkup(name)}</mi>`;
  const parts = name.split("_").filter((part) => part !== "");
  if (parts.length === 0) return `<mi>${escapeMarkup(name)}</mi>`;
  const camel = GREEK_CAMEL.exec(parts[0]!);
  if (camel) parts.splice(0, 1, camel[1]!, camel[2]!);
  const base = partMath(parts[0]!);
  if (parts.length === 1) return base;
  const subscripts = parts.slice(1).map(partMath);
  const subscript = subscripts.length === 1 ? subscripts[0]! : `<mrow>${subscripts.join("<mo>,</mo>")}</mrow>`;
  return `<msub>${base}${subscript}</msub>`;
}

/** A name not rendered into the report: private by convention. */
export function isPrivateName(name: string): boolean {
  return name.startsWith("_");
}
