"""Hypothesis at two doors strangers and marketers write through, on SQLite and PostgreSQL:
any text a handset can send gets a TwiML answer (never a 500) and leaves the ledger adding up;
any template source a marketer saves is a 2xx or a 422 with a message, and what it renders
never reaches past the sandbox."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.databases import check_member_totals
from tests.support.sms import Phone
from tests.unit.test_templating_sandbox import ESCAPES, RESOURCE_ABUSE

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
# Whatever a form field can carry: any code point but lone surrogates (not encodable as UTF-8).
UNICODE = st.characters(blacklist_categories=("Cs",))
KEYWORDS = ["STOP", "stop ", "ＳＴＯＰ", "START", "HELP", "INFO", "POINTS", "BALANCE", "REDEEM", "5", "0",
            "yes", "\u200bSTOP\u200b", "STOP STOP"]
BODIES = st.one_of(st.text(UNICODE, max_size=400), st.sampled_from(KEYWORDS),
                   st.lists(st.one_of(st.sampled_from(KEYWORDS), st.text(UNICODE, max_size=8)), max_size=5)
                   .map(" ".join))


@pytest.fixture
def flows_on():
    return True  # a feedback request may be open: ratings and free text take their own paths


@pytest.mark.slow
def test_any_inbound_text_gets_a_twiml_answer_and_the_ledger_adds_up(papp, papi, fake_provider, database_url):
    member = papi.enrol("fuzz-sms")
    assert papi.purchase(member["id"], "30.00").status_code == 201
    phone = Phone(papp, fake_provider.twilio_auth_token)
    stranger = Phone(papp, fake_provider.twilio_auth_token, number="+31687654321")

    @FUZZ
    @given(body=BODIES, from_member=st.booleans())
    def texted(body, from_member):
        response = (phone if from_member else stranger).post((phone if from_member else stranger).params(body))
        assert response.status_code == 200, (body, response.get_data(as_text=True)[:300])
        assert response.mimetype in ("text/xml", "application/xml")
        assert response.get_data(as_text=True).lstrip().startswith(("<?xml", "<Response"))
        assert papi.get(f"/members/{member['id']}").get_json()["points"] >= 0

    texted()
    check_member_totals(database_url)


# Saving is where a template is judged: fragments that try to leave the sandbox or exhaust the
# machine, glued to arbitrary text, Jinja punctuation and real variables.
FRAGMENTS = [*ESCAPES, *RESOURCE_ABUSE, "{{", "}}", "{%", "%}", "{#", "#}", "{{ member.first_name }}",
             "{{ program.name }}", "{% if reward %}", "{% endif %}", "{% for b in tier.benefits %}",
             "{% endfor %}", "{{ member.points|points }}", "{{ unknown_variable }}", "\x00", "\n"]
SOURCES = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(UNICODE, max_size=20)), max_size=6).map("".join)
# What only a way out of the sandbox could print (a template's literal text is the marketer's own,
# so only markers that no fragment above spells are meaningful).
LEAKS = ["<class '", "<function ", "<module '", "<built-in ", "<bound method", "__builtins__", "Popen"]


@pytest.mark.slow
def test_any_template_source_saves_or_is_refused_and_renders_inside_the_sandbox(api):
    member = api.enrol("fuzz-template")
    headers = api.headers("marketer")

    @FUZZ
    @given(source=SOURCES,
           channel_parts=st.sampled_from([("sms", ("body",)), ("email", ("subject", "html", "text"))]))
    def saved_and_previewed(source, channel_parts):
        channel, parts = channel_parts
        body = {part: source for part in parts}
        saved = api.client.put(f"/api/v1/flows/welcome/templates/{channel}/en", json=body, headers=headers)
        assert saved.status_code in (200, 422), (source, saved.get_data(as_text=True)[:300])
        if saved.status_code == 422:
            assert saved.get_json()["message"]
            return
        preview = api.client.post("/api/v1/flows/welcome/preview",
                                  json={"member_id": member["id"], "channel": channel}, headers=headers)
        assert preview.status_code in (200, 422), (source, preview.get_data(as_text=True)[:300])
        text = preview.get_data(as_text=True)
        assert not [leak for leak in LEAKS if leak in text and leak not in source], (source, text[:300])

    saved_and_previewed()
