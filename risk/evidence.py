"""Evidence files of checks, stored content-addressed (by sha256) under the media directory."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from risk.settings import RiskSettings
from supervision.errors import InvalidInput
from supervision.settings import get_settings

logger = logging.getLogger(__name__)

# The first bytes of each accepted type: a file is what it starts with, not what its name says.
_MAGIC: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (b"PK\x03\x04",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (b"PK\x03\x04",),
}


@dataclass(frozen=True)
class EvidenceUpload:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class StoredEvidence:
    sha256: str
    name: str
    content_type: str
    size: int


def evidence_root() -> Path:
    return get_settings().media_dir / "risk-evidence"


def evidence_path(sha256: str) -> Path:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise InvalidInput("evidence", "error.invalid")
    return evidence_root() / sha256[:2] / sha256


def validate_evidence(upload: EvidenceUpload, settings: RiskSettings) -> str:
    """Refuse files that are too large or not of an accepted type; return the canonical content type."""
    if len(upload.data) > settings.evidence_max_mb * 1024 * 1024:
        raise InvalidInput("evidence", "error.upload_too_large", max=settings.evidence_max_mb)
    if not upload.data:
        raise InvalidInput("evidence", "error.required")
    allowed = settings.evidence_types.split()
    content_type = upload.content_type.split(";")[0].strip().lower()
    if content_type not in allowed or not upload.data.startswith(_MAGIC.get(content_type, (b"",))):
        raise InvalidInput("evidence", "error.upload_type", expected=", ".join(_short(t) for t in allowed))
    return content_type


def store_evidence(upload: EvidenceUpload, settings: RiskSettings) -> StoredEvidence:
    """Write the file once under its hash; the same content uploaded twice is stored once."""
    content_type = validate_evidence(upload, settings)
    digest = hashlib.sha256(upload.data).hexdigest()
    target = evidence_path(digest)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        # Written before the check's row commits: if that transaction fails, an unreferenced file stays
        # behind, which is harmless in a content-addressed store (and never a row without its file).
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(upload.data)
        os.replace(tmp, target)
        logger.info("stored evidence %s (%d bytes)", digest, len(upload.data))
    name = Path(upload.filename or "evidence").name[:200]
    return StoredEvidence(digest, name, content_type, len(upload.data))


def _short(content_type: str) -> str:
    return {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}.get(
        content_type,
        "DOCX" if "wordprocessing" in content_type else "XLSX" if "spreadsheet" in content_type else content_type,
    )
