"""The flow settings form: its fields read into the changes PATCH /api/v1/flows/{key} takes, checked
by the same schema and service, with each error put by its field."""

from __future__ import annotations

from dataclasses import fields

from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from engage.api.flows import FlowPatchSchema
from engage.messaging import flow_params

UNITS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
CHANNEL_SLOTS = ("channel_1", "channel_2")


def params_of(flow: str) -> list[dict]:
    """The flow's parameters as form fields: name, meaning, and whether it is a list of days."""
    return [{"name": each.name, "description": each.metadata["description"],
             "days": isinstance(each.metadata["rule"], flow_params.DistinctDays)}
            for each in fields(flow_params.PARAMS[flow])]


def delay_parts(seconds: int) -> tuple[int, str]:
    """The delay in the largest unit that shows it whole."""
    if seconds == 0:
        return 0, "minutes"
    unit = next(unit for unit in ("days", "hours", "minutes", "seconds") if seconds % UNITS[unit] == 0)
    return seconds // UNITS[unit], unit


def form_values(flow: dict) -> dict:
    """The current settings as the form shows them."""
    delay, unit = delay_parts(flow["delay"])
    values = {"enabled": flow["enabled"], "delay": str(delay), "delay_unit": unit}
    for slot, channel in zip(CHANNEL_SLOTS, list(flow["channels"]) + [""] * len(CHANNEL_SLOTS)):
        values[slot] = channel
    for name, value in flow["params"].items():
        values[name] = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return values


def _number(text: str):
    """A whole number from the form, or the text itself (so the check names what is wrong)."""
    text = text.strip()
    return int(text) if text.lstrip("-").isdigit() else text


def _days(text: str):
    parts = [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]
    numbers = [_number(part) for part in parts]
    return numbers if all(isinstance(n, int) for n in numbers) else text


def read(flow: str, form: MultiDict) -> tuple[dict, dict[str, str]]:
    """(changes, {field: error}) from a posted form."""
    errors: dict[str, str] = {}
    changes: dict = {"enabled": form.get("enabled") == "on",
                     "channels": [form.get(slot, "") for slot in CHANNEL_SLOTS if form.get(slot, "")]}
    delay, unit = _number(form.get("delay", "")), form.get("delay_unit", "")
    if not isinstance(delay, int):
        errors["delay"] = "Enter a whole number."
    elif unit not in UNITS:
        errors["delay"] = "Choose seconds, minutes, hours or days."
    else:
        changes["delay"] = delay * UNITS[unit]
    changes["params"] = {each["name"]: (_days if each["days"] else _number)(form.get(each["name"], ""))
                         for each in params_of(flow)}
    try:
        FlowPatchSchema().load({k: v for k, v in changes.items() if k != "params"})
    except ValidationError as error:
        errors.update({("channel_1" if name == "channels" else name): first_message(problems)
                       for name, problems in error.messages.items() if name not in errors})
    errors.update(service_errors({"params": flow_params.problems(flow, changes["params"])}))
    return changes, errors


def first_message(problems) -> str:
    """The first text in marshmallow's (possibly nested) messages."""
    while isinstance(problems, (list, dict)) and problems:
        problems = problems[0] if isinstance(problems, list) else next(iter(problems.values()))
    return str(problems)


def service_errors(errors: dict | None) -> dict[str, str]:
    """The service's 422 {"params": {name: [...]}} as {field: error}."""
    return {name: first_message(problems) for name, problems in ((errors or {}).get("params") or {}).items()}
