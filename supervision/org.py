"""The organisation: sites, halls, departments, windows, posts and staff, kept inside a jurisdiction."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, func, or_, select

from supervision import audit, crypto
from supervision.access import Permission, Principal, site_path_clause
from supervision.db import utcnow
from supervision.errors import Conflict, FieldProblem, InvalidInput, NotFound
from supervision.models import (
    SITE_PARENT_KINDS,
    Department,
    DepartmentCreate,
    DepartmentPublic,
    DepartmentUpdate,
    Hall,
    HallCreate,
    HallPublic,
    HallUpdate,
    Post,
    PostCreate,
    PostPublic,
    PostUpdate,
    Site,
    SiteCreate,
    SiteKind,
    SitePublic,
    SiteUpdate,
    Staff,
    StaffCreate,
    StaffPublic,
    StaffUpdate,
    Window,
    WindowCreate,
    WindowDelegation,
    WindowPublic,
    WindowUpdate,
)

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$")
PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}|\d{5,6})$")


class OrgKind(StrEnum):
    SITE = "site"
    HALL = "hall"
    DEPARTMENT = "department"
    WINDOW = "window"
    POST = "post"
    STAFF = "staff"


@dataclass(frozen=True)
class EntitySpec:
    kind: OrgKind
    table: type[SQLModel]
    create: type[SQLModel]
    update: type[SQLModel]
    public: type[SQLModel]
    filters: tuple[str, ...]


SPECS: dict[OrgKind, EntitySpec] = {
    OrgKind.SITE: EntitySpec(OrgKind.SITE, Site, SiteCreate, SiteUpdate, SitePublic, ("kind", "parent_id")),
    OrgKind.HALL: EntitySpec(OrgKind.HALL, Hall, HallCreate, HallUpdate, HallPublic, ("site_id",)),
    OrgKind.DEPARTMENT: EntitySpec(
        OrgKind.DEPARTMENT, Department, DepartmentCreate, DepartmentUpdate, DepartmentPublic, ("site_id",)
    ),
    OrgKind.WINDOW: EntitySpec(
        OrgKind.WINDOW, Window, WindowCreate, WindowUpdate, WindowPublic,
        ("site_id", "hall_id", "department_id", "is_comprehensive"),
    ),
    OrgKind.POST: EntitySpec(
        OrgKind.POST, Post, PostCreate, PostUpdate, PostPublic, ("site_id", "window_id", "department_id")
    ),
    OrgKind.STAFF: EntitySpec(
        OrgKind.STAFF, Staff, StaffCreate, StaffUpdate, StaffPublic,
        ("site_id", "department_id", "window_id", "post_id", "rank", "employment", "active"),
    ),
}


def problems_from_validation(
    exc: ValidationError, row: int | None = None, sheet: str | None = None
) -> list[FieldProblem]:
    """Turn pydantic's errors into our field problems (one per field)."""
    return problems_from_errors(exc.errors(), row=row, sheet=sheet)


def problems_from_errors(
    errors: Iterable[Any], row: int | None = None, sheet: str | None = None, *, skip: tuple[str, ...] = ()
) -> list[FieldProblem]:
    """Pydantic's error dicts as our field problems, in our words: its English messages never reach a page."""
    out: list[FieldProblem] = []
    for err in errors:
        field = ".".join(str(p) for p in err["loc"] if p not in skip) or "body"
        if err["type"] == "missing" or err.get("input", "") is None:
            key, params = "error.required", {}
        elif err["type"] in ("enum", "literal_error"):
            key, params = "error.choice", {"choices": (err.get("ctx") or {}).get("expected", "")}
        elif err["type"].startswith("int") or err["type"].startswith("float"):
            key, params = "error.number", {}
        elif err["type"].startswith("bool"):
            key, params = "error.boolean", {}
        elif err["type"] == "string_too_long":
            key, params = "error.too_long", {"max": (err.get("ctx") or {}).get("max_length", "")}
        elif err["type"].startswith(("date", "datetime", "time")):
            key, params = "error.invalid_date", {}
        else:
            key, params = "error.invalid", {}
        out.append(FieldProblem(field, key, params, row=row, sheet=sheet))
    return out


def parse(model: type[BaseModel], data: dict[str, Any]) -> Any:
    """Validate raw input into a model, raising InvalidInput that names each bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(problems=problems_from_validation(exc)) from None


# --- reading ----------------------------------------------------------------------------------


def _scoped(actor: Principal, spec: EntitySpec) -> Any:
    table = spec.table
    stmt = select(table)
    if table is Site:
        return stmt.where(site_path_clause(actor))
    return stmt.join(Site, col(Site.id) == table.site_id).where(site_path_clause(actor))  # type: ignore[attr-defined]


def _require_read(actor: Principal) -> None:
    actor.require(Permission.ORG_READ)


def list_entities(
    session: Session,
    actor: Principal,
    kind: OrgKind,
    *,
    filters: dict[str, Any] | None = None,
    q: str | None = None,
    under_site_id: int | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[Sequence[Any], int]:
    """List rows of one kind inside the actor's jurisdiction, with optional filters and a text search."""
    _require_read(actor)
    spec = SPECS[kind]
    table: Any = spec.table
    stmt = _scoped(actor, spec)
    for name, value in (filters or {}).items():
        if value is None or value == "":
            continue
        if name not in spec.filters:
            raise InvalidInput(name, "error.unknown_filter")
        stmt = stmt.where(getattr(table, name) == _coerce_filter(table, name, value))
    if under_site_id is not None:
        anchor = session.get(Site, under_site_id)
        if anchor is None or not actor.covers_path(anchor.path):
            raise NotFound("error.not_found_kind", kind="kind.site", id=under_site_id)
        stmt = stmt.where(col(Site.path).startswith(anchor.path, autoescape=True))
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(col(table.name).ilike(like), col(table.code).ilike(like)))
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    order = (col(Site.path), col(Site.code)) if table is Site else (col(table.code),)
    rows = session.exec(stmt.order_by(*order).offset(max(offset, 0)).limit(min(max(limit, 1), 500))).all()
    return rows, int(total)


def _coerce_filter(table: Any, name: str, value: Any) -> Any:
    """Query strings arrive as text: turn a filter value into the column's type, or name the field."""
    if not isinstance(value, str):
        return value
    annotation = str(table.model_fields[name].annotation)
    if "bool" in annotation:
        if value.lower() in ("true", "1", "yes", "on", "是"):
            return True
        if value.lower() in ("false", "0", "no", "off", "否"):
            return False
        raise InvalidInput(name, "error.boolean")
    if "int" in annotation:
        try:
            return int(value)
        except ValueError:
            raise InvalidInput(name, "error.number") from None
    return value


def get_entity(session: Session, actor: Principal, kind: OrgKind, entity_id: int) -> Any:
    """Return one row, or NotFound when it is missing or outside the actor's jurisdiction."""
    _require_read(actor)
    spec = SPECS[kind]
    row = session.exec(_scoped(actor, spec).where(col(spec.table.id) == entity_id)).first()  # type: ignore[attr-defined]
    if row is None:
        raise NotFound("error.not_found_kind", kind=f"kind.{kind.value}", id=entity_id)
    return row


def to_public(session: Session, kind: OrgKind, row: Any) -> Any:
    """Shape a row for output (masking personal data, adding delegations)."""
    spec = SPECS[kind]
    data = row.model_dump()
    if kind is OrgKind.STAFF:
        data.pop("phone_enc", None)
        data["phone_masked"] = crypto.mask_phone(crypto.decrypt(row.phone_enc)) if row.phone_enc else ""
    if kind is OrgKind.WINDOW:
        data["delegated_department_ids"] = delegated_departments(session, row.id)
    return spec.public.model_validate(data)


def delegated_departments(session: Session, window_id: int) -> list[int]:
    rows = session.exec(
        select(WindowDelegation.department_id).where(col(WindowDelegation.window_id) == window_id)
    ).all()
    return sorted(rows)


def staff_phone(session: Session, actor: Principal, staff_id: int, *, ip: str = "") -> str:
    """Reveal a staff member's phone number (audited)."""
    actor.require(Permission.ORG_WRITE)
    staff = get_entity(session, actor, OrgKind.STAFF, staff_id)
    audit.record(session, actor, "view.staff_phone", object_kind="staff", object_id=staff_id,
                 site_id=staff.site_id, ip=ip)
    return crypto.decrypt(staff.phone_enc)


def site_tree(session: Session, actor: Principal) -> list[Site]:
    """The sites of the jurisdiction in tree order (by path)."""
    _require_read(actor)
    return list(session.exec(select(Site).where(site_path_clause(actor)).order_by(col(Site.path))).all())


def ancestors(session: Session, site: Site) -> list[Site]:
    ids = [int(p) for p in site.path.strip("/").split("/") if p][:-1]
    if not ids:
        return []
    rows = {s.id: s for s in session.exec(select(Site).where(col(Site.id).in_(ids)))}
    return [rows[i] for i in ids if i in rows]


# --- validation of references -----------------------------------------------------------------


class _Checker:
    """Collects field problems for one row, so a user sees them all at once."""

    def __init__(self, session: Session, actor: Principal) -> None:
        self.session = session
        self.actor = actor
        self.problems: list[FieldProblem] = []

    def add(self, field: str, key: str, **params: Any) -> None:
        self.problems.append(FieldProblem(field, key, params))

    def site(self, field: str, site_id: int | None) -> Site | None:
        if site_id is None:
            self.add(field, "error.required")
            return None
        site = self.session.get(Site, site_id)
        if site is None or not self.actor.covers_path(site.path):
            self.add(field, "error.unknown_ref", kind="kind.site", value=site_id)
            return None
        return site

    def ref(self, field: str, table: type[Any], ref_id: int | None, kind: str) -> Any:
        if ref_id is None:
            return None
        row = self.session.get(table, ref_id)
        if row is None:
            self.add(field, "error.unknown_ref", kind=f"kind.{kind}", value=ref_id)
            return None
        site = self.session.get(Site, row.site_id)
        if site is None or not self.actor.covers_path(site.path):
            self.add(field, "error.unknown_ref", kind=f"kind.{kind}", value=ref_id)
            return None
        return row

    def same_site(self, field: str, row: Any, site: Site | None, key: str) -> None:
        if row is not None and site is not None and row.site_id != site.id:
            self.add(field, key)

    def dept_visible_from(self, field: str, dept: Department | None, site: Site | None) -> None:
        # A department serves its own site and the sites below it (a city department may staff a county hall).
        if dept is None or site is None:
            return
        dept_site = self.session.get(Site, dept.site_id)
        if dept_site is None or not site.path.startswith(dept_site.path):
            self.add(field, "error.department_other_site")

    def unique_code(self, table: type[Any], code: str, own_id: int | None) -> None:
        if not CODE_RE.match(code or ""):
            self.add("code", "error.code_format")
            return
        existing = self.session.exec(select(table).where(table.code == code)).first()
        if existing is not None and existing.id != own_id:
            self.add("code", "error.duplicate_code", code=code)

    def raise_if_any(self) -> None:
        if self.problems:
            raise InvalidInput(problems=self.problems)


def _validate(session: Session, actor: Principal, kind: OrgKind, row: Any, *, new: bool, extra: dict[str, Any]) -> None:
    check = _Checker(session, actor)
    table = SPECS[kind].table
    check.unique_code(table, row.code, None if new else row.id)
    if not (row.name or "").strip():
        check.add("name", "error.required")
    if kind is OrgKind.SITE:
        _validate_site(session, actor, row, check, new=new)
        check.raise_if_any()
        return
    site = check.site("site_id", row.site_id)
    if kind is OrgKind.WINDOW:
        hall = check.ref("hall_id", Hall, row.hall_id, "hall")
        check.same_site("hall_id", hall, site, "error.hall_other_site")
        dept = check.ref("department_id", Department, row.department_id, "department")
        check.dept_visible_from("department_id", dept, site)
        if not row.is_comprehensive and row.department_id is None:
            check.add("department_id", "error.window_needs_department")
        chief = check.ref("chief_representative_id", Staff, row.chief_representative_id, "staff")
        check.same_site("chief_representative_id", chief, site, "error.staff_other_site")
        delegated = extra.get("delegated_department_ids")
        if delegated:
            if not row.is_comprehensive:
                check.add("delegated_department_ids", "error.delegation_needs_comprehensive")
            for dept_id in delegated:
                d = check.ref("delegated_department_ids", Department, dept_id, "department")
                check.dept_visible_from("delegated_department_ids", d, site)
    elif kind is OrgKind.POST:
        window = check.ref("window_id", Window, row.window_id, "window")
        check.same_site("window_id", window, site, "error.window_other_site")
        dept = check.ref("department_id", Department, row.department_id, "department")
        check.dept_visible_from("department_id", dept, site)
    elif kind is OrgKind.STAFF:
        window = check.ref("window_id", Window, row.window_id, "window")
        check.same_site("window_id", window, site, "error.window_other_site")
        post = check.ref("post_id", Post, row.post_id, "post")
        check.same_site("post_id", post, site, "error.post_other_site")
        if post is not None and window is not None and post.window_id not in (None, window.id):
            check.add("post_id", "error.post_other_window")
        dept = check.ref("department_id", Department, row.department_id, "department")
        check.dept_visible_from("department_id", dept, site)
        phone = extra.get("phone")
        if phone and not PHONE_RE.match(phone):
            check.add("phone", "error.phone_format")
    check.raise_if_any()


def _validate_site(session: Session, actor: Principal, site: Site, check: _Checker, *, new: bool) -> None:
    allowed = SITE_PARENT_KINDS[SiteKind(site.kind)]
    if site.parent_id is None:
        if allowed:
            check.add("parent_id", "error.site_needs_parent", kind=f"site_kind.{site.kind}")
        elif actor.site_path != "/":
            check.add("parent_id", "error.required")
        return
    parent = session.get(Site, site.parent_id)
    if parent is None or not actor.covers_path(parent.path):
        check.add("parent_id", "error.unknown_ref", kind="kind.site", value=site.parent_id)
        return
    if not new and parent.path.startswith(site.path):
        check.add("parent_id", "error.site_cycle")
        return
    if SiteKind(parent.kind) not in allowed:
        check.add("parent_id", "error.site_parent_kind", kind=f"site_kind.{site.kind}",
                  parent=f"site_kind.{parent.kind}")


# --- writing ----------------------------------------------------------------------------------


_EXTRA_FIELDS = {"delegated_department_ids", "phone"}


def create_entity(session: Session, actor: Principal, kind: OrgKind, data: dict[str, Any], *, ip: str = "") -> Any:
    """Validate and add a row; audited."""
    actor.require(Permission.ORG_WRITE)
    spec = SPECS[kind]
    model = parse(spec.create, data)
    values = model.model_dump()
    extra = {k: values.pop(k) for k in list(values) if k in _EXTRA_FIELDS}
    row: Any = spec.table.model_validate(values)
    _validate(session, actor, kind, row, new=True, extra=extra)
    _apply_extra(row, kind, extra)
    session.add(row)
    session.flush()
    if kind is OrgKind.SITE:
        _set_path(session, row)
    if kind is OrgKind.WINDOW:
        _set_delegations(session, row.id, extra.get("delegated_department_ids") or [])
    audit.record(session, actor, f"{kind.value}.create", object_kind=kind.value, object_id=row.id,
                 site_id=_site_of(kind, row), summary=f"{row.code} {row.name}", detail=_audit_detail(values), ip=ip)
    return row


def update_entity(
    session: Session, actor: Principal, kind: OrgKind, entity_id: int, data: dict[str, Any], *, ip: str = ""
) -> Any:
    """Apply the fields given (others stay); audited with the before and after of each."""
    actor.require(Permission.ORG_WRITE)
    spec = SPECS[kind]
    row = get_entity(session, actor, kind, entity_id)
    changes = parse(spec.update, data).model_dump(exclude_unset=True)
    extra = {k: changes.pop(k) for k in list(changes) if k in _EXTRA_FIELDS}
    if kind is OrgKind.WINDOW and "delegated_department_ids" not in extra:
        extra["delegated_department_ids"] = None
    before = {k: getattr(row, k) for k in changes}
    old_path = row.path if kind is OrgKind.SITE else ""
    # Validation queries the database; flushing the half-changed row first would hit the unique
    # constraint before our own check could name the field.
    with session.no_autoflush:
        for key, value in changes.items():
            setattr(row, key, value)
        check_extra = dict(extra)
        if kind is OrgKind.WINDOW and check_extra.get("delegated_department_ids") is None:
            check_extra["delegated_department_ids"] = delegated_departments(session, row.id)
        _validate(session, actor, kind, row, new=False, extra=check_extra)
    _apply_extra(row, kind, extra)
    if kind is OrgKind.POST and "duties" in changes and before.get("duties") != changes["duties"]:
        # A change of duties makes the post's risk points due for review.
        row.duties_changed_at = utcnow()
    session.add(row)
    session.flush()
    if kind is OrgKind.SITE and row.parent_id != before.get("parent_id", row.parent_id):
        _move_subtree(session, row, old_path)
    if kind is OrgKind.WINDOW and extra.get("delegated_department_ids") is not None:
        _set_delegations(session, row.id, extra["delegated_department_ids"])
    diff = {k: [before[k], changes[k]] for k in changes if before[k] != changes[k]}
    if "phone" in extra:
        diff["phone"] = ["***", "***"]
    audit.record(session, actor, f"{kind.value}.update", object_kind=kind.value, object_id=row.id,
                 site_id=_site_of(kind, row), summary=f"{row.code} {row.name}", detail=_audit_detail(diff), ip=ip)
    return row


def delete_entity(session: Session, actor: Principal, kind: OrgKind, entity_id: int, *, ip: str = "") -> None:
    """Delete a row nothing refers to; otherwise Conflict (deactivate staff instead)."""
    actor.require(Permission.ORG_WRITE)
    row = get_entity(session, actor, kind, entity_id)
    summary = f"{row.code} {row.name}"
    site_id = _site_of(kind, row)
    try:
        with session.begin_nested():
            if kind is OrgKind.WINDOW:
                for d in session.exec(select(WindowDelegation).where(col(WindowDelegation.window_id) == entity_id)):
                    session.delete(d)
            session.delete(row)
            session.flush()
    except IntegrityError:
        raise Conflict("error.in_use", kind=f"kind.{kind.value}", code=row.code) from None
    audit.record(session, actor, f"{kind.value}.delete", object_kind=kind.value, object_id=entity_id,
                 site_id=site_id, summary=summary, ip=ip)


def _apply_extra(row: Any, kind: OrgKind, extra: dict[str, Any]) -> None:
    if kind is OrgKind.STAFF and extra.get("phone") is not None:
        row.phone_enc = crypto.encrypt(extra["phone"])


def _audit_detail(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k not in ("phone", "phone_enc")}


def _site_of(kind: OrgKind, row: Any) -> int | None:
    return int(row.id) if kind is OrgKind.SITE else int(row.site_id)


def _set_path(session: Session, site: Site) -> None:
    parent = session.get(Site, site.parent_id) if site.parent_id is not None else None
    site.path = f"{parent.path if parent else '/'}{site.id}/"
    site.depth = parent.depth + 1 if parent else 0
    session.add(site)
    session.flush()


def _move_subtree(session: Session, site: Site, old_path: str) -> None:
    _set_path(session, site)
    for child in session.exec(
        select(Site).where(col(Site.path).startswith(old_path, autoescape=True), col(Site.id) != site.id)
    ).all():
        child.path = site.path + child.path[len(old_path):]
        child.depth = child.path.strip("/").count("/")
        session.add(child)
    session.flush()


def _set_delegations(session: Session, window_id: int, department_ids: list[int]) -> None:
    for existing in session.exec(select(WindowDelegation).where(col(WindowDelegation.window_id) == window_id)):
        session.delete(existing)
    session.flush()
    for dept_id in sorted(set(department_ids)):
        session.add(WindowDelegation(window_id=window_id, department_id=dept_id))
    session.flush()


def counts(session: Session, actor: Principal) -> dict[str, int]:
    """How many of each kind lie in the actor's jurisdiction (for home pages)."""
    return {kind.value: list_entities(session, actor, kind, limit=1)[1] for kind in OrgKind}


def own_profile(session: Session, actor: Principal) -> tuple[Staff | None, Window | None, Site | None]:
    """The caller's own staff record, window and jurisdiction site (for their home page)."""
    staff = session.get(Staff, actor.staff_id) if actor.staff_id is not None else None
    window = session.get(Window, staff.window_id) if staff is not None and staff.window_id else None
    site = session.get(Site, actor.site_id) if actor.site_id is not None else None
    return staff, window, site


REF_TABLES: dict[str, type[SQLModel]] = {
    "site_id": Site, "parent_id": Site, "hall_id": Hall, "department_id": Department, "window_id": Window,
    "post_id": Post, "chief_representative_id": Staff,
}


def referenced_names(session: Session, rows: Sequence[Any]) -> dict[str, dict[int, str]]:
    """For each reference column of a page of rows, the names of the rows it points to."""
    names: dict[str, dict[int, str]] = {}
    for field_name, table in REF_TABLES.items():
        ids = {v for row in rows if (v := getattr(row, field_name, None)) is not None}
        if ids:
            tbl: Any = table
            names[field_name] = {r.id: r.name for r in session.exec(select(tbl).where(col(tbl.id).in_(ids)))}
    return names
