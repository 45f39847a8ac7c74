#!/usr/bin/env bash
# Runs the wasm-bindgen-test suites in headless Chromium and Firefox against a sandbox proxy
# started here on a free 127.0.0.1 port (its URL is baked into the tests at build time).
# Expects the tools on PATH (the Makefile sets it) and the widget built into dist/.
set -euo pipefail
cd "$(dirname "$0")/.."

browsers=${BROWSERS:-"chromium firefox"}
# shellcheck source=scripts/sandbox-proxy.sh
source scripts/sandbox-proxy.sh

cargo build --quiet -p paydigital-proxy
start_sandbox_proxy browser-tests \
  CHECKOUT_DATABASE="$work/checkout.sqlite" \
  CHECKOUT_ALLOWED_ORIGINS='*' \
  CHECKOUT_CREATES_PER_MINUTE=10000 \
  CHECKOUT_STATUS_REFRESH_MS=300 \
  CHECKOUT_UPSTREAM_MAX_RPS=1000 \
  PAYDIGITAL_TIMEOUT_SECS=2 \
  CHECKOUT_STATIC_DIR="$PWD/dist" \
  RUST_LOG=warn
echo "browser-tests: sandbox proxy at $url"

export PAYDIGITAL_TEST_PROXY=$url
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-600}
for browser in $browsers; do
  echo "browser-tests: headless $browser"
  case $browser in
    chromium) env -u GECKODRIVER CHROMEDRIVER="$(command -v chromedriver)" \
                cargo test --target wasm32-unknown-unknown -p paydigital-checkout -p paydigital --test web --test vectors ;;
    firefox)  env -u CHROMEDRIVER GECKODRIVER="$(command -v geckodriver)" \
                cargo test --target wasm32-unknown-unknown -p paydigital-checkout -p paydigital --test web --test vectors ;;
    *) echo "unknown browser $browser" >&2; exit 2 ;;
  esac
done
