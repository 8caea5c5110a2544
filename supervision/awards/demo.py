"""Demo awards and appraisal: the last complete quarter's duty-leader ballots, citizens' votes and selected
awards at the city centre and each demo county; last year's appraisal confirmed for a few people (the rest
stay suggested). Each part runs once per centre: a restart adds nothing."""

from __future__ import annotations

import logging
import random
import time as clock
from datetime import date

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from supervision.access import SYSTEM, Principal
from supervision.awards.appraisal import record_confirmation, year_view
from supervision.awards.models import Appraisal, AwardSelection, CitizenVote, LeaderBallotCast, SubjectKind
from supervision.awards.quarters import last_complete_quarter, quarter_key
from supervision.awards.ranking import ranking
from supervision.awards.selection import SelectionIn, select_award
from supervision.awards.votes import BallotIn, Tick, _leaders, cast_ballot, import_citizen_votes
from supervision.db import session_scope
from supervision.demo_data import CITY_CODE
from supervision.errors import SupervisionError
from supervision.models import Site, Staff, Window

logger = logging.getLogger(__name__)

# The centres with a demo manager or officer: the city and the demo counties.
DEMO_SITES = (CITY_CODE, f"{CITY_CODE}-FC", f"{CITY_CODE}-JY", f"{CITY_CODE}-GX")
WINDOWS_SELECTED = 2
STAFF_SELECTED = 3
CONFIRMED = 3


def _manager(site: Site) -> Principal:
    """The centre's manager, as the demo acts: a manager's permissions over the centre's subtree."""
    return Principal(kind="system", id=None, name=f"demo-awards-{site.code}", site_id=site.id,
                     site_path=site.path, permissions=SYSTEM.permissions)


def seed_awards_demo(engine: Engine, *, today: date) -> None:
    """Ballots, citizens' votes and selections of the last complete quarter; last year's confirmations."""
    began = clock.perf_counter()
    quarter = quarter_key(*last_complete_quarter(today))
    with session_scope(engine, write=True) as session:
        sites = list(session.exec(select(Site).where(col(Site.code).in_(DEMO_SITES))).all())
    done = 0
    for site in sites:
        with session_scope(engine, write=True) as session:
            try:
                done += _seed_quarter(session, site, quarter, today)
            except SupervisionError:
                logger.exception("demo awards at %s", site.code)
                raise
        with session_scope(engine, write=True) as session:
            _seed_appraisal(session, site, today.year - 1)
    logger.info("demo awards: %d selections for %s in %.1f s", done, quarter, clock.perf_counter() - began)


def _own(session: Session, site: Site) -> tuple[list[Window], list[Staff]]:
    """The centre's own windows and window staff (the city's ranking also lists the counties', chosen there)."""
    windows = list(session.exec(select(Window).where(col(Window.site_id) == site.id).order_by(col(Window.id))))
    people = list(session.exec(select(Staff).where(col(Staff.site_id) == site.id, col(Staff.active).is_(True),
                                                   col(Staff.window_id).is_not(None)).order_by(col(Staff.id))))
    return windows, people


def _seed_quarter(session: Session, site: Site, quarter: str, today: date) -> int:
    assert site.id is not None
    if session.exec(select(AwardSelection.id).where(col(AwardSelection.quarter) == quarter,
                                                    col(AwardSelection.site_id) == site.id)).first() is not None:
        return 0
    actor = _manager(site)
    windows, people = _own(session, site)
    if not windows and not people:
        return 0
    rng = random.Random(f"awards-{site.code}-{quarter}")
    # Citizens' votes, as the bureau's survey sheet would give them.
    if session.exec(select(CitizenVote.id).where(col(CitizenVote.quarter) == quarter,
                                                 col(CitizenVote.site_id) == site.id)).first() is None:
        lines = ["类型,编号,票数"]
        lines += [f"窗口,{w.code},{rng.randint(20, 400)}" for w in windows]
        lines += [f"个人,{p.code},{rng.randint(5, 120)}" for p in people]
        import_citizen_votes(session, actor=actor, quarter=quarter, data="\n".join(lines).encode("utf-8"))
    board = ranking(session, actor=actor, quarter=quarter, site_id=site.id, today=today)
    own_windows = [c for c in board.windows if c.site_id == site.id and c.eligible]
    own_staff = [c for c in board.staff if c.site_id == site.id and c.eligible]
    for leader in _leaders(session, quarter=quarter, site_path=site.path):
        if leader.site_id != site.id or session.exec(select(LeaderBallotCast.id).where(
                col(LeaderBallotCast.quarter) == quarter,
                col(LeaderBallotCast.leader_id) == leader.staff_id)).first() is not None:
            continue
        ticks = [Tick(subject_kind=SubjectKind.WINDOW, subject_id=c.subject_id)
                 for c in rng.sample(own_windows, min(3, len(own_windows)))]
        ticks += [Tick(subject_kind=SubjectKind.STAFF, subject_id=c.subject_id)
                  for c in rng.sample(own_staff, min(4, len(own_staff)))]
        cast_ballot(session, actor=actor, body=BallotIn(quarter=quarter, leader_id=leader.staff_id, ticks=ticks))
    board = ranking(session, actor=actor, quarter=quarter, site_id=site.id, today=today)
    chosen = [c for c in board.windows if c.site_id == site.id and c.eligible][:WINDOWS_SELECTED]
    chosen += [c for c in board.staff if c.site_id == site.id and c.eligible][:STAFF_SELECTED]
    for candidate in chosen:
        select_award(session, actor=actor, today=today, body=SelectionIn(
            quarter=quarter, subject_kind=SubjectKind(candidate.subject_kind), subject_id=candidate.subject_id))
    return len(chosen)


def _seed_appraisal(session: Session, site: Site, year: int) -> None:
    """Confirm the suggestion for the first few people of the centre; the others wait for the manager."""
    actor = _manager(site)
    _, people = _own(session, site)
    chosen = people[:CONFIRMED]
    ids = [p.id for p in chosen if p.id is not None]
    if not ids or session.exec(select(Appraisal.id).where(col(Appraisal.year) == year,
                                                          col(Appraisal.staff_id).in_(ids))).first() is not None:
        return
    # One view of the year (twelve months scored once), not one per confirmation.
    view = year_view(session, actor=actor, year=year, site_id=site.id)
    rows = {r.staff_id: r for r in view.rows}
    everyone = [r.staff_id for r in view.rows]
    for person in chosen:
        row = rows.get(person.id or 0)
        if row is not None:
            record_confirmation(session, actor=actor, year=year, person=person, figures=row.figures,
                                suggested=row.suggested, grade=row.suggested, reason="", people_ids=everyone,
                                quota=view.quota)
