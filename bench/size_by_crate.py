#!/usr/bin/env python3
"""Groups `twiggy top -f csv` rows of the widget's wasm by crate and prints each crate's share
as a Markdown table, scaled to the shipped wasm's brotli size (an estimate: brotli does not
shrink every part alike). The wasm analysed went through the same wasm-bindgen and
`wasm-opt -Oz` as the shipped one, with names kept (`-g`), so it holds the same code."""
import csv
import re
import sys
from collections import Counter

shipped_brotli = int(sys.argv[1])
sizes = Counter()
for row in csv.DictReader(sys.stdin):
    name = row["Name"]
    size = int(row["ShallowSize"])
    # Names are kept for this analysis only; the shipped wasm has none.
    if "function names" in name or "data names" in name or name.startswith("custom section"):
        continue
    if name.startswith("data segment"):
        crate = "(static data: strings, CSS, tables)"
    elif name.startswith("import "):
        crate = "(imports: the JS functions it calls)"
    elif "shim" in name or name.startswith(("__wbindgen", "__wbg", "__externref")):
        crate = "(wasm-bindgen shims)"
    else:
        # The first path segment that looks like a crate: `<tachys::x as y>::f` -> tachys.
        match = re.search(r"([a-z_][a-z0-9_]*)(?:\[[0-9a-f]+\])?::", name)
        crate = match.group(1) if match else "(other: tables, exports, unnamed)"
    sizes[crate] += size
total = sum(sizes.values())
print("| crate | share of code | ≈ brotli bytes |")
print("|---|---:|---:|")
shown = 0
for crate, size in sizes.most_common(18):
    share = size / total
    shown += size
    label = crate if crate.startswith("(") else f"`{crate}`"
    print(f"| {label} | {share:.1%} | {share * shipped_brotli:,.0f} |")
rest = total - shown
print(f"| everything else | {rest / total:.1%} | {rest / total * shipped_brotli:,.0f} |")
