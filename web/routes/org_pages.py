"""Pages to browse and edit the organisation: sites, halls, departments, windows, posts and staff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.responses import Response

from supervision import org
from supervision.access import Permission, Principal
from supervision.errors import InvalidInput, NotFound
from supervision.models import Employment, SiteKind, StaffRank
from supervision.org import OrgKind
from web.deps import SessionDep, client_ip, needs, request_locale
from web.forms import all_or_nothing
from web.routes.reports_pages import last_month, org_trend
from web.templating import render

router = APIRouter(include_in_schema=False)

Reader = Annotated[Principal, needs(Permission.ORG_READ)]
Writer = Annotated[Principal, needs(Permission.ORG_READ, Permission.ORG_WRITE)]

SLUGS: dict[str, OrgKind] = {
    "sites": OrgKind.SITE,
    "halls": OrgKind.HALL,
    "departments": OrgKind.DEPARTMENT,
    "windows": OrgKind.WINDOW,
    "posts": OrgKind.POST,
    "staff": OrgKind.STAFF,
}
SLUG_OF: dict[OrgKind, str] = {kind: slug for slug, kind in SLUGS.items()}


@dataclass(frozen=True)
class FormField:
    name: str
    widget: str = "text"  # text | textarea | select | multiselect | checkbox | tel
    ref: OrgKind | None = None  # options come from rows of this kind
    enum: tuple[tuple[str, str], ...] = ()  # (value, message key)
    required: bool = False


def _enum(values: type[Any], prefix: str) -> tuple[tuple[str, str], ...]:
    return tuple((v.value, f"{prefix}.{v.value}") for v in values)


FIELDS: dict[OrgKind, tuple[FormField, ...]] = {
    OrgKind.SITE: (
        FormField("code", required=True), FormField("name", required=True),
        FormField("kind", "select", enum=_enum(SiteKind, "site_kind"), required=True),
        FormField("parent_id", "select", ref=OrgKind.SITE), FormField("address"),
    ),
    OrgKind.HALL: (
        FormField("code", required=True), FormField("name", required=True),
        FormField("site_id", "select", ref=OrgKind.SITE, required=True), FormField("floor"),
    ),
    OrgKind.DEPARTMENT: (
        FormField("code", required=True), FormField("name", required=True),
        FormField("site_id", "select", ref=OrgKind.SITE, required=True),
    ),
    OrgKind.WINDOW: (
        FormField("code", required=True), FormField("name", required=True), FormField("number"),
        FormField("site_id", "select", ref=OrgKind.SITE, required=True),
        FormField("hall_id", "select", ref=OrgKind.HALL),
        FormField("department_id", "select", ref=OrgKind.DEPARTMENT),
        FormField("is_comprehensive", "checkbox"),
        FormField("delegated_department_ids", "multiselect", ref=OrgKind.DEPARTMENT),
        FormField("chief_representative_id", "select", ref=OrgKind.STAFF),
    ),
    OrgKind.POST: (
        FormField("code", required=True), FormField("name", required=True),
        FormField("site_id", "select", ref=OrgKind.SITE, required=True),
        FormField("window_id", "select", ref=OrgKind.WINDOW),
        FormField("department_id", "select", ref=OrgKind.DEPARTMENT),
        FormField("duties", "textarea"),
    ),
    OrgKind.STAFF: (
        FormField("code", required=True), FormField("name", required=True),
        FormField("rank", "select", enum=_enum(StaffRank, "rank"), required=True),
        FormField("employment", "select", enum=_enum(Employment, "employment"), required=True),
        FormField("site_id", "select", ref=OrgKind.SITE, required=True),
        FormField("department_id", "select", ref=OrgKind.DEPARTMENT),
        FormField("window_id", "select", ref=OrgKind.WINDOW),
        FormField("post_id", "select", ref=OrgKind.POST),
        FormField("title"), FormField("phone", "tel"), FormField("active", "checkbox"),
    ),
}

# Columns of the list pages (after code and name).
COLUMNS: dict[OrgKind, tuple[str, ...]] = {
    OrgKind.SITE: ("kind", "parent_id", "address"),
    OrgKind.HALL: ("site_id", "floor"),
    OrgKind.DEPARTMENT: ("site_id",),
    OrgKind.WINDOW: ("number", "site_id", "hall_id", "department_id", "is_comprehensive"),
    OrgKind.POST: ("site_id", "window_id", "department_id"),
    OrgKind.STAFF: ("rank", "employment", "site_id", "window_id", "post_id", "active"),
}

FILTERS: dict[OrgKind, tuple[FormField, ...]] = {
    OrgKind.SITE: (FormField("kind", "select", enum=_enum(SiteKind, "site_kind")),),
    OrgKind.HALL: (),
    OrgKind.DEPARTMENT: (),
    OrgKind.WINDOW: (FormField("hall_id", "select", ref=OrgKind.HALL),),
    OrgKind.POST: (FormField("window_id", "select", ref=OrgKind.WINDOW),),
    OrgKind.STAFF: (FormField("rank", "select", enum=_enum(StaffRank, "rank")),
                    FormField("window_id", "select", ref=OrgKind.WINDOW)),
}

OPTION_LIMIT = 3000


def _kind(slug: str) -> OrgKind:
    kind = SLUGS.get(slug)
    if kind is None:
        raise NotFound("error.not_found")
    return kind


def _options(session: Session, actor: Principal, kinds: set[OrgKind]) -> dict[OrgKind, list[tuple[int, str]]]:
    """Choices for reference fields, limited to the actor's jurisdiction."""
    out: dict[OrgKind, list[tuple[int, str]]] = {}
    for kind in kinds:
        rows, _ = org.list_entities(session, actor, kind, limit=OPTION_LIMIT)
        if kind is OrgKind.SITE:
            out[kind] = [(r.id, "\u3000" * r.depth + r.name) for r in rows]
        else:
            out[kind] = [(r.id, f"{r.name} ({r.code})") for r in rows]
    return out


def _form_to_data(kind: OrgKind, form: FormData) -> dict[str, Any]:
    """Turn a submitted form into service input: empty selects become None, checkboxes booleans."""
    data: dict[str, Any] = {}
    for f in FIELDS[kind]:
        if f.widget == "checkbox":
            data[f.name] = form.get(f.name) in ("on", "true", "1")
        elif f.widget == "multiselect":
            data[f.name] = [v for v in form.getlist(f.name) if isinstance(v, str) and v]
        else:
            raw = form.get(f.name)
            value = raw.strip() if isinstance(raw, str) else ""
            if f.ref is not None or f.name.endswith("_id"):
                data[f.name] = value or None
            elif f.widget == "tel" and not value:
                continue
            else:
                data[f.name] = value
    return data


def _form_page(request: Request, session: Session, actor: Principal, kind: OrgKind, *, values: dict[str, Any],
               entity: Any = None, problems: list[dict[str, Any]] | None = None, status_code: int = 200) -> Response:
    refs = {f.ref for f in FIELDS[kind] if f.ref is not None}
    context: dict[str, Any] = {
        "kind": kind.value, "slug": SLUG_OF[kind], "fields": FIELDS[kind], "values": values, "entity": entity,
        "options": _options(session, actor, refs), "problems": problems or [],
        "can_write": actor.can(Permission.ORG_WRITE), "related": _related(session, actor, kind, entity),
    }
    # A person's and a window's page show their 12-month score trend (issue 12 §5) to readers of scores.
    today = datetime.now(request.app.state.settings.tz).date()
    context["trend"] = org_trend(session, actor, kind, entity, until=last_month(today), locale=request_locale(request))
    return render(request, "org/form.html", context, status_code=status_code)


def _related(session: Session, actor: Principal, kind: OrgKind, entity: Any) -> list[tuple[str, str, list[Any]]]:
    """Lists shown under an entity: what belongs to it."""
    if entity is None:
        return []
    out: list[tuple[str, str, list[Any]]] = []

    def add(child: OrgKind, **filters: Any) -> None:
        rows, _ = org.list_entities(session, actor, child, filters=filters, limit=200)
        out.append((child.value, SLUG_OF[child], list(rows)))

    if kind is OrgKind.SITE:
        add(OrgKind.SITE, parent_id=entity.id)
        add(OrgKind.HALL, site_id=entity.id)
        add(OrgKind.WINDOW, site_id=entity.id)
    elif kind is OrgKind.HALL:
        add(OrgKind.WINDOW, hall_id=entity.id)
    elif kind is OrgKind.DEPARTMENT:
        add(OrgKind.WINDOW, department_id=entity.id)
        add(OrgKind.POST, department_id=entity.id)
    elif kind is OrgKind.WINDOW:
        add(OrgKind.POST, window_id=entity.id)
        add(OrgKind.STAFF, window_id=entity.id)
    elif kind is OrgKind.POST:
        add(OrgKind.STAFF, post_id=entity.id)
    return out


def _entity_values(session: Session, kind: OrgKind, entity: Any) -> dict[str, Any]:
    values: dict[str, Any] = entity.model_dump()
    if kind is OrgKind.WINDOW:
        values["delegated_department_ids"] = org.delegated_departments(session, entity.id)
    if kind is OrgKind.STAFF:
        values["phone"] = ""
        values["phone_masked"] = org.to_public(session, kind, entity).phone_masked
    return values


@router.get("/org")
def org_index() -> Response:
    return RedirectResponse("/org/sites", status_code=303)


@router.get("/org/{slug}")
def list_page(
    request: Request, session: SessionDep, actor: Reader, slug: str,
    q: str = "", site_id: int | None = None, offset: int = 0, limit: int = 50,
) -> Response:
    """A paged, filtered list of one kind."""
    kind = _kind(slug)
    filters: dict[str, Any] = {}
    for f in FILTERS[kind]:
        raw = request.query_params.get(f.name)
        if raw:
            filters[f.name] = int(raw) if f.ref is not None and raw.isdigit() else raw
    if kind is OrgKind.STAFF and request.query_params.get("post_id", "").isdigit():
        filters["post_id"] = int(request.query_params["post_id"])
    rows, count = org.list_entities(session, actor, kind, filters=filters, q=q or None, under_site_id=site_id,
                                    offset=offset, limit=limit)
    refs = {f.ref for f in FILTERS[kind] if f.ref is not None} | {OrgKind.SITE}
    return render(request, "org/list.html", {
        "kind": kind.value, "slug": slug, "rows": rows, "count": count, "offset": offset, "limit": limit,
        "columns": COLUMNS[kind], "names": org.referenced_names(session, list(rows)), "filters": FILTERS[kind],
        "filter_values": dict(request.query_params), "options": _options(session, actor, refs), "q": q,
        "slugs": SLUG_OF, "can_write": actor.can(Permission.ORG_WRITE),
    })


@router.get("/org/{slug}/new")
def new_page(request: Request, session: SessionDep, actor: Writer, slug: str) -> Response:
    kind = _kind(slug)
    values: dict[str, Any] = {"active": True, "rank": "general", "employment": "established",
                              "site_id": actor.site_id, "parent_id": actor.site_id}
    for key in ("site_id", "parent_id", "window_id", "hall_id", "department_id", "post_id"):
        if request.query_params.get(key, "").isdigit():
            values[key] = int(request.query_params[key])
    return _form_page(request, session, actor, kind, values=values)


@router.post("/org/{slug}/new")
async def create_submit(request: Request, session: SessionDep, actor: Writer, slug: str) -> Response:
    kind = _kind(slug)
    form = await request.form()
    data = _form_to_data(kind, form)
    try:
        with all_or_nothing(session):
            row = org.create_entity(session, actor, kind, data, ip=client_ip(request))
    except InvalidInput as exc:
        locale = request_locale(request)
        return _form_page(request, session, actor, kind, values=data,
                          problems=[p.as_dict(locale) for p in exc.problems], status_code=422)
    return RedirectResponse(f"/org/{slug}/{row.id}?saved=1", status_code=303)


@router.get("/org/{slug}/{entity_id}")
def detail_page(request: Request, session: SessionDep, actor: Reader, slug: str, entity_id: int) -> Response:
    kind = _kind(slug)
    entity = org.get_entity(session, actor, kind, entity_id)
    return _form_page(request, session, actor, kind, values=_entity_values(session, kind, entity), entity=entity)


@router.post("/org/{slug}/{entity_id}")
async def update_submit(request: Request, session: SessionDep, actor: Writer, slug: str, entity_id: int) -> Response:
    kind = _kind(slug)
    entity = org.get_entity(session, actor, kind, entity_id)
    form = await request.form()
    data = _form_to_data(kind, form)
    try:
        with all_or_nothing(session):
            org.update_entity(session, actor, kind, entity_id, data, ip=client_ip(request))
    except InvalidInput as exc:
        locale = request_locale(request)
        entity = org.get_entity(session, actor, kind, entity_id)
        return _form_page(request, session, actor, kind, values=data, entity=entity,
                          problems=[p.as_dict(locale) for p in exc.problems], status_code=422)
    return RedirectResponse(f"/org/{slug}/{entity.id}?saved=1", status_code=303)


@router.post("/org/{slug}/{entity_id}/delete")
def delete_submit(request: Request, session: SessionDep, actor: Writer, slug: str, entity_id: int) -> Response:
    kind = _kind(slug)
    org.delete_entity(session, actor, kind, entity_id, ip=client_ip(request))
    return RedirectResponse(f"/org/{slug}?deleted=1", status_code=303)


@router.post("/org/staff/{entity_id}/phone")
def reveal_phone(request: Request, session: SessionDep, actor: Writer, entity_id: int) -> Response:
    """Show a staff member's full phone number once; the view is audited."""
    phone = org.staff_phone(session, actor, entity_id, ip=client_ip(request))
    entity = org.get_entity(session, actor, OrgKind.STAFF, entity_id)
    values = _entity_values(session, OrgKind.STAFF, entity)
    values["phone_revealed"] = phone
    return _form_page(request, session, actor, OrgKind.STAFF, values=values, entity=entity)
