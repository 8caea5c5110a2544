"""Liveness and readiness: which database the service reached."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from supervision.db import database_name, ping

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=None)
def healthz(request: Request) -> JSONResponse:
    """200 with the database reached, or 503 when it cannot be reached."""
    engine = request.app.state.engine
    body: dict[str, Any] = {"database": database_name(engine), "backend": engine.dialect.name}
    try:
        ping(engine)
    except Exception as exc:
        body.update(status="unavailable", error=exc.__class__.__name__)
        return JSONResponse(body, status_code=503)
    body["status"] = "ok"
    return JSONResponse(body)
