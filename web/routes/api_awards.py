"""Quarterly awards and the yearly appraisal as JSON under /api/v1: the quarter's candidates and ranking, the
duty leaders' ballots, the citizens' votes import, the manager's selection, the certificate; the year's
appraisal, its confirmation and its Excel export.

`rating_counts` is how the awards read the rating pads (complaints): the core package may not import a domain,
so the web layer hands it in.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Body, File, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel

from complaints import satisfaction_counts as rating_counts
from supervision import awards
from supervision.access import Permission, Principal
from supervision.awards import BallotIn, Candidate, ConfirmIn, Grade, QuarterRanking, SelectionIn, YearView
from supervision.errors import InvalidInput
from supervision.i18n import translate
from supervision.settings import Settings
from web.deps import SessionDep, SettingsDep, client_ip, needs, request_locale
from web.routes.home import local_today

router = APIRouter(prefix="/api/v1", tags=["awards"])

Person = Annotated[Principal, needs(Permission.OWN_RECORDS)]
Reader = Annotated[Principal, needs(Permission.SCORING_READ)]
Manager = Annotated[Principal, needs(Permission.SCORING_READ, Permission.SCORING_MANAGE)]
MAX_UPLOAD = 5 * 1024 * 1024


class PartsOut(BaseModel):
    window: float | None
    staff: float | None
    leader: float | None
    citizen: float | None


class CandidateOut(BaseModel):
    subject_kind: str
    subject_id: int
    name: str
    site_id: int
    site_name: str
    eligible: bool
    not_eligible_because: list[str]
    parts: PartsOut
    score: float | None
    rank: int | None
    leader_votes: int
    citizen_votes: int | None
    selection_id: int | None


class RankingOut(BaseModel):
    quarter: str
    start: date
    end: date
    site_id: int
    site_name: str
    ended: bool
    weights: dict[str, float]
    ballots: int
    citizen_source: str
    windows: list[CandidateOut]
    staff: list[CandidateOut]


def bar_texts(candidate: Candidate, locale: str) -> list[str]:
    return [translate(f"awards.bar.{b.condition}", locale, day=b.day.isoformat()) for b in candidate.bars]


def _candidate(c: Candidate, locale: str) -> CandidateOut:
    return CandidateOut(subject_kind=c.subject_kind, subject_id=c.subject_id, name=c.name, site_id=c.site_id,
                        site_name=c.site_name, eligible=c.eligible, not_eligible_because=bar_texts(c, locale),
                        parts=PartsOut(**c.parts.__dict__), score=c.score, rank=c.rank, leader_votes=c.leader_votes,
                        citizen_votes=c.citizen_votes, selection_id=c.selection_id)


def ranking_out(board: QuarterRanking, locale: str) -> RankingOut:
    return RankingOut(quarter=board.quarter, start=board.start, end=board.end, site_id=board.site_id,
                      site_name=board.site_name, ended=board.ended, weights=dict(board.weights.__dict__),
                      ballots=board.ballots, citizen_source=board.citizen_source,
                      windows=[_candidate(c, locale) for c in board.windows],
                      staff=[_candidate(c, locale) for c in board.staff])


class SelectionOut(BaseModel):
    id: int
    quarter: str
    subject_kind: str
    subject_id: int
    site_id: int
    name: str
    title: str
    score: float
    rank: int
    certificate_no: str


def selection_out(row: awards.AwardSelection, locale: str) -> SelectionOut:
    return SelectionOut(id=row.id or 0, quarter=row.quarter, subject_kind=row.subject_kind,
                        subject_id=row.subject_id, site_id=row.site_id, name=row.name,
                        title=translate(f"awards.title.{row.subject_kind}", locale), score=row.score, rank=row.rank,
                        certificate_no=row.certificate_no)


class BallotOut(BaseModel):
    quarter: str
    leader_id: int
    ticks: int


class ImportOut(BaseModel):
    quarter: str
    saved: int


@router.get("/awards", response_model=RankingOut, summary="A quarter's candidates and ranking")
def get_ranking(request: Request, session: SessionDep, settings: SettingsDep, actor: Reader,
                quarter: Annotated[str | None, Query(max_length=7, examples=["2026Q3"])] = None,
                site_id: int | None = None) -> RankingOut:
    """Every window (文明服务窗口) and person (服务标兵) of the jurisdiction for the quarter (the last ended one when
    not given): eligibility with the reasons, the four parts (each 0–100), the weighted score and the rank."""
    today = local_today(settings)
    if quarter is None:
        quarter = awards.quarter_key(*awards.last_complete_quarter(today))
    board = awards.ranking(session, actor=actor, quarter=quarter, site_id=site_id, today=today,
                           rating_counts=rating_counts)
    return ranking_out(board, request_locale(request))


@router.get("/awards/selections", response_model=list[SelectionOut], summary="Selected awards")
def list_selections(request: Request, session: SessionDep, actor: Person,
                    quarter: Annotated[str | None, Query(max_length=7)] = None,
                    year: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> list[SelectionOut]:
    """The awards selected in the jurisdiction (window staff: their own and their window's)."""
    locale = request_locale(request)
    return [selection_out(r, locale) for r in awards.selections(session, actor=actor, quarter=quarter, year=year)]


@router.post("/awards/votes", response_model=BallotOut, summary="A duty leader's ballot")
def post_votes(request: Request, session: SessionDep, actor: Person, body: Annotated[BallotIn, Body()]) -> BallotOut:
    """The candidates a duty leader of the quarter supports, entered by a manager (scoring:manage) for them or by
    the leader's own account; replaces the leader's earlier ballot."""
    awards.cast_ballot(session, actor=actor, body=body, ip=client_ip(request))
    return BallotOut(quarter=awards.quarter_key(*awards.parse_quarter(body.quarter)), leader_id=body.leader_id,
                     ticks=len(body.ticks))


@router.post("/awards/citizen-votes", response_model=ImportOut, summary="Import citizens' votes")
async def post_citizen_votes(request: Request, session: SessionDep, actor: Manager,
                             quarter: Annotated[str, Query(max_length=7, examples=["2026Q3"])],
                             file: Annotated[UploadFile, File(description="CSV or .xlsx: 类型, 编号, 票数")]
                             ) -> ImportOut:
    """Citizens' votes from a sheet: 类型 (窗口/个人), 编号 (the window's or person's code), 票数. Every wrong row
    is named; nothing is saved while any is wrong."""
    data = await file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise InvalidInput("file", "error.upload_too_large", max=MAX_UPLOAD // (1024 * 1024))
    from starlette.concurrency import run_in_threadpool

    result = await run_in_threadpool(awards.import_citizen_votes, session, actor=actor, quarter=quarter, data=data,
                                     ip=client_ip(request))
    return ImportOut(quarter=result.quarter, saved=result.saved)


@router.post("/awards/selection", response_model=SelectionOut | None, summary="Select (or withdraw) an award")
def post_selection(request: Request, session: SessionDep, settings: SettingsDep, actor: Manager,
                   body: Annotated[SelectionIn, Body()]) -> SelectionOut | None:
    """The manager selects an eligible window or person of an ended quarter (`selected: false` withdraws); audited."""
    row = awards.select_award(session, actor=actor, body=body, today=local_today(settings),
                              rating_counts=rating_counts, ip=client_ip(request))
    return selection_out(row, request_locale(request)) if row is not None else None


@router.get("/awards/{selection_id}/certificate", summary="The award's certificate (PDF)",
            response_class=Response, responses={200: {"content": {"application/pdf": {}}}})
def get_certificate(session: SessionDep, actor: Person, selection_id: int) -> Response:
    pdf = awards.certificate_pdf(session, actor=actor, selection_id=selection_id)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="certificate-{selection_id}.pdf"'})


class FiguresOut(BaseModel):
    average: float | None
    months: int
    awards: int
    days_late: int
    days_absent: float
    leave_days: float


class AppraisalOut(BaseModel):
    staff_id: int
    name: str
    site_name: str
    window_name: str
    figures: FiguresOut
    suggested: Grade
    suggested_label: str
    grade: Grade | None
    grade_label: str
    reason: str
    confirmed_at: str


class YearOut(BaseModel):
    year: int
    site_id: int
    site_name: str
    excellent_quota: int
    rows: list[AppraisalOut]


def year_out(view: YearView, locale: str) -> YearOut:
    rows = []
    for r in view.rows:
        f = r.figures
        rows.append(AppraisalOut(
            staff_id=r.staff_id, name=r.name, site_name=r.site_name, window_name=r.window_name,
            figures=FiguresOut(average=f.average, months=f.months, awards=f.awards, days_late=f.days_late,
                               days_absent=f.days_absent, leave_days=f.leave_days),
            suggested=r.suggested, suggested_label=translate(f"grade.{r.suggested.value}", locale), grade=r.grade,
            grade_label=translate(f"grade.{r.grade.value}", locale) if r.grade else "", reason=r.reason,
            confirmed_at=r.confirmed_at))
    return YearOut(year=view.year, site_id=view.site_id, site_name=view.site_name, excellent_quota=view.quota,
                   rows=rows)


def default_year(year: int | None, settings: Settings) -> int:
    """The year asked for, else last year (the one appraised)."""
    return year if year is not None else local_today(settings).year - 1


@router.get("/appraisals", response_model=YearOut, summary="The year's appraisal")
def get_year(request: Request, session: SessionDep, settings: SettingsDep, actor: Person,
             year: Annotated[int | None, Query(ge=2000, le=2100)] = None, site_id: int | None = None) -> YearOut:
    """Per person of the jurisdiction (window staff: themself) the year's figures, the suggested grade and the
    confirmed one; last year when not given."""
    view = awards.year_view(session, actor=actor, year=default_year(year, settings), site_id=site_id)
    return year_out(view, request_locale(request))


class ConfirmOut(BaseModel):
    year: int
    staff_id: int
    suggested: Grade
    grade: Grade
    reason: str


@router.post("/appraisals/confirm", response_model=ConfirmOut, summary="Confirm a person's grade")
def post_confirm(request: Request, session: SessionDep, actor: Manager, body: Annotated[ConfirmIn, Body()],
                 site_id: int | None = None) -> ConfirmOut:
    """Confirm the suggested grade, or another one with a reason; 优秀 stays within the quota; audited."""
    row = awards.confirm(session, actor=actor, body=body, site_id=site_id, ip=client_ip(request))
    return ConfirmOut(year=row.year, staff_id=row.staff_id, suggested=Grade(row.suggested),
                      grade=Grade(row.grade or row.suggested), reason=row.reason)


@router.get("/appraisals/export", summary="The year's appraisal as Excel", response_class=Response,
            responses={200: {"content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}})
def get_export(request: Request, session: SessionDep, settings: SettingsDep, actor: Reader,
               year: Annotated[int | None, Query(ge=2000, le=2100)] = None, site_id: int | None = None) -> Response:
    view = awards.year_view(session, actor=actor, year=default_year(year, settings), site_id=site_id)
    data = awards.export_workbook(view, request_locale(request))
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="appraisal-{view.year}.xlsx"'})
