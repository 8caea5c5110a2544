"""The command line as an admin uses it: user add, import org, demo."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select
from typer.testing import CliRunner

from supervision import orgimport
from supervision.db import make_engine
from supervision.models import Site, Staff, User
from supervision.settings import get_settings
from tests.conftest import SYSTEM
from web.cli import app as cli_app


def _use_database(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPERVISION_DATABASE_URL", url)
    get_settings.cache_clear()


def test_import_org_into_an_empty_database(engine: Engine, org_data: SimpleNamespace, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    with Session(engine) as s:
        workbook = orgimport.export_org(s, SYSTEM)
        s.commit()
    path = tmp_path / "org.xlsx"
    path.write_bytes(workbook)
    target = f"sqlite:///{tmp_path / 'fresh.db'}"
    _use_database(target, monkeypatch)
    result = CliRunner().invoke(cli_app, ["import", "org", str(path)])
    assert result.exit_code == 0, result.output
    fresh = make_engine(target)
    with Session(fresh) as s:
        assert s.exec(select(func.count()).select_from(Site)).one() == 4
        assert s.exec(select(Staff).where(col(Staff.code) == "S001")).one().name == "张三"
    fresh.dispose()


def test_a_broken_workbook_saves_nothing_and_names_the_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from openpyxl import load_workbook

    book = load_workbook(filename=__import__("io").BytesIO(orgimport.build_template()))
    sites = book.worksheets[1]
    sites.append(["MY", "绵阳市", "city", "", ""])
    sites.append(["MY-X", "某区", "county", "NOPE", ""])
    path = tmp_path / "broken.xlsx"
    book.save(path)
    target = f"sqlite:///{tmp_path / 'fresh.db'}"
    _use_database(target, monkeypatch)
    result = CliRunner().invoke(cli_app, ["import", "org", str(path)])
    assert result.exit_code == 2
    assert "NOPE" in result.output and "row 4" in result.output
    fresh = make_engine(target)
    with Session(fresh) as s:
        assert s.exec(select(func.count()).select_from(Site)).one() == 0
    fresh.dispose()


def test_user_add_creates_a_user_with_a_jurisdiction(engine: Engine, org_data: SimpleNamespace,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    _use_database(engine.url.render_as_string(hide_password=False), monkeypatch)
    result = CliRunner().invoke(cli_app, ["user", "add", "zhao", "--role", "officer", "--site", "FC",
                                          "--password", "long-enough-9"])
    assert result.exit_code == 0, result.output
    bad = CliRunner().invoke(cli_app, ["user", "add", "qian", "--role", "officer", "--site", "NOWHERE",
                                       "--password", "long-enough-9"])
    assert bad.exit_code == 2 and "site_id" in bad.output
    with Session(engine) as s:
        user = s.exec(select(User).where(col(User.username) == "zhao")).one()
        assert user.site_id == org_data.county


def test_complaints_rollup_check_and_rebuild(engine: Engine, org_data: SimpleNamespace,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import complaints
    from complaints.models import StatsMonth
    from supervision.access import ROLE_PERMISSIONS, Principal
    from supervision.db import session_scope
    from supervision.models import Role

    with Session(engine) as s:
        city = s.get(Site, org_data.city)
        assert city is not None
    supervisor = Principal(kind="user", id=None, name="supervisor", site_id=org_data.city,
                           site_path=city.path, role=Role.SUPERVISOR,
                           permissions=ROLE_PERMISSIONS[Role.SUPERVISOR])
    with session_scope(engine, write=True) as s:
        for n in range(3):
            complaints.create_work_order(s, supervisor, {"channel": "hotline", "type": "complaint",
                                                         "content": f"窗口无人 {n}", "caller_name": "王先生",
                                                         "site_id": org_data.city})
    _use_database(engine.url.render_as_string(hide_password=False), monkeypatch)
    assert CliRunner().invoke(cli_app, ["complaints", "rollup-check"]).exit_code == 0
    with session_scope(engine, write=True) as s:  # a bulk load that bypassed the services
        for row in s.exec(select(StatsMonth)).all():
            row.received += 5
            s.add(row)
    broken = CliRunner().invoke(cli_app, ["complaints", "rollup-check"])
    assert broken.exit_code == 1 and "ROLL-UP DIFFERS" in broken.output
    rebuilt = CliRunner().invoke(cli_app, ["complaints", "rollup-rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert CliRunner().invoke(cli_app, ["complaints", "rollup-check"]).exit_code == 0
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(StatsMonth)).one() > 0
