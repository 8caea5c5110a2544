"""The core's JSON API: the caller, users, machine tokens, the audit log, working days, the ledger."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from pydantic import BaseModel, Field
from sqlmodel import Session

from supervision import accounts, audit, ledger
from supervision import workdays as wd
from supervision.access import Permission, Principal
from supervision.errors import InvalidInput
from supervision.i18n import has_message, translate
from supervision.models import LedgerEntry, Role
from supervision.workdays import load_calendar
from web.deps import CurrentPrincipal, SessionDep, client_ip, needs
from web.routes.api_org import Page

router = APIRouter(prefix="/api/v1")

UserAdmin = Annotated[Principal, needs(Permission.USERS_MANAGE)]
TokenAdmin = Annotated[Principal, needs(Permission.TOKENS_MANAGE)]
AuditReader = Annotated[Principal, needs(Permission.AUDIT_READ)]
CalendarReader = Annotated[Principal, needs(Permission.CALENDAR_READ)]
CalendarWriter = Annotated[Principal, needs(Permission.CALENDAR_WRITE)]
LedgerReader = Annotated[Principal, needs(Permission.OWN_RECORDS)]
LedgerWriter = Annotated[Principal, needs(Permission.LEDGER_WRITE)]


class MeOut(BaseModel):
    kind: str
    id: int | None
    name: str
    role: str | None
    site_id: int | None
    staff_id: int | None
    locale: str
    permissions: list[str]
    department_ids: list[int] = Field(default_factory=list, description="The departments a handler acts for")


@router.get("/me", response_model=MeOut, tags=["auth"])
def me(principal: CurrentPrincipal) -> MeOut:
    """Who the token or session belongs to, and what it may do."""
    return MeOut(kind=principal.kind, id=principal.id, name=principal.name,
                 role=principal.role.value if principal.role else None, site_id=principal.site_id,
                 staff_id=principal.staff_id, locale=principal.locale,
                 permissions=sorted(p.value for p in principal.permissions),
                 department_ids=sorted(principal.department_ids))


# --- users ------------------------------------------------------------------------------------


def _user_out(session: Session, user: Any) -> accounts.UserPublic:
    return accounts.user_public(session, user)


@router.get("/users", response_model=Page[accounts.UserPublic], tags=["users"])
def list_users(session: SessionDep, actor: UserAdmin, role: Role | None = None, q: str | None = None,
               offset: Annotated[int, Query(ge=0)] = 0,
               limit: Annotated[int, Query(ge=1, le=500)] = 50) -> Page[accounts.UserPublic]:
    rows, count = accounts.list_users(session, actor, role=role, q=q, offset=offset, limit=limit)
    return Page[accounts.UserPublic](data=[_user_out(session, u) for u in rows], count=count)


@router.post("/users", response_model=accounts.UserPublic, status_code=201, tags=["users"])
def create_user(request: Request, session: SessionDep, actor: UserAdmin,
                body: Annotated[accounts.UserCreate, Body()]) -> accounts.UserPublic:
    """Create a user with a role and a jurisdiction (a site); a handler with the departments they act for."""
    return _user_out(session, accounts.create_user(session, actor, body.model_dump(), ip=client_ip(request)))


@router.patch("/users/{user_id}", response_model=accounts.UserPublic, tags=["users"])
def update_user(request: Request, session: SessionDep, actor: UserAdmin, user_id: int,
                body: Annotated[accounts.UserUpdate, Body()]) -> accounts.UserPublic:
    data = body.model_dump(exclude_unset=True)
    return _user_out(session, accounts.update_user(session, actor, user_id, data, ip=client_ip(request)))


# --- machine tokens ---------------------------------------------------------------------------


class TokenCreated(accounts.ApiTokenPublic):
    token: str = Field(description="The secret, shown this once")


@router.get("/api-tokens", response_model=Page[accounts.ApiTokenPublic], tags=["api tokens"])
def list_tokens(session: SessionDep, actor: TokenAdmin) -> Page[accounts.ApiTokenPublic]:
    rows = accounts.list_api_tokens(session, actor)
    return Page[accounts.ApiTokenPublic](data=[accounts.token_public(t) for t in rows], count=len(rows))


@router.post("/api-tokens", response_model=TokenCreated, status_code=201, tags=["api tokens"])
def create_token(request: Request, session: SessionDep, actor: TokenAdmin,
                 body: Annotated[accounts.ApiTokenCreate, Body()]) -> TokenCreated:
    """Issue a long-lived token with scopes for a machine (telephony, rating pads, camera workers)."""
    secret, token = accounts.create_api_token(session, actor, body.model_dump(), ip=client_ip(request))
    return TokenCreated(token=secret, **accounts.token_public(token).model_dump())


@router.post("/api-tokens/{token_id}/revoke", response_model=accounts.ApiTokenPublic, tags=["api tokens"])
def revoke_token(request: Request, session: SessionDep, actor: TokenAdmin, token_id: int) -> accounts.ApiTokenPublic:
    return accounts.token_public(accounts.revoke_api_token(session, actor, token_id, ip=client_ip(request)))


# --- audit ------------------------------------------------------------------------------------


class AuditOut(BaseModel):
    seq: int
    at: datetime
    actor_kind: str
    actor_id: int | None
    actor_name: str
    action: str
    object_kind: str
    object_id: str
    site_id: int | None
    summary: str
    detail: str
    ip: str
    hash: str


@router.get("/audit", response_model=Page[AuditOut], tags=["audit"])
def list_audit(
    session: SessionDep, actor: AuditReader, action: str | None = None, actor_name: str | None = None,
    object_kind: str | None = None, object_id: str | None = None, since: datetime | None = None,
    until: datetime | None = None, offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[AuditOut]:
    """The audit log, newest first, filtered."""
    rows, count = audit.search(session, actor, action=action, actor_name=actor_name, object_kind=object_kind,
                               object_id=object_id, since=since, until=until, offset=offset, limit=limit)
    return Page[AuditOut](data=[AuditOut.model_validate(r, from_attributes=True) for r in rows], count=count)


# --- working days -----------------------------------------------------------------------------


class CalendarOut(BaseModel):
    value: Any
    provisional: bool
    source: str


def _answer(ans: wd.Answer[Any]) -> CalendarOut:
    value = ans.value.isoformat() if isinstance(ans.value, date) else ans.value
    return CalendarOut(value=value, provisional=ans.provisional, source=ans.source)


Strict = Annotated[bool, Query(description="Answer 422 `calendar_not_covered` for a year nobody has entered, "
                                           "instead of a provisional answer")]


# The years the calendar can answer for, even provisionally (Qingming's solar term is computed for 1900–2100;
# declared years are 2000–2100).
CALENDAR_FIRST, CALENDAR_LAST = date(2000, 1, 1), date(2100, 12, 31)
CalendarDay = Annotated[date, Query(ge=CALENDAR_FIRST, le=CALENDAR_LAST)]


@router.get("/calendar/workday", response_model=CalendarOut, tags=["calendar"])
def is_workday(session: SessionDep, actor: CalendarReader, day: CalendarDay, strict: Strict = False) -> CalendarOut:
    """Is this a working day? For a year nobody has entered, a provisional answer (`provisional: true`)."""
    return _answer(load_calendar(session, strict=strict).is_workday(day))


@router.get("/calendar/add", response_model=CalendarOut, tags=["calendar"])
def add_workdays(session: SessionDep, actor: CalendarReader, start: CalendarDay,
                 days: Annotated[int, Query(ge=-3650, le=3650)], strict: Strict = False) -> CalendarOut:
    """The day N working days after `start` (a time limit's due date); provisional past the years entered."""
    try:
        return _answer(load_calendar(session, strict=strict).add_workdays(start, days))
    except NotImplementedError:
        # A count of working days can reach past 2100 from a start inside it: refused by its field, not a 500.
        raise InvalidInput("days", "error.invalid_value", detail="2000–2100") from None


@router.get("/calendar/between", response_model=CalendarOut, tags=["calendar"])
def workdays_between(session: SessionDep, actor: CalendarReader, start: CalendarDay, end: CalendarDay,
                     strict: Strict = False) -> CalendarOut:
    """Working days after `start` up to and including `end`; provisional past the years entered."""
    return _answer(load_calendar(session, strict=strict).workdays_between(start, end))


class OverrideIn(BaseModel):
    day: date
    is_workday: bool
    name: str = ""


class OverrideOut(OverrideIn):
    pass


@router.get("/calendar/overrides", response_model=Page[OverrideOut], tags=["calendar"])
def list_overrides(session: SessionDep, actor: CalendarReader, year: int | None = None) -> Page[OverrideOut]:
    rows = wd.overrides(session, year=year)
    return Page[OverrideOut](data=[OverrideOut.model_validate(r, from_attributes=True) for r in rows],
                             count=len(rows))


@router.put("/calendar/overrides", response_model=OverrideOut, tags=["calendar"])
def put_override(request: Request, session: SessionDep, actor: CalendarWriter,
                 body: Annotated[OverrideIn, Body()]) -> OverrideOut:
    """Mark a day worked or off for the whole city (city-level admins only: 403 otherwise).

    Every provisional due date is then recomputed, each with an event saying why.
    """
    row = wd.set_override(session, actor, day=body.day, is_workday=body.is_workday, name=body.name,
                          ip=client_ip(request))
    return OverrideOut.model_validate(row, from_attributes=True)


class YearIn(BaseModel):
    year: int
    notice: str


@router.post("/calendar/years", response_model=YearIn, status_code=201, tags=["calendar"])
def declare_year(request: Request, session: SessionDep, actor: CalendarWriter,
                 body: Annotated[YearIn, Body()]) -> YearIn:
    """Declare a year entered from the State Council's notice (after adding its overrides); city-level admins only.

    Every provisional due date is then recomputed, each with an event saying why.
    """
    row = wd.declare_year(session, actor, year=body.year, notice=body.notice, ip=client_ip(request))
    return YearIn(year=row.year, notice=row.notice)


# --- ledger -----------------------------------------------------------------------------------


class LedgerIn(BaseModel):
    staff_id: int | None = None
    window_id: int | None = None
    day: date
    kind: str
    points: float
    reason: str
    source_kind: str = "manual"
    source_id: str = ""


class LedgerOut(BaseModel):
    id: int
    staff_id: int | None
    window_id: int | None
    site_id: int
    day: date
    kind: str
    points: float
    reason: str = Field(description="In the caller's language (a reason the system wrote is stored as a key)")
    reason_key: str | None = Field(None, description="The message key of a reason the system wrote")
    reason_params: dict[str, str] = Field(default_factory=dict, description="Its parameters")
    source_kind: str
    source_id: str
    recorded_by: str
    recorded_at: datetime
    reverses_id: int | None


class ReverseIn(BaseModel):
    reason: str


def _ledger_out(e: LedgerEntry, locale: str) -> LedgerOut:
    out = LedgerOut.model_validate(e, from_attributes=True)
    keyed = ledger.reason_key(e.reason)
    if keyed is not None and has_message(keyed[0]):
        key, params = keyed
        out.reason, out.reason_key, out.reason_params = translate(key, locale, **params), key, params
    return out


@router.get("/ledger", response_model=Page[LedgerOut], tags=["ledger"])
def list_ledger(session: SessionDep, actor: LedgerReader, staff_id: int | None = None,
                window_id: int | None = None, since: date | None = None, until: date | None = None,
                source_kind: str | None = None, offset: Annotated[int, Query(ge=0)] = 0,
                limit: Annotated[int, Query(ge=1, le=500)] = 100) -> Page[LedgerOut]:
    """Scored facts in the caller's jurisdiction (window staff: their own), newest first."""
    rows, count = ledger.entries(session, actor=actor, staff_id=staff_id, window_id=window_id, since=since,
                                 until=until, source_kind=source_kind, offset=offset, limit=limit)
    return Page[LedgerOut](data=[_ledger_out(e, actor.locale) for e in rows], count=count)


@router.post("/ledger", response_model=LedgerOut, status_code=201, tags=["ledger"])
def add_ledger(request: Request, session: SessionDep, actor: LedgerWriter,
               body: Annotated[LedgerIn, Body()]) -> LedgerOut:
    """Record a scored fact with its source."""
    source_id = body.source_id or f"{actor.kind}:{actor.id}:{datetime.now().strftime('%Y%m%d%H%M%S%f')}"
    entry = ledger.record_entry(session, actor=actor, day=body.day, kind=body.kind, points=body.points,
                                reason=body.reason, source_kind=body.source_kind, source_id=source_id,
                                staff_id=body.staff_id, window_id=body.window_id, ip=client_ip(request))
    return _ledger_out(entry, actor.locale)


@router.post("/ledger/{entry_id}/reverse", response_model=LedgerOut, status_code=201, tags=["ledger"])
def reverse_ledger(request: Request, session: SessionDep, actor: LedgerWriter, entry_id: int,
                   body: Annotated[ReverseIn, Body()]) -> LedgerOut:
    """Undo an entry by a reversal (entries are never deleted)."""
    return _ledger_out(ledger.reverse_entry(session, entry_id, actor=actor, reason=body.reason,
                                            ip=client_ip(request)), actor.locale)
