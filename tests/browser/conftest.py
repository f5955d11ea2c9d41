"""Browser tests: pytest-playwright driving Debian's Chromium (Playwright cannot download its
own browsers here). Without /usr/bin/chromium they skip, except under CI=true, where they fail."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from engage import create_app
from engage.config import Config
from tests.support import databases
from tests.support.api import ApiClient
from tests.support.browser import Server
from tests.support.console import add_users

CHROMIUM = Path("/usr/bin/chromium")
# A page waits for the server, which shares 2 cores with the rest of the suite (xdist workers,
# PostgreSQL): Playwright's 5 s default made a wait flaky under that load, not a slow page wrong.
expect.set_options(timeout=20_000)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and {CHROMIUM} is missing: install Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM)}


@pytest.fixture(autouse=True)
def _patient_pages(context):
    """Clicks and navigations wait as long as the assertions above (see expect.set_options)."""
    context.set_default_timeout(20_000)


@pytest.fixture(scope="session")
def base_url():
    """No base URL: the tests use the served site's. (Replaces pytest-playwright's, whose fixture
    method pytest deprecates, an error under filterwarnings=error.)"""
    return None


@pytest.fixture(scope="module")
def site(sqlite_template, tmp_path_factory):
    """The app on a fresh SQLite database, served over HTTP, with one user per role."""
    url = databases.sqlite_copy(sqlite_template, tmp_path_factory.mktemp("browser"))
    app = create_app(Config(database_url=url, public_url="http://127.0.0.1", testing=True))
    people = add_users(app)
    api = ApiClient(app, app.test_client())
    member = api.enrol("shop-7", first_name="Ana", last_name="Popescu", email="ana@example.com",
                       phone="+31612345678")
    assert api.purchase(member["id"], "260.00", key="p-1").status_code == 201
    with Server(app) as server:
        server.app, server.people = app, people
        yield server
    app.extensions["engage.db"].dispose()
    databases.check_member_totals(url)


@pytest.fixture(scope="module")
def admin_state(site, browser, tmp_path_factory):
    """A signed-in admin's cookies, saved once so each test does not sign in again."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(site.url + "/console/sign-in")
    page.get_by_label("Email").fill(site.people["admin"])
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Flows").wait_for()
    path = tmp_path_factory.mktemp("state") / "admin.json"
    context.storage_state(path=str(path))
    context.close()
    return str(path)


@pytest.fixture
def admin(browser, admin_state):
    context = browser.new_context(storage_state=admin_state)
    page = context.new_page()
    yield page
    context.close()
