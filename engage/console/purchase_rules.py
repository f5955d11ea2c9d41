"""The purchase rules page (admins): item bonuses and personalised offer rules, one row each,
saved through PATCH /api/v1/program's schema and service, every change in the audit log."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from engage import state
from engage.api.program_schemas import ProgramSchema
from engage.console import program_form as form
from engage.console.auth import actor, requires
from engage.console.blueprint import blp
from engage.errors import Unprocessable
from engage.loyalty.items import MATCHES
from engage.services import audit, catalog, program_settings

INT, TEXT = form.INT, form.TEXT
COLUMNS = {
    "item_bonuses": {"match": TEXT, "value": TEXT, "multiplier": TEXT, "points_per_unit": INT},
    "offer_rules": {"key": TEXT, "match": TEXT, "value": TEXT, "times": INT, "days": INT, "reward_id": INT,
                    "cost": INT, "valid_days": INT, "keyword": TEXT},
}
BLANK_ROWS = 2  # empty rows under the saved ones, to add rules


def _rules() -> dict[str, list[dict]]:
    body = program_settings.read(state.session())
    return {name: body[name] for name in COLUMNS}


def _rows(current: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """Each saved rule as the form shows it, then blank rows."""
    return {name: [{column: "" if rule.get(column) is None else str(rule.get(column)) for column in columns}
                   for rule in current[name]] + [dict.fromkeys(columns, "")] * BLANK_ROWS
            for name, columns in COLUMNS.items()}


def _posted(posted: MultiDict) -> tuple[dict[str, list[dict]], dict[str, list[dict]]]:
    """(the body for the schema, the rows as posted): a blank or removed row is left out."""
    body, rows = {}, {}
    for name, columns in COLUMNS.items():
        body[name], rows[name] = [], []
        for index in range(int(posted.get(f"{name}-rows", "0") or 0)):
            prefix = f"{name}-{index}-"
            shown = {column: posted.get(prefix + column, "") for column in columns}
            if posted.get(prefix + "remove") == "on" or not any(value.strip() for value in shown.values()):
                continue
            row = {column: form.value_of(kind, posted, prefix + column) for column, kind in columns.items()}
            body[name].append({column: value for column, value in row.items() if value != ""})
            rows[name].append(shown)
    return body, rows


def _errors(messages: dict) -> dict[str, str]:
    """Errors by field name ("offer_rules-0-reward_id"): list positions become names."""
    def named(value):
        return {str(key): named(each) for key, each in value.items()} if isinstance(value, dict) else value
    return form.field_errors(named(messages))


@blp.route("/program/purchase-rules", methods=["GET", "POST"])
@requires("admin")
def purchase_rules():
    """Bonus points for items by sku or category, and personalised offers."""
    current = _rules()
    rows, errors, status = _rows(current), {}, 200
    if request.method == "POST":
        body, posted_rows = _posted(request.form)
        try:
            data = ProgramSchema(only=tuple(COLUMNS)).load(body)
            after = program_settings.update(state.session(), data, state.now())
        except Unprocessable as error:
            errors = _errors(error.errors or {}) or {"form": error.message}
        except ValidationError as error:
            errors = _errors(error.messages)
        else:
            after = {name: after[name] for name in COLUMNS}
            before, changed = form.changes(current, after)
            if changed:
                audit.record(state.session(), actor(), "program.update", "program", "program", before, changed,
                             state.now())
            flash("Purchase rules saved.")
            return redirect(url_for("console.purchase_rules"))
        rows = {name: posted_rows[name] + [dict.fromkeys(COLUMNS[name], "")] * BLANK_ROWS for name in COLUMNS}
        status = 422
    rewards = [(reward["id"], reward["name"]) for reward in catalog.list_rewards(state.session())]
    return render_template("console/purchase_rules.html", rows=rows, errors=errors, matches=MATCHES,
                           rewards=rewards), status
