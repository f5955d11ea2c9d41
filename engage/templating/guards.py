"""Size checks for the operations that can multiply text in a single step.

Most operations grow their input by a bounded factor, so checking the result (`charge`) is
enough. The ones below can grow it by a factor the template chooses (`'x' * n`, `replace`,
`join`, `indent`, widths in format strings), so they are estimated before they run.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from typing import Any

from jinja2 import Environment
from jinja2.nodes import EvalContext
from jinja2.runtime import Context
from jinja2.sandbox import SecurityError

from engage.templating import limits
from engage.templating.limits import TemplateLimitError, check_expansion, text_size

_SIZED = (str, list, tuple)


def _multiply(left: Any, right: Any) -> Any:
    if isinstance(left, int) and isinstance(right, _SIZED):
        left, right = right, left
    if isinstance(left, _SIZED) and isinstance(right, int):
        check_expansion(len(left) * max(right, 0))
    elif _both_ints(left, right) and left.bit_length() + right.bit_length() > limits.MAX_INT_BITS:
        raise TemplateLimitError("number too large")
    return operator.mul(left, right)


def _both_ints(left: Any, right: Any) -> bool:
    return isinstance(left, int) and isinstance(right, int)


def _power(left: Any, right: Any) -> Any:
    if _both_ints(left, right) and right > 0:
        if max(left.bit_length(), 1) * right > limits.MAX_INT_BITS:
            raise TemplateLimitError("number too large")
    elif isinstance(right, (int, float)) and abs(right) > limits.MAX_INT_BITS:
        raise TemplateLimitError("exponent too large")
    return operator.pow(left, right)


def _add(left: Any, right: Any) -> Any:
    if isinstance(left, _SIZED) and isinstance(right, _SIZED):
        check_expansion(len(left) + len(right))
    return operator.add(left, right)


def _modulo(left: Any, right: Any) -> Any:
    if isinstance(left, str):
        limits.check_percent_format(left)
        limits.check_text_size(right)
    return operator.mod(left, right)


BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "*": _multiply,
    "**": _power,
    "+": _add,
    "%": _modulo,
}


def call_binop(op: str, left: Any, right: Any) -> Any:
    limits.tick()
    return limits.charge(BINOPS[op](left, right))


# --- string methods -------------------------------------------------------------------------

# Methods a template may call on strings; the rest (expandtabs, translate, maketrans, encode
# variants…) either multiply text or are useless in a message.
STR_METHODS = frozenset(
    [
        "capitalize",
        "casefold",
        "center",
        "count",
        "endswith",
        "find",
        "format",
        "format_map",
        "index",
        "isalnum",
        "isalpha",
        "isdecimal",
        "isdigit",
        "islower",
        "isnumeric",
        "isspace",
        "istitle",
        "isupper",
        "join",
        "ljust",
        "lower",
        "lstrip",
        "partition",
        "removeprefix",
        "removesuffix",
        "replace",
        "rfind",
        "rindex",
        "rjust",
        "rpartition",
        "rsplit",
        "rstrip",
        "split",
        "splitlines",
        "startswith",
        "strip",
        "swapcase",
        "title",
        "upper",
        "zfill",
        "escape",
        "striptags",
        "unescape",
    ]
)
_WIDTH_METHODS = frozenset({"center", "ljust", "rjust", "zfill"})


def _replace_size(text: str, old: Any, new: Any, count: Any = -1) -> int:
    if not isinstance(text, str):
        return 0
    hits = text.count(str(old)) if str(old) else len(text) + 1
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    return len(text) + hits * text_size(new)


def _join_size(separator: Any, items: Any) -> int:
    return sum(text_size(item) for item in items) + text_size(separator) * len(items)


def check_method_call(obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """Vet a method call on a string before it runs; returns the (possibly listed) args."""
    target = getattr(obj, "__self__", None)
    name = getattr(obj, "__name__", "")
    if not isinstance(target, str) or not callable(obj):
        return args
    if name not in STR_METHODS:
        raise SecurityError(f"string method {name!r} is not available in templates")
    if name in _WIDTH_METHODS:
        for arg in args:
            limits.check_width(arg)
    elif name == "replace" and len(args) >= 2:
        check_expansion(_replace_size(target, *args[:3]))
    elif name == "join" and args:
        items = list(args[0])
        check_expansion(_join_size(target, items))
        args = (items, *args[1:])
    return args


# --- filters --------------------------------------------------------------------------------


def _value_index(args: tuple[Any, ...]) -> int:
    # pass_context / pass_eval_context / pass_environment filters get that object first.
    return 1 if args and isinstance(args[0], (Context, EvalContext, Environment)) else 0


def _check_join(value: Any, rest: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    check_expansion(_join_size(rest[0] if rest else kwargs.get("d", ""), value))


def _check_replace(value: Any, rest: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if len(rest) >= 2:
        check_expansion(_replace_size(str(value), *rest[:3]))


def _check_indent(value: Any, rest: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    width = rest[0] if rest else kwargs.get("width", 4)
    limits.check_width(width)
    pad = width if isinstance(width, int) else text_size(width)
    text = str(value) if isinstance(value, str) else ""
    check_expansion(len(text) + (text.count("\n") + 1) * max(pad, 0))


def _check_wordwrap(value: Any, rest: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    width = rest[0] if rest else kwargs.get("width", 79)
    limits.check_width(width)
    wrapstring = rest[2] if len(rest) > 2 else kwargs.get("wrapstring") or "\n"
    text = str(value) if isinstance(value, str) else ""
    lines = len(text) // max(int(width), 1) + text.count("\n") + 1
    check_expansion(len(text) + lines * text_size(wrapstring))


def _check_format(value: Any, rest: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if isinstance(value, str):
        limits.check_percent_format(value)


def _check_widths(value: Any, rest: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    for arg in (*rest, *kwargs.values()):
        limits.check_width(arg)


_FILTER_CHECKS: dict[str, Callable[[Any, tuple[Any, ...], dict[str, Any]], None]] = {
    "join": _check_join,
    "replace": _check_replace,
    "indent": _check_indent,
    "wordwrap": _check_wordwrap,
    "format": _check_format,
    "center": _check_widths,
    "slice": _check_widths,
    "batch": _check_widths,
}


def guard_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a filter so it is charged, vetted and size-checked like any other call."""
    check = _FILTER_CHECKS.get(name)

    @functools.wraps(func)  # also copies jinja_pass_arg, so pass_context keeps working
    def guarded(*args: Any, **kwargs: Any) -> Any:
        limits.tick()
        index = _value_index(args)
        value, rest = (args[index] if len(args) > index else None), args[index + 1 :]
        if name == "join" and not isinstance(value, (str, list, tuple)):
            # A lazy iterable cannot be measured without running it; bounded inputs keep
            # the list small, and measuring it stops `range(1000)|join(long_text)`.
            value = list(value)
            args = (*args[:index], value, *rest)
        limits.check_text_size(value, *rest, *kwargs.values())
        if check is not None:
            check(value, rest, kwargs)
        return limits.charge(func(*args, **kwargs))

    return guarded


def guard_filters(filters: dict[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    return {name: guard_filter(name, func) for name, func in filters.items()}
