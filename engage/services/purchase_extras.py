"""What a new purchase does beyond its own points, in the purchase's transaction: the program's
share given to its cause (giving back), progress in purchase challenges, and the personalised
offers its items earn.

Both purchase paths (`earning.record_event` and its one-statement PostgreSQL path) call
`after_purchase` once the purchase and its points are written, and only for a new purchase (a
replayed Idempotency-Key never gets here): later per-purchase rules hook in here too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from engage.loyalty import challenges as challenge_rules
from engage.loyalty import giving
from engage.loyalty.items import Item
from engage.services import challenges, offers
from engage.store import purchase_extras as extras
from engage.store.program import ProgramView


def after_purchase(session: Session, view: ProgramView, member_id: int, event_id: int, amount: Decimal,
                   items: Sequence[Item], occurred_at: datetime, now: datetime) -> list:
    """Give the program's share of this purchase to its cause (nothing when giving back is off),
    count it toward open purchase challenges and make the offers its items earn (the member's row
    is locked); the domain events for the flows."""
    made = offers.after_purchase(session, view, member_id, event_id, items, occurred_at, now)
    share = giving.purchase_share(amount, giving.GivingRules.from_settings(view.settings.get("giving_back")))
    counting = challenge_rules.counting(view.challenges, "purchase", occurred_at)
    if share is None and not counting:
        return made
    counted = extras.write(session, share, member_id, event_id, occurred_at, counting, now)
    return made + challenges.settle(session, view, member_id, counted, now)
