"""A tiny helper around the Flask test client for the console: users, sign-in, CSRF tokens."""

from __future__ import annotations

import re

from engage.services import users

PASSWORD = "correct horse battery"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_users(app) -> dict[str, str]:
    """One user per role: {role: email}."""
    with app.app_context():
        db, now = app.extensions["engage.db"], app.extensions["engage.clock"]()
        return {role: users.create(db.session(), f"{role}@example.com", role, PASSWORD, now).email
                for role in users.ROLES}


class ConsoleClient:
    def __init__(self, client):
        self.client = client

    def token(self, path: str = "/console/sign-in") -> str:
        page = self.client.get(path)
        found = TOKEN.search(page.get_data(as_text=True))
        assert found, f"no CSRF token on {path}"
        return found.group(1)

    def sign_in(self, email: str, password: str = PASSWORD, **kwargs):
        data = {"email": email, "password": password, "csrf_token": self.token()}
        return self.client.post("/console/sign-in", data=data, **kwargs)

    def post(self, path: str, data: dict, page: str | None = None, **kwargs):
        """POST a form as the page at `page` (default: `path`) would, with its CSRF token."""
        return self.client.post(path, data={**data, "csrf_token": self.token(page or path)}, **kwargs)

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)


def signed_in(app, email: str) -> ConsoleClient:
    """A test client signed in to the console as `email` (a user made by `add_users`)."""
    client = ConsoleClient(app.test_client())
    assert client.sign_in(email).status_code == 302
    return client
