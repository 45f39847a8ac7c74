#!/usr/bin/env bash
# A typed client from the proxy's own document: openapi-typescript writes its types from
# `$PAYDIGITAL_URL/api/openapi.json` (the document the running proxy serves), tsc --strict
# compiles client.ts against them (a `@ts-expect-error` that no longer errs fails it too),
# and node runs the compiled calls against that proxy with PAYDIGITAL_MERCHANT_KEY.
# scripts/contract-tests.sh runs it beside Schemathesis; node_modules comes from `npm ci`
# (the Makefile's stamp, package-lock.json pins every version).
set -euo pipefail
cd "$(dirname "$0")"
: "${PAYDIGITAL_URL:?set PAYDIGITAL_URL (a running sandbox proxy)}"
: "${PAYDIGITAL_MERCHANT_KEY:?set PAYDIGITAL_MERCHANT_KEY}"
rm -rf generated build
node_modules/.bin/openapi-typescript "$PAYDIGITAL_URL/api/openapi.json" --output generated/api.d.ts --silent
node_modules/.bin/tsc -p tsconfig.json
node build/client.js
