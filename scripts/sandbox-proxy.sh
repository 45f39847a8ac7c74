# Sourced by the test scripts (browser-tests.sh, contract-tests.sh): a temporary folder
# `work`, and `start_sandbox_proxy NAME VAR=value...`, which starts the built proxy with the
# sandbox on a free 127.0.0.1 port with those settings and sets `url` from its first line.
# The proxy is stopped and the folder removed when the script exits.

work=$(mktemp -d)
proxy_pid=""
cleanup() {
  if [[ -n $proxy_pid ]]; then kill "$proxy_pid" 2>/dev/null || true; wait "$proxy_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

start_sandbox_proxy() {
  local name=$1
  shift
  env "$@" target/debug/paydigital-proxy serve --sandbox --listen 127.0.0.1:0 \
    > "$work/proxy.out" 2> "$work/proxy.err" &
  proxy_pid=$!
  url=""
  for _ in $(seq 1 100); do
    url=$(sed -n 's|^PayDigital checkout: \(http://[^/]*\)/$|\1|p' "$work/proxy.out" | head -n 1)
    [[ -n $url ]] && break
    sleep 0.1
  done
  if [[ -z $url ]]; then
    echo "$name: the sandbox proxy did not start:" >&2
    cat "$work/proxy.err" >&2
    exit 1
  fi
}
