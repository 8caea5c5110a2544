"""Every point leads to its source: a ledger entry's source, subjects and author, as the reader may follow them.

A ledger entry (and a notice) names its source as a kind and an id: `work_order` + `GD20261123-0001`,
`rating` + `8`, later `attendance` + a day's id and `video` + an event's id. What the reader sees is a name
("工单 GD20261123-0001", "评价 A-2026-0001") and, only where this reader may open a view of that record, a link
to it: the full page for those who work the record, the person's own view for the staff member it concerns,
plain text for anyone else — never a link that answers 403 or 404.

Which kinds exist is not known here: each page module that can show a kind says where it leads in a dict
`SOURCE_RESOLVERS = {"work_order": resolver, ...}`, and `web.composition.source_resolvers()` collects them from
the route modules (this module's own kinds included). A resolver gets the ids of its kind on one page, all at
once, and answers a `Ref` for each it knows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlmodel import Session

from supervision import accounts, ledger
from supervision.access import Permission, Principal
from supervision.i18n import has_message, translate
from supervision.models import LedgerEntry
from web.labels import Ref, ledger_kind

# (session, reader, ids of one kind on the page, locale) -> {id: Ref}; an id left out is shown by name, unlinked.
SourceResolver = Callable[[Session, Principal, Sequence[str], str], Mapping[str, Ref]]

_NOT_A_NUMBER = re.compile(r"\D")
_CODE_REF = re.compile(r"[a-z_]+")


def source_name(kind: str, source_id: str, locale: str) -> str:
    """A source by name alone: its kind's label and its id (工单 GD…, 评价 #8)."""
    label = translate(f"kind.{kind}", locale) if has_message(f"kind.{kind}") else translate("label.unknown_kind",
                                                                                             locale)
    shown = f"#{source_id}" if not _NOT_A_NUMBER.search(source_id) else source_id
    return f"{label} {shown}"


def _by_hand(session: Session, reader: Principal, ids: Sequence[str], locale: str) -> Mapping[str, Ref]:
    # Who recorded it is in the row's own "recorded by"; the id is only "<who>:<when>".
    return {i: Ref(translate("label.source_by_hand", locale)) for i in ids}


def _demo(session: Session, reader: Principal, ids: Sequence[str], locale: str) -> Mapping[str, Ref]:
    return {i: Ref(translate("label.source_demo", locale)) for i in ids}


# The core's own kinds: entries recorded by hand (page or API) and the demo's.
SOURCE_RESOLVERS: dict[str, SourceResolver] = {"manual": _by_hand, "demo": _demo, "risk_demo": _demo}


@dataclass(frozen=True)
class LedgerRow:
    """One ledger entry as this reader sees it: labels and only the links they may follow."""

    entry: LedgerEntry
    kind: str
    reason: str
    subjects: tuple[Ref, ...]
    source: Ref
    recorded_by: str


class Trail:
    """One page's look-ups of sources and actors for one reader, each asked once (a page shows many rows)."""

    def __init__(self, session: Session | None, reader: Principal | None, locale: str,
                 resolvers: Mapping[str, SourceResolver]) -> None:
        self.session = session
        self.reader = reader
        self.locale = locale
        self.resolvers = resolvers
        self._sources: dict[tuple[str, str], Ref] = {}
        self._people: dict[str, tuple[str, str] | None] = {}

    # --- sources --------------------------------------------------------------------------------

    def resolve(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Look up these sources, one query per kind, for the rows about to be shown."""
        wanted: dict[str, list[str]] = {}
        for kind, ident in pairs:
            if (kind, ident) not in self._sources:
                wanted.setdefault(kind, []).append(ident)
        for kind, ids in wanted.items():
            resolver = self.resolvers.get(kind)
            found: Mapping[str, Ref] = {}
            if resolver is not None and self.session is not None and self.reader is not None:
                found = resolver(self.session, self.reader, sorted(set(ids)), self.locale)
            for ident in ids:
                self._sources[(kind, ident)] = found.get(ident) or Ref(source_name(kind, ident, self.locale))

    def source(self, kind: str, source_id: object) -> Ref:
        """Where an entry comes from, named, and linked when this reader may open it."""
        ident = str(source_id)
        self.resolve([(kind, ident)])
        return self._sources[(kind, ident)]

    def code_ref(self, ref: str) -> Ref:
        """A stored "<kind>:<id>" reference (a notice's source, work_order:GD20261123-0001)."""
        kind, sep, ident = ref.partition(":")
        if not sep or not _CODE_REF.fullmatch(kind):
            return Ref(ref)
        return self.source(kind, ident)

    # --- actors ---------------------------------------------------------------------------------

    def actor(self, name: str, kind: str | None = None) -> str:
        """Who acted, as a person reads it: "张三（监督员）", "评价器（机器令牌）", 系统, never `user:supervisor`."""
        if kind is None and ":" in name:  # a stored Principal label, "<kind>:<name>"
            kind, name = name.split(":", 1)
        if kind == "system" or (kind is None and name == "system"):
            return translate("actor_kind.system", self.locale)
        if kind == "token":
            return translate("label.token_actor", self.locale, name=name)
        person = self._person(name)
        if person is None:
            return name
        display, role = person
        role_label = translate(f"role.{role}", self.locale)
        if display == role_label:  # an account named after its role ("系统管理员"): said once
            return display
        return translate("label.person_role", self.locale, name=display, role=role_label)

    def _person(self, username: str) -> tuple[str, str] | None:
        if username not in self._people:
            found = accounts.people_named(self.session, [username]) if self.session is not None else {}
            person = found.get(username)
            self._people[username] = (person[0], person[1].value) if person else None
        return self._people[username]

    # --- ledger rows ----------------------------------------------------------------------------

    def reason(self, text: str) -> str:
        """A stored reason: what a person typed as typed; a keyed one in the reader's language."""
        return ledger.render_reason(text, self.locale)

    def ledger_rows(self, entries: Sequence[LedgerEntry]) -> list[LedgerRow]:
        """The rows of a ledger table: subjects by name, the source as a link this reader may follow."""
        if not entries:
            return []
        self.resolve((e.source_kind, e.source_id) for e in entries)
        names = ledger.subjects(self.session, entries) if self.session is not None else None
        org_reader = self.reader is not None and self.reader.can(Permission.ORG_READ)
        rows = []
        for e in entries:
            subjects: list[Ref] = []
            if e.staff_id is not None:
                name = names.staff.get(e.staff_id) if names else None
                subjects.append(Ref(name or translate("label.unknown_person", self.locale),
                                    f"/org/staff/{e.staff_id}" if org_reader else None))
            if e.window_id is not None:
                window = names.windows.get(e.window_id) if names else None
                place = names.window_places.get(e.window_id) if names else None
                label = window or translate("label.unknown_window", self.locale)
                if place:
                    label = translate("label.window_place", self.locale, name=label, place=place)
                subjects.append(Ref(label, f"/org/windows/{e.window_id}" if org_reader else None))
            rows.append(LedgerRow(
                entry=e, kind=ledger_kind(e.kind, self.locale), reason=self.reason(e.reason),
                subjects=tuple(subjects), source=self._sources[(e.source_kind, e.source_id)],
                recorded_by=self.actor(e.recorded_by),
            ))
        return rows
