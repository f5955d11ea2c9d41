"""The sandboxed Jinja environment marketers' templates run in.

Jinja's ImmutableSandboxedEnvironment already refuses underscore attributes, Python internals,
unsafe callables, changes to lists and dicts, and ranges past its MAX_RANGE. On top of it every
call, filter, operator, loop iteration and `~` is charged to the render budget in `limits`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from jinja2 import Environment, StrictUndefined, nodes, pass_context, pass_eval_context
from jinja2.nodes import EvalContext
from jinja2.runtime import Context, markup_join, str_join
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer

from engage.templating import limits

ITERATE, CONCAT = "_engage_iterate", "_engage_concat"
# expandtabs and translate multiply text in ways the size checks don't model; encode and
# maketrans are no use in a message.
REFUSED_STR_METHODS = frozenset({"expandtabs", "translate", "maketrans", "encode"})


class _Undefined(StrictUndefined):
    # A list prints its items' repr: an undefined in it (a refused attribute) must fail too.
    __repr__ = StrictUndefined._fail_with_undefined_error


def _listed(value: Any) -> Any:
    # A lazy iterable can't be measured without running it; its items come from bounded inputs.
    return list(value) if isinstance(value, Iterator) else value


def _finalize(value: Any) -> Any:
    # None prints as nothing (a member without a last name); what is printed is charged.
    return "" if value is None else limits.built(value)


def _charged(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)  # also copies jinja_pass_arg: pass_context filters still get theirs
    def filter_(*args: Any, **kwargs: Any) -> Any:
        limits.spend()
        skip = 1 if isinstance(args[0], (Context, EvalContext, Environment)) else 0
        value, *rest = map(_listed, args[skip:])
        limits.check_step(name, value, (*rest, *kwargs.values()))
        return limits.built(func(*args[:skip], value, *rest, **kwargs))

    return filter_


@pass_context  # never folded at compile time: each iteration is charged as it runs
def _iterate(_context: Context, iterable: Any, body_chars: int) -> Iterator[Any]:
    for item in iterable:
        limits.spend(1, body_chars)  # the loop body's own text is output again each time
        yield item


@pass_eval_context
def _concat(eval_ctx: EvalContext, items: list[Any]) -> Any:
    limits.spend()
    limits.check_step("~", "", items)
    join = markup_join if eval_ctx.autoescape else str_join
    # None joins as nothing, as it prints: `first_name ~ " " ~ last_name` with no last name.
    return limits.built(join("" if item is None else item for item in items))


class _Hooks(NodeTransformer):
    """Route loops and `~` through the filters above: the sandbox has no hook for either."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        text = sum(len(t.data) for part in node.body for t in part.find_all(nodes.TemplateData))
        node.iter = _filter(node.iter, ITERATE, nodes.Const(text, lineno=node.lineno))
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return _filter(nodes.List(node.nodes, lineno=node.lineno), CONCAT)


def _filter(node: nodes.Expr, name: str, *args: nodes.Expr) -> nodes.Filter:
    return nodes.Filter(node, name, list(args), [], None, None, lineno=node.lineno)


class EngageSandbox(ImmutableSandboxedEnvironment):
    """Sandbox with a render budget; build one per escaping mode (html vs text)."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, *, autoescape: bool, filters: Mapping[str, Callable[..., Any]]) -> None:
        super().__init__(autoescape=autoescape, undefined=_Undefined, finalize=_finalize,
                         trim_blocks=True, lstrip_blocks=True, auto_reload=False)
        del self.globals["lipsum"]  # lipsum(n=10**9) builds its text out of our sight
        every = {**self.filters, **filters}
        self.filters = {name: _charged(name, func) for name, func in every.items()}
        self.filters.update({ITERATE: _iterate, CONCAT: _concat})

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        return _Hooks().visit(super()._parse(source, name, filename))  # type: ignore[no-any-return]

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, str) and attr in REFUSED_STR_METHODS:
            return False
        if isinstance(obj, int):
            return False  # (1).to_bytes(10**9) and friends; a message needs no int methods
        return super().is_safe_attribute(obj, attr, value)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        limits.spend()
        if operator in ("*", "**") and type(left) is int and type(right) is int:
            limits.check_number(operator, left, right)
        elif operator == "*" and isinstance(left, int):
            limits.check_step(operator, right, (left,))  # 3 * 'ab': the int is the count
        else:
            limits.check_step(operator, left, (right,))
        return limits.built(super().call_binop(context, operator, left, right))

    def call(__self, __context: Context, __obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        limits.spend()
        method = getattr(__obj, "__wrapped__", __obj)  # the sandbox hands out str.format wrapped
        target = getattr(method, "__self__", None)
        name = method.__name__ if isinstance(target, str) else ""
        args = tuple(map(_listed, args))
        limits.check_step(name, target if name else "", (*args, *kwargs.values()))
        return limits.built(super().call(__context, __obj, *args, **kwargs))

