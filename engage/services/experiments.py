"""Experiments on a flow's template (docs/experiments.md): start one with a variant B for a
channel and locale, read its results, stop it, promote B to the live template. Each function is
one transaction, with its audit entry in it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engage.errors import Conflict, NotFound, Unprocessable
from engage.experiments import Comparison, VariantCount, compare, sentence
from engage.models import Experiment
from engage.services import audit, flow_admin
from engage.store import transaction
from engage.store.experiments import RUNNING, variant_counts
from engage.store.program import changed

STOPPED, PROMOTED = "stopped", "promoted"
STATUSES = (RUNNING, STOPPED, PROMOTED)
PART_NAMES = ("body", "subject", "html", "text")


def experiment_json(row: Experiment) -> dict:
    return {"id": row.id, "flow": row.flow, "channel": row.channel, "locale": row.locale, "name": row.name,
            "parts": dict(row.parts), "split_percent": row.split_percent, "outcome": row.outcome,
            "window_days": row.window_days, "status": row.status, "promoted_version": row.promoted_version,
            "created_by": row.created_by, "started_at": row.started_at, "stopped_at": row.stopped_at}


def _comparison_json(comparison: Comparison, outcome: str, window_days: int) -> dict:
    leader = None
    if comparison.enough and comparison.difference:
        leader = "B" if comparison.difference > 0 else "A"
    return {
        "variants": [{"variant": name, "sends": count.sends, "outcomes": count.outcomes, "rate": count.rate}
                     for name, count in (("A", comparison.a), ("B", comparison.b))],
        "enough": comparison.enough, "z": comparison.z, "p_value": comparison.p_value,
        "difference": comparison.difference, "leader": leader,
        "sentence": sentence(comparison, outcome, window_days),
    }


def results(session: Session, row: Experiment) -> dict:
    """Each variant's sends and outcomes, the two-proportion test and its sentence."""
    counts = variant_counts(session, row)
    return _comparison_json(compare(counts["A"], counts["B"]), row.outcome, row.window_days)


def _row(session: Session, experiment_id: int, *, lock: bool = False) -> Experiment:
    query = select(Experiment).where(Experiment.id == experiment_id)
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise NotFound(f"no experiment {experiment_id}")
    return row


def experiments(flow: str | None = None, status: str | None = None) -> Select:
    """The query of experiments, optionally of one flow or status (the caller pages through it)."""
    query = select(Experiment)
    if flow:
        query = query.where(Experiment.flow == flow)
    if status:
        query = query.where(Experiment.status == status)
    return query


def newest(session: Session, limit: int) -> list[dict]:
    """The newest experiments (without results), newest first."""
    with transaction(session):
        rows = session.scalars(experiments().order_by(Experiment.id.desc()).limit(limit))
        return [experiment_json(row) for row in rows]


def get(session: Session, experiment_id: int) -> dict:
    """One experiment with its results."""
    with transaction(session):
        row = _row(session, experiment_id)
        return {**experiment_json(row), "results": results(session, row)}


def _running_on(session: Session, flow: str, channel: str, locale: str) -> Experiment | None:
    return session.scalar(select(Experiment).where(
        Experiment.flow == flow, Experiment.channel == channel, Experiment.locale == locale,
        Experiment.status == RUNNING))


def _busy(row: Experiment) -> Conflict:
    return Conflict(f"experiment {row.id} ({row.name}) is already running on the {row.flow} {row.channel} "
                    f"template in {row.locale}; stop it first")


def start(session: Session, request: dict, actor: audit.Actor, now: datetime) -> dict:
    """Start an experiment: variant B is checked as a template save would be (the welcome SMS
    without STOP is refused); 409 while another runs on the same template."""
    flow = flow_admin.check_flow(request["flow"])
    channel = flow_admin.check_channel(request["channel"])
    locale = flow_admin.check_locale(request["locale"])
    parts = {name: request[name] for name in PART_NAMES if name in request}
    name = request.get("name") or f"{flow} {channel} {locale}: variant B"
    with transaction(session):
        flow_admin.check_template(session, flow, channel, locale, parts)
        running = _running_on(session, flow, channel, locale)
        if running is not None:
            raise _busy(running)
        row = Experiment(flow=flow, channel=channel, locale=locale, name=name, parts=parts,
                         split_percent=request["split_percent"], outcome=request["outcome"],
                         window_days=request["window_days"], status=RUNNING, created_by=actor.name,
                         started_at=now)
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:  # another start won the race for the unique index
            raise Conflict(f"another experiment started on the {flow} {channel} template in {locale} "
                           "at the same moment; reload and look") from None
        after = experiment_json(row)
        audit.add(session, actor, "experiment.start", "experiment", str(row.id), None, after, now)
    changed(session)
    nothing = VariantCount(0, 0)
    return {**after, "results": _comparison_json(compare(nothing, nothing), row.outcome, row.window_days)}


def stop(session: Session, experiment_id: int, actor: audit.Actor, now: datetime) -> dict:
    """Stop a running experiment: new messages get the live template (A); those sent keep their
    variant for the results. 409 if it is not running."""
    with transaction(session):
        row = _row(session, experiment_id, lock=True)
        if row.status != RUNNING:
            raise Conflict(f"experiment {experiment_id} is {row.status}, not running")
        before = experiment_json(row)
        row.status, row.stopped_at = STOPPED, now
        session.flush()
        after = experiment_json(row)
        audit.add(session, actor, "experiment.stop", "experiment", str(row.id), before, after, now)
        answer = {**after, "results": results(session, row)}
    changed(session)
    return answer


def promote(session: Session, experiment_id: int, actor: audit.Actor, now: datetime) -> dict:
    """Save variant B as the template's newest version (so every member gets it) and end the
    experiment. 409 if it was promoted already; 422 if B no longer passes the template checks."""
    with transaction(session):
        row = _row(session, experiment_id, lock=True)
        if row.status == PROMOTED:
            raise Conflict(f"experiment {experiment_id} was promoted already (version {row.promoted_version})")
        before = experiment_json(row)
        try:
            flow_admin.check_template(session, row.flow, row.channel, row.locale, dict(row.parts))
        except Unprocessable as error:
            raise Unprocessable(f"variant B can no longer be saved: {error.message}", error.errors) from None
        template_before = flow_admin.live_version(session, row.flow, row.channel, row.locale)
        saved = flow_admin.add_version(session, row.flow, row.channel, row.locale, dict(row.parts), actor.name,
                                       now, None)
        row.status, row.promoted_version, row.stopped_at = PROMOTED, saved["version"], row.stopped_at or now
        session.flush()
        after = experiment_json(row)
        audit.add(session, actor, "experiment.promote", "experiment", str(row.id), before, after, now)
        audit.add(session, actor, "template.promote", "template", f"{row.flow}/{row.channel}/{row.locale}",
                  template_before, saved, now)
        answer = {**after, "results": results(session, row)}
    changed(session)
    return answer
