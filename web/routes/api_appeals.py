"""Score appeals (申诉) as JSON under /api/v1: list in scope, file one's own, decide (grant or refuse)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Request

from supervision import scoring
from supervision.access import Permission, Principal
from supervision.scoring import appeals
from supervision.scoring.appeals import AppealCreate, AppealDecision, AppealFilter, AppealPublic
from web.deps import SessionDep, client_ip, needs
from web.routes.api_org import Page

router = APIRouter(prefix="/api/v1", tags=["scoring"])

Person = Annotated[Principal, needs(Permission.OWN_RECORDS)]
Reviewer = Annotated[Principal, needs(Permission.SCORING_READ, Permission.SCORING_MANAGE)]
Offset = Annotated[int, Query(ge=0)]
Limit = Annotated[int, Query(ge=1, le=500)]


@router.get("/appeals", response_model=Page[AppealPublic], summary="List score appeals")
def list_appeals(session: SessionDep, actor: Person, status: str | None = None, month: str | None = None,
                 staff_id: int | None = None, offset: Offset = 0, limit: Limit = 100) -> Page[AppealPublic]:
    """Appeals of the jurisdiction for those who decide them (SCORING_MANAGE); a person's own for anyone else.

    `status`: pending | granted | refused; `month`: YYYY-MM.
    """
    f = AppealFilter(status=status or None, month=scoring.parse_month(month) if month else None, staff_id=staff_id)
    rows, count = appeals.list_appeals(session, actor=actor, f=f, offset=offset, limit=limit)
    return Page[AppealPublic](data=appeals.to_public(session, rows), count=count)


@router.post("/appeals", response_model=AppealPublic, status_code=201, summary="Appeal an entry or a month's score")
def file_appeal(request: Request, session: SessionDep, actor: Person,
                body: Annotated[AppealCreate, Body()]) -> AppealPublic:
    """The caller's own appeal of one ledger entry (`ledger_entry_id`) or of a whole month (`month`), within
    SUPERVISION_SCORING_APPEAL_WORKDAYS working days of the month's publication (refused after, naming the
    deadline); the same entry is appealed once."""
    appeal = appeals.file_appeal(session, actor=actor, body=body, ip=client_ip(request))
    return appeals.to_public(session, [appeal])[0]


@router.get("/appeals/{appeal_id}", response_model=AppealPublic, summary="One score appeal")
def get_appeal(session: SessionDep, actor: Person, appeal_id: int) -> AppealPublic:
    return appeals.to_public(session, [appeals.get_appeal(session, actor=actor, appeal_id=appeal_id)])[0]


@router.post("/appeals/{appeal_id}/decision", response_model=AppealPublic, summary="Decide a score appeal")
def decide_appeal(request: Request, session: SessionDep, actor: Reviewer, appeal_id: int,
                  body: Annotated[AppealDecision, Body()]) -> AppealPublic:
    """Grant (the entry is reversed, the month's score recomputed as a new revision; a whole-score appeal names
    the entries to reverse in `entry_ids`) or refuse, with a reason the person sees."""
    appeal = appeals.decide_appeal(session, actor=actor, appeal_id=appeal_id, body=body, ip=client_ip(request))
    return appeals.to_public(session, [appeal])[0]
