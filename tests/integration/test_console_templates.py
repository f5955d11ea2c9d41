"""The template editor through Flask's test client, on SQLite and PostgreSQL: save with an error then
fixed, versions with a diff and restore, back to the shipped default, the live preview fragment,
and a test send; every change in the audit log."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engage.models import AuditEntry, Message
from tests.support.console import signed_in

EDITOR = "/console/flows/welcome/templates/sms/nl"


@pytest.fixture
def marketer(app, people):
    return signed_in(app, people["marketer"])


def audit_actions(db) -> list[tuple[str, str]]:
    with db.session() as session:
        return list(session.execute(select(AuditEntry.action, AuditEntry.object_id).order_by(AuditEntry.id)))


def test_the_flow_page_links_each_channel_and_locale(app, marketer):
    page = marketer.get("/console/flows/welcome").get_data(as_text=True)
    assert 'href="/console/flows/welcome/templates/sms/nl"' in page
    assert 'href="/console/flows/welcome/templates/email/de"' in page
    assert "Customised" not in page
    marketer.post(EDITOR, {"body": "Hoi {{ member.first_name }}! Stop? STOP"})
    page = marketer.get("/console/flows/welcome").get_data(as_text=True)
    assert 'aria-label="SMS in nl: customised">Customised</a>' in page
    assert 'aria-label="EMAIL in nl: shipped default">Shipped default</a>' in page


def test_the_editor_lists_the_variables_and_previews_the_sample_member(marketer):
    page = marketer.get(EDITOR)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-insert="{{ member.first_name }}"' in text and "unsubscribe_url" not in text  # sms: no link
    assert "The shipped default (not customised)." in text
    assert "As the sample member, in nl." in text and 'id="segment-count">1<' in text


def test_a_template_saved_with_an_error_then_fixed(marketer, db):
    broken = marketer.post(EDITOR, {"body": "Hoi!\n{{ member.frist_name }}\nSTOP"})
    text = broken.get_data(as_text=True)
    assert broken.status_code == 422
    assert "The template was not saved" in text
    assert 'aria-invalid="true" aria-describedby="body-error"' in text
    assert "Line 2:" in text and "frist_name" in text
    assert '<code class="error-line">{{ member.frist_name }}</code>' in text  # the line itself, escaped
    fixed = marketer.post(EDITOR, {"body": "Hoi {{ member.first_name }}!\nAfmelden? Stuur STOP"})
    assert fixed.status_code == 302 and fixed.headers["Location"] == EDITOR
    page = marketer.get(EDITOR).get_data(as_text=True)
    assert "Saved as version 1." in page and "Customised: version 1" in page
    assert "Hoi {{ member.first_name }}!\nAfmelden? Stuur STOP</textarea>" in page
    assert audit_actions(db) == [("template.save", "welcome/sms/nl")]


def test_versions_compared_and_restored_then_back_to_the_default(marketer, api, db):
    marketer.post(EDITOR, {"body": "Eerste versie <b>STOP</b>"})
    marketer.post(EDITOR, {"body": "Tweede versie STOP"})
    compared = marketer.get(EDITOR + "?compare=1").get_data(as_text=True)
    assert "Version 1 compared with the current one" in compared
    assert '<span class="del">-Eerste versie &lt;b&gt;STOP&lt;/b&gt;</span>' in compared  # escaped
    assert '<span class="add">+Tweede versie STOP</span>' in compared
    restored = marketer.post(EDITOR + "/versions/1/restore", {}, page=EDITOR)
    assert restored.status_code == 302
    assert "Version 1 restored as version 3." in marketer.get(EDITOR).get_data(as_text=True)
    assert api.get("/flows/welcome/templates/sms/nl", role="marketer").get_json()["body"] == "Eerste versie <b>STOP</b>"
    marketer.post(EDITOR + "/versions/0/restore", {}, page=EDITOR)
    live = api.get("/flows/welcome/templates/sms/nl", role="marketer").get_json()
    assert live["version"] == 4 and live["restored_from"] == 0 and "Eerste" not in live["body"]
    assert "Back to the shipped default." in marketer.get(EDITOR).get_data(as_text=True)
    assert [action for action, _ in audit_actions(db)] == ["template.save", "template.save", "template.restore",
                                                           "template.restore"]
    assert marketer.post(EDITOR + "/versions/99/restore", {}, page=EDITOR).status_code == 404


def test_the_preview_fragment_follows_the_draft_and_the_member(marketer, api):
    api.enrol("shop-9", first_name="Ioana", locale="nl", phone="+31612345679")
    headers = {"HX-Request": "true"}
    gsm = marketer.post(EDITOR + "/preview", {"body": "Hoi {{ member.first_name }}", "member": "shop-9"},
                        page=EDITOR, headers=headers).get_data(as_text=True)
    assert "<html" not in gsm and "Hoi Ioana" in gsm and "As Ioana" in gsm
    assert 'id="encoding">GSM-7<' in gsm and 'id="room-left">151<' in gsm
    emoji = marketer.post(EDITOR + "/preview", {"body": "Hoi ă 🎉"}, page=EDITOR, headers=headers).get_data(as_text=True)
    assert 'id="encoding">UCS-2<' in emoji and 'id="room-left">62<' in emoji
    assert '<mark title="forces UCS-2">ă</mark> <mark title="forces UCS-2">🎉</mark>' in emoji
    broken = marketer.post(EDITOR + "/preview", {"body": "{% if %}"}, page=EDITOR, headers=headers)
    assert broken.status_code == 200 and "body, line 1:" in broken.get_data(as_text=True)
    nobody = marketer.post(EDITOR + "/preview", {"body": "x", "member": "nobody-here"}, page=EDITOR, headers=headers)
    assert "No member matches" in nobody.get_data(as_text=True)
    whole = marketer.post(EDITOR + "/preview", {"body": "Zonder JavaScript"}, page=EDITOR)
    assert "<html" in whole.get_data(as_text=True) and "Zonder JavaScript</textarea>" in whole.get_data(as_text=True)


def test_the_email_preview_is_a_sandboxed_frame(marketer):
    page = marketer.get("/console/flows/welcome/templates/email/en").get_data(as_text=True)
    frame = page[page.index("<iframe"):page.index("</iframe>")]
    assert " sandbox " in frame and "allow-scripts" not in frame and 'srcdoc="&lt;' in frame
    for label in ("Subject", "Plain-text part", "HTML part"):
        assert f">{label}</label>" in page


def test_a_test_send_goes_through_consent_and_is_shown(marketer, api, db):
    member = api.enrol("shop-5", first_name="Sanne", phone="+31612345670", locale="nl")
    other = api.enrol("shop-6", first_name="Daan", locale="nl", phone="+31612345671",
                      consent={"sms": False, "email": True})  # no SMS consent: suppressed
    sent = marketer.post(EDITOR + "/test", {"member": "shop-5"}, page=EDITOR)
    assert sent.status_code == 302
    assert "Test sms to Sanne: queued." in marketer.get(EDITOR).get_data(as_text=True)
    marketer.post(EDITOR + "/test", {"member": "shop-6"}, page=EDITOR)
    shown = marketer.get(EDITOR).get_data(as_text=True)
    assert "Test sms to Daan: not sent (suppressed:" in shown, shown[shown.find("notice"):][:300]
    with db.session() as session:
        tests = session.execute(select(Message.member_id, Message.status).where(Message.is_test)
                                .order_by(Message.id)).all()
    assert tests == [(member["id"], "queued"), (other["id"], "suppressed")]
    assert [action for action, _ in audit_actions(db)] == ["template.test_send", "template.test_send"]


def test_viewers_read_and_preview_but_do_not_change(app, people, db):
    viewer = signed_in(app, people["viewer"])
    page = viewer.get(EDITOR).get_data(as_text=True)
    assert "readonly" in page and "Save template" not in page and "Send a test" not in page
    assert viewer.post(EDITOR, {"body": "STOP"}).status_code == 403
    assert viewer.post(EDITOR + "/versions/0/restore", {}, page=EDITOR).status_code == 403
    assert viewer.post(EDITOR + "/test", {"member": "x"}, page=EDITOR).status_code == 403
    assert viewer.post(EDITOR + "/preview", {"body": "Hoi"}, page=EDITOR,
                       headers={"HX-Request": "true"}).status_code == 200
    assert audit_actions(db) == []


def test_unknown_flows_channels_and_locales_are_not_found(marketer):
    assert marketer.get("/console/flows/nope/templates/sms/nl").status_code == 404
    assert marketer.get("/console/flows/welcome/templates/fax/nl").status_code == 404
    assert marketer.get("/console/flows/welcome/templates/sms/xx_notalocale").status_code == 404
