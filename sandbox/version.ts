declare const __UZON_VERSION__: string | undefined;

/** The product version: set by the build, read from package.json when running from source. */
export const VERSION: string =
  typeof __UZON_VERSION__ === "string"
    ? __UZON_VERSION__
    : // eslint-disable-next-line @typescript-eslint/no-require-imports
      (require("../package.json") as { version: string }).version;
