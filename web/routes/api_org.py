"""The organisation as JSON under /api/v1: sites, halls, departments, windows, posts, staff."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from supervision import org
from supervision.access import Permission, Principal
from supervision.org import SPECS, OrgKind
from web.deps import SessionDep, client_ip, needs

router = APIRouter(prefix="/api/v1", tags=["organisation"])

T = TypeVar("T")

Reader = Annotated[Principal, needs(Permission.ORG_READ)]
Writer = Annotated[Principal, needs(Permission.ORG_READ, Permission.ORG_WRITE)]


class Page(BaseModel, Generic[T]):
    """A list: one page of rows and the total count that matches the filters."""

    data: list[T]
    count: int


PATHS: dict[OrgKind, str] = {
    OrgKind.SITE: "sites",
    OrgKind.HALL: "halls",
    OrgKind.DEPARTMENT: "departments",
    OrgKind.WINDOW: "windows",
    OrgKind.POST: "posts",
    OrgKind.STAFF: "staff",
}


def _add_routes(kind: OrgKind) -> None:
    spec = SPECS[kind]
    public: Any = spec.public
    create: Any = spec.create
    update: Any = spec.update
    path = PATHS[kind]
    label = kind.value

    def list_rows(
        request: Request, session: SessionDep, actor: Reader,
        q: Annotated[str | None, Query(description="Search code and name")] = None,
        under_site_id: Annotated[int | None, Query(description="Only rows in this site's subtree")] = None,
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> Page[Any]:
        filters = {k: v for k, v in request.query_params.items() if k in spec.filters}
        rows, count = org.list_entities(session, actor, kind, filters=filters, q=q, under_site_id=under_site_id,
                                        offset=offset, limit=limit)
        return Page[Any](data=[org.to_public(session, kind, r) for r in rows], count=count)

    list_rows.__doc__ = f"List {label} rows in the caller's jurisdiction. Filters: {', '.join(spec.filters)}."

    def get_row(session: SessionDep, actor: Reader, entity_id: int) -> Any:
        return org.to_public(session, kind, org.get_entity(session, actor, kind, entity_id))

    get_row.__doc__ = f"One {label}."

    def create_row(request: Request, session: SessionDep, actor: Writer, body: Any) -> Any:
        row = org.create_entity(session, actor, kind, body.model_dump(), ip=client_ip(request))
        return org.to_public(session, kind, row)

    create_row.__doc__ = f"Create a {label}; every problem is reported with its field."

    def update_row(request: Request, session: SessionDep, actor: Writer, entity_id: int, body: Any) -> Any:
        row = org.update_entity(session, actor, kind, entity_id, body.model_dump(exclude_unset=True),
                                ip=client_ip(request))
        return org.to_public(session, kind, row)

    update_row.__doc__ = f"Change the given fields of a {label}."

    def delete_row(request: Request, session: SessionDep, actor: Writer, entity_id: int) -> Response:
        org.delete_entity(session, actor, kind, entity_id, ip=client_ip(request))
        return Response(status_code=204)

    delete_row.__doc__ = f"Delete a {label} nothing refers to (409 otherwise)."

    # Typed bodies give the OpenAPI description its schemas; services re-validate (and name every field).
    create_row.__annotations__["body"] = Annotated[create, Body()]
    update_row.__annotations__["body"] = Annotated[update, Body()]

    router.add_api_route(f"/{path}", list_rows, methods=["GET"], response_model=Page[public],
                         name=f"list_{path}", summary=f"List {path}")
    router.add_api_route(f"/{path}/{{entity_id}}", get_row, methods=["GET"], response_model=public,
                         name=f"get_{label}", summary=f"Get a {label}")
    router.add_api_route(f"/{path}", create_row, methods=["POST"], response_model=public, status_code=201,
                         name=f"create_{label}", summary=f"Create a {label}")
    router.add_api_route(f"/{path}/{{entity_id}}", update_row, methods=["PATCH"], response_model=public,
                         name=f"update_{label}", summary=f"Update a {label}")
    router.add_api_route(f"/{path}/{{entity_id}}", delete_row, methods=["DELETE"], status_code=204,
                         response_class=Response, name=f"delete_{label}", summary=f"Delete a {label}")


for _kind in OrgKind:
    _add_routes(_kind)
