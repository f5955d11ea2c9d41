"""The email unsubscribe link (List-Unsubscribe and the footer link).

`GET /unsubscribe/<token>` only shows a page with a button: mail scanners and link previews fetch
every link in an email, and a GET that opted out would unsubscribe members who never clicked.
`POST /unsubscribe/<token>` opts out: the mailbox's RFC 8058 one-click POST (body
`List-Unsubscribe=One-Click`) or the page's button. The token is the only secret, so the POST
needs no more than it.
"""

from __future__ import annotations

from flask import Blueprint, render_template_string

from engage import state
from engage.services import delivery

blp = Blueprint("unsubscribe", __name__)

PAGE = """<!doctype html><html lang="en"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{{ title }}</title>
<body style="font-family: system-ui, sans-serif; max-width: 32rem; margin: 4rem auto; padding: 0 1rem">
<main><h1>{{ title }}</h1><p>{{ text }}</p>
{% if confirm %}<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit" style="font-size: 1rem; padding: .5rem 1rem">Unsubscribe</button></form>{% endif %}
</main></body></html>"""

# The token in the URL is a secret: keep the page out of caches, search engines and Referer headers.
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex",
           "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"}


def _page(status: int, title: str, text: str, confirm: bool = False):
    return render_template_string(PAGE, title=title, text=text, confirm=confirm), status, HEADERS


def _unknown():
    return _page(404, "Link not recognised", "This unsubscribe link is not valid.")


def _done():
    return _page(200, "You are unsubscribed",
                 "You will get no more emails from us. SMS preferences are unchanged.")


@blp.get("/unsubscribe/<token>")
def confirm(token: str):
    """A page with an Unsubscribe button; changes nothing."""
    opted_out = delivery.unsubscribed(state.session(), token)
    if opted_out is None:
        return _unknown()
    if opted_out:
        return _done()
    return _page(200, "Unsubscribe from our emails?",
                 "Press the button to get no more emails from us. SMS preferences are unchanged.",
                 confirm=True)


@blp.post("/unsubscribe/<token>")
def unsubscribe(token: str):
    """Opt the member out of email at once (RFC 8058 one-click, or the page's button); idempotent."""
    if not delivery.unsubscribe(state.session(), token, state.now()):
        return _unknown()
    return _done()
