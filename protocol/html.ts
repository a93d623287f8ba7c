// Escaping text into HTML, for the realm's output calls, its report renderer and the host's report document.
// A loop over characters, not String.prototype.replace: inside a realm the sheet may have replaced its own
// built-ins, and this must keep working there.

export function escapeHtml(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    out += c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === '"' ? "&quot;" : c === "'" ? "&#39;" : c;
  }
  return out;
}
