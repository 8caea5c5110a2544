"""`on_duty`: the (staff, day) pairs attendance marks "on duty"."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from sqlalchemy.engine import Engine

from supervision.db import session_scope
from supervision.duty import AssignmentSource, DutyAssignment, DutyRole, on_duty


def test_on_duty_returns_the_pairs_in_the_range_for_the_asked_staff(engine: Engine, org_data: SimpleNamespace) -> None:
    ns = org_data
    with session_scope(engine, write=True) as s:
        for day, role, staff in [(date(2026, 6, 1), DutyRole.LEADER, ns.staff), (date(2026, 6, 1), DutyRole.CADRE,
                                 ns.staff2), (date(2026, 6, 4), DutyRole.CADRE, ns.staff2),
                                 (date(2026, 6, 8), DutyRole.CADRE, ns.staff2)]:
            s.add(DutyAssignment(site_id=ns.city, day=day, role=role, staff_id=staff,
                                 source=AssignmentSource.GENERATED))
    with session_scope(engine) as s:
        assert on_duty(s, staff_ids=None, start=date(2026, 6, 1), end=date(2026, 6, 4)) == {
            (ns.staff, date(2026, 6, 1)), (ns.staff2, date(2026, 6, 1)), (ns.staff2, date(2026, 6, 4))}
        assert on_duty(s, staff_ids=[ns.staff2], start=date(2026, 6, 2), end=date(2026, 6, 30)) == {
            (ns.staff2, date(2026, 6, 4)), (ns.staff2, date(2026, 6, 8))}
        assert on_duty(s, staff_ids=[], start=date(2026, 6, 1), end=date(2026, 6, 30)) == set()
        assert on_duty(s, staff_ids=[ns.county_staff], start=date(2026, 6, 1), end=date(2026, 6, 30)) == set()
