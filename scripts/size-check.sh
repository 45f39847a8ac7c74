#!/usr/bin/env bash
# Fails when what a page downloads for the widget (loader + wasm-bindgen JS + wasm; the CSS
# is inside the wasm) exceeds the brotli budget in size-budget.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
budget=$(tr -dc '0-9' < size-budget.txt)
total=0
for f in dist/paydigital-checkout.js dist/paydigital-checkout-*.js dist/paydigital-checkout-*_bg.wasm; do
  [[ -f $f ]] || { echo "size-check: $f missing (build the widget first)" >&2; exit 1; }
  raw=$(stat -c %s "$f")
  br=$(brotli -c -q 11 "$f" | wc -c)
  gz=$(gzip -c -9 "$f" | wc -c)
  printf 'size-check: %-48s raw %7d  gzip %7d  brotli %7d\n' "$(basename "$f")" "$raw" "$gz" "$br"
  total=$((total + br))
done
printf 'size-check: total brotli %d bytes, budget %d bytes\n' "$total" "$budget"
if (( total > budget )); then
  echo "size-check: over budget by $((total - budget)) bytes" >&2
  exit 1
fi
