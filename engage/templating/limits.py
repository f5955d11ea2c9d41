"""The render budget: what one render of a marketer's template may cost.

Jinja's sandbox keeps templates from Python internals, not from burning CPU or memory. A render
gets a budget of steps (calls, filters, operators, loop iterations), of characters built and of
time, and its output stops at MAX_OUTPUT. Steps that can build far more than they are given
('x' * n, widths, replace, join, format) are bounded before they run.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterable, Iterator, Mapping, MappingView
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal
from string import Formatter
from typing import Any

from jinja2.sandbox import SecurityError

MAX_STRING = 100_000  # longest text (or printed list) one value may hold
MAX_OUTPUT = 200_000  # characters one render may emit (email HTML included)
MAX_BUILT = 2_000_000  # characters built across a render, captured blocks and macros included
MAX_STEPS = 20_000
MAX_SECONDS = 2.0
MAX_INT_BITS = 4_096

# Steps whose result can outgrow their inputs by a factor the template picks; in _COUNTS a whole
# number is a count or a width ('x' * n, center(n)), not text.
_COUNTS = frozenset({"*", "center", "ljust", "rjust", "zfill", "indent", "batch", "slice"})
_FORMATS = frozenset({"%", "format", "format_map"})
_MULTIPLIERS = _COUNTS | _FORMATS | {"replace", "join", "wordwrap", "urlize"}
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")


class TemplateLimitError(SecurityError):
    """A template exceeded a resource limit."""


@dataclass
class _Budget:
    steps: int = MAX_STEPS
    chars: int = MAX_BUILT
    # CPU time of the rendering thread: a render that burns CPU is stopped, one that merely waits
    # for a core on a loaded machine (other workers, a test suite beside it) is not.
    deadline: float = field(default_factory=lambda: time.thread_time() + MAX_SECONDS)


_budget: ContextVar[_Budget | None] = ContextVar("engage_render_budget", default=None)


def spend(steps: int = 1, chars: int = 0) -> None:
    """Charge the render under way; outside one (Jinja folding constants) nothing is charged."""
    budget = _budget.get()
    if budget is None:
        return
    budget.steps, budget.chars = budget.steps - steps, budget.chars - chars
    if budget.steps < 0:
        raise TemplateLimitError("template does too much work (too many loops or calls)")
    if budget.chars < 0:
        raise TemplateLimitError("template builds too much text")
    if time.thread_time() > budget.deadline:
        raise TemplateLimitError("template took too long to render")


def built(value: Any) -> Any:
    """Refuse an oversized result and charge the text it holds; returns `value`."""
    size = _refuse_over(text_size(value))
    spend(0, size)
    return value


def check_step(name: str, value: Any, args: Iterable[Any]) -> None:
    """Refuse step `name` on value and args before it runs if its result could be too long."""
    sizes = sum(arg if name in _COUNTS and type(arg) is int else text_size(arg) for arg in args)
    size = text_size(value)
    if name == "*":
        _refuse_over(size * sizes)  # exactly what 'x' * n builds
    elif name in _MULTIPLIERS:  # each argument at most once per character of the value
        widths = format_widths(value) if name in _FORMATS and isinstance(value, str) else 0
        _refuse_over(size + max(size, 1) * sizes + widths)
    else:
        _refuse_over(size + sizes)


def check_number(operator: str, left: int, right: int) -> None:
    """Refuse `*` and `**` on whole numbers whose result would be huge (9 ** 999999)."""
    size = left.bit_length() or 1
    if (size * right if operator == "**" else size + right.bit_length()) > MAX_INT_BITS:
        raise TemplateLimitError("number too large")


def text_size(value: Any, limit: int = MAX_STRING) -> int:
    """Length of str(value) without building it; once past `limit`, any larger number."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, (int, float, Decimal)):
        return len(str(value))  # cheap: ints stay under MAX_INT_BITS
    if isinstance(value, Mapping):
        value = (part for pair in value.items() for part in pair)
    elif not isinstance(value, (list, tuple, set, frozenset, range, MappingView)):
        return 32  # None, a date, a loop or a macro prints short
    total = 2
    for item in value:
        total += text_size(item, limit - total) + 2
        if total > limit:
            break
    return total


def format_widths(fmt: str) -> int:
    """Widths and precisions a format string states (%-style or {}-style): each pads its field."""
    widths = [part for spec in _PERCENT_SPEC.findall(fmt) for part in spec if part]
    with contextlib.suppress(ValueError):  # not a {}-format: str.format would refuse it anyway
        specs = [spec for _text, _name, spec, _conversion in Formatter().parse(fmt) if spec]
        widths += [number for spec in specs for number in re.findall(r"\d+|\{", spec)]
    if "*" in widths or "{" in widths:
        raise TemplateLimitError("widths in format strings must be written out, not passed")
    return sum(map(int, widths))


def capped(chunks: Iterator[str]) -> str:
    """A render's output, stopping as soon as it passes MAX_OUTPUT; runs under a fresh budget."""
    token = _budget.set(_Budget())
    try:
        text, length = [], 0
        for chunk in chunks:
            length += len(chunk)
            if length > MAX_OUTPUT:
                raise TemplateLimitError(f"rendered text is longer than {MAX_OUTPUT} characters")
            text.append(chunk)
        return "".join(text)
    finally:
        _budget.reset(token)


def _refuse_over(size: int) -> int:
    if size > MAX_STRING:
        raise TemplateLimitError(f"result would be longer than {MAX_STRING} characters")
    return size
