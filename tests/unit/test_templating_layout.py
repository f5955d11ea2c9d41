"""Flow emails in the shipped defaults: the HTML every member receives.

data/shipped_emails.json is the HTML of every flow × locale email as the code at 0d6acd5
rendered it from the shipped defaults (each flow's email.html then held the whole document), for
the sample context with and without the optional variables. Changing how the emails are put
together must not change what members receive.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from engage.templating import (
    FLOW_KEYS,
    SUPPORTED_LOCALES,
    default_template,
    render_message,
    sample_context,
)

TODAY = date(2025, 7, 10)
OPTIONAL = ("next_tier", "expiring", "reward", "purchase")
SHIPPED = json.loads((Path(__file__).parent / "data" / "shipped_emails.json").read_text("utf-8"))


def context(flow: str, locale: str, shape: str) -> dict:
    full = sample_context(locale, flow, today=TODAY)
    return full if shape == "full" else {**full, **dict.fromkeys(OPTIONAL), "shortfall": None}


@pytest.mark.parametrize("flow", FLOW_KEYS)
@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
@pytest.mark.parametrize("shape", ["full", "bare"])
def test_shipped_emails_render_as_before(flow: str, locale: str, shape: str) -> None:
    parts = default_template(flow, "email", locale)
    email = render_message("email", parts, context(flow, locale, shape), locale)
    assert email.html == SHIPPED[f"{flow}/{locale}/{shape}"]
