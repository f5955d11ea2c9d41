"""API keys (admins): list them with when each was last used, create one (its key shown once),
revoke one after a confirmation page. The same service as /api/v1/keys; every change audited."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from engage import state
from engage.api.keys import KeySchema
from engage.console import program_form as form
from engage.console.auth import actor, requires
from engage.console.blueprint import blp
from engage.errors import NotFound
from engage.models import ApiKey
from engage.services import audit, keys

KEY_FIELDS = {"name": form.TEXT, "role": form.TEXT}


def _shown(key: ApiKey) -> dict:
    """What the audit log keeps of a key (never the key, nor its hash)."""
    return {"id": key.id, "name": key.name, "role": key.role, "prefix": key.prefix, "revoked_at": key.revoked_at}


@blp.route("/keys", methods=["GET", "POST"])
@requires("admin")
def api_keys():
    """Every key, and the form to create one; after creating, the key itself, this once."""
    values, errors, status, created = {"name": "", "role": "integration"}, {}, 200, None
    if request.method == "POST":
        data, errors = form.read(request.form, KEY_FIELDS, KeySchema())
        if not errors:
            row, secret = keys.issue(state.session(), data["role"], data["name"], state.now())
            audit.record(state.session(), actor(), "key.create", "api_key", str(row.id), None, _shown(row), state.now())
            # Rendered, not redirected: the key must not travel in a URL or sit in the session.
            created, status = {"name": row.name, "role": row.role, "key": secret}, 201
        else:
            values, status = form.posted(request.form, KEY_FIELDS), 422
    # no-store: the page may hold a new key, which must not stay in any cache.
    return render_template("console/keys.html", keys=keys.listed(state.session()), values=values, errors=errors,
                           roles=keys.ROLES, created=created), status, {"Cache-Control": "no-store"}


def _key(key_id: int) -> ApiKey:
    return form.one_or_404(keys.listed(state.session()), lambda key: key.id == key_id,
                           f"There is no API key {key_id}.")


@blp.route("/keys/<int:key_id>/revoke", methods=["GET", "POST"])
@requires("admin")
def revoke_key(key_id: int):
    """GET: are you sure? POST: revoke it for good (other processes stop accepting it within 30 s)."""
    key = _key(key_id)
    if request.method == "GET":
        return render_template("console/revoke_key.html", key=key)
    before = _shown(key)
    try:
        after = _shown(keys.revoke(state.session(), key_id, state.now()))
    except NotFound:
        abort(404, description=f"There is no API key {key_id}.")
    if after != before:
        audit.record(state.session(), actor(), "key.revoke", "api_key", str(key_id), before, after, state.now())
    flash(f"Key {key.name} ({key.prefix}…) is revoked: every process refuses it within 30 seconds.")
    return redirect(url_for("console.api_keys"))
