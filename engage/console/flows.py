"""Flows: the home page lists them with on/off and last-30-days counts; each flow's page edits
its channels, delay and parameters through the same service as the API, and records the change."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from engage import state
from engage.console import flow_form
from engage.console.auth import actor, requires
from engage.console.blueprint import blp
from engage.errors import NotFound, Unprocessable
from engage.services import flow_admin, flow_stats
from engage.templating import FLOW_KEYS, SUPPORTED_LOCALES

TITLES = {"welcome": "Welcome", "redemption_reminder": "Redemption reminder", "expiry_warning": "Expiry warning",
          "tier_congratulations": "Tier congratulations", "feedback_request": "Feedback request",
          "membership_renewal": "Membership renewal", "challenge_progress": "Challenge progress",
          "offer": "Personalised offer"}


def _flow(key: str) -> dict:
    try:
        return flow_admin.get_flow(state.session(), key)
    except NotFound:
        abort(404, description=f"There is no flow {key!r}.")


def _change(key: str, changes: dict) -> dict:
    """Apply through flow_admin (as PATCH /api/v1/flows/{key}), recorded in the audit log in the
    same transaction."""
    _flow(key)  # 404 for an unknown flow
    return flow_admin.update_flow(state.session(), key, changes, state.now(), actor())


@blp.route("/")
@requires("viewer")
def home():
    """The flows with their state and what they sent in the last 30 days."""
    flows = flow_admin.list_flows(state.session())
    counts = flow_stats.last_30_days(state.session(), state.now())
    return render_template("console/home.html", flows=flows, counts=counts, titles=TITLES,
                           columns=flow_stats.COLUMNS)


@blp.route("/flows/<key>/switch", methods=["POST"])
@requires("marketer")
def switch(key: str):
    """Turn a flow on or off (htmx swaps the row; without JavaScript, back to the list)."""
    flow = _change(key, {"enabled": request.form.get("enabled") == "on"})
    if request.headers.get("HX-Request"):
        counts = flow_stats.last_30_days(state.session(), state.now())
        # autofocus: htmx focuses the new switch, so a keyboard user stays where they were.
        return render_template("console/_flow_row.html", flow=flow, counts=counts, titles=TITLES,
                               columns=flow_stats.COLUMNS, focus=True)
    flash(f"{TITLES[key]} is {'on' if flow['enabled'] else 'off'}.")
    return redirect(url_for("console.home"))


@blp.route("/flows/<key>", methods=["GET", "POST"])
@requires("viewer")
def flow(key: str):
    """One flow's settings; marketers may change them."""
    current = _flow(key)
    customised = flow_admin.customised(state.session(), key)  # the templates grid: which are edited
    values, errors, status = flow_form.form_values(current), {}, 200
    if request.method == "POST":
        if not current_user.can("marketer"):
            abort(403, description="Changing a flow needs the marketer role.")
        changes, errors = flow_form.read(key, request.form)
        if not errors:
            try:
                _change(key, changes)
            except Unprocessable as error:
                errors = flow_form.service_errors(error.errors) or {"form": error.message}
        if not errors:
            flash(f"{TITLES[key]} saved.")
            return redirect(url_for("console.flow", key=key))
        values, status = {**values, **request.form.to_dict(), "enabled": "enabled" in request.form}, 422
    return render_template("console/flow.html", flow=current, key=key, title=TITLES[key], values=values,
                           errors=errors, params=flow_form.params_of(key), units=flow_form.UNITS,
                           channels=("sms", "email"), keys=FLOW_KEYS, customised=customised,
                           locales=sorted(set(SUPPORTED_LOCALES) | {locale for _, locale in customised})), status

