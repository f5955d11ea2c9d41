"""Each flow's parameters: one frozen dataclass a flow, with its defaults and what a valid value is.

flow_settings.params stores a JSON object of the values a marketer changed; `from_stored` reads
it over the defaults, `as_json` writes one back, `problems` checks a change and `json_schema`
describes a flow's parameters for the API document.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields


@dataclass(frozen=True)
class WholeNumber:
    """A whole number from `low` to `high` (not a bool, not a float)."""

    low: int
    high: int

    def problem(self, value) -> str | None:
        if type(value) is not int or not self.low <= value <= self.high:
            return f"must be a whole number from {self.low} to {self.high}"
        return None

    def read(self, stored) -> int:
        return int(stored)

    def write(self, value: int) -> int:
        return value

    def schema(self) -> dict:
        return {"type": "integer", "minimum": self.low, "maximum": self.high}


@dataclass(frozen=True)
class DistinctDays:
    """A non-empty list of whole numbers of days from `low` to `high`, none repeated."""

    low: int
    high: int

    def problem(self, value) -> str | None:
        day = WholeNumber(self.low, self.high)
        if not isinstance(value, list) or not value or any(day.problem(each) for each in value):
            return f"must be a non-empty list of whole numbers of days from {self.low} to {self.high}"
        return None if len(set(value)) == len(value) else "must not repeat a day"

    def read(self, stored) -> tuple[int, ...]:
        return tuple(int(day) for day in stored)

    def write(self, value: tuple[int, ...]) -> list[int]:
        return list(value)

    def schema(self) -> dict:
        return {"type": "array", "items": WholeNumber(self.low, self.high).schema(), "minItems": 1,
                "uniqueItems": True}


def _param(default, rule: WholeNumber | DistinctDays, description: str):
    return field(default=default, metadata={"rule": rule, "description": description})


@dataclass(frozen=True)
class WelcomeParams:
    """welcome takes no parameters."""


@dataclass(frozen=True)
class TierCongratulationsParams:
    """tier_congratulations takes no parameters."""


@dataclass(frozen=True)
class OfferParams:
    """offer takes no parameters (the offer rules are program settings)."""


@dataclass(frozen=True)
class RedemptionReminderParams:
    repeat_days: int = _param(30, WholeNumber(1, 365), "days before reminding again while unredeemed")


@dataclass(frozen=True)
class ExpiryWarningParams:
    offsets_days: tuple[int, ...] = _param((30, 7), DistinctDays(1, 365),
                                           "warn this many days before points expire (each once)")


@dataclass(frozen=True)
class FeedbackRequestParams:
    min_days_between: int = _param(30, WholeNumber(0, 365),
                                   "at most one request per member in this many days")


@dataclass(frozen=True)
class MembershipRenewalParams:
    notice_days: int = _param(7, WholeNumber(1, 60), "remind this many days before a paid membership lapses")


@dataclass(frozen=True)
class ChallengeProgressParams:
    """challenge_progress takes no parameters."""


FlowParams = (WelcomeParams | RedemptionReminderParams | ExpiryWarningParams | TierCongratulationsParams
              | FeedbackRequestParams | MembershipRenewalParams | ChallengeProgressParams | OfferParams)

PARAMS: dict[str, type[FlowParams]] = {
    "welcome": WelcomeParams,
    "redemption_reminder": RedemptionReminderParams,
    "expiry_warning": ExpiryWarningParams,
    "tier_congratulations": TierCongratulationsParams,
    "feedback_request": FeedbackRequestParams,
    "membership_renewal": MembershipRenewalParams,
    "challenge_progress": ChallengeProgressParams,
    "offer": OfferParams,
}


def _rules(params: FlowParams | type[FlowParams]) -> dict:
    return {each.name: each.metadata["rule"] for each in fields(params)}


def from_stored(flow: str, stored: dict | None) -> FlowParams:
    """The flow's parameters: the stored values over the defaults. A name the flow does not have,
    or a value that cannot be read as its type, keeps the default (the API never stores either)."""
    values = {}
    for name, rule in _rules(PARAMS[flow]).items():
        if name in (stored or {}):
            try:
                values[name] = rule.read(stored[name])
            except (TypeError, ValueError):
                continue
    return PARAMS[flow](**values)


def as_json(params: FlowParams) -> dict:
    """The parameters as stored and shown: a JSON object (lists for tuples)."""
    rules = _rules(params)
    return {name: rules[name].write(value) for name, value in asdict(params).items()}


def problems(flow: str, changes: dict) -> dict[str, list[str]]:
    """{name: [what is wrong]} for each changed parameter the flow lacks or whose value is invalid."""
    rules = _rules(PARAMS[flow])
    found = {}
    for name, value in changes.items():
        if name not in rules:
            found[name] = [f"{flow} has no parameter {name!r} (known: {', '.join(rules) or 'none'})"]
        elif (problem := rules[name].problem(value)) is not None:
            found[name] = [problem]
    return found


def json_schema(flow: str) -> dict:
    """The flow's parameters as a JSON Schema object, each with its default and meaning."""
    defaults = as_json(PARAMS[flow]())
    properties = {each.name: {**each.metadata["rule"].schema(), "default": defaults[each.name],
                              "description": each.metadata["description"]}
                  for each in fields(PARAMS[flow])}
    return {"title": flow, "type": "object", "properties": properties, "additionalProperties": False}
