"""Who is signed in: sign-in and sign-out, the idle timeout, CSRF, and the role each page needs."""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import UserMixin, current_user, login_user, logout_user

from engage import state
from engage.console.blueprint import blp, csrf, login_manager
from engage.console.throttle import Throttle
from engage.services import users
from engage.services.audit import Actor

OPEN_ENDPOINTS = {"console.sign_in", "console.static"}
# Sign-in attempts a minute. Per email: guessing one user's password. Per address: higher, since
# behind a proxy every user may share the proxy's address.
ATTEMPTS_PER_EMAIL, ATTEMPTS_PER_ADDRESS = 5, 20


class SignedIn(UserMixin):
    """Flask-Login's view of a console user."""

    def __init__(self, staff: users.Staff):
        self.staff = staff
        self.id, self.email, self.role = staff.id, staff.email, staff.role

    def can(self, role: str) -> bool:
        return users.allows(self.role, role)


@login_manager.user_loader
def _load(user_id: str) -> SignedIn | None:
    staff = users.active(state.session(), int(user_id)) if user_id.isdigit() else None
    return SignedIn(staff) if staff else None


def actor() -> Actor:
    """The signed-in user, as the audit log records them."""
    return Actor(name=current_user.email, user_id=current_user.id)


def requires(role: str):
    """Let the view run only for a user whose role includes `role` (403 otherwise)."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.can(role):
                abort(403, description=f"This page needs the {role} role; you are a {current_user.role}.")
            return view(*args, **kwargs)

        return wrapper

    return decorate


@blp.before_request
def guard():
    """Every console request: a valid CSRF token on changes; a signed-in, recently active user."""
    csrf.protect()  # checks only WTF_CSRF_METHODS (POST, PUT, PATCH, DELETE)
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("console.sign_in", next=request.full_path.rstrip("?")))
    now = state.now().timestamp()
    idle = state.config().console_idle_minutes
    if now - session.get("seen", now) > idle * 60:
        _sign_out()
        flash(f"You were signed out after {idle} minutes without activity. Please sign in again.")
        return redirect(url_for("console.sign_in", next=request.full_path.rstrip("?")))
    session["seen"] = now
    return None


def _sign_out() -> None:
    logout_user()
    session.clear()


def _safe_next(target: str | None) -> str:
    """Only a console path of this site: never an open redirect to another host."""
    parts = urlsplit(target or "")
    if parts.scheme or parts.netloc or not parts.path.startswith("/console") or "\\" in target:
        return url_for("console.home")
    return target


def throttle() -> Throttle:
    return current_app.extensions["engage.console.throttle"]


@blp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    """The sign-in form; at most 5 attempts a minute per email, 20 per address."""
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(_safe_next(request.args.get("next")))
        return render_template("console/sign_in.html", email="")
    email = request.form.get("email", "")[:254]
    password = request.form.get("password", "")
    wait = throttle().retry_after({f"ip:{request.remote_addr}": ATTEMPTS_PER_ADDRESS,
                                   f"email:{users.normalize_email(email)}": ATTEMPTS_PER_EMAIL}, state.now())
    if wait:
        error = f"Too many sign-in attempts. Try again in {wait} seconds."
        return render_template("console/sign_in.html", email=email, error=error), 429, {"Retry-After": str(wait)}
    staff = users.sign_in(state.session(), email, password, state.now())
    if staff is None:
        return render_template("console/sign_in.html", email=email, error="Wrong email or password."), 401
    session.clear()  # a new session for the signed-in user: nothing carried over from before
    login_user(SignedIn(staff))
    session.permanent = True  # the cookie expires after the idle timeout (refreshed on each request)
    session["seen"] = state.now().timestamp()
    return redirect(_safe_next(request.args.get("next")))


@blp.route("/sign-out", methods=["POST"])
def sign_out():
    """End the session (a POST with the CSRF token, so no link can sign anyone out)."""
    _sign_out()
    flash("You are signed out.")
    return redirect(url_for("console.sign_in"))
