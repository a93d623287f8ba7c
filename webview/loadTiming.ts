// Imported first by panel.ts, so it runs before the form controls' modules: the moment the panel's script began,
// for the load breakdown the ready message carries (issue 15 item 6: what a first run waits for in the webview).
export const scriptStartedAt = performance.now();
