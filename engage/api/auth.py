"""Bearer API keys with roles: 401 without a valid key, 403 with too small a role.

Authentication comes before anything reads the request: a stranger learns nothing about which
arguments a route takes (a 422) before showing a key."""

from __future__ import annotations

import functools

from flask import g, request
from flask_smorest import abort

from engage import safe_json, state
from engage.api.parser import refuse_nul
from engage.services import keys


def requires(role: str):
    """Let the view run only for a live key whose role includes `role`."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            header = request.headers.get("Authorization", "")
            scheme, _, secret = header.partition(" ")
            if scheme.lower() != "bearer" or not secret.strip():
                abort(401, message="missing API key: send Authorization: Bearer <key>",
                      headers={"WWW-Authenticate": "Bearer"})
            # No key holds a NUL, and PostgreSQL refuses one in a query parameter.
            key = (None if safe_json.NUL in secret
                   else keys.authenticate(state.session(), secret.strip(), state.now()))
            if key is None:
                abort(401, message="invalid API key", headers={"WWW-Authenticate": "Bearer"})
            if not keys.allows(key.role, role):
                abort(403, message=f"this needs the {role} role; the key has {key.role}")
            g.api_key = key
            refuse_nul()
            return view(*args, **kwargs)

        return wrapper

    return decorate
