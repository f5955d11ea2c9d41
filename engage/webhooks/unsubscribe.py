"""The email unsubscribe link: one click (RFC 8058 POST from the mailbox) or a visit."""

from __future__ import annotations

from flask import Blueprint, render_template_string

from engage import state
from engage.services import delivery

blp = Blueprint("unsubscribe", __name__)

PAGE = """<!doctype html><html lang="en"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{{ title }}</title>
<body style="font-family: system-ui, sans-serif; max-width: 32rem; margin: 4rem auto; padding: 0 1rem">
<h1>{{ title }}</h1><p>{{ text }}</p></body></html>"""


@blp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    """Opt the member out of email at once (idempotent)."""
    if not delivery.unsubscribe(state.session(), token, state.now()):
        return render_template_string(PAGE, title="Link not recognised",
                                      text="This unsubscribe link is not valid."), 404
    return render_template_string(PAGE, title="You are unsubscribed",
                                  text="You will get no more emails from us. SMS preferences are unchanged.")
