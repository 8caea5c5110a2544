"""The `supervision` command: serve, worker, db upgrade, user add, import org, audit verify, keys rotate, demo."""

from __future__ import annotations

import functools
import getpass
import logging
import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from supervision import accounts, audit
from supervision.access import SYSTEM, Principal
from supervision.db import database_name, make_engine, session_scope, upgrade
from supervision.errors import SupervisionError
from supervision.models import Role, Site
from supervision.settings import Settings, get_settings
from web.composition import MIGRATION_PACKAGES

app = typer.Typer(help="政务服务电子监察 — electronic supervision of government service centres.",
                  no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
user_app = typer.Typer(help="User accounts.", no_args_is_help=True)
import_app = typer.Typer(help="Bulk imports from Excel workbooks.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(import_app, name="import")
app.add_typer(audit_app, name="audit")
keys_app = typer.Typer(help="The installation's keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
complaints_app = typer.Typer(help="Complaints: the statistics roll-up.", no_args_is_help=True)
app.add_typer(complaints_app, name="complaints")
evidence_app = typer.Typer(help="Video event evidence: the hash-chained evidence log.", no_args_is_help=True)
app.add_typer(evidence_app, name="evidence")

logger = logging.getLogger("supervision.cli")


def _setup_logging(level: str = "INFO") -> None:
    from supervision.logconfig import configure_logging

    configure_logging(level)  # after the imports: ours replaces what a library's import set up


def _cli_actor() -> Principal:
    return Principal(kind="system", id=None, name=f"cli:{getpass.getuser()}", site_id=None, site_path="/",
                     permissions=SYSTEM.permissions)


def _fail(exc: SupervisionError) -> None:
    typer.echo(f"错误 / error: {exc.message('zh-CN')}\n{exc}", err=True)
    raise typer.Exit(2)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration (the service also does this when it starts)."""
    _setup_logging("WARNING")
    settings = get_settings()
    engine = make_engine(settings.effective_database_url)
    upgrade(engine, MIGRATION_PACKAGES)
    typer.echo(f"database {database_name(engine)} is up to date")


@app.command()
def demo(full: Annotated[bool, typer.Option(help="All 287 township centres")] = False) -> None:
    """Load the demo organisation (and demo data of each domain) without serving."""
    _setup_logging("WARNING")
    settings = get_settings()
    engine = make_engine(settings.effective_database_url)
    upgrade(engine, MIGRATION_PACKAGES)
    _seed_demo(engine, settings, full=full)


def _seed_demo(engine: object, settings: Settings, *, full: bool) -> None:
    from web.composition import seed_demo_everything

    accounts_list = seed_demo_everything(engine, settings, full=full)  # type: ignore[arg-type]
    typer.echo("")
    typer.echo(f"演示账户 / demo accounts (password: {settings.demo_password}):")
    for username, role, where in accounts_list:
        typer.echo(f"  {username:<18} {role:<12} {where}")
    typer.echo("")


@app.command()
def serve(
    demo: Annotated[bool, typer.Option("--demo", help="Seed the demo organisation first")] = False,
    full: Annotated[bool, typer.Option("--full", help="With --demo: all 287 township centres")] = False,
    host: Annotated[str | None, typer.Option(help="Listen address (default from settings: 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000)")] = None,
    no_ingest: Annotated[bool, typer.Option("--no-ingest", help="Do not run camera ingest here")] = False,
    no_scheduler: Annotated[bool, typer.Option("--no-scheduler", help="Do not run scheduled jobs here")] = False,
    workers: Annotated[int, typer.Option(help="Web worker processes (SQLite file or PostgreSQL)")] = 1,
) -> None:
    """Run the web app, the scheduler and camera ingest in one process."""
    import uvicorn

    _setup_logging()
    if no_ingest:
        os.environ["SUPERVISION_INGEST_ENABLED"] = "false"
    if demo:
        # The demo's virtual cameras run inside `serve` (cameras.config reads this).
        os.environ.setdefault("SUPERVISION_CAMERA_DEMO", "true")
    if no_scheduler:
        os.environ["SUPERVISION_SCHEDULER_ENABLED"] = "false"
    get_settings.cache_clear()
    settings = get_settings()
    engine = make_engine(settings.effective_database_url)
    upgrade(engine, MIGRATION_PACKAGES)
    if demo:
        _seed_demo(engine, settings, full=full)
    if workers > 1 and engine.url.database in (None, "", ":memory:"):
        typer.echo("several web workers need a database file or PostgreSQL; running one", err=True)
        workers = 1
    bind_host, bind_port = host or settings.host, port or settings.port
    typer.echo(f"政务服务电子监察 listening on http://{bind_host}:{bind_port}/  (database: {database_name(engine)})")
    engine.dispose()
    run = functools.partial(uvicorn.run, "web.main:app", host=bind_host, port=bind_port, workers=workers,
                            log_level="info", proxy_headers=True,
                            forwarded_allow_ips=os.environ.get("SUPERVISION_FORWARDED_ALLOW_IPS", "127.0.0.1"))
    if workers == 1:
        run()
        return
    # Several web workers answer requests only; this process runs the scheduler, camera ingest (serving its
    # frames on loopback to the workers, as `supervision worker` does) and the demo's cameras, once.
    from supervision.runtime import Runtime
    from web.composition import scheduled_jobs, service_factories, wire_incidents

    wire_incidents()  # the scheduler's jobs here (the risk re-link) read what incidents are about
    runtime = Runtime(make_engine(settings.effective_database_url), settings, jobs=scheduled_jobs(),
                      services=service_factories(settings, web_elsewhere=True))
    os.environ["SUPERVISION_SCHEDULER_ENABLED"] = "false"
    os.environ["SUPERVISION_INGEST_ENABLED"] = "false"
    runtime.start()
    try:
        run()
    finally:
        runtime.stop()


@app.command()
def worker(
    processes: Annotated[int | None, typer.Option(help="Ingest processes (default: camera settings or CPUs)")] = None,
) -> None:
    """Run camera ingest alone (on this or another machine, against the same PostgreSQL)."""
    from cameras import run_worker

    _setup_logging()
    settings = get_settings()
    engine = make_engine(settings.effective_database_url)
    upgrade(engine, MIGRATION_PACKAGES)
    engine.dispose()
    raise typer.Exit(run_worker(processes))


@user_app.command("add")
def user_add(
    username: str,
    role: Annotated[Role, typer.Option(help="admin | officer | supervisor | manager | staff")],
    site: Annotated[str, typer.Option(help="Code of the site that is the user's jurisdiction")],
    name: Annotated[str | None, typer.Option(help="Display name")] = None,
    staff: Annotated[str | None, typer.Option(help="Staff code (required for role staff)")] = None,
    password: Annotated[str | None, typer.Option(help="Password (asked for if not given)")] = None,
    locale: Annotated[str, typer.Option(help="zh-CN or en")] = "zh-CN",
) -> None:
    """Create a user with a role and a jurisdiction."""
    from sqlmodel import col, select

    from supervision.models import Staff

    _setup_logging("WARNING")
    settings = get_settings()
    engine = make_engine(settings.effective_database_url)
    upgrade(engine, MIGRATION_PACKAGES)
    secret = password or typer.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        with session_scope(engine, write=True) as session:
            site_row = session.exec(select(Site).where(col(Site.code) == site)).first()
            staff_row = session.exec(select(Staff).where(col(Staff.code) == staff)).first() if staff else None
            if staff and staff_row is None:
                from supervision.errors import InvalidInput

                raise InvalidInput("staff_id", "error.unknown_ref", kind="kind.staff", value=staff)
            user = accounts.create_user(session, _cli_actor(), {
                "username": username, "display_name": name or username, "password": secret, "role": role,
                "site_id": site_row.id if site_row else None, "staff_id": staff_row.id if staff_row else None,
                "locale": locale,
            })
            typer.echo(f"user {user.username} ({role.value}) created, jurisdiction {site}")
    except SupervisionError as exc:
        _fail(exc)


@import_app.command("org")
def import_org(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]) -> None:
    """Import the organisation from a workbook (the template from the import page); all or nothing."""
    from supervision import orgimport

    _setup_logging("WARNING")
    settings = get_settings()
    engine = make_engine(settings.effective_database_url)
    upgrade(engine, MIGRATION_PACKAGES)
    try:
        with session_scope(engine, write=True) as session:
            report = orgimport.import_org(session, _cli_actor(), file.read_bytes())
    except SupervisionError as exc:
        typer.echo(f"导入失败,未保存任何数据 / import failed, nothing saved: {exc.message('zh-CN')}", err=True)
        for p in exc.problems:
            where = " ".join(x for x in (p.sheet or "", f"row {p.row}" if p.row else "") if x)
            typer.echo(f"  {where} {p.field}: {p.message('zh-CN')} / {p.message('en')}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"imported: {report}")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the hash chain; report the first altered or missing entry and exit 1 if there is one."""
    _setup_logging("WARNING")
    settings = get_settings()
    engine = make_engine(settings.effective_database_url)
    with session_scope(engine) as session:
        total = audit.count(session)
        broken = audit.verify(session)
    if broken is not None:
        typer.echo(f"审计链断裂 / AUDIT CHAIN BROKEN at {broken}", err=True)
        raise typer.Exit(1)
    typer.echo(f"audit chain intact: {total} entries verified")


@evidence_app.command("verify")
def evidence_verify() -> None:
    """Walk the evidence chain and re-hash every kept file; name each altered or missing item, exit 1 if any."""
    from cameras.evidence import verify_cli
    from supervision.i18n import translate

    _setup_logging("WARNING")
    settings = get_settings()
    engine = make_engine(settings.effective_database_url)
    problems = verify_cli(engine)
    for p in problems:
        typer.echo(f"证据已被改动 / EVIDENCE ALTERED: item #{p.seq} (event {p.event_id}): "
                   f"{translate(p.reason, 'zh-CN')} / {translate(p.reason, 'en')}", err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo("evidence chain intact: every item and kept file verified")


@keys_app.command("rotate")
def keys_rotate(
    reencrypt_only: Annotated[bool, typer.Option(
        "--reencrypt-only", help="Add no key: re-encrypt with the newest one (after setting keys in the environment, "
                                 "or to catch values a process wrote with the old key)")] = False,
    batch: Annotated[int, typer.Option(min=1, max=10000, help="Rows per transaction")] = 200,
) -> None:
    """Add a new key to the key file, then re-encrypt every phone number and camera password with it."""
    from supervision import keys, rekey
    from web.composition import sealed_columns

    _setup_logging("WARNING")
    settings = get_settings()
    engine = make_engine(settings.effective_database_url)
    actor = _cli_actor()
    if not reencrypt_only:
        try:
            key = keys.add_key(settings)
        except keys.KeysFromEnvironment:
            typer.echo("密钥来自环境变量 / the key comes from SUPERVISION_SECRET_KEY, which this command cannot "
                       "change: "
                       "on every machine put a new key there and the old one first in "
                       "SUPERVISION_PREVIOUS_SECRET_KEYS, restart, then run `supervision keys rotate --reencrypt-only`",
                       err=True)
            raise typer.Exit(2) from None
        with session_scope(engine, write=True) as session:
            audit.record(session, actor, "keys.rotate", object_kind="key", object_id=key.id,
                         summary=f"new key {key.id} added to {settings.key_file_path}")
        typer.echo(f"new key {key.id} in {settings.key_file_path}; running processes take it within a second")
        # Let every process of this machine see the new key before re-encrypting, so none writes a value under
        # the old one behind the pass (outside any transaction; other machines: run --reencrypt-only later).
        time.sleep(2 * keys.RELOAD_EVERY_SECONDS)
    for sealed in sealed_columns():
        changed = rekey.reencrypt_column(engine, sealed, actor, batch=batch)
        typer.echo(f"{sealed.name}: {changed} re-encrypted")
    typer.echo(f"every sealed value is under key {keys.ring(settings).newest.id}; keep the older keys in the file: "
               "they verify the audit entries they signed")


@complaints_app.command("rollup-check")
def complaints_rollup_check() -> None:
    """Compare the statistics roll-up with a direct count of orders and ratings; exit 1 where they differ."""
    from complaints import rollup

    _setup_logging("WARNING")
    engine = make_engine(get_settings().effective_database_url)
    with session_scope(engine) as session:
        problems = rollup.differences(session)
    for problem in problems[:50]:
        typer.echo(f"  {problem}", err=True)
    if problems:
        typer.echo(f"统计汇总与工单不符 / ROLL-UP DIFFERS in {len(problems)} places; run `supervision complaints "
                   "rollup-rebuild`", err=True)
        raise typer.Exit(1)
    typer.echo("statistics roll-up agrees with the orders and ratings")


@complaints_app.command("rollup-rebuild")
def complaints_rollup_rebuild() -> None:
    """Recompute the statistics roll-up from the orders and ratings (after a bulk load that bypassed the services)."""
    from complaints import rollup

    _setup_logging("WARNING")
    engine = make_engine(get_settings().effective_database_url)
    upgrade(engine, MIGRATION_PACKAGES)
    with session_scope(engine, write=True) as session:
        rollup.rebuild(session)
        audit.record(session, SYSTEM, "complaints.rollup_rebuild", object_kind="complaints_stats_month",
                     summary="statistics roll-up recomputed from the orders and ratings")
    typer.echo("statistics roll-up rebuilt")


@app.callback()
def _check_settings() -> None:
    """政务服务电子监察 — electronic supervision of government service centres."""
    from pydantic import ValidationError

    try:
        get_settings()
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(x) for x in error["loc"])
            typer.echo(f"配置错误 / configuration error{' in ' + where if where else ''}: "
                       f"{error['msg'].removeprefix('Value error, ')}", err=True)
        raise typer.Exit(2) from None


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
