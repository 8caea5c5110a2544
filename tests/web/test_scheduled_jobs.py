"""The scheduler runs what web/composition.py lists: every job known today, once each, each one runnable."""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from supervision.scheduler import CORE_JOBS, JobSpec
from web.composition import DOMAINS, scheduled_jobs
from web.domains import risk as risk_domain

ROOT = Path(__file__).resolve().parent.parent.parent
PACKAGES = ("supervision", "cameras", "risk", "complaints", "web")

# Written out by hand, not read from the code: a job dropped from a list, or a changed time, fails here.
EXPECTED: dict[str, tuple[str, str, dict[str, object]]] = {
    "core.purge_sessions": ("supervision.scheduler:purge_expired_sessions", "cron", {"hour": 3, "minute": 10}),
    "core.verify_audit": ("supervision.scheduler:verify_audit_chain", "cron", {"hour": 2, "minute": 30}),
    "attendance.daily": ("supervision.attendance.jobs:run_daily", "cron", {"hour": 4, "minute": 30}),
    "cameras.silent_workers": ("cameras.staleness:run_silence_check", "interval", {"seconds": 4}),
    "cameras.vacancies": ("cameras.vacancy:run_vacancy_job", "interval", {"seconds": 30}),
    "cameras.queue_vacant": ("cameras.queue:run_queue_job", "interval", {"seconds": 10}),
    "cameras.evidence_purge": ("cameras.evidence:run_purge_job", "interval", {"hours": 1}),
    "risk.reminders": ("risk.reminders:run_reminder_job", "cron", {"hour": 6, "minute": 30}),
    "risk.relink": ("risk.signal:run_relink_job", "interval", {"minutes": 15}),
    "complaints.chase": ("complaints.jobs:run_chase", "cron", {"hour": "8,14", "minute": 5}),
    "complaints.red_cards": ("complaints.redcards:run_red_cards", "cron", {"hour": "8,14", "minute": 20}),
    "complaints.purge": ("complaints.jobs:run_purge", "cron", {"hour": 3, "minute": 40}),
}


def test_the_composed_list_is_every_job_known_today_once() -> None:
    jobs = scheduled_jobs()
    assert {j.id: (j.func, j.trigger, j.trigger_args) for j in jobs} == EXPECTED
    assert len(jobs) == len(EXPECTED), "two jobs share an id"


def test_every_job_is_accepted_by_apscheduler_as_the_scheduler_adds_it() -> None:
    """Its "module:function" imports to a callable and its trigger takes its arguments."""
    scheduler = BackgroundScheduler()  # never started: add_job resolves the function and builds the trigger
    for spec in scheduled_jobs():
        job = scheduler.add_job(spec.func, spec.trigger, id=spec.id, replace_existing=True, **spec.trigger_args)
        module, _, name = spec.func.partition(":")
        assert job.func is getattr(importlib.import_module(module), name) and callable(job.func), spec.id
    assert sorted(j.id for j in scheduler.get_jobs()) == sorted(EXPECTED)


def test_two_jobs_with_one_id_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(risk_domain, "JOBS", (*risk_domain.JOBS, JobSpec(CORE_JOBS[0].id, "risk.signal:x", "cron")))
    with pytest.raises(ValueError, match=CORE_JOBS[0].id):
        scheduled_jobs()


def test_every_job_written_in_the_code_is_in_the_composed_list() -> None:
    """A `JobSpec` defined beside its function but left out of its package's `JOBS` would never run."""
    written: dict[str, str] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for job_id in re.findall(r'JobSpec\(\s*"([^"]+)"', path.read_text(encoding="utf-8")):
                written[job_id] = str(path.relative_to(ROOT))
    assert set(EXPECTED) <= set(written), "the search no longer finds how jobs are written"
    listed = {job.id for job in scheduled_jobs()}
    assert {job_id: where for job_id, where in written.items() if job_id not in listed} == {}


def test_importing_the_packages_registers_no_job() -> None:
    """No registry filled as a side effect of an import: no module of ours keeps jobs in a mutable container."""
    for name in (*PACKAGES, *DOMAINS):
        importlib.import_module(name)
    collectors = []
    for name, module in list(sys.modules.items()):
        if module is None or name.split(".")[0] not in PACKAGES:
            continue
        for attr, value in list(vars(module).items()):
            if isinstance(value, dict):
                held = [*value.keys(), *value.values()]
            elif isinstance(value, list | set):
                held = list(value)
            else:
                continue
            if any(isinstance(item, JobSpec) for item in held):
                collectors.append(f"{name}.{attr}")
    assert collectors == []
