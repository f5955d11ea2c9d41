"""Provider webhooks (no API key; the provider's signature instead) and the unsubscribe link."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from engage.webhooks import limits, sendgrid, twilio, unsubscribe

    limits.init_app(app, app.extensions["engage.config"])
    for module in (twilio, sendgrid, unsubscribe):
        app.register_blueprint(module.blp)
