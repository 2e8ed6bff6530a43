#!/usr/bin/env bash
# Builds the WASM UI into ui/dist: index.html, style.css, images, the
# wasm-bindgen glue (app.js) and the optimised module (app_bg.wasm).
# Installs what it needs and is quick when all of it is present:
#   - the wasm32-unknown-unknown target (rustup);
#   - the wasm-bindgen CLI at exactly the version in Cargo.lock (cargo install);
#   - wasm-opt 110 or newer: one on PATH, else binaryen from npm, else the
#     wasm-opt crate, both into target/tools. Older wasm-opt builds (Debian
#     bookworm's 108) silently break the module, so they are refused.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$REPO_ROOT"

TOOLS="$REPO_ROOT/target/tools"
DIST="$REPO_ROOT/ui/dist"
BINARYEN_NPM_VERSION="132.0.0"
WASM_OPT_CRATE_VERSION="0.116.1"
started=$SECONDS

ensure_rust

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

bindgen_version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
[ -n "$bindgen_version" ] || die "wasm-bindgen is not in Cargo.lock"
if ! wasm-bindgen --version 2>/dev/null | grep -qw "$bindgen_version"; then
  say "installing wasm-bindgen-cli $bindgen_version (about two minutes, once)"
  cargo install wasm-bindgen-cli --version "=$bindgen_version"
fi

# Prints the path of a wasm-opt of version 110 or newer, installing one if needed.
find_wasm_opt() {
  local candidate version
  for candidate in "$(command -v wasm-opt || true)" "$TOOLS/node_modules/.bin/wasm-opt" "$TOOLS/bin/wasm-opt"; do
    if [ -z "$candidate" ] || [ ! -x "$candidate" ]; then continue; fi
    version="$("$candidate" --version 2>/dev/null | grep -oE 'version [0-9]+' | grep -oE '[0-9]+' || true)"
    if [ -n "$version" ] && [ "$version" -ge 110 ]; then
      echo "$candidate"
      return 0
    fi
    [ -n "$version" ] && warn "ignoring $candidate: version $version is older than 110 and breaks the module"
  done
  mkdir -p "$TOOLS"
  if command -v npm >/dev/null 2>&1; then
    say "installing binaryen $BINARYEN_NPM_VERSION (wasm-opt) from npm into target/tools" >&2
    if npm install --silent --no-audit --no-fund --prefix "$TOOLS" "binaryen@$BINARYEN_NPM_VERSION" >&2; then
      echo "$TOOLS/node_modules/.bin/wasm-opt"
      return 0
    fi
  fi
  say "installing wasm-opt $WASM_OPT_CRATE_VERSION from crates.io into target/tools (about six minutes, once)" >&2
  cargo install wasm-opt --version "$WASM_OPT_CRATE_VERSION" --root "$TOOLS" >&2 || return 1
  echo "$TOOLS/bin/wasm-opt"
}

say "compiling the UI to WebAssembly (profile wasm-release)"
cargo build -p ui --target wasm32-unknown-unknown --profile wasm-release --locked

say "generating the JavaScript glue (wasm-bindgen $bindgen_version)"
rm -rf "$DIST"
mkdir -p "$DIST"
wasm-bindgen --target web --no-typescript --out-dir "$DIST" --out-name app \
  target/wasm32-unknown-unknown/wasm-release/ui.wasm

wasm_opt="$(find_wasm_opt)" || die "no wasm-opt 110 or newer could be found or installed; install binaryen 110+ and run this again"
say "optimising with $("$wasm_opt" --version)"
"$wasm_opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue \
  "$DIST/app_bg.wasm" -o "$DIST/app_bg.opt.wasm"
mv "$DIST/app_bg.opt.wasm" "$DIST/app_bg.wasm"

cp ui/index.html ui/style.css "$DIST/"
cp -r ui/assets/images "$DIST/images"

raw=$(wc -c < "$DIST/app_bg.wasm")
gz=$(gzip -9 -c "$DIST/app_bg.wasm" | wc -c)
say "built ui/dist in $((SECONDS - started)) s: app_bg.wasm $((raw / 1024)) KiB raw, $((gz / 1024)) KiB gzipped"
