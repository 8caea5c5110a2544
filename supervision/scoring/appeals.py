"""Appeals (申诉) of a published month's score: a person appeals an entry or their whole score within N working
days of publication; a manager of the jurisdiction grants (the entry is reversed, the score recomputed and the
change kept as a new revision) or refuses with a reason."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache

from pydantic import Field as SettingField
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, func, select

from supervision import audit, ledger
from supervision.access import Permission, Principal, site_path_clause
from supervision.db import UTCDateTime, utcnow
from supervision.errors import Conflict, Forbidden, InvalidInput, NotFound
from supervision.models import LedgerEntry, Site, Staff
from supervision.scoring import appeals_messages as _messages  # noqa: F401  (registers the texts)
from supervision.scoring.models import MonthClose, MonthlyScore
from supervision.scoring.monthly import (
    CLOSED,
    ScoreRow,
    closing_for,
    explain,
    month_end,
    month_text,
    month_view,
    parse_month,
    refreeze,
    row_of,
    score_history,
)
from supervision.settings import get_settings
from supervision.workdays import load_calendar


class AppealSettings(BaseSettings):
    """Read from `SUPERVISION_SCORING_*` environment variables and `.env`."""

    model_config = SettingsConfigDict(env_prefix="SUPERVISION_SCORING_", env_file=".env", extra="ignore")

    appeal_workdays: int = SettingField(
        5, ge=1, le=60, description="Working days after a month's publication in which a person may appeal")


@lru_cache
def get_appeal_settings() -> AppealSettings:
    return AppealSettings()


class AppealStatus(StrEnum):
    PENDING = "pending"
    GRANTED = "granted"
    REFUSED = "refused"


class ScoreAppeal(SQLModel, table=True):
    """One appeal of a person's month: of one ledger entry, or of the whole score (no entry)."""

    __tablename__ = "scoring_appeal"
    __table_args__ = (
        # One appeal per entry, and one whole-score appeal per person and month, even when two arrive at once.
        UniqueConstraint("dedupe_key", name="uq_scoring_appeal_dedupe"),
        Index("ix_scoring_appeal_status_month", "status", "month"),
    )

    id: int | None = Field(default=None, primary_key=True)
    month: date  # the first day of the month appealed
    close_id: int = Field(foreign_key="month_close.id")
    staff_id: int = Field(foreign_key="staff.id", index=True)
    site_id: int = Field(foreign_key="site.id")  # the person's site: who may decide is the jurisdiction above
    ledger_entry_id: int | None = Field(default=None, foreign_key="ledger_entry.id")
    dedupe_key: str = Field(max_length=60)  # "entry:<id>" or "score:<staff id>:<YYYY-MM>"
    reason: str = Field(sa_type=Text)
    deadline: date  # the last day it could be filed
    filed_by: str = Field(max_length=80)
    filed_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    status: str = Field(default=AppealStatus.PENDING.value, max_length=10)
    decision_reason: str = Field(default="", sa_type=Text)
    decided_by: str = Field(default="", max_length=80)
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # What a grant changed: the reversals it wrote (space-separated ids) and the person's score revision after.
    reversal_ids: str = Field(default="", max_length=400)
    revision: int | None = None


class AppealCreate(SQLModel):
    """A person's appeal: of one entry (`ledger_entry_id`) or of the whole month (`month`, no entry)."""

    month: str | None = Field(default=None, description="YYYY-MM; taken from the entry when one is named")
    ledger_entry_id: int | None = None
    reason: str = Field(min_length=1, max_length=2000)


class AppealDecision(SQLModel):
    """A reviewer's decision; a granted whole-score appeal names the entries to reverse (`entry_ids`)."""

    grant: bool
    reason: str = Field(min_length=1, max_length=2000)
    entry_ids: list[int] = []


class AppealPublic(SQLModel):
    id: int
    month: str
    staff_id: int
    staff_name: str
    site_id: int
    ledger_entry_id: int | None
    reason: str
    deadline: date
    filed_by: str
    filed_at: datetime
    status: str
    decision_reason: str
    decided_by: str
    decided_at: datetime | None
    reversal_ids: list[int]
    revision: int | None


def appeal_deadline(session: Session, close: MonthClose) -> date | None:
    """The last local day to appeal a published month: N working days after its publication; None unpublished."""
    if close.published_at is None:
        return None
    published_on = close.published_at.astimezone(get_settings().tz).date()
    return load_calendar(session).add_workdays(published_on, get_appeal_settings().appeal_workdays).value


def _today() -> date:
    return datetime.now(get_settings().tz).date()


def _staff_site(session: Session, staff_id: int) -> tuple[Staff, Site]:
    staff = session.get(Staff, staff_id)
    site = session.get(Site, staff.site_id) if staff is not None else None
    if staff is None or site is None:
        raise NotFound("error.not_found_kind", kind="kind.staff", id=staff_id)
    return staff, site


def file_appeal(session: Session, *, actor: Principal, body: AppealCreate, today: date | None = None,
                ip: str = "") -> ScoreAppeal:
    """File the actor's own appeal of a published month, before its deadline; one per entry (or per month)."""
    actor.require(Permission.OWN_RECORDS)
    if actor.staff_id is None:
        raise Forbidden("error.scoring_appeal_staff_only")
    today = today or _today()
    reason = body.reason.strip()
    if not reason:
        raise InvalidInput("reason", "error.required")
    entry: LedgerEntry | None = None
    if body.ledger_entry_id is not None:
        entry = session.get(LedgerEntry, body.ledger_entry_id)
        # Another person's entry is as unknown as a missing one: nobody learns whose entries exist.
        if entry is None or entry.staff_id != actor.staff_id:
            raise InvalidInput("ledger_entry_id", "error.unknown_ref", kind="kind.ledger_entry",
                               value=body.ledger_entry_id)
        if entry.reverses_id is not None:
            raise InvalidInput("ledger_entry_id", "error.scoring_appeal_reversal")
        if ledger.reversed_among(session, [entry.id]):
            raise Conflict("error.ledger_already_reversed", id=entry.id)
        month = entry.day.replace(day=1)
    elif body.month:
        month = parse_month(body.month)
    else:
        raise InvalidInput("month", "error.required")
    staff, site = _staff_site(session, actor.staff_id)
    close = closing_for(session, month=month, site_path=site.path)
    if close is None or close.published_at is None:
        raise Conflict("error.scoring_appeal_unpublished", month=month_text(month))
    deadline = appeal_deadline(session, close)
    assert deadline is not None
    if today > deadline:
        raise Conflict("error.scoring_appeal_late", month=month_text(month), deadline=deadline.isoformat())
    key = f"entry:{entry.id}" if entry is not None else f"score:{staff.id}:{month_text(month)}"
    if session.exec(select(ScoreAppeal.id).where(col(ScoreAppeal.dedupe_key) == key)).first() is not None:
        raise Conflict("error.scoring_appeal_exists")
    appeal = ScoreAppeal(month=month, close_id=close.id or 0, staff_id=staff.id or 0, site_id=staff.site_id,
                         ledger_entry_id=entry.id if entry is not None else None, dedupe_key=key, reason=reason,
                         deadline=deadline, filed_by=actor.audit_name[:80])
    try:
        with session.begin_nested():
            session.add(appeal)
            session.flush()
    except IntegrityError:
        # Filed twice at once (a double click): the other one stands.
        raise Conflict("error.scoring_appeal_exists") from None
    audit.record(session, actor, "scoring.appeal", object_kind="scoring_appeal", object_id=appeal.id,
                 site_id=staff.site_id, summary=f"{month_text(month)} {staff.name}",
                 detail={"reason": reason, "ledger_entry_id": appeal.ledger_entry_id}, ip=ip)
    return appeal


def decides_appeals(actor: Principal) -> bool:
    return actor.can(Permission.SCORING_MANAGE)


def _in_scope(session: Session, actor: Principal, appeal_id: int) -> ScoreAppeal:
    appeal = session.get(ScoreAppeal, appeal_id)
    site = session.get(Site, appeal.site_id) if appeal is not None else None
    if appeal is None or site is None or not actor.covers_path(site.path):
        raise NotFound("error.not_found_kind", kind="kind.scoring_appeal", id=appeal_id)
    if not actor.can(Permission.SCORING_MANAGE) and appeal.staff_id != actor.staff_id:
        raise NotFound("error.not_found_kind", kind="kind.scoring_appeal", id=appeal_id)
    return appeal


def get_appeal(session: Session, *, actor: Principal, appeal_id: int) -> ScoreAppeal:
    """One appeal: the person's own, or any of the jurisdiction for those who decide."""
    if not (actor.can(Permission.SCORING_MANAGE) or actor.can(Permission.OWN_RECORDS)):
        raise Forbidden("error.forbidden")
    return _in_scope(session, actor, appeal_id)


def decide_appeal(session: Session, *, actor: Principal, appeal_id: int, body: AppealDecision,
                  ip: str = "") -> ScoreAppeal:
    """Grant (reverse the entry or the named entries, recompute the score as a new revision) or refuse."""
    actor.require(Permission.SCORING_MANAGE)
    appeal = _in_scope(session, actor, appeal_id)
    reason = body.reason.strip()
    if not reason:
        raise InvalidInput("reason", "error.required")
    if appeal.status != AppealStatus.PENDING.value:
        raise Conflict("error.scoring_appeal_decided")
    if actor.staff_id is not None and actor.staff_id == appeal.staff_id:
        raise Forbidden("error.scoring_appeal_own")
    close = session.get(MonthClose, appeal.close_id)
    if close is None or close.status != CLOSED:
        # The month was reopened since: its scores are live again and the next close freezes them.
        close = None
    now = utcnow()
    if body.grant:
        entry_ids = [appeal.ledger_entry_id] if appeal.ledger_entry_id is not None else list(body.entry_ids)
        reversals = _reverse(session, actor, appeal, entry_ids, reason, ip)
        appeal.reversal_ids = " ".join(str(r.id) for r in reversals)
        if close is not None:
            revised = _refreeze(session, close, appeal, reversals, reason)
            appeal.revision = revised
        appeal.status = AppealStatus.GRANTED.value
    else:
        appeal.status = AppealStatus.REFUSED.value
    appeal.decision_reason = reason
    appeal.decided_by = actor.audit_name[:80]
    appeal.decided_at = now
    session.add(appeal)
    session.flush()
    audit.record(session, actor, "scoring.appeal_decide", object_kind="scoring_appeal", object_id=appeal.id,
                 site_id=appeal.site_id, summary=f"{month_text(appeal.month)} {_staff_name(session, appeal.staff_id)}",
                 detail={"decision": appeal.status, "ledger_entry_id": appeal.ledger_entry_id, "reason": reason,
                         "reversals": appeal.reversal_ids}, ip=ip)
    return appeal


def _staff_name(session: Session, staff_id: int) -> str:
    staff = session.get(Staff, staff_id)
    return staff.name if staff is not None else ""


def _reverse(session: Session, actor: Principal, appeal: ScoreAppeal, entry_ids: Sequence[int], reason: str,
             ip: str) -> list[LedgerEntry]:
    end = month_end(appeal.month)
    reversals = []
    for entry_id in dict.fromkeys(entry_ids):
        entry = session.get(LedgerEntry, entry_id)
        if (entry is None or entry.staff_id != appeal.staff_id or not appeal.month <= entry.day <= end
                or entry.reverses_id is not None):
            raise InvalidInput("entry_ids", "error.scoring_appeal_entry_not_appealed", id=entry_id)
        reversals.append(ledger.reverse_entry(
            session, entry_id, actor=actor, ip=ip, allow_closed=True,
            reason=ledger.keyed_reason("ledger_reason.score_appeal_granted", id=str(appeal.id), reason=reason)))
    return reversals


def _refreeze(session: Session, close: MonthClose, appeal: ScoreAppeal, reversals: Sequence[LedgerEntry],
              reason: str) -> int:
    """Recompute the person and every stored subject a reversed entry counted for; the person's new revision."""
    reversed_ids = {r.reverses_id for r in reversals}
    current = session.exec(select(MonthlyScore).where(
        col(MonthlyScore.close_id) == close.id, col(MonthlyScore.superseded_at).is_(None))).all()
    subjects = {("staff", appeal.staff_id)}
    for stored in current:
        if any(reversed_ids.intersection(line.entry_ids) for line in row_of(stored).items):
            subjects.add((stored.subject_kind, stored.subject_id))
    stored_subjects = {(r.subject_kind, r.subject_id) for r in current}
    text = ledger.keyed_reason("scoring.revision_reason.appeal", reason=reason)
    revision = 0
    for kind, subject_id in sorted(subjects & stored_subjects):
        row = refreeze(session, close=close, subject_kind=kind, subject_id=subject_id, reason=text)
        if kind == "staff":
            revision = row.revision
    return revision


@dataclass(frozen=True)
class AppealFilter:
    status: str | None = None
    month: date | None = None
    staff_id: int | None = None


def list_appeals(session: Session, *, actor: Principal, f: AppealFilter | None = None, offset: int = 0,
                 limit: int = 50) -> tuple[list[ScoreAppeal], int]:
    """Appeals in scope, newest first: a reviewer's jurisdiction, or a person's own."""
    f = f or AppealFilter()
    stmt = select(ScoreAppeal).join(Site, col(Site.id) == ScoreAppeal.site_id).where(site_path_clause(actor))
    if not actor.can(Permission.SCORING_MANAGE):
        actor.require(Permission.OWN_RECORDS)
        stmt = stmt.where(col(ScoreAppeal.staff_id) == (actor.staff_id if actor.staff_id is not None else -1))
    if f.status:
        if f.status not in {s.value for s in AppealStatus}:
            raise InvalidInput("status", "error.choice", choices="pending, granted, refused")
        stmt = stmt.where(col(ScoreAppeal.status) == f.status)
    if f.month is not None:
        stmt = stmt.where(col(ScoreAppeal.month) == f.month)
    if f.staff_id is not None:
        stmt = stmt.where(col(ScoreAppeal.staff_id) == f.staff_id)
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = session.exec(stmt.order_by(col(ScoreAppeal.filed_at).desc(), col(ScoreAppeal.id).desc())
                        .offset(offset).limit(limit)).all()
    return list(rows), int(total)


def pending_count(session: Session, *, actor: Principal) -> int:
    """How many appeals of the actor's jurisdiction wait for a decision (0 for those who do not decide)."""
    if not decides_appeals(actor):
        return 0
    return list_appeals(session, actor=actor, f=AppealFilter(status=AppealStatus.PENDING.value), limit=1)[1]


def to_public(session: Session, rows: Sequence[ScoreAppeal]) -> list[AppealPublic]:
    ids = {r.staff_id for r in rows}
    names = {s.id: s.name for s in session.exec(select(Staff).where(col(Staff.id).in_(ids)))} if ids else {}
    return [AppealPublic(
        id=r.id or 0, month=month_text(r.month), staff_id=r.staff_id, staff_name=names.get(r.staff_id, ""),
        site_id=r.site_id, ledger_entry_id=r.ledger_entry_id, reason=r.reason, deadline=r.deadline,
        filed_by=r.filed_by, filed_at=r.filed_at, status=r.status, decision_reason=r.decision_reason,
        decided_by=r.decided_by, decided_at=r.decided_at,
        reversal_ids=[int(i) for i in r.reversal_ids.split()], revision=r.revision) for r in rows]


def entries_of(session: Session, rows: Sequence[ScoreAppeal]) -> dict[int, list[LedgerEntry]]:
    """What each appeal is about: its entry, or (a whole-score appeal) the person's entries of the month."""
    out: dict[int, list[LedgerEntry]] = {}
    for appeal in rows:
        stmt = select(LedgerEntry).where(col(LedgerEntry.staff_id) == appeal.staff_id)
        if appeal.ledger_entry_id is not None:
            stmt = stmt.where(col(LedgerEntry.id) == appeal.ledger_entry_id)
        else:
            stmt = stmt.where(col(LedgerEntry.day) >= appeal.month, col(LedgerEntry.day) <= month_end(appeal.month),
                              col(LedgerEntry.reverses_id).is_(None))
        out[appeal.id or 0] = list(session.exec(stmt.order_by(col(LedgerEntry.day), col(LedgerEntry.id))).all())
    return out


def open_appeals_check(session: Session, month: date, site_path: str) -> list[str]:
    """The close check: appeals still waiting under the site closed (of this month or before), one line each."""
    rows = session.exec(
        select(ScoreAppeal, Staff.name).join(Site, col(Site.id) == ScoreAppeal.site_id)
        .join(Staff, col(Staff.id) == ScoreAppeal.staff_id)
        .where(col(ScoreAppeal.month) <= month, col(ScoreAppeal.status) == AppealStatus.PENDING.value,
               col(Site.path).startswith(site_path, autoescape=True))
        .order_by(col(ScoreAppeal.id))).all()
    return [f"{name} {month_text(a.month)} 考评申诉待复核 / score appeal pending" for a, name in rows]


# --- publication: a person's own months, the centre's window ranking -------------------------------------------


@dataclass(frozen=True)
class OwnMonth:
    """One published month of a person: the score, the appeal deadline and whether it is still open."""

    month: date
    row: ScoreRow | None
    deadline: date | None
    open_for_appeal: bool


def own_months(session: Session, *, actor: Principal, today: date | None = None, months: int = 12) -> list[OwnMonth]:
    """The person's published months, newest first, over the last `months` months."""
    actor.require(Permission.OWN_RECORDS)
    if actor.staff_id is None:
        return []
    today = today or _today()
    _, site = _staff_site(session, actor.staff_id)
    out = []
    month = today.replace(day=1)
    for _ in range(months):
        close = closing_for(session, month=month, site_path=site.path)
        if close is not None and close.published_at is not None:
            view = month_view(session, actor=actor, month=month, subject_kind="staff")
            row = next((r for r in view.rows if r.subject_id == actor.staff_id), None)
            deadline = appeal_deadline(session, close)
            out.append(OwnMonth(month, row, deadline, deadline is not None and today <= deadline))
        month = (month - timedelta(days=1)).replace(day=1)
    return out


@dataclass(frozen=True)
class OwnExplanation:
    """A person's published month: the score, its entries, its revisions and the person's appeals."""

    month: OwnMonth
    entries: list[LedgerEntry]
    history: list[MonthlyScore]
    appeals: list[ScoreAppeal]
    appealed_entry_ids: set[int]
    reversed_ids: set[int]
    whole_appealed: bool


def own_explanation(session: Session, *, actor: Principal, month: date, today: date | None = None) -> OwnExplanation:
    """Why the person's published month scored what it did; NotFound for a month not published to them."""
    actor.require(Permission.OWN_RECORDS)
    if actor.staff_id is None:
        raise NotFound("error.not_found_kind", kind="kind.published_month", id=month_text(month))
    today = today or _today()
    _, site = _staff_site(session, actor.staff_id)
    close = closing_for(session, month=month, site_path=site.path)
    if close is None or close.published_at is None:
        raise NotFound("error.not_found_kind", kind="kind.published_month", id=month_text(month))
    row, entries = explain(session, actor=actor, month=month, subject_kind="staff", subject_id=actor.staff_id)
    deadline = appeal_deadline(session, close)
    own = OwnMonth(month, row, deadline, deadline is not None and today <= deadline)
    history = score_history(session, actor=actor, month=month, subject_kind="staff", subject_id=actor.staff_id)
    mine, _ = list_appeals(session, actor=actor, f=AppealFilter(month=month, staff_id=actor.staff_id), limit=200)
    mine = [a for a in mine if a.staff_id == actor.staff_id]
    return OwnExplanation(
        month=own, entries=list(entries), history=list(history), appeals=mine,
        appealed_entry_ids={a.ledger_entry_id for a in mine if a.ledger_entry_id is not None},
        reversed_ids=ledger.reversed_among(session, [e.id for e in entries]),
        whole_appealed=any(a.ledger_entry_id is None for a in mine))


@dataclass(frozen=True)
class RankedWindow:
    name: str
    final: float
    rank: int


@dataclass(frozen=True)
class WindowRanking:
    site_name: str
    month: date | None
    rows: list[RankedWindow]


def published_window_ranking(session: Session, *, site_code: str, today: date | None = None) -> WindowRanking:
    """The notice board's ranking of a centre's windows in its latest published month: names, scores, ranks."""
    site = session.exec(select(Site).where(col(Site.code) == site_code)).first()
    if site is None:
        raise NotFound("error.not_found_kind", kind="kind.site", id=site_code)
    today = today or _today()
    month = today.replace(day=1)
    for _ in range(13):
        close = closing_for(session, month=month, site_path=site.path)
        if close is not None and close.published_at is not None:
            scores = session.exec(select(MonthlyScore).where(
                col(MonthlyScore.close_id) == close.id, col(MonthlyScore.subject_kind) == "window",
                col(MonthlyScore.site_id) == site.id, col(MonthlyScore.superseded_at).is_(None))
                .order_by(col(MonthlyScore.final).desc(), col(MonthlyScore.name))).all()
            if scores:
                return WindowRanking(site.name, month, _ranked(scores))
        month = (month - timedelta(days=1)).replace(day=1)
    return WindowRanking(site.name, None, [])


def _ranked(scores: Sequence[MonthlyScore]) -> list[RankedWindow]:
    """Ranks within the centre: equal scores share a rank (1, 2, 2, 4)."""
    out: list[RankedWindow] = []
    for i, s in enumerate(scores):
        rank = out[-1].rank if out and out[-1].final == s.final else i + 1
        out.append(RankedWindow(s.name, s.final, rank))
    return out
