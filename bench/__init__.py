"""Benchmarks: `python -m bench [NAME ...]` (or `make bench`).

Each bench is a module `bench.<name>` with `run() -> list[Row]`; add its name to
`bench.__main__.BENCHES` to have `make bench` run it. Speed targets live here, never in unit tests.
"""

from __future__ import annotations

from dataclasses import dataclass


class BenchError(RuntimeError):
    """The bench could not produce a trustworthy figure (errors under load, server didn't start...)."""


@dataclass(frozen=True)
class Row:
    """One measured figure.

    With a `baseline`, `target` is the minimum ratio value/baseline; without one it is the minimum
    value itself (or the maximum, when `higher_is_better` is False, e.g. a latency).
    """

    name: str
    metric: str
    value: float
    baseline: float | None = None
    target: float | None = None
    higher_is_better: bool = True
    value_format: str = ".0f"

    @property
    def ratio(self) -> float | None:
        if self.baseline is None:
            return None
        return self.value / self.baseline if self.baseline else 0.0

    @property
    def passed(self) -> bool | None:
        if self.target is None:
            return None
        measured = self.ratio if self.baseline is not None else self.value
        return measured >= self.target if self.higher_is_better else measured <= self.target

    def target_text(self) -> str:
        if self.target is None:
            return "-"
        sign = ">=" if self.higher_is_better else "<="
        if self.baseline is not None:
            return f"{sign} {self.target:.2f}x"
        return f"{sign} {self.target:{self.value_format}}"
