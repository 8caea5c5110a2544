from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
from sqlmodel import Session

from supervision import ledger
from supervision.errors import Conflict, InvalidInput, NotFound


def _entry(session: Session, org_data: SimpleNamespace, **kw: object) -> int:
    data: dict[str, object] = dict(day=date(2026, 11, 3), kind="late", points=-1.0, reason="迟到 8 分钟",
                                   source_kind="attendance", source_id="A-1", staff_id=org_data.staff)
    data.update(kw)
    entry = ledger.record_entry(session, actor=org_data.principals["manager"], **data)  # type: ignore[arg-type]
    return int(entry.id or 0)


def test_entry_carries_its_source_and_reversal_keeps_the_original(session: Session, org_data: SimpleNamespace) -> None:
    entry_id = _entry(session, org_data)
    reversal = ledger.reverse_entry(session, entry_id, actor=org_data.principals["manager"], reason="请假已批准")
    session.commit()
    assert reversal.points == 1.0 and reversal.reverses_id == entry_id
    assert reversal.source_kind == "attendance" and reversal.source_id == "A-1"
    total = ledger.balance(session, staff_id=org_data.staff, since=date(2026, 11, 1), until=date(2026, 11, 30))
    assert total == 0
    _, count = ledger.entries(session, actor=org_data.principals["manager"])
    assert count == 2
    with pytest.raises(Conflict):
        ledger.reverse_entry(session, entry_id, actor=org_data.principals["manager"], reason="again")


def test_entry_needs_a_subject_and_a_source(session: Session, org_data: SimpleNamespace) -> None:
    with pytest.raises(InvalidInput) as err:
        _entry(session, org_data, staff_id=None)
    assert err.value.problems[0].field == "staff_id"
    with pytest.raises(InvalidInput) as err:
        _entry(session, org_data, source_kind="")
    assert err.value.problems[0].field == "source_kind"


def test_staff_on_another_sites_window_is_refused(session: Session, org_data: SimpleNamespace) -> None:
    with pytest.raises(InvalidInput) as err:
        _entry(session, org_data, window_id=org_data.county_window)
    assert err.value.problems[0].field == "window_id"


def test_county_manager_cannot_score_city_staff(session: Session, org_data: SimpleNamespace) -> None:
    with pytest.raises(NotFound):
        ledger.record_entry(session, actor=org_data.principals["county_manager"], day=date(2026, 11, 3),
                            kind="late", points=-1, reason="x", source_kind="manual", source_id="1",
                            staff_id=org_data.staff)


def test_window_staff_see_only_their_own_entries(session: Session, org_data: SimpleNamespace) -> None:
    _entry(session, org_data)
    _entry(session, org_data, staff_id=org_data.staff2, source_id="A-2")
    session.commit()
    rows, count = ledger.entries(session, actor=org_data.principals["staff"])
    assert count == 1 and rows[0].staff_id == org_data.staff
