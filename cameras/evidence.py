"""Event evidence (issue 13 §6): content-addressed files, a hash-chained log, verify, retention with legal hold, export.

Every still and clip of a video event is a file under the evidence dir named by its sha256 and a row of
`evidence_item`, chained like the audit log (supervision/audit.py): each row carries the HMAC (the installation's
key, purpose "evidence-chain") of its content and of the row before it, so a changed file, a changed row or a row
removed from the middle is found by `verify` (`supervision evidence verify`). Rows are never deleted: retention
removes the file and marks the row purged; an event under legal hold (confirmed by an officer, or referenced by a
work order or a notice through `hold_event`) keeps its files.

The files are written by the ingest worker that holds the camera (cameras/evidence_capture.py): file first, then
the row in a short write of its own; no transaction is open across a file write.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import os
import shutil
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from cameras.models import EvidenceItem, EvidenceItemPublic, EvidenceKind, VideoEvent
from supervision import audit, keys
from supervision.access import SYSTEM, Permission, Principal
from supervision.db import session_scope, utcnow
from supervision.errors import NotFound
from supervision.models import AuditEntry
from supervision.scheduler import JobSpec
from supervision.settings import get_settings

logger = logging.getLogger(__name__)

GENESIS = "0" * 64
CONTENT_TYPES = {EvidenceKind.STILL.value: "image/jpeg", EvidenceKind.CLIP.value: "video/mp4"}
SUFFIXES = {EvidenceKind.STILL.value: ".jpg", EvidenceKind.CLIP.value: ".mp4"}


class EvidenceSettings(BaseSettings):
    """Where evidence lives, how long, and how much of a camera the worker keeps in memory for it."""

    model_config = SettingsConfigDict(env_prefix="SUPERVISION_EVIDENCE_", env_file=".env", extra="ignore")

    dir: Path | None = Field(None, description="Evidence files (content-addressed); default var_dir/evidence")
    retention_days: float = Field(30.0, gt=0, description="Files of events not under legal hold are purged after")
    min_free_mb: float = Field(
        512.0, ge=0, description="Below this much free space on the evidence disk no new clip is written (an alert)")
    enabled: bool = Field(True, description="Keep the last minute of every camera in memory and write evidence")
    buffer_seconds: float = Field(60.0, ge=10, le=300, description="Seconds of each camera's packets kept in memory")
    buffer_mb: float = Field(24.0, ge=1, le=512, description="Bound of one camera's packet buffer")
    before_seconds: float = Field(20.0, ge=0, le=120, description="A clip starts this long before the event")
    after_seconds: float = Field(20.0, ge=0, le=120, description="A clip ends this long after the event")
    poll_seconds: float = Field(2.0, gt=0, le=30, description="How often a worker looks for new events")
    still_cap_minutes: float = Field(
        60.0, gt=0, description="An event open this long gets its middle and end stills without waiting for its end")


@lru_cache
def get_evidence_settings() -> EvidenceSettings:
    return EvidenceSettings()


def evidence_dir(settings: EvidenceSettings | None = None) -> Path:
    s = settings or get_evidence_settings()
    return s.dir if s.dir is not None else get_settings().var_dir / "evidence"


def file_path(root: Path, sha256: str) -> Path:
    """Content-addressed: two levels so no directory holds millions of files."""
    return root / sha256[:2] / sha256


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def store_file(root: Path, source: Path) -> tuple[str, int]:
    """Move a finished file into the store under its sha256 name; (sha256, size). Same content: one file."""
    sha = sha256_of(source)
    size = source.stat().st_size
    target = file_path(root, sha)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        source.unlink()
    else:
        os.replace(source, target)
    return sha, size


def store_bytes(root: Path, data: bytes) -> tuple[str, int]:
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".tmp-{os.getpid()}-{hashlib.sha256(data).hexdigest()[:16]}"
    tmp.write_bytes(data)
    return store_file(root, tmp)


FreeSpace = Callable[[Path], int]


def free_bytes(path: Path) -> int:
    """Free space for an unprivileged writer on the disk of `path` (statvfs)."""
    path.mkdir(parents=True, exist_ok=True)
    return int(shutil.disk_usage(path).free)


# --- the chain ----------------------------------------------------------------------------------------------------

_CHAINED = ("seq", "event_id", "camera_id", "kind", "label", "sha256", "size", "captured_at", "duration_s",
            "created_at", "prev_hash")


def _canonical(fields: Mapping[str, Any]) -> bytes:
    body = {name: fields[name] for name in _CHAINED}
    for name in ("captured_at", "created_at"):
        body[name] = fields[name].isoformat(timespec="microseconds")
    body["duration_s"] = f"{float(fields['duration_s']):.3f}"
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def item_hash(fields: Mapping[str, Any], key: keys.Key) -> str:
    """HMAC of the row's content and its link: the installation key is needed to write a consistent chain."""
    return hmac.new(key.derive("evidence-chain"), _canonical(fields), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class NewItem:
    """A file already in the store, to be logged."""

    event_id: int
    camera_id: int | None
    kind: EvidenceKind
    label: str
    sha256: str
    size: int
    captured_at: datetime
    duration_s: float = 0.0


def append(session: Session, item: NewItem) -> EvidenceItem:
    """Add a row at the end of the chain, in the caller's (short) write transaction."""
    last = session.exec(select(EvidenceItem).order_by(col(EvidenceItem.seq).desc()).limit(1)
                        .with_for_update()).first()
    key = keys.ring().newest
    fields: dict[str, Any] = dict(
        seq=(last.seq + 1) if last else 1, event_id=item.event_id, camera_id=item.camera_id, kind=item.kind.value,
        label=item.label, sha256=item.sha256, size=item.size, captured_at=item.captured_at,
        duration_s=round(item.duration_s, 3), created_at=utcnow(), prev_hash=last.chain_hash if last else GENESIS)
    row = EvidenceItem(**fields, chain_hash=item_hash(fields, key), key_id=key.id)
    session.add(row)
    session.flush()  # the unique seq: two workers appending at once, one of them fails here and tries again
    # The audit log's sealed head guards the newest end of this chain: removing the newest rows leaves their
    # audit entries behind, and `verify` compares the last one with the log.
    audit.record(session, SYSTEM, "evidence.add", object_kind="evidence_item", object_id=row.seq,
                 summary=f"{row.kind} {row.label}",
                 detail={"event_id": row.event_id, "sha256": row.sha256, "chain_hash": row.chain_hash})
    return row


def log_items(engine: Engine | None, items: Sequence[NewItem]) -> list[EvidenceItem]:
    """Log files (already stored) in a short write each; an item the event already has (label) is skipped."""
    done: list[EvidenceItem] = []
    for item in items:
        for attempt in range(5):
            try:
                with session_scope(engine, write=True) as s:
                    if s.exec(select(EvidenceItem.id).where(col(EvidenceItem.event_id) == item.event_id,
                                                            col(EvidenceItem.label) == item.label)).first():
                        break  # another worker (an earlier lease holder) logged it
                    done.append(append(s, item))
                break
            except IntegrityError:
                if attempt == 4:
                    raise
    return done


@dataclass(frozen=True)
class EvidenceProblem:
    seq: int
    item_id: int | None
    event_id: int | None
    reason: str  # message key (cameras/messages.py)

    def __str__(self) -> str:
        return f"evidence item #{self.seq} (event {self.event_id}): {self.reason}"


def verify(session: Session, root: Path | None = None, *, files: bool = True) -> list[EvidenceProblem]:
    """Walk the chain: every row's HMAC and link, no row missing, every kept file still of its hash."""
    root = root or evidence_dir()
    ring = keys.ring(refresh=True)
    problems: list[EvidenceProblem] = []
    expected_seq, expected_prev = 1, GENESIS
    for row in session.exec(select(EvidenceItem).order_by(col(EvidenceItem.seq))):
        fields = {name: getattr(row, name) for name in _CHAINED}
        if row.seq != expected_seq:
            problems.append(EvidenceProblem(expected_seq, None, None, "evidence.problem.missing"))
        elif row.prev_hash != expected_prev:
            problems.append(EvidenceProblem(row.seq, row.id, row.event_id, "evidence.problem.unlinked"))
        key = ring.get(row.key_id)
        if key is None or not hmac.compare_digest(item_hash(fields, key), row.chain_hash):
            problems.append(EvidenceProblem(row.seq, row.id, row.event_id, "evidence.problem.row_altered"))
        if files and row.purged_at is None:
            reason = _file_problem(root, row.sha256)
            if reason:
                problems.append(EvidenceProblem(row.seq, row.id, row.event_id, reason))
        expected_seq, expected_prev = row.seq + 1, row.chain_hash
    newest = session.exec(select(AuditEntry).where(col(AuditEntry.action) == "evidence.add")
                          .order_by(col(AuditEntry.seq).desc()).limit(1)).first()
    if newest is not None:
        logged = int(newest.object_id) if newest.object_id.isdigit() else 0
        if logged >= expected_seq:
            problems.append(EvidenceProblem(logged, None, None, "evidence.problem.truncated"))
        elif json.loads(newest.detail or "{}").get("chain_hash") not in (None, _hash_of(session, logged)):
            problems.append(EvidenceProblem(logged, None, None, "evidence.problem.row_altered"))
    return problems


def _hash_of(session: Session, seq: int) -> str | None:
    return session.exec(select(EvidenceItem.chain_hash).where(col(EvidenceItem.seq) == seq)).first()


def _file_problem(root: Path, sha: str) -> str:
    path = file_path(root, sha)
    if not path.exists():
        return "evidence.problem.file_missing"
    if sha256_of(path) != sha:
        return "evidence.problem.file_altered"
    return ""


# --- legal hold and retention -----------------------------------------------------------------------------------


def hold_event(session: Session, event_id: int) -> bool:
    """Put an event's evidence under legal hold (never purged); for confirm, work orders and notices. True if new."""
    done = session.execute(update(VideoEvent).where(col(VideoEvent.id) == event_id, ~col(VideoEvent.legal_hold))
                           .values(legal_hold=True))
    return bool(done.rowcount)  # type: ignore[attr-defined]


# Who else may reference a video event so that its evidence must be kept: complaints' work orders and notices
# (`source_ref` "video:<id>"). Wired by web/composition.py; no domain imports another.
ReferenceReader = Callable[[Session, Sequence[int]], set[int]]
_REFERENCE_READERS: list[ReferenceReader] = []


def wire_references(readers: Sequence[ReferenceReader]) -> None:
    """Name the readers of references to video events (replacing any named before)."""
    _REFERENCE_READERS[:] = list(readers)


def _referenced(session: Session, event_ids: Sequence[int]) -> set[int]:
    found: set[int] = set()
    for reader in _REFERENCE_READERS:
        found |= reader(session, event_ids)
    return found


def purge_expired(engine: Engine | None = None, *, now: datetime | None = None,
                  settings: EvidenceSettings | None = None) -> int:
    """Remove the files of evidence older than the retention of events not under legal hold; rows stay (purged).

    Safe to run twice, and beside a worker writing: rows are marked in one short write, files removed after it
    (a file whose content another kept row also names stays).
    """
    s = settings or get_evidence_settings()
    now = now or utcnow()
    cutoff = now - timedelta(days=s.retention_days)
    root = evidence_dir(s)
    with session_scope(engine, write=True) as session:
        rows = session.exec(select(EvidenceItem).join(VideoEvent, col(VideoEvent.id) == col(EvidenceItem.event_id),
                                                      isouter=True)
                            .where(col(EvidenceItem.purged_at).is_(None), col(EvidenceItem.created_at) < cutoff,
                                   ~col(VideoEvent.legal_hold).is_(True))).all()
        # An event a work order or a notice references is under legal hold from now on: its evidence stays.
        referenced = _referenced(session, sorted({r.event_id for r in rows}))
        for event_id in referenced:
            hold_event(session, event_id)
        rows = [r for r in rows if r.event_id not in referenced]
        for row in rows:
            row.purged_at = now
            session.add(row)
        shas = {r.sha256 for r in rows}
        kept = set(session.exec(select(EvidenceItem.sha256).where(
            col(EvidenceItem.sha256).in_(shas), col(EvidenceItem.purged_at).is_(None))).all()) if shas else set()
    for sha in shas - kept:
        try:
            file_path(root, sha).unlink(missing_ok=True)
        except OSError:
            logger.exception("could not remove evidence file %s", sha)
    if rows:
        logger.info("evidence retention: %d items purged (%d files)", len(rows), len(shas - kept))
    return len(rows)


def run_purge_job() -> None:
    """The scheduler's job."""
    purge_expired()


EVIDENCE_PURGE_JOB = JobSpec("cameras.evidence_purge", "cameras.evidence:run_purge_job", "interval", {"hours": 1})


# --- reading, downloads, export -----------------------------------------------------------------------------------


def _event(session: Session, actor: Principal, event_id: int) -> VideoEvent:
    from cameras.vacancy import get_event  # the event's jurisdiction check, in one place

    return get_event(session, actor, event_id)


def _rows(session: Session, event_id: int) -> list[EvidenceItem]:
    return list(session.exec(select(EvidenceItem).where(col(EvidenceItem.event_id) == event_id)
                             .order_by(col(EvidenceItem.seq))).all())


def _public(row: EvidenceItem, altered: bool) -> EvidenceItemPublic:
    return EvidenceItemPublic(
        id=int(row.id or 0), seq=row.seq, event_id=row.event_id, kind=row.kind, label=row.label, sha256=row.sha256,
        size=row.size, captured_at=row.captured_at, duration_s=row.duration_s, created_at=row.created_at,
        purged=row.purged_at is not None, altered=altered,
        url=f"/api/v1/video-events/{row.event_id}/evidence/{row.id}")


def list_evidence(session: Session, actor: Principal, event_id: int, *, check_files: bool = True
                  ) -> list[EvidenceItemPublic]:
    """An event's evidence, oldest first; `altered` when a file or its row no longer matches the chain."""
    _event(session, actor, event_id)
    rows = _rows(session, event_id)
    ring = keys.ring()
    root = evidence_dir()
    out = []
    for row in rows:
        key = ring.get(row.key_id)
        fields = {name: getattr(row, name) for name in _CHAINED}
        altered = key is None or not hmac.compare_digest(item_hash(fields, key), row.chain_hash)
        if check_files and not altered and row.purged_at is None:
            altered = _file_problem(root, row.sha256) != ""
        out.append(_public(row, altered))
    return out


def thumbnails(session: Session, event_ids: Iterable[int]) -> dict[int, int]:
    """The start still (item id) of each of these events that has one kept."""
    ids = list(event_ids)
    if not ids:
        return {}
    rows = session.exec(select(EvidenceItem.event_id, EvidenceItem.id).where(
        col(EvidenceItem.event_id).in_(ids), col(EvidenceItem.label) == "start",
        col(EvidenceItem.purged_at).is_(None))).all()
    return {int(e): int(i or 0) for e, i in rows}


@dataclass(frozen=True)
class EvidenceFile:
    path: Path
    content_type: str
    filename: str
    item: EvidenceItemPublic


def open_file(session: Session, actor: Principal, event_id: int, item_id: int, *, ip: str = "",
              audited: bool = True) -> EvidenceFile:
    """One evidence file of an event the actor may see; the download is audited (who, which file)."""
    event = _event(session, actor, event_id)
    row = session.get(EvidenceItem, item_id)
    if row is None or row.event_id != event_id or row.purged_at is not None:
        raise NotFound("error.not_found_kind", kind="kind.evidence", id=item_id)
    path = file_path(evidence_dir(), row.sha256)
    if not path.exists():
        raise NotFound("error.not_found_kind", kind="kind.evidence", id=item_id)
    if audited:
        audit.record(session, actor, "evidence.download", object_kind="evidence_item", object_id=row.id,
                     site_id=event.site_id, summary=f"{row.kind} {row.label} {row.sha256[:12]}",
                     detail={"event_id": event_id, "sha256": row.sha256, "label": row.label}, ip=ip)
    name = f"event{event_id}-{row.label}-{row.sha256[:12]}{SUFFIXES.get(row.kind, '')}"
    return EvidenceFile(path, CONTENT_TYPES.get(row.kind, "application/octet-stream"), name, _public(row, False))


def export_bundle(session: Session, actor: Principal, event_id: int, *, ip: str = "") -> tuple[str, bytes]:
    """A zip for a discipline case: the event's kept files, a manifest of their hashes and the chain extract."""
    actor.require(Permission.LEDGER_WRITE)
    event = _event(session, actor, event_id)
    rows = _rows(session, event_id)
    root = evidence_dir()
    buf = io.BytesIO()
    manifest: dict[str, Any] = {
        "event": {"id": event.id, "kind": event.kind.value, "site_id": event.site_id, "camera_id": event.camera_id,
                  "post_id": event.post_id, "staff_id": event.staff_id, "started_at": event.started_at.isoformat(),
                  "ended_at": event.ended_at.isoformat() if event.ended_at else None,
                  "review_outcome": event.review_outcome.value if event.review_outcome else None,
                  "legal_hold": event.legal_hold},
        "exported_at": utcnow().isoformat(), "exported_by": actor.audit_name,
        "files": [], "chain": [],
        "how_to_check": "sha256 of each file equals its manifest entry; each chain row's prev_hash is the "
                        "chain_hash of the row before it in the installation's log (supervision evidence verify)",
    }
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:  # MP4 and JPEG do not compress further
        for row in rows:
            values = {name: getattr(row, name) for name in (*_CHAINED, "chain_hash", "key_id")}
            manifest["chain"].append({k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()})
            path = file_path(root, row.sha256)
            entry: dict[str, Any] = {
                "seq": row.seq, "kind": row.kind, "label": row.label, "sha256": row.sha256, "size": row.size,
                "captured_at": row.captured_at.isoformat(), "file": None, "state": "kept"}
            if row.purged_at is not None:
                entry["state"] = "purged"
            elif not path.exists() or sha256_of(path) != row.sha256:
                entry["state"] = "altered"
            else:
                arcname = f"files/{row.label}-{row.sha256}{SUFFIXES.get(row.kind, '')}"
                entry["file"] = arcname
                zf.write(path, arcname)
            manifest["files"].append(entry)
        zf.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
    audit.record(session, actor, "evidence.export", object_kind="video_event", object_id=event_id,
                 site_id=event.site_id, summary=f"{len(rows)} items",
                 detail={"sha256": [r.sha256 for r in rows]}, ip=ip)
    return f"evidence-event{event_id}.zip", buf.getvalue()


def verify_cli(engine: Engine | None = None) -> list[EvidenceProblem]:
    """`supervision evidence verify`: the whole chain and every kept file; the run itself is audited."""
    with session_scope(engine) as s:
        problems = verify(s)
        count = len(s.exec(select(EvidenceItem.id)).all())
    audit.record_now(engine, SYSTEM, "evidence.verify", summary=f"{count} items, {len(problems)} problems")
    return problems


# --- the officer's queue ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilter:
    camera_id: int | None = None
    site_id: int | None = None
    kind: str | None = None
    status: str | None = None


def review_queue(session: Session, actor: Principal, flt: QueueFilter, *, limit: int = 300
                 ) -> tuple[list[Any], dict[int, int], list[tuple[int, str]]]:
    """Events of the jurisdiction, newest first, filtered by camera, site (its subtree), kind and status; with each
    event's start-still item id (the thumbnail) and the cameras of the jurisdiction that have events (the filter)."""
    from cameras.models import Camera, VideoEventKind, VideoEventStatus
    from cameras.vacancy import _public
    from supervision.models import Site

    actor.require(Permission.CAMERAS_VIEW)
    prefix = actor.site_path
    if flt.site_id is not None:
        site = session.get(Site, flt.site_id) if 0 < flt.site_id < 2 ** 31 else None
        if site is None or not actor.covers_path(site.path):
            raise NotFound("error.not_found_kind", kind="kind.site", id=flt.site_id)
        prefix = site.path
    stmt = (select(VideoEvent).join(Site, col(Site.id) == col(VideoEvent.site_id))
            .where(col(Site.path).startswith(prefix, autoescape=True)))
    if flt.camera_id is not None:
        stmt = stmt.where(col(VideoEvent.camera_id) == flt.camera_id)
    if flt.kind in {k.value for k in VideoEventKind}:
        stmt = stmt.where(col(VideoEvent.kind) == VideoEventKind(flt.kind))
    if flt.status in {k.value for k in VideoEventStatus}:
        stmt = stmt.where(col(VideoEvent.status) == VideoEventStatus(flt.status))
    rows = list(session.exec(stmt.order_by(col(VideoEvent.started_at).desc(), col(VideoEvent.id).desc())
                             .limit(limit)).all())
    cams = session.exec(select(Camera.id, Camera.name).join(Site, col(Site.id) == col(Camera.site_id))
                        .where(col(Site.path).startswith(actor.site_path, autoescape=True),
                               col(Camera.id).in_(select(VideoEvent.camera_id).distinct()))
                        .order_by(col(Camera.name))).all()
    return _public(session, rows), thumbnails(session, [int(r.id or 0) for r in rows]), \
        [(int(c or 0), n) for c, n in cams]


def thumbnail_file(session: Session, actor: Principal, event_id: int) -> Path:
    """The start still of an event the actor may see (the queue's thumbnail; a view, not a download)."""
    _event(session, actor, event_id)
    item_id = thumbnails(session, [event_id]).get(event_id)
    row = session.get(EvidenceItem, item_id) if item_id else None
    path = file_path(evidence_dir(), row.sha256) if row is not None else None
    if path is None or not path.exists():
        raise NotFound("error.not_found_kind", kind="kind.evidence", id=event_id)
    return path


def is_held(session: Session, event_id: int) -> bool:
    event = session.get(VideoEvent, event_id)
    return bool(event is not None and event.legal_hold)
