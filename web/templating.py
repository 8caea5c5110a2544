"""Jinja2 templates with the translation function, the caller and the CSRF token in every context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from supervision.access import Permission, Principal
from supervision.i18n import has_message, translate
from web.deps import request_locale
from web.labels import LABELS
from web.sources import Trail

TEMPLATE_DIR = Path(__file__).parent / "templates"
templates = Jinja2Templates(directory=str(TEMPLATE_DIR))


def _local_time(value: datetime | None, request: Request, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(request.app.state.settings.tz).strftime(fmt)


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str
    prefix: str
    permission: Permission | None = None
    staff_only: bool = False  # only for people linked to a staff record (their own records)


# Domains add their own entries through `add_nav_item` when their routes are mounted.
NAV_ITEMS: list[NavItem] = [
    NavItem("/", "ui.nav_home", "/"),
    NavItem("/org/sites", "ui.nav_org", "/org", Permission.ORG_READ),
    NavItem("/ledger", "ui.nav_ledger", "/ledger", Permission.LEDGER_READ),
    NavItem("/me", "ui.nav_me", "/me", Permission.OWN_RECORDS, staff_only=True),
    NavItem("/admin/users", "ui.nav_admin", "/admin", Permission.USERS_MANAGE),
    NavItem("/calendar", "ui.nav_calendar", "/calendar", Permission.CALENDAR_READ),
    NavItem("/office-hours", "ui.nav_office_hours", "/office-hours", Permission.ORG_READ),
    NavItem("/leave", "ui.nav_leave", "/leave", Permission.LEAVE_APPROVE),
]


def add_nav_item(item: NavItem, *, before: str | None = None) -> None:
    if any(existing.href == item.href for existing in NAV_ITEMS):
        return
    index = next((i for i, n in enumerate(NAV_ITEMS) if n.href == before), len(NAV_ITEMS))
    NAV_ITEMS.insert(index, item)


def nav_items(principal: Principal | None) -> list[NavItem]:
    if principal is None:
        return []
    return [n for n in NAV_ITEMS if (n.permission is None or principal.can(n.permission))
            and (not n.staff_only or principal.staff_id is not None)]


def _in_locale(label: Callable[..., Any], locale: str) -> Callable[..., Any]:
    return lambda *args: label(*args, locale)


def render(request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200) -> Response:
    """Render a page in the caller's language."""
    locale = request_locale(request)
    principal = getattr(request.state, "principal", None)

    def t(key: str, /, **params: Any) -> str:
        return translate(key, locale, **params)

    def url_with(**changes: Any) -> str:
        params = dict(request.query_params)
        for key, value in changes.items():
            if value is None:
                params.pop(key, None)
            else:
                params[key] = str(value)
        return f"{request.url.path}?{urlencode(params)}" if params else request.url.path

    ctx: dict[str, Any] = {
        "request": request,
        "t": t,
        "locale": locale,
        "principal": principal,
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "local_time": lambda v, fmt="%Y-%m-%d %H:%M": _local_time(v, request, fmt),
        "url_with": url_with,
        "today": date.today(),
        "nav_items": nav_items,
        "has_message": has_message,
    }
    # One label function per kind of value (web/labels.py), in the reader's language.
    ctx.update({name: _in_locale(label, locale) for name, label in LABELS.items()})
    # Sources and actors need the reader and the request's session: links only where this reader may follow them.
    trail = Trail(getattr(request.state, "db_session", None), principal, locale,
                  getattr(request.app.state, "source_resolvers", {}))
    ctx.update(trail=trail, source_ref=trail.source, code_ref=trail.code_ref, actor=trail.actor,
               ledger_rows=trail.ledger_rows, reason_text=trail.reason)
    ctx.update(context or {})
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)
