"""The console through Flask's test client: sign-in, sessions, CSRF, roles, flow settings and the
audit log, on SQLite and PostgreSQL. (The browser tests drive the same pages in Chromium.)"""

from __future__ import annotations

import secrets
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from engage import create_app
from engage.models import AuditEntry, FlowSetting, SignInAttempt, User
from tests.support.console import ConsoleClient, signed_in


@pytest.fixture
def console(app, people):
    return ConsoleClient(app.test_client())


def test_pages_need_a_signed_in_user(console):
    answer = console.get("/console/flows/welcome")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/console/sign-in?next=/console/flows/welcome")


def test_sign_in_wrong_then_right(app, console, people, db):
    wrong = console.sign_in(people["marketer"], "not the password")
    assert wrong.status_code == 401 and "Wrong email or password." in wrong.get_data(as_text=True)
    unknown = console.sign_in("nobody@example.com")
    assert unknown.status_code == 401 and "Wrong email or password." in unknown.get_data(as_text=True)
    right = console.sign_in("Marketer@Example.com ")  # the email in any case
    assert right.status_code == 302 and right.headers["Location"] == "/console/"
    home = console.get("/console/")
    assert home.status_code == 200 and "marketer@example.com (marketer)" in home.get_data(as_text=True)
    with db.session() as session:
        assert session.scalar(select(User.last_sign_in_at).where(User.email == people["marketer"])) is not None
    cookie = right.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie  # public URL is https


def test_sign_in_goes_back_to_the_page_asked_for_but_never_off_site(console, people):
    answer = console.client.post("/console/sign-in?next=/console/audit", data={
        "email": people["admin"], "password": "correct horse battery", "csrf_token": console.token()})
    assert answer.headers["Location"] == "/console/audit"
    other = ConsoleClient(console.client.application.test_client())
    answer = other.client.post("/console/sign-in?next=//evil.example.com/", data={
        "email": people["admin"], "password": "correct horse battery", "csrf_token": other.token()})
    assert answer.headers["Location"] == "/console/"


def test_a_form_without_its_csrf_token_is_refused(app, people):
    client = signed_in(app, people["marketer"])
    answer = client.client.post("/console/flows/welcome", data={"delay": "0", "delay_unit": "minutes",
                                                                "channel_1": "sms"})
    assert answer.status_code == 400
    assert "text/html" in answer.content_type and "security token" in answer.get_data(as_text=True)
    no_token = ConsoleClient(app.test_client()).client.post("/console/sign-in", data={
        "email": people["marketer"], "password": "correct horse battery"})
    assert no_token.status_code == 400


def test_the_api_stays_exempt_from_csrf(app, api, people):
    signed_in(app, people["admin"])
    answer = api.get("/flows", role="marketer")
    assert answer.status_code == 200
    assert "Vary" not in answer.headers and "Set-Cookie" not in answer.headers  # no session on the API
    assert api.patch("/flows/welcome", {"delay": 60}, role="marketer").status_code == 200


def test_sign_in_is_rate_limited_per_email_and_address(app, console, people, clock):
    for _ in range(5):
        assert console.sign_in(people["viewer"], "wrong password").status_code == 401
    refused = console.sign_in(people["viewer"])  # even the right password, for now
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    clock.advance(seconds=61)
    assert console.sign_in(people["viewer"]).status_code == 302


def test_sign_in_is_rate_limited_per_address_across_emails(app, console, people):
    for n in range(20):
        assert console.sign_in(f"guess{n}@example.com").status_code == 401
    assert console.sign_in(people["viewer"]).status_code == 429


def test_every_process_counts_the_same_sign_in_attempts(app, config, console, people, clock):
    other = create_app(config, clock=clock)  # another worker process on the same database
    try:
        elsewhere = ConsoleClient(other.test_client())
        for client in (console, elsewhere, console, elsewhere, console):
            assert client.sign_in(people["viewer"], "wrong password").status_code == 401
        assert elsewhere.sign_in(people["viewer"]).status_code == 429
        with app.extensions["engage.db"].session() as session:
            stored = session.scalars(select(SignInAttempt.key_hash)).all()
        assert stored and not any("@" in key or "viewer" in key for key in stored)  # hashed keys only
    finally:
        other.extensions["engage.db"].dispose()


def test_with_redis_the_sign_in_attempts_are_counted_there(config, people, clock):
    from tests.integration.test_security_rate_limits import REDIS_URL, _redis_answers

    if _redis_answers():
        pytest.skip("Redis not available")
    email = f"nobody-{secrets.token_hex(6)}@example.com"  # a key of this test run only in a shared Redis
    apps = [create_app(replace(config, redis_url=REDIS_URL), clock=clock) for _ in range(2)]
    try:
        clients = [ConsoleClient(a.test_client()) for a in apps]
        codes = [clients[n % 2].sign_in(email, "wrong password").status_code for n in range(6)]
        assert codes == [401] * 5 + [429]
        with apps[0].extensions["engage.db"].session() as session:
            assert session.scalar(select(func.count(SignInAttempt.id))) == 0
    finally:
        for a in apps:
            a.extensions["engage.db"].dispose()


def test_an_idle_session_ends(app, people, clock):
    client = signed_in(app, people["viewer"])
    clock.advance(minutes=29)
    assert client.get("/console/").status_code == 200
    clock.advance(minutes=29)  # active 29 minutes ago: still in
    assert client.get("/console/").status_code == 200
    clock.advance(minutes=31)
    answer = client.get("/console/")
    assert answer.status_code == 302 and "/console/sign-in" in answer.headers["Location"]
    assert "without activity" in client.get(answer.headers["Location"]).get_data(as_text=True)


def test_sign_out_ends_the_session(app, people):
    client = signed_in(app, people["viewer"])
    assert client.post("/console/sign-out", {}, page="/console/").status_code == 302
    assert client.get("/console/").status_code == 302


def test_a_disabled_user_is_signed_out(app, people, db, clock):
    client = signed_in(app, people["marketer"])
    with db.session() as session, session.begin():
        session.scalar(select(User).where(User.email == people["marketer"])).disabled_at = clock()
    assert client.get("/console/").status_code == 302
    assert ConsoleClient(app.test_client()).sign_in(people["marketer"]).status_code == 401


def test_roles_per_page(app, people):
    viewer = signed_in(app, people["viewer"])
    assert viewer.get("/console/flows/welcome").status_code == 200
    assert viewer.post("/console/flows/welcome", {"channel_1": "sms", "delay": "0",
                                                  "delay_unit": "minutes"}).status_code == 403
    assert viewer.get("/console/audit").status_code == 403
    marketer = signed_in(app, people["marketer"])
    assert marketer.get("/console/audit").status_code == 403
    assert "Audit" not in marketer.get("/console/").get_data(as_text=True).split("<main")[0]
    assert signed_in(app, people["admin"]).get("/console/audit").status_code == 200


def test_flow_settings_saved_with_an_error_then_fixed(app, people, db):
    client = signed_in(app, people["marketer"])
    page = client.get("/console/flows/expiry_warning").get_data(as_text=True)
    assert 'value="30, 7"' in page and "Offsets days" in page
    form = {"enabled": "on", "channel_1": "email", "channel_2": "email", "delay": "2", "delay_unit": "hours",
            "offsets_days": "30, 0"}
    answer = client.post("/console/flows/expiry_warning", form)
    text = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert 'id="channel_1-error">List each channel once.' in text
    form["channel_2"] = "sms"
    answer = client.post("/console/flows/expiry_warning", form)
    assert answer.status_code == 422
    assert 'id="offsets_days-error">must be a non-empty list of whole numbers of days from 1 to 365' in \
        answer.get_data(as_text=True)
    form["offsets_days"] = "14"
    answer = client.post("/console/flows/expiry_warning", form)
    assert answer.status_code == 302
    with db.session() as session:
        row = session.get(FlowSetting, "expiry_warning")
        assert (row.channels, row.delay_seconds, row.params["offsets_days"]) == (["email", "sms"], 7200, [14])
        entry = session.scalar(select(AuditEntry))
    assert (entry.actor, entry.action, entry.object_type, entry.object_id) == (
        people["marketer"], "flow.update", "flow", "expiry_warning")
    assert entry.before["params"]["offsets_days"] == [30, 7] and entry.after["params"]["offsets_days"] == [14]
    audit = signed_in(app, people["admin"]).get("/console/audit").get_data(as_text=True)
    assert "flow.update flow expiry_warning" in audit and people["marketer"] in audit


def test_delay_must_be_a_whole_number_within_90_days(app, people):
    client = signed_in(app, people["marketer"])
    form = {"enabled": "on", "channel_1": "sms", "delay": "soon", "delay_unit": "days"}
    assert 'id="delay-error">Enter a whole number.' in client.post("/console/flows/welcome", form).get_data(
        as_text=True)
    form["delay"] = "91"
    answer = client.post("/console/flows/welcome", form)
    assert answer.status_code == 422 and 'id="delay-error">' in answer.get_data(as_text=True)


def test_switching_a_flow_off_and_on(app, people, db):
    client = signed_in(app, people["marketer"])
    answer = client.post("/console/flows/welcome/switch", {}, page="/console/", headers={"HX-Request": "true"})
    assert answer.status_code == 200 and answer.get_data(as_text=True).lstrip().startswith('<tr id="flow-welcome">')
    with db.session() as session:
        assert session.get(FlowSetting, "welcome").enabled is False
    assert client.post("/console/flows/welcome/switch", {"enabled": "on"}, page="/console/").status_code == 302
    with db.session() as session:
        assert session.get(FlowSetting, "welcome").enabled is True
        assert [e.after["enabled"] for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))] == \
            [False, True]


def test_unknown_flow_is_a_404_page(app, people):
    answer = signed_in(app, people["viewer"]).get("/console/flows/nope")
    assert answer.status_code == 404 and "There is no flow" in answer.get_data(as_text=True)


def test_audit_log_pages(app, people, db, clock):
    from engage.services import audit

    with app.app_context():
        for n in range(55):
            audit.record(db.session(), audit.Actor("key:webshop"), "test.change", "thing", str(n), None, {"n": n},
                         clock())
    client = signed_in(app, people["admin"])
    first = client.get("/console/audit").get_data(as_text=True)
    assert "test.change thing 54" in first and "test.change thing 4<" not in first
    older = first.split('href="/console/audit?cursor=')[1].split('"')[0]
    second = client.get(f"/console/audit?cursor={older}").get_data(as_text=True)
    assert "test.change thing 4<" in second and "test.change thing 54" not in second
    assert client.get("/console/audit?cursor=garbage").status_code == 400


@pytest.fixture
def enrolled(api):
    ana = api.enrol("shop-17", first_name="Ana", last_name="Popescu", email="Ana.Popescu@example.com",
                    phone="+31612345678")
    api.enrol("shop-18", first_name="Anatol", last_name="Ionescu", email="anatol@example.com", phone="+40721000001")
    gone = api.enrol("shop-19", first_name="Anabel", email="anabel@example.com", phone="+31612000009")
    assert api.delete(f"/members/{gone['id']}", role="admin").status_code == 204
    assert api.purchase(ana["id"], "620.00", key="p-1").status_code == 201
    return ana


@pytest.mark.parametrize("query", ["Ana Pop", "popescu", "ana.popescu@example.com", "ANA.POPESCU@EXAMPLE.COM",
                                   "06 12 34 56 78", "+31 (0)6-1234 5678", "shop-17", "referral"])
def test_member_search_finds_by_name_email_phone_ids_and_codes(app, api, people, enrolled, query):
    if query == "referral":
        query = enrolled["referral_code"].lower()
    assert api.patch("/program", {"phone_region": "NL"}, role="admin").status_code == 200  # 06… is Dutch
    page = signed_in(app, people["viewer"]).get(f"/console/members?q={query}").get_data(as_text=True)
    assert "1 member found" in page, page
    assert f'href="/console/members/{enrolled["id"]}">Ana Popescu' in page


def test_member_search_by_first_letters_lists_all_but_the_erased(app, people, enrolled):
    page = signed_in(app, people["viewer"]).get("/console/members?q=ana").get_data(as_text=True)
    assert "2 members found" in page and "Anatol" in page and "Anabel" not in page
    assert "0 members found" in signed_in(app, people["viewer"]).get("/console/members?q=%25").get_data(
        as_text=True)


def test_members_list_pages_newest_first_by_tier_without_the_erased(app, api, people, enrolled, monkeypatch):
    from engage.console import members

    monkeypatch.setattr(members, "PAGE_SIZE", 1)  # a page size, not behaviour: three pages of one
    client = signed_in(app, people["viewer"])
    first = client.get("/console/members").get_data(as_text=True)
    assert "All members, newest first" in first and "Anatol Ionescu" in first and "Ana Popescu" not in first
    older = first.split('href="/console/members?cursor=')[1].split('"')[0]
    second = client.get(f"/console/members?cursor={older}").get_data(as_text=True)
    assert "Ana Popescu" in second and "Anatol" not in second and "Anabel" not in second
    assert 'href="/console/members">Newest</a>' in second and "Older members" not in second
    silver = client.get("/console/members?tier=2").get_data(as_text=True)  # Ana's 720 points: Silver
    assert "Ana Popescu" in silver and "Anatol" not in silver and "<option value=\"2\" selected>" in silver
    assert client.get("/console/members?tier=3").get_data(as_text=True).count("No members in this tier") == 1
    for bad in ("cursor=abc", "tier=99", "tier=gold"):
        assert client.get(f"/console/members?{bad}").status_code == 400, bad


def test_member_page_shows_points_tier_expiry_ledger_and_thread(app, people, enrolled):
    page = signed_in(app, people["viewer"]).get(f"/console/members/{enrolled['id']}").get_data(as_text=True)
    assert '<p class="big">720</p>' in page  # 100 signup + 620
    assert "Silver tier" in page and "780 more to Gold" in page and 'value="' in page
    assert "720 points on 2027-03-02" in page
    assert "signup bonus" in page and "+620" in page
    assert "To the member · SMS · welcome" in page
    assert signed_in(app, people["viewer"]).get("/console/members/999999").status_code == 404


def test_hostile_input_is_never_a_500(app, console, people):
    assert console.sign_in("viewer@example.com\x00", "x\x00" * 2000).status_code == 401
    assert console.sign_in("a" * 5000 + "@example.com").status_code == 401
    client = signed_in(app, people["marketer"])
    for query in ("%00", "\x00ana", "a" * 5000, "%25_%5C", "+", "@"):
        assert client.get(f"/console/members?q={query}").status_code == 200, query
    form = {"channel_1": "fax\x00", "delay": "1\x00", "delay_unit": "days\x00", "repeat_days": "\x00"}
    assert client.post("/console/flows/redemption_reminder", form).status_code == 422
    assert client.get("/console/members/99999999999999").status_code == 404
