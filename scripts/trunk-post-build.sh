#!/bin/sh
# Trunk post_build hook: fills the loader's placeholders with this build's hashed file names,
# and pre-compresses what a browser downloads (the proxy serves .br/.gz when asked).
set -eu
dir="${TRUNK_STAGING_DIR:?run by trunk}"
js=$(cd "$dir" && ls paydigital-checkout-*.js 2>/dev/null | head -n 1)
wasm=$(cd "$dir" && ls paydigital-checkout-*_bg.wasm 2>/dev/null | head -n 1)
if [ -z "$js" ] || [ -z "$wasm" ]; then
  echo "trunk-post-build: widget files not found in $dir" >&2
  exit 1
fi
sed -e "s/__PAYDIGITAL_WIDGET_JS__/$js/" -e "s/__PAYDIGITAL_WIDGET_WASM__/$wasm/" \
  www/paydigital-checkout.js > "$dir/paydigital-checkout.js"
if grep -q "__PAYDIGITAL_WIDGET_" "$dir/paydigital-checkout.js"; then
  echo "trunk-post-build: placeholders left in the loader" >&2
  exit 1
fi
for f in "$dir/$js" "$dir/$wasm" "$dir/paydigital-checkout.js"; do
  if command -v brotli >/dev/null 2>&1; then brotli -f -q 11 -k "$f"; fi
  gzip -f -9 -k "$f"
done
