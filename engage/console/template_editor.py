"""The template editor: one flow's template for a channel and locale, with its variables, a live
preview as a member or the sample member, SMS segments, errors by line, versions with a diff,
restore, back to the shipped default, and a test send. Every change goes through the services
behind the API's PUT, restore and test routes, and is recorded in the audit log."""

from __future__ import annotations

import difflib
import re

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from engage import state
from engage.api.flows import versions_page
from engage.console.auth import actor, requires
from engage.console.blueprint import blp
from engage.console.flows import TITLES
from engage.errors import NotFound, Unprocessable
from engage.messaging.segments import room_left, ucs2_characters
from engage.services import audit, flow_admin, flow_preview, member_profile
from engage.templating import variables_for
from engage.templating.validation import REQUIRED_PARTS
from engage.vocabulary import Channel

EDITOR = "/flows/<key>/templates/<channel>/<locale>"
LABELS = {"body": "Text", "subject": "Subject", "text": "Plain-text part", "html": "HTML part"}
VERSIONS_SHOWN = 20
_LINE = re.compile(r"line (\d+): (.*)", re.DOTALL)


def _template(key: str, channel: str, locale: str) -> dict:
    try:
        return flow_admin.get_template(state.session(), key, channel, locale)
    except NotFound as error:
        abort(404, description=error.message)


def variables(channel: str) -> list[str]:
    """Every variable a template of `channel` may use, as it is written in one."""
    names = []
    for name, fields in sorted(variables_for(channel).items()):
        names += [f"{name}.{field}" for field in sorted(fields)] if fields else [name]
    return names


def field_errors(errors: dict | None) -> dict[str, list[dict]]:
    """The service's 422 {part: ["line 3: ...", ...]} as {part: [{line, message}]}."""
    found: dict[str, list[dict]] = {}
    for field, problems in (errors or {}).items():
        for problem in problems if isinstance(problems, list) else [problems]:
            match = _LINE.fullmatch(str(problem))
            found.setdefault(field, []).append(
                {"line": int(match.group(1)), "message": match.group(2)} if match
                else {"line": None, "message": str(problem)})
    return found


def warning_text(warning) -> str:
    """A warning the service returns beside its answer (text, or {"message": ...})."""
    return str(warning.get("message", warning)) if isinstance(warning, dict) else str(warning)


def _source_line(source: str, line: int | None) -> str | None:
    lines = source.splitlines()
    return lines[line - 1] if line and 0 < line <= len(lines) else None


def _member(text: str):
    """(member or None for the sample one, problem): the first member the search text finds."""
    text = text.strip()
    if not text:
        return None, None
    found = member_profile.search(state.session(), text, limit=1)
    return (found[0], None) if found else (None, f"No member matches {text!r}.")


def sms_runs(body: str) -> list[tuple[str, bool]]:
    """The body cut into runs of (text, forces UCS-2), for highlighting."""
    offending, runs = set(ucs2_characters(body)), []
    for ch in body:
        bad = ch in offending
        if runs and runs[-1][1] == bad:
            runs[-1] = (runs[-1][0] + ch, bad)
        else:
            runs.append((ch, bad))
    return runs


def _preview(key: str, channel: str, locale: str, parts: dict, who: str) -> dict:
    """What the preview shows: the rendered message, or the errors that stop it."""
    member, problem = _member(who)
    if problem:
        return {"problem": problem}
    request_ = {"member_id": member.id if member else None, "channel": channel, "locale": locale, **parts}
    try:
        result = flow_preview.preview(state.session(), key, request_, state.now())
    except Unprocessable as error:
        return {"errors": field_errors(error.errors), "problem": error.message}
    except NotFound as error:
        return {"problem": error.message}
    shown = {**result, "member": member, "warnings": [warning_text(each) for each in result.get("warnings") or []]}
    if channel == Channel.SMS:
        shown.update(runs=sms_runs(result["body"]), offending=ucs2_characters(result["body"]),
                     left=room_left(result["body"]))
    return shown


def _parts(channel: str) -> dict:
    return {part: request.form.get(part, "").replace("\r\n", "\n") for part in REQUIRED_PARTS[channel]}


def _page(key: str, channel: str, locale: str, *, parts: dict | None = None, errors: dict | None = None,
          status: int = 200):
    current = _template(key, channel, locale)
    parts = parts if parts is not None else dict(current["parts"])
    who = request.values.get("member", "")
    versions = versions_page(key, current["channel"], current["locale"], {"limit": VERSIONS_SHOWN})["items"]
    compare = request.args.get("compare", "")
    diff = _diff(key, current, int(compare)) if compare.isdigit() else None
    errors = errors or {}
    return render_template(
        "console/template.html", key=key, title=TITLES[key], channel=current["channel"],
        locale=current["locale"], current=current, parts=parts, fields=REQUIRED_PARTS[channel], labels=LABELS,
        errors=errors, error_lines={field: [_source_line(parts.get(field, ""), each["line"]) for each in found]
                                    for field, found in errors.items()},
        variables=variables(channel), preview=_preview(key, channel, locale, parts, who), who=who,
        members=flow_preview.recent_members(state.session()), versions=versions, diff=diff,
        compare=compare), status


def _diff(key: str, current: dict, version: int) -> dict | None:
    """Unified diff, part by part, from version `version` to the current one (lines, escaped by Jinja)."""
    try:
        old = flow_admin.get_version(state.session(), key, current["channel"], current["locale"], version)
    except NotFound:
        return None
    parts = {}
    for part, now in current["parts"].items():
        before = str(old["parts"].get(part, ""))
        lines = list(difflib.unified_diff(before.splitlines(), str(now).splitlines(), f"version {version}",
                                          f"current (version {current['version']})", lineterm=""))
        parts[part] = lines
    return {"version": version, "parts": parts}


@blp.route(EDITOR, methods=["GET", "POST"])
@requires("viewer")
def template(key: str, channel: str, locale: str):
    """The editor; marketers save a new version (422 with the errors by their line)."""
    if key not in TITLES or channel not in REQUIRED_PARTS:
        abort(404, description=f"There is no {channel} template of flow {key!r}.")
    if request.method == "GET":
        return _page(key, channel, locale)
    if not current_user.can("marketer"):
        abort(403, description="Saving a template needs the marketer role.")
    before, parts = _template(key, channel, locale), _parts(channel)
    try:
        saved = flow_admin.save_template(state.session(), key, channel, locale, parts, current_user.email,
                                         state.now())
    except Unprocessable as error:
        return _page(key, channel, locale, parts=parts, errors=field_errors(error.errors), status=422)
    _audit("template.save", key, before, saved)
    flash(f"Saved as version {saved['version']}.")
    for warning in saved.get("warnings") or []:  # a rule may flag what it lets through (opt-out wording)
        flash(f"Warning: {warning_text(warning)}")
    return redirect(url_for("console.template", key=key, channel=saved["channel"], locale=saved["locale"]))


@blp.route(EDITOR + "/preview", methods=["POST"])
@requires("viewer")
def template_preview(key: str, channel: str, locale: str):
    """The preview of the draft as typed (htmx swaps it in); without JavaScript, the whole page."""
    if key not in TITLES or channel not in REQUIRED_PARTS:
        abort(404, description=f"There is no {channel} template of flow {key!r}.")
    parts = _parts(channel)
    if not request.headers.get("HX-Request"):
        return _page(key, channel, locale, parts=parts)
    current = _template(key, channel, locale)
    return render_template("console/_template_preview.html", channel=current["channel"],
                           preview=_preview(key, channel, locale, parts, request.form.get("member", "")))


@blp.route(EDITOR + "/versions/<int:version>/restore", methods=["POST"])
@requires("marketer")
def template_restore(key: str, channel: str, locale: str, version: int):
    """Save an earlier version (0: the shipped default) again as the newest."""
    before = _template(key, channel, locale)
    try:
        restored = flow_admin.restore_version(state.session(), key, channel, locale, version,
                                              current_user.email, state.now())
    except NotFound as error:
        abort(404, description=error.message)
    except Unprocessable as error:
        flash(f"Version {version} was not restored: {error.message}")
        return redirect(url_for("console.template", key=key, channel=channel, locale=before["locale"]))
    _audit("template.restore", key, before, restored)
    flash("Back to the shipped default." if version == 0 else f"Version {version} restored as version "
          f"{restored['version']}.")
    return redirect(url_for("console.template", key=key, channel=restored["channel"], locale=restored["locale"]))


@blp.route(EDITOR + "/test", methods=["POST"])
@requires("marketer")
def template_test(key: str, channel: str, locale: str):
    """Send the saved template to a member now (consent, opt-outs and suppressions still apply)."""
    current = _template(key, channel, locale)
    back = redirect(url_for("console.template", key=key, channel=current["channel"], locale=current["locale"]))
    member, problem = _member(request.form.get("member", ""))
    if member is None:
        flash(problem or "Choose the member to send the test to.")
        return back
    try:
        message = flow_preview.send_test(state.session(), key, member.id, current["channel"], state.now(),
                                         current_user.email)
    except Unprocessable as error:
        flash(f"The test was not sent: {error.message}")
        return back
    result = {"message_id": message.id, "member_id": member.id, "channel": message.channel,
              "status": message.status, "reason": message.reason}
    audit.record(state.session(), actor(), "template.test_send", "flow", key, None, result, state.now())
    name = " ".join(filter(None, (member.first_name, member.last_name))) or member.external_id
    outcome = (f"not sent ({message.status}: {message.reason})" if message.reason
               else f"{message.status}")
    flash(f"Test {message.channel} to {name}: {outcome}.")
    return back


def _audit(action: str, key: str, before: dict, after: dict) -> None:
    object_id = f"{key}/{after['channel']}/{after['locale']}"
    audit.record(state.session(), actor(), action, "template", object_id, before, after, state.now())
