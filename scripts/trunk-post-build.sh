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
# wasm-bindgen's glue is not minified, nor is the loader: a quarter of their brotli size is
# names and comments. `make setup` installs esbuild; a bare `trunk build` ships them as they are.
if command -v esbuild >/dev/null 2>&1; then
  esbuild "$dir/$js" --minify --format=esm --log-level=warning --allow-overwrite --outfile="$dir/$js"
  # No --format: the loader stays a script that works both classic and as a module.
  esbuild "$dir/paydigital-checkout.js" --minify --log-level=warning --allow-overwrite \
    --outfile="$dir/paydigital-checkout.js"
else
  echo "trunk-post-build: esbuild not found, widget JS left unminified" >&2
fi
for f in "$dir/$js" "$dir/$wasm" "$dir/paydigital-checkout.js"; do
  if command -v brotli >/dev/null 2>&1; then brotli -f -q 11 -k "$f"; fi
  gzip -f -9 -k "$f"
done
