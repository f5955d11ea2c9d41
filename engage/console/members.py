"""Members: search by name, email, phone (any format), external id or referral code; a member's
page with points, tier, expiries, ledger, conversation thread, plans and consent history; an
admin's points adjustment; the phone simulator (text as the member)."""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from engage import state
from engage.api import pagination
from engage.console.auth import actor, requires
from engage.console.blueprint import blp
from engage.errors import NotFound, Unprocessable
from engage.models import Member
from engage.services import adjustments, member_profile, phone_simulator

PAGE_SIZE = 50


@blp.route("/members")
@requires("viewer")
def members():
    """The search form and what it found; without a search, every member, newest first, a page at
    a time, of one tier or all."""
    query = request.args.get("q", "")
    names = member_profile.tier_names(state.session())
    if query.strip():
        return render_template("console/members.html", query=query, found=member_profile.search(
            state.session(), query), tier_names=names)
    wanted, tier = request.args.get("cursor"), request.args.get("tier") or None
    if wanted is not None and not pagination.is_cursor(wanted):
        abort(400, "not a page of the members list: follow the page's own links")
    if tier is not None and (not tier.isdigit() or int(tier) not in names):
        abort(400, "not a tier: choose one from the list")
    tier = tier and int(tier)
    listed, cursor = pagination.page(state.session(), member_profile.listing(tier), Member.id, PAGE_SIZE, wanted)
    return render_template("console/members.html", query=query, found=None, listed=listed, next_cursor=cursor,
                           first_page=wanted is None, tier=tier, tier_names=names)


def _page(member_id: int, **extra):
    try:
        profile = member_profile.profile(state.session(), member_id, state.now())
    except NotFound:
        abort(404, description=f"There is no member {member_id}.")
    # A fresh key each time the form is drawn: submitting it twice (a double click, a reload)
    # books the adjustment once.
    return render_template("console/member.html", **profile, **extra, adjust_key=uuid.uuid4().hex)


@blp.route("/members/<int:member_id>")
@requires("viewer")
def member(member_id: int):
    """Everything about one member."""
    return _page(member_id, adjustment={}, errors={})


def _whole_number(text: str) -> int:
    text = text.strip()
    return int(text) if text.lstrip("+-").isdigit() and len(text) <= 9 else 0  # 0: refused as "not 0"


@blp.route("/members/<int:member_id>/adjustments", methods=["POST"])
@requires("admin")
def adjust(member_id: int):
    """Add or take points (admin), with the reason: the same service as the API; audited there.

    The form carries an idempotency key made when the page was drawn, so a double submit books once."""
    form = {"points": request.form.get("points", ""), "reason": request.form.get("reason", "")}
    key = request.form.get("idempotency_key") or None
    try:
        done = adjustments.adjust(state.session(), member_id, _whole_number(form["points"]), form["reason"],
                                  key and f"console:{current_user.id}:{key[:64]}", actor(), state.now())
    except NotFound:
        abort(404, description=f"There is no member {member_id}.")
    except Unprocessable as error:
        errors = {field: " ".join(messages) for field, messages in (error.errors or {}).items()}
        return _page(member_id, adjustment=form, errors=errors or {"points": error.message}), 422
    flash(f"Adjusted by {done['points']:+d} points; the balance is {done['balance']}.")
    return redirect(url_for("console.member", member_id=member_id) + "#ledger-heading")


@blp.route("/members/<int:member_id>/phone", methods=["GET", "POST"])
@requires("marketer")
def phone(member_id: int):
    """The phone simulator: text as the member; the answers come from the inbound SMS service."""
    errors, text, status = {}, "", 200
    if request.method == "POST":
        text = request.form.get("body", "")
        try:
            phone_simulator.text_as(state.session(), member_id, text, state.config().twilio_from_number, actor(),
                                    state.now())
        except NotFound:
            abort(404, description=f"There is no member {member_id}.")
        except Unprocessable as error:
            errors, status = {"body": " ".join((error.errors or {}).get("body", [error.message]))}, 422
        else:
            return redirect(url_for("console.phone", member_id=member_id) + "#compose")
    try:
        member, thread = phone_simulator.thread(state.session(), member_id)
    except NotFound:
        abort(404, description=f"There is no member {member_id}.")
    return render_template("console/phone.html", thread=thread, member=member, errors=errors,
                           text=text, examples=("POINTS", "REDEEM", "HELP", "STOP", "START", "5")), status
