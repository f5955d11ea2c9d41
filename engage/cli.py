"""The `engage` command line (Flask's CLI underneath)."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from engage.config import ConfigError


def _app() -> Flask:
    from engage import create_app

    try:
        return create_app()
    except ConfigError as error:
        # One line naming the setting, never a traceback.
        raise SystemExit(f"engage: configuration error: {error}") from None


@click.group(cls=FlaskGroup, create_app=_app, add_default_commands=False, load_dotenv=True,
             help="Engage: loyalty points and lifecycle messaging.")
def cli() -> None:
    pass


@cli.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Create or upgrade the schema, with the default program on a new database."""
    from engage import migrate, state

    engine = state.database().engine
    migrate.upgrade(engine, revision)
    click.echo(f"database at revision {migrate.current(engine)} ({engine.url.render_as_string()})", err=True)


@cli.group()
def keys() -> None:
    """API keys."""


@keys.command("create")
@click.option("--role", required=True, type=click.Choice(["integration", "marketer", "admin"]))
@click.option("--name", required=True, help="Who or what uses the key, e.g. 'webshop'.")
@with_appcontext
def keys_create(role: str, name: str) -> None:
    """Create a key; it is printed once, alone on stdout, and only its hash is stored."""
    from engage import state
    from engage.services import keys as key_service

    key = key_service.create(state.database().session(), role, name, state.now())
    click.echo(key)


@cli.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Add a demo program's members with history (does nothing the second time)."""
    from engage import seed, state

    created = seed.demo(state.database(), state.now())
    click.echo(f"demo: {created} members added" if created else "demo: already seeded", err=True)


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def serve(host: str, port: int) -> None:
    """Serve the web app, API and webhooks (the embedded default)."""
    from engage import serving

    serving.serve(current_app._get_current_object(), host, port)


def main() -> None:
    cli.main(prog_name="engage")


if __name__ == "__main__":
    sys.exit(main())
