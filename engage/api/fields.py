"""Fields that accept exactly what the OpenAPI document says they accept.

marshmallow is lenient by default: `0` and `"yes"` pass as booleans, `"5"` and `true` as integers,
a JSON number as a decimal. A client reading the document (or a fuzzer generating from it) must be
able to trust it both ways, so body fields take JSON's own types only, decimals travel as strings
with their shape declared, and locales and time zones name their whole set (a component schema
each, so the document carries the lists once).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from functools import cache
from zoneinfo import available_timezones

from babel import localedata
from marshmallow import fields

ID_MAX = 2**31 - 1  # ids of members, rewards, tiers …: PostgreSQL `integer` columns


class Bool(fields.Boolean):
    """JSON true or false, nothing truthy."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class Int(fields.Integer):
    """A JSON integer: not a string of digits, not 5.0, not true."""

    def __init__(self, **kwargs) -> None:
        super().__init__(strict=True, **kwargs)

    def _validated(self, value):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._validated(value)


class QueryInt(fields.Integer):
    """An integer in a query string: ASCII digits with an optional minus, nothing int() also takes
    ("+5", " 5", "1_000", other scripts' digits)."""

    def _validated(self, value):
        if isinstance(value, str) and not re.fullmatch(r"-?[0-9]+", value):
            raise self.make_error("invalid")
        return super()._validated(value)


def decimal_pattern(whole_digits: int, places: int) -> str:
    """0 up to 10**whole_digits inclusive, with at most `places` decimals ("100", "25.90")."""
    top = "1" + "0" * whole_digits
    return (rf"^(?:{top}(?:\.0{{1,{places}}})?|[0-9]{{1,{whole_digits}}}(?:\.[0-9]{{1,{places}}})?)$")


class DecimalString(fields.Decimal):
    """A non-negative decimal sent and answered as a JSON string ("25.90"), never a float."""

    def __init__(self, *, whole_digits: int, places: int, example: str, **kwargs) -> None:
        self.pattern = decimal_pattern(whole_digits, places)
        metadata = {"type": "string", "pattern": self.pattern, "example": example, **kwargs.pop("metadata", {})}
        super().__init__(as_string=True, metadata=metadata, **kwargs)
        self.error_messages["invalid"] = (
            f"Must be a decimal string such as \"{example}\": up to {10 ** whole_digits}, "
            f"at most {places} decimals.")

    def _deserialize(self, value, attr, data, **kwargs) -> Decimal:
        if not isinstance(value, str) or not re.fullmatch(self.pattern, value):
            raise self.make_error("invalid")
        return Decimal(value)  # the pattern admits nothing Decimal refuses


@cache
def locales() -> frozenset[str]:
    """Every locale Babel has data for, as 'nl_BE' and as 'nl-BE', at most 10 characters
    (members' locale column)."""
    tags = {tag for tag in localedata.locale_identifiers() if len(tag) <= 10 and tag != "root"}
    return frozenset(tags | {tag.replace("_", "-") for tag in tags})


@cache
def time_zones() -> frozenset[str]:
    """Every IANA time zone this machine knows."""
    return frozenset(available_timezones())


class Listed(fields.String):
    """A string from a long list the document carries once, as the component schema `component`."""

    def __init__(self, component: str, members: Callable[[], frozenset[str]], message: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.component, self.members = component, members
        self.error_messages["unknown"] = message

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        value = super()._deserialize(value, attr, data, **kwargs)
        if value not in self.members():
            raise self.make_error("unknown")
        return value


def locale_field(**kwargs) -> Listed:
    return Listed("Locale", locales, "Not a known locale (e.g. en, nl, de, ro, nl-BE).", **kwargs)


def time_zone_field(**kwargs) -> Listed:
    return Listed("TimeZone", time_zones, "Not an IANA time zone (e.g. Europe/Amsterdam).", **kwargs)


COMPONENTS = {
    "Locale": lambda: {"type": "string", "enum": sorted(locales()),
                       "description": "A locale Babel knows, 'nl_BE' or 'nl-BE' (at most 10 characters)."},
    "TimeZone": lambda: {"type": "string", "enum": sorted(time_zones()),
                         "description": "An IANA time zone name, e.g. Europe/Amsterdam."},
}


def listed_as_reference(_converter, field, **_kwargs) -> dict:
    """apispec attribute function: a Listed field points at its component schema."""
    if isinstance(field, Listed):
        return {"allOf": [{"$ref": f"#/components/schemas/{field.component}"}]}
    return {}
