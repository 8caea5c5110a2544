"""Scoring reports (issue 12 §5): the monthly bulletin as PDF and Excel (page and API), and 12-month trends.

Everything is read through the scoring engine, which checks the role and the jurisdiction; downloads are audited.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from sqlmodel import Session
from starlette.responses import Response

from supervision import org
from supervision.access import Permission, Principal
from supervision.errors import InvalidInput
from supervision.i18n import translate
from supervision.org import OrgKind
from supervision.scoring import month_text, parse_month
from supervision.scoring.reports import FORMATS, bulletin_file, trend_of
from web.charts import ChartPoint, line_chart
from web.deps import SessionDep, SettingsDep, client_ip, needs, request_locale
from web.templating import render

router = APIRouter()

Reader = Annotated[Principal, needs(Permission.SCORING_READ)]
Person = Annotated[Principal, needs(Permission.OWN_RECORDS)]

TREND_KINDS: dict[str, OrgKind] = {"staff": OrgKind.STAFF, "window": OrgKind.WINDOW}
TREND_HEADINGS = {"staff": "ui.trend_title", "window": "ui.window_trend"}


def _download(session: Session, request: Request, actor: Principal, month: str, fmt: str,
              site_id: int | None) -> Response:
    first = parse_month(month)
    found = bulletin_file(session, actor=actor, month=first, fmt=fmt, locale=request_locale(request),
                          site_id=site_id, ip=client_ip(request))
    return Response(found.body, media_type=found.media_type,
                    headers={"Content-Disposition": f'attachment; filename="{found.filename}"'})


@router.get("/scoring/{month}/bulletin.pdf", include_in_schema=False)
def bulletin_pdf_page(request: Request, session: SessionDep, actor: Reader, month: str,
                      site_id: int | None = None) -> Response:
    """The month's bulletin (月度考评通报) as an A4 PDF in the reader's language."""
    return _download(session, request, actor, month, "pdf", site_id)


@router.get("/scoring/{month}/bulletin.xlsx", include_in_schema=False)
def bulletin_xlsx_page(request: Request, session: SessionDep, actor: Reader, month: str,
                       site_id: int | None = None) -> Response:
    """The month's bulletin as an Excel workbook: a sheet per subject kind and one of the items."""
    return _download(session, request, actor, month, "xlsx", site_id)


_FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The bulletin file", "content": {t: {} for t in FORMATS.values()}},
}


@router.get("/api/v1/monthly-scores/bulletin", tags=["scoring"], response_class=Response, responses=_FILE_RESPONSES)
def bulletin_api(request: Request, session: SessionDep, actor: Reader,
                 month: Annotated[str, Query(description="YYYY-MM", max_length=7)],
                 format: Annotated[Literal["pdf", "xlsx"], Query(description="pdf or xlsx")] = "pdf",
                 site_id: Annotated[int | None, Query(description="A site of your jurisdiction")] = None) -> Response:
    """The month's bulletin of your jurisdiction (or a site in it) as PDF or Excel, in the caller's language."""
    return _download(session, request, actor, month, format, site_id)


# --- 12-month trends ------------------------------------------------------------------------------


def last_month(today: date) -> date:
    """The month a trend ends with: the last one that can be closed (this month is still being scored)."""
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def trend_context(session: Session, actor: Principal, kind: str, subject_id: int, name: str, *, until: date,
                  locale: str, heading: str | None = None) -> dict[str, Any]:
    """What reports/_trend.html shows: the chart and the numbers of a subject's last 12 closed months."""
    series = trend_of(session, actor=actor, subject_kind=kind, subject_id=subject_id, until=until)
    points = [ChartPoint(month_text(m), v) for m, v in series]
    first, last = points[0].label, points[-1].label
    chart = line_chart(points, title=f"{name} · {translate('ui.trend_title', locale)}",
                       desc=translate("ui.trend_desc", locale, name=name, first=first, last=last),
                       none_text=translate("ui.trend_none", locale), testid=f"trend-chart-{kind}")
    readable = actor.can(Permission.SCORING_READ) or (kind == "staff" and actor.staff_id == subject_id)
    rows = [(p.label, p.value, f"/scoring/{p.label}/{kind}/{subject_id}" if readable and p.value is not None else "")
            for p in points]
    return {"kind": kind, "heading": heading or TREND_HEADINGS[kind], "chart": chart, "rows": rows,
            "any": any(p.value is not None for p in points)}


def org_trend(session: Session, actor: Principal, kind: OrgKind, entity: Any, *, until: date,
              locale: str) -> dict[str, Any] | None:
    """The trend block of a person's or a window's org page, for readers of scores (None elsewhere)."""
    names = {v: k for k, v in TREND_KINDS.items()}
    if entity is None or kind not in names or not actor.can(Permission.SCORING_READ):
        return None
    return trend_context(session, actor, names[kind], entity.id, entity.name, until=until, locale=locale)


@router.get("/trends/{kind}/{subject_id}", include_in_schema=False)
def trend_page(request: Request, session: SessionDep, settings: SettingsDep, actor: Person, kind: str,
               subject_id: int) -> Response:
    """A person's or a window's final score of each of the last 12 months, as a chart and a table."""
    if kind not in TREND_KINDS:
        raise InvalidInput("kind", "error.scoring_subject_kind", value=kind[:20])
    if actor.can(Permission.SCORING_READ):
        entity = org.get_entity(session, actor, TREND_KINDS[kind], subject_id)
        name = entity.name
    else:
        # Window staff: their own trend only (the engine refuses anyone else's).
        staff, _, _ = org.own_profile(session, actor)
        name = staff.name if staff is not None and kind == "staff" and staff.id == subject_id else ""
    trend = trend_context(session, actor, kind, subject_id, name, until=last_month(datetime.now(settings.tz).date()),
                          locale=request_locale(request))
    return render(request, "reports/trend.html", {"trend": trend, "name": name})
