"""Program, tier and reward forms: their fields read into the JSON bodies PATCH /api/v1/program,
PATCH /api/v1/tiers/{id} and POST/PATCH /api/v1/rewards take, checked by the same schemas, with
each error put by its field. A nested setting's field is named "parent-child" (quiet_hours-start)."""

from __future__ import annotations

from flask import abort
from marshmallow import Schema, ValidationError
from werkzeug.datastructures import MultiDict

from engage import safe_json
from engage.console.flow_form import first_message

# How a form's text becomes the JSON value the schema checks (the API's fields take JSON's own
# types only, so a number must be an int, not its text).
INT, TEXT, OPTIONAL, OPTIONAL_INT, LINES, CHECK = "int", "text", "optional", "optional_int", "lines", "check"

PROGRAM_FIELDS = {
    "name": TEXT, "currency": TEXT, "default_locale": TEXT, "timezone": TEXT, "phone_region": OPTIONAL,
    "help_text": TEXT, "charity_name": TEXT, "points_per_currency_unit": INT, "max_purchase_amount": TEXT,
    **{f"action_points-{action}": INT for action in
       ("signup", "newsletter_signup", "social_follow", "review", "feedback", "reply", "referral")},
    "reply_daily_cap": INT, "lot_lifetime_days": INT, "qualifying_window_days": INT,
    "quiet_hours-start": TEXT, "quiet_hours-end": TEXT, "sms_daily_cap": INT, "sms_weekly_cap": INT,
    "max_sms_segments": INT,
    "giving_back-enabled": CHECK, "giving_back-cause": TEXT, "giving_back-mode": TEXT, "giving_back-percent": TEXT,
    "giving_back-points_per_purchase": INT, "giving_back-point_value": TEXT,
}
TIER_FIELDS = {"name": TEXT, "threshold": INT, "multiplier": TEXT, "benefits": LINES, "paid": CHECK}
REWARD_FIELDS = {"name": TEXT, "kind": TEXT, "cost": INT, "value": OPTIONAL, "min_tier": OPTIONAL, "active": CHECK,
                 "category": OPTIONAL, "stock": OPTIONAL_INT, "starts_at": OPTIONAL, "ends_at": OPTIONAL,
                 "early_access_from": OPTIONAL, "early_access_tiers": LINES, "partner": OPTIONAL,
                 "low_codes_threshold": OPTIONAL_INT}


def value_of(kind: str, form: MultiDict, name: str):
    """One posted field as the JSON value the API's schema checks."""
    text = form.get(name, "")
    if kind == CHECK:
        return text == "on"
    text = text.strip()
    if kind == OPTIONAL_INT and not text:
        return None
    if kind in (INT, OPTIONAL_INT):
        # The text itself when it is no whole number, so the schema's own message names the problem.
        return int(text) if text.lstrip("-").isdigit() else text
    if kind == OPTIONAL:
        return text or None
    if kind == LINES:
        return [line.strip() for line in text.splitlines() if line.strip()]
    return text


def values(current: dict, spec: dict[str, str]) -> dict[str, object]:
    """The current object as the form shows it."""
    shown = {}
    for name, kind in spec.items():
        value = current
        for part in name.split("-"):
            value = value.get(part) if isinstance(value, dict) else None
        if kind == LINES:
            shown[name] = "\n".join(value or [])
        elif kind == CHECK:
            shown[name] = bool(value)
        else:
            shown[name] = "" if value is None else str(value)
    return shown


def posted(form: MultiDict, spec: dict[str, str]) -> dict[str, object]:
    """The posted form as it is shown again (with its errors)."""
    return {name: (form.get(name) == "on" if kind == CHECK else form.get(name, "")) for name, kind in spec.items()}


def read(form: MultiDict, spec: dict[str, str], schema: Schema) -> tuple[dict, dict[str, str]]:
    """(the checked body, {field: error}) from a posted form."""
    body: dict = {}
    for name, kind in spec.items():
        parent, _, child = name.partition("-")
        if child:
            body.setdefault(parent, {})[child] = value_of(kind, form, name)
        else:
            body[name] = value_of(kind, form, name)
    # The API's parser refuses a NUL before its schema does (PostgreSQL cannot store one); so here.
    nul = {name: safe_json.NUL_MESSAGE for name in spec if safe_json.NUL in form.get(name, "")}
    try:
        return schema.load(body), nul
    except ValidationError as error:
        return body, {**field_errors(error.messages), **nul}


def field_errors(messages: dict, prefix: str = "") -> dict[str, str]:
    """marshmallow's (or a service's) {field: [...] or {child: [...]}} as {"field-child": text}."""
    found = {}
    for name, problems in messages.items():
        if isinstance(problems, dict) and all(isinstance(key, str) for key in problems):
            found.update(field_errors(problems, f"{prefix}{name}-"))
        else:
            found[f"{prefix}{name}"] = first_message(problems)
    return found


def changes(before: dict, after: dict) -> tuple[dict, dict]:
    """Only what differs, for the audit log: (before, after)."""
    keys = [key for key in after if before.get(key) != after.get(key)]
    return {key: before.get(key) for key in keys}, {key: after[key] for key in keys}


def one_or_404(items, matches, missing: str):
    """The item `matches` picks out of a short list (tiers, keys), or a 404 page saying `missing`."""
    found = next((item for item in items if matches(item)), None)
    if found is None:
        abort(404, description=missing)
    return found
