"""A tiny helper around the Flask test client for repeated API calls."""

from __future__ import annotations

from flask.testing import FlaskClient

from engage.services import keys


class ApiClient:
    def __init__(self, app, client: FlaskClient):
        self.app, self.client = app, client
        with app.app_context():
            db = app.extensions["engage.db"]
            now = app.extensions["engage.clock"]()
            self.keys = {role: keys.create(db.session(), role, f"test {role}", now) for role in keys.ROLES}

    def headers(self, role: str = "integration", **extra) -> dict:
        headers = {"Authorization": f"Bearer {self.keys[role]}"}
        headers.update({k.replace("_", "-"): v for k, v in extra.items()})
        return headers

    def get(self, path, role="integration", **kwargs):
        return self.client.get("/api/v1" + path, headers=self.headers(role), **kwargs)

    def post(self, path, json=None, role="integration", headers=None, **kwargs):
        return self.client.post("/api/v1" + path, json=json, headers={**self.headers(role), **(headers or {})},
                                **kwargs)

    def patch(self, path, json=None, role="integration", **kwargs):
        return self.client.patch("/api/v1" + path, json=json, headers=self.headers(role), **kwargs)

    def put(self, path, json=None, role="integration"):
        return self.client.put("/api/v1" + path, json=json, headers=self.headers(role))

    def delete(self, path, role="integration"):
        return self.client.delete("/api/v1" + path, headers=self.headers(role))

    def enrol(self, external_id="m-1", **fields) -> dict:
        body = {"external_id": external_id, "first_name": "Ana", "email": f"{external_id}@example.com",
                "phone": "+31612345678", "consent": {"sms": True, "email": True}, **fields}
        response = self.post("/members", body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def purchase(self, member_id, amount, key=None, **fields):
        headers = {"Idempotency-Key": key} if key else None
        return self.post(f"/members/{member_id}/events", {"type": "purchase", "amount": amount, **fields},
                         headers=headers)
