"""Resource limits for rendering untrusted templates.

Jinja's sandbox stops templates from reaching Python internals, but not from burning CPU or
memory (`'x' * 10**9`, nested loops, doubling a string in a loop). Every render gets a budget of
operations, allocated characters, output characters and wall-clock time; the sandbox charges it
at each call, loop iteration, string-building operator, filter and output.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from string import Formatter
from typing import Any

from jinja2.sandbox import SecurityError

MAX_STRING = 100_000  # longest single string or sequence a template may build
MAX_OUTPUT = 200_000  # characters one render may emit (email HTML included)
MAX_ALLOCATED = 2_000_000  # characters built across a whole render
MAX_OPERATIONS = 20_000  # calls, filter calls and loop iterations per render
MAX_SECONDS = 2.0
MAX_RANGE = 1_000
MAX_INT_BITS = 4_096


class TemplateLimitError(SecurityError):
    """A template exceeded a resource limit."""


@dataclass
class RenderBudget:
    operations: int = MAX_OPERATIONS
    allocated: int = MAX_ALLOCATED
    output: int = MAX_OUTPUT
    deadline: float = field(default_factory=lambda: time.monotonic() + MAX_SECONDS)

    def tick(self, count: int = 1) -> None:
        self.operations -= count
        if self.operations < 0:
            raise TemplateLimitError("template does too much work (too many loops or calls)")
        if time.monotonic() > self.deadline:
            raise TemplateLimitError("template took too long to render")

    def allocate(self, chars: int) -> None:
        self.allocated -= chars
        if self.allocated < 0:
            raise TemplateLimitError("template builds too much text")

    def emit(self, chars: int) -> None:
        self.output -= chars
        if self.output < 0:
            raise TemplateLimitError(f"rendered text is longer than {MAX_OUTPUT} characters")


_current: ContextVar[RenderBudget | None] = ContextVar("engage_render_budget", default=None)


@contextmanager
def render_budget() -> Iterator[RenderBudget]:
    """Give the renders inside the block a fresh budget."""
    token = _current.set(RenderBudget())
    try:
        yield _current.get()  # type: ignore[misc]
    finally:
        _current.reset(token)


def tick(count: int = 1) -> None:
    # Outside a render (constant folding at compile time) there is nothing to charge.
    budget = _current.get()
    if budget is not None:
        budget.tick(count)


def emit(chars: int) -> None:
    budget = _current.get()
    if budget is not None:
        budget.emit(chars)


def charge(value: Any) -> Any:
    """Refuse oversized results and count what was built; returns `value`."""
    if isinstance(value, (str, list, tuple, dict, set, frozenset)):
        if len(value) > MAX_STRING:
            raise TemplateLimitError(f"value longer than {MAX_STRING} items or characters")
        budget = _current.get()
        if budget is not None:
            budget.allocate(len(value))
    return value


def text_size(value: Any, limit: int = MAX_STRING) -> int:
    """Rough length of str(value), stopping early once it passes `limit`."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, Mapping):
        items: Any = (part for pair in value.items() for part in pair)
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = iter(value)
    else:
        return 32
    total = 2
    for item in items:
        total += text_size(item, limit) + 2
        if total > limit:
            break
    return total


def check_text_size(*values: Any) -> None:
    """Refuse arguments whose string form would already be too long."""
    for value in values:
        if text_size(value) > MAX_STRING:
            raise TemplateLimitError("argument too long")


def check_width(value: Any) -> None:
    if isinstance(value, int) and abs(value) > MAX_STRING:
        raise TemplateLimitError(f"number {value} is too large here")


def check_expansion(estimate: int) -> None:
    if estimate > MAX_STRING:
        raise TemplateLimitError(f"result would be longer than {MAX_STRING} characters")


_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")


def check_percent_format(fmt: str) -> None:
    """Printf-style widths allocate before we see the result: cap them up front."""
    total = len(fmt)
    for width, precision in _PERCENT_SPEC.findall(fmt):
        if "*" in (width, precision):
            raise TemplateLimitError("'*' widths are not allowed in format strings")
        total += int(width or 0) + int(precision or 0)
    check_expansion(total)


def check_brace_format(fmt: str) -> None:
    """Same for str.format: no nested {…} widths, and the stated widths stay small."""
    total = len(fmt)
    for _literal, _name, spec, _conversion in Formatter().parse(fmt):
        if not spec:
            continue
        if "{" in spec:
            raise TemplateLimitError("nested format fields are not allowed")
        total += sum(int(number) for number in re.findall(r"\d+", spec))
    check_expansion(total)


def guarded_range(*args: int) -> range:
    """`range` for templates: short, and every step is charged by the loop."""
    for arg in args:
        check_width(arg)
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise TemplateLimitError(f"range longer than {MAX_RANGE}")
    return numbers


def iterate(iterable: Any) -> Iterator[Any]:
    """Wraps every for-loop's iterable so each iteration costs one operation."""
    for item in iterable:
        tick()
        yield item
