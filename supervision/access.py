"""Who is asking, what their role allows, and which part of the site tree they may see."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, select

from supervision.errors import Forbidden, NotFound
from supervision.models import Role, Site


class Permission(StrEnum):
    ORG_READ = "org:read"
    ORG_WRITE = "org:write"
    USERS_MANAGE = "users:manage"
    TOKENS_MANAGE = "tokens:manage"
    AUDIT_READ = "audit:read"
    CALENDAR_READ = "calendar:read"
    CALENDAR_WRITE = "calendar:write"
    LEDGER_READ = "ledger:read"
    LEDGER_WRITE = "ledger:write"
    OWN_RECORDS = "own:read"
    # Machine scopes, granted to API tokens (and to the human roles that do the same work).
    HOTLINE_PUSH = "hotline:push"
    RATINGS_PUSH = "ratings:push"
    CAMERAS_INGEST = "cameras:ingest"
    CAMERAS_VIEW = "cameras:view"
    CAMERAS_MANAGE = "cameras:manage"
    # Drawing the zones analytics watch on a camera's picture: admins and discipline officers.
    ZONES_MANAGE = "zones:manage"
    RISK_READ = "risk:read"
    RISK_WRITE = "risk:write"
    COMPLAINTS_READ = "complaints:read"
    COMPLAINTS_WRITE = "complaints:write"
    CONFIDENTIAL_READ = "confidential:read"
    LEAVE_APPROVE = "leave:approve"  # a manager: decides the leave of staff in the jurisdiction
    DUTY_READ = "duty:read"  # rosters and the duty log of the jurisdiction
    DUTY_WRITE = "duty:write"  # generate and edit rosters, approve swaps
    ATTENDANCE_PUSH = "attendance:push"
    ATTENDANCE_READ = "attendance:read"
    ATTENDANCE_MANAGE = "attendance:manage"
    SCORING_READ = "scoring:read"
    SCORING_WRITE = "scoring:write"
    # A manager of the jurisdiction: closes and publishes the month, decides score appeals, selects the
    # quarter's awards and confirms the yearly appraisal.
    SCORING_MANAGE = "scoring:manage"
    # A unit's handler: sign, reply, ask for extensions and send back the orders of their departments.
    COMPLAINTS_HANDLE = "complaints:handle"
    # Close a window for a while (窗口暂停服务): its post is not watched by video analytics then.
    WINDOWS_CLOSE = "windows:close"


_READ_ORG = {Permission.ORG_READ, Permission.CALENDAR_READ, Permission.OWN_RECORDS}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(
        _READ_ORG
        | {
            Permission.ORG_WRITE,
            Permission.USERS_MANAGE,
            Permission.TOKENS_MANAGE,
            Permission.AUDIT_READ,
            Permission.CALENDAR_WRITE,
            Permission.LEDGER_READ,
            Permission.CAMERAS_VIEW,
            Permission.CAMERAS_MANAGE,
            Permission.DUTY_READ,
            Permission.SCORING_READ,
            Permission.SCORING_WRITE,
            Permission.ZONES_MANAGE,
            Permission.WINDOWS_CLOSE,
        }
    ),
    Role.OFFICER: frozenset(
        _READ_ORG
        | {
            Permission.LEDGER_READ,
            Permission.LEDGER_WRITE,
            Permission.CAMERAS_VIEW,
            Permission.ZONES_MANAGE,
            Permission.RISK_READ,
            Permission.RISK_WRITE,
            Permission.COMPLAINTS_READ,
            Permission.CONFIDENTIAL_READ,
            Permission.DUTY_READ,
            Permission.SCORING_READ,
        }
    ),
    Role.SUPERVISOR: frozenset(
        _READ_ORG
        | {
            Permission.LEDGER_READ,
            Permission.COMPLAINTS_READ,
            Permission.COMPLAINTS_WRITE,
            Permission.HOTLINE_PUSH,
            Permission.DUTY_READ,
        }
    ),
    Role.MANAGER: frozenset(
        _READ_ORG
        | {
            Permission.LEDGER_READ,
            Permission.LEDGER_WRITE,
            Permission.RISK_READ,
            Permission.LEAVE_APPROVE,
            Permission.DUTY_READ,
            Permission.DUTY_WRITE,
            Permission.ATTENDANCE_READ,
            Permission.ATTENDANCE_MANAGE,
            Permission.ATTENDANCE_PUSH,
            Permission.SCORING_READ,
            Permission.SCORING_MANAGE,
            Permission.WINDOWS_CLOSE,
        }
    ),
    Role.HANDLER: frozenset({Permission.CALENDAR_READ, Permission.OWN_RECORDS, Permission.COMPLAINTS_HANDLE}),
    Role.STAFF: frozenset({Permission.CALENDAR_READ, Permission.OWN_RECORDS}),
}

# What an admin may put on a machine token.
MACHINE_SCOPES: tuple[Permission, ...] = (
    Permission.HOTLINE_PUSH,
    Permission.RATINGS_PUSH,
    Permission.CAMERAS_INGEST,
    Permission.ATTENDANCE_PUSH,
    Permission.ORG_READ,
)


def machine_may_use(permissions: frozenset[Permission], path: str, required: frozenset[Permission]) -> bool:
    """Whether a machine token with `permissions` may call a route: only an API route declared for its scopes.

    Pages and routes that declare no permission (they serve whoever is logged in) are never for machines.
    """
    return path.startswith("/api/") and bool(required) and required <= permissions & frozenset(MACHINE_SCOPES)


@dataclass(frozen=True)
class Principal:
    """The user or machine behind a request."""

    kind: str  # "user" | "token" | "system"
    id: int | None
    name: str
    site_id: int | None
    site_path: str
    role: Role | None = None
    staff_id: int | None = None
    locale: str = "zh-CN"
    permissions: frozenset[Permission] = field(default_factory=frozenset)
    # The departments a handler acts for (empty for every other role).
    department_ids: frozenset[int] = field(default_factory=frozenset)

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def require(self, permission: Permission) -> None:
        if permission not in self.permissions:
            raise Forbidden("error.forbidden_permission", permission=permission.value)

    def covers_path(self, path: str) -> bool:
        return path.startswith(self.site_path)

    @property
    def audit_name(self) -> str:
        return f"{self.kind}:{self.name}"


SYSTEM = Principal(
    kind="system", id=None, name="system", site_id=None, site_path="/", permissions=frozenset(Permission)
)


def site_path_clause(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause on `Site.path` limiting rows to the principal's subtree."""
    return col(Site.path).startswith(principal.site_path, autoescape=True)


def check_site(session: Session, principal: Principal, site_id: int | None) -> Site:
    """Return the site if it lies in the principal's jurisdiction; otherwise it does not exist for them."""
    site = session.get(Site, site_id) if site_id is not None else None
    if site is None or not principal.covers_path(site.path):
        raise NotFound("error.not_found_kind", kind="kind.site", id=site_id)
    return site


def sites_in_jurisdiction(session: Session, principal: Principal) -> list[int]:
    rows = session.exec(select(Site.id).where(site_path_clause(principal)))
    return [r for r in rows if r is not None]
