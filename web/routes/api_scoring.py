"""Monthly scoring as JSON under /api/v1: the rule versions, the month's scores with their explanation, and the
month's close, publication and reopening."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Body, Query, Request
from pydantic import BaseModel, Field

from supervision import ledger, scoring
from supervision.access import Permission, Principal
from supervision.scoring import MonthClose, RuleSetCreate, RuleSetPublic, ScoreRow
from web.deps import SessionDep, client_ip, needs, request_locale

router = APIRouter(prefix="/api/v1", tags=["scoring"])

Person = Annotated[Principal, needs(Permission.OWN_RECORDS)]
Reader = Annotated[Principal, needs(Permission.SCORING_READ)]
Writer = Annotated[Principal, needs(Permission.SCORING_READ, Permission.SCORING_WRITE)]
Manager = Annotated[Principal, needs(Permission.SCORING_READ, Permission.SCORING_MANAGE)]
MonthParam = Annotated[str, Query(description="YYYY-MM", examples=["2026-11"], max_length=7)]


class ItemLineOut(BaseModel):
    key: str
    label: str
    rule_version: str
    raw_points: float
    points: float
    cap: float | None
    entry_ids: list[int]


class ScoreRowOut(BaseModel):
    subject_kind: str
    subject_id: int
    name: str
    site_id: int
    base: float
    deductions: float = Field(description="<= 0, after the month's deduction cap")
    bonuses: float = Field(description=">= 0, after the month's bonus cap")
    final: float
    rank: int
    revision: int
    items: list[ItemLineOut]


class MonthScoresOut(BaseModel):
    month: str
    site_id: int
    closed: bool
    published: bool
    rule_version: str
    rows: list[ScoreRowOut]


class EntryOut(BaseModel):
    id: int
    day: date
    kind: str
    item: str
    points: float
    reason: str
    source_kind: str
    source_id: str
    staff_id: int | None
    window_id: int | None
    reverses_id: int | None


class ExplanationOut(BaseModel):
    month: str
    row: ScoreRowOut
    entries: list[EntryOut]


class MonthCloseOut(BaseModel):
    id: int
    month: str
    site_id: int
    status: str
    rule_version: str
    closed_at: datetime
    closed_by: str
    published_at: datetime | None
    reopened_at: datetime | None
    reopen_reason: str
    forced_over: list[str]


class CloseBody(BaseModel):
    site_id: int | None = Field(None, description="The site to close (default: the caller's); covers its subtree")
    force: bool = Field(False, description="Close although the close checks list open matters (recorded)")


class PublishBody(BaseModel):
    site_id: int | None = None


class ReopenBody(BaseModel):
    site_id: int
    reason: str = Field(min_length=1, max_length=400)


def row_out(row: ScoreRow, locale: str) -> ScoreRowOut:
    return ScoreRowOut(
        subject_kind=row.subject_kind, subject_id=row.subject_id, name=row.name, site_id=row.site_id, base=row.base,
        deductions=row.deductions, bonuses=row.bonuses, final=row.final, rank=row.rank, revision=row.revision,
        items=[ItemLineOut(key=x.key, label=scoring.item_label(x.key, locale), rule_version=x.rule_version,
                           raw_points=x.raw_points, points=x.points, cap=x.cap, entry_ids=list(x.entry_ids))
               for x in row.items])


def close_out(close: MonthClose) -> MonthCloseOut:
    return MonthCloseOut(
        id=close.id or 0, month=scoring.month_text(close.month), site_id=close.site_id, status=close.status,
        rule_version=close.rule_version, closed_at=close.closed_at, closed_by=close.closed_by,
        published_at=close.published_at, reopened_at=close.reopened_at, reopen_reason=close.reopen_reason,
        forced_over=[x for x in close.forced_over.split("\n") if x])


@router.get("/scoring-rules", response_model=list[RuleSetPublic], summary="Scoring rule versions")
def rule_versions(request: Request, session: SessionDep, actor: Reader) -> list[RuleSetPublic]:
    """Every version of the rules, newest first: base, month caps, and each item's points, cap and subjects."""
    return scoring.rule_sets(session, actor=actor, locale=request_locale(request))


@router.post("/scoring-rules", response_model=RuleSetPublic, status_code=201, summary="Write a new rule version")
def new_rule_version(request: Request, session: SessionDep, actor: Writer,
                     body: Annotated[RuleSetCreate, Body()]) -> RuleSetPublic:
    """A new version in force from the first of a month (an admin of the top site); items not named keep what the
    version before said. A contradictory item (a bonus with negative points, a cap on an adjustment, an unknown
    subject) is refused, naming it."""
    created = scoring.create_rule_set(session, actor=actor, body=body, ip=client_ip(request))
    return scoring.rule_set(session, actor=actor, version=created.version, locale=request_locale(request))


@router.get("/monthly-scores", response_model=MonthScoresOut, summary="A month's scores")
def monthly_scores(request: Request, session: SessionDep, actor: Person, month: MonthParam,
                   kind: str | None = None, site_id: int | None = None) -> MonthScoresOut:
    """Every person, window and department of the jurisdiction (or of `site_id`), ranked: frozen once the month is
    closed. Window staff get their own row only, once published."""
    view = scoring.month_view(session, actor=actor, month=scoring.parse_month(month), subject_kind=kind or None,
                              site_id=site_id)
    locale = request_locale(request)
    return MonthScoresOut(month=scoring.month_text(view.month), site_id=view.site_id, closed=view.closed,
                          published=view.published, rule_version=view.rule_version,
                          rows=[row_out(r, locale) for r in view.rows])


@router.get("/monthly-scores/{kind}/{subject_id}", response_model=ExplanationOut, summary="One score, explained")
def explained(request: Request, session: SessionDep, actor: Person, kind: str, subject_id: int,
              month: MonthParam) -> ExplanationOut:
    """One subject's month: each rule item (and its version) with the ledger entries behind it and their sources."""
    at = scoring.parse_month(month)
    row, entries = scoring.explain(session, actor=actor, month=at, subject_kind=kind, subject_id=subject_id)
    locale = request_locale(request)
    return ExplanationOut(month=scoring.month_text(at), row=row_out(row, locale), entries=[
        EntryOut(id=e.id or 0, day=e.day, kind=e.kind, item=scoring.item_of_entry(e.kind, e.reason), points=e.points,
                 reason=ledger.render_reason(e.reason, locale), source_kind=e.source_kind, source_id=e.source_id,
                 staff_id=e.staff_id, window_id=e.window_id, reverses_id=e.reverses_id) for e in entries])


@router.get("/months", response_model=list[MonthCloseOut], summary="Closed months")
def closed_months(session: SessionDep, actor: Reader) -> list[MonthCloseOut]:
    """The closes of the jurisdiction (and those above it that cover it), newest month first."""
    return [close_out(c) for c in scoring.closes(session, actor=actor)]


@router.post("/months/{month}/close", response_model=MonthCloseOut, status_code=201, summary="Close a month")
def close(request: Request, session: SessionDep, actor: Manager, month: str,
          body: Annotated[CloseBody, Body()]) -> MonthCloseOut:
    """Freeze the month's scores for the site and everything under it; its ledger is closed to new entries.
    Refused before the month ended, when it is already closed (two managers at once close it once), or while
    the close checks list open matters (unless `force`)."""
    return close_out(scoring.close_month(session, actor=actor, month=scoring.parse_month(month), site_id=body.site_id,
                                         force=body.force, ip=client_ip(request)))


@router.post("/months/{month}/publish", response_model=MonthCloseOut, summary="Publish a closed month")
def publish(request: Request, session: SessionDep, actor: Manager, month: str,
            body: Annotated[PublishBody, Body()]) -> MonthCloseOut:
    """Staff see their own score (and may appeal) from now on."""
    return close_out(scoring.publish_month(session, actor=actor, month=scoring.parse_month(month),
                                           site_id=body.site_id, ip=client_ip(request)))


@router.post("/months/{month}/reopen", response_model=MonthCloseOut, summary="Reopen a closed month")
def reopen(request: Request, session: SessionDep, actor: Writer, month: str,
           body: Annotated[ReopenBody, Body()]) -> MonthCloseOut:
    """A city admin reopens a closed month with a reason (audited); the frozen rows stay as history."""
    return close_out(scoring.reopen_month(session, actor=actor, month=scoring.parse_month(month),
                                          site_id=body.site_id, reason=body.reason, ip=client_ip(request)))
