#!/usr/bin/env bash
# Installs what the E2E tests (test/e2e/) need: Debian's Chromium, code-server (a real VS Code with the real Node
# extension host), playwright-core, @vscode/vsce and mocha. Only apt and the npm registry are used, nothing from
# GitHub. Idempotent: every step checks first, so a second run does nothing and takes about a second.
#
# Everything except the apt packages goes into $E2E_HOME (default <repo>/.e2e, git-ignored), never into the
# project's package.json or package-lock.json. Works without stdin (CI) and as root. Usage:
#   bash test/e2e/install.sh
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd -P)  # physical path, as node's __dirname in harness.js
# Default <repo>/.e2e; a checkout too deep for that (see the 45-char limit below) uses ~/.cache/uzoncalc-e2e, the
# same rule as harness.js.
if [ -z "${E2E_HOME:-}" ]; then
  E2E_HOME=$ROOT/.e2e
  ((${#E2E_HOME} <= 45)) || E2E_HOME=${XDG_CACHE_HOME:-$HOME/.cache}/uzoncalc-e2e
fi
CS_VERSION=${CS_VERSION:-4.100.3}    # VS Code 1.100.3: the newest code-server whose engines.node is 20
PW_VERSION=${PW_VERSION:-1.65.1}     # playwright-core only: it never downloads a browser
VSCE_VERSION=${VSCE_VERSION:-3.9.2}
# mocha for the in-host suites: the project's own devDependency version, so in-host and unit tests agree.
MOCHA_VERSION=${MOCHA_VERSION:-$(node -p 'try { require(process.argv[1]).devDependencies.mocha || "" } catch { "" }' "$ROOT/package.json")}
MOCHA_VERSION=${MOCHA_VERSION:-11.8.0}

did=()
say() { echo "[e2e install ${SECONDS}s] $*"; }
ver() { node -p 'try { require(process.argv[1] + "/package.json").version } catch { "" }' "$1"; }

# code-server's postinstall refuses any other Node major, and its native modules are compiled for this one,
# so the tests must run on the same Node 20.
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" = 20 ] || { echo "e2e install: code-server $CS_VERSION needs Node 20, found $(node -v)" >&2; exit 1; }

E2E_HOME=$(realpath -m "$E2E_HOME")
# Unix socket paths must stay under 108 bytes; the deepest one is $E2E_HOME/p/xxxxxx/vscode-ipc-<uuid>.sock.
((${#E2E_HOME} <= 45)) || { echo "e2e install: E2E_HOME is ${#E2E_HOME} chars, at most 45 allowed (unix sockets): $E2E_HOME" >&2; exit 1; }
mkdir -p "$E2E_HOME"
# Two installs at once (two shells, or CI plus a developer) would trample each other's npm trees.
exec 9>"$E2E_HOME/.install.lock"
flock 9

# 1. Debian packages, installed only if missing; apt-get update only when something has to be installed
#    (a fresh image may have no package lists). Kept: chromium (headless browser), ripgrep (seeds @vscode/ripgrep,
#    see 2), libkrb5-dev (the `kerberos` native module in code-server needs the krb5 headers), fonts-liberation
#    (readable screenshots), and a compiler toolchain for the native modules if it is missing.
need=()
pkgs=(ripgrep libkrb5-dev fonts-liberation fonts-stix)
if [ -n "${CHROMIUM_BIN:-}" ]; then  # e.g. Ubuntu, whose chromium package is a snap stub that fails in containers
  [ -x "$CHROMIUM_BIN" ] || { echo "e2e install: CHROMIUM_BIN=$CHROMIUM_BIN is not executable" >&2; exit 1; }
else
  pkgs+=(chromium)
fi
for p in "${pkgs[@]}"; do
  [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || need+=("$p")
done
for c in make g++ python3; do command -v "$c" >/dev/null || { need+=(build-essential python3); break; }; done
if ((${#need[@]})); then
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  say "apt-get install ${need[*]}"
  $SUDO apt-get update -qq </dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" </dev/null >/dev/null
  did+=("apt: ${need[*]}")
fi

# 2. code-server from npm into $E2E_HOME/cs.
CS=$E2E_HOME/cs
RG=$CS/node_modules/code-server/lib/vscode/node_modules/@vscode/ripgrep/bin/rg
if [ "$(ver "$CS/node_modules/code-server")" != "$CS_VERSION" ] || [ ! -x "$RG" ]; then
  say "npm install code-server@$CS_VERSION (1-2 min: native modules are compiled)"
  (
    # @vscode/ripgrep's postinstall downloads rg from GitHub (unreachable: 5 retries, then the whole install fails).
    # Before downloading it looks for $TMPDIR/vscode-ripgrep-cache-<pkg version>/ripgrep-<tag>-<arch>-unknown-linux-musl.tar.gz,
    # so seed that with Debian's rg (13.0.0, the same as upstream's v13.0.0-10). Version and tag are read from the
    # npm tarballs rather than hard-coded, so a CS_VERSION bump keeps working.
    export TMPDIR=$CS/.tmp
    rm -rf "$TMPDIR"; mkdir -p "$TMPDIR/probe"; cd "$TMPDIR/probe"
    npm pack -q "code-server@$CS_VERSION" >/dev/null  # also warms the npm cache for the install below
    tar xzf "code-server-$CS_VERSION.tgz" package/lib/vscode/npm-shrinkwrap.json
    RG_VER=$(node -p 'require("./package/lib/vscode/npm-shrinkwrap.json").packages["node_modules/@vscode/ripgrep"].version')
    npm pack -q "@vscode/ripgrep@$RG_VER" >/dev/null
    tar xzf "vscode-ripgrep-$RG_VER.tgz" package/lib/postinstall.js
    RG_TAG=$(sed -n "s/^const VERSION = '\(.*\)';/\1/p" package/lib/postinstall.js)
    [ -n "$RG_TAG" ] || { echo "e2e install: could not read the ripgrep tag from @vscode/ripgrep@$RG_VER" >&2; exit 1; }
    mkdir -p "$TMPDIR/vscode-ripgrep-cache-$RG_VER"
    cp "$(command -v rg)" rg
    tar czf "$TMPDIR/vscode-ripgrep-cache-$RG_VER/ripgrep-$RG_TAG-$(uname -m)-unknown-linux-musl.tar.gz" rg
    cd "$CS"
    [ -f package.json ] || echo '{ "private": true }' > package.json
    # npm_config_unsafe_perm: as root, code-server's postinstall.sh aborts without it
    #   (npm 11 then warns `Unknown env config "unsafe-perm"`: harmless).
    # npm_config_yes: node-pty's postinstall runs `npx node-gyp`; with no TTY npx answers "canceled" unless yes=true.
    npm_config_unsafe_perm=true npm_config_yes=true \
      npm install --no-audit --no-fund --loglevel=error "code-server@$CS_VERSION" </dev/null
    rm -rf "$TMPDIR"
  )
  [ -x "$RG" ] || { echo "e2e install: code-server installed without rg: is the ripgrep cache seeding still right?" >&2; exit 1; }
  did+=("code-server $CS_VERSION")
fi

# 3. Node tools into $E2E_HOME/tools: playwright-core drives the system Chromium, vsce packages .vsix files,
#    mocha runs in-host suites when the project's own node_modules/mocha is absent.
TOOLS=$E2E_HOME/tools
want=()
[ "$(ver "$TOOLS/node_modules/playwright-core")" = "$PW_VERSION" ] || want+=("playwright-core@$PW_VERSION")
[ "$(ver "$TOOLS/node_modules/@vscode/vsce")" = "$VSCE_VERSION" ] || want+=("@vscode/vsce@$VSCE_VERSION")
[ "$(ver "$TOOLS/node_modules/mocha")" = "$MOCHA_VERSION" ] || want+=("mocha@$MOCHA_VERSION")
if ((${#want[@]})); then
  say "npm install ${want[*]}"
  mkdir -p "$TOOLS"; [ -f "$TOOLS/package.json" ] || echo '{ "private": true }' > "$TOOLS/package.json"
  (cd "$TOOLS" && npm_config_yes=true npm install --no-audit --no-fund --loglevel=error "${want[@]}" </dev/null)
  did+=("${want[@]}")
fi

chromium=$( [ -n "${CHROMIUM_BIN:-}" ] && echo "$CHROMIUM_BIN" || dpkg-query -W -f='chromium ${Version}' chromium)
summary="code-server $CS_VERSION, playwright-core $PW_VERSION, vsce $VSCE_VERSION, mocha $MOCHA_VERSION, $chromium"
if ((${#did[@]})); then
  say "installed: $(IFS=';'; echo "${did[*]}" | sed 's/;/; /g')"
  say "ready: $summary; E2E_HOME=$E2E_HOME"
else
  echo "e2e install: up to date ($summary) in ${SECONDS}s"
fi
