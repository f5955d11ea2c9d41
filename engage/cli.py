"""The `engage` command line (Flask's CLI underneath)."""

from __future__ import annotations

import functools
import sys
from contextlib import contextmanager
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from engage.config import ConfigError


def _app() -> Flask:
    from engage import create_app
    from engage.observability.logs import configure_logging

    try:
        app = create_app()
    except ConfigError as error:
        # One line naming the setting, never a traceback.
        raise SystemExit(f"engage: configuration error: {error}") from None
    # Warnings only, masked, on stderr (stdout is for what a command prints); serve and worker
    # log more, each in its own format.
    config = app.extensions["engage.config"]
    configure_logging(config.log_level or "WARNING", config.log_format or "text")
    return app


def _needs_schema(command):
    """Like with_appcontext; and a database `engage db upgrade` has not brought up to this code's
    migrations is refused in one line, instead of tracebacks about missing tables."""

    @functools.wraps(command)
    def run(*args, **kwargs):
        from engage import migrate, state

        engine = state.database().engine
        at, wanted = migrate.current(engine), migrate.head()
        if at != wanted:
            raise SystemExit(f"engage: the database ({engine.url.render_as_string()}) is at revision "
                             f"{at or 'none'}, this Engage needs {wanted}: run `engage db upgrade` first")
        return command(*args, **kwargs)

    return with_appcontext(run)


class _EngageGroup(FlaskGroup):
    """Engage's commands only: other installed packages' `flask.commands` entry points (Flask-Limiter's
    `limiter` group) are not Engage's to offer in `engage --help`."""

    def _load_plugin_commands(self) -> None:  # Flask's hook for those entry points
        self._loaded_plugin_commands = True


@click.group(cls=_EngageGroup, create_app=_app, add_default_commands=False, load_dotenv=True,
             add_version_option=False, set_debug_flag=False,
             help="Engage: loyalty points and lifecycle messaging. Settings come from the "
                  "environment or a .env file (see README).")
def cli() -> None:
    pass


# Flask's --app/--env-file would point `engage` at another application; it only runs this one.
cli.params = [param for param in cli.params if param.name not in ("app", "env_file", "debug")]


@cli.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Create or upgrade the schema, with the default program on a new database."""
    import os

    from engage import migrate, state
    from engage.services import program_settings

    engine = state.database().engine
    new_database = migrate.current(engine) is None
    migrate.upgrade(engine, revision)
    if new_database and os.environ.get("ENGAGE_TIMEZONE"):
        # ENGAGE_TIMEZONE is the program's zone when the program is created; later, PATCH /program.
        with state.database().session() as session:
            program_settings.update(session, {"timezone": state.config().timezone}, state.now())
    click.echo(f"database at revision {migrate.current(engine)} ({engine.url.render_as_string()})", err=True)


@cli.group()
def keys() -> None:
    """API keys."""


@keys.command("create")
@click.option("--role", required=True, type=click.Choice(["integration", "marketer", "admin"]))
@click.option("--name", required=True, help="Who or what uses the key, e.g. 'webshop'.")
@_needs_schema
def keys_create(role: str, name: str) -> None:
    """Create a key; it is printed once, alone on stdout, and only its hash is stored."""
    from engage import state
    from engage.services import keys as key_service

    key = key_service.create(state.database().session(), role, name, state.now())
    click.echo(key)


@keys.command("list")
@_needs_schema
def keys_list() -> None:
    """Every key: id, role, name, prefix, created, last used, revoked (never the key: only its hash
    is kept)."""
    from engage import state
    from engage.services import keys as key_service

    for key in key_service.listed(state.database().session()):
        revoked = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "live"
        used = f"used {key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never used"
        click.echo(f"{key.id}\t{key.role}\t{key.name}\t{key.prefix}…\t{key.created_at:%Y-%m-%d %H:%M}\t{used}"
                   f"\t{revoked}")


@keys.command("revoke")
@click.argument("key_id", type=click.IntRange(min=1))
@_needs_schema
def keys_revoke(key_id: int) -> None:
    """Revoke a key for good (running servers stop accepting it within 30 seconds)."""
    from engage import state
    from engage.errors import NotFound
    from engage.services import keys as key_service

    try:
        key = key_service.revoke(state.database().session(), key_id, state.now())
    except NotFound as error:
        raise click.ClickException(error.message) from None
    click.echo(f"revoked key {key.id} ({key.role}, {key.name})", err=True)


@cli.command("seed-demo")
@_needs_schema
def seed_demo() -> None:
    """Add a demo program's members with history (does nothing the second time)."""
    from engage import jobs, seed, state

    app = current_app._get_current_object()
    created = seed.demo(state.database(), state.now(), deliver=lambda at: jobs.deliver_quietly(app, at))
    click.echo(f"demo: {created} members added" if created else "demo: already seeded", err=True)
    email, password = seed.DEMO_USER
    made = "created" if seed.demo_user(state.database(), state.now()) else "already there"
    click.echo(f"demo: console admin {email} with password {password} ({made})", err=True)


@cli.group()
def users() -> None:
    """Console users (people who sign in at /console)."""


def _read_password() -> str:
    """Asked twice, hidden, on a terminal; otherwise one line of standard input (for scripts)."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    return sys.stdin.readline().rstrip("\r\n")


@users.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(["admin", "marketer", "viewer"]),
              help="viewer reads; marketer also edits flows and templates; admin also program settings and users.")
@_needs_schema
def users_create(email: str, role: str) -> None:
    """Add a user; the password is asked on a terminal (twice, hidden), else read as one line from stdin."""
    from engage import state
    from engage.errors import EngageError
    from engage.services import users as user_service
    from engage.services.audit import Actor

    try:
        user = user_service.create(state.database().session(), email, role, _read_password(), state.now(),
                                   actor=Actor("engage users create"))
    except EngageError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"user {user.email} created ({user.role})")


@users.command("list")
@_needs_schema
def users_list() -> None:
    """Every user: email, role, when created, last signed in, and whether disabled."""
    from engage import state
    from engage.services import users as user_service

    for user in user_service.list_users(state.database().session()):
        last = user.last_sign_in_at.strftime("%Y-%m-%d %H:%M") if user.last_sign_in_at else "never"
        disabled = f"  disabled {user.disabled_at:%Y-%m-%d}" if user.disabled_at else ""
        click.echo(f"{user.email:<40} {user.role:<9} created {user.created_at:%Y-%m-%d}  "
                   f"last sign-in {last}{disabled}")


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(0, 65535))
@_needs_schema
def serve(host: str, port: int) -> None:
    """Web app, API and webhooks with the scheduler and dispatcher, in one process."""
    from engage import serving

    serving.serve(current_app._get_current_object(), host, port)


@cli.command("worker")
@_needs_schema
def worker() -> None:
    """Scheduler and dispatcher, for production beside gunicorn; stops on SIGINT/SIGTERM."""
    from engage import worker as worker_module

    worker_module.run(current_app._get_current_object())


@contextmanager
def _progress(label: str | None, length: int | None = None):
    """A progress callback drawing a bar on a terminal; None (no bar) when stderr is not one."""
    if label is None or not sys.stderr.isatty():
        yield None
        return
    # Unknown length: an iterable without a length makes click draw a moving marker and a count.
    with click.progressbar((_ for _ in ()), length=length, label=label, file=sys.stderr,
                           show_pos=True) as bar:
        yield bar.update


@cli.group()
def jobs() -> None:
    """Scheduled jobs: list them, or run one now (optionally as of another date)."""


@jobs.command("list")
@_needs_schema
def jobs_list() -> None:
    """The jobs, when each runs and what it does."""
    from engage.jobs import JOBS
    from engage.scheduler import describe

    schedules = describe(current_app._get_current_object())
    for job in JOBS.values():
        click.echo(f"{job.name:<8} {schedules.get(job.name, 'by hand only'):<36} {job.description}")


@jobs.command("run")
@click.argument("name")
@click.option("--as-of", "as_of", default=None, metavar="DATE",
              help="Run as of this date (YYYY-MM-DD) or instant (ISO 8601): time travel for tests "
                   "and catch-up. A date means the sweep time for `sweep`, the day's end otherwise.")
@click.option("--force", is_flag=True, help="Run a daily job again for a date it already finished.")
@_needs_schema
def jobs_run(name: str, as_of: str | None, force: bool) -> None:
    """Run one job now; a rerun for the same date changes nothing the second time."""
    from engage import jobs as job_module

    job = job_module.JOBS.get(name)
    if job is None:
        raise click.BadParameter(f"unknown job {name!r}; choose from {', '.join(job_module.JOBS)}",
                                 param_hint="NAME")
    try:
        day, now = job_module.resolve_as_of(current_app._get_current_object(), name, as_of)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--as-of") from None
    with _progress(job.progress_label) as progress:
        summary = job_module.run(current_app._get_current_object(), job, day, now, progress, force=force)
    hint = " (--force runs it again)" if "skipped" in summary else ""
    click.echo(job_module.summary_line(name, day, summary) + hint)


@cli.group()
def members() -> None:
    """Members in bulk."""


@members.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_needs_schema
def members_import(file: Path) -> None:
    """Enrol members from a CSV (external_id, first_name, last_name, email, phone, locale,
    timezone, sms_consent, email_consent); existing external_ids are skipped."""
    from engage import importer, state

    try:
        rows = importer.read(file)
    except importer.ImportFileError as error:
        raise click.ClickException(str(error)) from None
    with _progress("importing members", len(rows)) as progress:
        report = importer.import_members(state.database(), rows, state.now(), progress)
    for kind, problems in (("skipped", report.skipped), ("failed", report.failed)):
        for line, reason in problems:
            click.echo(f"line {line}: {kind}: {reason}", err=True)
    click.echo(f"members import: {report.imported} imported, {len(report.skipped)} skipped, "
               f"{len(report.failed)} failed")
    if report.failed:
        sys.exit(1)


@cli.group()
def rewards() -> None:
    """Rewards: partner code pools."""


def _pool_line(pool: dict) -> str:
    low = " (low)" if pool["low"] else ""
    return (f"{pool['reward']} ({pool['partner']}): {pool['available']} codes left{low}, "
            f"{pool['handed_out']} handed out, {pool['total']} imported")


@rewards.command("import-codes")
@click.argument("reward_key")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_needs_schema
def rewards_import_codes(reward_key: str, file: Path) -> None:
    """Add a partner's codes from a CSV (a `code` column, or one code a line) to the pool of the
    reward REWARD_KEY (its id or name). All or nothing; codes already in the pool are counted, not
    added again, so importing a file twice changes nothing."""
    from engage import state
    from engage.errors import EngageError
    from engage.loyalty import partner_codes as code_lists
    from engage.services import partner_codes

    try:
        found = code_lists.from_csv(file.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise click.ClickException(f"{file} is not UTF-8 text") from None
    session = state.database().session()
    try:
        result = partner_codes.import_codes(session, partner_codes.find_reward(session, reward_key), found,
                                            state.now())
    except EngageError as error:
        for problem in (error.errors or {}).get("codes", []):
            click.echo(problem, err=True)
        raise click.ClickException(error.message) from None
    for line, first in found.repeated[:20]:
        click.echo(f"line {line}: repeats line {first}, counted once", err=True)
    click.echo(f"codes import: {result['imported']} imported, {result['already_in_pool']} already in the pool, "
               f"{result['repeated']} repeated in the file")
    click.echo(_pool_line(result))


@rewards.command("codes")
@click.argument("reward_key")
@_needs_schema
def rewards_codes(reward_key: str) -> None:
    """How many codes the pool of partner reward REWARD_KEY (id or name) has left."""
    from engage import state
    from engage.errors import EngageError
    from engage.services import partner_codes

    session = state.database().session()
    try:
        click.echo(_pool_line(partner_codes.pool(session, partner_codes.find_reward(session, reward_key))))
    except EngageError as error:
        raise click.ClickException(error.message) from None


def main() -> None:
    from sqlalchemy.exc import OperationalError

    try:
        cli.main(prog_name="engage")
    except OperationalError as error:  # the database cannot be reached (or opened): say so in one line
        reason = (str(error.orig).strip().splitlines() or ["unknown error"])[0]
        raise SystemExit(f"engage: database error: {reason}") from None


if __name__ == "__main__":
    sys.exit(main())
