// The in-realm runtime's JavaScript. The build embeds it (define __UZON_REALM_RUNTIME__); running from source
// (tests under tsx) builds it on first use with the same options.

declare const __UZON_REALM_RUNTIME__: string | undefined;

let runtimeSource: string | undefined;

export function realmRuntimeSource(): string {
  if (runtimeSource !== undefined) return runtimeSource;
  if (typeof __UZON_REALM_RUNTIME__ === "string") {
    runtimeSource = __UZON_REALM_RUNTIME__;
  } else {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { buildRealmRuntimeSync } = require("../../scripts/realmRuntime.cjs") as { buildRealmRuntimeSync: () => string };
    runtimeSource = buildRealmRuntimeSync();
  }
  return runtimeSource;
}
