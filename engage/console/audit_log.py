"""The audit log page (admins): every recorded change, newest first, a page at a time."""

from __future__ import annotations

from flask import abort, render_template, request

from engage import state
from engage.api import pagination
from engage.console.auth import requires
from engage.console.blueprint import blp
from engage.models import AuditEntry
from engage.services import audit

PAGE_SIZE = 50


@blp.route("/audit")
@requires("admin")
def audit_page():
    """Who changed what and when, with the object before and after."""
    wanted = request.args.get("cursor")
    if wanted is not None and not pagination.is_cursor(wanted):
        abort(400, "not a page of the audit log: follow the page's own links")
    rows, cursor = pagination.page(state.session(), audit.entries(), AuditEntry.id, PAGE_SIZE, wanted)
    return render_template("console/audit.html", entries=rows, next_cursor=cursor,
                           first_page=not request.args.get("cursor"))
