#!/usr/bin/env bash
# `make bench`: installs the benchmark's own tools if missing (apt: wrk, php; npm: qrcode;
# crates.io: twiggy, oha; esbuild comes with make setup), then measures and writes
# BENCHMARKS.md (bench/bench.cjs, bench/time-to-qr.cjs, bench/dashboard.cjs, bench/counter.cjs).
# `scripts/bench.sh counter` (after `make widget`): only the counter's section, printed.
# `scripts/bench.sh time-to-qr` (after `make widget`): only the time to QR (issue 23), its
# section of BENCHMARKS.md rewritten in place; RUNS / FAST_RUNS set the runs per condition.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ${1:-} == counter ]]; then
  TOOLS_DIR=${TOOLS_DIR:-$HOME/.cache/paydigital-checkout} NPM_DIR=${NPM_DIR:-$HOME/.cache/paydigital-checkout/npm}
  export PATH="$TOOLS_DIR/bin:$NPM_DIR/node_modules/.bin:$PATH"
  qrcode_version=$(sed -n 's/^QRCODE_JS_VERSION=//p' tools.env)
  [[ $(node -p "require('$NPM_DIR/node_modules/qrcode/package.json').version" 2>/dev/null) == "$qrcode_version" ]] \
    || npm install --prefix "$NPM_DIR" --no-audit --no-fund --silent "qrcode@$qrcode_version"
  bundle="$TOOLS_DIR/bench/qrcode.js"; mkdir -p "$(dirname "$bundle")"
  esbuild "$NPM_DIR/node_modules/qrcode/lib/browser.js" --bundle --format=iife --global-name=QRCode \
    --minify --log-level=warning --outfile="$bundle"
  [[ -n ${PROXY_BIN:-} ]] || cargo build --release -p paydigital-proxy --bin paydigital-proxy
  QRCODE_JS_BUNDLE=$bundle NODE_PATH="$NPM_DIR/node_modules" node bench/counter.cjs
  exit
fi
if [[ ${1:-} == time-to-qr ]]; then
  # Alone, outside make: the same tool folders the Makefile uses.
  TOOLS_DIR=${TOOLS_DIR:-$HOME/.cache/paydigital-checkout} NPM_DIR=${NPM_DIR:-$HOME/.cache/paydigital-checkout/npm}
  export PATH="$TOOLS_DIR/bin:$NPM_DIR/node_modules/.bin:$PATH"
  version_of() { node -p "require('$NPM_DIR/node_modules/$1/package.json').version" 2>/dev/null || true; }
  qrcode_version=$(sed -n 's/^QRCODE_JS_VERSION=//p' tools.env)
  [[ $(version_of qrcode) == "$qrcode_version" ]] || npm install --prefix "$NPM_DIR" --no-audit --no-fund --silent "qrcode@$qrcode_version"
  [[ -n ${PROXY_BIN:-} ]] || cargo build --release -p paydigital-proxy --bin paydigital-proxy
  NODE_PATH="$NPM_DIR/node_modules" node bench/time-to-qr.cjs --write
  exit
fi
: "${TOOLS_DIR:?run through make bench}" "${NPM_DIR:?}" "${QRCODE_JS_VERSION:?}" "${ESBUILD_VERSION:?}" "${TWIGGY_VERSION:?}" "${OHA_VERSION:?}"
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)

missing=""
for p in wrk php-cli php-curl; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [[ -n $missing ]]; then
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
fi
version_of() { node -p "require('$NPM_DIR/node_modules/$1/package.json').version" 2>/dev/null || true; }
[[ $(version_of qrcode) == "$QRCODE_JS_VERSION" ]] || npm install --prefix "$NPM_DIR" --no-audit --no-fund --silent "qrcode@$QRCODE_JS_VERSION"
twiggy --version 2>/dev/null | grep -q " $TWIGGY_VERSION$" || cargo install --locked --root "$TOOLS_DIR" "twiggy@$TWIGGY_VERSION"
oha --version 2>/dev/null | grep -q " $OHA_VERSION$" || cargo install --locked --root "$TOOLS_DIR" "oha@$OHA_VERSION"

cargo build --release -p paydigital-proxy --bin paydigital-proxy --example axum_floor

# The npm qrcode package has no browser build: bundle one for the comparison page.
bundle="$TOOLS_DIR/bench/qrcode.js"
mkdir -p "$(dirname "$bundle")"
esbuild "$NPM_DIR/node_modules/qrcode/lib/browser.js" --bundle --format=iife --global-name=QRCode \
  --minify --log-level=warning --outfile="$bundle"

size_table="| file | raw | gzip | brotli |"$'\n'"|---|---:|---:|---:|"
total_raw=0 total_gz=0 total_br=0 wasm_br=0
for f in dist/paydigital-checkout.js dist/paydigital-checkout-*.js dist/paydigital-checkout-*_bg.wasm www/checkout.css; do
  raw=$(stat -c %s "$f"); gz=$(gzip -c -9 "$f" | wc -c); br=$(brotli -c -q 11 "$f" | wc -c)
  name=$(basename "$f")
  [[ $f == www/checkout.css ]] && name="checkout.css (inside the wasm, counted there)"
  size_table+=$'\n'"| \`$name\` | $raw | $gz | $br |"
  if [[ $f != www/checkout.css ]]; then
    total_raw=$((total_raw + raw)); total_gz=$((total_gz + gz)); total_br=$((total_br + br))
  fi
  [[ $f == *_bg.wasm ]] && wasm_br=$br
done
size_table+=$'\n'"| **everything a page downloads** | **$total_raw** | **$total_gz** | **$total_br** (goal ≤ 90 KB: 92160) |"

# The shipped wasm has no names: redo wasm-bindgen and wasm-opt -Oz as Trunk does, keeping them.
named="$TOOLS_DIR/bench/named"
rm -rf "$named" && mkdir -p "$named"
wasm-bindgen --target web --keep-debug --out-dir "$named" target/wasm32-unknown-unknown/wasm-release/paydigital_checkout.wasm
wasm-opt -Oz -g --enable-reference-types --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-multivalue \
  "$named/paydigital_checkout_bg.wasm" -o "$named/opt.wasm"
crate_table=$(twiggy top -n 1000000 -f csv "$named/opt.wasm" | python3 bench/size_by_crate.py "$wasm_br")

# Confirmation and webhooks: one process with its own sandbox and receiver (issue 13).
webhook_section=$(cargo run --quiet --release -p paydigital-proxy --example webhook_bench)

# Three proxies on one PostgreSQL (issue 14): a throwaway cluster, as in make test.
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
  || { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql; }
eval "$(scripts/postgres.sh start)"
trap 'scripts/postgres.sh stop "$PAYDIGITAL_PG_DIR"' EXIT

ulimit -n 65536 2>/dev/null || true
WEBHOOK_SECTION=$webhook_section SIZE_TABLE=$size_table CRATE_TABLE=$crate_table QRCODE_JS_BUNDLE=$bundle \
  NODE_PATH="$NPM_DIR/node_modules" node bench/bench.cjs

# Time to QR on a slow phone, widget against a plain-JS floor (issue 23): its own section.
NODE_PATH="$NPM_DIR/node_modules" node bench/time-to-qr.cjs --write >/dev/null

# The dashboard (issue 21): what 50 open tabs polling the live feed cost the proxy.
cargo build --quiet --release -p paydigital-proxy
{ echo; node bench/dashboard.cjs; } >> BENCHMARKS.md

# The counter (issue 22): Charge to QR painted on a slow tablet, against a plain-JS floor.
{ echo; QRCODE_JS_BUNDLE=$bundle NODE_PATH="$NPM_DIR/node_modules" node bench/counter.cjs; } >> BENCHMARKS.md
