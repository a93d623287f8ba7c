// A webview page of the extension's own markup with no script (a comparison, a study's table): nothing runs in it,
// and its only style is the one it is given, by nonce. What a page links to are command links the panel allows.

import { randomBytes } from "node:crypto";
import { escapeHtml } from "../protocol/html";

/** `bodyAttribute` marks the page for tests and styles (`data-study`); `body` is markup already escaped. */
export function staticPage(page: { title: string; style: string; bodyAttribute: string; body: string }): string {
  const nonce = randomBytes(16).toString("base64");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'nonce-${nonce}'">
<style nonce="${nonce}">${page.style}</style>
<title>${escapeHtml(page.title)}</title>
</head>
<body ${page.bodyAttribute}>
${page.body}
</body>
</html>`;
}
