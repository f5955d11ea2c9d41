"""The program's figures for a date range, read from the daily rollups (engage.services.
insight_rollups keeps them) and compared with the period just before."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from engage.errors import Unprocessable
from engage.insights import figures
from engage.insights.periods import BadRange, Period, check_range, local_day, month_of
from engage.store import insights as rollups
from engage.store import transaction
from engage.store.program import load

# The headline figures, in the order a report reads them: (key, label).
HEADLINES = (("members", "Members"), ("new_members", "New members"), ("active_members", "Active members (90 days)"),
             ("repeat_purchase_rate", "Repeat-purchase rate"), ("purchases", "Purchases"),
             ("points_issued", "Points issued"), ("points_redeemed", "Points redeemed"),
             ("redemption_rate", "Redemption rate"), ("liability", "Liability (outstanding points' worth)"),
             ("referrals", "Referrals"), ("mean_rating", "Mean rating"))


def period_for(session: Session, first: date | None, last: date | None, now: datetime) -> Period:
    """The requested range, checked against today in the program's time zone (422 when bad)."""
    today = local_day(now, load(session).zone)
    if first is None or last is None:
        missing = {name: ["Missing data for required field."] for name, value in (("from", first), ("to", last))
                   if value is None}
        raise Unprocessable("`from` and `to` are both required (YYYY-MM-DD)", missing)
    try:
        return check_range(first, last, today)
    except BadRange as bad:
        raise Unprocessable(str(bad), bad.errors) from None


def read(session: Session, first: date | None, last: date | None, now: datetime) -> dict:
    """Every figure for the period from `first` to `last` (inclusive), with the previous period's."""
    with transaction(session):
        period = period_for(session, first, last, now)
        view = load(session)
        current, previous = _summary(session, period), _summary(session, period.previous())
        per_point = figures.point_value(rollups.reward_values(session))
        rows = rollups.days(session, period)
        computed = {row.day for row in rows}
        return {
            "from": period.first, "to": period.last, "timezone": view.program.timezone, "currency": view.program.currency,
            "previous": {"from": period.previous().first, "to": period.previous().last},
            "pending_days": [day for day in period.each_day() if day not in computed],
            "computed_at": max((row.computed_at for row in rows), default=None),
            "headlines": [{"key": key, "label": label, "value": _plain(current[key]),
                           "previous": _plain(previous[key]), "change": figures.change(current[key], previous[key])}
                          for key, label in HEADLINES],
            "members": _members(session, period, rows, current),
            "retention": _retention(session, period, current),
            "points": _points(rows, current, per_point),
            "advocacy": {"referrals": current["referrals"], "referred_buyers": current["referred_buyers_period"],
                         "referred_buyers_total": current["referred_buyers"],
                         "daily": [{"date": row.day, "referrals": row.referrals,
                                    "referred_buyers": row.referred_buyers} for row in rows]},
            "messages": _messages(session, period, rows),
            "revenue": _revenue(session, period),
        }


def _summary(session: Session, period: Period) -> dict:
    """The period's headline figures (totals at its end, sums over its days)."""
    before = rollups.totals_before(session, period.first)
    rows = rollups.days(session, period)

    def total(column: str) -> int:
        return sum(getattr(row, column) for row in rows)
    at_end = {key: before[key] + sum(_net(row)[key] for row in rows) for key in before}
    issued, redeemed, donated = total("points_issued"), total("points_redeemed"), total("points_donated")
    per_point = figures.point_value(rollups.reward_values(session))
    return {
        "members": at_end["members"], "new_members": total("members_new"),
        "active_members": rows[-1].active_members if rows and rows[-1].day == period.last else None,
        "buyers": at_end["buyers"], "repeat_buyers": at_end["repeat_buyers"],
        "repeat_purchase_rate": figures.rate(at_end["repeat_buyers"], at_end["buyers"]),
        "purchases": total("purchases"), "first_buyers": total("first_buyers"),
        "new_repeat_buyers": total("repeat_buyers"),
        "points_issued": issued, "points_redeemed": redeemed, "points_donated": donated,
        "points_expired": total("points_expired"), "points_adjusted": total("points_adjusted"),
        "redemptions": total("redemptions"),
        "redemption_rate": figures.redemption_rate(redeemed, donated, issued),
        "outstanding": at_end["points"], "liability": figures.liability(at_end["points"], per_point),
        "referrals": total("referrals"), "referred_buyers": at_end["referred_buyers"],
        "referred_buyers_period": total("referred_buyers"),
        "feedback": total("feedback"), "ratings": total("ratings"),
        "mean_rating": figures.mean(total("rating_sum"), total("ratings")),
    }


def _net(row) -> dict[str, int]:
    return {"members": row.members_new - row.members_erased,
            "points": row.points_issued + row.points_adjusted - row.points_redeemed - row.points_donated
            - row.points_expired,
            "buyers": row.first_buyers, "repeat_buyers": row.repeat_buyers, "referred_buyers": row.referred_buyers}


def _plain(value):
    return float(value) if isinstance(value, Decimal) else value


def _members(session: Session, period: Period, rows, current: dict) -> dict:
    start = rollups.totals_before(session, period.first)["members"]
    totals = figures.running_totals(start, (row.members_new - row.members_erased for row in rows))
    taken, tiers = rollups.tier_snapshot(session, period.last)
    return {"total": current["members"], "new": current["new_members"], "active": current["active_members"],
            "by_tier": [{"tier": name, "members": count} for name, count in sorted(tiers.items(), key=lambda t: -t[1])],
            "by_tier_as_of": taken,
            "daily": [{"date": row.day, "new": row.members_new, "erased": row.members_erased, "total": total,
                       "active": row.active_members} for row, total in zip(rows, totals)]}


def _retention(session: Session, period: Period, current: dict) -> dict:
    months = Period(month_of(period.first), period.last)
    sizes: dict[date, int] = defaultdict(int)
    for row in rollups.days(session, months):
        sizes[month_of(row.day)] += row.members_new
    active: dict[tuple[date, date], int] = defaultdict(int)
    for day, cohort, count in rollups.cohort_days(session, months):
        active[(cohort, month_of(day))] += count
    triangle = figures.retention_triangle(dict(sizes), active, month_of(period.last))
    return {"buyers": current["buyers"], "repeat_buyers": current["repeat_buyers"],
            "repeat_purchase_rate": current["repeat_purchase_rate"], "first_buyers": current["first_buyers"],
            "new_repeat_buyers": current["new_repeat_buyers"],
            "cohorts": [{"cohort": row.month.strftime("%Y-%m"), "members": row.members, "active": row.active,
                         "rates": row.rates} for row in triangle]}


def _points(rows, current: dict, per_point: Decimal) -> dict:
    return {"issued": current["points_issued"], "redeemed": current["points_redeemed"],
            "donated": current["points_donated"], "expired": current["points_expired"],
            "adjusted": current["points_adjusted"], "redemptions": current["redemptions"],
            "redemption_rate": current["redemption_rate"], "outstanding": current["outstanding"],
            "point_value": per_point, "liability": current["liability"],
            "daily": [{"date": row.day, "issued": row.points_issued, "redeemed": row.points_redeemed,
                       "expired": row.points_expired, "donated": row.points_donated} for row in rows]}


def _messages(session: Session, period: Period, rows) -> dict:
    flows = [dict(zip(("flow", "channel", "queued", "waiting", "sent", "delivered", "failed", "suppressed",
                       "skipped", "replied", "opted_out", "redeemed_after"), map(_int, row)))
             for row in rollups.flow_totals(session, period)]
    for row in flows:
        row["reply_rate"] = figures.rate(row["replied"], row["sent"])
        row["redemption_rate_7_days"] = figures.rate(row["redeemed_after"], row["sent"])
    ratings = sum(row.ratings for row in rows)
    return {"flows": flows,
            "feedback": {"given": sum(row.feedback for row in rows), "ratings": ratings,
                         "mean_rating": figures.mean(sum(row.rating_sum for row in rows), ratings),
                         "daily": [{"date": row.day, "given": row.feedback, "ratings": row.ratings,
                                    "mean_rating": figures.mean(row.rating_sum, row.ratings)} for row in rows]}}


def _int(value):
    return int(value) if isinstance(value, (int, Decimal)) else value


def _revenue(session: Session, period: Period) -> dict:
    totals: dict[tuple[str, str], list] = defaultdict(lambda: [0, Decimal(0)])
    daily = []
    for day, flow, currency, purchases, amount in rollups.revenue_days(session, period):
        totals[(flow, currency)][0] += purchases
        totals[(flow, currency)][1] += amount
        if flow == "":
            daily.append({"date": day, "currency": currency, "purchases": purchases, "amount": amount})
    members = [{"currency": currency, "purchases": count, "amount": amount}
               for (flow, currency), (count, amount) in sorted(totals.items()) if flow == ""]
    after = [{"flow": flow, "currency": currency, "purchases": count, "amount": amount}
             for (flow, currency), (count, amount) in sorted(totals.items()) if flow != ""]
    return {"members": members, "after_flows": after, "daily": daily}
