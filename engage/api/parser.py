"""The API's blueprints: flask-smorest's, with a webargs parser that reads JSON bodies safely."""

from __future__ import annotations

from typing import Any

import flask_smorest
from flask import request
from marshmallow import ValidationError
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from engage import safe_json
from engage.errors import EngageError, Unprocessable

BODY_MISSING = "Send a JSON object with Content-Type: application/json."


class EngageParser(FlaskParser):
    """Too-deep JSON is a 400 like other malformed JSON; a NUL in any string is a 422 naming it.

    webargs' `load_json` turns the JSONDecodeError and UnicodeDecodeError raised here into its
    400 "Invalid JSON body." (and an empty body into a missing one)."""

    def load_json(self, req, schema) -> Any:
        # webargs reads a missing body as {}: a PATCH without one would answer 200 having done
        # nothing, and a client that forgot its Content-Type would never hear why.
        data = super().load_json(req, schema)
        if data is core.missing:
            raise ValidationError({"body": [BODY_MISSING]})
        return data

    def _raw_load_json(self, req) -> Any:
        if not is_json_request(req):
            return core.missing
        text = req.get_data(cache=True).decode("utf-8")
        value = safe_json.loads(text)
        bad = safe_json.nuls_in(text, value)
        if bad:
            raise ValidationError({path: [safe_json.NUL_MESSAGE] for path in bad})
        return value


def refuse_nul() -> None:
    """422 for a NUL in the query string or the path, 400 in a header: after authentication
    (`requires`), before the route reads any of them."""
    fields = [*request.args.items(multi=True), *(request.view_args or {}).items()]
    bad = sorted({name for name, value in fields
                  if safe_json.NUL in name or (isinstance(value, str) and safe_json.NUL in value)})
    if bad:
        names = [safe_json.shown(name) for name in bad]
        raise Unprocessable(f"invalid input: {names[0]}: {safe_json.NUL_MESSAGE}",
                            {name: [safe_json.NUL_MESSAGE] for name in names})
    for name, value in request.headers.items():
        if safe_json.NUL in value:
            raise EngageError(f"header {name}: {safe_json.NUL_MESSAGE}")


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint, parsing arguments with EngageParser."""

    ARGUMENTS_PARSER = EngageParser()
