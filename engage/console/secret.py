"""The key that signs session cookies: ENGAGE_SECRET_KEY, else one generated under instance/."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from engage.config import Config

log = logging.getLogger(__name__)
FILE_NAME = "secret_key"


def secret_key(config: Config, instance_path: Path) -> str:
    """Production sets ENGAGE_SECRET_KEY (required behind https, see engage.config). Tests get a
    fresh key per app; `make run` generates one into instance/ once, so sign-ins survive restarts."""
    if config.secret_key:
        return config.secret_key
    if config.testing:
        return secrets.token_hex(32)
    path = instance_path / FILE_NAME
    try:
        return _create(path)
    except FileExistsError:  # made earlier, or by another process starting beside this one
        return path.read_text().strip()


def _create(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(key + "\n")
    # Info, not a warning: every command builds the app, and their stderr is one line (`make run`
    # says where the key is instead).
    log.info("generated the console's secret key into %s; set ENGAGE_SECRET_KEY in production", path)
    return key
