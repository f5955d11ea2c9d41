"""The unsubscribe link: a GET (a mail scanner, a link preview, a person) changes nothing; the
RFC 8058 one-click POST, or the confirm page's button, opts the member out of email."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from engage.models import ConsentEvent, Member


@pytest.fixture
def member(papp, papi) -> dict:
    made = papi.enrol("unsub")
    with papp.extensions["engage.db"].session() as session:
        made["token"] = session.scalar(select(Member.unsubscribe_token).where(Member.id == made["id"]))
    return made


def state_of(papp, member_id: int) -> tuple:
    """The member's reachability and every consent event: what an unsubscribe would change."""
    with papp.extensions["engage.db"].session() as session:
        row = session.get(Member, member_id)
        events = session.scalars(select(ConsentEvent.channel + ":" + ConsentEvent.change + ":" + ConsentEvent.source)
                                 .where(ConsentEvent.member_id == member_id).order_by(ConsentEvent.id)).all()
        return row.email_opted_out, row.email_consent, row.sms_opted_out, row.sms_consent, tuple(events)


class Forms(HTMLParser):
    """The page's forms: method, action and the fields they would post."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"method": (attrs.get("method") or "get").lower(), "action": attrs.get("action"),
                               "fields": {}, "buttons": 0})
        elif tag == "input" and self.forms and attrs.get("name"):
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value") or ""
        elif tag == "button" and self.forms:
            self.forms[-1]["buttons"] += 1


def forms_of(response) -> list[dict]:
    parser = Forms()
    parser.feed(response.get_data(as_text=True))
    return parser.forms


def test_a_get_shows_a_confirm_page_and_changes_nothing(papp, member):
    client = papp.test_client()
    before = state_of(papp, member["id"])
    for _ in range(3):  # a scanner, a preview, the member: none of them opts out
        response = client.get(f"/unsubscribe/{member['token']}")
        assert response.status_code == 200 and response.mimetype == "text/html"
        assert client.head(f"/unsubscribe/{member['token']}").status_code == 200
    [form] = forms_of(response)
    assert form["method"] == "post" and form["buttons"] == 1
    assert response.headers["Cache-Control"] == "no-store" and response.headers["Referrer-Policy"] == "no-referrer"
    assert state_of(papp, member["id"]) == before
    assert before[0] is False  # still receiving email: the check above had something to lose


def test_the_confirm_pages_button_opts_out(papp, papi, member):
    client = papp.test_client()
    url = f"/unsubscribe/{member['token']}"
    [form] = forms_of(client.get(url))
    response = client.post(form["action"] or url, data=form["fields"])
    assert response.status_code == 200 and "You are unsubscribed" in response.get_data(as_text=True)
    assert papi.get(f"/members/{member['id']}").get_json()["opted_out"] == {"sms": False, "email": True}
    # Once out, the link's page says so and offers nothing more to press.
    again = client.get(url)
    assert "You are unsubscribed" in again.get_data(as_text=True) and forms_of(again) == []


def test_one_click_post_opts_out_once(papp, member):
    client = papp.test_client()
    url = f"/unsubscribe/{member['token']}"
    before = state_of(papp, member["id"])
    for _ in range(2):  # mailboxes may send it more than once
        response = client.post(url, data="List-Unsubscribe=One-Click",
                               content_type="application/x-www-form-urlencoded")
        assert response.status_code == 200
    email_opted_out, email_consent, sms_opted_out, sms_consent, events = state_of(papp, member["id"])
    assert email_opted_out is True and (sms_opted_out, sms_consent) == before[2:4]
    assert events == (*before[4], "email:opt_out:unsubscribe_link")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_unknown_token_is_a_404_page(papp, member, method):
    with papp.extensions["engage.db"].session() as session:
        events = session.scalar(select(func.count()).select_from(ConsentEvent))
    response = papp.test_client().open(f"/unsubscribe/{member['token']}x", method=method,
                                       data="List-Unsubscribe=One-Click",
                                       content_type="application/x-www-form-urlencoded")
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert re.search(r"not (valid|recognised)", response.get_data(as_text=True))
    with papp.extensions["engage.db"].session() as session:
        assert session.scalar(select(func.count()).select_from(ConsentEvent)) == events


def test_the_page_speaks_the_members_language(papp, papi):
    assert papi.patch("/program", {"name": "Kaas & <Co>"}, role="admin").status_code == 200
    member = papi.enrol("unsub-nl", locale="nl-BE")
    with papp.extensions["engage.db"].session() as session:
        token = session.scalar(select(Member.unsubscribe_token).where(Member.id == member["id"]))
    client = papp.test_client()
    page = client.get(f"/unsubscribe/{token}").get_data(as_text=True)
    assert '<html lang="nl">' in page and ">Afmelden</button>" in page
    assert "Kaas &amp; &lt;Co&gt;" in page and "<Co>" not in page  # the program's name, escaped
    assert "Je bent afgemeld" in client.post(f"/unsubscribe/{token}").get_data(as_text=True)
