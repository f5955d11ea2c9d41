"""Time-zone and wall-clock helpers shared by the messaging rules (quiet hours, frequency caps)
and the daily sweep's time."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

TzLike = ZoneInfo | str


def as_zone(tz: TzLike) -> ZoneInfo:
    """Return `tz` as a ZoneInfo; an unknown name raises ZoneInfoNotFoundError."""
    if isinstance(tz, ZoneInfo):
        return tz
    if not isinstance(tz, str) or not tz.strip():
        raise ValueError(f"time zone must be a ZoneInfo or an IANA name, got {tz!r}")
    return ZoneInfo(tz.strip())


def parse_hhmm(value: str) -> time:
    """A wall-clock time written HH:MM (H:M too); ValueError if it is not one."""
    try:
        hours, minutes = (int(part) for part in value.split(":"))
        return time(hours, minutes)
    except (ValueError, TypeError, AttributeError):
        raise ValueError(f"not a local time HH:MM: {value!r}") from None


def require_aware(moment: datetime, name: str = "datetime") -> datetime:
    """Return `moment` in UTC; naive datetimes are refused because their instant is unknown."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {moment.isoformat()}")
    return moment.astimezone(timezone.utc)


def wall_to_utc(day: date, wall: time, zone: ZoneInfo, fold: int = 0) -> datetime:
    """Return the UTC instant of local `day` at `wall` in `zone`.

    A wall time skipped by a DST gap is read with the offset in force before the gap
    (RFC 5545 §3.3.5), i.e. it lands as far after the gap as it was into it — the
    same thing a wall clock does. A repeated wall time uses its first occurrence
    unless fold=1.
    """
    local = datetime.combine(day, wall.replace(tzinfo=None), tzinfo=zone).replace(fold=fold)
    return local.astimezone(timezone.utc)


def local_date(moment: datetime, zone: ZoneInfo) -> date:
    """Return the calendar date of `moment` on a wall clock in `zone`."""
    return moment.astimezone(zone).date()
