"""`python -m bench [NAME ...]`: run the named benches (default: all) and print one table.

Exit status: 0 all targets met, 1 a target missed, 2 a bench could not measure (BenchError).
"""

from __future__ import annotations

import importlib
import json
import math
import sys
import time
from pathlib import Path

from bench import BenchError, Row

# Each name is a module bench/<name>.py with `run() -> list[Row]`, run in this order.
BENCHES = ("earn", "earn_items", "dispatch", "sweep", "inbound", "console", "insights")

HEADERS = ("name", "metric", "value", "baseline", "ratio", "target", "result")


def _number(value: float | None, fmt: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return f"{value:{fmt}}"


def table(rows: list[Row]) -> str:
    lines = [HEADERS]
    for row in rows:
        result = {True: "PASS", False: "FAIL", None: "-"}[row.passed]
        lines.append((row.name, row.metric, _number(row.value, row.value_format),
                      _number(row.baseline, row.value_format), _number(row.ratio, ".2f"),
                      row.target_text(), result))
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADERS))]
    numeric = {2, 3, 4}
    out = []
    for n, line in enumerate(lines):
        out.append("  ".join(cell.rjust(w) if i in numeric else cell.ljust(w)
                             for i, (cell, w) in enumerate(zip(line, widths))).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def save(rows: list[Row]) -> None:
    directory = Path(__file__).resolve().parent / "results"
    directory.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    records = [{"name": r.name, "metric": r.metric, "value": r.value, "baseline": r.baseline,
                "ratio": r.ratio, "target": r.target, "passed": r.passed} for r in rows]
    (directory / f"{stamp}.json").write_text(json.dumps(records, indent=2) + "\n")


def main(argv: list[str]) -> int:
    names = argv or list(BENCHES)
    unknown = [name for name in names if name not in BENCHES]
    if unknown:
        print(f"unknown bench {', '.join(unknown)}; known: {', '.join(BENCHES)}", file=sys.stderr)
        return 2
    rows: list[Row] = []
    broken: list[str] = []
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        try:
            rows.extend(module.run())
        except BenchError as error:
            print(f"\nBENCH {name} ABORTED: {error}\n", file=sys.stderr, flush=True)
            broken.append(name)
    if rows:
        print(table(rows))
        save(rows)
    if broken:
        print(f"aborted: {', '.join(broken)}", file=sys.stderr)
        return 2
    return 1 if any(row.passed is False for row in rows) else 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        print("\ninterrupted; servers stopped", file=sys.stderr)
        sys.exit(130)
