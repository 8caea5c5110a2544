"""The demo's office hours and leave: every demo jurisdiction has timetables and leave, and a restart adds nothing."""

from __future__ import annotations

from datetime import date, time

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from supervision import officehours
from supervision.leave import LeaveKind, LeaveRequest, LeaveStatus
from supervision.models import Site
from supervision.officehours import OfficeTimetable
from supervision.settings import get_settings
from web.app import create_app
from web.composition import seed_demo_everything

SITES = ("MY", "MY-FC", "MY-JY", "MY-GX", "MY-FC-T01")  # the demo accounts' jurisdictions


def _counts(engine: Engine) -> tuple[int, int]:
    with Session(engine) as s:
        return (int(s.exec(select(func.count()).select_from(LeaveRequest)).one()),
                int(s.exec(select(func.count()).select_from(OfficeTimetable)).one()))


def test_the_demo_fills_every_jurisdiction_with_hours_and_leave(engine: Engine) -> None:
    settings = get_settings()
    seed_demo_everything(engine, settings)
    first = _counts(engine)
    seed_demo_everything(engine, settings)  # a restart
    assert _counts(engine) == first and first[1] == 3
    with Session(engine) as s:
        ids = {site.code: int(site.id or 0) for site in s.exec(select(Site).where(col(Site.code).in_(SITES)))}
        for code in SITES:
            rows = s.exec(select(LeaveRequest).where(LeaveRequest.site_id == ids[code])).all()
            assert {r.status for r in rows} >= {LeaveStatus.APPROVED, LeaveStatus.PENDING}, code
            assert LeaveKind.TRIP in {r.kind for r in rows}, code
        # 江油 has its own summer: its townships follow it, 涪城's follow the city's with a Wednesday evening.
        jy_town = s.exec(select(Site.id).where(col(Site.code).startswith("MY-JY-T"))).first()
        june = officehours.hours_for(s, site_id=int(jy_town or 0), day=date(2026, 6, 15))
        assert june is not None and june.periods[1] == (time(14, 30), time(18))
        may = officehours.hours_for(s, site_id=ids["MY-GX"], day=date(2026, 5, 11))
        assert may is not None and may.periods[1] == (time(14), time(17, 30))
        wednesday = officehours.hours_for(s, site_id=ids["MY-FC-T01"], day=date(2026, 12, 9))
        assert wednesday is not None and wednesday.extended
    app = create_app(settings, engine, migrate=False, services=[])
    with TestClient(app, base_url="http://testserver") as client:
        for username, scope in (("manager", "queue"), ("manager_jy", "queue"), ("staff", "mine"),
                                ("staff_town", "mine")):
            token = client.post("/api/v1/auth/token", data={"username": username, "password": settings.demo_password})
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            got = client.get("/api/v1/leave-requests", headers=headers, params={"scope": scope})
            assert got.status_code == 200 and got.json()["count"] > 0, (username, got.text)
        balance = client.get("/api/v1/leave-balance", headers=headers, params={"year": date.today().year})
        assert balance.status_code == 200 and balance.json()["service_start"] is not None
