"""Marketers' templates are untrusted code: no Python internals, no runaway resources."""

from __future__ import annotations

import time

import pytest

from engage.templating import TemplateRenderError, render_part, sample_context

ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ member.__init__.__globals__ }}",
    "{{ member.first_name.__class__.__base__ }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ joiner.__init__.__globals__['os'] }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ self.__init__.__globals__ }}",
    "{{ range.__globals__ }}",
    "{{ '{0.__class__}'.format(member) }}",
    "{{ '{m.__class__.__mro__}'.format_map({'m': member}) }}",
    "{{ 'abc'.translate({97: 'x'}) }}",
    "{{ member|attr('__class__') }}",
    "{{ (tier.benefits|map(attribute='__class__')|list) }}",
    "{{ lipsum.__globals__ }}",
    "{{ config }}",
    "{{ request }}",
    "{% include '/etc/passwd' %}",
    "{% import 'os' as os %}",
    "{% extends '/etc/passwd' %}",
]

RESOURCE_ABUSE = [
    "{{ range(10**9)|list }}",
    "{% for i in range(10**9) %}{% endfor %}",
    "{{ 'x' * 10**9 }}",
    "{{ [1] * 10**9 }}",
    "{{ 9 ** 999999 }}",
    "{{ 1.5 ** 99999 }}",
    "{{ (2 ** 4000) * (2 ** 4000) }}",
    "{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}",
    "{% set ns = namespace(s='xx') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
    "{% set ns = namespace(s='xx') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
    "{{ '%999999999d'|format(1) }}",
    "{{ '%*d'|format(999999999, 1) }}",
    "{{ '%999999999d' % 1 }}",
    "{{ '{:>999999999}'.format(1) }}",
    "{{ '{:{}}'.format(1, 999999999) }}",
    "{{ 'x'.center(10**9) }}",
    "{{ 'x'|center(10**9) }}",
    "{{ 'x'.ljust(10**9) }}",
    "{{ ('x' * 1000).replace('x', 'y' * 1000) }}",
    "{{ ('x' * 1000)|replace('x', 'y' * 1000) }}",
    "{{ range(1000)|join('x' * 100000) }}",
    "{{ ('x' * 100000).join(range(1000)|map('string')) }}",
    "{{ ('a\n' * 50000)|indent('x' * 1000) }}",
    "{{ ('a' * 99999)|wordwrap(1, true, 'x' * 1000) }}",
    "{{ ('\t' * 1000).expandtabs(100000) }}",
    "{{ 'abc'.translate({97: 'x' * 100000}) }}",
    "{{ ([1] * 1000)|batch(10**9, 'x')|list }}",
    "{{ ([1] * 1000)|slice(10**9)|list }}",
    "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
    "{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(40) }}",
    "{% for i in range(1000) %}{% for j in range(19) %}{{ 'y' * 99999 }}{% endfor %}{% endfor %}",
    "{% set big %}{% for i in range(1000) %}{% for j in range(19) %}"
    + "x" * 2000
    + "{% endfor %}{% endfor %}{% endset %}{{ big|length }}",
    "{% set xs = ['x' * 99999] * 99999 %}{{ xs }}",
    "{% set xs = ['x' * 99999] * 99999 %}{{ xs|join }}",
    "{% set xs = ['x' * 99999] * 99999 %}{{ xs|map('upper')|list|length }}",
    "{% set xs = ['x' * 99999] * 99999 %}{{ xs|string|length }}",
    "{% set xs = ['x' * 99999] * 99999 %}{{ xs|tojson|length }}",
    "{% set xs = ['x' * 99999] * 99999 %}{{ '%s' % (xs,) }}",
    "{% set xs = ['x' * 99999] * 99999 %}{{ '{}'.format(xs) }}",
    "{{ (1).to_bytes(10**9, 'big')|length }}",
    "{% set f = '{0}' * 30000 %}{{ f.format('x' * 99999)|length }}",
    "{% set f = '%(a)s' * 20000 %}{{ (f % {'a': 'x' * 99999})|length }}",
    "{% set xs = range(10000)|list %}{{ ('x' * 3000).join(xs|map('string'))|length }}",
    "{% set a = 'x' * 99999 %}{% set b = [a, a, a, a, a, a, a, a, a, a] %}{{ b|length }}",
]


def render(source: str, field: str = "body") -> str:
    return render_part(field, source, sample_context("en"), "en")


@pytest.mark.parametrize("source", ESCAPES)
@pytest.mark.parametrize("field", ["body", "html"])
def test_escapes_fail_cleanly(source: str, field: str) -> None:
    with pytest.raises(TemplateRenderError):
        render(source, field)


@pytest.mark.parametrize("source", RESOURCE_ABUSE)
def test_resource_abuse_fails_fast(source: str) -> None:
    started = time.monotonic()
    with pytest.raises(TemplateRenderError):
        render(source)
    assert time.monotonic() - started < 5


def test_harmless_safe_looking_expressions_still_work() -> None:
    source = (
        "{{ member.first_name|upper }} {{ '%s-%d'|format('a', 3) }} {{ '{} {}'.format(1, 2) }} "
        "{{ range(3)|join(',') }} {{ 2 ** 10 }} {{ 'ab' * 2 }} {{ [1] + [2] }} {{ 7 % 3 }} "
        "{% for b in tier.benefits %}{{ loop.index }}{% else %}-{% endfor %} "
        "{{ 'a,b'.split(',')|length }} {{ ' x '.strip() }}"
    )
    assert render(source) == "ALEX a-3 1 2 0,1,2 1024 abab [1, 2] 1 12 2 x"


def test_values_up_to_the_limits_still_work() -> None:
    assert render("{{ ('x' * 100000)|length }} {{ (2 ** 2000)|string|length }}") == "100000 603"
    assert render("{{ ('ab' * 2000)|replace('a', 'cd')|length }}") == "6000"
    assert render("{{ tier.benefits|map('upper')|join(', ') }}") == "FREE SHIPPING, 25% MORE POINTS"


def test_loops_keep_loop_variables() -> None:
    source = (
        "{% for x in [[1, [2]], [3]] recursive %}<{{ x if x is number else loop(x) }}>{% endfor %}"
        "|{% for a, b in [(1, 2)] %}{{ a }}{{ b }}{% endfor %}"
        "|{% for b in tier.benefits %}{{ loop.revindex }}{% if loop.last %}!{% endif %}{% endfor %}"
    )
    assert render(source) == "<<1><<2>>><<3>>|12|21!"


def test_lists_and_dicts_cannot_be_mutated() -> None:
    with pytest.raises(TemplateRenderError):
        render("{{ tier.benefits.append('free car') }}")
    with pytest.raises(TemplateRenderError):
        render("{{ member.update({'points': 10**6}) }}")


def test_output_is_capped() -> None:
    # Each piece is small; the total is what is too long.
    with pytest.raises(TemplateRenderError, match="longer than"):
        render("{% for i in range(1000) %}{{ 'y' * 500 }}{% endfor %}")


def test_a_long_but_reasonable_email_renders() -> None:
    html = "<p>{{ member.first_name }}</p>" + "<p>Lorem ipsum dolor sit amet.</p>" * 1500
    assert len(render(html, "html")) > 40_000

