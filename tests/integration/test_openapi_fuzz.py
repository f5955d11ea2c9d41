"""schemathesis against the app in-process, on SQLite and PostgreSQL: every check (no 5xx, every
answer as documented, schema-valid requests accepted, invalid ones refused, 405s with Allow,
authentication not ignored) over every phase, stateful links included. A few cases per operation
here; `make fuzz` runs thousands against a served instance with the same schemathesis.toml."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from engage import create_app
from engage.config import Config
from tests.support.api import ApiClient

# The coverage phase walks every value of an enum: the locale, time zone and phone region lists
# make thousands of cases for the operations that take them. `make fuzz` walks them all; here
# the fuzzing and stateful phases cover those operations.
LONG_LISTS = """
[[operations]]
include-path-regex = "^/api/v1/(members|members/\\\\{member_id\\\\}|program|flows/\\\\{key\\\\}/preview)$"
include-method = ["POST", "PATCH"]
phases.coverage.enabled = false
"""
CONFIG = SchemathesisConfig.from_str(
    (Path(__file__).parents[2] / "schemathesis.toml").read_text() + LONG_LISTS)
# The document does not depend on the database: read it from an app that never opens one, then
# send each case to the app of the database under test (schemathesis' lazy pytest loader, which
# would take the schema from a fixture, does not run under pytest 9).
DOCUMENT_APP = create_app(Config(database_url="sqlite://", public_url="https://engage.example.com", testing=True))
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", DOCUMENT_APP, config=CONFIG)
FEW = settings(max_examples=4, deadline=None, derandomize=True, database=None,
               suppress_health_check=list(HealthCheck))
ADMIN_KEY: dict[str, str] = {}


@schema.auth(refresh_interval=None)  # schemathesis knows the key, so `ignored_auth` can vary it
class AdminKey:
    def get(self, case, ctx):
        return ADMIN_KEY.get("secret", "not-yet")  # also asked while pytest collects

    def set(self, case, data, ctx):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@pytest.fixture
def fuzz_api(api: ApiClient) -> ApiClient:
    """Members with and without contacts, so ids drawn or linked find someone."""
    for n in range(3):
        api.enrol(f"fuzz-{n}")
    bare = {"external_id": "fuzz-bare", "first_name": "Bo", "consent": {"sms": False, "email": False}}
    assert api.post("/members", bare).status_code == 201
    ADMIN_KEY["secret"] = api.keys["admin"]
    return api


def test_the_document_is_valid_openapi_3():
    schema.validate()  # raises with the JSON path of the first problem


@schema.parametrize()
@FEW
def test_every_operation_answers_as_documented(case, fuzz_api):
    case.call_and_validate(app=fuzz_api.app)


def test_stateful_sequences_answer_as_documented(fuzz_api):
    app = fuzz_api.app

    class Workflow(schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"app": app}

    Workflow.run(settings=settings(FEW, max_examples=8, stateful_step_count=6))
