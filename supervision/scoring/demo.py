"""The demo's scoring: the past three months closed and published at the top of the demo organisation.

Closing at the city covers every county, park and township under it, so every demo manager finds closed,
published months. Seeded after every domain has written its demo ledger (a closed month refuses entries);
seeding again adds nothing.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from supervision import accounts
from supervision.access import SYSTEM, Principal
from supervision.db import session_scope
from supervision.models import Site, User
from supervision.scoring.monthly import close_month, closing_for, first_of, publish_month

logger = logging.getLogger(__name__)
MONTHS_CLOSED = 3
CLOSER = "manager"  # the demo's city manager closes and publishes


def _closer(session: Session, city: Site) -> Principal:
    user = session.exec(select(User).where(col(User.username) == CLOSER, col(User.is_demo))).first()
    if user is not None and user.site_id == city.id:
        return accounts.principal_for_user(session, user)
    return SYSTEM


def demo_months(today: date) -> list[date]:
    """The three months before this one, oldest first."""
    months = []
    cursor = first_of(today)
    for _ in range(MONTHS_CLOSED):
        cursor = first_of(cursor - timedelta(days=1))
        months.append(cursor)
    return sorted(months)


def seed_scoring_demo(engine: Engine, *, today: date) -> int:
    """Close and publish the past three months at the demo city; the number of closes made."""
    made = 0
    for month in demo_months(today):
        # One short write per month: a close computes and stores ~1,000 rows.
        with session_scope(engine, write=True) as session:
            city = session.exec(select(Site).where(col(Site.depth) == 0, col(Site.is_demo))
                                .order_by(col(Site.id))).first()
            if city is None:
                return made
            actor = _closer(session, city)
            close = closing_for(session, month=month, site_path=city.path)
            if close is None:
                # Open matters (appeals) would be listed on the close: the demo closes over them, on record.
                close = close_month(session, actor=actor, month=month, site_id=city.id, force=True, ip="demo")
                made += 1
            if close.published_at is None:
                publish_month(session, actor=actor, month=month, site_id=city.id, ip="demo")
    logger.info("scoring demo: %s months closed", made)
    return made
