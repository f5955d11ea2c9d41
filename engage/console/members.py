"""Members: search by name, email, phone (any format), external id or referral code; a member's
page with points, tier, expiries, ledger and conversation thread."""

from __future__ import annotations

from flask import abort, render_template, request

from engage import state
from engage.console.auth import requires
from engage.console.blueprint import blp
from engage.errors import NotFound
from engage.services import member_profile


@blp.route("/members")
@requires("viewer")
def members():
    """The search form, and what it found."""
    query = request.args.get("q", "")
    found = member_profile.search(state.session(), query) if query.strip() else None
    return render_template("console/members.html", query=query, found=found)


@blp.route("/members/<int:member_id>")
@requires("viewer")
def member(member_id: int):
    """Everything about one member."""
    try:
        profile = member_profile.profile(state.session(), member_id, state.now())
    except NotFound:
        abort(404, description=f"There is no member {member_id}.")
    return render_template("console/member.html", **profile)
