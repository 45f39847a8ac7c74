// One table of error codes (README.md and docs/embed.md, between the `error-codes` markers),
// and the `.d.ts` union `PayDigitalErrorCode` equal to it; every code the widget's source can
// emit is in it, and every proxy code the widget passes on (api.rs: any below 500, and
// upstream_*). Run by `make test-types`: node --test tests/types/
"use strict";

const { test } = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "../..");
const read = (file) => fs.readFileSync(path.join(ROOT, file), "utf8");

function tableCodes(file) {
  const text = read(file);
  const start = text.indexOf("<!-- error-codes -->");
  const end = text.indexOf("<!-- /error-codes -->");
  assert.ok(start >= 0 && end > start, `${file} has the error-code table`);
  return text.slice(start, end).split("\n")
    .map((line) => line.match(/^\| `([a-z_]+)` \|/))
    .filter(Boolean).map((m) => m[1]);
}

function unionCodes() {
  const dts = read("www/paydigital-checkout.d.ts");
  const union = dts.match(/type PayDigitalErrorCode =([^;]*);/);
  assert.ok(union, "the .d.ts declares PayDigitalErrorCode");
  return [...union[1].matchAll(/"([a-z_]+)"/g)].map((m) => m[1]);
}

const sorted = (codes) => [...codes].sort();

test("README's table, docs/embed.md's table and the .d.ts union are the same codes", () => {
  const readme = tableCodes("README.md");
  assert.equal(new Set(readme).size, readme.length, "no code twice");
  assert.deepEqual(sorted(tableCodes("docs/embed.md")), sorted(readme));
  assert.deepEqual(sorted(unionCodes()), sorted(readme));
});

test("every code the widget emits is in the table", () => {
  const table = new Set(tableCodes("README.md"));
  const emitted = new Set();
  // The widget's own: Failure::new(kind, "code", ...), and the loader's load_failed.
  for (const file of ["src/machine.rs", "src/widget/mod.rs", "src/widget/api.rs"]) {
    for (const m of read(file).matchAll(/Failure::new\(\s*FailureKind::\w+,\s*"([a-z_]+)"/g)) emitted.add(m[1]);
  }
  for (const m of read("www/paydigital-checkout.js").matchAll(/code: "([a-z_]+)"/g)) emitted.add(m[1]);
  // The proxy's: what `api.rs` passes on (status < 500, or upstream_*); 5xx ones become `network`.
  const proxy = read("crates/proxy/src/http/error.rs");
  const words = [...proxy.matchAll(/ErrorCode::\w+ => "([a-z_]+)"/g)].map((m) => m[1]);
  assert.ok(words.length > 10, "the proxy's codes are read");
  const server = new Set(["store_unavailable", "internal_error"]);
  for (const code of words) if (!server.has(code)) emitted.add(code);
  for (const code of ["network", "invalid_qr", "invalid_options", "csp_blocked", "load_failed"]) {
    assert.ok(emitted.has(code), `${code} found in the source`);
  }
  assert.deepEqual(sorted(table), sorted(emitted));
});
