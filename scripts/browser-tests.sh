#!/usr/bin/env bash
# Runs the wasm-bindgen-test suites in headless Chromium and Firefox, and in WebKit (Debian's
# WebKitGTK, Safari's engine) on an Xvfb display, against a sandbox proxy started here on a
# free 127.0.0.1 port (its URL is baked into the tests at build time).
# Expects the tools on PATH (the Makefile sets it) and the widget built into dist/.
# BROWSERS="webkit" scripts/browser-tests.sh runs one engine.
set -euo pipefail
cd "$(dirname "$0")/.."

browsers=${BROWSERS:-"chromium firefox webkit"}
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

# WebKit: wasm-bindgen-test-runner knows no WebKitGTK driver by name, but it takes any
# driver's URL as `SAFARIDRIVER_REMOTE` and then asks for a session with empty capabilities,
# which WebKitWebDriver answers with its default browser (MiniBrowser). That browser has no
# headless mode: it draws on an Xvfb display started here. The runner ends its session by
# closing the window, which WebKitWebDriver (one session at a time) takes as the end of it, so
# one driver serves both test binaries. Both are stopped on exit with the proxy.
webkit_pids=()
stop_webkit() {
  for pid in "${webkit_pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  cleanup
}
start_webkit() {
  trap stop_webkit EXIT
  # -displayfd: Xvfb picks a free display number and writes it once it listens.
  Xvfb -displayfd 5 -screen 0 1280x1024x24 -nolisten tcp 5>"$work/display" 2>"$work/xvfb.err" &
  webkit_pids+=($!)
  for _ in $(seq 1 100); do [[ -s $work/display ]] && break; sleep 0.1; done
  [[ -s $work/display ]] || { echo "browser-tests: Xvfb did not start:" >&2; cat "$work/xvfb.err" >&2; exit 1; }
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  DISPLAY=":$(head -n 1 "$work/display")" WebKitWebDriver --port="$port" >"$work/webkitdriver.log" 2>&1 &
  webkit_pids+=($!)
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/status" >/dev/null && break; sleep 0.1; done
  webkit_driver="http://127.0.0.1:$port/"
}

export PAYDIGITAL_TEST_PROXY=$url
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-600}
for browser in $browsers; do
  echo "browser-tests: $browser"
  case $browser in
    chromium) env -u GECKODRIVER CHROMEDRIVER="$(command -v chromedriver)" \
                cargo test --target wasm32-unknown-unknown -p paydigital-checkout -p paydigital --test web --test vectors ;;
    firefox)  env -u CHROMEDRIVER GECKODRIVER="$(command -v geckodriver)" \
                cargo test --target wasm32-unknown-unknown -p paydigital-checkout -p paydigital --test web --test vectors ;;
    webkit)   [[ -n ${webkit_driver:-} ]] || start_webkit
              env -u CHROMEDRIVER -u GECKODRIVER SAFARIDRIVER_REMOTE="$webkit_driver" \
                cargo test --target wasm32-unknown-unknown -p paydigital-checkout -p paydigital --test web --test vectors ;;
    *) echo "unknown browser $browser" >&2; exit 2 ;;
  esac
done
