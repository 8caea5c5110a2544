"""Attendance and the scoring rules as JSON under /api/v1: punches (push, import, list), unknown staff numbers,
computed days, corrections by a manager, 补卡 requests, on-demand computation, and the rule sets."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Body, File, Query, Request, UploadFile
from pydantic import BaseModel

from supervision import attendance, scoring
from supervision.access import Permission, Principal
from supervision.attendance import (
    CorrectionAsk,
    CorrectionDecision,
    CorrectionRow,
    CorrectionState,
    DayCorrection,
    DayRow,
    DayStatus,
    PunchBatch,
    PunchReceipt,
    PunchRow,
    UnknownRow,
)
from supervision.errors import InvalidInput
from supervision.scoring import RuleSetCreate, RuleSetPublic
from web.deps import SessionDep, client_ip, needs, request_locale
from web.routes.api_org import Page

router = APIRouter(prefix="/api/v1", tags=["attendance"])

Person = Annotated[Principal, needs(Permission.OWN_RECORDS)]
Reader = Annotated[Principal, needs(Permission.ATTENDANCE_READ)]
Manager = Annotated[Principal, needs(Permission.ATTENDANCE_READ, Permission.ATTENDANCE_MANAGE)]
Pusher = Annotated[Principal, needs(Permission.ATTENDANCE_PUSH)]
RulesReader = Annotated[Principal, needs(Permission.SCORING_READ)]
RulesWriter = Annotated[Principal, needs(Permission.SCORING_READ, Permission.SCORING_WRITE)]
Offset = Annotated[int, Query(ge=0)]
Limit = Annotated[int, Query(ge=1, le=500)]
MAX_UPLOAD = 20 * 1024 * 1024
IMPORT_COLUMNS = "CSV or .xlsx: 工号, 打卡时间, 设备[, 验证方式, 记录号]"


@router.post("/attendance/punches", response_model=PunchReceipt, summary="Push punches (terminal gateway)")
def push(request: Request, session: SessionDep, actor: Pusher, body: Annotated[PunchBatch, Body()]) -> PunchReceipt:
    """A batch of up to 500 punches (token scope attendance:push). Idempotent by device + record id.

    The answer counts what was saved and what was already there, names each punch of an unknown staff number
    (kept apart, listed at /api/v1/attendance/unknown-punches) and each punch refused (in the future or more
    than a year back) by its position in the batch.
    """
    return attendance.push_punches(session, actor=actor, batch=body, ip=client_ip(request))


@router.get("/attendance/punches", response_model=Page[PunchRow], summary="List punches")
def list_punches(session: SessionDep, actor: Person, start: date, end: date, staff_id: int | None = None,
                 site_id: int | None = None, offset: Offset = 0, limit: Limit = 100) -> Page[PunchRow]:
    """Punches between two attendance days in the jurisdiction (window staff: their own), newest first."""
    rows, count = attendance.list_punches(session, actor=actor, start=start, end=end, staff_id=staff_id,
                                          site_id=site_id, offset=offset, limit=limit)
    return Page[PunchRow](data=rows, count=count)


@router.post("/attendance/imports", response_model=PunchReceipt, summary="Import a terminal export")
async def import_file(request: Request, session: SessionDep, actor: Manager,
                      file: Annotated[UploadFile, File(description=IMPORT_COLUMNS)]) -> PunchReceipt:
    """A terminal's export: every problem by row, nothing saved while any row is wrong."""
    data = await file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise InvalidInput("file", "error.upload_too_large", max=MAX_UPLOAD // (1024 * 1024))
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(attendance.import_punches, session, actor=actor, data=data, ip=client_ip(request))


@router.get("/attendance/unknown-punches", response_model=Page[UnknownRow], summary="Punches of unknown staff numbers")
def unknown(session: SessionDep, actor: Reader, offset: Offset = 0, limit: Limit = 100) -> Page[UnknownRow]:
    """Punches whose staff number matched nobody in the sender's jurisdiction (kept, never dropped)."""
    rows, count = attendance.list_unknown(session, actor=actor, offset=offset, limit=limit)
    return Page[UnknownRow](data=rows, count=count)


@router.get("/attendance/days", response_model=Page[DayRow], summary="List computed days")
def list_days(session: SessionDep, actor: Person, start: date, end: date, staff_id: int | None = None,
              site_id: int | None = None, status: DayStatus | None = None, offset: Offset = 0,
              limit: Limit = 100) -> Page[DayRow]:
    """Each person's computed days (window staff: their own)."""
    rows, count = attendance.list_days(session, actor=actor, start=start, end=end, staff_id=staff_id,
                                       site_id=site_id, status=status, offset=offset, limit=limit)
    return Page[DayRow](data=rows, count=count)


@router.get("/attendance/days/{day_id}", response_model=DayRow, summary="One computed day")
def get_day(session: SessionDep, actor: Person, day_id: int) -> DayRow:
    return attendance.day_detail(session, actor=actor, day_id=day_id)


@router.post("/attendance/days/{day_id}/correction", response_model=DayRow, summary="Correct a day")
def correct(request: Request, session: SessionDep, actor: Manager, day_id: int,
            body: Annotated[DayCorrection, Body()]) -> DayRow:
    """A manager sets a day's result with a reason (audited); its ledger entries are reversed and rewritten."""
    attendance.correct_day(session, actor=actor, day_id=day_id, correction=body, ip=client_ip(request))
    return attendance.day_detail(session, actor=actor, day_id=day_id)


class ComputeIn(BaseModel):
    start: date
    end: date
    site_id: int | None = None


class ComputeOut(BaseModel):
    days: int
    changed: int
    ledger_entries: int
    reversals: int


@router.post("/attendance/computations", response_model=ComputeOut, summary="Compute days now")
def compute(request: Request, session: SessionDep, actor: Manager, body: Annotated[ComputeIn, Body()]) -> ComputeOut:
    """Compute the days of a range (at most 93 days, up to yesterday) for the jurisdiction or a site in it."""
    summary = attendance.compute_days(session, actor=actor, start=body.start, end=body.end, site_id=body.site_id,
                                      ip=client_ip(request))
    return ComputeOut(**asdict(summary))


@router.get("/attendance/corrections", response_model=Page[CorrectionRow], summary="List 补卡 requests")
def corrections(session: SessionDep, actor: Person, state: CorrectionState | None = None, offset: Offset = 0,
                limit: Limit = 100) -> Page[CorrectionRow]:
    rows, count = attendance.list_corrections(session, actor=actor, state=state, offset=offset, limit=limit)
    return Page[CorrectionRow](data=rows, count=count)


def _correction(session: SessionDep, actor: Principal, correction_id: int) -> CorrectionRow:
    return attendance.correction_row(session, actor=actor, request_id=correction_id)


@router.post("/attendance/corrections", response_model=CorrectionRow, status_code=201, summary="Ask for a 补卡")
def ask(request: Request, session: SessionDep, actor: Person, body: Annotated[CorrectionAsk, Body()]) -> CorrectionRow:
    """The caller asks for a punch the terminal missed (their own, within 31 days)."""
    found = attendance.ask_correction(session, actor=actor, ask=body, ip=client_ip(request))
    return _correction(session, actor, found.id or 0)


@router.post("/attendance/corrections/{correction_id}/decision", response_model=CorrectionRow,
             summary="Approve or reject a 补卡")
def decide(request: Request, session: SessionDep, actor: Manager, correction_id: int,
           body: Annotated[CorrectionDecision, Body()]) -> CorrectionRow:
    """Approval adds the punch and computes the day again (ledger reversed and rewritten); rejection needs a note."""
    attendance.decide_correction(session, actor=actor, request_id=correction_id, decision=body, ip=client_ip(request))
    return _correction(session, actor, correction_id)


@router.get("/scoring/rule-sets", response_model=list[RuleSetPublic], tags=["scoring"], summary="Scoring rule sets")
def rule_sets(request: Request, session: SessionDep, actor: RulesReader) -> list[RuleSetPublic]:
    """Every version of the scoring rules, newest first, with its items (key, points, cap)."""
    return scoring.rule_sets(session, actor=actor, locale=request_locale(request))


@router.post("/scoring/rule-sets", response_model=RuleSetPublic, status_code=201, tags=["scoring"],
             summary="Write a new version of the rules")
def new_rule_set(request: Request, session: SessionDep, actor: RulesWriter,
                 body: Annotated[RuleSetCreate, Body()]) -> RuleSetPublic:
    """A new version in force from the first of a month; items not named keep the points in force before."""
    created = scoring.create_rule_set(session, actor=actor, body=body, ip=client_ip(request))
    return scoring.rule_set(session, actor=actor, version=created.version, locale=request_locale(request))
