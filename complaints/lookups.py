"""Names and choices the pages show next to orders: windows, departments, sites, posts and staff.

Orders keep ids; a page shows names. One query per kind for a whole page of rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from supervision import org
from supervision.access import Permission, Principal
from supervision.models import Department, Post, Site, SiteKind, Staff, Window

OPTION_LIMIT = 2000


@dataclass
class OrgNames:
    """id → name per kind, for display."""

    site: dict[int, str] = field(default_factory=dict)
    window: dict[int, str] = field(default_factory=dict)
    department: dict[int, str] = field(default_factory=dict)
    post: dict[int, str] = field(default_factory=dict)
    staff: dict[int, str] = field(default_factory=dict)


_TABLES: dict[str, type[Any]] = {"site": Site, "window": Window, "department": Department, "post": Post,
                                 "staff": Staff}
_ATTRS: dict[str, tuple[str, ...]] = {
    "site": ("site_id",),
    "window": ("window_id",),
    "department": ("department_id", "lead_department_id", "assisting_department_ids"),
    "post": ("post_id",),
    "staff": ("staff_id", "responsible_staff_ids"),
}


def org_names(session: Session, rows: Iterable[Any]) -> OrgNames:
    """The names of every org row the given orders, calls, ratings, visits or findings refer to."""
    wanted: dict[str, set[int]] = {kind: set() for kind in _TABLES}
    for row in rows:
        for kind, attrs in _ATTRS.items():
            for attr in attrs:
                value = getattr(row, attr, None)
                if isinstance(value, int):
                    wanted[kind].add(value)
                elif isinstance(value, list):
                    wanted[kind].update(v for v in value if isinstance(v, int))
    names = OrgNames()
    for kind, ids in wanted.items():
        if ids:
            table = _TABLES[kind]
            found = session.exec(select(table.id, table.name).where(col(table.id).in_(ids))).all()
            getattr(names, kind).update({int(i): str(n) for i, n in found})
    return names


@dataclass
class Choices:
    """Options of the forms, limited to the actor's jurisdiction: (id, label)."""

    sites: list[tuple[int, str]] = field(default_factory=list)
    windows: list[tuple[int, str]] = field(default_factory=list)
    departments: list[tuple[int, str]] = field(default_factory=list)
    posts: list[tuple[int, str]] = field(default_factory=list)
    staff: list[tuple[int, str]] = field(default_factory=list)


def form_choices(session: Session, actor: Principal, *, people: bool = True) -> Choices:
    """Sites, windows, departments (and posts and staff) an actor may pick; nothing without ORG_READ."""
    out = Choices()
    if not actor.can(Permission.ORG_READ):
        return out
    sites, _ = org.list_entities(session, actor, org.OrgKind.SITE, limit=OPTION_LIMIT)
    out.sites = [(int(r.id), "\u3000" * r.depth + r.name) for r in sites]
    for kind, target in ((org.OrgKind.WINDOW, out.windows), (org.OrgKind.DEPARTMENT, out.departments)):
        rows, _ = org.list_entities(session, actor, kind, limit=OPTION_LIMIT)
        target.extend((int(r.id), f"{r.name} ({r.code})") for r in rows)
    if people:
        posts, _ = org.list_entities(session, actor, org.OrgKind.POST, limit=OPTION_LIMIT)
        out.posts = [(int(r.id), f"{r.name} ({r.code})") for r in posts]
        staff, _ = org.list_entities(session, actor, org.OrgKind.STAFF, limit=OPTION_LIMIT)
        out.staff = [(int(r.id), f"{r.name} ({r.code})") for r in staff]
    return out


def responsible_choices(session: Session, actor: Principal, *, site_id: int) -> list[tuple[int, str]]:
    """The staff an outcome may hold responsible: the people of the order's centre, for those who record outcomes."""
    if not actor.can(Permission.COMPLAINTS_WRITE) and not actor.can(Permission.CONFIDENTIAL_READ):
        return []
    site = session.get(Site, site_id)
    if site is None or not actor.covers_path(site.path):
        return []
    rows = session.exec(
        select(Staff.id, Staff.name, Staff.code)
        .where(col(Staff.site_id) == site_id, col(Staff.active).is_(True))
        .order_by(col(Staff.code))
        .limit(OPTION_LIMIT)
    ).all()
    return [(int(i or 0), f"{n} ({c})") for i, n, c in rows]


@dataclass
class DispatchChoices:
    """The units an order may be dispatched to, (id, label), and the one to preselect."""

    departments: list[tuple[int, str]] = field(default_factory=list)
    preselect: int | None = None


def dispatch_choices(session: Session, actor: Principal, *, site_id: int, window_id: int | None,
                     department_id: int | None) -> DispatchChoices:
    """Units for an order's dispatch: those serving its window first, then any of its centre or above it.

    A township's window is staffed by a county or city department, and the service accepts any unit of the
    order's centre or of a centre above it: listing only the order's own centre left a township order with
    no unit to choose. The window's own department, or a comprehensive window's only delegated one, is
    preselected.
    """
    if not actor.can(Permission.ORG_READ):
        return DispatchChoices()
    site = session.get(Site, site_id)
    if site is None:
        return DispatchChoices()
    chain = [int(part) for part in site.path.strip("/").split("/") if part.isdigit()]
    depth = {sid: i for i, sid in enumerate(chain)}
    rows = [(int(d.id or 0), d.name, d.code, d.site_id, site_name) for d, site_name in session.exec(
        select(Department, Site.name)
        .join(Site, col(Site.id) == col(Department.site_id))
        .where(col(Department.site_id).in_(chain))
        .limit(OPTION_LIMIT)
    ).all()]
    serving: list[int] = []
    if window_id is not None:
        window = session.get(Window, window_id)
        if window is not None and window.department_id is not None:
            serving.append(window.department_id)
        if window is not None and window.is_comprehensive:
            serving.extend(d for d in org.delegated_departments(session, window_id) if d not in serving)
    if department_id is not None and department_id not in serving:
        serving.insert(0, department_id)
    # Serving units first, then the nearest centre's units before those of the centres above it.
    ordered = sorted(rows,
                     key=lambda r: (r[0] not in serving, serving.index(r[0]) if r[0] in serving else 0,
                                    -depth.get(r[3], 0), r[2]))
    departments = [(i, f"{name} ({code})" + ("" if dept_site == site_id else f" · {site_name}"))
                   for i, name, code, dept_site, site_name in ordered]
    offered = {d for d, _ in departments}
    preselect = department_id if department_id in offered else None
    if preselect is None:
        candidates = [d for d in serving if d in offered]
        preselect = candidates[0] if len(candidates) == 1 else None
    return DispatchChoices(departments, preselect)


def public_sites(session: Session) -> list[tuple[int, str]]:
    """The centres a citizen may address (city and county centres, townships): id and name, no login."""
    rows = session.exec(select(Site.id, Site.name, Site.kind).order_by(col(Site.path))).all()
    kinds = {k.value for k in SiteKind}
    return [(int(i), str(n)) for i, n, k in rows if i is not None and k in kinds]


def public_windows(session: Session) -> dict[int, list[tuple[int, str]]]:
    """The windows a citizen may name, per centre: number and name, no login."""
    rows = session.exec(
        select(Window.id, Window.site_id, Window.number, Window.name)
        .order_by(col(Window.site_id), col(Window.number), col(Window.name))
        .limit(OPTION_LIMIT)
    ).all()
    out: dict[int, list[tuple[int, str]]] = {}
    for wid, site_id, number, name in rows:
        if wid is not None:
            out.setdefault(int(site_id), []).append((int(wid), f"{number} {name}".strip()))
    return out


@dataclass
class WindowGroup:
    """The windows of one hall (or of a centre's windows outside any hall), for a grouped picker."""

    site: str
    hall: str
    windows: list[tuple[int, str]] = field(default_factory=list)


def window_groups(session: Session, actor: Principal) -> list[WindowGroup]:
    """The windows an actor may pick, by centre (in the tree's order) and hall; each labelled with its number,
    name and department, since many windows share a name (综合便民窗口)."""
    if not actor.can(Permission.ORG_READ):
        return []
    sites, _ = org.list_entities(session, actor, org.OrgKind.SITE, limit=OPTION_LIMIT)
    halls, _ = org.list_entities(session, actor, org.OrgKind.HALL, limit=OPTION_LIMIT)
    departments, _ = org.list_entities(session, actor, org.OrgKind.DEPARTMENT, limit=OPTION_LIMIT)
    windows, _ = org.list_entities(session, actor, org.OrgKind.WINDOW, limit=OPTION_LIMIT)
    site_order = {int(s.id): (str(s.path), str(s.name)) for s in sites}
    hall_names = {int(h.id): str(h.name) for h in halls}
    department_names = {int(d.id): str(d.name) for d in departments}
    groups: dict[tuple[str, str, str], WindowGroup] = {}
    for w in windows:
        path, site_name = site_order.get(int(w.site_id), ("~", ""))
        hall = hall_names.get(int(w.hall_id), "") if w.hall_id is not None else ""
        group = groups.setdefault((path, hall, site_name), WindowGroup(site_name, hall))
        department = department_names.get(int(w.department_id), "") if w.department_id is not None else ""
        label = " ".join(p for p in (str(w.number), str(w.name)) if p)
        group.windows.append((int(w.id), f"{label} · {department}" if department else label))
    for group in groups.values():
        group.windows.sort(key=lambda option: option[1])
    return [groups[key] for key in sorted(groups)]
