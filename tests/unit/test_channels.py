"""Channels without a network: console, build_channels and error classification."""

from __future__ import annotations

import http.client
import io
import socket
import threading
import urllib.error
from types import SimpleNamespace

import pytest
import requests
from python_http_client.exceptions import HTTPError
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from engage.channels import (
    ConsoleChannel,
    OutboundMessage,
    SendGridEmailChannel,
    TwilioSmsChannel,
    build_channels,
)
from engage.channels.sendgrid_email import build_mail, classify_sendgrid_error, classify_urllib_failure
from engage.channels.twilio_sms import classify_requests_failure, classify_twilio_error

EMAIL = OutboundMessage(5, "email", "ana@example.com", "Body text", subject="Hello")
SID = "AC" + "0" * 32


def _config(**settings: object) -> SimpleNamespace:
    names = ["twilio_account_sid", "twilio_auth_token", "twilio_from_number",
             "twilio_messaging_service_sid", "twilio_api_base_url", "sendgrid_api_key",
             "sendgrid_from_email", "sendgrid_api_host"]
    return SimpleNamespace(**{**dict.fromkeys(names), "provider_timeout_seconds": 3.0, **settings})


def test_console_prints_a_readable_block_and_records():
    stream = io.StringIO()
    channel = ConsoleChannel("email", stream=stream)
    result = channel.send(EMAIL)
    assert (result.ok, result.provider_id) == (True, "console-5")
    assert channel.sent == [EMAIL]
    text = stream.getvalue()
    for part in ("email", "To: ana@example.com", "Subject: Hello", "Body text"):
        assert part in text


def test_console_defaults_to_stdout(capsys):
    ConsoleChannel("sms").send(OutboundMessage(1, "sms", "+15551234567", "Hi"))
    assert "+15551234567" in capsys.readouterr().out


def test_console_appends_safely_from_many_threads():
    channel = ConsoleChannel("sms", stream=io.StringIO())
    messages = [OutboundMessage(i, "sms", "+15551234567", "x") for i in range(200)]
    threads = [threading.Thread(target=channel.send, args=(m,)) for m in messages]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(m.id for m in channel.sent) == list(range(200))


def test_build_channels_without_credentials_uses_console():
    channels = build_channels(_config())
    assert {n: type(c.inner) for n, c in channels.items()} == {"sms": ConsoleChannel,
                                                        "email": ConsoleChannel}
    assert (channels["sms"].name, channels["email"].name) == ("sms", "email")


@pytest.mark.parametrize("sender", [{"twilio_from_number": "+15005550006"},
                                    {"twilio_messaging_service_sid": "MG" + "1" * 32}])
def test_build_channels_uses_twilio_with_a_sender(sender):
    config = _config(twilio_account_sid=SID, twilio_auth_token="t",
                     twilio_api_base_url="http://127.0.0.1:9", **sender)
    sms = build_channels(config)["sms"]
    assert isinstance(sms.inner, TwilioSmsChannel)
    assert sms.client.api.base_url == "http://127.0.0.1:9"
    assert sms.client.http_client.timeout == 3.0
    sms.close()


def test_build_channels_twilio_without_sender_falls_back_to_console():
    channels = build_channels(_config(twilio_account_sid=SID, twilio_auth_token="t"))
    assert isinstance(channels["sms"].inner, ConsoleChannel)


def test_build_channels_sendgrid_needs_key_and_from():
    assert isinstance(build_channels(_config(sendgrid_api_key="k"))["email"].inner, ConsoleChannel)
    email = build_channels(_config(sendgrid_api_key="k", sendgrid_from_email="c@x.example",
                                   sendgrid_api_host="http://127.0.0.1:9"))["email"]
    assert isinstance(email.inner, SendGridEmailChannel)
    assert (email.sg.client.host, email.sg.client.timeout) == ("http://127.0.0.1:9", 3.0)


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [(500, 20500, "transient"), (502, 502, "transient"), (429, 20429, "transient"),
     (400, 30001, "transient"), (400, 63017, "transient"), (400, 21408, "permanent"),
     (400, 21614, "permanent"), (404, 20404, "permanent")],
)
def test_twilio_codes_are_classified(status, code, kind):
    result = classify_twilio_error(TwilioRestException(status, "/uri", "msg", code))
    assert (result.ok, result.error_kind, result.error_code) == (False, kind, str(code))


def test_twilio_service_exception_is_classified_too():
    exc = TwilioServiceException("about:blank", "Opted out", 400, 21610, detail="STOP sent")
    result = classify_twilio_error(exc)
    assert (result.error_kind, result.opted_out, result.error_message) == (
        "permanent", True, "STOP sent")


@pytest.mark.parametrize(("status", "kind"), [(400, "permanent"), (403, "permanent"),
                                              (413, "permanent"), (429, "transient"),
                                              (500, "transient"), (504, "transient")])
def test_sendgrid_statuses_are_classified(status, kind):
    body = b'{"errors": [{"field": "from.email", "message": "bad from"}]}'
    result = classify_sendgrid_error(HTTPError(status, "Reason", body, {}))
    assert (result.error_kind, result.error_code, result.invalid_address) == (
        kind, str(status), False)


def test_sendgrid_non_json_error_body_keeps_reason():
    result = classify_sendgrid_error(HTTPError(502, "Bad Gateway", b"<html>", {}))
    assert (result.error_kind, result.error_message) == ("transient", "Bad Gateway")


def _refused() -> requests.ConnectionError:
    """What requests raises when nothing listens: urllib3's NewConnectionError inside MaxRetryError."""
    refused = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")
    return requests.ConnectionError(MaxRetryError(None, "/Messages.json", refused))


@pytest.mark.parametrize(
    ("exc", "kind", "code"),
    [(_refused(), "transient", "refused"),
     (requests.ConnectTimeout("connect timed out"), "transient", "connect_timeout"),
     (requests.ReadTimeout("read timed out"), "ambiguous", "timeout"),
     (requests.ConnectionError(ProtocolError("Connection aborted.", http.client.RemoteDisconnected("closed"))),
      "ambiguous", "connection"),
     (requests.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError(104, "reset"))),
      "ambiguous", "connection"),
     (requests.exceptions.ChunkedEncodingError("incomplete"), "ambiguous", "unread"),
     (ValueError("Expecting value: line 1 column 1"), "ambiguous", "unread")],
)
def test_twilio_failures_without_an_answer(exc, kind, code):
    result = classify_requests_failure(exc)
    assert (result.ok, result.error_kind, result.error_code) == (False, kind, code)


@pytest.mark.parametrize(
    ("exc", "kind", "code"),
    [(urllib.error.URLError(ConnectionRefusedError(111, "refused")), "transient", "refused"),
     (urllib.error.URLError(socket.gaierror(-2, "Name or service not known")), "transient", "connection"),
     (urllib.error.URLError(socket.timeout("timed out")), "transient", "connection"),  # while connecting
     (TimeoutError("timed out"), "ambiguous", "timeout"),  # waiting for the answer
     (http.client.RemoteDisconnected("closed"), "ambiguous", "connection"),
     (ConnectionResetError(104, "reset"), "ambiguous", "connection"),
     (http.client.IncompleteRead(b"", 10), "ambiguous", "unread")],
)
def test_sendgrid_failures_without_an_answer(exc, kind, code):
    result = classify_urllib_failure(exc)
    assert (result.ok, result.error_kind, result.error_code) == (False, kind, code)
    assert result.ambiguous == (kind == "ambiguous") and result.transient == (kind == "transient")


def test_mail_puts_text_before_html_even_without_unsubscribe():
    mail = build_mail("c@x.example", OutboundMessage(1, "email", "a@x.example", "t",
                                                     subject="s", html="<b>h</b>")).get()
    assert [c["type"] for c in mail["content"]] == ["text/plain", "text/html"]
    assert "headers" not in mail
    assert mail["custom_args"] == {"engage_message_id": "1", "engage_attempt": "1-1"}


def test_twilio_channel_needs_a_sender():
    with pytest.raises(ValueError):
        TwilioSmsChannel(SID, "t")
