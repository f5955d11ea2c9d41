"""The console's blueprint and the extensions it shares (sessions, CSRF)."""

from __future__ import annotations

from flask import Blueprint, request
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

blp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates",
                static_folder="static", static_url_path="/static")
# WTF_CSRF_CHECK_DEFAULT is off (engage.console.init_app): only the console's own requests are
# checked (see auth.guard), so the API (bearer keys) and the webhooks (signatures) stay exempt.
csrf = CSRFProtect()


class ConsoleLoginManager(LoginManager):
    """Flask-Login, kept to the console: its after-request hook reads the session on every
    request, which would add `Vary: Cookie` to every API and webhook answer."""

    def _update_remember_cookie(self, response):
        return super()._update_remember_cookie(response) if request.blueprint == "console" else response


login_manager = ConsoleLoginManager()
