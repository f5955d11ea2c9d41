"""Flows through the API: settings, previews against a real member, and test sends."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from engage.jobs import dispatcher_for
from engage.models import AuditEntry, Member
from engage.services.consent import suppress
from engage.store import transaction

FLOW_KEYS = ["welcome", "redemption_reminder", "expiry_warning", "tier_congratulations", "feedback_request",
             "membership_renewal", "challenge_progress", "offer"]


def patch(api, key, body):
    return api.patch(f"/flows/{key}", body, role="marketer")


def preview(api, key, **body):
    return api.post(f"/flows/{key}/preview", body, role="marketer")


def send_test(api, key, **body):
    return api.post(f"/flows/{key}/test", body, role="marketer")


def member_messages(api, member_id):
    return api.get(f"/members/{member_id}/messages").get_json()["items"]


def opt_out_of_sms(db, member_id):
    with db.session() as session, transaction(session):
        session.execute(update(Member).where(Member.id == member_id).values(sms_opted_out=True))


# Settings ----------------------------------------------------------------------------------------

def test_lists_the_flows_with_their_defaults(api):
    response = api.get("/flows", role="marketer")
    assert response.status_code == 200
    body = response.get_json()
    assert body["next"] is None and [f["key"] for f in body["items"]] == FLOW_KEYS
    flows = {f["key"]: f for f in body["items"]}
    assert flows["welcome"] == {"key": "welcome", "enabled": True, "channels": ["sms", "email"], "delay": 0,
                                "params": {}}
    assert flows["expiry_warning"]["channels"] == ["email", "sms"]
    assert flows["expiry_warning"]["params"] == {"offsets_days": [30, 7]}
    assert flows["feedback_request"]["delay"] == 3 * 86400
    assert flows["redemption_reminder"]["params"] == {"repeat_days": 30}
    assert api.get("/flows/feedback_request", role="marketer").get_json() == flows["feedback_request"]


def test_unknown_flow_is_404_everywhere(api):
    member = api.enrol("nf-1")
    assert api.get("/flows/birthday", role="marketer").status_code == 404
    assert patch(api, "birthday", {"enabled": False}).status_code == 404
    assert preview(api, "birthday", member_id=member["id"], channel="sms").status_code == 404
    missing = send_test(api, "birthday", member_id=member["id"])
    assert missing.status_code == 404 and "birthday" in missing.get_json()["message"]


def test_flows_need_the_marketer_role(api):
    member = api.enrol("role-1")
    assert api.get("/flows").status_code == 403
    assert api.get("/flows/welcome").status_code == 403
    assert api.patch("/flows/welcome", {"enabled": False}).status_code == 403
    body = {"member_id": member["id"], "channel": "sms"}
    assert api.post("/flows/welcome/preview", body).status_code == 403
    assert api.post("/flows/welcome/test", {"member_id": member["id"]}).status_code == 403
    assert api.client.get("/api/v1/flows").status_code == 401
    assert api.get("/flows", role="admin").status_code == 200
    assert len(member_messages(api, member["id"])) == 1  # the welcome; no test send went out


def test_switching_a_flow_off_stops_it(api):
    response = patch(api, "welcome", {"enabled": False})
    assert response.status_code == 200 and response.get_json()["enabled"] is False
    member = api.enrol("off-1")
    assert member_messages(api, member["id"]) == []
    assert patch(api, "welcome", {"enabled": True}).get_json()["enabled"] is True
    assert len(member_messages(api, api.enrol("on-1", phone="+31612345670")["id"])) == 1


def test_a_change_is_audited_with_the_key_that_made_it(api, db):
    assert patch(api, "welcome", {"delay": 600}).status_code == 200
    assert patch(api, "welcome", {"delay": 600}).status_code == 200  # no change: no entry
    with db.session() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "flow.update")).one()
    assert (entry.actor, entry.object_type, entry.object_id) == ("key:test marketer", "flow", "welcome")
    assert (entry.before["delay"], entry.after["delay"]) == (0, 600)


def test_channels_and_delay_change_how_the_flow_sends(api, clock):
    response = patch(api, "welcome", {"channels": ["email"], "delay": 3600})
    assert response.status_code == 200
    assert response.get_json() == {"key": "welcome", "enabled": True, "channels": ["email"], "delay": 3600,
                                   "params": {}}
    member = api.enrol("ch-1")
    [message] = member_messages(api, member["id"])
    assert message["channel"] == "email" and message["status"] == "scheduled"
    sends_at = datetime.fromisoformat(message["send_after"])
    assert sends_at == clock.current + timedelta(hours=1)


def test_params_are_merged_and_kept(api):
    response = patch(api, "expiry_warning", {"params": {"offsets_days": [14, 3, 1]}})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["params"] == {"offsets_days": [14, 3, 1]}
    assert patch(api, "redemption_reminder", {"params": {"repeat_days": 7}}).get_json()["params"] == {
        "repeat_days": 7}
    assert patch(api, "feedback_request", {"params": {"min_days_between": 0}}).status_code == 200
    switched_off = patch(api, "expiry_warning", {"enabled": False}).get_json()
    assert switched_off["params"] == {"offsets_days": [14, 3, 1]}
    reminder = api.get("/flows/redemption_reminder", role="marketer").get_json()
    assert reminder["params"] == {"repeat_days": 7}


@pytest.mark.parametrize("key,body,field", [
    ("welcome", {"channels": []}, "channels"),
    ("welcome", {"channels": ["sms", "sms"]}, "channels"),
    ("welcome", {"channels": ["fax"]}, "channels"),
    ("welcome", {"channels": "sms"}, "channels"),
    ("welcome", {"delay": -1}, "delay"),
    ("welcome", {"delay": 90 * 86400 + 1}, "delay"),
    ("welcome", {"delay": "60"}, "delay"),
    ("welcome", {"delay": 1.5}, "delay"),
    ("welcome", {"enabled": "maybe"}, "enabled"),
    ("welcome", {"colour": "red"}, "colour"),
    ("welcome", {"params": {"repeat_days": 7}}, "params"),
    ("redemption_reminder", {"params": {"repeat_days": 0}}, "params"),
    ("redemption_reminder", {"params": {"repeat_days": 366}}, "params"),
    ("redemption_reminder", {"params": {"repeat_days": "7"}}, "params"),
    ("redemption_reminder", {"params": {"repeat_days": True}}, "params"),
    ("redemption_reminder", {"params": {"repeat_days": 7, "extra": 1}}, "params"),
    ("expiry_warning", {"params": {"offsets_days": [7, 7]}}, "params"),
    ("expiry_warning", {"params": {"offsets_days": []}}, "params"),
    ("expiry_warning", {"params": {"offsets_days": [0]}}, "params"),
    ("expiry_warning", {"params": {"offsets_days": 7}}, "params"),
    ("feedback_request", {"params": {"min_days_between": -1}}, "params"),
    ("feedback_request", {"params": {"min_days_between": None}}, "params"),
    ("feedback_request", {"params": "30"}, "params"),
])
def test_invalid_changes_are_422_and_change_nothing(api, key, body, field):
    before = api.get(f"/flows/{key}", role="marketer").get_json()
    response = patch(api, key, {"enabled": False, **body})
    assert response.status_code == 422, response.get_json()
    payload = response.get_json()
    assert field in payload["errors"] and payload["message"]
    assert api.get(f"/flows/{key}", role="marketer").get_json() == before


def test_unknown_param_names_the_parameter(api):
    response = patch(api, "feedback_request", {"params": {"min_days_betwen": 5}})
    assert response.status_code == 422
    assert "min_days_betwen" in response.get_json()["errors"]["params"]


# Previews ----------------------------------------------------------------------------------------

def test_preview_renders_the_live_sms_for_a_real_member(api):
    member = api.enrol("pv-1", first_name="Maria")
    response = preview(api, "welcome", member_id=member["id"], channel="sms")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["body"].startswith("Welcome to Engage Rewards, Maria! You've got 100 points")
    assert body["encoding"] == "GSM-7" and body["segments"] == 1 and body["locale"] == "en"
    assert "subject" not in body and "html" not in body


def test_preview_in_dutch_for_a_dutch_member_formats_euros(api):
    member = api.enrol("pv-nl", locale="nl")
    assert api.purchase(member["id"], "25.90").status_code == 201
    body = preview(api, "feedback_request", member_id=member["id"], channel="sms").get_json()
    assert body["locale"] == "nl" and body["body"].startswith("Hoi Ana, hoe was je aankoop van € 25,90 op ")
    assert "Afmelden? Stuur STOP" in body["body"] and body["encoding"] == "GSM-7"


def test_preview_in_another_locale_than_the_members(api):
    member = api.enrol("pv-de")
    body = preview(api, "welcome", member_id=member["id"], channel="sms", locale="de").get_json()
    assert body["locale"] == "de" and "Willkommen" in body["body"]


def test_preview_of_an_email_has_subject_html_and_text(api):
    member = api.enrol("pv-mail", first_name="Jo <b>")
    body = preview(api, "welcome", member_id=member["id"], channel="email").get_json()
    assert "Jo <b>" in body["subject"] and "Jo &lt;b&gt;" in body["html"] and "Jo <b>" in body["body"]
    assert "/unsubscribe/" in body["html"]
    assert body["segments"] is None and body["encoding"] is None


def test_preview_uses_each_flows_own_context(api):
    member = api.enrol("pv-ctx")
    api.purchase(member["id"], "600.00")  # 700 points: Silver
    tier = preview(api, "tier_congratulations", member_id=member["id"], channel="sms").get_json()["body"]
    assert "You've reached Silver" in tier and "Free shipping on orders over EUR 50" in tier
    expiry = preview(api, "expiry_warning", member_id=member["id"], channel="sms").get_json()["body"]
    assert "expiring on" in expiry and "2027" in expiry
    reminder = preview(api, "redemption_reminder", member_id=member["id"], channel="sms")
    assert reminder.status_code == 200 and "EUR 10 off" in reminder.get_json()["body"]
    feedback = preview(api, "feedback_request", member_id=member["id"], channel="sms").get_json()["body"]
    assert "purchase of €600.00" in feedback


def test_preview_of_a_draft_counts_segments_and_encoding(api):
    member = api.enrol("pv-ro", locale="ro", first_name="Ioana")
    draft = "Salut {{ member.first_name }}, ai {{ member.points|points }}. Mulțumim că ești cu noi!"
    body = preview(api, "welcome", member_id=member["id"], channel="sms", body=draft).get_json()
    assert body["body"] == "Salut Ioana, ai 100 de puncte. Mulțumim că ești cu noi!"
    assert body["encoding"] == "UCS-2" and body["segments"] == 1 and body["locale"] == "ro"
    long = preview(api, "welcome", member_id=member["id"], channel="sms", body="ș" * 71).get_json()
    assert long["encoding"] == "UCS-2" and long["segments"] == 2
    plain = preview(api, "welcome", member_id=member["id"], channel="sms", body="x" * 161).get_json()
    assert plain["encoding"] == "GSM-7" and plain["segments"] == 2
    assert api.get("/flows/welcome/templates/sms/ro", role="marketer").get_json()["version"] == 0


def test_preview_of_an_email_draft_keeps_the_live_parts_not_given(api):
    member = api.enrol("pv-draft")
    body = preview(api, "welcome", member_id=member["id"], channel="email",
                   subject="Draft for {{ member.first_name }}").get_json()
    assert body["subject"] == "Draft for Ana" and "Welcome" in body["body"]


@pytest.mark.parametrize("draft,line", [
    ({"body": "Hi\n{{ member.first_name }"}, "line 2"),
    ({"body": "Hi {{ member.fist_name }}"}, "fist_name"),
    ({"body": "{{ ''.__class__.__mro__ }}"}, "unsafe"),
    ({"subject": "Hi"}, "subject"),
])
def test_a_broken_draft_is_422_with_the_line(api, draft, line):
    member = api.enrol("pv-bad")
    response = preview(api, "welcome", member_id=member["id"], channel="sms", **draft)
    assert response.status_code == 422, response.get_json()
    assert line in str(response.get_json()["errors"])


def test_preview_input_errors(api):
    member = api.enrol("pv-err")
    missing = preview(api, "welcome", member_id=999999, channel="sms")
    assert missing.status_code == 404 and "999999" in missing.get_json()["message"]
    assert "channel" in preview(api, "welcome", member_id=member["id"], channel="fax").get_json()["errors"]
    assert "channel" in preview(api, "welcome", member_id=member["id"]).get_json()["errors"]
    assert "member_id" in preview(api, "welcome", channel="sms").get_json()["errors"]
    bad_locale = preview(api, "welcome", member_id=member["id"], channel="sms", locale="xx-invalid")
    assert bad_locale.status_code == 422 and "locale" in bad_locale.get_json()["errors"]


# Test sends --------------------------------------------------------------------------------------

def test_test_send_queues_one_real_message(api, app):
    member = api.enrol("ts-1", first_name="Tom")
    response = send_test(api, "welcome", member_id=member["id"])
    assert response.status_code == 201, response.get_json()
    sent = response.get_json()
    assert sent["flow"] == "welcome" and sent["channel"] == "sms" and sent["status"] == "queued"
    assert sent["is_test"] is True and sent["member_id"] == member["id"] and sent["body"].startswith(
        "Welcome to Engage Rewards, Tom!")
    assert sent["segments"] == 1 and sent["encoding"] == "GSM-7"
    assert [m["id"] for m in member_messages(api, member["id"])][0] == sent["id"]
    dispatcher_for(app).run_once()
    assert api.get(f"/messages?member_id={member['id']}&status=sent", role="marketer").get_json()["items"]


def test_test_send_on_a_chosen_channel(api):
    member = api.enrol("ts-mail")
    sent = send_test(api, "expiry_warning", member_id=member["id"], channel="email").get_json()
    assert sent["channel"] == "email" and sent["subject"] and sent["html"] and sent["status"] == "queued"
    assert "channel" in send_test(api, "welcome", member_id=member["id"], channel="fax").get_json()["errors"]


def test_test_send_works_while_the_flow_is_off(api):
    patch(api, "tier_congratulations", {"enabled": False})
    member = api.enrol("ts-off")
    assert send_test(api, "tier_congratulations", member_id=member["id"]).get_json()["status"] == "queued"


def test_test_send_to_an_sms_opted_out_member_is_suppressed(api, db, app):
    member = api.enrol("ts-stop")
    opt_out_of_sms(db, member["id"])
    response = send_test(api, "welcome", member_id=member["id"], channel="sms")
    assert response.status_code == 201
    sent = response.get_json()
    assert sent["status"] == "suppressed" and "opted out" in sent["reason"]
    dispatcher_for(app).run_once()
    messages = {m["id"]: m for m in member_messages(api, member["id"])}
    assert messages[sent["id"]]["status"] == "suppressed"  # a test send keeps the channel asked for
    [welcome] = [m for m in messages.values() if m["id"] != sent["id"]]
    # The welcome queued by SMS before the opt-out is rendered again for email, and sent in the same run.
    assert (welcome["channel"], welcome["status"]) == ("email", "sent")
    fallback = send_test(api, "welcome", member_id=member["id"]).get_json()
    assert fallback["channel"] == "email" and fallback["status"] == "queued"


def test_test_send_to_a_suppressed_address_is_suppressed(api, db, clock):
    member = api.enrol("ts-bounce", phone=None)
    with db.session() as session, transaction(session):
        suppress(session, "email", member["email"], "bounced", clock.current)
    sent = send_test(api, "welcome", member_id=member["id"]).get_json()
    assert sent["status"] == "suppressed" and sent["reason"]


def test_test_send_is_never_held_by_quiet_hours_or_caps(api, app, clock):
    clock.set(datetime(2026, 3, 2, 21, 30, tzinfo=timezone.utc))  # 22:30 in Amsterdam
    member = api.enrol("ts-night", timezone="Europe/Amsterdam")
    [welcome] = member_messages(api, member["id"])
    assert datetime.fromisoformat(welcome["send_after"]) == datetime(2026, 3, 3, 7, 0, tzinfo=timezone.utc)
    sends = [send_test(api, "feedback_request", member_id=member["id"]).get_json() for _ in range(3)]
    assert all(s["status"] == "queued" and s["channel"] == "sms" for s in sends)
    assert all(datetime.fromisoformat(s["send_after"]) == clock.current for s in sends)
    assert dispatcher_for(app).run_once() == 3


def test_test_send_for_an_unknown_member_is_404(api):
    response = send_test(api, "welcome", member_id=424242)
    assert response.status_code == 404 and response.get_json()["message"]


def test_openapi_documents_the_flow_endpoints(api):
    spec = api.client.get("/api/openapi.json").get_json()
    template = spec["paths"]["/api/v1/flows/{key}/templates/{channel}/{locale}"]
    assert template["put"]["summary"].startswith("Validate and save a template")
    assert spec["paths"]["/api/v1/flows/{key}/test"]["post"]["responses"]["201"]
    schemas = spec["components"]["schemas"]
    assert {"Flow", "FlowPatch", "Template", "TemplateParts", "TemplateVersionPage", "PreviewRequest",
            "Preview", "TestSend"} <= set(schemas)


def test_openapi_documents_each_flows_params_with_their_defaults(api):
    spec = api.client.get("/api/openapi.json").get_json()
    params = spec["components"]["schemas"]["FlowPatch"]["properties"]["params"]
    by_flow = {schema["title"]: schema for schema in params["anyOf"]}
    assert list(by_flow) == FLOW_KEYS
    assert by_flow["feedback_request"]["properties"]["min_days_between"] == {
        "type": "integer", "minimum": 0, "maximum": 365, "default": 30,
        "description": "at most one request per member in this many days"}
    assert by_flow["redemption_reminder"]["properties"]["repeat_days"]["default"] == 30
    assert by_flow["expiry_warning"]["properties"]["offsets_days"]["default"] == [30, 7]
    assert by_flow["welcome"]["properties"] == {} and by_flow["welcome"]["additionalProperties"] is False
