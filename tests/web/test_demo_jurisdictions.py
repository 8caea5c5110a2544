"""Every demo account finds its own jurisdiction filled: cameras, risks, orders, ledger, integrity tips.

The demo is seeded as `serve --demo` seeds it (organisation, then each domain), the virtual cameras are
registered as the demo's camera service registers them, and each account asks the JSON API for its lists.
Seeding twice (a restart) adds nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from cameras.demo import DEMO_PASSWORD, DemoCamera, register_demo_cameras
from cameras.models import Camera
from cameras.virtual import VirtualDeviceSpec, VirtualOnvifDevice, VirtualProfile
from complaints.models import WorkOrder
from risk import point_concerns
from risk.models import RiskPoint
from supervision.attendance import CorrectionRequest
from supervision.demo_data import DIVISIONS
from supervision.duty import DutyAssignment, DutyLogEntry, DutySwap
from supervision.incidents import Concern
from supervision.models import Hall, LedgerEntry, Site, SiteKind
from supervision.settings import get_settings
from tests.web.conftest import login
from web.app import create_app
from web.composition import seed_demo_everything

# What each demo account must find non-empty in its own jurisdiction (README: the demo accounts).
EXPECTED: dict[str, tuple[str, ...]] = {
    "officer": ("cameras", "risk-points", "work-orders", "ledger", "integrity", "duty-log"),
    "officer_fc": ("cameras", "risk-points", "work-orders", "ledger", "integrity", "duty-log"),
    "manager_jy": ("risk-points", "ledger", "duty-log", "attendance/corrections"),
    "supervisor_gx": ("work-orders", "ledger", "duty-log"),
    "supervisor_town": ("work-orders", "ledger", "duty-log"),
}
SITE_OF = {"officer": "MY", "officer_fc": "MY-FC", "manager_jy": "MY-JY", "supervisor_gx": "MY-GX",
           "supervisor_town": "MY-FC-T01", "manager": "MY"}


@pytest.fixture
def demo_devices() -> Iterator[list[DemoCamera]]:
    """As many virtual ONVIF devices as the demo runs by default (their streams are not read here)."""
    from cameras.config import CameraSettings

    count = CameraSettings().demo_cameras
    with ExitStack() as stack:
        cams = []
        for i in range(1, count + 1):
            uri = f"rtsp://127.0.0.1:9/hall{i}"
            spec = VirtualDeviceSpec(password=DEMO_PASSWORD, model="VirtualHallCam", serial=f"DEMO-{i:04d}",
                                     profiles=[VirtualProfile("main", 640, 360, fps=10, gop=10, rtsp_uri=uri)])
            dev = stack.enter_context(VirtualOnvifDevice(spec))
            cams.append(DemoCamera(f"hall{i}", uri, dev.host, dev.port))
        yield cams


def _counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as s:
        return {t.__name__: int(s.exec(select(func.count()).select_from(t)).one())
                for t in (WorkOrder, RiskPoint, LedgerEntry, Camera, DutyAssignment, DutyLogEntry, DutySwap,
                          CorrectionRequest)}


def test_every_demo_account_sees_its_own_jurisdiction_filled(engine: Engine,
                                                             demo_devices: list[DemoCamera]) -> None:
    settings = get_settings()
    seed_demo_everything(engine, settings)
    register_demo_cameras(engine, demo_devices)
    first = _counts(engine)
    # A restart: the same seeding and registration again add nothing.
    seed_demo_everything(engine, settings)
    register_demo_cameras(engine, demo_devices)
    assert _counts(engine) == first

    with Session(engine) as s:
        paths = {site.code: site.path for site in s.exec(select(Site))}
        path_of = {int(site.id or 0): site.path for site in s.exec(select(Site))}
        # Every county and park hall has a camera of its own.
        divisions = s.exec(select(Site).where(col(Site.kind).in_([SiteKind.COUNTY, SiteKind.PARK]))).all()
        with_camera = {site.code for site in divisions if s.exec(
            select(Camera.id).join(Hall, col(Hall.id) == col(Camera.hall_id)).where(col(Hall.site_id) == site.id)
        ).first() is not None}
    assert with_camera == {f"MY-{d.key}" for d in DIVISIONS}

    app = create_app(settings, engine, migrate=False, services=[])
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        for username, lists in EXPECTED.items():
            token = client.post("/api/v1/auth/token", data={"username": username,
                                                             "password": settings.demo_password})
            assert token.status_code == 200, token.text
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            mine = paths[SITE_OF[username]]
            for name in lists:
                url = "/api/v1/work-orders?limit=500" if name == "integrity" else f"/api/v1/{name}"
                got = client.get(url, headers=headers)
                assert got.status_code == 200, (username, url, got.text)
                rows = got.json()["data"]
                if name == "integrity":
                    rows = [row for row in rows if row["integrity"]]
                assert rows, f"{username} sees no {name}"
                if "site_id" in rows[0]:
                    assert all(path_of[row["site_id"]].startswith(mine) for row in rows), (username, name)
        # Window staff of the township find their own month on /me.
        token = client.post("/api/v1/auth/token", data={"username": "staff_town", "password": settings.demo_password})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        me = client.get("/api/v1/me", headers=headers)
        assert me.status_code == 200, me.text
        with Session(engine) as s:
            staff_id = me.json().get("staff_id")
            assert staff_id and s.exec(select(LedgerEntry.id).where(col(LedgerEntry.staff_id) == staff_id)).first()
        # A supervisor does not see that integrity tips exist.
        token = client.post("/api/v1/auth/token", data={"username": "supervisor", "password": settings.demo_password})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        seen = client.get("/api/v1/work-orders?limit=500", headers=headers)
        assert seen.status_code == 200 and seen.json()["data"]
        assert not [row for row in seen.json()["data"] if row["integrity"]]
        # Issue 14: each jurisdiction's officer finds a point flagged by the incidents linked to it, and only
        # points those incidents concern (service attitude or 刁难, not 优亲厚友); its manager finds an appeal
        # to decide.
        for username in ("officer", "officer_fc"):
            token = client.post("/api/v1/auth/token", data={"username": username, "password": settings.demo_password})
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            flagged = client.get("/api/v1/risk-points?flag=regrade&limit=500", headers=headers).json()["data"]
            assert flagged, f"{username} sees no point flagged for re-grading"
            concerns = [set(point_concerns(r["name"], r["manifestation"], r["category"])) for r in flagged]
            # The demo's incidents are about service attitude or obstruction (刁难).
            assert all(c & {Concern.ATTITUDE, Concern.OBSTRUCTION} and Concern.FAVOURITISM not in c
                       for c in concerns), [r["name"] for r in flagged]
        for username in ("manager", "manager_jy"):
            client.cookies.clear()
            login(client, username, settings.demo_password)
            home = client.get("/")
            assert 'href="/complaints/ratings?appeals=pending"' in home.text, f"{username} has no appeal to decide"
        # Issue 12: every demo manager finds the past three months closed and published, ranked in their own
        # jurisdiction; window staff find their own published score.
        from supervision.scoring.demo import demo_months

        today = datetime.now(settings.tz).date()
        for username in ("manager", "manager_jy", "staff_town"):
            token = client.post("/api/v1/auth/token", data={"username": username, "password": settings.demo_password})
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            for month in demo_months(today):
                got = client.get(f"/api/v1/monthly-scores?month={month:%Y-%m}", headers=headers)
                assert got.status_code == 200, got.text
                view = got.json()
                assert view["closed"] and view["published"], (username, month)
                assert view["rows"], f"{username} sees no scores of {month:%Y-%m}"
                if username == "staff_town":
                    assert [r["subject_kind"] for r in view["rows"]] == ["staff"]
                else:
                    mine = paths[SITE_OF.get(username, "MY")]
                    assert all(path_of[r["site_id"]].startswith(mine) for r in view["rows"]), username
                    assert {r["subject_kind"] for r in view["rows"]} == {"staff", "window", "department"}
