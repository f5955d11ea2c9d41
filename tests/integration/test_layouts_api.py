"""The email layout through the API: read, validate and save, versions, restore; and the saved
layout is what the next flow email is put into."""

from __future__ import annotations

import pytest

EN = "/layouts/email/en"
LAYOUT = "<html><body><h1>{{ program.name }}</h1>{{ content }}<a href='{{ unsubscribe_url }}'>x</a></body></html>"


def email_of(api, flow, member):
    response = api.post(f"/flows/{flow}/test", {"member_id": member["id"], "channel": "email"}, role="marketer")
    assert response.status_code == 201, response.get_json()
    return response.get_json()["html"]


def test_unsaved_layout_is_the_shipped_default_as_version_0(api):
    body = api.get(EN, role="marketer").get_json()
    assert body["version"] == 0 and body["channel"] == "email" and body["locale"] == "en"
    assert "{{ content }}" in body["html"] and "Unsubscribe" in body["html"] and body["created_by"] is None
    assert "Afmelden" in api.get("/layouts/email/nl", role="marketer").get_json()["html"]
    assert api.get("/layouts/email/fr", role="marketer").get_json()["html"] == body["html"]  # the fallback's


@pytest.mark.parametrize("path", ["/layouts/sms/en", "/layouts/push/en", "/layouts/email/xx-invalid"])
def test_unknown_channel_or_locale_is_404(api, path):
    requests = (api.get(path, role="marketer"), api.put(path, {"html": "{{ content }}"}, role="marketer"),
                api.get(path + "/versions", role="marketer"), api.post(path + "/versions/0/restore", role="marketer"))
    for response in requests:
        assert response.status_code == 404, response.get_json()
        assert response.get_json()["message"]


def test_a_saved_layout_is_what_the_next_email_goes_into(api):
    member = api.enrol("lay-1", first_name="Jo <b>")
    shipped = email_of(api, "welcome", member)
    assert shipped.startswith("<!DOCTYPE html>") and "Jo &lt;b&gt;" in shipped and "/unsubscribe/" in shipped
    saved = api.put(EN, {"html": LAYOUT}, role="marketer")
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["version"] == 1 and saved.get_json()["created_by"] == "test marketer"
    assert api.get(EN, role="marketer").get_json()["html"] == LAYOUT
    html = email_of(api, "welcome", member)
    assert html.startswith("<html><body><h1>Engage Rewards</h1><p style=") and html.endswith("</a></body></html>")
    assert "Jo &lt;b&gt;" in html and "/unsubscribe/" in html and "<!DOCTYPE" not in html
    dutch = api.enrol("lay-nl", locale="nl", email="lay-nl@example.com", phone="+31612345679")
    assert "Afmelden" in email_of(api, "welcome", dutch)  # the English layout is not the Dutch one


def test_the_preview_shows_the_email_in_its_layout(api):
    member = api.enrol("lay-pv")
    api.put(EN, {"html": LAYOUT}, role="marketer")
    body = api.post("/flows/welcome/preview", {"member_id": member["id"], "channel": "email",
                                               "html": "<p>Draft {{ member.first_name }}</p>"}, role="marketer")
    assert body.status_code == 200, body.get_json()
    assert "<h1>Engage Rewards</h1><p>Draft Ana</p>" in body.get_json()["html"]


@pytest.mark.parametrize(("html", "problem"), [
    ("<html><body>{{ program.name }}</body></html>", "{{ content }}"),
    ("<html>\n{{ content }}\n{{ coupon }}</html>", "line 3: unknown variable 'coupon'"),
    ("<html>\n{{ content }\n</html>", "line 2"),
    ("{{ content }}{{ ''.__class__ }}", "unsafe"),
    ("   ", "must not be empty"),
])
def test_a_bad_layout_is_422_and_nothing_is_saved(api, html, problem):
    response = api.put(EN, {"html": html}, role="marketer")
    assert response.status_code == 422, response.get_json()
    [error] = response.get_json()["errors"]["html"]
    assert problem in error
    assert api.get(EN, role="marketer").get_json()["version"] == 0


@pytest.mark.parametrize(("body", "field"), [({}, "html"), ({"html": "{{ content }}", "text": "x"}, "text"),
                                             ({"html": 5}, "html")])
def test_malformed_layouts_are_422_per_field(api, body, field):
    response = api.put(EN, body, role="marketer")
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]


def test_layout_versions_and_restore(api):
    api.put(EN, {"html": "<div>{{ content }}</div>"}, role="marketer")
    api.put(EN, {"html": LAYOUT}, role="marketer")
    history = api.get(EN + "/versions", role="marketer").get_json()
    assert [v["version"] for v in history["items"]] == [2, 1] and history["next"] is None
    assert history["items"][1]["parts"] == {"html": "<div>{{ content }}</div>"}
    restored = api.post(EN + "/versions/1/restore", role="marketer")
    assert restored.status_code == 201, restored.get_json()
    assert restored.get_json()["version"] == 3 and restored.get_json()["restored_from"] == 1
    assert api.get(EN, role="marketer").get_json()["html"] == "<div>{{ content }}</div>"
    shipped = api.post(EN + "/versions/0/restore", role="marketer").get_json()
    assert shipped["version"] == 4 and shipped["restored_from"] == 0 and "<!DOCTYPE html>" in shipped["html"]
    assert api.post(EN + "/versions/9/restore", role="marketer").status_code == 404
    # The layout's versions are its own: the flows' templates have none.
    assert api.get("/flows/welcome/templates/email/en/versions", role="marketer").get_json()["items"] == []


def test_layouts_need_the_marketer_role(api):
    assert api.get(EN).status_code == 403
    response = api.client.put("/api/v1" + EN, json={"html": LAYOUT}, headers=api.headers("integration"))
    assert response.status_code == 403
    assert api.post(EN + "/versions/0/restore").status_code == 403
    assert api.client.get("/api/v1" + EN).status_code == 401
    assert api.get(EN, role="admin").status_code == 200


def test_openapi_documents_the_layout_endpoints(api):
    document = api.client.get("/api/openapi.json").get_json()
    base = "/api/v1/layouts/{channel}/{locale}"
    documented = {(path, method, code) for path, item in document["paths"].items() if path.startswith(base)
                  for method, operation in item.items() if method != "parameters"
                  for code in operation["responses"]}
    assert {(base, "get", "200"), (base, "put", "200"), (base, "put", "422"), (base + "/versions", "get", "200"),
            (base + "/versions/{version}/restore", "post", "201")} <= documented
    assert document["paths"][base]["put"]["summary"].startswith("Validate and save a layout")
    assert {"Layout", "LayoutParts"} <= set(document["components"]["schemas"])
