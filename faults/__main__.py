"""python -m faults [--short]: run the fault scenarios, print one table, exit 1 on any failure."""

from __future__ import annotations

import argparse
import sys

from faults import run_all
from faults.report import table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m faults", description=__doc__)
    parser.add_argument("--short", action="store_true", help="a short run (seconds, not minutes), as in make test")
    parser.add_argument("--only", action="append", choices=["kill", "flaky", "outage"],
                        help="run only this scenario (repeatable)")
    args = parser.parse_args(argv)
    rows = run_all(short=args.short, only=args.only)
    print(table(rows), flush=True)
    return 0 if all(row.ok for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
