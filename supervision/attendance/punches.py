"""Punches in: the terminals' exports (CSV/Excel), the gateways' push, and the list of what arrived.

A punch is the terminal's (device, record id): sending it again changes nothing. A staff number that matches
nobody in the sender's jurisdiction is kept apart (UnknownPunch) and named in the answer, never dropped.
Times without a zone are the centre's local time; they are stored in UTC with the local attendance day.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from supervision import audit, spreadsheet
from supervision.access import Permission, Principal, site_path_clause
from supervision.attendance.models import Punch, PunchSource, UnknownPunch, VerifyMode
from supervision.attendance.rules import attendance_day
from supervision.db import utcnow
from supervision.errors import FieldProblem, InvalidInput
from supervision.models import Site, Staff
from supervision.settings import get_settings

# A terminal's clock may run a little fast; beyond this a punch "in the future" is refused.
FUTURE_TOLERANCE = timedelta(minutes=10)
# Older than this is a typo in the year or a terminal with a reset clock, not an archive to import.
MAX_AGE = timedelta(days=400)
MAX_BATCH = 500
_CHUNK = 500


class PunchIn(BaseModel):
    """One punch as a terminal gateway sends it."""

    staff_code: str = Field(min_length=1, max_length=40, description="The staff number (工号) on the terminal")
    punched_at: datetime = Field(description="Local time of the centre unless a zone is given")
    device: str = Field(min_length=1, max_length=60, description="The terminal's serial number or name")
    record_id: str = Field(min_length=1, max_length=60, description="The terminal's record id (de-duplicates)")
    verify_mode: VerifyMode = VerifyMode.OTHER


class PunchBatch(BaseModel):
    punches: list[PunchIn] = Field(min_length=1, max_length=MAX_BATCH)


class UnknownOut(BaseModel):
    row: int
    staff_code: str
    device: str
    record_id: str
    punched_at: datetime


class RefusedOut(BaseModel):
    row: int
    record_id: str
    field: str
    message: str


class PunchReceipt(BaseModel):
    """What became of a batch or a file: saved, already there, unknown staff numbers (kept apart), refused."""

    accepted: int = 0
    duplicates: int = 0
    unknown: list[UnknownOut] = []
    refused: list[RefusedOut] = []


class PunchRow(BaseModel):
    id: int
    staff_id: int
    staff_code: str
    staff_name: str
    punched_at: datetime
    local_time: datetime
    day: date
    device: str
    record_id: str
    verify_mode: VerifyMode
    source: PunchSource


@dataclass(frozen=True)
class _Checked:
    row: int
    punch: PunchIn
    at_utc: datetime
    day: date


def _check_time(punch: PunchIn, tz: ZoneInfo, now: datetime) -> tuple[datetime | None, str | None]:
    # Years far off are refused before any zone arithmetic (year 1 or 9999 would overflow converting).
    if punch.punched_at.year < now.year - 2:
        return None, "error.punch_too_old"
    if punch.punched_at.year > now.year + 1:
        return None, "error.punch_in_future"
    at = punch.punched_at if punch.punched_at.tzinfo else punch.punched_at.replace(tzinfo=tz)
    at = at.astimezone(UTC)
    if at > now + FUTURE_TOLERANCE:
        return None, "error.punch_in_future"
    if at < now - MAX_AGE:
        return None, "error.punch_too_old"
    return at, None


def _staff_by_code(session: Session, actor: Principal, codes: Iterable[str]) -> dict[str, tuple[int, int]]:
    """Staff numbers → (staff id, site id), only inside the sender's jurisdiction."""
    found: dict[str, tuple[int, int]] = {}
    wanted = sorted(set(codes))
    for i in range(0, len(wanted), _CHUNK):
        stmt = (select(Staff.code, Staff.id, Staff.site_id).join(Site, col(Site.id) == Staff.site_id)
                .where(col(Staff.code).in_(wanted[i:i + _CHUNK]), site_path_clause(actor)))
        for code, staff_id, site_id in session.exec(stmt):
            if staff_id is not None:
                found[code] = (staff_id, site_id)
    return found


def _existing(session: Session, table: type[Punch] | type[UnknownPunch],
              keys: set[tuple[str, str]]) -> set[tuple[str, str]]:
    devices = sorted({d for d, _ in keys})
    records = sorted({r for _, r in keys})
    have: set[tuple[str, str]] = set()
    for i in range(0, len(records), _CHUNK):
        stmt = select(col(table.device), col(table.record_id)).where(
            col(table.device).in_(devices), col(table.record_id).in_(records[i:i + _CHUNK]))
        have.update((d, r) for d, r in session.exec(stmt))
    return have & keys


def _insert(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    maker = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # Two gateways may send the same punch at once: the unique key settles it, the second insert is nothing.
    for i in range(0, len(rows), 2000):
        stmt = maker(table.__table__).on_conflict_do_nothing(index_elements=["device", "record_id"])
        session.connection().execute(stmt, rows[i:i + 2000])


def _store(session: Session, actor: Principal, checked: Sequence[_Checked], source: PunchSource,
           receipt: PunchReceipt) -> None:
    staff = _staff_by_code(session, actor, (c.punch.staff_code.strip() for c in checked))
    seen: set[tuple[str, str]] = set()
    known: list[_Checked] = []
    unknown: list[_Checked] = []
    for c in checked:
        key = (c.punch.device.strip(), c.punch.record_id.strip())
        if key in seen:
            receipt.duplicates += 1
            continue
        seen.add(key)
        (known if c.punch.staff_code.strip() in staff else unknown).append(c)
    now = utcnow()
    old = _existing(session, Punch, {(c.punch.device.strip(), c.punch.record_id.strip()) for c in known})
    rows = []
    for c in known:
        key = (c.punch.device.strip(), c.punch.record_id.strip())
        if key in old:
            receipt.duplicates += 1
            continue
        staff_id, site_id = staff[c.punch.staff_code.strip()]
        rows.append({"staff_id": staff_id, "site_id": site_id, "punched_at": c.at_utc, "local_day": c.day,
                     "device": key[0], "record_id": key[1], "verify_mode": c.punch.verify_mode, "source": source,
                     "received_at": now})
    _insert(session, Punch, rows)
    receipt.accepted += len(rows)
    old_unknown = _existing(session, UnknownPunch,
                            {(c.punch.device.strip(), c.punch.record_id.strip()) for c in unknown})
    unknown_rows = []
    for c in unknown:
        key = (c.punch.device.strip(), c.punch.record_id.strip())
        receipt.unknown.append(UnknownOut(row=c.row, staff_code=c.punch.staff_code.strip(), device=key[0],
                                          record_id=key[1], punched_at=c.at_utc))
        if key in old_unknown:
            continue
        unknown_rows.append({"staff_code": c.punch.staff_code.strip()[:40], "site_id": actor.site_id or 1,
                             "punched_at": c.at_utc, "device": key[0], "record_id": key[1],
                             "verify_mode": c.punch.verify_mode, "source": source, "received_at": now})
    _insert(session, UnknownPunch, unknown_rows)


def push_punches(session: Session, *, actor: Principal, batch: PunchBatch, ip: str = "") -> PunchReceipt:
    """A gateway's batch: each punch saved once; a punch in the future or years back is refused by its row."""
    actor.require(Permission.ATTENDANCE_PUSH)
    if actor.site_id is None:
        raise InvalidInput("site_id", "error.required")
    tz = get_settings().tz
    now = utcnow()
    receipt = PunchReceipt()
    checked: list[_Checked] = []
    for row, punch in enumerate(batch.punches, start=1):
        at, problem = _check_time(punch, tz, now)
        if at is None:
            receipt.refused.append(RefusedOut(row=row, record_id=punch.record_id, field="punched_at",
                                              message=f"{_t(problem, 'zh-CN')} / {_t(problem, 'en')}"))
            continue
        checked.append(_Checked(row, punch, at, attendance_day(at.astimezone(tz))))
    _store(session, actor, checked, PunchSource.PUSH, receipt)
    if receipt.accepted or receipt.unknown:
        audit.record(session, actor, "attendance.push", object_kind="attendance_punch", site_id=actor.site_id,
                     summary=f"{receipt.accepted} punches, {len(receipt.unknown)} unknown", ip=ip)
    return receipt


def _t(key: str | None, locale: str) -> str:
    from supervision.i18n import translate

    return translate(key or "error.invalid", locale)


HEADERS: dict[str, tuple[str, ...]] = {
    "staff_code": ("工号", "人员编号", "考勤号", "staff number", "staff no", "employee id", "staff code"),
    "punched_at": ("打卡时间", "考勤时间", "日期时间", "时间", "date-time", "datetime", "time", "punch time"),
    "device": ("设备", "设备号", "考勤机", "机器号", "device", "terminal"),
    "verify_mode": ("验证方式", "识别方式", "verify mode", "verification"),
    "record_id": ("记录号", "流水号", "record id", "record"),
}
VERIFY_NAMES: dict[str, VerifyMode] = {
    "指纹": VerifyMode.FINGERPRINT, "fingerprint": VerifyMode.FINGERPRINT, "fp": VerifyMode.FINGERPRINT,
    "人脸": VerifyMode.FACE, "面部": VerifyMode.FACE, "face": VerifyMode.FACE,
    "刷卡": VerifyMode.CARD, "卡": VerifyMode.CARD, "card": VerifyMode.CARD,
    "密码": VerifyMode.PASSWORD, "password": VerifyMode.PASSWORD,
    "": VerifyMode.OTHER, "其他": VerifyMode.OTHER, "other": VerifyMode.OTHER,
}
_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%dT%H:%M:%S")


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    text = spreadsheet.cell_text(value)
    for fmt in _FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def import_punches(session: Session, *, actor: Principal, data: bytes, ip: str = "") -> PunchReceipt:
    """A terminal's export (CSV or Excel): every problem reported by row; nothing saved while any row is wrong.

    Exports without a record id get one from the staff number and the time, so importing twice is harmless.
    """
    actor.require(Permission.ATTENDANCE_MANAGE)
    rows, missing = spreadsheet.read_table(data, HEADERS)
    problems = [FieldProblem(name, "error.column_missing", row=1) for name in missing if name in
                ("staff_code", "punched_at", "device")]
    if problems:
        raise InvalidInput(problems=problems)
    if not rows:
        raise InvalidInput("file", "error.file_empty")
    tz = get_settings().tz
    now = utcnow()
    checked: list[_Checked] = []
    for number, cells in rows:
        code = spreadsheet.cell_text(cells.get("staff_code"))
        device = spreadsheet.cell_text(cells.get("device"))
        mode_text = spreadsheet.cell_text(cells.get("verify_mode")).lower()
        when = _parse_time(cells.get("punched_at"))
        row_problems = []
        if not code or len(code) > 40:
            row_problems.append(FieldProblem("staff_code", "error.required" if not code else "error.too_long",
                                             {"max": 40} if code else {}, row=number))
        if not device or len(device) > 60:
            row_problems.append(FieldProblem("device", "error.required" if not device else "error.too_long",
                                             {"max": 60} if device else {}, row=number))
        mode = VERIFY_NAMES.get(mode_text) or (VerifyMode(mode_text) if mode_text in set(VerifyMode) else None)
        if mode is None:
            row_problems.append(FieldProblem("verify_mode", "error.choice", {"choices": "指纹/人脸/刷卡/密码/其他"},
                                             row=number))
        if when is None:
            row_problems.append(FieldProblem("punched_at", "error.punch_time_format", row=number))
        if row_problems or when is None or mode is None:
            problems.extend(row_problems)
            continue
        record = spreadsheet.cell_text(cells.get("record_id")) or hashlib.sha1(
            f"{code}|{when.isoformat()}".encode(), usedforsecurity=False).hexdigest()[:24]
        punch = PunchIn(staff_code=code, punched_at=when, device=device, record_id=record[:60], verify_mode=mode)
        at, problem = _check_time(punch, tz, now)
        if at is None:
            problems.append(FieldProblem("punched_at", problem or "error.invalid", row=number))
            continue
        checked.append(_Checked(number, punch, at, attendance_day(at.astimezone(tz))))
    if problems:
        raise InvalidInput(problems=problems)
    receipt = PunchReceipt()
    _store(session, actor, checked, PunchSource.IMPORT, receipt)
    audit.record(session, actor, "attendance.import", object_kind="attendance_punch", site_id=actor.site_id,
                 summary=f"{receipt.accepted} punches, {receipt.duplicates} already there, "
                         f"{len(receipt.unknown)} unknown staff numbers", ip=ip)
    return receipt


def list_punches(session: Session, *, actor: Principal, start: date, end: date, staff_id: int | None = None,
                 site_id: int | None = None, offset: int = 0, limit: int = 100) -> tuple[list[PunchRow], int]:
    """Punches of the jurisdiction (staff: their own) between two attendance days, newest first."""
    if end < start:
        raise InvalidInput("end", "error.range_order")
    stmt = (select(Punch, Staff.code, Staff.name).join(Staff, col(Staff.id) == Punch.staff_id)
            .join(Site, col(Site.id) == Punch.site_id)
            .where(site_path_clause(actor), col(Punch.local_day) >= start, col(Punch.local_day) <= end))
    if not actor.can(Permission.ATTENDANCE_READ):
        stmt = stmt.where(col(Punch.staff_id) == (actor.staff_id if actor.staff_id is not None else -1))
    if staff_id is not None:
        stmt = stmt.where(col(Punch.staff_id) == staff_id)
    if site_id is not None:
        site = session.get(Site, site_id)
        stmt = stmt.where(col(Site.path).startswith(site.path if site else "//none", autoescape=True))
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    tz = get_settings().tz
    rows = session.exec(stmt.order_by(col(Punch.punched_at).desc(), col(Punch.id).desc())
                        .offset(offset).limit(limit)).all()
    out = [PunchRow(id=p.id or 0, staff_id=p.staff_id, staff_code=code, staff_name=name, punched_at=p.punched_at,
                    local_time=p.punched_at.astimezone(tz).replace(tzinfo=None), day=p.local_day, device=p.device,
                    record_id=p.record_id, verify_mode=p.verify_mode, source=p.source) for p, code, name in rows]
    return out, int(total)


class UnknownRow(BaseModel):
    id: int
    staff_code: str
    site_name: str
    local_time: datetime
    device: str
    record_id: str
    source: PunchSource


def list_unknown(session: Session, *, actor: Principal, offset: int = 0,
                 limit: int = 100) -> tuple[list[UnknownRow], int]:
    """Punches whose staff number matched nobody, received in the jurisdiction, newest first."""
    actor.require(Permission.ATTENDANCE_READ)
    stmt = (select(UnknownPunch, Site.name).join(Site, col(Site.id) == UnknownPunch.site_id)
            .where(site_path_clause(actor)))
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    tz = get_settings().tz
    rows = session.exec(stmt.order_by(col(UnknownPunch.punched_at).desc()).offset(offset).limit(limit)).all()
    return [UnknownRow(id=u.id or 0, staff_code=u.staff_code, site_name=name,
                       local_time=u.punched_at.astimezone(tz).replace(tzinfo=None), device=u.device,
                       record_id=u.record_id, source=u.source) for u, name in rows], int(total)
