#!/usr/bin/env python3
"""Groups `twiggy top -f csv` rows of the widget's release wasm (before wasm-bindgen and
wasm-opt, with names) by crate, and prints each crate's share of the code as a Markdown
table, scaled to the shipped wasm's brotli size (an estimate: wasm-opt shrinks unevenly)."""
import csv
import re
import sys
from collections import Counter

shipped_brotli = int(sys.argv[1])
sizes = Counter()
for row in csv.DictReader(sys.stdin):
    name = row["Name"]
    size = int(row["ShallowSize"])
    if name.startswith(("custom section", '"function names"', "\"function names\"", "type[", "import ", "export ")):
        continue
    if "function names" in name or name.startswith("custom section"):
        continue
    if name.startswith("data segment"):
        crate = "(static data)"
    else:
        # The first path segment that looks like a crate: `<tachys::x as y>::f` -> tachys.
        match = re.search(r"([a-z_][a-z0-9_]*)(?:\[[0-9a-f]+\])?::", name)
        crate = match.group(1) if match else "(other)"
    sizes[crate] += size
total = sum(sizes.values())
print("| crate | share of code | ≈ brotli bytes |")
print("|---|---:|---:|")
shown = 0
for crate, size in sizes.most_common(16):
    share = size / total
    shown += size
    print(f"| `{crate}` | {share:.1%} | {share * shipped_brotli:,.0f} |")
rest = total - shown
print(f"| everything else | {rest / total:.1%} | {rest / total * shipped_brotli:,.0f} |")
