"""The insights dashboard (marketers): the program's figures for a date range, charts, and each
table as a CSV download. It reads the same service as GET /api/v1/insights."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from flask import Response, abort, render_template, request

from engage import state
from engage.console.auth import requires
from engage.console.blueprint import blp
from engage.console.flows import TITLES
from engage.errors import Unprocessable
from engage.services import insights

DEFAULT_DAYS = 30
DAILY = (("date", "Date"), ("new_members", "New members"), ("members", "Members"),
         ("active_members", "Active (90 days)"), ("points_issued", "Points issued"),
         ("points_redeemed", "Points redeemed"), ("points_expired", "Points expired"),
         ("points_donated", "Points donated"), ("purchases", "Purchases"), ("referrals", "Referrals"),
         ("ratings", "Ratings"), ("mean_rating", "Mean rating"))
FLOWS = (("flow", "Flow"), ("channel", "Channel"), ("queued", "Queued"), ("sent", "Sent"), ("delivered", "Delivered"),
         ("failed", "Failed"), ("suppressed", "Suppressed"), ("skipped", "Skipped"), ("waiting", "Waiting"),
         ("replied", "Replied"), ("opted_out", "Opted out within 7 days"),
         ("redeemed_after", "Redeemed within 7 days"))


def _dates() -> tuple[date | None, date | None]:
    today = state.now().date()
    first = request.args.get("from") or (today - timedelta(days=DEFAULT_DAYS)).isoformat()
    last = request.args.get("to") or (today - timedelta(days=1)).isoformat()
    try:
        return date.fromisoformat(first), date.fromisoformat(last)
    except ValueError:
        raise Unprocessable("dates are written YYYY-MM-DD", {"from": ["Not a valid date."]}) from None


def tables(figures: dict) -> dict[str, tuple[list[str], list[list]]]:
    """Each table of the page as (header, rows), the same for the page and its CSV download."""
    cohort_width = max((len(row["active"]) for row in figures["retention"]["cohorts"]), default=0)
    return {
        "summary": (["Figure", "This period", "Previous period", "Change"],
                    [[h["label"], _shown(h["value"], h["unit"]), _shown(h["previous"], h["unit"]),
                      None if h["change"] is None else f"{h['change']:+.1%}"] for h in figures["headlines"]]),
        "daily": ([label for _, label in DAILY], [[row["date"].isoformat()] + [row[key] for key, _ in DAILY[1:]]
                                                   for row in figures["daily"]]),
        "tiers": (["Tier", "Members"], [[t["tier"], t["members"]] for t in figures["members"]["by_tier"]]),
        "cohorts": (["Enrolled", "Members"] + [f"Month {n}" for n in range(cohort_width)],
                    [[c["cohort"], c["members"]] + c["active"] for c in figures["retention"]["cohorts"]]),
        "messages": ([label for _, label in FLOWS], [[TITLES.get(f["flow"], f["flow"])] + [f[key] for key, _ in FLOWS[1:]]
                                                    for f in figures["messages"]["flows"]]),
        "revenue": (["Purchases by", "Currency", "Purchases", "Amount"],
                    [["all members", r["currency"], r["purchases"], r["amount"]] for r in figures["revenue"]["members"]]
                    + [[f"members reached by {TITLES.get(r['flow'], r['flow'])} (7 days before)", r["currency"], r["purchases"], r["amount"]]
                       for r in figures["revenue"]["after_flows"]]),
    }


def _shown(value, unit: str):
    """A headline figure as a report writes it: 42, 12.5%, 1234.50, 4.2."""
    if value is None:
        return None
    return {"share": f"{value:.1%}", "money": f"{value:.2f}", "rating": f"{value:.1f}"}.get(unit, f"{value:.0f}")


def _cell(value):
    """A spreadsheet runs a cell that starts with = + - @ as a formula: tier names are typed by people."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _number(text) else text


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@blp.route("/insights")
@requires("marketer")
def insights_page():
    """Members, retention, points, advocacy, messages and revenue for a date range."""
    try:
        first, last = _dates()
        figures = insights.read(state.session(), first, last, state.now())
    except Unprocessable as bad:
        return render_template("console/insights.html", error=bad.message, figures=None,
                               first=request.args.get("from", ""), last=request.args.get("to", "")), 422
    return render_template("console/insights.html", figures=figures, tables=tables(figures), error=None,
                           first=first.isoformat(), last=last.isoformat())


@blp.route("/insights/<name>.csv")
@requires("marketer")
def insights_csv(name: str):
    """One table of the dashboard as CSV, for the same date range."""
    try:
        first, last = _dates()
        figures = insights.read(state.session(), first, last, state.now())
    except Unprocessable as bad:
        abort(422, bad.message)
    found = tables(figures)
    if name not in found:
        abort(404, f"no table {name!r}: one of {', '.join(found)}")
    header, rows = found[name]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([[_cell(value) for value in row] for row in rows])
    filename = f"insights-{name}-{first.isoformat()}-{last.isoformat()}.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
