"""The challenges page (admins): every challenge, and a form adding one through the API's schema
and the same service, audited."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from engage import state
from engage.api.challenges import ChallengeSchema
from engage.console import program_form as form
from engage.console.auth import actor, requires
from engage.console.blueprint import blp
from engage.errors import Conflict, Unprocessable
from engage.loyalty.challenges import AUTO, KEYWORD, KINDS
from engage.services import audit, challenges

FIELDS = {"name": form.TEXT, "kind": form.TEXT, "goal": form.INT, "bonus": form.INT, "starts_at": form.TEXT,
          "ends_at": form.TEXT, "join": form.TEXT, "keyword": form.OPTIONAL}
BLANK = {"name": "", "kind": "purchase", "goal": 3, "bonus": 200, "starts_at": "", "ends_at": "", "join": AUTO,
         "keyword": None}


@blp.route("/program/challenges", methods=["GET", "POST"])
@requires("admin")
def challenge_list():
    """Every challenge, newest first; add one (times without an offset are the program's clock)."""
    values, errors, status = form.values(BLANK, FIELDS), {}, 200
    if request.method == "POST":
        data, errors = form.read(request.form, FIELDS, ChallengeSchema())
        if not errors:
            try:
                after = challenges.create(state.session(), data, state.now())
            except (Unprocessable, Conflict) as error:
                errors = form.field_errors(error.errors) if error.errors else {"keyword": error.message}
            else:
                audit.record(state.session(), actor(), "challenge.create", "challenge", str(after["id"]), None,
                             after, state.now())
                flash(f"Challenge {after['name']} added.")
                return redirect(url_for("console.challenge_list"))
        values, status = form.posted(request.form, FIELDS), 422
    return render_template("console/challenges.html", challenges=challenges.list_all(state.session()),
                           values=values, errors=errors, kinds=KINDS, joins=(AUTO, KEYWORD)), status
