"""Locale-aware filters: money, date, number and points.

Filters read the render's locale from the context (LOCALE_KEY) so one compiled template serves
every language. Babel separates amounts with no-break spaces ("€\xa010,00"); in SMS that one
character turns the whole message into UCS-2 and doubles its cost, so text output gets plain
spaces while HTML keeps the no-break ones.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from jinja2 import pass_context
from jinja2.runtime import Context

LOCALE_KEY = "_locale"
DEFAULT_CURRENCY = "EUR"
_NO_BREAK_SPACES = str.maketrans({"\xa0": " ", "\u202f": " "})

# Noun forms for "N points" by CLDR plural category. Romanian needs three: "1 punct",
# "19 puncte", "20 de puncte".
_POINT_NOUNS: dict[str, dict[str, str]] = {
    "en": {"one": "{n} point", "other": "{n} points"},
    "nl": {"one": "{n} punt", "other": "{n} punten"},
    "de": {"one": "{n} Punkt", "other": "{n} Punkte"},
    "ro": {"one": "{n} punct", "few": "{n} puncte", "other": "{n} de puncte"},
}


@functools.lru_cache(maxsize=64)
def babel_locale(tag: str | None) -> Locale:
    """Best Babel locale for a tag like 'nl_BE' or 'de-AT'; English if unknown."""
    for candidate in (tag, (tag or "").replace("-", "_").split("_")[0]):
        try:
            return Locale.parse((candidate or "").replace("-", "_"))
        except (ValueError, TypeError, UnknownLocaleError):
            continue
    return Locale("en")


def _locale(context: Context) -> Locale:
    return babel_locale(context.get(LOCALE_KEY))


def _for_output(context: Context, text: str) -> str:
    return text if context.eval_ctx.autoescape else text.translate(_NO_BREAK_SPACES)


def _decimal(value: Any) -> Decimal:
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None


def _as_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return datetime.fromisoformat(value).date() if "T" in value else date.fromisoformat(value)
    raise ValueError(f"not a date: {value!r}")


@pass_context
def money(context: Context, amount: Any, currency: str | None = None) -> str:
    """`{{ purchase.amount|money(purchase.currency) }}` → "€ 42,50" in nl."""
    if amount is None:
        return ""
    text = format_currency(
        _decimal(amount), (currency or DEFAULT_CURRENCY).upper(), locale=_locale(context)
    )
    return _for_output(context, text)


@pass_context
def date_(context: Context, value: Any, style: str = "medium") -> str:
    """`{{ expiring.date|date }}` (medium) or `|date('long')`; other strings are CLDR patterns."""
    if value is None:
        return ""
    text = format_date(_as_date(value), format=style, locale=_locale(context))
    return _for_output(context, text)


@pass_context
def number(context: Context, value: Any, pattern: str | None = None) -> str:
    """`{{ member.points|number }}` → "1.250" in de."""
    if value is None:
        return ""
    return _for_output(context, _formatted(str(_decimal(value)), pattern, _locale(context)))


@pass_context
def points(context: Context, value: Any) -> str:
    """`{{ member.points|points }}` → "620 de puncte" in ro, "1 Punkt" in de."""
    if value is None:
        return ""
    return _for_output(context, _points_text(str(_decimal(value)), _locale(context)))


# Points and numbers are formatted over and over with the same few values (every answer to
# POINTS, every reminder); Babel's formatting was a quarter of rendering such an answer. The
# caches are keyed on the number's text, not the Decimal: 1 and 1.0 (or 0 and -0) are equal
# Decimals, yet they plural and format differently.
@functools.lru_cache(maxsize=4096)
def _formatted(value: str, pattern: str | None, locale: Locale) -> str:
    return format_decimal(Decimal(value), format=pattern, locale=locale)


@functools.lru_cache(maxsize=4096)
def _points_text(count: str, locale: Locale) -> str:
    nouns = _POINT_NOUNS.get(locale.language, _POINT_NOUNS["en"])
    form = nouns.get(locale.plural_form(Decimal(count)), nouns["other"])
    return form.format(n=_formatted(count, None, locale))


LOCALE_FILTERS: dict[str, Callable[..., str]] = {
    "money": money,
    "date": date_,
    "number": number,
    "points": points,
}
