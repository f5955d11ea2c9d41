"""Reading an inbound email (SendGrid Inbound Parse): who sent it, and what they actually wrote.

Pure: no Flask, no database. Handles both Inbound Parse modes: the default one (fields `from`,
`to`, `subject`, `text`, `html`, `headers`, `envelope`, `charsets`) and "raw" (the whole MIME
message in `email`). Whatever arrives, these functions return text, never raise.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser, HeaderParser
from email.utils import getaddresses, parseaddr

from engage import safe_json
from engage.messaging.keywords import Inbound, classify

MAX_REPLY_CHARS = 5000  # what is stored and classified of a reply; the quote below is dropped
_SAFE_CHARSETS = {"", "utf-8", "utf8", "us-ascii", "ascii"}
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")

# Lines that start the quoted original in a reply (top-posting mail clients), per language.
_QUOTE_HEADER = [
    re.compile(r"^\s*On\b.{0,300}\bwrote\s*:\s*$", re.IGNORECASE),  # Gmail, Apple Mail (en)
    re.compile(r"^\s*Op\b.{0,300}\bschreef\b.{0,300}:\s*$", re.IGNORECASE),  # nl
    re.compile(r"^\s*Am\b.{0,300}\bschrieb\b.{0,300}:\s*$", re.IGNORECASE),  # de
    re.compile(r"^\s*(?:În|In)\b.{0,300}\ba\s+scris\s*:\s*$", re.IGNORECASE),  # ro
    re.compile(r"^\s*-{2,}\s*(?:Original Message|Oorspronkelijk bericht|Ursprüngliche Nachricht|"
               r"Mesaj original|Forwarded message)\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^\s*_{10,}\s*$"),  # Outlook's rule above the quoted headers
    re.compile(r"^\s*(?:From|Van|Von|De la|De)\s*:\s.+$", re.IGNORECASE),  # Outlook header block
]
# Where the member's own words end: signature delimiter and mobile footers.
_SIGNATURE = [
    re.compile(r"^-- ?$"),
    re.compile(r"^\s*(?:Sent from my|Verzonden vanaf mijn|Verstuurd vanaf mijn|Von meinem|"
               r"Gesendet von|Trimis de pe|Get Outlook for)\b", re.IGNORECASE),
]


@dataclass(frozen=True)
class InboundEmail:
    """The parts of an inbound email that Engage uses."""

    sender: str | None  # lower-case address, or None when there is no usable one
    to: str
    subject: str
    text: str  # the plain-text body (or text made from the HTML part)
    message_id: str | None
    automatic: bool  # an auto-reply (out of office, delivery report): never answered


def _decode(raw: bytes | None, charset: str | None) -> str:
    if raw is None:
        return ""
    try:
        return raw.decode((charset or "utf-8").strip() or "utf-8", "replace")
    except LookupError:  # a charset name Python does not know
        return raw.decode("utf-8", "replace")


def odd_charsets(charsets_field: str | None, names=("from", "to", "subject", "text", "html")) -> dict:
    """{field: charset} for fields SendGrid says are not UTF-8 (the `charsets` JSON field)."""
    try:
        charsets = safe_json.loads(charsets_field or "{}")
    except ValueError:
        return {}
    if not isinstance(charsets, dict):
        return {}
    return {name: str(charsets[name]) for name in names
            if isinstance(charsets.get(name), str) and charsets[name].strip().lower() not in _SAFE_CHARSETS}


def multipart_parts(raw_body: bytes, content_type: str, names) -> dict[str, bytes]:
    """The raw bytes of the named (non-file) fields of a multipart/form-data body."""
    try:
        header = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1", "replace")
        message = BytesParser(policy=policy.compat32).parsebytes(header + raw_body)
    except Exception:  # noqa: BLE001 - a malformed body keeps the framework's decoding
        return {}
    found: dict[str, bytes] = {}
    if not message.is_multipart():
        return found
    for part in message.get_payload():
        if not isinstance(part, Message):
            continue
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, tuple):  # RFC 2231 encoded
            name = name[2]
        if name in names and name not in found and part.get_filename() is None:
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                found[name] = payload
    return found


def multipart_fields(raw_body: bytes, content_type: str, wanted: dict) -> dict[str, str]:
    """Re-read form fields from the raw multipart body, decoded with their own charsets.

    `wanted` is {field: charset}. The web framework decodes every field as UTF-8, which garbles a
    Latin-1 or Windows-1252 email; SendGrid posts each field in the email's own charset.
    """
    parts = multipart_parts(raw_body, content_type, set(wanted))
    return {name: _decode(payload, wanted[name]) for name, payload in parts.items()}


def html_to_text(markup: str) -> str:
    """Crude but safe: drop quoted blocks, scripts and tags; keep line breaks."""
    markup = re.sub(r"(?is)<(script|style|head|blockquote)\b.*?</\1\s*>", " ", markup)
    markup = re.sub(r"(?is)<div[^>]*class=\"?gmail_quote.*", " ", markup)
    markup = re.sub(r"(?i)<\s*br\s*/?>|</\s*(p|div|li|tr|h[1-6])\s*>", "\n", markup)
    return html_lib.unescape(re.sub(r"(?s)<[^>]*>", "", markup))


def _headers(text: str) -> Message:
    try:
        return HeaderParser(policy=policy.compat32).parsestr(text or "")
    except Exception:  # noqa: BLE001
        return HeaderParser(policy=policy.compat32).parsestr("")


def _header(message: Message, name: str) -> str:
    try:
        return str(message.get(name) or "")
    except Exception:  # noqa: BLE001 - the stdlib header parser raises on some malformed values
        return ""


def _is_automatic(headers: Message) -> bool:
    """RFC 3834 Auto-Submitted, and the older headers auto-responders still send."""
    auto = _header(headers, "Auto-Submitted").strip().lower()
    precedence = _header(headers, "Precedence").strip().lower()
    return (auto not in ("", "no") or precedence in ("bulk", "junk", "list", "auto_reply")
            or any(_header(headers, name) for name in ("X-Autoreply", "X-Autorespond"))
            or _header(headers, "Content-Type").lower().startswith("multipart/report"))


def address(value: str | None) -> str | None:
    """The plain, lower-case address in a From value ("Ana <Ana@Example.com>" → ana@example.com)."""
    if not value:
        return None
    try:
        pairs = getaddresses([str(value)])
    except Exception:  # noqa: BLE001
        pairs = [parseaddr(str(value))]
    for _name, addr in pairs:
        addr = (addr or "").strip().lower()
        if _EMAIL.match(addr) and len(addr) <= 254:
            return addr
    return None


def _envelope_sender(envelope: str | None) -> str | None:
    try:
        data = safe_json.loads(envelope or "{}")
    except ValueError:
        return None
    return address(data.get("from")) if isinstance(data, dict) and isinstance(data.get("from"), str) else None


def _clean_id(value) -> str | None:
    text = " ".join(str(value or "").split())
    return text or None


def from_fields(fields: dict) -> InboundEmail:
    """An inbound email from Inbound Parse's default (parsed) mode; values already decoded."""
    headers = _headers(fields.get("headers") or "")
    text = fields.get("text") or ""
    if not text.strip() and fields.get("html"):
        text = html_to_text(fields["html"])
    sender = (address(fields.get("from")) or address(_header(headers, "From"))
              or _envelope_sender(fields.get("envelope")))
    return InboundEmail(
        sender=sender, to=str(fields.get("to") or ""), subject=" ".join(str(fields.get("subject") or "").split()),
        text=text, message_id=_clean_id(_header(headers, "Message-ID")), automatic=_is_automatic(headers))


def from_raw(raw: str | bytes, envelope: str | None = None) -> InboundEmail:
    """An inbound email from Inbound Parse's raw mode (the whole MIME message in `email`)."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw or b"")
    except Exception:  # noqa: BLE001
        message = BytesParser(policy=policy.compat32).parsebytes(raw or b"")
    try:
        text = _raw_body(message)
    except Exception:  # noqa: BLE001
        text = ""
    return InboundEmail(
        sender=address(_header(message, "From")) or _envelope_sender(envelope),
        to=_header(message, "To"), subject=" ".join(_header(message, "Subject").split()), text=text,
        message_id=_clean_id(_header(message, "Message-ID")), automatic=_is_automatic(message))


def _raw_body(message: Message) -> str:
    if isinstance(message, EmailMessage):
        for preference in (("plain",), ("html",)):
            try:
                part = message.get_body(preferencelist=preference)
                if part is None:
                    continue
                content = part.get_content()
            except Exception:  # noqa: BLE001 - unknown charset or broken transfer encoding
                payload = part.get_payload(decode=True) if part is not None else None
                content = _decode(payload if isinstance(payload, bytes) else None, "utf-8")
            if isinstance(content, str) and content.strip():
                return content if preference == ("plain",) else html_to_text(content)
        return ""
    payload = message.get_payload(decode=True)
    return _decode(payload if isinstance(payload, bytes) else None, message.get_content_charset())


def _starts_quote(line: str, following: str) -> bool:
    if line.lstrip().startswith(">"):
        return True
    joined = f"{line} {following}"  # Gmail wraps a long "On … wrote:" over two lines
    return any(p.match(line) or p.match(joined) for p in _QUOTE_HEADER)


def reply_text(text: str) -> str:
    """The member's own words: the first block of lines that are not quoted or a signature."""
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if any(p.match(line) for p in _SIGNATURE):
            break
        if _starts_quote(line, following):
            if any(k.strip() for k in kept):
                break
            kept = []  # bottom-posting: skip the quote and read what follows it
            index += 1
            continue
        kept.append(line)
        index += 1
    return "\n".join(kept).strip()[:MAX_REPLY_CHARS]


def classify_reply(text: str) -> Inbound:
    """Classify an email reply: the whole text, or a keyword or rating alone on its first line.

    People put their name under a one-word answer ("STOP\\n\\nAna"); a first line that is an
    opt-out keyword or a rating counts, with the rest kept as the text.
    """
    whole = classify(text)
    if whole.kind != "text" or "\n" not in whole.text:
        return whole
    first = classify(whole.text.split("\n", 1)[0])
    if first.kind in ("opt_out", "help"):
        return type(whole)(first.kind, whole.text)
    if first.kind == "rating":
        return type(whole)("rating", whole.text, first.rating)
    return whole
