"""Flow templates through the API: read, validate and save, version history, restore; and the
saved version is what the next flow message uses."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest


WELCOME_SMS = "/flows/welcome/templates/sms/en"
WELCOME_EMAIL = "/flows/welcome/templates/email/en"


def put(api, path, body):
    return api.client.put("/api/v1" + path, json=body, headers=api.headers("marketer"))


def get(api, path):
    return api.get(path, role="marketer")


def test_unsaved_template_is_the_shipped_default_as_version_0(api):
    sms = get(api, WELCOME_SMS)
    assert sms.status_code == 200
    body = sms.get_json()
    assert body["version"] == 0 and body["flow"] == "welcome" and body["channel"] == "sms"
    assert body["locale"] == "en" and "{{ member.first_name }}" in body["body"]
    assert body["created_by"] is None and "subject" not in body
    email = get(api, WELCOME_EMAIL).get_json()
    assert set(email) >= {"subject", "html", "text"} and "body" not in email
    assert "Welkom" in get(api, "/flows/welcome/templates/sms/nl").get_json()["body"]


def test_a_locale_without_defaults_starts_from_the_fallback(api):
    body = get(api, "/flows/expiry_warning/templates/sms/fr").get_json()
    assert body["version"] == 0 and body["locale"] == "fr"
    assert body["body"] == get(api, "/flows/expiry_warning/templates/sms/en").get_json()["body"]


@pytest.mark.parametrize("path", [
    "/flows/nope/templates/sms/en", "/flows/welcome/templates/push/en",
    "/flows/welcome/templates/sms/xx-invalid", "/flows/welcome/templates/sms/zz",
    "/flows/welcome/templates/sms/ca_ES_VALENCIA",
])
def test_unknown_flow_channel_or_locale_is_404(api, path):
    for response in (get(api, path), put(api, path, {"body": "Hi"}), get(api, path + "/versions"),
                     api.post(path + "/versions/0/restore", role="marketer")):
        assert response.status_code == 404, response.get_json()
        assert response.get_json()["message"]


def test_save_creates_a_new_live_version_each_time(api):
    first = put(api, WELCOME_SMS, {"body": "Hi {{ member.first_name }}, welcome to {{ program.name }}! STOP"})
    assert first.status_code == 200, first.get_json()
    saved = first.get_json()
    assert saved["version"] == 1 and saved["created_by"] == "test marketer" and saved["restored_from"] is None
    assert saved["body"].startswith("Hi {{ member.first_name }}") and saved["created_at"]
    assert get(api, WELCOME_SMS).get_json() == saved
    second = put(api, WELCOME_SMS, {"body": "Hello {{ member.first_name }}! STOP"}).get_json()
    assert second["version"] == 2
    assert get(api, WELCOME_SMS).get_json()["body"] == "Hello {{ member.first_name }}! STOP"
    assert get(api, "/flows/welcome/templates/sms/nl").get_json()["version"] == 0


def test_email_template_saves_all_three_parts(api):
    parts = {"subject": "Welcome, {{ member.first_name }}", "text": "You have {{ member.points|points }}.",
             "html": "<p>You have {{ member.points|points }}.</p><a href='{{ unsubscribe_url }}'>Stop</a>"}
    response = put(api, WELCOME_EMAIL, parts)
    assert response.status_code == 200, response.get_json()
    assert {k: response.get_json()[k] for k in parts} == parts


def test_unknown_attribute_is_422_naming_it_with_its_line_and_nothing_is_saved(api):
    response = put(api, WELCOME_SMS, {"body": "Hi {{ member.fist_name }}!"})
    assert response.status_code == 422
    payload = response.get_json()
    [problem] = payload["errors"]["body"]
    assert "fist_name" in problem and "line 1" in problem and "fist_name" in payload["message"]
    assert get(api, WELCOME_SMS).get_json()["version"] == 0
    assert get(api, WELCOME_SMS + "/versions").get_json() == {"items": [], "next": None}


def test_unknown_variable_in_an_email_part_names_the_part(api):
    response = put(api, WELCOME_EMAIL, {"subject": "Hi", "text": "Hello", "html": "<p>\n{{ coupon }}</p>"})
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert list(errors) == ["html"] and "coupon" in errors["html"][0] and "line 2" in errors["html"][0]


def test_syntax_error_is_422_with_the_line_number(api):
    source = "Hi {{ member.first_name }},\nyour points:\n{% if member.points %} {{ member.points }}"
    response = put(api, WELCOME_SMS, {"body": source})
    assert response.status_code == 422
    [problem] = response.get_json()["errors"]["body"]
    assert "line 3" in problem and "syntax error" in problem


def test_sms_over_the_segment_limit_is_422(api):
    five_segments = "Hi {{ member.first_name }}! STOP " + "x" * 680
    response = put(api, WELCOME_SMS, {"body": five_segments})
    assert response.status_code == 422
    assert "5 segments" in response.get_json()["errors"]["body"][0]
    raised = api.patch("/program", {"max_sms_segments": 5}, role="admin")
    assert raised.status_code == 200, raised.get_json()
    assert put(api, WELCOME_SMS, {"body": five_segments}).status_code == 200
    put(api, WELCOME_SMS, {"body": "Short, {{ member.first_name }}. STOP"})
    api.patch("/program", {"max_sms_segments": 4}, role="admin")
    restore = api.post(WELCOME_SMS + "/versions/1/restore", role="marketer")
    assert restore.status_code == 422 and "5 segments" in restore.get_json()["errors"]["body"][0]
    assert get(api, WELCOME_SMS).get_json()["version"] == 2


@pytest.mark.parametrize("source", [
    "{{ ''.__class__.__mro__ }}",
    "{{ member.__class__.__mro__[1].__subclasses__() }}",
    "{{ program.name.format.__globals__ }}",
    "{% for c in ().__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{{ cycler.__init__.__globals__.os }}",
    "{{ range(10**9)|list }}",
])
def test_sandbox_escapes_are_refused(api, source):
    response = put(api, WELCOME_SMS, {"body": source})
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["errors"]["body"]
    assert get(api, WELCOME_SMS).get_json()["version"] == 0


@pytest.mark.parametrize("channel,body,field", [
    ("sms", {}, "body"),
    ("sms", {"body": "   "}, "body"),
    ("sms", {"body": "Hi", "subject": "Hello"}, "subject"),
    ("email", {"subject": "Hi", "text": "Hello"}, "html"),
    ("email", {"subject": "Hi", "text": "Hello", "html": "<p>Hi</p>", "body": "x"}, "body"),
    ("sms", {"body": 5}, "body"),
    ("sms", {"body": "Hi", "colour": "red"}, "colour"),
])
def test_malformed_templates_are_422_per_field(api, channel, body, field):
    response = put(api, f"/flows/welcome/templates/{channel}/en", body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]


def test_any_babel_locale_can_be_saved_and_its_tag_is_canonical(api):
    french = put(api, "/flows/welcome/templates/sms/fr", {"body": "Bienvenue {{ member.first_name }} ! STOP"})
    assert french.status_code == 200 and french.get_json()["locale"] == "fr"
    belgian = put(api, "/flows/welcome/templates/sms/nl-be", {"body": "Welkom {{ member.first_name }}! STOP"})
    assert belgian.status_code == 200 and belgian.get_json()["locale"] == "nl_BE"
    assert get(api, "/flows/welcome/templates/sms/nl_BE").get_json()["version"] == 1


def test_version_history_and_restore(api):
    put(api, WELCOME_SMS, {"body": "One {{ member.first_name }} STOP"})
    put(api, WELCOME_SMS, {"body": "Two {{ member.first_name }} STOP"})
    history = get(api, WELCOME_SMS + "/versions").get_json()
    assert [v["version"] for v in history["items"]] == [2, 1] and history["next"] is None
    assert history["items"][1]["parts"] == {"body": "One {{ member.first_name }} STOP"}
    newest = history["items"][0]
    assert newest["created_by"] == "test marketer" and newest["restored_from"] is None

    restored = api.post(WELCOME_SMS + "/versions/1/restore", role="marketer")
    assert restored.status_code == 201, restored.get_json()
    assert restored.get_json()["version"] == 3 and restored.get_json()["restored_from"] == 1
    assert get(api, WELCOME_SMS).get_json()["body"] == "One {{ member.first_name }} STOP"

    shipped = api.post(WELCOME_SMS + "/versions/0/restore", role="marketer").get_json()
    assert shipped["version"] == 4 and shipped["restored_from"] == 0
    assert shipped["body"] == get(api, "/flows/welcome/templates/sms/en").get_json()["body"]
    assert "REDEEM" in shipped["body"]
    assert api.post(WELCOME_SMS + "/versions/9/restore", role="marketer").status_code == 404
    page = get(api, WELCOME_SMS + "/versions?limit=3").get_json()
    assert [v["version"] for v in page["items"]] == [4, 3, 2] and page["next"]
    rest = get(api, WELCOME_SMS + f"/versions?limit=3&cursor={page['next']}").get_json()
    assert [v["version"] for v in rest["items"]] == [1] and rest["next"] is None


def test_a_saved_template_is_what_the_next_welcome_uses(api):
    put(api, WELCOME_SMS, {"body": "Hey {{ member.first_name }}, welcome aboard {{ program.name }}! STOP"})
    put(api, "/flows/welcome/templates/sms/nl", {"body": "Hallo {{ member.first_name }}! STOP"})
    member = api.enrol("tpl-1")
    [message] = api.get(f"/members/{member['id']}/messages").get_json()["items"]
    assert message["flow"] == "welcome" and message["channel"] == "sms"
    assert message["body"] == "Hey Ana, welcome aboard Engage Rewards! STOP"
    dutch = api.enrol("tpl-2", locale="nl", phone="+31612345679")
    assert api.get(f"/members/{dutch['id']}/messages").get_json()["items"][0]["body"] == "Hallo Ana! STOP"


def test_a_french_member_gets_the_french_version_once_saved(api):
    put(api, "/flows/welcome/templates/sms/fr", {"body": "Bienvenue {{ member.first_name }} ! STOP"})
    member = api.enrol("tpl-fr", locale="fr")
    [message] = api.get(f"/members/{member['id']}/messages").get_json()["items"]
    assert message["body"] == "Bienvenue Ana ! STOP"


def test_templates_need_the_marketer_role(api):
    assert api.get(WELCOME_SMS).status_code == 403
    response = api.client.put("/api/v1" + WELCOME_SMS, json={"body": "x"}, headers=api.headers("integration"))
    assert response.status_code == 403
    assert api.post(WELCOME_SMS + "/versions/0/restore").status_code == 403
    assert api.client.get("/api/v1" + WELCOME_SMS).status_code == 401
    assert get(api, WELCOME_SMS).status_code == 200
    assert api.get(WELCOME_SMS, role="admin").status_code == 200


@pytest.mark.parametrize(("path", "part", "variable"), [(WELCOME_SMS, "body", "member.first_name"),
                                                     ("/layouts/email/en", "html", "content")])
def test_racing_saves_each_get_their_own_version(pg_api, path, part, variable):
    def save(n):
        body = {part: f"Hi {n} {{{{ {variable} }}}} STOP"}
        return pg_api.app.test_client().put("/api/v1" + path, json=body, headers=pg_api.headers("marketer"))

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(save, range(8)))
    assert {r.status_code for r in responses} == {200}
    assert sorted(r.get_json()["version"] for r in responses) == list(range(1, 9))


def test_edited_english_template_does_not_replace_shipped_dutch(api):
    body = {"body": "EDITED {{ member.first_name }}. Reply STOP to opt out"}
    assert api.client.put("/api/v1/flows/welcome/templates/sms/en", json=body,
                          headers=api.headers("marketer")).status_code == 200
    dutch = api.enrol("nl-after-edit", locale="nl")
    english = api.enrol("en-after-edit", locale="en", phone="+31612345679")
    nl_body = api.get(f"/members/{dutch['id']}/messages").get_json()["items"][0]["body"]
    en_body = api.get(f"/members/{english['id']}/messages").get_json()["items"][0]["body"]
    assert "EDITED" not in nl_body and "Welkom" in nl_body
    assert en_body.startswith("EDITED")


# Opt-out wording -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("locale", "wording"), [("en", "Reply STOP to opt out"), ("nl", "Stuur STOP"),
                                                 ("de", "Antworte STOP"), ("ro", "trimite STOP")])
def test_the_welcome_sms_cannot_be_saved_without_opt_out_wording(api, locale, wording):
    path = f"/flows/welcome/templates/sms/{locale}"
    response = put(api, path, {"body": "Welkom {{ member.first_name }}! stop"})
    assert response.status_code == 422, response.get_json()
    [problem] = response.get_json()["errors"]["body"]
    assert "opt-out" in problem and wording in problem
    assert get(api, path).get_json()["version"] == 0
    fixed = put(api, path, {"body": "Welkom {{ member.first_name }}! Stuur STOP"})
    assert fixed.status_code == 200 and fixed.get_json()["warnings"] == []


def test_other_sms_templates_without_it_save_with_a_warning(api):
    path = "/flows/feedback_request/templates/sms/nl"
    assert get(api, path).get_json()["warnings"] == []  # the shipped default has it
    response = put(api, path, {"body": "Hoi {{ member.first_name }}, hoe was het?"})
    assert response.status_code == 200, response.get_json()
    [warning] = response.get_json()["warnings"]
    assert warning["code"] == "no_opt_out" and "Stuur STOP" in warning["message"]
    assert get(api, path).get_json()["warnings"] == [warning]
    email = get(api, "/flows/feedback_request/templates/email/nl").get_json()
    assert email["warnings"] == []


def test_every_shipped_default_sms_saves_and_has_no_warning(api):
    for flow in ("welcome", "redemption_reminder", "expiry_warning", "tier_congratulations", "feedback_request"):
        for locale in ("en", "nl", "de", "ro"):
            path = f"/flows/{flow}/templates/sms/{locale}"
            assert get(api, path).get_json()["warnings"] == [], path
            restored = api.post(path + "/versions/0/restore", role="marketer")
            assert restored.status_code == 201 and restored.get_json()["warnings"] == [], path


def test_the_preview_warns_of_a_draft_without_opt_out_wording(api):
    member = api.enrol("tpl-warn", locale="de")
    url = "/flows/welcome/preview"
    live = api.post(url, {"member_id": member["id"], "channel": "sms"}, role="marketer").get_json()
    assert live["warnings"] == []
    draft = api.post(url, {"member_id": member["id"], "channel": "sms", "body": "Hallo {{ member.first_name }}"},
                     role="marketer")
    assert draft.status_code == 200, draft.get_json()
    [warning] = draft.get_json()["warnings"]
    assert warning["code"] == "no_opt_out" and "Antworte STOP" in warning["message"]
