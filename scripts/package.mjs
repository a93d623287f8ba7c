// Builds the installable .vsix, one per platform, as rust-analyzer ships its server: everything is bundled
// into dist/ except esbuild's native binary, which the sandbox needs to bundle sheets, so each platform gets
// its own package holding only its own binary.
//
//   npm run package                      # this machine's platform → uzoncalc-<target>-<version>.vsix
//   npm run package -- --target darwin-arm64 --target win32-x64
//   npm run package -- --all             # every target below (other platforms' binaries come from the registry)
//   npm run package -- --out-dir out/vsix
//
// The package is assembled in a staging folder from an allow-list (.vscodeignore), with a package.json whose only
// dependency is the TypeScript server plugin, so vsce takes node_modules/uzoncalc-tsserver-plugin and nothing else.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
const esbuildVersion = JSON.parse(fs.readFileSync(path.join(root, "node_modules", "esbuild", "package.json"), "utf8")).version;

/** VS Code's platform targets and the esbuild package that carries each one's binary. */
const TARGETS = {
  "linux-x64": "@esbuild/linux-x64",
  "linux-arm64": "@esbuild/linux-arm64",
  "linux-armhf": "@esbuild/linux-arm",
  "alpine-x64": "@esbuild/linux-x64",
  "alpine-arm64": "@esbuild/linux-arm64",
  "darwin-x64": "@esbuild/darwin-x64",
  "darwin-arm64": "@esbuild/darwin-arm64",
  "win32-x64": "@esbuild/win32-x64",
  "win32-arm64": "@esbuild/win32-arm64",
};

/** What the extension needs at run time, relative to the root. Everything else stays out. */
const SHIPPED = ["dist", "media", "syntaxes", "LICENSE", "CHANGELOG.md"];
/** The Marketplace page: written for users, unlike the repository README (which is for developers). */
const USER_README = "client/README.md";
const TS_PLUGIN = "uzoncalc-tsserver-plugin";

function parseArgs(argv) {
  const options = { targets: [], outDir: root, skipBuild: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--all") options.targets.push(...Object.keys(TARGETS));
    else if (arg === "--target") options.targets.push(argv[++i]);
    else if (arg === "--out-dir") options.outDir = path.resolve(argv[++i]);
    else if (arg === "--skip-build") options.skipBuild = true;
    else throw new Error(`unknown option ${arg} (use --target T, --all, --out-dir DIR, --skip-build)`);
  }
  if (options.targets.length === 0) options.targets.push(hostTarget());
  for (const target of options.targets) {
    if (!(target in TARGETS)) throw new Error(`unknown target ${target}; one of ${Object.keys(TARGETS).join(", ")}`);
  }
  return options;
}

function hostTarget() {
  const arch = process.arch === "arm" ? "armhf" : process.arch;
  const isMusl = process.platform === "linux" && !process.report?.getReport().header.glibcVersionRuntime;
  return `${isMusl ? "alpine" : process.platform}-${arch}`;
}

/** The esbuild binary package for a target: from node_modules when installed, else fetched from the registry. */
function esbuildBinaryPackage(name, scratch) {
  const installed = path.join(root, "node_modules", name);
  if (fs.existsSync(path.join(installed, "package.json"))) {
    const version = JSON.parse(fs.readFileSync(path.join(installed, "package.json"), "utf8")).version;
    if (version === esbuildVersion) return installed;
  }
  const spec = `${name}@${esbuildVersion}`;
  let tarball;
  try {
    tarball = execFileSync("npm", ["pack", spec, "--silent", "--pack-destination", scratch], {
      cwd: scratch,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    })
      .trim()
      .split("\n")
      .pop();
  } catch (error) {
    throw new Error(
      `cannot fetch ${spec} from the npm registry for this target (${String(error.stderr ?? error.message)
        .trim()
        .split("\n")
        .pop()})`,
      { cause: error },
    );
  }
  const unpacked = path.join(scratch, name.replace("/", "+"));
  fs.mkdirSync(unpacked, { recursive: true });
  execFileSync("tar", ["-xzf", path.join(scratch, tarball), "-C", unpacked, "--strip-components=1"]);
  return unpacked;
}

function stage(target, scratch) {
  const dir = path.join(scratch, `stage-${target}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  // What inside these is left out (source maps, the CLI bundles) is said once, by .vscodeignore, copied below.
  for (const entry of SHIPPED)
    if (fs.existsSync(path.join(root, entry))) fs.cpSync(path.join(root, entry), path.join(dir, entry), { recursive: true });
  fs.copyFileSync(path.join(root, USER_README), path.join(dir, "README.md"));
  // esbuild's JS API (lib/main.js) finds its binary as node_modules/@esbuild/<platform> beside it. Both live in
  // dist/node_modules: Node resolves the bundles' require("esbuild") there first, and vsce --no-dependencies
  // skips only the top-level node_modules.
  const esbuildDir = path.join(dir, "dist", "node_modules", "esbuild");
  fs.mkdirSync(path.join(esbuildDir, "lib"), { recursive: true });
  for (const file of ["package.json", "LICENSE.md", "lib/main.js"])
    fs.copyFileSync(path.join(root, "node_modules", "esbuild", file), path.join(esbuildDir, file));
  const binaryName = TARGETS[target];
  const binary = esbuildBinaryPackage(binaryName, scratch);
  fs.cpSync(binary, path.join(dir, "dist", "node_modules", binaryName), { recursive: true });
  fs.copyFileSync(path.join(root, ".vscodeignore"), path.join(dir, ".vscodeignore"));
  // VS Code's TypeScript loads server plugins only from the extension's own node_modules: the one runtime
  // dependency the package declares, so vsce takes exactly that folder.
  const pluginDir = path.join(dir, "node_modules", TS_PLUGIN);
  fs.mkdirSync(path.join(pluginDir, "dist"), { recursive: true });
  for (const file of ["package.json", "uzoncalc.d.ts", "uzoncalc-units.d.ts", "dist/index.js"])
    fs.copyFileSync(path.join(root, "ts-plugin", file), path.join(pluginDir, file));
  const pluginVersion = JSON.parse(fs.readFileSync(path.join(root, "ts-plugin", "package.json"), "utf8")).version;
  const { dependencies: _runtime, devDependencies: _dev, scripts: _scripts, bin: _bin, ...manifest } = pkg;
  fs.writeFileSync(
    path.join(dir, "package.json"),
    JSON.stringify({ ...manifest, dependencies: { [TS_PLUGIN]: pluginVersion } }, null, 2) + "\n",
  );
  return dir;
}

function vsce(args, cwd) {
  const bin = path.join(root, "node_modules", ".bin", process.platform === "win32" ? "vsce.cmd" : "vsce");
  // vsce asks questions on a missing repository field: never wait for stdin. Its file listing is noise unless it fails.
  try {
    execFileSync(bin, args, { cwd, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  } catch (error) {
    process.stderr.write(`${error.stdout ?? ""}${error.stderr ?? ""}`);
    throw new Error(`vsce ${args.join(" ")} failed`, { cause: error });
  }
}

const options = parseArgs(process.argv.slice(2));
if (!options.skipBuild) execFileSync(process.execPath, [path.join(root, "scripts", "build.mjs")], { stdio: "inherit" });
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "uzoncalc-package-"));
fs.mkdirSync(options.outDir, { recursive: true });
try {
  for (const target of options.targets) {
    const started = performance.now();
    const dir = stage(target, scratch);
    const out = path.join(options.outDir, `${pkg.name}-${target}-${pkg.version}.vsix`);
    vsce(["package", "--allow-missing-repository", "--target", target, "-o", out], dir);
    const size = fs.statSync(out).size;
    console.log(
      `${path.relative(process.cwd(), out) || out}: ${(size / 1024 / 1024).toFixed(2)} MB, ${target}, in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  }
} finally {
  fs.rmSync(scratch, { recursive: true, force: true });
}
