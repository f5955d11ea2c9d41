"""Experiments in the console, on SQLite and PostgreSQL: start one from the template editor's link
(B begins as the live template), the refusal of a B welcome SMS without STOP, the results page
with its sentence, stop and promote with CSRF, every change in the audit log, and viewers who may
only look."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engage.models import AuditEntry
from tests.support.console import signed_in

NEW = "/console/experiments/new?flow=welcome&channel=sms&locale=en"
FORM = {"flow": "welcome", "channel": "sms", "locale": "en", "name": "Shorter welcome", "split_percent": "30",
        "outcome": "reply", "window_days": "5", "body": "Hi {{ member.first_name }}! Reply STOP to opt out"}


@pytest.fixture
def marketer(app, people):
    return signed_in(app, people["marketer"])


def audit_actions(db) -> list[str]:
    with db.session() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_the_editor_links_to_a_form_that_begins_b_as_the_live_template(marketer):
    editor = marketer.get("/console/flows/welcome/templates/sms/en").get_data(as_text=True)
    assert 'href="/console/experiments/new?flow=welcome&amp;channel=sms&amp;locale=en"' in editor
    form = marketer.get(NEW).get_data(as_text=True)
    assert "Welcome, SMS in en" in form
    assert "Reply STOP to opt out</textarea>" in form  # the shipped default, to edit into B


def test_start_then_stop_with_audit(marketer, db):
    started = marketer.post("/console/experiments/new", FORM, page=NEW)
    assert started.status_code == 302
    page_url = started.headers["Location"]
    page = marketer.get(page_url).get_data(as_text=True)
    assert "Experiment 1 started: 30% of members get B." in page
    assert "Results: replies within 5 days" in page and "No sends yet." in page
    assert "Hi {{ member.first_name }}! Reply STOP to opt out</pre>" in page
    again = marketer.post("/console/experiments/new", FORM, page=NEW)
    assert again.status_code == 422 and "already running" in again.get_data(as_text=True)
    stopped = marketer.post(page_url + "/stop", {}, page=page_url, follow_redirects=True)
    text = stopped.get_data(as_text=True)
    assert "Stopped: new messages get the live template (A)." in text
    assert '<span id="experiment-state">Stopped</span>' in text
    assert audit_actions(db) == ["experiment.start", "experiment.stop"]
    listed = marketer.get("/console/experiments").get_data(as_text=True)
    assert "Shorter welcome" in listed and "replies within 5 days" in listed


def test_a_b_welcome_sms_without_stop_is_refused_like_a(marketer, db):
    refused = marketer.post("/console/experiments/new", {**FORM, "body": "Hi {{ member.first_name }}!"}, page=NEW)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "No opt-out wording" in text and 'aria-invalid="true"' in text
    assert "Hi {{ member.first_name }}!</textarea>" in text  # what was typed is kept
    bad = marketer.post("/console/experiments/new", {**FORM, "split_percent": "100"}, page=NEW)
    assert bad.status_code == 422
    assert audit_actions(db) == []


def test_promote_makes_b_the_live_template(marketer, api, db):
    started = marketer.post("/console/experiments/new", FORM, page=NEW)
    page_url = started.headers["Location"]
    promoted = marketer.post(page_url + "/promote", {}, page=page_url, follow_redirects=True)
    text = promoted.get_data(as_text=True)
    assert "Variant B is now the live template (version 1)." in text
    assert "B became version 1" in text and "Promote B" not in text
    template = api.get("/flows/welcome/templates/sms/en", role="marketer").get_json()
    assert template["body"] == FORM["body"] and template["created_by"] == "marketer@example.com"
    assert audit_actions(db) == ["experiment.start", "experiment.promote", "template.promote"]


def test_a_post_without_the_csrf_token_changes_nothing(marketer, db):
    marketer.post("/console/experiments/new", FORM, page=NEW)
    refused = marketer.client.post("/console/experiments/1/stop", data={})
    assert refused.status_code == 400
    assert audit_actions(db) == ["experiment.start"]


def test_viewers_see_but_cannot_start_stop_or_promote(app, people, marketer):
    marketer.post("/console/experiments/new", FORM, page=NEW)
    viewer = signed_in(app, people["viewer"])
    page = viewer.get("/console/experiments/1").get_data(as_text=True)
    assert "No sends yet." in page and "Promote B" not in page
    assert "Start the experiment" not in viewer.get(NEW).get_data(as_text=True)
    assert viewer.post("/console/experiments/1/stop", {}, page="/console/experiments/1").status_code == 403
    assert viewer.post("/console/experiments/new", FORM, page=NEW).status_code == 403
    assert viewer.get("/console/experiments/99").status_code == 404
