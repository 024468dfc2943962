#!/usr/bin/env bash
# Installs what quantlab needs and is missing, saying what it does. Idempotent: a second run on
# a ready machine only checks. Usage: scripts/setup.sh [demo|test]
#   demo: wasm32 target, the pinned wasm-bindgen CLI, npm packages
#   test: all of that, plus Debian's chromium and chromium-driver for browser tests
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-demo}
say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# The wasm-bindgen CLI must match the library version pinned in Cargo.toml exactly.
WB_VERSION=$(python3 -c 'import tomllib;print(tomllib.load(open("wasm-pack.toml","rb"))["build"]["wasm-bindgen-version"])')
grep -q "wasm-bindgen = \"=$WB_VERSION\"" Cargo.toml || { echo "Cargo.toml and wasm-pack.toml disagree on wasm-bindgen $WB_VERSION" >&2; exit 1; }

command -v cargo >/dev/null || { echo "cargo is missing: install Rust with rustup first" >&2; exit 1; }
if ! rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$'; then
  say "adding the Rust target wasm32-unknown-unknown (rustup)"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WB_VERSION" ]; then
  say "installing wasm-bindgen-cli $WB_VERSION from crates.io (about 4 minutes on 2 cores)"
  cargo install wasm-bindgen-cli --version "$WB_VERSION"
fi

if [ ! -x node_modules/.bin/wasm-opt ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages (uplot, binaryen for wasm-opt, playwright-core) with npm ci"
  npm ci --no-audit --no-fund
fi

if [ "$mode" = test ]; then
  need=()
  [ -x /usr/bin/chromium ] || need+=(chromium)
  [ -x /usr/bin/chromedriver ] || need+=(chromium-driver)
  if [ ${#need[@]} -gt 0 ]; then
    say "installing ${need[*]} from Debian's packages (browser tests)"
    SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
  fi
fi
say "ready ($mode)"
