"""Bulk import of the organisation from an Excel workbook, the template, and the export."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from supervision import orgimport
from supervision.access import Permission, Principal
from supervision.errors import InvalidInput
from web.deps import SessionDep, SettingsDep, client_ip, needs, request_locale
from web.forms import all_or_nothing
from web.templating import render

router = APIRouter(include_in_schema=False)

Admin = Annotated[Principal, needs(Permission.ORG_READ, Permission.ORG_WRITE)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def read_upload(upload: UploadFile | None, *, max_mb: int, suffix: str = ".xlsx") -> bytes:
    """Read an uploaded workbook with a size cap and a check that it is one (an xlsx is a zip: "PK")."""
    if upload is None or not upload.filename:
        raise InvalidInput("file", "error.required")
    data = await upload.read(max_mb * 1024 * 1024 + 1)
    if len(data) > max_mb * 1024 * 1024:
        raise InvalidInput("file", "error.upload_too_large", max=max_mb)
    if not upload.filename.lower().endswith(suffix) or not data.startswith(b"PK"):
        raise InvalidInput("file", "error.upload_type", expected=suffix)
    return data


@router.get("/org/import")
def import_page(request: Request, actor: Admin) -> Response:
    return render(request, "org/import.html", {"slug": "import", "can_write": True, "report": None,
                                               "problems": []})


def _import(session: Session, actor: Principal, data: bytes, ip: str) -> orgimport.ImportReport:
    with all_or_nothing(session):
        return orgimport.import_org(session, actor, data, ip=ip)


@router.post("/org/import")
async def import_submit(request: Request, session: SessionDep, settings: SettingsDep, actor: Admin) -> Response:
    form = await request.form()
    upload = form.get("file")
    problems: list[dict[str, Any]] = []
    report = None
    try:
        data = await read_upload(upload if isinstance(upload, UploadFile) else None, max_mb=settings.max_upload_mb)
        report = await run_in_threadpool(_import, session, actor, data, client_ip(request))
    except InvalidInput as exc:
        problems = [p.as_dict(request_locale(request)) for p in exc.problems]
    status = 422 if problems else 200
    return render(request, "org/import.html", {"slug": "import", "can_write": True, "report": report,
                                               "problems": problems}, status_code=status)


@router.get("/org/import/template.xlsx")
def template(actor: Admin) -> Response:
    return Response(orgimport.build_template(), media_type=XLSX,
                    headers={"Content-Disposition": 'attachment; filename="org-template.xlsx"'})


@router.get("/org/export.xlsx")
def export(request: Request, session: SessionDep, actor: Admin) -> Response:
    """The jurisdiction's organisation in the import format (audited: it holds phone numbers)."""
    data = orgimport.export_org(session, actor, ip=client_ip(request))
    return Response(data, media_type=XLSX, headers={"Content-Disposition": 'attachment; filename="org.xlsx"'})
