"""API keys: 401 without or with a wrong key, 403 for too small a role."""

from __future__ import annotations


def test_missing_and_invalid_keys_are_401(app, api):
    client = app.test_client()
    assert client.get("/api/v1/rewards").status_code == 401
    response = client.get("/api/v1/rewards", headers={"Authorization": "Bearer egk_wrong"})
    assert response.status_code == 401 and response.get_json()["message"]
    assert client.get("/api/v1/rewards", headers={"Authorization": "Basic abc"}).status_code == 401


def test_roles_nest(api):
    assert api.get("/program", role="integration").status_code == 403
    assert api.get("/program", role="marketer").status_code == 403
    assert api.get("/program", role="admin").status_code == 200
    assert api.get("/rewards", role="admin").status_code == 200


def test_only_hash_is_stored(api, db):
    from sqlalchemy import select

    from engage.loyalty.codes import key_hash
    from engage.models import ApiKey

    with db.session() as session:
        stored = session.scalars(select(ApiKey.key_hash)).all()
    assert sorted(stored) == sorted(key_hash(key) for key in api.keys.values())
    assert all(key not in stored for key in api.keys.values())


def test_openapi_document_lists_the_api(app):
    document = app.test_client().get("/api/openapi.json").get_json()
    paths = document["paths"]
    for path in ("/api/v1/members", "/api/v1/members/{member_id}", "/api/v1/members/{member_id}/events",
                 "/api/v1/members/{member_id}/redemptions", "/api/v1/rewards", "/api/v1/tiers",
                 "/api/v1/program", "/api/v1/members/{member_id}/ledger"):
        assert path in paths, path
    assert "bearerAuth" in document["components"]["securitySchemes"]
    assert app.test_client().get("/api/docs").status_code == 200
    for path in ("/api/v1/members/{member_id}/events", "/api/v1/members/{member_id}/redemptions"):
        assert {"201", "404", "409", "422"} <= set(paths[path]["post"]["responses"]), path


def test_unknown_route_is_json_404(app):
    response = app.test_client().get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.get_json()["message"]
