"""Evidence on the web: the queue's thumbnails and filters, the event page's stills and clip (range requests), the
"evidence altered" flag, audited downloads, the export bundle's manifest, and the jurisdiction."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import zipfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import av
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cameras.clipbuffer import Unit, still_jpeg, write_mp4
from cameras.evidence import NewItem, evidence_dir, file_path, log_items, store_bytes, store_file
from cameras.models import EvidenceKind, VideoEvent, VideoEventStatus
from supervision.db import session_scope, utcnow
from supervision.models import AuditEntry
from tests.web.conftest import bearer

Login = Callable[[str], tuple[TestClient, str]]


def h264_units(directory: Path, seconds: int = 6) -> list[Unit]:
    """Real H.264 access units (1 s GOPs, 25 fps), as a camera sends them, arriving from now on."""
    raw = directory / "cam.h264"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25",
                    "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-bf", "0",
                    "-pix_fmt", "yuv420p", "-f", "h264", str(raw)], check=True, timeout=120)
    now = utcnow()
    with av.open(str(raw), format="h264") as container:
        packets = [bytes(p) for p in container.demux(video=0) if p.size]
    return [Unit(d, i % 25 == 0, i / 25, now + timedelta(seconds=i / 25)) for i, d in enumerate(packets)]


@pytest.fixture(scope="module")
def units(tmp_path_factory: pytest.TempPathFactory) -> list[Unit]:
    return h264_units(tmp_path_factory.mktemp("h264"))


def make_event(engine: Engine, site_id: int, units: list[Unit], tmp: Path, *, camera_id: int | None = None,
               status: VideoEventStatus = VideoEventStatus.PENDING_REVIEW) -> tuple[int, list[int]]:
    with session_scope(engine, write=True) as s:
        ev = VideoEvent(site_id=site_id, camera_id=camera_id, started_at=utcnow() - timedelta(minutes=30),
                        ended_at=utcnow() - timedelta(minutes=5), status=status)
        s.add(ev)
        s.flush()
        eid = int(ev.id or 0)
    root = evidence_dir()
    stills = [NewItem(eid, camera_id, EvidenceKind.STILL, label, *store_bytes(root, still_jpeg(units[i])),
                      units[i].wall) for label, i in (("start", 0), ("middle", 75), ("end", 125))]
    clip = tmp / f"clip{eid}.mp4"
    info = write_mp4(units, clip)
    sha, size = store_file(root, clip)
    rows = log_items(engine, [*stills, NewItem(eid, camera_id, EvidenceKind.CLIP, "clip", sha, size, units[0].wall,
                                               info.duration)])
    return eid, [int(r.id or 0) for r in rows]


def test_event_page_shows_stills_and_a_seekable_clip_and_downloads_are_audited(
        logged_in: Login, engine: Engine, org_data: SimpleNamespace, units: list[Unit], tmp_path: Path) -> None:
    eid, ids = make_event(engine, org_data.city, units, tmp_path)
    client, _ = logged_in("officer")
    page = client.get(f"/cameras/video-events/{eid}")
    assert page.status_code == 200
    assert page.text.count('data-testid="evidence-still"') == 3
    assert f'src="/api/v1/video-events/{eid}/evidence/{ids[3]}"' in page.text
    assert "<video" in page.text and "证据已被改动" not in page.text
    # The browser asks for ranges of the clip: 206 with the right bytes.
    clip = client.get(f"/api/v1/video-events/{eid}/evidence/{ids[3]}", headers={"Range": "bytes=0-99"})
    assert clip.status_code == 206 and clip.headers["content-type"] == "video/mp4"
    with Session(engine) as s:
        from cameras.models import EvidenceItem

        row = s.get(EvidenceItem, ids[3])
        assert row is not None
    stored = file_path(evidence_dir(), row.sha256).read_bytes()
    assert clip.content == stored[:100]
    later = client.get(f"/api/v1/video-events/{eid}/evidence/{ids[3]}", headers={"Range": "bytes=100-199"})
    assert later.status_code == 206 and later.content == stored[100:200]
    whole = client.get(f"/api/v1/video-events/{eid}/evidence/{ids[0]}")
    assert whole.status_code == 200 and whole.headers["content-type"] == "image/jpeg"
    assert hashlib.sha256(whole.content).hexdigest() == whole.headers["x-content-sha256"]
    with Session(engine) as s:
        audited = s.exec(select(AuditEntry).where(col(AuditEntry.action) == "evidence.download")
                         .order_by(col(AuditEntry.seq))).all()
    # Who and which file; the second range of the same clip is not a new download.
    assert [(a.actor_name, a.object_id) for a in audited] == [("officer", str(ids[3])), ("officer", str(ids[0]))]
    assert json.loads(audited[0].detail)["sha256"] == row.sha256


def test_a_changed_file_is_flagged_on_the_page_in_both_languages(
        logged_in: Login, engine: Engine, org_data: SimpleNamespace, units: list[Unit], tmp_path: Path) -> None:
    eid, _ = make_event(engine, org_data.city, units, tmp_path)
    client, csrf = logged_in("officer")
    listed = client.get(f"/api/v1/video-events/{eid}/evidence").json()
    path = file_path(evidence_dir(), listed["data"][1]["sha256"])
    data = bytearray(path.read_bytes())
    data[200] ^= 0xFF
    path.write_bytes(bytes(data))
    page = client.get(f"/cameras/video-events/{eid}")
    assert page.text.count('data-testid="evidence-altered"') == 1 and "证据已被改动" in page.text
    assert [i["altered"] for i in client.get(f"/api/v1/video-events/{eid}/evidence").json()["data"]] == [
        False, True, False, False]
    client.post("/locale", data={"csrf_token": csrf, "locale": "en", "next": "/"})
    english = client.get(f"/cameras/video-events/{eid}")
    assert "evidence altered" in english.text and "At the start" in english.text


def test_export_bundle_has_the_files_and_a_manifest_of_their_hashes(
        app_client: TestClient, engine: Engine, org_data: SimpleNamespace, units: list[Unit], tmp_path: Path) -> None:
    eid, _ = make_event(engine, org_data.city, units, tmp_path)
    got = app_client.get(f"/api/v1/video-events/{eid}/evidence.zip", headers=bearer(app_client, "officer"))
    assert got.status_code == 200 and got.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(got.content)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        assert manifest["event"]["id"] == eid
        assert [f["label"] for f in manifest["files"]] == ["start", "middle", "end", "clip"]
        for f in manifest["files"]:
            assert hashlib.sha256(zf.read(f["file"])).hexdigest() == f["sha256"]
        chain = manifest["chain"]
        assert [c["seq"] for c in chain] == [1, 2, 3, 4]
        assert all(chain[i]["prev_hash"] == chain[i - 1]["chain_hash"] for i in range(1, 4))
    with Session(engine) as s:
        assert s.exec(select(AuditEntry).where(col(AuditEntry.action) == "evidence.export")).first() is not None
    # A supervisor who may see events but not score them cannot take the bundle away.
    assert app_client.get(f"/api/v1/video-events/{eid}/evidence.zip",
                          headers=bearer(app_client, "supervisor")).status_code in (403, 404)


def test_queue_has_thumbnails_newest_first_and_filters(
        logged_in: Login, engine: Engine, org_data: SimpleNamespace, units: list[Unit], tmp_path: Path) -> None:
    city, _ = make_event(engine, org_data.city, units, tmp_path)
    county, _ = make_event(engine, org_data.county, units, tmp_path, status=VideoEventStatus.CLOSED)
    client, _ = logged_in("officer")
    page = client.get("/cameras/video-events")
    assert page.status_code == 200
    assert page.text.index(f'data-event="{county}"') < page.text.index(f'data-event="{city}"')  # newest first
    assert page.text.count('data-testid="event-thumbnail"') == 2
    thumb = client.get(f"/cameras/video-events/{city}/thumbnail.jpg")
    assert thumb.status_code == 200 and thumb.content[:2] == b"\xff\xd8"
    only_county = client.get(f"/cameras/video-events?site={org_data.county}").text
    assert f'data-event="{county}"' in only_county and f'data-event="{city}"' not in only_county
    pending = client.get("/cameras/video-events?status=pending_review").text
    assert f'data-event="{city}"' in pending and f'data-event="{county}"' not in pending
    # A county officer sees the county's event only, and no thumbnail of the city's.
    county_client, _ = logged_in("county_officer")
    theirs = county_client.get("/cameras/video-events").text
    assert f'data-event="{county}"' in theirs and f'data-event="{city}"' not in theirs
    assert county_client.get(f"/cameras/video-events/{city}/thumbnail.jpg").status_code == 404
    assert county_client.get(f"/cameras/video-events?site={org_data.city}").status_code == 404
    # Junk in the filters: nothing found, never a server error.
    assert client.get("/cameras/video-events?site=99999999999999999999").status_code == 404
    junk = client.get("/cameras/video-events?camera=x&kind=nope&status=none&site=")
    assert junk.status_code == 200 and f'data-event="{city}"' in junk.text
    assert client.get("/cameras/video-events?status=%00").status_code == 422  # a NUL is refused by field
