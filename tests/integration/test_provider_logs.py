"""What a dispatch logs through the real SDKs: no request dump from twilio, no phone number or
email address, and the message id on the line about the message."""

from __future__ import annotations

import pytest

from engage import jobs
from tests.support.logs import captured_logs
from tests.support.messaging import message, queue


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_sending_logs_one_masked_line_per_message(papp, papi, pdb, clock, fake_provider, fmt):
    member = papi.enrol("m-1", phone="+31612345678", email="ana@example.com")
    sms = queue(pdb, member["id"], clock(), channels=("sms",))
    email = queue(pdb, member["id"], clock(), channels=("email",), flow="expiry_warning")
    with captured_logs(fmt) as logs:
        jobs.deliver(papp, clock())
    assert message(pdb, sms).status == message(pdb, email).status == "sent"
    assert fake_provider.request_count("sms") == 1  # it did go out, through the SDK
    assert "+31612345678" not in logs.text and "%2B31612345678" not in logs.text
    assert "ana@example.com" not in logs.text
    if fmt == "json":
        lines = logs.lines()
        assert not [line for line in lines if line["logger"].startswith(("twilio", "urllib3", "sendgrid",
                                                                           "python_http_client"))]
        sent = {line["message_id"]: line["message"] for line in lines if "message_id" in line}
        assert sent == {sms: f"sms message {sms} sent in " + sent[sms].rsplit(" ", 1)[1],
                        email: f"email message {email} sent in " + sent[email].rsplit(" ", 1)[1]}
    else:
        assert "BEGIN Twilio API Request" not in logs.text and " twilio" not in logs.text
        assert f"[message_id={sms}]: sms message {sms} sent in" in logs.text


def test_a_provider_error_is_one_warning_with_the_message_id(papp, papi, pdb, clock, fake_provider):
    member = papi.enrol("m-1", phone="+31612345678")
    failing = queue(pdb, member["id"], clock(), channels=("sms",))
    fake_provider.fail_next("sms", "21211")
    with captured_logs() as logs:
        jobs.deliver(papp, clock())
    [line] = [line for line in logs.lines() if line["logger"] == "engage.channels.instrumented"]
    assert (line["level"], line["message_id"]) == ("WARNING", failing)
    assert line["message"] == f"sms message {failing} not sent: permanent 21211"
