"""Tables of the complaints loop and their input and output shapes.

A work order's row is the projection of its event log: every change appends a `WorkOrderEvent`
(who, when, why) and moves the projection; what the caller said (content, caller, channel, type)
is never rewritten. Enumerations are stored as short strings, so adding a channel needs no
database enum migration. Calendar days a user reads (due dates, the day of receipt) are local
`date`s; moments are UTC timestamps.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import IntEnum, StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator
from pydantic import Field as PydField
from sqlalchemy import Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from supervision.db import UTCDateTime, utcnow


def _ts(nullable: bool = False) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable)


# --- enumerations -----------------------------------------------------------------------------


class Channel(StrEnum):
    HOTLINE = "hotline"  # 96196 / 12345
    COMPLAINT_PHONE = "complaint_phone"  # 投诉电话
    REPORT_BOX = "report_box"  # 意见箱 / 举报箱
    WEB = "web"  # the public citizen form
    RATING = "rating"  # a bad rating on the AB screen
    VISIT = "visit"  # a supervisor's visit (明察暗访)
    DEPUTY = "deputy"  # NPC deputies and CPPCC members
    MEDIA = "media"
    WALK_IN = "walk_in"  # 来访


class RequestType(StrEnum):
    CONSULT = "consult"  # 咨询
    HELP = "help"  # 求助
    SUGGESTION = "suggestion"  # 意见建议
    COMPLAINT = "complaint"  # 投诉举报
    PRAISE = "praise"  # 表扬


class Urgency(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"
    VERY_URGENT = "very_urgent"


class Outcome(StrEnum):
    UPHELD = "upheld"  # 属实
    PARTLY = "partly"  # 部分属实
    NOT_UPHELD = "not_upheld"  # 不属实


class Disposition(StrEnum):
    CRITICISM_NOTICE = "criticism_notice"  # 通报批评
    DEDUCTION = "deduction"  # 扣分
    TALK = "talk"  # 约谈 / 谈话提醒
    TRAINING = "training"  # 培训
    REFERRAL = "referral"  # 移送纪检
    NONE = "none"


class Satisfaction(IntEnum):
    """The five levels of a rating or a callback; higher is better."""

    VERY_DISSATISFIED = 1  # 非常不满意
    DISSATISFIED = 2  # 不满意
    BASIC = 3  # 基本满意
    SATISFIED = 4  # 满意
    VERY_SATISFIED = 5  # 非常满意


BAD_LEVELS = frozenset({Satisfaction.VERY_DISSATISFIED, Satisfaction.DISSATISFIED})


class CallbackMethod(StrEnum):
    PHONE = "phone"
    SMS = "sms"
    VISIT = "visit"
    ONLINE = "online"


class CallStatus(StrEnum):
    PENDING = "pending"  # pushed by the telephony system, not yet classified by an agent
    ANSWERED = "answered"  # a consultation answered on the spot (its order closed at once)
    ORDERED = "ordered"  # became a work order


class VisitMode(StrEnum):
    OPEN = "open"  # 明察
    SECRET = "secret"  # 暗访


class NoticeKind(StrEnum):
    CRITICISM = "criticism"  # 通报批评
    COMMENDATION = "commendation"  # 通报表扬


class NoticeState(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


class AppealDecision(StrEnum):
    GRANTED = "granted"  # the rating was malicious or mistaken: voided, ledger reversed
    REJECTED = "rejected"


# --- work orders ------------------------------------------------------------------------------


class WorkOrder(SQLModel, table=True):
    __tablename__ = "work_order"
    __table_args__ = (
        # The due/overdue list: open orders by due date.
        Index("ix_work_order_open_due", "is_open", "due_on"),
        # The provisional due dates every calendar change recomputes: only those rows.
        Index(
            "ix_work_order_provisional",
            "due_provisional",
            sqlite_where=text("due_provisional = 1"),  # as SQLAlchemy writes the test there
            postgresql_where=text("due_provisional"),
        ),
        # Statistics by month and site.
        Index("ix_work_order_received", "received_on", "site_id"),
        Index("ix_work_order_site_received", "site_id", "received_on"),
        Index("ix_work_order_lead_state", "lead_department_id", "is_open"),
        Index("ix_work_order_phone", "phone_hash"),
        Index("ix_work_order_received_at", "received_at"),
        # Covers every column the statistics read, so a year of orders is an index-only scan.
        Index(
            "ix_work_order_stats",
            "received_on",
            "site_id",
            "integrity",
            "state",
            "is_open",
            "due_on",
            "on_time",
            "outcome",
            "callback_level",
            "lead_department_id",
            "department_id",
            "window_id",
            "channel",
            "received_month",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=24, unique=True)
    channel: str = Field(max_length=20)
    type: str = Field(max_length=20)
    urgency: str = Field(default=Urgency.NORMAL.value, max_length=12)
    site_id: int = Field(foreign_key="site.id")
    received_at: datetime = Field(sa_column=_ts())
    received_on: date
    received_month: str = Field(max_length=7)  # "2026-11": grouping without dialect-specific date functions
    received_by: str = Field(max_length=80)
    # The caller. The phone is encrypted; its keyed hash finds repeat callers without decrypting.
    caller_name: str = Field(default="", max_length=60)
    anonymous: bool = False
    phone_enc: str = Field(default="", max_length=400)
    phone_hash: str = Field(default="", max_length=64)
    confidential: bool = False  # identity hidden from all but CONFIDENTIAL_READ (GB/T 33358, on request)
    integrity: bool = False  # an integrity tip (举报 about corruption): only CONFIDENTIAL_READ sees the order
    title: str = Field(default="", max_length=120)
    content: str = Field(sa_type=Text)
    window_id: int | None = Field(default=None, foreign_key="window.id")
    post_id: int | None = Field(default=None, foreign_key="post.id")
    staff_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    department_id: int | None = Field(default=None, foreign_key="department.id")  # the department concerned
    source_ref: str = Field(default="", max_length=80)  # e.g. "rating:12", "visit_finding:3", a deputy's motion
    tracking_secret_enc: str = Field(default="", max_length=400)
    # The projection of the event log.
    state: str = Field(max_length=16)
    version: int = 0
    is_open: bool = True
    lead_department_id: int | None = Field(default=None, foreign_key="department.id")
    dispatched_on: date | None = None
    time_limit_days: int
    due_on: date
    due_provisional: bool = False
    due_source: str = Field(default="official", max_length=12)
    respond_by: date | None = None  # first response due (a bad rating: answer within 1 working day)
    responded_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    extension_pending_days: int | None = None
    extension_pending_reason: str = Field(default="", max_length=400)
    extended_days: int = 0
    card: str = Field(default="", max_length=8)  # "", "yellow", "red": the highest the chase job gave
    reply: str = Field(default="", sa_type=Text)
    replied_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    # The unit's finding (诉求属实?) with the facts it rests on; the supervisor confirms it as the outcome.
    finding: str = Field(default="", max_length=12)  # an Outcome value, "" before the reply
    finding_facts: str = Field(default="", sa_type=Text)
    callback_tries: int = 0  # recorded tries that reached nobody (each one an event with time and method)
    callback_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    callback_method: str = Field(default="", max_length=12)
    callback_level: int | None = None
    callback_reason: str = Field(default="", max_length=400)
    reopen_count: int = 0
    outcome: str = Field(default="", max_length=12)
    disposition: str = Field(default="", max_length=120)  # space-separated Disposition values
    # The staff held responsible by the outcome (space-separated ids), chosen by the supervisor.
    responsible: str = Field(default="", max_length=400)
    closed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    closed_on: date | None = None
    on_time: bool | None = None
    merged_into_id: int | None = Field(default=None, foreign_key="work_order.id")


class WorkOrderUnit(SQLModel, table=True):
    """An assisting unit (协办单位) of an order; the lead unit is on the order itself."""

    __tablename__ = "work_order_unit"

    order_id: int = Field(foreign_key="work_order.id", primary_key=True)
    department_id: int = Field(foreign_key="department.id", primary_key=True, index=True)


class WorkOrderEvent(SQLModel, table=True):
    """One change of an order: never edited, never deleted."""

    __tablename__ = "work_order_event"
    __table_args__ = (UniqueConstraint("order_id", "seq", name="uq_work_order_event_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="work_order.id")
    seq: int
    action: str = Field(max_length=24)
    from_state: str = Field(default="", max_length=16)
    to_state: str = Field(max_length=16)
    at: datetime = Field(sa_column=_ts())
    actor_kind: str = Field(max_length=10)
    actor_id: int | None = None
    actor_name: str = Field(max_length=80)
    reason: str = Field(default="", sa_type=Text)
    detail: str = Field(default="{}", sa_type=Text)


# --- the statistics roll-up -------------------------------------------------------------------


class StatsMonth(SQLModel, table=True):
    """What the orders received in one month count towards the statistics, per site and per grouping.

    Kept up to date in the transaction of every change of an order (complaints/rollup.py), so the
    statistics page sums a few hundred rows instead of a year of orders. Each order counts once under
    each grouping (`dim`: department, window, channel; `value`: the id or channel, "" for none), so
    each grouping sums only its own rows. Merged orders count nowhere; an open order past its due
    date is counted live (it depends on today).
    """

    __tablename__ = "complaints_stats_month"

    month: str = Field(primary_key=True, max_length=7)
    site_id: int = Field(primary_key=True)
    integrity: bool = Field(primary_key=True)
    dim: str = Field(primary_key=True, max_length=10)
    value: str = Field(primary_key=True, max_length=20)
    received: int = 0
    closed: int = 0
    closed_on_time: int = 0
    closed_late: int = 0
    upheld: int = 0  # upheld or partly upheld
    callbacks: int = 0
    satisfied: int = 0  # callbacks rated 3 (基本满意) or better


class RatingMonth(SQLModel, table=True):
    """Ratings per month, site, window, department and level; voided ratings left out."""

    __tablename__ = "complaints_rating_month"

    month: str = Field(primary_key=True, max_length=7)
    site_id: int = Field(primary_key=True)
    window_id: int = Field(primary_key=True)
    department_key: int = Field(primary_key=True)  # 0 = none
    level: int = Field(primary_key=True)
    n: int = 0


# --- the hotline ------------------------------------------------------------------------------


class HotlineCall(SQLModel, table=True):
    __tablename__ = "hotline_call"
    __table_args__ = (
        Index("ix_hotline_call_site_at", "site_id", "received_at"),
        Index("ix_hotline_call_phone", "phone_hash"),
        UniqueConstraint("external_id", name="uq_hotline_call_external"),
    )

    id: int | None = Field(default=None, primary_key=True)
    external_id: str | None = Field(default=None, max_length=80)  # the telephony system's call id
    site_id: int = Field(foreign_key="site.id")
    received_at: datetime = Field(sa_column=_ts())
    duration_s: int | None = None
    agent: str = Field(default="", max_length=60)
    caller_name: str = Field(default="", max_length=60)
    anonymous: bool = False
    phone_enc: str = Field(default="", max_length=400)
    phone_hash: str = Field(default="", max_length=64)
    confidential: bool = False
    integrity: bool = False
    type: str = Field(default="", max_length=20)
    content: str = Field(default="", sa_type=Text)
    window_id: int | None = Field(default=None, foreign_key="window.id")
    post_id: int | None = Field(default=None, foreign_key="post.id")
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    urgency: str = Field(default=Urgency.NORMAL.value, max_length=12)
    status: str = Field(max_length=10)
    answer: str = Field(default="", sa_type=Text)
    work_order_id: int | None = Field(default=None, foreign_key="work_order.id")
    logged_by: str = Field(max_length=80)
    logged_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


# --- ratings ----------------------------------------------------------------------------------


class Rating(SQLModel, table=True):
    __table_args__ = (
        Index("ix_rating_window_on", "window_id", "rated_on"),
        Index("ix_rating_site_on", "site_id", "rated_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_no: str = Field(max_length=60, unique=True)
    site_id: int = Field(foreign_key="site.id")
    window_id: int = Field(foreign_key="window.id")
    staff_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    department_id: int | None = Field(default=None, foreign_key="department.id")
    level: int
    reason: str = Field(default="", max_length=400)
    rated_at: datetime = Field(sa_column=_ts())
    rated_on: date
    rated_month: str = Field(max_length=7)
    source: str = Field(max_length=80)
    void: bool = False  # set when an appeal is granted; the row stays
    work_order_id: int | None = Field(default=None, foreign_key="work_order.id")  # the rectification item
    ledger_entry_id: int | None = Field(default=None, foreign_key="ledger_entry.id")
    request_hash: str = Field(default="", max_length=64)


class RatingAppeal(SQLModel, table=True):
    """申诉复核 of a rating thought malicious or mistaken: one per rating."""

    __tablename__ = "rating_appeal"

    id: int | None = Field(default=None, primary_key=True)
    rating_id: int = Field(foreign_key="rating.id", unique=True)
    reason: str = Field(sa_type=Text)
    filed_by: str = Field(max_length=80)
    filed_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    decision: str = Field(default="", max_length=10)
    decision_reason: str = Field(default="", sa_type=Text)
    decided_by: str = Field(default="", max_length=80)
    decided_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


# --- visits -----------------------------------------------------------------------------------


class Visit(SQLModel, table=True):
    __table_args__ = (Index("ix_visit_site_on", "site_id", "visited_on"),)

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id")
    window_id: int | None = Field(default=None, foreign_key="window.id")
    visited_on: date
    mode: str = Field(max_length=8)
    visitors: str = Field(default="", max_length=200)
    summary: str = Field(default="", sa_type=Text)
    recorded_by: str = Field(max_length=80)
    recorded_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class VisitFinding(SQLModel, table=True):
    __tablename__ = "visit_finding"

    id: int | None = Field(default=None, primary_key=True)
    visit_id: int = Field(foreign_key="visit.id", index=True)
    description: str = Field(sa_type=Text)
    window_id: int | None = Field(default=None, foreign_key="window.id")
    post_id: int | None = Field(default=None, foreign_key="post.id")
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    work_order_id: int | None = Field(default=None, foreign_key="work_order.id")
    ledger_entry_id: int | None = Field(default=None, foreign_key="ledger_entry.id")


class VisitPhoto(SQLModel, table=True):
    """A photo of a visit, stored once under media_dir by its sha256."""

    __tablename__ = "visit_photo"
    __table_args__ = (UniqueConstraint("visit_id", "sha256", name="uq_visit_photo"),)

    id: int | None = Field(default=None, primary_key=True)
    visit_id: int = Field(foreign_key="visit.id", index=True)
    sha256: str = Field(max_length=64)
    content_type: str = Field(max_length=40)
    size: int
    filename: str = Field(default="", max_length=200)
    uploaded_by: str = Field(max_length=80)
    uploaded_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


# --- notices ----------------------------------------------------------------------------------


class Notice(SQLModel, table=True):
    __table_args__ = (Index("ix_notice_state_published", "state", "published_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=14)
    title: str = Field(max_length=120)
    body: str = Field(sa_type=Text)
    site_id: int = Field(foreign_key="site.id", index=True)  # published to this site and everything under it
    state: str = Field(default=NoticeState.DRAFT.value, max_length=10)
    source_ref: str = Field(default="", max_length=80)  # "work_order:GD…" or "visit:12"
    drafted_by: str = Field(max_length=80)
    drafted_by_id: int | None = None
    drafted_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    approved_by: str = Field(default="", max_length=80)
    approved_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    published_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    withdrawn_reason: str = Field(default="", max_length=400)


# --- submission guards ------------------------------------------------------------------------


class IdempotencyKey(SQLModel, table=True):
    """The first result of a submission, so a second submit with the same key returns it."""

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("scope", "key", name="uq_idempotency_scope_key"),)

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=90)
    key: str = Field(max_length=100)
    request_hash: str = Field(max_length=64)
    result_kind: str = Field(default="", max_length=20)
    result_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True))


class RateHit(SQLModel, table=True):
    """One counted request of a rate-limited bucket (the public form); old rows are purged nightly."""

    __tablename__ = "complaints_rate_hit"
    __table_args__ = (Index("ix_rate_hit_bucket_key_at", "bucket", "key", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    bucket: str = Field(max_length=20)
    key: str = Field(max_length=64)
    at: datetime = Field(sa_column=_ts())


class NumberSequence(SQLModel, table=True):
    """The last number given out per prefix and day (GD20261127 → 17)."""

    __tablename__ = "complaints_sequence"

    name: str = Field(primary_key=True, max_length=24)
    last: int = 0


# --- input shapes -----------------------------------------------------------------------------


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class WorkOrderCreate(_Input):
    """A new order from any channel (the hotline screen and the public form have their own shapes)."""

    channel: Channel
    type: RequestType
    content: str = PydField(min_length=1, max_length=5000)
    title: str = PydField("", max_length=120)
    urgency: Urgency = Urgency.NORMAL
    caller_name: str = PydField("", max_length=60)
    anonymous: bool = False
    phone: str = PydField("", max_length=20)
    confidential: bool = False
    integrity: bool = False
    site_id: int | None = None
    window_id: int | None = None
    post_id: int | None = None
    staff_id: int | None = None
    department_id: int | None = None
    source_ref: str = PydField("", max_length=80)
    received_at: datetime | None = None
    lead_department_id: int | None = None  # dispatch at once
    assisting_department_ids: list[int] = []


class HotlineCallCreate(_Input):
    """The hotline screen: one call, typed by the agent (or pushed by the telephony system)."""

    type: RequestType | None = None
    content: str = PydField("", max_length=5000)
    caller_name: str = PydField("", max_length=60)
    anonymous: bool = False
    phone: str = PydField("", max_length=20)
    confidential: bool = False
    integrity: bool = False
    urgency: Urgency = Urgency.NORMAL
    site_id: int | None = None
    window_id: int | None = None
    post_id: int | None = None
    staff_id: int | None = None
    answered_on_the_spot: bool = False
    answer: str = PydField("", max_length=5000)
    external_id: str | None = PydField(None, max_length=80)
    received_at: datetime | None = None
    duration_s: int | None = PydField(None, ge=0, le=86400)
    agent: str = PydField("", max_length=60)
    lead_department_id: int | None = None
    assisting_department_ids: list[int] = []
    channel: Channel = Channel.HOTLINE


class PublicSubmission(_Input):
    """The citizen form on the public web (no login)."""

    site_id: int
    type: RequestType
    content: str = PydField(min_length=5, max_length=3000)
    caller_name: str = PydField("", max_length=60)
    phone: str = PydField("", max_length=20)
    anonymous: bool = False
    confidential: bool = False
    window_id: int | None = None


class RatingPush(_Input):
    """What a rating pad posts: one rating per case (办件编号)."""

    case_no: str = PydField(min_length=1, max_length=60)
    window_id: int | None = None
    window_code: str | None = PydField(None, max_length=40)
    staff_id: int | None = None
    staff_code: str | None = PydField(None, max_length=40)
    level: Satisfaction
    reason: str = PydField("", max_length=400)
    rated_at: datetime | None = None

    @field_validator("level", mode="before")
    @classmethod
    def _level_by_name(cls, value: Any) -> Any:
        return LEVEL_NAMES.get(value, value) if isinstance(value, str) and not value.isdigit() else value


LEVEL_NAMES: dict[str, int] = {
    "very_satisfied": 5,
    "非常满意": 5,
    "satisfied": 4,
    "满意": 4,
    "basic": 3,
    "基本满意": 3,
    "dissatisfied": 2,
    "不满意": 2,
    "very_dissatisfied": 1,
    "非常不满意": 1,
}


class VisitCreate(_Input):
    site_id: int
    window_id: int | None = None
    visited_on: date
    mode: VisitMode
    visitors: str = PydField("", max_length=200)
    summary: str = PydField("", max_length=5000)
    findings: list[VisitFindingCreate] = []


class VisitFindingCreate(_Input):
    description: str = PydField(min_length=1, max_length=2000)
    window_id: int | None = None
    post_id: int | None = None
    staff_id: int | None = None


class NoticeCreate(_Input):
    kind: NoticeKind
    title: str = PydField(min_length=1, max_length=120)
    body: str = PydField(min_length=1, max_length=20000)
    site_id: int
    source_ref: str = PydField("", max_length=80)


VisitCreate.model_rebuild()


# --- output shapes ----------------------------------------------------------------------------


class WorkOrderEventView(BaseModel):
    seq: int
    action: str
    from_state: str
    to_state: str
    at: datetime
    actor_name: str
    reason: str
    detail: dict[str, Any]


class WorkOrderView(BaseModel):
    """An order as one principal may see it: the caller's identity is redacted by role."""

    id: int
    number: str
    channel: str
    type: str
    urgency: str
    state: str
    site_id: int
    received_at: datetime
    received_on: date
    received_by: str
    caller_name: str
    caller_phone_masked: str
    anonymous: bool
    identity_hidden: bool
    confidential: bool
    integrity: bool
    title: str
    content: str
    window_id: int | None
    post_id: int | None
    staff_id: int | None
    department_id: int | None
    source_ref: str
    lead_department_id: int | None
    assisting_department_ids: list[int]
    time_limit_days: int
    due_on: date
    due_provisional: bool
    due_source: str
    respond_by: date | None
    card: str  # as of now: "", "yellow", "red"
    workdays_left: int | None
    extension_pending_days: int | None
    extended_days: int
    reply: str
    replied_at: datetime | None
    finding: str
    finding_facts: str
    callback_tries: int
    callback_at: datetime | None
    callback_method: str
    callback_level: int | None
    callback_reason: str
    reopen_count: int
    outcome: str
    disposition: list[str]
    responsible_staff_ids: list[int]
    closed_at: datetime | None
    on_time: bool | None
    merged_into_id: int | None


class WorkOrderDetail(BaseModel):
    order: WorkOrderView
    history: list[WorkOrderEventView]
    allowed_actions: list[str]


class HotlineCallView(BaseModel):
    id: int
    external_id: str | None
    site_id: int
    received_at: datetime
    duration_s: int | None
    agent: str
    caller_name: str
    caller_phone_masked: str
    anonymous: bool
    identity_hidden: bool
    confidential: bool
    integrity: bool
    type: str
    content: str
    window_id: int | None
    post_id: int | None
    staff_id: int | None
    urgency: str
    status: str
    answer: str
    work_order_id: int | None
    work_order_number: str
    logged_by: str


class PublicStatus(BaseModel):
    """What a citizen sees with the tracking number and secret: no internal names or units."""

    number: str
    state: str
    received_on: date
    due_on: date
    due_provisional: bool = False  # counted in a year the calendar does not know yet: recomputed later
    replied: bool
    reply: str
    closed: bool
    steps: list[tuple[datetime, str]]
