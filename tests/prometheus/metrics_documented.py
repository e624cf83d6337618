#!/usr/bin/env python3
"""Every metric family vigild registers (a `.Name("vigil_...")` in the sources) has a row in
docs/metrics.md, and every row names a family that exists. Usage: metrics_documented.py ROOT"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1])
registered = set()
for folder in ("daemon", "connectors"):
    for path in (root / folder).rglob("*.cc"):
        # Family names are string literals (`.Name("vigil_…")` or a helper's argument); a literal
        # used as a JSON key (`["vigil_…"]`) is not one.
        registered |= set(re.findall(r'(?<!\[)"(vigil_[a-z0-9_]+)"', path.read_text()))
doc = (root / "docs/metrics.md").read_text()
documented = set(re.findall(r"^\| `(vigil_[a-z0-9_]+)`", doc, re.MULTILINE))
missing = sorted(registered - documented)
stale = sorted(documented - registered)
for name in missing:
    print(f"docs/metrics.md: no row for {name}")
for name in stale:
    print(f"docs/metrics.md: row for {name}, which no code registers")
print(f"{len(registered)} families registered, {len(documented)} documented")
sys.exit(1 if missing or stale or not registered else 0)
