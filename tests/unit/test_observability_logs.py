"""Log lines: masked personal data, one line for an outage, request and message ids, JSON."""

from __future__ import annotations

import logging

import psycopg
import pytest

from engage.observability import logs
from tests.support.logs import captured_logs


@pytest.mark.parametrize(("text", "masked"), [
    ("to +31612345678 now", "to +3161234**** now"),
    ("{'To': '+15005550006'}", "{'To': '+1500555****'}"),
    ("To=%2B31612345678&Body=hi", "To=%2B3161234****&Body=hi"),
    ("from d.bakker@example.com,", "from d***@example.com,"),
    ("email=ana%40shop.example", "email=a***%40shop.example"),
    ("2026-12-06T02:51:42+00:00 message 12 SM0123456789abcdef", "2026-12-06T02:51:42+00:00 message 12 SM0123456789abcdef"),
])
def test_mask(text, masked):
    assert logs.mask(text) == masked


def test_personal_data_is_masked_in_message_arguments_and_tracebacks():
    log = logging.getLogger("engage.test")
    with captured_logs("text") as captured:
        log.info("texting %s at %s", "+31612345678", "ana@example.com")
        try:
            raise ValueError("bad number +31612345678")
        except ValueError:
            log.exception("send to %(to)s failed", {"to": "ana@example.com"})
    assert "+31612345678" not in captured.text and "ana@example.com" not in captured.text
    assert "texting +3161234**** at a***@example.com" in captured.text
    assert "ValueError: bad number +3161234****" in captured.text
    assert "send to a***@example.com failed" in captured.text


def test_an_outage_logged_with_a_traceback_becomes_one_warning_line():
    log = logging.getLogger("engage.test")
    with captured_logs() as captured:
        try:
            try:
                raise psycopg.OperationalError("connection failed: Connection refused")
            except psycopg.OperationalError as error:
                raise RuntimeError("batch failed") from error
        except RuntimeError:
            log.exception("dispatcher batch failed")
    [line] = captured.lines()
    assert line["level"] == "WARNING" and "exc_info" not in line
    assert line["message"] == "dispatcher batch failed: database unavailable: connection failed: Connection refused"


def test_other_errors_keep_their_traceback():
    with captured_logs() as captured:
        try:
            raise KeyError("x")
        except KeyError:
            logging.getLogger("engage.test").exception("bug")
    [line] = captured.lines()
    assert line["level"] == "ERROR" and "KeyError" in line["exc_info"]


def test_json_lines_carry_the_request_and_message_ids():
    with captured_logs() as captured:
        request_token, message_token = logs.request_id.set("req-1"), logs.message_id.set(42)
        try:
            logging.getLogger("engage.test").info("sending")
        finally:
            logs.message_id.reset(message_token)
            logs.request_id.reset(request_token)
        logging.getLogger("engage.test").info("idle")
    sending, idle = captured.lines()
    assert (sending["request_id"], sending["message_id"], sending["logger"]) == ("req-1", 42, "engage.test")
    assert sending["time"].endswith("+00:00") and "request_id" not in idle


def test_third_party_loggers_stay_at_warning():
    with captured_logs(level="DEBUG") as captured:
        for name in ("twilio.http_client", "urllib3.connectionpool", "sendgrid", "python_http_client",
                     "apscheduler.scheduler"):
            logging.getLogger(name).info("-- BEGIN Twilio API Request -- To=+31612345678")
        logging.getLogger("engage.test").debug("ours")
    assert [line["logger"] for line in captured.lines()] == ["engage.test"]


def test_a_bad_format_is_refused():
    with pytest.raises(ValueError, match="json, text"):
        logs.configure_logging("INFO", "xml")
