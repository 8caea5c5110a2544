"""The integrity risk register as JSON under /api/v1: risk points, countermeasures, reviews, checks,
the heat table, a post's page and reminders. Lists come as {"data": [...], "count": N}."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import Response

import risk
from risk import (
    CheckCreate,
    CheckRow,
    CountermeasureCreate,
    CountermeasureDetail,
    CountermeasureFilter,
    CountermeasureRow,
    CountermeasureUpdate,
    HeatTable,
    IncidentLinkChange,
    MeasureFlag,
    MeasureType,
    PointFlag,
    PostRiskPage,
    ReminderRow,
    ReviewCreate,
    ReviewRow,
    RiskCategory,
    RiskPointCreate,
    RiskPointDetail,
    RiskPointFilter,
    RiskPointRow,
    RiskPointUpdate,
)
from supervision.access import Permission, Principal
from web.deps import SessionDep, client_ip, needs
from web.routes.api_org import Page

router = APIRouter(prefix="/api/v1", tags=["risk register"])

# Reads are scoped by the services: the jurisdiction with risk:read, the caller's own post otherwise.
Person = Annotated[Principal, needs(Permission.OWN_RECORDS)]
Reader = Annotated[Principal, needs(Permission.RISK_READ)]
Writer = Annotated[Principal, needs(Permission.RISK_READ, Permission.RISK_WRITE)]

Offset = Annotated[int, Query(ge=0)]
Limit = Annotated[int, Query(ge=1, le=500)]


def _point_row(session: SessionDep, actor: Principal, point_id: int) -> RiskPointRow:
    return risk.risk_point_detail(session, actor, point_id).point


def _measure_row(session: SessionDep, actor: Principal, measure_id: int) -> CountermeasureRow:
    return risk.countermeasure_detail(session, actor, measure_id).measure


# --- risk points ------------------------------------------------------------------------------------


@router.get("/risk-points", response_model=Page[RiskPointRow], summary="List risk points")
def list_points(
    session: SessionDep, actor: Person,
    site_id: Annotated[int | None, Query(description="The site and everything under it")] = None,
    department_id: int | None = None,
    post_id: int | None = None,
    category: RiskCategory | None = None,
    level: Annotated[int | None, Query(ge=1, le=3, description="1 = 一级 (high) … 3 = 三级 (low)")] = None,
    flag: PointFlag | None = None,
    q: Annotated[str | None, Query(description="Search code, name, manifestation and power")] = None,
    active: Annotated[bool | None, Query(description="Active points only (default), retired only, or all")] = True,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[RiskPointRow]:
    """The register the caller may read, filtered, ordered by department, post and code."""
    filters = RiskPointFilter(site_id=site_id, department_id=department_id, post_id=post_id, category=category,
                              level=level, flag=flag, q=q, active=active)
    rows, count = risk.list_risk_points(session, actor, filters=filters, offset=offset, limit=limit)
    return Page[RiskPointRow](data=rows, count=count)


@router.get("/risk-points/{point_id}", response_model=RiskPointDetail, summary="Get a risk point")
def get_point(session: SessionDep, actor: Person, point_id: int) -> RiskPointDetail:
    """A point with its measures, checks, reviews and the incidents behind its re-grading signal."""
    return risk.risk_point_detail(session, actor, point_id)


@router.post("/risk-points", response_model=RiskPointRow, status_code=201, summary="Create a risk point")
def create_point(request: Request, session: SessionDep, actor: Writer,
                 body: Annotated[RiskPointCreate, Body()]) -> RiskPointRow:
    """Record a risk point of a post; every problem is reported with its field."""
    point = risk.create_risk_point(session, actor, body.model_dump(), ip=client_ip(request))
    return _point_row(session, actor, point.id or 0)


@router.patch("/risk-points/{point_id}", response_model=RiskPointRow, summary="Update a risk point")
def update_point(request: Request, session: SessionDep, actor: Writer, point_id: int,
                 body: Annotated[RiskPointUpdate, Body()]) -> RiskPointRow:
    """Change the given fields; the level changes only through a review."""
    risk.update_risk_point(session, actor, point_id, body.model_dump(exclude_unset=True), ip=client_ip(request))
    return _point_row(session, actor, point_id)


@router.delete("/risk-points/{point_id}", status_code=204, response_class=Response, summary="Delete a risk point")
def delete_point(request: Request, session: SessionDep, actor: Writer, point_id: int) -> Response:
    """Delete a point entered by mistake (409 once it has reviews: retire it by a review instead)."""
    risk.delete_risk_point(session, actor, point_id, ip=client_ip(request))
    return Response(status_code=204)


@router.get("/risk-points/{point_id}/reviews", response_model=Page[ReviewRow], summary="List a point's reviews")
def list_point_reviews(session: SessionDep, actor: Person, point_id: int) -> Page[ReviewRow]:
    """The point's review history, newest first."""
    rows = risk.risk_point_detail(session, actor, point_id).reviews
    return Page[ReviewRow](data=rows, count=len(rows))


@router.post("/risk-points/{point_id}/reviews", response_model=ReviewRow, status_code=201,
             summary="Record a review")
def create_review(request: Request, session: SessionDep, actor: Writer, point_id: int,
                  body: Annotated[ReviewCreate, Body()]) -> ReviewRow:
    """Record a review; outcome "regraded" with a new level and basis changes the point's level."""
    review = risk.record_review(session, actor, point_id, body.model_dump(exclude_unset=True),
                                ip=client_ip(request))
    rows = risk.risk_point_detail(session, actor, point_id).reviews
    return next(r for r in rows if r.id == review.id)


@router.post("/risk-points/{point_id}/incident-links", response_model=RiskPointDetail,
             summary="Link an incident to a point, or take it off")
def change_incident_link(request: Request, session: SessionDep, actor: Writer, point_id: int,
                         body: Annotated[IncidentLinkChange, Body()]) -> RiskPointDetail:
    """An officer's re-link (audited): `linked` true links an incident of the point's post to it, false takes
    the link off for good; a reason is required. Returns the point with the incidents now counted."""
    risk.change_link(session, actor, point_id, body, ip=client_ip(request))
    return risk.risk_point_detail(session, actor, point_id)


# --- countermeasures --------------------------------------------------------------------------------


@router.get("/countermeasures", response_model=Page[CountermeasureRow], summary="List countermeasures")
def list_measures(
    session: SessionDep, actor: Person,
    site_id: int | None = None,
    department_id: int | None = None,
    post_id: int | None = None,
    point_id: int | None = None,
    measure_type: MeasureType | None = None,
    owner_id: int | None = None,
    flag: MeasureFlag | None = None,
    q: Annotated[str | None, Query(description="Search code and content")] = None,
    active: bool | None = True,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[CountermeasureRow]:
    """The measures the caller may read, filtered."""
    filters = CountermeasureFilter(site_id=site_id, department_id=department_id, post_id=post_id,
                                   point_id=point_id, measure_type=measure_type, owner_id=owner_id, flag=flag,
                                   q=q, active=active)
    rows, count = risk.list_countermeasures(session, actor, filters=filters, offset=offset, limit=limit)
    return Page[CountermeasureRow](data=rows, count=count)


@router.get("/countermeasures/{measure_id}", response_model=CountermeasureDetail, summary="Get a countermeasure")
def get_measure(session: SessionDep, actor: Person, measure_id: int) -> CountermeasureDetail:
    """A measure with the points it covers and its checks."""
    return risk.countermeasure_detail(session, actor, measure_id)


@router.post("/countermeasures", response_model=CountermeasureRow, status_code=201,
             summary="Create a countermeasure")
def create_measure(request: Request, session: SessionDep, actor: Writer,
                   body: Annotated[CountermeasureCreate, Body()]) -> CountermeasureRow:
    """Record a countermeasure covering one or more points."""
    measure = risk.create_countermeasure(session, actor, body.model_dump(), ip=client_ip(request))
    return _measure_row(session, actor, measure.id or 0)


@router.patch("/countermeasures/{measure_id}", response_model=CountermeasureRow,
              summary="Update a countermeasure")
def update_measure(request: Request, session: SessionDep, actor: Writer, measure_id: int,
                   body: Annotated[CountermeasureUpdate, Body()]) -> CountermeasureRow:
    """Change the given fields; a new frequency moves the next check."""
    risk.update_countermeasure(session, actor, measure_id, body.model_dump(exclude_unset=True),
                               ip=client_ip(request))
    return _measure_row(session, actor, measure_id)


@router.get("/countermeasures/{measure_id}/checks", response_model=Page[CheckRow], summary="List checks")
def list_measure_checks(session: SessionDep, actor: Person, measure_id: int) -> Page[CheckRow]:
    """A measure's checks, newest first (evidence at /risk/checks/{id}/evidence, audited)."""
    rows = risk.countermeasure_detail(session, actor, measure_id).checks
    return Page[CheckRow](data=rows, count=len(rows))


@router.post("/countermeasures/{measure_id}/checks", response_model=CheckRow, status_code=201,
             summary="Record a check")
def create_check(request: Request, session: SessionDep, actor: Writer, measure_id: int,
                 body: Annotated[CheckCreate, Body()]) -> CheckRow:
    """Record a check without evidence (the page takes an evidence upload)."""
    check = risk.record_check(session, actor, measure_id, body.model_dump(), ip=client_ip(request))
    rows = risk.countermeasure_detail(session, actor, measure_id).checks
    return next(r for r in rows if r.id == check.id)


# --- views ------------------------------------------------------------------------------------------


@router.get("/risk-heat", response_model=HeatTable, summary="The heat table")
def heat(session: SessionDep, actor: Reader, site_id: int | None = None) -> HeatTable:
    """Department × category: the highest level and the number of active points of each cell."""
    return risk.heat_table(session, actor, site_id=site_id)


@router.get("/risk-posts/{post_id}", response_model=PostRiskPage, summary="A post's risks")
def post_risks(session: SessionDep, actor: Person, post_id: int) -> PostRiskPage:
    """A post's points, measures, checks, reviews, incidents and re-grading signal."""
    return risk.post_risk_page(session, actor, post_id)


@router.get("/risk-reminders", response_model=Page[ReminderRow], summary="Open reminders")
def reminders(
    session: SessionDep, actor: Person,
    mine: Annotated[bool, Query(description="Only those addressed to me")] = False,
    offset: Offset = 0, limit: Limit = 50,
) -> Page[ReminderRow]:
    """Reviews and checks falling due: the jurisdiction's for officers, one's own otherwise."""
    rows, count = risk.list_reminders(session, actor, mine=mine, offset=offset, limit=limit)
    return Page[ReminderRow](data=rows, count=count)

