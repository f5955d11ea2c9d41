"""Experiments: the list, a form to start one (from a flow's page or the template editor, with
variant B begun from the live template), and each experiment's page with its results in plain
words and the stop and promote buttons. The same schema and service as the API; the service
writes the audit entries."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from engage import state
from engage.api.experiments import ExperimentCreateSchema
from engage.console import program_form as form
from engage.console.auth import actor, requires
from engage.console.blueprint import blp
from engage.console.flows import TITLES
from engage.errors import Conflict, NotFound, Unprocessable
from engage.experiments import OUTCOMES, outcome_words
from engage.services import experiments, flow_admin
from engage.templating.validation import REQUIRED_PARTS

SHOWN = 100
SETTINGS = {"flow": form.TEXT, "channel": form.TEXT, "locale": form.TEXT, "name": form.TEXT,
            "split_percent": form.INT, "outcome": form.TEXT, "window_days": form.INT}
LABELS = {"body": "Text", "subject": "Subject", "text": "Plain-text part", "html": "HTML part"}


def _spec(channel: str, posted: MultiDict) -> dict[str, str]:
    spec = {**SETTINGS, **{part: form.TEXT for part in REQUIRED_PARTS.get(channel, ())}}
    if not posted.get("name", "").strip():
        spec.pop("name")  # the service names it
    return spec


@blp.route("/experiments")
@requires("viewer")
def experiments_list():
    """Every experiment, newest first, with its state."""
    return render_template("console/experiments.html", items=experiments.newest(state.session(), SHOWN),
                           titles=TITLES, outcome_words=outcome_words)


def _defaults(args: MultiDict) -> dict:
    flow = args.get("flow") if args.get("flow") in TITLES else "welcome"
    channel = args.get("channel") if args.get("channel") in REQUIRED_PARTS else "sms"
    try:
        live = flow_admin.get_template(state.session(), flow, channel, args.get("locale") or "en")
    except NotFound:
        abort(404, description=f"There is no locale {args.get('locale')!r}.")
    return {"flow": flow, "channel": channel, "locale": live["locale"], "name": "", "split_percent": "50",
            "outcome": "reply", "window_days": "7", **live["parts"]}


@blp.route("/experiments/new", methods=["GET", "POST"])
@requires("viewer")
def experiment_new():
    """Start an experiment on one template (marketers); the form begins B as the live template."""
    values, errors, status = _defaults(request.args), {}, 200
    if request.method == "POST":
        if not current_user.can("marketer"):
            abort(403, description="Starting an experiment needs the marketer role.")
        channel = request.form.get("channel", "")
        spec = _spec(channel, request.form)
        body, errors = form.read(request.form, spec, ExperimentCreateSchema())
        if not errors:
            try:
                started = experiments.start(state.session(), body, actor(), state.now())
            except (Unprocessable, Conflict) as error:
                errors = form.field_errors(error.errors) if error.errors else {"form": error.message}
            else:
                flash(f"Experiment {started['id']} started: {started['split_percent']}% of members get B.")
                return redirect(url_for("console.experiment", experiment_id=started["id"]))
        values, status = {**values, **form.posted(request.form, {**SETTINGS, **{
            part: form.TEXT for part in REQUIRED_PARTS.get(channel, ())}})}, 422
    return render_template("console/experiment_new.html", values=values, errors=errors, titles=TITLES,
                           outcomes=OUTCOMES, parts=REQUIRED_PARTS.get(values["channel"], ()), labels=LABELS,
                           channels=tuple(REQUIRED_PARTS)), status


def _experiment(experiment_id: int) -> dict:
    try:
        return experiments.get(state.session(), experiment_id)
    except NotFound as error:
        abort(404, description=error.message)


@blp.route("/experiments/<int:experiment_id>")
@requires("viewer")
def experiment(experiment_id: int):
    """One experiment: both variants, each one's sends and outcomes, the test in plain words."""
    shown = _experiment(experiment_id)
    live = flow_admin.get_template(state.session(), shown["flow"], shown["channel"], shown["locale"])
    return render_template("console/experiment.html", experiment=shown, live=live, titles=TITLES,
                           labels=LABELS, outcome=outcome_words(shown["outcome"], shown["window_days"]))


@blp.route("/experiments/<int:experiment_id>/stop", methods=["POST"])
@requires("marketer")
def experiment_stop(experiment_id: int):
    """Stop it: new messages get the live template (A); the sent ones keep their variant."""
    return _act(experiment_id, experiments.stop, "Stopped: new messages get the live template (A).")


@blp.route("/experiments/<int:experiment_id>/promote", methods=["POST"])
@requires("marketer")
def experiment_promote(experiment_id: int):
    """Save B as the template's newest version and end the experiment."""
    return _act(experiment_id, experiments.promote, "Variant B is now the live template (version {version}).")


def _act(experiment_id: int, action, done: str):
    try:
        after = action(state.session(), experiment_id, actor(), state.now())
    except NotFound as error:
        abort(404, description=error.message)
    except (Conflict, Unprocessable) as error:
        flash(f"Nothing changed: {error.message}")
    else:
        flash(done.format(version=after["promoted_version"]))
    return redirect(url_for("console.experiment", experiment_id=experiment_id))
