"""The sandboxed Jinja environment marketers' templates run in.

On top of Jinja's ImmutableSandboxedEnvironment (no underscore attributes, no Python internals,
no mutation of lists and dicts) it charges every call, loop iteration and string-building step
to the render budget in `limits`, and refuses string methods that multiply text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined, Undefined, nodes, pass_context, pass_eval_context
from jinja2.nodes import EvalContext
from jinja2.runtime import Context, markup_join, str_join
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer

from engage.templating import guards, limits

ITERATE_FILTER = "_engage_iterate"
CONCAT_FILTER = "_engage_concat"
EMIT_FILTER = "_engage_emit"


def _finalize(value: Any) -> Any:
    """Print None as nothing, and charge every printed value to the output budget."""
    if value is None:
        return ""
    if isinstance(value, str) or hasattr(value, "__html__"):
        text = value
    else:
        limits.check_text_size(value)
        _raise_if_undefined(value)
        text = str(value)  # StrictUndefined raises here, which is the point
    limits.emit(len(str(text)))
    return text


def _raise_if_undefined(value: Any) -> None:
    # A list would print an undefined (e.g. a refused attribute) as "Undefined" instead of
    # failing; make it fail like a bare one.
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    if isinstance(value, Mapping):
        value = [*value.keys(), *value.values()]
    if isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            _raise_if_undefined(item)


def _iterate_filter(value: Any) -> Any:
    return limits.iterate(value)


@pass_eval_context
def _concat_filter(eval_ctx: EvalContext, items: list[Any]) -> str:
    limits.tick()
    limits.check_expansion(sum(limits.text_size(item) for item in items))
    join = markup_join if eval_ctx.autoescape else str_join
    # None joins as nothing, as it prints: `first_name ~ " " ~ last_name` with no last name.
    return limits.charge(join("" if item is None else item for item in items))


@pass_context  # pass_context keeps Jinja from folding it away at compile time
def _emit_filter(_context: Context, chars: int) -> str:
    limits.emit(chars)
    return ""


class _Harden(NodeTransformer):
    """Route loops, `~` and literal output through the budget-charging filters."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = _filter(node.iter, ITERATE_FILTER)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        items = nodes.List(list(node.nodes), lineno=node.lineno)
        return _filter(items, CONCAT_FILTER)

    def visit_Output(self, node: nodes.Output) -> nodes.Node:
        self.generic_visit(node)
        # Literal text inside a loop or macro is emitted again and again; charge it too.
        literal = sum(len(n.data) for n in node.nodes if isinstance(n, nodes.TemplateData))
        if literal:
            node.nodes.append(_filter(nodes.Const(literal, lineno=node.lineno), EMIT_FILTER))
        return node


def _filter(node: nodes.Expr, name: str) -> nodes.Filter:
    return nodes.Filter(node, name, [], [], None, None, lineno=node.lineno)


class EngageSandbox(ImmutableSandboxedEnvironment):
    """Sandbox with resource limits; build one per escaping mode (html vs text)."""

    intercepted_binops = frozenset(guards.BINOPS)

    def __init__(self, *, autoescape: bool) -> None:
        super().__init__(
            autoescape=autoescape,
            undefined=StrictUndefined,
            finalize=_finalize,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
        )
        self.globals.pop("lipsum", None)  # lipsum(n=10**9) is a free memory bomb
        self.globals["range"] = limits.guarded_range
        self.filters = guards.guard_filters(dict(self.filters))
        self.filters[ITERATE_FILTER] = _iterate_filter
        self.filters[CONCAT_FILTER] = _concat_filter
        self.filters[EMIT_FILTER] = _emit_filter

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        return _Harden().visit(tree)  # type: ignore[no-any-return]

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        return guards.call_binop(operator, left, right)

    def wrap_str_format(self, value: Any) -> Any:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            limits.check_brace_format(value.__self__)
        return wrapped

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        limits.tick()
        limits.check_text_size(*args, *kwargs.values())
        args = guards.check_method_call(obj, args, kwargs)
        return limits.charge(super().call(context, obj, *args, **kwargs))
