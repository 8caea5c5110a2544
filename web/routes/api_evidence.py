"""Event evidence under /api/v1: an event's stills and clip (with their hashes), a file, the export bundle."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

import cameras
from cameras import EvidenceItemPublic
from supervision.access import Permission, Principal
from web.deps import SessionDep, client_ip, needs
from web.routes.api_org import Page

router = APIRouter(prefix="/api/v1", tags=["evidence"])

Viewer = Annotated[Principal, needs(Permission.CAMERAS_VIEW)]
Officer = Annotated[Principal, needs(Permission.CAMERAS_VIEW, Permission.LEDGER_WRITE)]


@router.get("/video-events/{event_id}/evidence", response_model=Page[EvidenceItemPublic],
            summary="An event's evidence: stills and clip, with their sha256 and chain position")
def evidence_list(session: SessionDep, actor: Viewer, event_id: int) -> Page[EvidenceItemPublic]:
    """Oldest first. `altered`: the file or its log row no longer matches the hash chain; `purged`: removed by the
    retention (the row stays). `url` downloads the file."""
    rows = cameras.list_video_evidence(session, actor, event_id)
    return Page[EvidenceItemPublic](data=rows, count=len(rows))


def _first_request(request: Request) -> bool:
    """A whole download or the first range of one: a <video> asks for many ranges; one audit entry is enough."""
    rng = request.headers.get("range", "").replace(" ", "")
    return not rng or rng.startswith("bytes=0-")


@router.get("/video-events/{event_id}/evidence/{item_id}", summary="One evidence file (JPEG or MP4)",
            response_class=FileResponse,
            responses={200: {"content": {"image/jpeg": {}, "video/mp4": {}}}, 206: {"description": "A range"}})
def evidence_file(request: Request, session: SessionDep, actor: Viewer, event_id: int, item_id: int) -> Response:
    """The file as stored (content-addressed by its sha256); answers range requests so a browser can seek in the
    clip. Audited: who downloaded which file."""
    found = cameras.open_evidence_file(session, actor, event_id, item_id, ip=client_ip(request),
                                       audited=_first_request(request))
    return FileResponse(found.path, media_type=found.content_type, filename=found.filename,
                        content_disposition_type="inline",
                        headers={"Cache-Control": "private, max-age=3600", "X-Content-SHA256": found.item.sha256})


@router.get("/video-events/{event_id}/evidence.zip", summary="The evidence bundle of an event for a discipline case",
            response_class=Response, responses={200: {"content": {"application/zip": {}}}})
def evidence_zip(request: Request, session: SessionDep, actor: Officer, event_id: int) -> Response:
    """A zip of the event's kept files and `manifest.json`: the event, each file's sha256 and size, and the rows of
    the evidence chain (prev_hash, chain_hash) to check them against. Audited."""
    name, data = cameras.export_evidence(session, actor, event_id, ip=client_ip(request))
    return Response(data, media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
