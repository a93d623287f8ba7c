// The guard the extension puts on every message from the run panel's webview: the webview runs report markup next
// to the panel's script, so what arrives is checked for shape before the extension acts on it.

import assert from "node:assert/strict";
import { isFromWebviewMessage } from "../webview";

describe("isFromWebviewMessage", () => {
  it("takes the panel's messages, with and without the ready message's load breakdown", () => {
    for (const message of [
      { type: "ready" },
      { type: "ready", load: { scriptStartMs: 94, readyMs: 106, documentStartedAt: 1796598745734 } },
      { type: "submit", window: "geometry", ui_steps: 1, values: { span: "6" } },
      { type: "cancel" },
      { type: "runWith", set: null },
      { type: "runWith", set: "wide" },
      { type: "reveal", line: 3, column: 1 },
      { type: "windowShown", window: "geometry", at: 1796603738182 },
      { type: "windowShown", window: "geometry", at: 1796603738182, paint: { arrivedAt: 1796603738100, renderMs: 12, frameMs: 40 } },
    ]) {
      assert.ok(isFromWebviewMessage(message), JSON.stringify(message));
    }
  });

  it("refuses unknown types and malformed fields", () => {
    for (const message of [
      null,
      "ready",
      { type: "navigate", url: "https://example.com" },
      { type: "ready", load: "fast" },
      { type: "ready", load: { scriptStartMs: 94, readyMs: Number.NaN, documentStartedAt: 1 } },
      { type: "ready", load: { scriptStartMs: -1, readyMs: 3, documentStartedAt: 1 } },
      { type: "ready", load: { scriptStartMs: 94, readyMs: 106 } },
      { type: "submit", window: "geometry", ui_steps: 1, values: ["6"] },
      { type: "runWith", set: 3 },
      { type: "reveal", line: "3", column: 1 },
      { type: "windowShown", window: "geometry" },
      { type: "windowShown", window: 3, at: 1796603738182 },
      { type: "windowShown", window: "geometry", at: 1796603738182, paint: { arrivedAt: 1796603738100, renderMs: "12", frameMs: 40 } },
      { type: "windowShown", window: "geometry", at: 1796603738182, paint: null },
    ]) {
      assert.ok(!isFromWebviewMessage(message), JSON.stringify(message));
    }
  });
});
