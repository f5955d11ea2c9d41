"""Daily rollups of the program's figures (engage.services.insights keeps them), one row per local
day in the program's time zone, so a year of figures is a few hundred rows, not millions."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from engage.db import Base, UTCDateTime
from engage.models.ledger import BigId


class InsightDay(Base):
    """The day's program-wide counts. Points are positive amounts; `points_adjusted` is signed."""

    __tablename__ = "insight_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    members_new: Mapped[int]
    members_erased: Mapped[int]
    referrals: Mapped[int]  # members enrolled with a referral code
    referred_buyers: Mapped[int]  # referred members whose first purchase was this day
    purchases: Mapped[int]
    first_buyers: Mapped[int]  # members whose first purchase was this day
    repeat_buyers: Mapped[int]  # members whose second purchase was this day
    active_members: Mapped[int]  # members with a purchase in the 90 days ending this day
    points_issued: Mapped[int]
    points_redeemed: Mapped[int]
    points_donated: Mapped[int]
    points_expired: Mapped[int]
    points_adjusted: Mapped[int]
    redemptions: Mapped[int]
    feedback: Mapped[int]
    ratings: Mapped[int]
    rating_sum: Mapped[int]
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InsightFlowDay(Base):
    """A flow's messages written on the day, per channel, by what became of them."""

    __tablename__ = "insight_flow_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    flow: Mapped[str] = mapped_column(String(40), primary_key=True)
    channel: Mapped[str] = mapped_column(String(5), primary_key=True)
    queued: Mapped[int]  # every message written, whatever became of it
    waiting: Mapped[int]  # not sent yet
    sent: Mapped[int]  # went out (delivered included)
    delivered: Mapped[int]
    failed: Mapped[int]
    suppressed: Mapped[int]
    skipped: Mapped[int]
    replied: Mapped[int]  # messages the member answered
    opted_out: Mapped[int]  # messages followed by the member's opt-out of that channel within 7 days
    redeemed_after: Mapped[int]  # messages followed by a redemption within 7 days


class InsightRevenueDay(Base):
    """Purchases on the day by currency: all members' (flow ""), and those of members a flow
    reached in the 7 days before the purchase (one row per flow)."""

    __tablename__ = "insight_revenue_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    flow: Mapped[str] = mapped_column(String(40), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    purchases: Mapped[int]
    amount: Mapped[Decimal] = mapped_column(Numeric(16, 2))


class InsightCohortDay(Base):
    """Members of an enrolment month whose first purchase of this day's month was this day: summed
    over a month, the cohort's distinct purchasers that month (a cell of the retention triangle)."""

    __tablename__ = "insight_cohort_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    cohort: Mapped[date] = mapped_column(Date, primary_key=True)  # first of the enrolment month
    members: Mapped[int]


class InsightTierDay(Base):
    """Members per tier as the day's rollup found them: a snapshot (tier history is not kept),
    taken only while the day is recent and never rewritten later."""

    __tablename__ = "insight_tier_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    tier: Mapped[str] = mapped_column(String(60), primary_key=True)
    members: Mapped[int]


class InsightStale(Base):
    """Days a late event changed (a purchase dated in the past): recomputed by the next rollup."""

    __tablename__ = "insight_stale"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime)
