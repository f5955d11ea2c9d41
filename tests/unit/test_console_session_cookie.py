"""The console's session cookies: one serializer per signing key, and a changed key still counts."""

from flask import Flask, session

from engage.console.session_cookie import SessionCookies


def _app(key: str) -> Flask:
    app = Flask(__name__)
    app.secret_key = key
    app.session_interface = SessionCookies()

    @app.post("/set")
    def set_value():
        session["who"] = "marketer"
        return "ok"

    @app.get("/get")
    def get_value():
        return session.get("who", "nobody")

    return app


def test_a_cookie_signed_by_the_app_is_read_back_on_later_requests():
    client = _app("first key").test_client()
    client.post("/set")
    assert client.get("/get").get_data(as_text=True) == "marketer"
    assert client.get("/get").get_data(as_text=True) == "marketer"


def test_the_serializer_is_made_once_while_the_keys_stay():
    app = _app("first key")
    cookies = app.session_interface
    assert cookies.get_signing_serializer(app) is cookies.get_signing_serializer(app)


def test_a_new_key_refuses_cookies_of_the_old_one_unless_it_is_a_fallback():
    app = _app("first key")
    client = app.test_client()
    client.post("/set")
    assert client.get("/get").get_data(as_text=True) == "marketer"
    app.secret_key = "second key"
    assert client.get("/get").get_data(as_text=True) == "nobody"
    app.config["SECRET_KEY_FALLBACKS"] = ["first key"]
    assert client.get("/get").get_data(as_text=True) == "marketer"
