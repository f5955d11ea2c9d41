"""Engage: loyalty points, tiers and rewards with two-way SMS and email lifecycle flows."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from werkzeug.routing import IntegerConverter

from engage.config import Config
from engage.db import PLAIN_PATHS, Database
from engage.services.keys import KeyCache
from engage.state import Clock, close_session, utc_now
from engage.store.program import ProgramCache


class DatabaseId(IntegerConverter):
    """Ids in URLs are database integers: anything larger is simply not found (not a 500)."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def create_app(config: Config | None = None, *, clock: Clock | None = None) -> Flask:
    """The web app: API, webhooks and pages. Never starts a scheduler (see engage.worker)."""
    app = Flask(__name__, instance_path=str(Path.cwd() / "instance"))
    config = config or Config.from_env(instance_path=Path(app.instance_path))
    app.config["ENGAGE"] = config
    app.extensions["engage.config"] = config
    app.extensions["engage.db"] = Database(
        config.database_url, info={"public_url": config.public_url, "program_cache": ProgramCache(),
                                    "key_cache": KeyCache(), PLAIN_PATHS: config.plain_paths})
    app.extensions["engage.clock"] = clock or utc_now
    app.teardown_appcontext(close_session)
    app.url_map.converters["int"] = DatabaseId

    from engage import api, console, webhooks
    from engage.channels import build_channels
    from engage.observability import web as observability

    app.extensions["engage.channels"] = build_channels(config)
    observability.init_app(app)
    api.init_app(app)
    webhooks.init_app(app)
    console.init_app(app)
    return app
