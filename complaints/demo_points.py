"""Demo points that lead to their source in every demo account's centre: a bad rating, a visit finding, a granted
appeal (the city, every county and park, the townships a demo account works in).

Each centre's window clerk with a demo account (else its first clerk) gets a bad rating and a visit finding
in the ledger, and a second clerk a bad rating whose appeal was granted: its reversal reads in the reader's
language. Seeded once per centre (a restart finds the centre's first rating and adds nothing),
each centre in its own transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from complaints.demo import _principal
from complaints.models import Rating
from complaints.ratings import appeal_rating, decide_appeal, push_rating
from complaints.visits import finding_to_ledger, record_visit
from supervision.access import SYSTEM
from supervision.db import writer
from supervision.models import Site, SiteKind, Staff, User

KINDS = (SiteKind.CITY, SiteKind.COUNTY, SiteKind.PARK, SiteKind.TOWNSHIP)


def seed_point_sources(engine: Engine, *, now: datetime | None = None) -> int:
    """Seed every demo centre that has window clerks once; return how many centres were seeded."""
    now = now or datetime.now(UTC)
    kinds = [k.value for k in KINDS if k is not SiteKind.TOWNSHIP]
    with Session(engine) as session:
        sites = list(session.exec(
            select(Site).where(col(Site.kind).in_(kinds),
                               col(Site.is_demo) | (col(Site.kind) == SiteKind.CITY.value))
            .order_by(col(Site.path))).all())
        # Of the townships, those a demo account works in (staff_town's): not 287 with --full.
        sites += session.exec(
            select(Site).where(col(Site.kind) == SiteKind.TOWNSHIP.value, col(Site.is_demo),
                               col(Site.id).in_(select(User.site_id))).order_by(col(Site.path))).all()
    return sum(_seed_site(engine, site, now) for site in sites)


def _seed_site(engine: Engine, site: Site, now: datetime) -> int:
    marker = f"PTS-{site.code}"
    with Session(writer(engine), expire_on_commit=False) as session:
        if session.exec(select(Rating.id).where(col(Rating.case_no) == f"{marker}-1")).first() is not None:
            return 0
        staff = list(session.exec(
            select(Staff).where(col(Staff.site_id) == site.id, col(Staff.window_id).is_not(None))
            .order_by(col(Staff.id)).limit(50)).all())
        if not staff:
            return 0
        # A clerk with a demo account first, so that account's own page has points to follow.
        with_account = set(session.exec(select(User.staff_id).where(col(User.staff_id).in_([p.id for p in staff]))))
        staff.sort(key=lambda person: (person.id not in with_account, person.id))
        first, second = staff[0], staff[1 if len(staff) > 1 else 0]
        supervisor, manager = _principal(session, "supervisor"), _principal(session, "manager")
        push_rating(session, SYSTEM, {
            "case_no": f"{marker}-1", "window_id": first.window_id, "staff_id": first.id, "level": 1,
            "reason": "窗口人员玩手机,让群众久等", "rated_at": now - timedelta(days=1, hours=2),
        }, ip="demo")
        visit = record_visit(session, supervisor, {
            "site_id": site.id, "window_id": first.window_id, "visited_on": (now - timedelta(days=3)).date(),
            "mode": "secret", "visitors": "督查组 2 人", "summary": "暗访窗口工作纪律",
            "findings": [{"description": f"{first.name}工作时间离岗 25 分钟,未放置暂停服务牌",
                          "staff_id": first.id, "window_id": first.window_id}],
        }, ip="demo")
        finding_to_ledger(session, supervisor, visit.findings[0].id or 0, points=-3, ip="demo")
        appealed, _ = push_rating(session, SYSTEM, {
            "case_no": f"{marker}-2", "window_id": second.window_id, "staff_id": second.id, "level": 1,
            "reason": "系统故障导致无法办理", "rated_at": now - timedelta(days=2, hours=3),
        }, ip="demo")
        appeal_rating(session, supervisor, appealed.id or 0, "系统停机所致,非窗口人员责任", ip="demo")
        decide_appeal(session, manager, appealed.id or 0, "granted", "停机记录证实系统故障", ip="demo")
        session.commit()
    return 1
