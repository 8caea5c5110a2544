"""Record views of a point's source: the order, rating or visit finding a ledger entry rests on.

Who may open which view is the complaints service's (`complaints.trail`); this module says where each
kind of source leads for a reader (`SOURCE_RESOLVERS`, collected by web/composition.py) and draws the views.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Annotated

from fastapi import APIRouter, Request
from sqlmodel import Session
from starlette.responses import Response

import complaints
from complaints.lookups import org_names
from supervision.access import Permission, Principal
from web.deps import SessionDep, client_ip, needs
from web.labels import Ref
from web.sources import SourceResolver, source_name
from web.templating import render

router = APIRouter(include_in_schema=False)

# Every person may have records; who may open which is decided per record by the service.
Reader = Annotated[Principal, needs(Permission.OWN_RECORDS)]

View = complaints.trail.View
Access = complaints.trail.SourceAccess


def _resolver(kind: str, access: Callable[[Session, Principal, Sequence[str]], Mapping[str, Access]],
              links: Mapping[View, Callable[[Access], str]]) -> SourceResolver:
    def resolve(session: Session, reader: Principal, ids: Sequence[str], locale: str) -> dict[str, Ref]:
        found = access(session, reader, ids)
        return {ident: Ref(source_name(kind, a.name, locale),
                           links[a.view](a) if a.view is not None and a.view in links else None)
                for ident, a in found.items()}

    return resolve


SOURCE_RESOLVERS: dict[str, SourceResolver] = {
    "work_order": _resolver("work_order", complaints.trail.order_access, {
        View.FULL: lambda a: f"/complaints/orders/{a.record_id}",
        View.RECORD: lambda a: f"/records/work-orders/{a.record_id}",
    }),
    "rating": _resolver("rating", complaints.trail.rating_access, {
        View.RECORD: lambda a: f"/records/ratings/{a.record_id}",
    }),
    "visit_finding": _resolver("visit_finding", complaints.trail.finding_access, {
        View.FULL: lambda a: f"/complaints/visits/{a.visit_id}#finding-{a.record_id}",
        View.RECORD: lambda a: f"/records/visit-findings/{a.record_id}",
    }),
    "visit": _resolver("visit", complaints.trail.visit_access, {
        View.FULL: lambda a: f"/complaints/visits/{a.record_id}",
    }),
}


@router.get("/records/work-orders/{order_id}")
def order_record(request: Request, session: SessionDep, reader: Reader, order_id: int) -> Response:
    """What a point from an order rests on: outcome and points, never the caller nor the complaint's text."""
    record = complaints.trail.order_record(session, reader, order_id, ip=client_ip(request))
    return render(request, "records/work_order.html", {
        "r": record, "names": org_names(session, [record]), "d": {"entries": record.entries},
    })


@router.get("/records/ratings/{rating_id}")
def rating_record(request: Request, session: SessionDep, reader: Reader, rating_id: int) -> Response:
    """A rating: its level, the rater's reason, the appeal and the rectification it opened."""
    record = complaints.trail.rating_record(session, reader, rating_id)
    return render(request, "records/rating.html", {
        "r": record, "names": org_names(session, [record]), "d": {"entries": record.entries},
    })


@router.get("/records/visit-findings/{finding_id}")
def finding_record(request: Request, session: SessionDep, reader: Reader, finding_id: int) -> Response:
    """A visit finding: when, how and what was found at the window, without who visited."""
    record = complaints.trail.finding_record(session, reader, finding_id)
    return render(request, "records/visit_finding.html", {
        "r": record, "names": org_names(session, [record]), "d": {"entries": record.entries},
    })
