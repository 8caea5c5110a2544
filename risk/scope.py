"""Who may see and change which part of the register, and what day it is at the centre."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, or_
from sqlmodel import Session, col, select

from risk.models import Countermeasure, RiskPoint, RiskPointMeasure
from supervision.access import Permission, Principal, site_path_clause
from supervision.errors import Forbidden, NotFound
from supervision.models import Post, Site, Staff
from supervision.settings import get_settings


def local_today() -> date:
    """Today in the centre's time zone (a server in UTC must not shift the day)."""
    return datetime.now(get_settings().tz).date()


def local_day_start(day: date) -> datetime:
    """The UTC moment the local day begins."""
    return datetime.combine(day, time(0), tzinfo=get_settings().tz).astimezone(UTC)


def local_date_of(moment: datetime) -> date:
    return moment.astimezone(get_settings().tz).date()


def own_post_id(session: Session, actor: Principal) -> int | None:
    """The post of the staff member behind a window-staff account."""
    if actor.staff_id is None:
        return None
    staff = session.get(Staff, actor.staff_id)
    return staff.post_id if staff is not None else None


def require_read(actor: Principal) -> None:
    if not (actor.can(Permission.RISK_READ) or actor.can(Permission.OWN_RECORDS)):
        raise Forbidden("error.forbidden_permission", permission=Permission.RISK_READ.value)


def point_visibility(session: Session, actor: Principal) -> ColumnElement[bool]:
    """A WHERE clause on a query joined to Post and Site: the points the actor may read.

    Officers and managers read their jurisdiction; window staff read the points of their own post,
    because a post's own staff must know its risks.
    """
    if actor.can(Permission.RISK_READ):
        return site_path_clause(actor)
    if actor.can(Permission.OWN_RECORDS):
        post_id = own_post_id(session, actor)
        return col(Post.id) == post_id if post_id is not None else false()
    raise Forbidden("error.forbidden_permission", permission=Permission.RISK_READ.value)


def scoped_points() -> Any:
    """SELECT of points joined to their post and site (the visibility clause refers to both)."""
    return (
        select(RiskPoint)
        .join(Post, col(Post.id) == col(RiskPoint.post_id))
        .join(Site, col(Site.id) == col(Post.site_id))
    )


def measure_visibility(session: Session, actor: Principal) -> ColumnElement[bool]:
    """A WHERE clause on Countermeasure: those of the actor's subtree or covering a point they may read."""
    point_site = (
        select(RiskPointMeasure.point_id)
        .join(RiskPoint, col(RiskPoint.id) == col(RiskPointMeasure.point_id))
        .join(Post, col(Post.id) == col(RiskPoint.post_id))
        .join(Site, col(Site.id) == col(Post.site_id))
        .where(col(RiskPointMeasure.measure_id) == col(Countermeasure.id), point_visibility(session, actor))
    )
    if actor.can(Permission.RISK_READ):
        own_site = select(Site.id).where(col(Site.id) == col(Countermeasure.site_id), site_path_clause(actor))
        return or_(exists(own_site), exists(point_site))
    return and_(exists(point_site))


def writable_post(session: Session, actor: Principal, post_id: int | None) -> Post | None:
    """The post if the actor may write the register there, else None."""
    if post_id is None:
        return None
    post = session.get(Post, post_id)
    if post is None:
        return None
    site = session.get(Site, post.site_id)
    if site is None or not actor.covers_path(site.path):
        return None
    return post


def site_of(session: Session, site_id: int) -> Site:
    site = session.get(Site, site_id)
    if site is None:
        raise NotFound("error.not_found_kind", kind="kind.site", id=site_id)
    return site


def common_site(session: Session, site_ids: set[int]) -> int | None:
    """The deepest site that all the given sites lie under (themselves included)."""
    paths = [session.get(Site, s) for s in site_ids]
    known = [p.path for p in paths if p is not None]
    if not known:
        return None
    parts = [p.strip("/").split("/") for p in known]
    shared: list[str] = []
    for column in zip(*parts, strict=False):
        if len(set(column)) != 1:
            break
        shared.append(column[0])
    return int(shared[-1]) if shared else None


def window_start(today: date, days: int) -> datetime:
    """The UTC moment the signal window of `days` days ending today begins."""
    return local_day_start(today - timedelta(days=days - 1))
