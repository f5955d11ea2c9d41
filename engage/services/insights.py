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

# The headline figures, in the order a report reads them: (key, label, unit).
HEADLINES = (("members", "Members", "count"), ("new_members", "New members", "count"),
             ("active_members", "Active members (90 days)", "count"),
             ("repeat_purchase_rate", "Repeat-purchase rate", "share"), ("purchases", "Purchases", "count"),
             ("points_issued", "Points issued", "count"), ("points_redeemed", "Points redeemed", "count"),
             ("redemption_rate", "Redemption rate", "share"),
             ("liability", "Liability (outstanding points' worth)", "money"), ("referrals", "Referrals", "count"),
             ("mean_rating", "Mean rating (1-5)", "rating"))
FLOW_COLUMNS = ("queued", "waiting", "sent", "delivered", "failed", "suppressed", "skipped", "replied", "opted_out",
                "redeemed_after")


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
        per_point = figures.point_value(rollups.reward_values(session))
        earlier = period.previous()
        # One read of the days from the start of the previous period's first month: both periods'
        # sums, the running totals and the cohorts' sizes come from it.
        span = Period(min(earlier.first, month_of(period.first)), period.last)
        rows = rollups.days(session, span)
        before = rollups.totals_before(session, span.first)
        mine = [row for row in rows if row.day >= period.first]
        current = _summary(period, rows, before, per_point)
        previous = _summary(earlier, rows, before, per_point)
        # Days with no rows before the last rolled-up day had nothing to count (the program had
        # not begun); after it, they are waiting for the next roll-up.
        last_computed = rollups.last_computed(session)
        totals = figures.running_totals(current["members"] - sum(r.members_new - r.members_erased for r in mine),
                                        (row.members_new - row.members_erased for row in mine))
        return {
            "from": period.first, "to": period.last, "timezone": view.program.timezone,
            "currency": view.program.currency, "previous": {"from": earlier.first, "to": earlier.last},
            "pending_days": [day for day in period.each_day() if last_computed is None or day > last_computed],
            "computed_at": max((row.computed_at for row in mine), default=None),
            "headlines": [{"key": key, "label": label, "unit": unit, "value": _plain(current[key]),
                           "previous": _plain(previous[key]), "change": figures.change(current[key], previous[key])}
                          for key, label, unit in HEADLINES],
            "daily": [_day(row, total) for row, total in zip(mine, totals)],
            "members": _members(session, period, current),
            "retention": _retention(session, period, rows, current),
            "points": {key: current[name] for key, name in POINTS} | {"point_value": per_point},
            "advocacy": {"referrals": current["referrals"], "referred_buyers": current["referred_buyers_period"],
                         "referred_buyers_total": current["referred_buyers"]},
            "messages": _messages(session, period, current),
            "revenue": _revenue(session, period),
        }


POINTS = (("issued", "points_issued"), ("redeemed", "points_redeemed"), ("donated", "points_donated"),
          ("expired", "points_expired"), ("adjusted", "points_adjusted"), ("redemptions", "redemptions"),
          ("redemption_rate", "redemption_rate"), ("outstanding", "outstanding"), ("liability", "liability"))


def _summary(period: Period, rows: list, before: dict[str, int], per_point: Decimal) -> dict:
    """The period's headline figures: sums over its days, running totals at its end."""
    mine = [row for row in rows if period.first <= row.day <= period.last]
    sums = {column: sum(getattr(row, column) for row in mine) for column in rollups.DAY_TOTALS}

    def total(column: str) -> int:
        return sums[column]
    at_end = dict(before)
    for row in rows:
        if row.day > period.last:
            break
        at_end["members"] += row.members_new - row.members_erased
        at_end["points"] += (row.points_issued + row.points_adjusted - row.points_redeemed - row.points_donated
                             - row.points_expired)
        at_end["buyers"] += row.first_buyers
        at_end["repeat_buyers"] += row.repeat_buyers
        at_end["referred_buyers"] += row.referred_buyers
    issued, redeemed, donated = total("points_issued"), total("points_redeemed"), total("points_donated")
    return {
        "members": at_end["members"], "new_members": total("members_new"),
        "active_members": mine[-1].active_members if mine and mine[-1].day == period.last else None,
        "buyers": at_end["buyers"], "repeat_buyers": at_end["repeat_buyers"],
        "repeat_purchase_rate": figures.rate(at_end["repeat_buyers"], at_end["buyers"]),
        "purchases": total("purchases"), "first_buyers": total("first_buyers"),
        "new_repeat_buyers": total("repeat_buyers"),
        "points_issued": issued, "points_redeemed": redeemed, "points_donated": donated,
        "points_expired": total("points_expired"), "points_adjusted": total("points_adjusted"),
        "redemptions": total("redemptions"), "redemption_rate": figures.redemption_rate(redeemed, donated, issued),
        "outstanding": at_end["points"], "liability": figures.liability(at_end["points"], per_point),
        "referrals": total("referrals"), "referred_buyers": at_end["referred_buyers"],
        "referred_buyers_period": total("referred_buyers"),
        "feedback": total("feedback"), "ratings": total("ratings"),
        "mean_rating": figures.mean(total("rating_sum"), total("ratings")),
    }


def _plain(value):
    return float(value) if isinstance(value, Decimal) else value


def _day(row, members: int) -> dict:
    return {"date": row.day, "new_members": row.members_new, "erased_members": row.members_erased,
            "members": members, "active_members": row.active_members, "purchases": row.purchases,
            "points_issued": row.points_issued, "points_redeemed": row.points_redeemed,
            "points_expired": row.points_expired, "points_donated": row.points_donated,
            "referrals": row.referrals, "referred_buyers": row.referred_buyers, "feedback": row.feedback,
            "ratings": row.ratings, "mean_rating": figures.mean(row.rating_sum, row.ratings)}


def _members(session: Session, period: Period, current: dict) -> dict:
    taken, tiers = rollups.tier_snapshot(session, period.last)
    return {"total": current["members"], "new": current["new_members"], "active": current["active_members"],
            "by_tier": [{"tier": name, "members": count} for name, count in sorted(tiers.items(), key=lambda t: -t[1])],
            "by_tier_as_of": taken}


def _retention(session: Session, period: Period, rows: list, current: dict) -> dict:
    months = Period(month_of(period.first), period.last)
    sizes: dict[date, int] = defaultdict(int)
    for row in rows:
        if row.day >= months.first:
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


def _messages(session: Session, period: Period, current: dict) -> dict:
    flows = [dict(zip(("flow", "channel", *FLOW_COLUMNS), (flow, channel, *map(int, sums))))
             for flow, channel, *sums in rollups.flow_totals(session, period)]
    for row in flows:
        row["reply_rate"] = figures.rate(row["replied"], row["sent"])
        row["redemption_rate_7_days"] = figures.rate(row["redeemed_after"], row["sent"])
    return {"flows": flows, "feedback": {"given": current["feedback"], "ratings": current["ratings"],
                                         "mean_rating": current["mean_rating"]}}


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
