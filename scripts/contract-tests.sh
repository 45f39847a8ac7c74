#!/usr/bin/env bash
# The contract against the code: validates the OpenAPI document the proxy generates
# (openapi-spec-validator), runs a TypeScript client generated from it under tsc --strict
# (tests/typed-client/run.sh), then Schemathesis with all its checks over the merchant and
# browser APIs of a sandbox proxy started here (a temporary SQLite store, a merchant key, a
# free 127.0.0.1 port). Expects CONTRACT_VENV: the venv `make test-contract` installs
# (versions in tools.env), and tests/typed-client/node_modules (`npm ci`, the same target).
# CONTRACT_MAX_EXAMPLES bounds the run (default 100 an operation: ~45 s on 2 cores; the
# typed client ~10 s more).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${CONTRACT_VENV:?"set CONTRACT_VENV (make test-contract does)"}
max_examples=${CONTRACT_MAX_EXAMPLES:-100}
# shellcheck source=scripts/sandbox-proxy.sh
source scripts/sandbox-proxy.sh

cargo build --quiet -p paydigital-proxy
target/debug/paydigital-proxy openapi --output "$work/openapi.json"
echo "contract-tests: openapi-spec-validator"
"$venv/bin/openapi-spec-validator" "$work/openapi.json"

key="contract-merchant-key-sandbox-only-0123456789"
# The budgets are opened wide: Schemathesis creates hundreds of payments in a minute, and a
# 429 or 503 for a budget is a real answer, but not the one these checks are about.
start_sandbox_proxy contract-tests \
  CHECKOUT_DATABASE="$work/checkout.sqlite" \
  CHECKOUT_MERCHANT_KEY="$key" \
  CHECKOUT_PUBLIC_URL=http://127.0.0.1:9 \
  CHECKOUT_CREATES_PER_MINUTE=100000 \
  CHECKOUT_UPSTREAM_MAX_RPS=10000 \
  CHECKOUT_UPSTREAM_MAX_CREATES_PER_MIN=100000 \
  PAYDIGITAL_TIMEOUT_SECS=5 \
  CHECKOUT_STATIC_DIR="$work/no-static" \
  RUST_LOG=warn
# A client generated from the served document (openapi-typescript + openapi-fetch) must
# compile under tsc --strict and create, read, list and read events through it. First, on the
# fresh store: the events it looks for are then on the first page.
echo "contract-tests: sandbox proxy at $url; a typed client from its document (tests/typed-client)"
typed_started=$SECONDS
PAYDIGITAL_URL="$url" PAYDIGITAL_MERCHANT_KEY="$key" tests/typed-client/run.sh
echo "contract-tests: typed client passed in $((SECONDS - typed_started)) s"
echo "contract-tests: Schemathesis, every check, $max_examples examples an operation"

# The document the running proxy serves is the one it is tested against.
status=0
# Run from the temporary folder: Schemathesis keeps its caches (.schemathesis/) where it runs.
config="$PWD/scripts/schemathesis.toml"
# The hooks keep positive cases to what no schema can say (scripts/schemathesis_hooks.py).
export SCHEMATHESIS_HOOKS="$PWD/scripts/schemathesis_hooks.py"
(cd "$work" && "$venv/bin/schemathesis" --config-file "$config" --no-color run "$url/api/openapi.json" \
  --url "$url" \
  --checks all \
  --max-examples "$max_examples" \
  --header "Authorization: Bearer $key" \
  --seed "${CONTRACT_SEED:-20261202}" \
  --report junit --report-dir "$work/report") || status=$?
if [[ $status -ne 0 ]]; then
  echo "contract-tests: the proxy's log:" >&2
  tail -n 50 "$work/proxy.err" >&2
fi
exit $status
