from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from supervision import audit, org
from supervision.errors import Conflict, InvalidInput, NotFound
from supervision.models import Site, Staff, WindowDelegation
from supervision.org import OrgKind
from tests.conftest import SYSTEM


def test_site_moved_under_its_own_descendant_is_refused(session: Session, org_data: SimpleNamespace) -> None:
    admin = org_data.principals["admin"]
    with pytest.raises(InvalidInput) as err:
        org.update_entity(session, admin, OrgKind.SITE, org_data.county, {"parent_id": org_data.township})
    assert err.value.problems[0].field == "parent_id"
    assert "后代" in err.value.message("zh-CN") or "下级" in err.value.message("zh-CN")
    assert "descendants" in err.value.message("en")


def test_moving_a_site_moves_its_subtree(session: Session, org_data: SimpleNamespace) -> None:
    admin = org_data.principals["admin"]
    org.update_entity(session, admin, OrgKind.SITE, org_data.township, {"parent_id": org_data.county2})
    session.commit()
    township = session.get(Site, org_data.township)
    assert township is not None and township.path == f"/{org_data.city}/{org_data.county2}/{org_data.township}/"


def test_township_cannot_sit_under_the_city(session: Session, org_data: SimpleNamespace) -> None:
    with pytest.raises(InvalidInput) as err:
        org.create_entity(session, org_data.principals["admin"], OrgKind.SITE,
                          {"code": "X1", "name": "某镇", "kind": "township", "parent_id": org_data.city})
    assert err.value.problems[0].field == "parent_id"


def test_staff_on_a_window_of_another_site_is_refused(session: Session, org_data: SimpleNamespace) -> None:
    with pytest.raises(InvalidInput) as err:
        org.create_entity(session, org_data.principals["admin"], OrgKind.STAFF,
                          {"code": "S900", "name": "赵六", "site_id": org_data.county, "window_id": org_data.window})
    assert [p.field for p in err.value.problems] == ["window_id"]
    assert "another site" in err.value.message("en")


def test_every_problem_of_a_row_is_reported_at_once(session: Session, org_data: SimpleNamespace) -> None:
    with pytest.raises(InvalidInput) as err:
        org.create_entity(session, org_data.principals["admin"], OrgKind.STAFF,
                          {"code": "S001", "name": "", "site_id": org_data.city, "phone": "12"})
    assert {p.field for p in err.value.problems} == {"code", "name", "phone"}


def test_unknown_rank_names_the_field(session: Session, org_data: SimpleNamespace) -> None:
    with pytest.raises(InvalidInput) as err:
        org.create_entity(session, org_data.principals["admin"], OrgKind.STAFF,
                          {"code": "S901", "name": "钱七", "site_id": org_data.city, "rank": "general_manager"})
    assert err.value.problems[0].field == "rank"


def test_jurisdiction_limits_lists_and_lookups(session: Session, org_data: SimpleNamespace) -> None:
    county_officer = org_data.principals["county_officer"]
    rows, total = org.list_entities(session, county_officer, OrgKind.WINDOW)
    assert {r.code for r in rows} == {"FC-W1"} and total == 1
    with pytest.raises(NotFound):
        org.get_entity(session, county_officer, OrgKind.WINDOW, org_data.window)
    sites = {s.code for s in org.site_tree(session, county_officer)}
    assert sites == {"FC", "FC-CX"}


def test_county_admin_cannot_edit_the_city(session: Session, org_data: SimpleNamespace) -> None:
    with pytest.raises(NotFound):
        org.update_entity(session, org_data.principals["county_admin"], OrgKind.HALL, org_data.hall, {"name": "x"})


def test_phone_is_stored_encrypted_and_shown_masked(session: Session, org_data: SimpleNamespace) -> None:
    staff = session.get(Staff, org_data.staff)
    assert staff is not None and "13800001111" not in staff.phone_enc
    public = org.to_public(session, OrgKind.STAFF, staff)
    assert public.phone_masked == "138****1111"
    assert org.staff_phone(session, org_data.principals["admin"], org_data.staff) == "13800001111"


def test_comprehensive_window_keeps_delegations(session: Session, org_data: SimpleNamespace) -> None:
    rows = session.exec(select(WindowDelegation)).all()
    assert [(r.window_id, r.department_id) for r in rows] == [(org_data.comprehensive, org_data.dept2)]
    with pytest.raises(InvalidInput) as err:
        org.update_entity(session, org_data.principals["admin"], OrgKind.WINDOW, org_data.window,
                          {"delegated_department_ids": [org_data.dept2]})
    assert err.value.problems[0].field == "delegated_department_ids"


def test_delete_in_use_is_a_conflict_and_changes_are_audited(engine: Engine, org_data: SimpleNamespace) -> None:
    with Session(engine) as s:
        with pytest.raises(Conflict):
            org.delete_entity(s, org_data.principals["admin"], OrgKind.HALL, org_data.hall)
        s.rollback()
        org.delete_entity(s, SYSTEM, OrgKind.SITE, org_data.township)
        s.commit()
        actions = [e.action for e in audit.iter_entries(s)]
    assert actions.count("site.create") == 4 and actions[-1] == "site.delete"
