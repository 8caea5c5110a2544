"""Read and version the scoring rules; the default set comes from DOMAIN.md "Scoring window staff"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from supervision import audit
from supervision.access import Permission, Principal
from supervision.errors import Conflict, Forbidden, InvalidInput, NotFound
from supervision.i18n import has_message, translate
from supervision.ledger import reason_key
from supervision.scoring.models import (
    RuleSetCreate,
    RuleSetPublic,
    ScoringItem,
    ScoringItemBase,
    ScoringItemPublic,
    ScoringRuleSet,
)

DEFAULT_VERSION = "default-2026"
DEFAULT_FROM = date(2000, 1, 1)
SUBJECT_KINDS = ("staff", "window", "department")


@dataclass(frozen=True)
class ItemSpec:
    """What an item is: its default points, cap and subjects, and which sign its points must have."""

    points: float
    applies_to: str
    sign: str  # "deduction" (points <= 0), "bonus" (points >= 0) or "either" (a manual correction)
    cap: float | None = None
    cappable: bool = True


_ALL = "staff,window,department"
# The published default (DOMAIN.md "Scoring window staff"): late / early leave <=10 min -1, missed sign-in -2,
# half-day absence -5, off post > 15 min -3. Longer lateness and a whole day's absence are the bureau's
# choice; these defaults double the step below them. Complaints, ratings, red cards and visits: the
# complaints settings' former defaults. A red card is the lead department's (and its window's), never a person's.
# An adjustment carries a correction of a closed month into the next one: capping it would lose the correction.
ITEM_SPECS: dict[str, ItemSpec] = {
    "attendance.late_short": ItemSpec(-1.0, "staff", "deduction"),
    "attendance.late_long": ItemSpec(-2.0, "staff", "deduction"),
    "attendance.early_short": ItemSpec(-1.0, "staff", "deduction"),
    "attendance.early_long": ItemSpec(-2.0, "staff", "deduction"),
    "attendance.missed_punch": ItemSpec(-2.0, "staff", "deduction"),
    "attendance.absent_half": ItemSpec(-5.0, "staff", "deduction"),
    "attendance.absent_day": ItemSpec(-10.0, "staff", "deduction"),
    "video.off_post": ItemSpec(-3.0, _ALL, "deduction"),
    "complaint.upheld": ItemSpec(-5.0, _ALL, "deduction"),
    "complaint.partly_upheld": ItemSpec(-2.0, _ALL, "deduction"),
    "rating.bad": ItemSpec(-2.0, _ALL, "deduction"),
    "workorder.red_card": ItemSpec(-3.0, "window,department", "deduction"),
    "visit.finding": ItemSpec(-2.0, _ALL, "deduction"),
    "praise": ItemSpec(1.0, _ALL, "bonus"),
    "bonus": ItemSpec(1.0, "staff,window", "bonus"),
    "adjustment": ItemSpec(0.0, _ALL, "either", cappable=False),
}
# key -> (points, monthly cap), as the first version wrote them.
DEFAULT_ITEMS: dict[str, tuple[float, float | None]] = {k: (v.points, v.cap) for k, v in ITEM_SPECS.items()}

# Which item a ledger kind is scored under. "late" holds lateness and early leave of both sizes: the entry's
# keyed reason tells which (item_of_entry).
ITEM_OF_KIND: dict[str, str] = {
    "late": "attendance.late_short",
    "missed_sign_in": "attendance.missed_punch",
    "absent_half_day": "attendance.absent_half",
    "absent_day": "attendance.absent_day",
    "off_post": "video.off_post",
    "complaint_upheld": "complaint.upheld",
    "complaint_partly_upheld": "complaint.partly_upheld",
    "bad_rating": "rating.bad",
    "red_card": "workorder.red_card",
    "visit_finding": "visit.finding",
    "praise": "praise",
    "bonus": "bonus",
    "adjustment": "adjustment",
    "other": "adjustment",
}
# The lateness (minutes) up to which "short" items apply.
SHORT_MINUTES = 10


def item_of_entry(kind: str, reason: str) -> str:
    """The rule item a ledger entry is scored under (an unknown kind counts as an adjustment)."""
    if kind == "late":
        keyed = reason_key(reason)
        if keyed is not None:
            key, params = keyed
            side = "early" if key.endswith("_early") else "late"
            try:
                minutes = int(params.get("minutes", "0") or 0)
            except ValueError:
                minutes = 0
            return f"attendance.{side}_{'long' if minutes > SHORT_MINUTES else 'short'}"
    return ITEM_OF_KIND.get(kind, "adjustment")


def applies(item: ScoringItem | ScoringItemBase, subject_kind: str) -> bool:
    return subject_kind in {p.strip() for p in item.applies_to.split(",")}


def _in_force(session: Session, on: date) -> ScoringRuleSet | None:
    return session.exec(select(ScoringRuleSet).where(col(ScoringRuleSet.effective_from) <= on)
                        .order_by(col(ScoringRuleSet.effective_from).desc())).first()


def items_in_force(session: Session, *, on: date) -> dict[str, ScoringItem]:
    """Every item of the version in force on a day (the defaults when none was written)."""
    rule_set = _in_force(session, on)
    if rule_set is None:
        return {k: ScoringItem(rule_set_id=0, key=k, points=v.points, cap=v.cap, applies_to=v.applies_to)
                for k, v in ITEM_SPECS.items()}
    rows = session.exec(select(ScoringItem).where(col(ScoringItem.rule_set_id) == rule_set.id)).all()
    return {r.key: r for r in rows}


def rule_set_in_force(session: Session, *, on: date) -> ScoringRuleSet:
    """The version in force on a day (an unsaved default version when none was written)."""
    found = _in_force(session, on)
    return found if found is not None else ScoringRuleSet(id=0, version=DEFAULT_VERSION, effective_from=DEFAULT_FROM)


def points(session: Session, item: str, *, on: date) -> float:
    """The points of one item on a day, from the version in force; 0 for an item the set does not score."""
    found = items_in_force(session, on=on).get(item)
    return found.points if found is not None else 0.0


def item_label(key: str, locale: str) -> str:
    """An item's name in the reader's language."""
    return _label(key, locale)


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
            base=rule_set.base, deduction_cap=rule_set.deduction_cap, bonus_cap=rule_set.bonus_cap,
            items=[ScoringItemPublic(key=r.key, points=r.points, cap=r.cap, applies_to=r.applies_to,
                                     label=_label(r.key, locale)) for r in rows]))
    if not out or out[-1].effective_from > DEFAULT_FROM:
        # Before the first stored version the code's defaults hold (items_in_force): listed as what they are.
        out.append(RuleSetPublic(
            version=DEFAULT_VERSION, effective_from=DEFAULT_FROM, note="DOMAIN.md defaults",
            items=[ScoringItemPublic(key=k, points=v.points, cap=v.cap, applies_to=v.applies_to,
                                     label=_label(k, locale)) for k, v in sorted(ITEM_SPECS.items())]))
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
    for field_name in ("base", "deduction_cap", "bonus_cap"):
        value = getattr(body, field_name)
        if value is not None and (value < 0 or (field_name == "base" and value == 0)):
            raise InvalidInput(field_name, "error.scoring_level_positive")
    seen: set[str] = set()
    for item in body.items:
        check_item(item)
        if item.key in seen:
            raise InvalidInput("items", "error.scoring_duplicate_item", key=f"scoring.item.{item.key}")
        seen.add(item.key)
    before_set = _in_force(session, body.effective_from)
    before = items_in_force(session, on=body.effective_from)
    rule_set = ScoringRuleSet(
        version=body.version.strip(), effective_from=body.effective_from, note=body.note,
        created_by=actor.audit_name[:80],
        base=body.base if body.base is not None else (before_set.base if before_set else 100.0),
        deduction_cap=body.deduction_cap if body.deduction_cap is not None else (
            before_set.deduction_cap if before_set else None),
        bonus_cap=body.bonus_cap if body.bonus_cap is not None else (before_set.bonus_cap if before_set else None))
    session.add(rule_set)
    session.flush()
    assert rule_set.id is not None
    given = {i.key: i for i in body.items}
    for key, spec in ITEM_SPECS.items():
        # Every item is in every version: one not named keeps what the version before said.
        source: ScoringItemBase | ScoringItem | None = given.get(key) or before.get(key)
        if source is None:
            session.add(ScoringItem(rule_set_id=rule_set.id, key=key, points=spec.points, cap=spec.cap,
                                    applies_to=spec.applies_to))
        else:
            session.add(ScoringItem(rule_set_id=rule_set.id, key=key, points=source.points, cap=source.cap,
                                    applies_to=_normal_applies(source.applies_to)))
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


def _normal_applies(applies_to: str) -> str:
    parts = [p.strip() for p in applies_to.split(",") if p.strip()]
    return ",".join(k for k in SUBJECT_KINDS if k in parts)


def check_item(item: ScoringItemBase) -> None:
    """Refuse an item that is unknown or contradicts itself, naming it."""
    spec = ITEM_SPECS.get(item.key)
    if spec is None:
        raise InvalidInput("items", "error.scoring_unknown_item", key=item.key[:60])
    # Named as the reader knows it (the message key renders in their language).
    named = f"scoring.item.{item.key}"
    if spec.sign == "bonus" and item.points < 0:
        raise InvalidInput("items", "error.scoring_bonus_negative", key=named)
    if spec.sign == "deduction" and item.points > 0:
        raise InvalidInput("items", "error.scoring_deduction_positive", key=named)
    if item.cap is not None and item.cap < 0:
        raise InvalidInput("items", "error.scoring_negative_cap", key=named)
    if item.cap is not None and not spec.cappable:
        raise InvalidInput("items", "error.scoring_not_cappable", key=named)
    parts = [p.strip() for p in item.applies_to.split(",") if p.strip()]
    if not parts or any(p not in SUBJECT_KINDS for p in parts):
        raise InvalidInput("items", "error.scoring_applies_to", key=named, value=item.applies_to[:60])
