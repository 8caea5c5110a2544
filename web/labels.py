"""Labels for the values pages show: one function per kind of value, in the reader's language, never a raw code."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from supervision.i18n import has_message, translate

# Where a ledger entry's source can be looked at (source_kind -> URL template with {id}).
SOURCE_LINKS = {
    "work_order": "/complaints/orders?q={id}",
    "rating": "/complaints/ratings",
    "visit_finding": "/complaints/visits",
    "camera_alert": "/cameras/alerts",
    "attendance": "/attendance/days/{id}",
}
_NOT_A_NUMBER = re.compile(r"\D")


def _first(locale: str, *keys: str, **params: Any) -> str | None:
    for key in keys:
        if has_message(key):
            return translate(key, locale, **params)
    return None


def ledger_kind(kind: str, locale: str) -> str:
    """What a ledger entry records (迟到早退, 投诉属实…)."""
    return _first(locale, f"ledger_kind.{kind}") or translate("label.unknown_kind", locale)


def actor_kind(kind: str, locale: str) -> str:
    """Who acted: a user, a machine token or the system."""
    return _first(locale, f"actor_kind.{kind}") or translate("label.unknown_kind", locale)


def object_kind(kind: str, locale: str) -> str:
    """The kind of object an entry is about (工单, 窗口…)."""
    return _first(locale, f"kind.{kind}", f"kind.{kind.replace('.', '_')}") or translate("label.unknown_kind", locale)


def audit_action(action: str, locale: str) -> str:
    """What an audit entry records: its own label, or the object's kind and the verb (窗口 · 修改)."""
    own = _first(locale, f"audit_action.{action}")
    if own:
        return own
    noun, _, verb = action.rpartition(".")
    verb_label = _first(locale, f"audit_verb.{verb}", f"wo_action.{verb}")
    noun_label = _first(locale, f"kind.{noun}", f"kind.{noun.replace('.', '_')}")
    if noun_label and verb_label:
        return translate("label.noun_verb", locale, noun=noun_label, verb=verb_label)
    return translate("label.unknown_action", locale)


@dataclass(frozen=True)
class Ref:
    """A reference to another record, as a reader sees it: a label and, where there is one, a link."""

    label: str
    href: str | None = None


def source_ref(source_kind: str, source_id: str, locale: str) -> Ref:
    """Where a ledger entry comes from, e.g. 评价 #8 linked to the ratings (never `rating:8`)."""
    if source_kind == "manual":
        # The id of a hand-made entry is "<who>:<when>": who recorded it is the useful part.
        who = source_id.split(":", 1)[0]
        return Ref(translate("label.source_manual", locale, who=who))
    if source_kind in ("demo", "risk_demo"):
        return Ref(translate("label.source_demo", locale))
    kind = _first(locale, f"kind.{source_kind}") or translate("label.unknown_kind", locale)
    shown = f"#{source_id}" if not _NOT_A_NUMBER.search(source_id) else source_id
    link = SOURCE_LINKS.get(source_kind)
    return Ref(f"{kind} {shown}", link.format(id=quote(source_id)) if link else None)


def actor(name: str, kind: str | None, locale: str) -> str:
    """Who acted, as a person reads it: a user's name, a token's name (接口令牌), 系统 — never `user:supervisor`."""
    if kind is None and ":" in name:  # a stored Principal label, "<kind>:<name>"
        kind, name = name.split(":", 1)
    if kind == "system" or (kind is None and name == "system"):
        return translate("actor_kind.system", locale)
    if kind == "token":
        return translate("label.token_actor", locale, name=name)
    return name


def code_ref(ref: str, locale: str) -> Ref:
    """A stored "<kind>:<id>" reference (a notice's source, work_order:GD20261123-0001) as a labelled link."""
    kind, sep, ident = ref.partition(":")
    if not sep or not re.fullmatch(r"[a-z_]+", kind):
        return Ref(ref)
    return source_ref(kind, ident, locale)


# Codes a free-text summary may carry (audit summaries are written by each domain and kept as written, since
# the chain signs them): each known code is shown by its label, in this order of families.
_SUMMARY_FAMILIES = ("wo_state", "ledger_kind", "outcome", "request_type", "disposition", "channel", "appeal")
_SUMMARY_TOKEN = re.compile(r"\b[a-z][a-z_]*[a-z]\b")


def summary(text: str, locale: str) -> str:
    """A stored summary with the codes it carries shown as labels (GD… received→closed → GD… 受理→已办结)."""

    def label(match: re.Match[str]) -> str:
        token = match.group(0)
        return _first(locale, *(f"{family}.{token}" for family in _SUMMARY_FAMILIES)) or token

    return _SUMMARY_TOKEN.sub(label, text)


def workdays_left(n: int, locale: str) -> str:
    """Working days to the due day: 剩 3 个工作日, 今日到期, or 超期 16 个工作日 (never 剩 -16)."""
    if n < 0:
        return translate("label.workdays_overdue", locale, n=-n)
    if n == 0:
        return translate("label.due_today", locale)
    return translate("label.workdays_left", locale, n=n)


LABELS: dict[str, Callable[..., Any]] = {
    "ledger_kind": ledger_kind,
    "actor_kind": actor_kind,
    "object_kind": object_kind,
    "audit_action": audit_action,
    "source_ref": source_ref,
    "workdays_left": workdays_left,
    "actor": actor,
    "code_ref": code_ref,
    "summary": summary,
}
