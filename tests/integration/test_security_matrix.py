"""Every route of the app × every caller: the three roles, no key, a malformed header, an unknown
key and a revoked key. The routes come from app.url_map, so a new route without a line in ROUTES
fails here until someone decides who may call it."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import select

from engage.models import Member
from engage.services import keys

INTEGRATION, MARKETER, ADMIN = keys.ROLES
OPEN = "open"  # no key needed, none looked at: the same answer for every caller, never 401/403
SIGNED = "signed"  # a provider webhook: refused with 403 without the provider's signature, whatever the key
# A console page behind a signed-in session: an API key opens none of them. GET sends the caller
# to the sign-in page; a POST without the form's CSRF token is refused (400) before anything else.
SESSION = "session"

ROUTES: dict[tuple[str, str], str] = {
    ("/api/v1/members", "GET"): INTEGRATION,
    ("/api/v1/members", "POST"): INTEGRATION,
    ("/api/v1/members/<int:member_id>", "GET"): INTEGRATION,
    ("/api/v1/members/<int:member_id>", "PATCH"): INTEGRATION,
    ("/api/v1/members/<int:member_id>", "DELETE"): INTEGRATION,
    ("/api/v1/members/<int:member_id>/export", "GET"): INTEGRATION,
    ("/api/v1/members/<int:member_id>/events", "POST"): INTEGRATION,
    ("/api/v1/members/<int:member_id>/redemptions", "POST"): INTEGRATION,
    ("/api/v1/members/<int:member_id>/offers", "GET"): INTEGRATION,
    ("/api/v1/members/<int:member_id>/offers/<int:offer_id>/redemptions", "POST"): INTEGRATION,
    ("/api/v1/members/<int:member_id>/adjustments", "POST"): ADMIN,
    ("/api/v1/members/<int:member_id>/ledger", "GET"): INTEGRATION,
    ("/api/v1/members/<int:member_id>/messages", "GET"): INTEGRATION,
    ("/api/v1/members/<int:member_id>/memberships", "GET"): INTEGRATION,
    ("/api/v1/members/<int:member_id>/memberships", "POST"): INTEGRATION,
    ("/api/v1/members/<int:member_id>/memberships/<int:membership_id>/cancel", "POST"): INTEGRATION,
    ("/api/v1/causes", "GET"): INTEGRATION,
    ("/api/v1/challenges", "GET"): INTEGRATION,
    ("/api/v1/challenges", "POST"): ADMIN,
    ("/api/v1/members/<int:member_id>/challenges", "GET"): INTEGRATION,
    ("/api/v1/members/<int:member_id>/rewards", "GET"): INTEGRATION,
    ("/api/v1/rewards", "GET"): INTEGRATION,
    ("/api/v1/rewards/<int:reward_id>", "GET"): INTEGRATION,
    ("/api/v1/tiers", "GET"): INTEGRATION,
    ("/api/v1/messages", "GET"): MARKETER,
    ("/api/v1/insights", "GET"): MARKETER,
    ("/api/v1/flows", "GET"): MARKETER,
    ("/api/v1/flows/<key>", "GET"): MARKETER,
    ("/api/v1/flows/<key>", "PATCH"): MARKETER,
    ("/api/v1/flows/<key>/preview", "POST"): MARKETER,
    ("/api/v1/flows/<key>/test", "POST"): MARKETER,
    ("/api/v1/flows/<key>/templates/<channel>/<locale>", "GET"): MARKETER,
    ("/api/v1/flows/<key>/templates/<channel>/<locale>", "PUT"): MARKETER,
    ("/api/v1/flows/<key>/templates/<channel>/<locale>/versions", "GET"): MARKETER,
    ("/api/v1/flows/<key>/templates/<channel>/<locale>/versions/<int:version>/restore", "POST"): MARKETER,
    ("/api/v1/experiments", "GET"): MARKETER,
    ("/api/v1/experiments", "POST"): MARKETER,
    ("/api/v1/experiments/<int:experiment_id>", "GET"): MARKETER,
    ("/api/v1/experiments/<int:experiment_id>/stop", "POST"): MARKETER,
    ("/api/v1/experiments/<int:experiment_id>/promote", "POST"): MARKETER,
    ("/api/v1/layouts/<channel>/<locale>", "GET"): MARKETER,
    ("/api/v1/layouts/<channel>/<locale>", "PUT"): MARKETER,
    ("/api/v1/layouts/<channel>/<locale>/versions", "GET"): MARKETER,
    ("/api/v1/layouts/<channel>/<locale>/versions/<int:version>/restore", "POST"): MARKETER,
    ("/api/v1/program", "GET"): ADMIN,
    ("/api/v1/program", "PATCH"): ADMIN,
    ("/api/v1/rewards", "POST"): ADMIN,
    ("/api/v1/rewards/<int:reward_id>", "PATCH"): ADMIN,
    ("/api/v1/rewards/<int:reward_id>/codes", "GET"): ADMIN,
    ("/api/v1/rewards/<int:reward_id>/codes", "POST"): ADMIN,
    ("/api/v1/tiers/<int:tier_id>", "PATCH"): ADMIN,
    ("/api/v1/tiers", "POST"): ADMIN,
    ("/api/v1/keys", "GET"): ADMIN,
    ("/api/v1/keys", "POST"): ADMIN,
    ("/api/v1/keys/<int:key_id>", "DELETE"): ADMIN,
    ("/webhooks/twilio/sms", "POST"): SIGNED,
    ("/webhooks/twilio/status", "POST"): SIGNED,
    ("/webhooks/sendgrid/events", "POST"): SIGNED,
    ("/webhooks/sendgrid/inbound", "POST"): SIGNED,  # a shared secret: SendGrid does not sign it
    ("/unsubscribe/<token>", "GET"): OPEN,
    ("/unsubscribe/<token>", "POST"): OPEN,
    ("/api/openapi.json", "GET"): OPEN,
    ("/api/docs", "GET"): OPEN,
    ("/static/<path:filename>", "GET"): OPEN,
    ("/healthz", "GET"): OPEN,
    ("/readyz", "GET"): OPEN,
    ("/metrics", "GET"): OPEN,
    ("/console/sign-in", "GET"): OPEN,
    ("/console/sign-in", "POST"): SESSION,  # no CSRF token: 400 for everyone
    ("/console/static/<path:filename>", "GET"): OPEN,
    ("/console/", "GET"): SESSION,
    ("/console/audit", "GET"): SESSION,
    ("/console/insights", "GET"): SESSION,
    ("/console/insights/<name>.csv", "GET"): SESSION,
    ("/console/keys", "GET"): SESSION,
    ("/console/keys", "POST"): SESSION,
    ("/console/keys/<int:key_id>/revoke", "GET"): SESSION,
    ("/console/keys/<int:key_id>/revoke", "POST"): SESSION,
    ("/console/program", "GET"): SESSION,
    ("/console/program", "POST"): SESSION,
    ("/console/program/rewards", "GET"): SESSION,
    ("/console/program/challenges", "GET"): SESSION,
    ("/console/program/challenges", "POST"): SESSION,
    ("/console/program/purchase-rules", "GET"): SESSION,
    ("/console/program/purchase-rules", "POST"): SESSION,
    ("/console/program/rewards/new", "GET"): SESSION,
    ("/console/program/rewards/new", "POST"): SESSION,
    ("/console/program/rewards/<int:reward_id>", "GET"): SESSION,
    ("/console/program/rewards/<int:reward_id>", "POST"): SESSION,
    ("/console/program/rewards/<int:reward_id>/active", "POST"): SESSION,
    ("/console/program/rewards/<int:reward_id>/codes", "POST"): SESSION,
    ("/console/program/tiers/<int:tier_id>", "GET"): SESSION,
    ("/console/program/tiers/<int:tier_id>", "POST"): SESSION,
    ("/console/flows/<key>", "GET"): SESSION,
    ("/console/flows/<key>", "POST"): SESSION,
    ("/console/flows/<key>/switch", "POST"): SESSION,
    ("/console/flows/<key>/templates/<channel>/<locale>", "GET"): SESSION,
    ("/console/flows/<key>/templates/<channel>/<locale>", "POST"): SESSION,
    ("/console/flows/<key>/templates/<channel>/<locale>/preview", "POST"): SESSION,
    ("/console/flows/<key>/templates/<channel>/<locale>/test", "POST"): SESSION,
    ("/console/flows/<key>/templates/<channel>/<locale>/versions/<int:version>/restore", "POST"): SESSION,
    ("/console/experiments", "GET"): SESSION,
    ("/console/experiments/new", "GET"): SESSION,
    ("/console/experiments/new", "POST"): SESSION,
    ("/console/experiments/<int:experiment_id>", "GET"): SESSION,
    ("/console/experiments/<int:experiment_id>/stop", "POST"): SESSION,
    ("/console/experiments/<int:experiment_id>/promote", "POST"): SESSION,
    ("/console/members", "GET"): SESSION,
    ("/console/members/<int:member_id>", "GET"): SESSION,
    ("/console/members/<int:member_id>/adjustments", "POST"): SESSION,
    ("/console/members/<int:member_id>/phone", "GET"): SESSION,
    ("/console/members/<int:member_id>/phone", "POST"): SESSION,
    ("/console/sign-out", "POST"): SESSION,
}
# Routes other work is adding: listed above already, checked once they exist.
NOT_YET: set[tuple[str, str]] = set()
# Open routes whose 503 is an answer, not a failure: /readyz says "not ready" (no scheduler
# leader in these tests) the same way to every caller.
MAY_SAY_UNAVAILABLE = {("/readyz", "GET")}


def routes_of(app) -> set[tuple[str, str]]:
    return {(rule.rule, method) for rule in app.url_map.iter_rules()
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def test_every_route_has_a_line_in_the_matrix(papp):
    routes = routes_of(papp)
    unlisted = sorted(routes - set(ROUTES))
    assert not unlisted, f"routes without a line in ROUTES (who may call them?): {unlisted}"
    gone = sorted(set(ROUTES) - routes - NOT_YET)
    assert not gone, f"ROUTES lists routes the app does not have: {gone}"


@pytest.fixture
def callers(papp, papi) -> dict[str, dict]:
    """Who calls: name → request headers."""
    with papp.app_context():
        session = papp.extensions["engage.db"].session()
        now = papp.extensions["engage.clock"]()
        revoked, secret = keys.issue(session, ADMIN, "revoked admin", now)
        keys.revoke(session, revoked.id, now)
        session.close()
    bearer = lambda key: {"Authorization": f"Bearer {key}"}  # noqa: E731
    return {
        "no key": {},
        "not a bearer header": {"Authorization": f"Basic {papi.keys[ADMIN]}"},
        "unknown key": bearer("egk_" + secrets.token_urlsafe(32)),
        "revoked admin key": bearer(secret),
        INTEGRATION: bearer(papi.keys[INTEGRATION]),
        MARKETER: bearer(papi.keys[MARKETER]),
        ADMIN: bearer(papi.keys[ADMIN]),
    }


def _arguments(papp, papi) -> dict[str, object]:
    """A real value for each path parameter, so a permitted call reaches the view's own work."""
    member = papi.enrol("matrix-1")
    with papp.extensions["engage.db"].session() as session:
        token = session.scalar(select(Member.unsubscribe_token).where(Member.id == member["id"]))
        now = papp.extensions["engage.clock"]()
        spare, _ = keys.issue(session, INTEGRATION, "spare", now)  # DELETE /keys/{id} revokes this one
    return {"member_id": member["id"], "reward_id": 1, "offer_id": 1, "tier_id": 1, "key_id": spare.id, "key": "welcome",
            "channel": "sms", "locale": "en", "version": 1, "experiment_id": 1, "token": token,
            "filename": "nothing.css", "membership_id": 1, "name": "daily"}


def _url(rule: str, arguments: dict) -> str:
    url = rule
    for name, value in arguments.items():
        for converter in ("", "int:", "path:"):
            url = url.replace(f"<{converter}{name}>", str(value))
    assert "<" not in url, f"no value for a parameter of {rule}: add it to _arguments"
    return url


def test_every_route_answers_each_caller_as_its_role_says(papp, papi, callers):
    arguments = _arguments(papp, papi)
    client = papp.test_client()
    wrong = []
    for (rule, method), needed in sorted(ROUTES.items()):
        if (rule, method) not in routes_of(papp):
            continue  # NOT_YET, checked above
        url = _url(rule, arguments)
        statuses = {}
        for caller, headers in callers.items():
            response = client.open(url, method=method, headers=headers, buffered=True)  # streamed answers end here
            statuses[caller] = response.status_code
            expected = _expected(needed, caller)
            if not expected(response) and not ((rule, method) in MAY_SAY_UNAVAILABLE and response.status_code == 503):
                wrong.append(f"{method} {url} as {caller}: {response.status_code} "
                             f"{response.get_data(as_text=True)[:120]!r}")
        if needed == OPEN and len(set(statuses.values())) != 1:
            wrong.append(f"{method} {url} answers callers differently: {statuses}")
    assert not wrong, "\n".join(wrong)


def _expected(needed: str, caller: str):
    if needed == OPEN:
        return lambda response: response.status_code < 500 and response.status_code not in (401, 403)
    if needed == SIGNED:  # unsigned: 403 whoever asks; an API key opens no webhook
        return lambda response: response.status_code == 403
    if needed == SESSION:
        return lambda response: (response.status_code == 400 if response.request.method == "POST" else
                                 response.status_code == 302 and "/console/sign-in" in response.location)
    if caller not in keys.ROLES:
        return lambda response: (response.status_code == 401 and response.headers.get("WWW-Authenticate") == "Bearer"
                                 and response.get_json()["message"])
    if not keys.allows(caller, needed):
        return lambda response: response.status_code == 403 and needed in response.get_json()["message"]
    # Allowed: whatever the view says (2xx, or 4xx for the empty body sent here), never auth, never 5xx.
    return lambda response: response.status_code < 500 and response.status_code not in (401, 403)
