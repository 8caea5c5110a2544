"""The core tables: organisation, accounts, audit, calendar overrides and the performance ledger."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from supervision.db import UTCDateTime, utcnow
from supervision.shapes import UpdateModel


def _ts(nullable: bool = False) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable)


class SiteKind(StrEnum):
    CITY = "city"
    COUNTY = "county"
    PARK = "park"
    TOWNSHIP = "township"
    VILLAGE = "village"


# Which kind of site may sit under which: the tree is city → county/park → township → village.
SITE_PARENT_KINDS: dict[SiteKind, tuple[SiteKind, ...]] = {
    SiteKind.CITY: (),
    SiteKind.COUNTY: (SiteKind.CITY,),
    SiteKind.PARK: (SiteKind.CITY,),
    SiteKind.TOWNSHIP: (SiteKind.COUNTY, SiteKind.PARK),
    SiteKind.VILLAGE: (SiteKind.TOWNSHIP,),
}


class Role(StrEnum):
    ADMIN = "admin"
    OFFICER = "officer"
    SUPERVISOR = "supervisor"
    MANAGER = "manager"
    HANDLER = "handler"  # 承办人: signs and replies for the orders of one or more departments
    STAFF = "staff"


class StaffRank(StrEnum):
    BUREAU_LEADER = "bureau_leader"
    SECTION_LEVEL = "section_level"
    GENERAL = "general"
    TEMPORARY = "temporary"


class Employment(StrEnum):
    ESTABLISHED = "established"
    CONTRACT = "contract"


# --- organisation -----------------------------------------------------------------------------


class SiteBase(SQLModel):
    code: str = Field(max_length=40, index=True, unique=True)
    name: str = Field(max_length=120)
    kind: SiteKind
    parent_id: int | None = Field(default=None, foreign_key="site.id", index=True)
    address: str = Field(default="", max_length=250)
    is_demo: bool = False


class Site(SiteBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # Materialised path of ids ("/1/4/37/"): a jurisdiction is a prefix match.
    path: str = Field(default="/", max_length=400, index=True)
    depth: int = 0


class HallBase(SQLModel):
    code: str = Field(max_length=40, unique=True, index=True)
    name: str = Field(max_length=120)
    site_id: int = Field(foreign_key="site.id", index=True)
    floor: str = Field(default="", max_length=40)
    is_demo: bool = False


class Hall(HallBase, table=True):
    id: int | None = Field(default=None, primary_key=True)


class DepartmentBase(SQLModel):
    code: str = Field(max_length=40, unique=True, index=True)
    name: str = Field(max_length=120)
    site_id: int = Field(foreign_key="site.id", index=True)
    is_demo: bool = False


class Department(DepartmentBase, table=True):
    id: int | None = Field(default=None, primary_key=True)


class WindowBase(SQLModel):
    code: str = Field(max_length=40, unique=True, index=True)
    name: str = Field(max_length=120)
    number: str = Field(default="", max_length=20)
    site_id: int = Field(foreign_key="site.id", index=True)
    hall_id: int | None = Field(default=None, foreign_key="hall.id", index=True)
    department_id: int | None = Field(default=None, foreign_key="department.id", index=True)
    is_comprehensive: bool = False
    chief_representative_id: int | None = Field(default=None, foreign_key="staff.id")
    is_demo: bool = False


class Window(WindowBase, table=True):
    id: int | None = Field(default=None, primary_key=True)


class WindowDelegation(SQLModel, table=True):
    """A department whose items the comprehensive window handles on its behalf (委托办理)."""

    window_id: int = Field(foreign_key="window.id", primary_key=True)
    department_id: int = Field(foreign_key="department.id", primary_key=True)


class PostBase(SQLModel):
    code: str = Field(max_length=40, unique=True, index=True)
    name: str = Field(max_length=120)
    site_id: int = Field(foreign_key="site.id", index=True)
    window_id: int | None = Field(default=None, foreign_key="window.id", index=True)
    department_id: int | None = Field(default=None, foreign_key="department.id", index=True)
    duties: str = Field(default="", sa_type=Text)
    is_demo: bool = False


class Post(PostBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    duties_changed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class StaffBase(SQLModel):
    code: str = Field(max_length=40, unique=True, index=True)
    name: str = Field(max_length=60)
    rank: StaffRank = StaffRank.GENERAL
    employment: Employment = Employment.ESTABLISHED
    site_id: int = Field(foreign_key="site.id", index=True)
    department_id: int | None = Field(default=None, foreign_key="department.id", index=True)
    window_id: int | None = Field(default=None, foreign_key="window.id", index=True)
    post_id: int | None = Field(default=None, foreign_key="post.id", index=True)
    title: str = Field(default="", max_length=60)
    active: bool = True
    is_demo: bool = False


class Staff(StaffBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # Personal data: encrypted with the installation key (supervision.crypto).
    phone_enc: str = Field(default="", max_length=400)


# --- accounts ---------------------------------------------------------------------------------


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=60, unique=True, index=True)
    display_name: str = Field(max_length=60)
    password_hash: str = Field(max_length=200)
    role: Role
    site_id: int = Field(foreign_key="site.id", index=True)
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    locale: str = Field(default="zh-CN", max_length=8)
    active: bool = True
    is_demo: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    last_login_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    locked_until: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class UserDepartment(SQLModel, table=True):
    """A department a handler (承办人) acts for: they sign and reply for the orders it leads."""

    __tablename__ = "user_department"

    user_id: int = Field(foreign_key="user.id", primary_key=True)
    department_id: int = Field(foreign_key="department.id", primary_key=True, index=True)


class AuthSession(SQLModel, table=True):
    """A browser session (cookie) or a bearer token from the password flow; only its hash is kept."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    kind: str = Field(max_length=10)  # "browser" | "bearer"
    csrf_token: str = Field(default="", max_length=64)
    ip: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    expires_at: datetime = Field(sa_column=_ts())
    revoked_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class ApiToken(SQLModel, table=True):
    """A long-lived token for a machine (telephony, rating pads, camera workers)."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    prefix: str = Field(max_length=16, unique=True, index=True)
    token_hash: str = Field(max_length=64)
    scopes: str = Field(max_length=400)  # space separated
    site_id: int = Field(foreign_key="site.id")
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    expires_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    last_used_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class LoginAttempt(SQLModel, table=True):
    __table_args__ = (Index("ix_loginattempt_user_at", "username", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=60)
    ip: str = Field(default="", max_length=64, index=True)
    at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    success: bool = False


# --- audit ------------------------------------------------------------------------------------


class AuditEntry(SQLModel, table=True):
    """Append-only, hash-chained record of a change, a login or a sensitive view."""

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(unique=True, index=True)
    at: datetime = Field(sa_column=_ts())
    actor_kind: str = Field(max_length=10)  # user | token | system
    actor_id: int | None = None
    actor_name: str = Field(max_length=80)
    action: str = Field(max_length=40, index=True)
    object_kind: str = Field(default="", max_length=40, index=True)
    object_id: str = Field(default="", max_length=40)
    site_id: int | None = Field(default=None, index=True)
    summary: str = Field(default="", max_length=400)
    detail: str = Field(default="{}", sa_type=Text)
    ip: str = Field(default="", max_length=64)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)
    # The id of the key whose HMAC `hash` is (supervision.keys): entries stay verifiable after a rotation.
    # Empty on entries written before keys had ids.
    key_id: str = Field(default="", max_length=16)


class AuditHead(SQLModel, table=True):
    """The chain's newest link. Updating this one row serialises writers of the chain."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    last_hash: str = Field(default="", max_length=64)
    # HMAC of (seq, last_hash) under the key `key_id`: lowering the counter after removing the newest entries
    # needs the key, so truncation is noticed. Empty only before the first entry.
    key_id: str = Field(default="", max_length=16)
    mac: str = Field(default="", max_length=64)


# --- working days -----------------------------------------------------------------------------


class WorkdayYear(SQLModel, table=True):
    """A year an admin has entered from the State Council's notice (the package may not know it yet)."""

    year: int = Field(primary_key=True)
    notice: str = Field(default="", max_length=200)
    declared_by_id: int | None = Field(default=None, foreign_key="user.id")
    declared_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class WorkdayOverride(SQLModel, table=True):
    day: date = Field(primary_key=True)
    is_workday: bool
    name: str = Field(default="", max_length=60)
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


# --- performance ledger -----------------------------------------------------------------------


class LedgerEntry(SQLModel, table=True):
    """A scored fact about a staff member and/or a window, with the source it came from.

    Entries are never edited or deleted: a mistake is undone by a reversal entry that points back.
    """

    __tablename__ = "ledger_entry"
    __table_args__ = (
        Index("ix_ledger_staff_day", "staff_id", "day"),
        Index("ix_ledger_window_day", "window_id", "day"),
        Index("ix_ledger_source", "source_kind", "source_id"),
        UniqueConstraint("reverses_id", name="uq_ledger_one_reversal"),
    )

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    window_id: int | None = Field(default=None, foreign_key="window.id")
    site_id: int = Field(foreign_key="site.id", index=True)
    day: date
    kind: str = Field(max_length=40)
    points: float
    reason: str = Field(max_length=400)
    source_kind: str = Field(max_length=40)
    source_id: str = Field(max_length=40)
    recorded_by: str = Field(max_length=80)
    recorded_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    reverses_id: int | None = Field(default=None, foreign_key="ledger_entry.id")


# --- input and output shapes (one family per entity) --------------------------------------------


class SiteCreate(SiteBase):
    pass


class SiteUpdate(UpdateModel):
    columns_of = Site

    code: str | None = None
    name: str | None = None
    kind: SiteKind | None = None
    parent_id: int | None = None
    address: str | None = None


class SitePublic(SiteBase):
    id: int
    path: str
    depth: int


class HallCreate(HallBase):
    pass


class HallUpdate(UpdateModel):
    columns_of = Hall

    code: str | None = None
    name: str | None = None
    site_id: int | None = None
    floor: str | None = None


class HallPublic(HallBase):
    id: int


class DepartmentCreate(DepartmentBase):
    pass


class DepartmentUpdate(UpdateModel):
    columns_of = Department

    code: str | None = None
    name: str | None = None
    site_id: int | None = None


class DepartmentPublic(DepartmentBase):
    id: int


class WindowCreate(WindowBase):
    delegated_department_ids: list[int] = []


class WindowUpdate(UpdateModel):
    columns_of = Window

    code: str | None = None
    name: str | None = None
    number: str | None = None
    site_id: int | None = None
    hall_id: int | None = None
    department_id: int | None = None
    is_comprehensive: bool | None = None
    chief_representative_id: int | None = None
    delegated_department_ids: list[int] | None = None


class WindowPublic(WindowBase):
    id: int
    delegated_department_ids: list[int] = []


class PostCreate(PostBase):
    pass


class PostUpdate(UpdateModel):
    columns_of = Post

    code: str | None = None
    name: str | None = None
    site_id: int | None = None
    window_id: int | None = None
    department_id: int | None = None
    duties: str | None = None


class PostPublic(PostBase):
    id: int
    duties_changed_at: datetime | None = None


class StaffCreate(StaffBase):
    phone: str = ""


class StaffUpdate(UpdateModel):
    columns_of = Staff

    code: str | None = None
    name: str | None = None
    rank: StaffRank | None = None
    employment: Employment | None = None
    site_id: int | None = None
    department_id: int | None = None
    window_id: int | None = None
    post_id: int | None = None
    title: str | None = None
    active: bool | None = None
    phone: str | None = None


class StaffPublic(StaffBase):
    id: int
    phone_masked: str = ""


class Incident(SQLModel, table=True):
    """A signal about a post, window or person from another domain (complaint, bad rating, video alert, card).

    Domains write these through `supervision.incidents`; the risk register reads them per post,
    so no domain has to import another.
    """

    __table_args__ = (
        Index("ix_incident_post_at", "post_id", "occurred_at"),
        Index("ix_incident_window_at", "window_id", "occurred_at"),
        UniqueConstraint("source_kind", "source_id", "kind", name="uq_incident_source"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)  # complaint | bad_rating | video_alert | card | ...
    source_kind: str = Field(max_length=40)
    source_id: str = Field(max_length=40)
    site_id: int = Field(foreign_key="site.id", index=True)
    post_id: int | None = Field(default=None, foreign_key="post.id")
    window_id: int | None = Field(default=None, foreign_key="window.id")
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    occurred_at: datetime = Field(sa_column=_ts())
    summary: str = Field(default="", max_length=400)
    recorded_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    # Set when the source no longer stands (outcome revised to not upheld, rating appeal granted): the row
    # stays, the risk register stops counting it.
    withdrawn_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    withdrawn_reason: str = Field(default="", max_length=400)
