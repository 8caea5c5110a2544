"""Which risk points an incident counts against: a mapping table, stored links, and an officer's re-link.

An incident (an upheld complaint, a bad rating, a video alert) is about something — its concerns
(supervision.incidents.Concern: 服务态度, 吃拿卡要, 优亲厚友…), read off its source by the domain that owns it.
A point is about something too: its category and the words of its name and 表现形式. The table below
says which words of which categories make a point concern what; an incident counts against the points
of its post that share a concern with it, and nothing else (an attitude complaint is not a sign of
优亲厚友). Each link is stored with how it was made — the rule (the concern and the word that matched)
or an officer (with a reason) — and an officer can take a link off, with a reason, for good.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, or_
from sqlmodel import Session, col, select

from risk.models import IncidentLinkChange, LinkMaker, RiskCategory, RiskIncidentLink, RiskPoint
from risk.register import get_risk_point
from risk.scope import local_today, window_start
from risk.settings import get_risk_settings
from supervision import audit
from supervision.access import Permission, Principal
from supervision.db import session_scope, utcnow
from supervision.errors import Conflict, InvalidInput, NotFound
from supervision.incidents import Concern, concerns_of, standing
from supervision.models import Incident
from supervision.org import parse
from supervision.scheduler import JobSpec

logger = logging.getLogger(__name__)

_C = RiskCategory


@dataclass(frozen=True)
class PointRule:
    """A point concerns `concern` when it is filed under one of `categories` and its name or 表现形式 has a word."""

    concern: Concern
    categories: frozenset[RiskCategory]
    words: tuple[str, ...]


# Read top to bottom: the first word that matches is the one a link records. Written for the 表现形式 of
# the published registers (and the demo's): "服务态度生硬、推诿" is attitude and delay; "人情审核、优亲厚友"
# is favouritism, never attitude.
POINT_RULES: tuple[PointRule, ...] = (
    PointRule(Concern.ATTITUDE, frozenset({_C.MORAL, _C.DUTY}), ("态度", "冷硬横推", "敷衍", "生硬")),
    PointRule(Concern.DELAY, frozenset({_C.MORAL, _C.DUTY, _C.PROCESS}),
              ("推诿", "拖延", "超时", "压件", "延误", "多次往返", "一次性")),
    PointRule(Concern.OBSTRUCTION, frozenset({_C.MORAL, _C.DUTY, _C.PROCESS}), ("刁难", "不予受理", "增设")),
    PointRule(Concern.GRAFT, frozenset({_C.MORAL, _C.EXTERNAL}),
              ("吃拿卡要", "表示", "索取", "索要", "收受", "好处", "贿赂", "吃请", "宴请", "礼品")),
    PointRule(Concern.FAVOURITISM, frozenset({_C.MORAL, _C.EXTERNAL}),
              ("优亲厚友", "熟人", "关系人", "人情", "插队", "请托")),
    PointRule(Concern.FEES, frozenset({_C.DUTY, _C.PROCESS, _C.MORAL}), ("收费", "多收", "减免")),
    PointRule(Concern.OFF_POST, frozenset({_C.DUTY, _C.MORAL}), ("脱岗", "离岗", "空岗", "擅离")),
    PointRule(Concern.LAX_REVIEW, frozenset({_C.DUTY, _C.SYSTEM, _C.PROCESS}),
              ("把关不严", "审查不严", "违规审批", "越权", "虚假", "不实")),
)


def point_concerns(name: str, manifestation: str, category: RiskCategory | str) -> dict[Concern, str]:
    """What a point is about: each concern with the word of the point that shows it."""
    text = f"{name}\n{manifestation}"
    out: dict[Concern, str] = {}
    for rule in POINT_RULES:
        if RiskCategory(category) not in rule.categories:
            continue
        word = next((w for w in rule.words if w in text), None)
        if word is not None and rule.concern not in out:
            out[rule.concern] = word
    return out


def rule_links(
    incident_concerns: frozenset[Concern], points: Sequence[RiskPoint]
) -> list[tuple[RiskPoint, Concern, str]]:
    """The points an incident concerns by the table: (point, shared concern, matched word)."""
    out = []
    for p in points:
        mine = point_concerns(p.name, p.manifestation, p.category)
        shared = [c for c in mine if c in incident_concerns]
        if shared:
            out.append((p, shared[0], mine[shared[0]]))
    return out


# --- making links ---------------------------------------------------------------------------------


def _apply_rules(session: Session, incidents: Sequence[Incident], *, by: str,
                 concerns: Mapping[int, frozenset[Concern]] | None = None) -> int:
    """Add the rule's links of these incidents that have no row yet (a removed link stays removed).

    `concerns` (by incident id) replaces what the sources say (the demo's incidents have no source record).
    """
    post_ids = {i.post_id for i in incidents if i.post_id is not None}
    if not post_ids:
        return 0
    points: dict[int, list[RiskPoint]] = defaultdict(list)
    for p in session.exec(select(RiskPoint).where(col(RiskPoint.post_id).in_(post_ids), col(RiskPoint.active))):
        points[p.post_id].append(p)
    ids = [i.id or 0 for i in incidents]
    existing = set(
        session.exec(
            select(RiskIncidentLink.incident_id, RiskIncidentLink.point_id).where(
                col(RiskIncidentLink.incident_id).in_(ids)
            )
        ).all()
    )
    if concerns is None:
        concerns = concerns_of(session, incidents)
    added = 0
    for i in incidents:
        if i.post_id is None:
            continue
        for point, concern, word in rule_links(concerns.get(i.id or 0, frozenset()), points.get(i.post_id, [])):
            if (i.id, point.id) in existing:
                continue
            session.add(RiskIncidentLink(incident_id=i.id or 0, point_id=point.id or 0, made_by=LinkMaker.RULE,
                                         concern=concern.value, matched=word, created_by=by))
            added += 1
    session.flush()
    return added


def link_incident(session: Session, incident: Incident) -> None:
    """Link a newly recorded incident to the points it concerns (the core calls this when one is recorded)."""
    _apply_rules(session, [incident], by="rule")


def link_as(session: Session, incident: Incident, concerns: frozenset[Concern]) -> int:
    """Link an incident by the table as if its source said `concerns` (demo incidents, which have none)."""
    return _apply_rules(session, [incident], by="rule", concerns={incident.id or 0: concerns})


def relink_incidents(session: Session, *, today: date | None = None, window_days: int | None = None) -> int:
    """Apply the table to every standing incident of the signal window: links missing (incidents recorded
    before the table, points created after their incidents) are added. Returns how many."""
    days = window_days or get_risk_settings().signal_window_days
    since = window_start(today or local_today(), days)
    incidents = session.exec(
        select(Incident).where(col(Incident.occurred_at) >= since, col(Incident.post_id).is_not(None), standing())
        .order_by(col(Incident.id))
    ).all()
    added = 0
    for start in range(0, len(incidents), 500):
        added += _apply_rules(session, incidents[start:start + 500], by="rule")
    return added


def run_relink_job() -> None:
    """The scheduler's entry point: links for incidents and points the listener did not see."""
    with session_scope(write=True) as session:
        added = relink_incidents(session)
    if added:
        logger.info("risk re-link job: %d links added", added)


def change_link(
    session: Session, actor: Principal, point_id: int, data: IncidentLinkChange | dict[str, Any], *, ip: str = ""
) -> RiskIncidentLink:
    """An officer links an incident of the point's post to the point, or takes a link off; audited."""
    actor.require(Permission.RISK_WRITE)
    point = get_risk_point(session, actor, point_id)
    change = data if isinstance(data, IncidentLinkChange) else parse(IncidentLinkChange, dict(data))
    reason = change.reason.strip()
    if not reason:
        raise InvalidInput("reason", "error.required")
    incident = session.get(Incident, change.incident_id)
    if incident is None or incident.post_id != point.post_id:
        # Only the incidents of the point's post can be about it (and others may lie outside the jurisdiction).
        raise NotFound("error.not_found_kind", kind="kind.incident", id=change.incident_id)
    link = session.exec(
        select(RiskIncidentLink).where(
            col(RiskIncidentLink.incident_id) == incident.id, col(RiskIncidentLink.point_id) == point.id
        )
    ).first()
    now = utcnow()
    if change.linked:
        if not point.active:
            raise InvalidInput("point_id", "risk.error.point_retired", code=point.code)
        if link is not None and link.removed_at is None:
            raise Conflict("risk.error.already_linked")
        if link is None:
            link = RiskIncidentLink(incident_id=incident.id or 0, point_id=point.id or 0, made_by=LinkMaker.OFFICER,
                                    created_by=actor.audit_name[:80])
        link.made_by, link.reason, link.created_by, link.created_at = (
            LinkMaker.OFFICER, reason[:400], actor.audit_name[:80], now)
        link.removed_at, link.removed_by, link.removed_reason = None, "", ""
    else:
        if link is None or link.removed_at is not None:
            raise Conflict("risk.error.not_linked")
        link.removed_at, link.removed_by, link.removed_reason = now, actor.audit_name[:80], reason[:400]
    session.add(link)
    session.flush()
    audit.record(
        session,
        actor,
        "risk.incident_link" if change.linked else "risk.incident_unlink",
        object_kind="risk_point",
        object_id=point.id,
        site_id=incident.site_id,
        summary=f"{point.code} {incident.summary}"[:200],
        detail={"incident_id": incident.id, "reason": reason[:200]},
        ip=ip,
    )
    return link


# --- reading links --------------------------------------------------------------------------------


def counted(since: datetime) -> list[ColumnElement[bool]]:
    """The conditions under which a link counts towards its point's signal (joined with Incident and RiskPoint).

    Standing incidents of the window, linked and not taken off, not yet weighed by the point's last review.
    """
    return [
        col(RiskIncidentLink.incident_id) == col(Incident.id),
        col(RiskIncidentLink.removed_at).is_(None),
        col(Incident.occurred_at) >= since,
        or_(col(RiskPoint.signal_reset_at).is_(None), col(Incident.occurred_at) >= col(RiskPoint.signal_reset_at)),
        standing(),
    ]


class LinkedPoint(BaseModel):
    """A point an incident is linked to, and how."""

    point_id: int
    point_code: str
    point_name: str
    made_by: LinkMaker
    concern: str
    matched: str
    reason: str
    created_by: str
    removed: bool
    removed_by: str
    removed_reason: str


def links_of_incidents(session: Session, incident_ids: Sequence[int]) -> Mapping[int, list[LinkedPoint]]:
    """For each incident, the points it is (or was) linked to, by point code."""
    if not incident_ids:
        return {}
    out: dict[int, list[LinkedPoint]] = defaultdict(list)
    for link, point in session.exec(
        select(RiskIncidentLink, RiskPoint)
        .join(RiskPoint, col(RiskPoint.id) == col(RiskIncidentLink.point_id))
        .where(col(RiskIncidentLink.incident_id).in_(list(incident_ids)))
        .order_by(col(RiskPoint.code))
    ):
        out[link.incident_id].append(LinkedPoint(
            point_id=point.id or 0, point_code=point.code, point_name=point.name, made_by=link.made_by,
            concern=link.concern, matched=link.matched, reason=link.reason, created_by=link.created_by,
            removed=link.removed_at is not None, removed_by=link.removed_by, removed_reason=link.removed_reason,
        ))
    return out


RELINK_JOB = JobSpec("risk.relink", "risk.signal:run_relink_job", "interval", {"minutes": 15})
