"""The marketer's console at /console: server-rendered pages (Jinja2, a little htmx) over the same
services as the API. `init_app` is the one call the app factory makes."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import Flask, render_template
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from engage.console import (  # noqa: F401  (their routes join the blueprint)
    api_keys,
    audit_log,
    auth,
    challenges,
    experiments,
    flows,
    insights,
    members,
    program,
    purchase_rules,
    template_editor,
)
from engage.console.blueprint import blp, csrf, login_manager
from engage.console.secret import secret_key
from engage.console.session_cookie import SessionCookies
from engage.console.throttle import RedisThrottle, Throttle

# The navigation: (label, endpoint, role). An entry shows once its page exists and the user may
# open it, so later pages (members, program) appear by adding their line here.
NAV = (("Flows", "console.home", "viewer"), ("Experiments", "console.experiments_list", "viewer"),
       ("Members", "console.members", "viewer"), ("Insights", "console.insights_page", "marketer"),
       ("Program", "console.program", "admin"), ("Rewards", "console.rewards", "admin"),
       ("API keys", "console.api_keys", "admin"), ("Audit", "console.audit_page", "admin"))


def init_app(app: Flask) -> None:
    config = app.extensions["engage.config"]
    app.secret_key = secret_key(config, Path(app.instance_path))
    app.session_interface = SessionCookies()
    app.config.update(
        SESSION_COOKIE_SECURE=config.public_url.startswith("https:"),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=config.console_idle_minutes),
        WTF_CSRF_CHECK_DEFAULT=False,  # the console's guard checks its own requests only
    )
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "console.sign_in"
    app.extensions["engage.console.throttle"] = (RedisThrottle(config.redis_url, window_seconds=60)
                                                 if config.redis_url else Throttle(window_seconds=60))
    app.register_blueprint(blp)


@blp.app_template_global()
def nav_items() -> list[tuple[str, str]]:
    from flask import current_app

    return [(label, endpoint) for label, endpoint, role in NAV
            if endpoint in current_app.view_functions and current_user.is_authenticated and current_user.can(role)]


@blp.errorhandler(HTTPException)
def _error_page(error: HTTPException):
    """Console errors are pages (the API's stay JSON)."""
    title = "This form has expired" if isinstance(error, CSRFError) else error.name
    description = ("The form was missing its security token or it had expired. Go back, reload the page "
                   "and try again." if isinstance(error, CSRFError) else error.description)
    return render_template("console/error.html", title=title, description=description), error.code
