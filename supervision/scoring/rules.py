"""Read and version the scoring rules; the default set comes from DOMAIN.md "Scoring window staff"."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from supervision import audit
from supervision.access import Permission, Principal
from supervision.errors import Conflict, Forbidden, InvalidInput, NotFound
from supervision.i18n import has_message, translate
from supervision.scoring.models import RuleSetCreate, RuleSetPublic, ScoringItem, ScoringItemPublic, ScoringRuleSet

DEFAULT_VERSION = "default-2026"
DEFAULT_FROM = date(2000, 1, 1)
# key -> (points, monthly cap). The published default: late / early leave ≤10 min −1, missed sign-in −2,
# half-day absence −5, off post > 15 min −3. Longer lateness and a whole day's absence are the bureau's
# choice; these defaults double the step below them.
DEFAULT_ITEMS: dict[str, tuple[float, float | None]] = {
    "attendance.late_short": (-1.0, None),
    "attendance.late_long": (-2.0, None),
    "attendance.early_short": (-1.0, None),
    "attendance.early_long": (-2.0, None),
    "attendance.missed_punch": (-2.0, None),
    "attendance.absent_half": (-5.0, None),
    "attendance.absent_day": (-10.0, None),
    "video.off_post": (-3.0, None),
}
# The lateness (minutes) up to which "short" items apply.
SHORT_MINUTES = 10


def _in_force(session: Session, on: date) -> ScoringRuleSet | None:
    return session.exec(select(ScoringRuleSet).where(col(ScoringRuleSet.effective_from) <= on)
                        .order_by(col(ScoringRuleSet.effective_from).desc())).first()


def items_in_force(session: Session, *, on: date) -> dict[str, ScoringItem]:
    """Every item of the version in force on a day (the defaults when none was written)."""
    rule_set = _in_force(session, on)
    if rule_set is None:
        return {k: ScoringItem(rule_set_id=0, key=k, points=p, cap=c) for k, (p, c) in DEFAULT_ITEMS.items()}
    rows = session.exec(select(ScoringItem).where(col(ScoringItem.rule_set_id) == rule_set.id)).all()
    return {r.key: r for r in rows}


def points(session: Session, item: str, *, on: date) -> float:
    """The points of one item on a day, from the version in force; 0 for an item the set does not score."""
    found = items_in_force(session, on=on).get(item)
    return found.points if found is not None else 0.0


def _label(key: str, locale: str) -> str:
    msg = f"scoring.item.{key}"
    return translate(msg, locale) if has_message(msg) else key


def rule_sets(session: Session, *, actor: Principal, locale: str = "zh-CN") -> list[RuleSetPublic]:
    """Every version, newest first, with its items."""
    actor.require(Permission.SCORING_READ)
    out = []
    for rule_set in session.exec(select(ScoringRuleSet).order_by(col(ScoringRuleSet.effective_from).desc())):
        rows = session.exec(select(ScoringItem).where(col(ScoringItem.rule_set_id) == rule_set.id)
                            .order_by(col(ScoringItem.key))).all()
        out.append(RuleSetPublic(
            version=rule_set.version, effective_from=rule_set.effective_from, note=rule_set.note,
            items=[ScoringItemPublic(key=r.key, points=r.points, cap=r.cap, label=_label(r.key, locale))
                   for r in rows]))
    return out


def create_rule_set(session: Session, *, actor: Principal, body: RuleSetCreate, ip: str = "") -> ScoringRuleSet:
    """Write a new version in force from the first of a month; earlier months keep their rules."""
    actor.require(Permission.SCORING_WRITE)
    # The rules hold for the whole installation: only an admin of the top of the site tree sets them.
    if actor.kind != "system" and actor.site_path.count("/") > 2:
        raise Forbidden("error.scoring_top_only")
    if body.effective_from.day != 1:
        raise InvalidInput("effective_from", "error.scoring_first_of_month")
    if session.exec(select(ScoringRuleSet).where(col(ScoringRuleSet.version) == body.version.strip())).first():
        raise Conflict("error.scoring_version_exists", version=body.version)
    if session.exec(select(ScoringRuleSet).where(col(ScoringRuleSet.effective_from) == body.effective_from)).first():
        raise Conflict("error.scoring_month_taken", month=body.effective_from.isoformat()[:7])
    seen: set[str] = set()
    for item in body.items:
        if item.key not in DEFAULT_ITEMS:
            raise InvalidInput("items", "error.scoring_unknown_item", key=item.key)
        if item.key in seen:
            raise InvalidInput("items", "error.scoring_duplicate_item", key=item.key)
        if item.cap is not None and item.cap < 0:
            raise InvalidInput("items", "error.scoring_negative_cap", key=item.key)
        seen.add(item.key)
    before = items_in_force(session, on=body.effective_from)
    rule_set = ScoringRuleSet(version=body.version.strip(), effective_from=body.effective_from, note=body.note,
                              created_by=actor.audit_name[:80])
    session.add(rule_set)
    session.flush()
    assert rule_set.id is not None
    given = {i.key: i for i in body.items}
    for key in DEFAULT_ITEMS:
        if key in given:
            pts, cap = given[key].points, given[key].cap
        else:
            pts, cap = before[key].points if key in before else DEFAULT_ITEMS[key][0], (
                before[key].cap if key in before else None)
        session.add(ScoringItem(rule_set_id=rule_set.id, key=key, points=pts, cap=cap))
    session.flush()
    audit.record(session, actor, "scoring.rule_set", object_kind="scoring_rule_set", object_id=rule_set.id,
                 site_id=None, summary=f"{rule_set.version} from {rule_set.effective_from}",
                 detail={"items": {k: v.points for k, v in given.items()}}, ip=ip)
    return rule_set


def rule_set(session: Session, *, actor: Principal, version: str, locale: str = "zh-CN") -> RuleSetPublic:
    for found in rule_sets(session, actor=actor, locale=locale):
        if found.version == version:
            return found
    raise NotFound("error.not_found_kind", kind="kind.scoring_rule_set", id=version)
