"""The console's signed session cookie, with its serializer made once per signing key.

Flask builds a new itsdangerous serializer on every request, the API's included (each request
opens the session, and Flask-Login looks in it), which cost about 60 µs a request on the bench
machine, some 5 % of a purchase's CPU in the web process. The serializer holds only its keys and
settings, so one made for the current key and fallbacks serves every request until they change.
"""

from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class SessionCookies(SecureCookieSessionInterface):
    """Flask's cookie sessions, unchanged but for the serializer kept while the keys stay."""

    def __init__(self) -> None:
        self._made: tuple[tuple, URLSafeTimedSerializer | None] | None = None  # (keys, serializer)

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        made = self._made
        if made is not None and made[0] == keys:
            return made[1]
        serializer = super().get_signing_serializer(app)
        self._made = (keys, serializer)  # one assignment: threads see the old pair or the new
        return serializer
