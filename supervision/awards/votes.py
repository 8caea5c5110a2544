"""The duty leaders' ballots (entered by a manager for them, or by the leader's own account) and the
citizens' votes imported from a spreadsheet."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field
from sqlmodel import Session, col, delete, select

from supervision import audit
from supervision.access import Permission, Principal
from supervision.awards.models import CitizenVote, LeaderBallot, LeaderBallotCast, SubjectKind
from supervision.awards.quarters import parse_quarter, quarter_bounds, quarter_key
from supervision.awards.ranking import jurisdiction
from supervision.duty import DutyAssignment, DutyRole
from supervision.errors import Forbidden, InvalidInput, NotFound
from supervision.models import Site, Staff, Window
from supervision.spreadsheet import cell_text, read_table


class Tick(BaseModel):
    subject_kind: SubjectKind
    subject_id: int = Field(ge=1)


class BallotIn(BaseModel):
    """One leader's ballot for a quarter: the candidates they support (replaces what they cast before)."""

    quarter: str = Field(min_length=6, max_length=7, examples=["2026Q3"])
    leader_id: int = Field(ge=1)
    ticks: list[Tick] = Field(default_factory=list, max_length=500)


@dataclass(frozen=True)
class Leader:
    staff_id: int
    name: str
    site_id: int  # where they led most duty days of the quarter
    days: int
    cast: bool


def leaders(session: Session, *, actor: Principal, quarter: str, site_id: int | None = None) -> list[Leader]:
    """The bureau leaders on the duty roster (带班领导) in the quarter at sites of the jurisdiction."""
    actor.require(Permission.SCORING_READ)
    site = jurisdiction(session, actor, site_id)
    return _leaders(session, quarter=quarter, site_path=site.path)


def _leaders(session: Session, *, quarter: str, site_path: str) -> list[Leader]:
    year, number = parse_quarter(quarter)
    start, end = quarter_bounds(year, number)
    rows = session.exec(select(DutyAssignment.staff_id, DutyAssignment.site_id)
                        .join(Site, col(Site.id) == DutyAssignment.site_id)
                        .where(col(DutyAssignment.role) == DutyRole.LEADER, col(DutyAssignment.day) >= start,
                               col(DutyAssignment.day) <= end,
                               col(Site.path).startswith(site_path, autoescape=True))).all()
    per: dict[int, Counter[int]] = {}
    for staff_id, duty_site in rows:
        per.setdefault(staff_id, Counter())[duty_site] += 1
    if not per:
        return []
    names = {s.id: s.name for s in session.exec(select(Staff).where(col(Staff.id).in_(list(per))))}
    cast = set(session.exec(select(LeaderBallotCast.leader_id).where(
        col(LeaderBallotCast.quarter) == quarter_key(year, number), col(LeaderBallotCast.leader_id).in_(list(per)))))
    out = []
    for staff_id, sites in per.items():
        best = sorted(sites.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        out.append(Leader(staff_id, names.get(staff_id, ""), best, sum(sites.values()), staff_id in cast))
    return sorted(out, key=lambda leader: (leader.name, leader.staff_id))


def cast_ballot(session: Session, *, actor: Principal, body: BallotIn, ip: str = "") -> LeaderBallotCast:
    """Record a duty leader's ballot: a manager of the jurisdiction for them, or the leader themself."""
    year, number = parse_quarter(body.quarter)
    key = quarter_key(year, number)
    own = actor.staff_id is not None and actor.staff_id == body.leader_id
    if not own:
        actor.require(Permission.SCORING_MANAGE)
    # A leader voting for themself sees the candidates of the jurisdiction they led in.
    found = {leader.staff_id: leader for leader in _leaders(session, quarter=key, site_path=actor.site_path)}
    leader = found.get(body.leader_id)
    if leader is None:
        if own:
            raise Forbidden("error.awards_not_leader", quarter=key)
        person = session.get(Staff, body.leader_id)
        site = session.get(Site, person.site_id) if person is not None else None
        if site is None or not actor.covers_path(site.path):
            raise NotFound("error.not_found_kind", kind="kind.staff", id=body.leader_id)
        raise InvalidInput("leader_id", "error.awards_not_leader", quarter=key)
    seen: set[tuple[str, int]] = set()
    for tick in body.ticks:
        subject = (tick.subject_kind.value, tick.subject_id)
        if subject in seen:
            raise InvalidInput("ticks", "error.awards_tick_twice", id=tick.subject_id)
        seen.add(subject)
        _subject_site(session, actor, tick.subject_kind, tick.subject_id)
    session.exec(delete(LeaderBallot).where(col(LeaderBallot.quarter) == key,
                                            col(LeaderBallot.leader_id) == body.leader_id))
    ballot = session.exec(select(LeaderBallotCast).where(col(LeaderBallotCast.quarter) == key,
                                                         col(LeaderBallotCast.leader_id) == body.leader_id)).first()
    if ballot is None:
        ballot = LeaderBallotCast(quarter=key, leader_id=body.leader_id, site_id=leader.site_id)
    ballot.entered_by = actor.audit_name[:80]
    session.add(ballot)
    for tick in body.ticks:
        site = _subject_site(session, actor, tick.subject_kind, tick.subject_id)
        session.add(LeaderBallot(quarter=key, leader_id=body.leader_id, subject_kind=tick.subject_kind.value,
                                 subject_id=tick.subject_id, site_id=site.id or 0, entered_by=actor.audit_name[:80]))
    session.flush()
    audit.record(session, actor, "awards.ballot", object_kind="award_ballot", object_id=ballot.id,
                 site_id=leader.site_id, summary=f"{key} {leader.name} · {len(body.ticks)}",
                 detail={"ticks": [f"{t.subject_kind.value}:{t.subject_id}" for t in body.ticks]}, ip=ip)
    return ballot


def ballot_of(session: Session, *, quarter: str, leader_id: int) -> set[tuple[str, int]]:
    """What a leader ticked in a quarter."""
    year, number = parse_quarter(quarter)
    return {(k, i) for k, i in session.exec(select(LeaderBallot.subject_kind, LeaderBallot.subject_id).where(
        col(LeaderBallot.quarter) == quarter_key(year, number), col(LeaderBallot.leader_id) == leader_id)).all()}


def _subject_site(session: Session, actor: Principal, kind: SubjectKind, subject_id: int) -> Site:
    subject: Window | Staff | None = (session.get(Window, subject_id) if kind is SubjectKind.WINDOW
                                      else session.get(Staff, subject_id))
    site = session.get(Site, subject.site_id) if subject is not None else None
    if site is None or not actor.covers_path(site.path):
        raise NotFound("error.not_found_kind", kind=f"kind.{kind.value}", id=subject_id)
    return site


CITIZEN_HEADERS: dict[str, tuple[str, ...]] = {
    "kind": ("类型", "type", "kind"),
    "code": ("编号", "代码", "code"),
    "votes": ("票数", "votes"),
}
_KIND_WORDS = {"窗口": SubjectKind.WINDOW, "window": SubjectKind.WINDOW, "个人": SubjectKind.STAFF,
               "人员": SubjectKind.STAFF, "staff": SubjectKind.STAFF, "person": SubjectKind.STAFF}


@dataclass(frozen=True)
class ImportResult:
    quarter: str
    saved: int


def import_citizen_votes(session: Session, *, actor: Principal, quarter: str, data: bytes,
                         ip: str = "") -> ImportResult:
    """Citizens' votes from a sheet (类型 窗口/个人, 编号 = the window's or person's code, 票数): every problem named
    by its row, nothing saved while any row is wrong; a candidate's row replaces its earlier count."""
    actor.require(Permission.SCORING_MANAGE)
    year, number = parse_quarter(quarter)
    key = quarter_key(year, number)
    rows, missing = read_table(data, CITIZEN_HEADERS)
    if missing:
        raise InvalidInput("file", "error.awards_import_columns", columns="、".join(missing))
    if not rows:
        raise InvalidInput("file", "error.awards_import_empty")
    problems: list[str] = []
    parsed: dict[tuple[str, int], tuple[int, int]] = {}
    for line, row in rows:
        kind = _KIND_WORDS.get(cell_text(row.get("kind")).strip().lower())
        code = cell_text(row.get("code")).strip()
        votes_text = cell_text(row.get("votes")).strip()
        if kind is None:
            problems.append(f"{line}: kind")
            continue
        subject: Any = session.exec(select(Window if kind is SubjectKind.WINDOW else Staff).where(
            col((Window if kind is SubjectKind.WINDOW else Staff).code) == code)).first()
        site = session.get(Site, subject.site_id) if subject is not None else None
        if subject is None or site is None or not actor.covers_path(site.path):
            problems.append(f"{line}: code {code[:40]}")
            continue
        if not votes_text.isdigit() or int(votes_text) > 10_000_000:
            problems.append(f"{line}: votes")
            continue
        parsed[(kind.value, subject.id)] = (int(votes_text), site.id or 0)
    if problems:
        raise InvalidInput("file", "error.awards_import_rows", rows="; ".join(problems[:20]))
    existing = {(v.subject_kind, v.subject_id): v for v in session.exec(select(CitizenVote).where(
        col(CitizenVote.quarter) == key)).all()}
    for (kind_value, subject_id), (votes, site_id) in parsed.items():
        vote = existing.get((kind_value, subject_id)) or CitizenVote(
            quarter=key, subject_kind=kind_value, subject_id=subject_id, site_id=site_id)
        vote.votes = votes
        vote.imported_by = actor.audit_name[:80]
        session.add(vote)
    session.flush()
    audit.record(session, actor, "awards.citizen_votes", object_kind="award_citizen_vote", site_id=actor.site_id,
                 summary=f"{key} · {len(parsed)}", ip=ip)
    return ImportResult(key, len(parsed))


