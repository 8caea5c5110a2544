"""The manager's selection of the quarter's awards, and the certificate of each selected window or person."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from supervision import audit
from supervision.access import Permission, Principal
from supervision.awards.models import AwardSelection, SubjectKind
from supervision.awards.quarters import parse_quarter, quarter_key
from supervision.awards.ranking import RatingCounts, ranking
from supervision.errors import Conflict, NotFound
from supervision.i18n import translate
from supervision.models import Site, Staff, Window
from supervision.pdffonts import cjk_font
from supervision.settings import get_settings


class SelectionIn(BaseModel):
    quarter: str = Field(min_length=6, max_length=7, examples=["2026Q3"])
    subject_kind: SubjectKind
    subject_id: int = Field(ge=1)
    selected: bool = True  # False withdraws an earlier selection


def select_award(session: Session, *, actor: Principal, body: SelectionIn, today: date,
                 rating_counts: RatingCounts | None = None, ip: str = "") -> AwardSelection | None:
    """Select (or withdraw) an eligible candidate of an ended quarter in the manager's jurisdiction; audited."""
    actor.require(Permission.SCORING_MANAGE)
    year, number = parse_quarter(body.quarter)
    key = quarter_key(year, number)
    found = session.exec(select(AwardSelection).where(
        col(AwardSelection.quarter) == key, col(AwardSelection.subject_kind) == body.subject_kind.value,
        col(AwardSelection.subject_id) == body.subject_id)).first()
    if not body.selected:
        if found is None:
            raise NotFound("error.not_found_kind", kind="kind.award_selection", id=body.subject_id)
        site = session.get(Site, found.site_id)
        if site is None or not actor.covers_path(site.path):
            raise NotFound("error.not_found_kind", kind="kind.award_selection", id=body.subject_id)
        session.delete(found)
        session.flush()
        audit.record(session, actor, "awards.withdraw", object_kind="award_selection", object_id=found.id,
                     site_id=found.site_id, summary=f"{key} {found.name}",
                     detail={"subject": f"{found.subject_kind}:{found.subject_id}"}, ip=ip)
        return None
    if found is not None:
        raise Conflict("error.awards_already_selected", name=found.name)
    board = ranking(session, actor=actor, quarter=key, today=today, rating_counts=rating_counts)
    if not board.ended:
        raise Conflict("error.awards_quarter_open", quarter=key)
    rows = board.windows if body.subject_kind is SubjectKind.WINDOW else board.staff
    candidate = next((r for r in rows if r.subject_id == body.subject_id), None)
    if candidate is None:
        raise NotFound("error.not_found_kind", kind=f"kind.{body.subject_kind.value}", id=body.subject_id)
    if not candidate.eligible:
        raise Conflict("error.awards_not_eligible", name=candidate.name)
    letter = "W" if body.subject_kind is SubjectKind.WINDOW else "S"
    chosen = AwardSelection(quarter=key, subject_kind=body.subject_kind.value, subject_id=body.subject_id,
                            site_id=candidate.site_id, name=candidate.name[:120], score=candidate.score or 0.0,
                            rank=candidate.rank or 0, certificate_no=f"{key}-{letter}{body.subject_id:06d}",
                            selected_by=actor.audit_name[:80])
    session.add(chosen)
    session.flush()
    audit.record(session, actor, "awards.select", object_kind="award_selection", object_id=chosen.id,
                 site_id=chosen.site_id, summary=f"{key} {chosen.name}",
                 detail={"subject": f"{chosen.subject_kind}:{chosen.subject_id}", "score": chosen.score,
                         "rank": chosen.rank}, ip=ip)
    return chosen


def _may_see(session: Session, actor: Principal, chosen: AwardSelection) -> bool:
    if actor.can(Permission.SCORING_READ):
        site = session.get(Site, chosen.site_id)
        return site is not None and actor.covers_path(site.path)
    if actor.staff_id is None:
        return False
    if chosen.subject_kind == SubjectKind.STAFF.value:
        return chosen.subject_id == actor.staff_id
    person = session.get(Staff, actor.staff_id)
    return person is not None and person.window_id == chosen.subject_id


def get_selection(session: Session, *, actor: Principal, selection_id: int) -> AwardSelection:
    """A selection the actor may see (their jurisdiction's; window staff: their own and their window's)."""
    chosen = session.get(AwardSelection, selection_id)
    if chosen is None or not _may_see(session, actor, chosen):
        raise NotFound("error.not_found_kind", kind="kind.award_selection", id=selection_id)
    return chosen


def selections(session: Session, *, actor: Principal, quarter: str | None = None,
               year: int | None = None) -> list[AwardSelection]:
    """The selections the actor may see, newest quarter first."""
    stmt = select(AwardSelection)
    if quarter is not None:
        y, n = parse_quarter(quarter)
        stmt = stmt.where(col(AwardSelection.quarter) == quarter_key(y, n))
    if year is not None:
        stmt = stmt.where(col(AwardSelection.quarter).startswith(f"{year}Q"))
    if actor.can(Permission.SCORING_READ):
        stmt = stmt.join(Site, col(Site.id) == AwardSelection.site_id).where(
            col(Site.path).startswith(actor.site_path, autoescape=True))
        rows = list(session.exec(stmt).all())
    elif actor.staff_id is not None:
        rows = [r for r in session.exec(stmt.where(col(AwardSelection.subject_kind).in_(["staff", "window"]))).all()
                if _may_see(session, actor, r)]
    else:
        rows = []
    return sorted(rows, key=lambda r: (r.quarter, r.subject_kind, -r.score, r.id or 0), reverse=False)[::-1]


def certificate_pdf(session: Session, *, actor: Principal, selection_id: int) -> bytes:
    """The award's certificate (荣誉证书) as a one-page A4 landscape PDF, in Chinese (the title in both languages)."""
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.pdfgen import canvas

    chosen = get_selection(session, actor=actor, selection_id=selection_id)
    site = session.get(Site, chosen.site_id)
    place = ""
    if chosen.subject_kind == SubjectKind.STAFF.value:
        person = session.get(Staff, chosen.subject_id)
        window = session.get(Window, person.window_id) if person is not None and person.window_id else None
        place = window.name if window is not None else ""
    year, number = parse_quarter(chosen.quarter)
    title_key = "awards.title.window" if chosen.subject_kind == SubjectKind.WINDOW.value else "awards.title.staff"
    font = cjk_font()
    buffer = io.BytesIO()
    width, height = landscape(A4)
    pdf = canvas.Canvas(buffer, pagesize=(width, height))
    pdf.setTitle(translate("awards.certificate", "zh-CN"))
    pdf.setLineWidth(3)
    pdf.rect(30, 30, width - 60, height - 60)
    pdf.setFont(font, 40)
    pdf.drawCentredString(width / 2, height - 130, translate("awards.certificate", "zh-CN"))
    pdf.setFont(font, 22)
    lines: list[tuple[str, Any]] = [
        (f"{chosen.name}" + (f"({place})" if place else ""), 26),
        (translate("awards.certificate_body", "zh-CN", site=site.name if site else "", year=year,
                   quarter=translate(f"awards.quarter_name.{number}", "zh-CN"),
                   title=translate(title_key, "zh-CN")), 18),
        (translate(title_key, "en"), 16),
    ]
    y = height - 220
    for text, size in lines:
        pdf.setFont(font, size)
        pdf.drawCentredString(width / 2, y, text)
        y -= size + 30
    pdf.setFont(font, 14)
    pdf.drawString(70, 70, translate("awards.certificate_no", "zh-CN", number=chosen.certificate_no))
    day = chosen.selected_at.astimezone(get_settings().tz).date()  # the centre's day
    pdf.drawRightString(width - 70, 70, f"{site.name if site else ''}  {day.isoformat()}")
    pdf.showPage()
    pdf.save()
    audit.record(session, actor, "awards.certificate", object_kind="award_selection", object_id=chosen.id,
                 site_id=chosen.site_id, summary=chosen.certificate_no)
    return buffer.getvalue()
