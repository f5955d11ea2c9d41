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

PAGE = """<!doctype html><html lang="{{ lang }}"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{{ title }}</title>
<body style="font-family: system-ui, sans-serif; max-width: 32rem; margin: 4rem auto; padding: 0 1rem">
<main><h1>{{ title }}</h1><p>{{ text }}</p>
{% if button %}<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit" style="font-size: 1rem; padding: .5rem 1rem">{{ button }}</button></form>{% endif %}
</main></body></html>"""

# The shipped languages, as the emails' footers. {program} is the program's name.
TEXTS = {
    "en": ("Unsubscribe from {program} emails?",
           "Press the button and we will send you no more emails. Your SMS preferences stay as they are.",
           "Unsubscribe", "You are unsubscribed",
           "You will get no more emails from {program}. Your SMS preferences stay as they are."),
    "nl": ("Afmelden voor e-mails van {program}?",
           "Druk op de knop en we sturen je geen e-mails meer. Je sms-voorkeuren blijven zoals ze zijn.",
           "Afmelden", "Je bent afgemeld",
           "Je krijgt geen e-mails meer van {program}. Je sms-voorkeuren blijven zoals ze zijn."),
    "de": ("Von den E-Mails von {program} abmelden?",
           "Drück auf den Button, dann schicken wir dir keine E-Mails mehr. Deine SMS-Einstellungen "
           "bleiben, wie sie sind.",
           "Abmelden", "Du bist abgemeldet",
           "Du bekommst keine E-Mails mehr von {program}. Deine SMS-Einstellungen bleiben, wie sie sind."),
    "ro": ("Te dezabonezi de la e-mailurile {program}?",
           "Apasă butonul și nu îți mai trimitem e-mailuri. Preferințele tale pentru SMS rămân neschimbate.",
           "Dezabonare", "Te-ai dezabonat",
           "Nu vei mai primi e-mailuri de la {program}. Preferințele tale pentru SMS rămân neschimbate."),
}

# The token in the URL is a secret: keep the page out of caches, search engines and Referer headers.
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex",
           "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"}


def _page(link: delivery.UnsubscribeLink, *, done: bool):
    lang = next((tag.split("_")[0] for tag in link.locales if tag.split("_")[0] in TEXTS), "en")
    ask, explain, button, done_title, done_text = (text.format(program=link.program_name) for text in TEXTS[lang])
    title, text = (done_title, done_text) if done else (ask, explain)
    page = render_template_string(PAGE, lang=lang, title=title, text=text, button=None if done else button)
    return page, 200, HEADERS


def _unknown():
    page = render_template_string(PAGE, lang="en", title="Link not recognised",
                                  text="This unsubscribe link is not valid.", button=None)
    return page, 404, HEADERS


@blp.get("/unsubscribe/<token>")
def confirm(token: str):
    """A page with an Unsubscribe button, in the member's language; changes nothing."""
    link = delivery.unsubscribe_link(state.session(), token)
    return _unknown() if link is None else _page(link, done=link.opted_out)


@blp.post("/unsubscribe/<token>")
def unsubscribe(token: str):
    """Opt the member out of email at once (RFC 8058 one-click, or the page's button); idempotent."""
    link = delivery.unsubscribe_link(state.session(), token)
    if link is None or not delivery.unsubscribe(state.session(), token, state.now()):
        return _unknown()
    return _page(link, done=True)
