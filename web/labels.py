"""Labels for the values pages show: one function per kind of value, in the reader's language, never a raw code."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from supervision.i18n import has_message, translate


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
    """A reference to another record, as a reader sees it: a label and, where this reader may open it, a link.

    Sources and actors need the reader and the database: `web.sources.Trail` names them on each page.
    """

    label: str
    href: str | None = None


# Codes a free-text summary may carry (audit summaries are written by each domain and kept as written, since
# the chain signs them): each known code is shown by its label, in this order of families.
_SUMMARY_FAMILIES = ("wo_state", "ledger_kind", "outcome", "request_type", "disposition", "channel", "appeal")
# A message key stored in a summary (a rating's `level.very_dissatisfied`), or a bare code (received, upheld).
_SUMMARY_TOKEN = re.compile(r"\b[a-z][a-z_]*\.[a-z][a-z_]*\b|\b[a-z][a-z_]*[a-z]\b")


def summary(text: str, locale: str) -> str:
    """A stored summary with the codes it carries shown as labels (GD… received→closed → GD… 受理→已办结).

    A message key stored in it (a rating's `level.very_dissatisfied`) is shown as its text (非常不满意).
    """

    def label(match: re.Match[str]) -> str:
        token = match.group(0)
        if "." in token:
            return _first(locale, token) or token
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
    "workdays_left": workdays_left,
    "summary": summary,
}
