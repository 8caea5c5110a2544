"""Users, their sessions and bearer tokens, machine tokens, and the slowing of repeated failed logins."""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Executable, bindparam, text
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from supervision import audit
from supervision.access import MACHINE_SCOPES, ROLE_PERMISSIONS, Permission, Principal, site_path_clause
from supervision.db import session_scope, utcnow
from supervision.errors import Conflict, InvalidInput, NotFound, TooManyAttempts, Unauthorized
from supervision.i18n import LOCALES
from supervision.models import (
    ApiToken,
    AuthSession,
    Department,
    LoginAttempt,
    Role,
    Site,
    Staff,
    User,
    UserDepartment,
)
from supervision.org import CODE_RE, parse
from supervision.passwords import MIN_PASSWORD_LENGTH, hash_password, new_token, token_digest, verify_password
from supervision.settings import Settings, get_settings
from supervision.shapes import UpdateModel

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "svt_"


class UserCreate(BaseModel):
    username: str = Field(min_length=2, max_length=60)
    display_name: str = Field(min_length=1, max_length=60)
    password: str
    role: Role
    site_id: int | None = None
    staff_id: int | None = None
    locale: str = "zh-CN"
    department_ids: list[int] = []  # a handler's departments


class UserUpdate(UpdateModel):
    columns_of = User

    display_name: str | None = Field(default=None, min_length=1, max_length=60)
    role: Role | None = None
    site_id: int | None = None
    staff_id: int | None = None
    locale: str | None = None
    active: bool | None = None
    password: str | None = None
    department_ids: list[int] | None = None


class UserPublic(BaseModel):
    id: int
    username: str
    display_name: str
    role: Role
    site_id: int
    staff_id: int | None
    locale: str
    active: bool
    last_login_at: datetime | None
    department_ids: list[int] = []


def user_public(session: Session, user: User) -> UserPublic:
    """A user as the users API shows it, with the departments a handler acts for."""
    return UserPublic.model_validate({**user.model_dump(), "department_ids": user_departments(session, user.id)})


def user_departments(session: Session, user_id: int | None) -> list[int]:
    rows = session.exec(select(UserDepartment.department_id).where(col(UserDepartment.user_id) == user_id))
    return sorted(rows)


def _set_departments(session: Session, actor: Principal, user: User, department_ids: list[int]) -> list[int]:
    """Replace a user's departments: only a handler has them, each within the user's and the actor's reach."""
    wanted = sorted(set(department_ids))
    if user.role != Role.HANDLER and wanted:
        raise InvalidInput("department_ids", "error.departments_for_handlers")
    if user.role == Role.HANDLER and not wanted:
        raise InvalidInput("department_ids", "error.handler_needs_department")
    user_site = session.get(Site, user.site_id)
    for dept_id in wanted:
        dept = session.get(Department, dept_id)
        site = session.get(Site, dept.site_id) if dept is not None else None
        # A city department may handle a county's order; its handler is still placed at or under its site.
        if site is None or user_site is None or not actor.covers_path(site.path) or not (
                user_site.path.startswith(site.path) or site.path.startswith(user_site.path)):
            raise InvalidInput("department_ids", "error.unknown_ref", kind="kind.department", value=dept_id)
    before = user_departments(session, user.id)
    if before != wanted:
        for row in session.exec(select(UserDepartment).where(col(UserDepartment.user_id) == user.id)):
            session.delete(row)
        session.flush()
        for dept_id in wanted:
            session.add(UserDepartment(user_id=user.id or 0, department_id=dept_id))
        session.flush()
    return before


def principal_for_user(session: Session, user: User) -> Principal:
    departments = user_departments(session, user.id) if user.role == Role.HANDLER else []
    return _user_principal(user.id, user.username, user.site_id, _site_path(session, user.site_id), user.role,
                           user.staff_id, user.locale, departments)


def _site_path(session: Session, site_id: int | None) -> str | None:
    site = session.get(Site, site_id) if site_id is not None else None
    return site.path if site is not None else None


def _user_principal(user_id: int | None, username: str, site_id: int | None, site_path: str | None,
                    role: str, staff_id: int | None, locale: str, department_ids: Sequence[int] = ()) -> Principal:
    return Principal(
        kind="user",
        id=user_id,
        name=username,
        site_id=site_id,
        # A user whose site vanished sees nothing rather than everything.
        site_path=site_path or "/nowhere/",
        role=Role(role),
        staff_id=staff_id,
        locale=locale,
        permissions=ROLE_PERMISSIONS[Role(role)],
        department_ids=frozenset(department_ids),
    )


# --- users ------------------------------------------------------------------------------------


def _check_user_refs(session: Session, actor: Principal, user: User) -> None:
    site = session.get(Site, user.site_id) if user.site_id is not None else None
    if user.site_id is None:
        raise InvalidInput("site_id", "error.user_needs_jurisdiction")
    if site is None or not actor.covers_path(site.path):
        raise InvalidInput("site_id", "error.unknown_ref", kind="kind.site", value=user.site_id)
    if user.locale not in LOCALES:
        raise InvalidInput("locale", "error.choice", choices=", ".join(LOCALES))
    if user.role == Role.STAFF and user.staff_id is None:
        raise InvalidInput("staff_id", "error.staff_user_needs_staff")
    if user.staff_id is not None:
        staff = session.get(Staff, user.staff_id)
        staff_site = session.get(Site, staff.site_id) if staff else None
        if staff is None or staff_site is None or not staff_site.path.startswith(site.path):
            raise InvalidInput("staff_id", "error.unknown_ref", kind="kind.staff", value=user.staff_id)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("password", "error.password_short", min=MIN_PASSWORD_LENGTH)


def create_user(session: Session, actor: Principal, data: dict[str, Any], *, ip: str = "",
                password_hash: str | None = None) -> User:
    """Create a user; `password_hash`, when given, is the hash of the password (seeding many with one)."""
    actor.require(Permission.USERS_MANAGE)
    body = parse(UserCreate, data)
    if not CODE_RE.match(body.username):
        raise InvalidInput("username", "error.code_format")
    if session.exec(select(User).where(col(User.username) == body.username)).first() is not None:
        raise InvalidInput("username", "error.duplicate_code", code=body.username)
    _check_password(body.password)
    user = User(
        username=body.username, display_name=body.display_name,
        password_hash=password_hash or hash_password(body.password),
        role=body.role, site_id=body.site_id or 0, staff_id=body.staff_id, locale=body.locale,
    )
    if body.site_id is None:
        raise InvalidInput("site_id", "error.user_needs_jurisdiction")
    _check_user_refs(session, actor, user)
    session.add(user)
    session.flush()
    _set_departments(session, actor, user, body.department_ids)
    audit.record(session, actor, "user.create", object_kind="user", object_id=user.id, site_id=user.site_id,
                 summary=f"{user.username} ({user.role})", detail={"department_ids": sorted(set(body.department_ids))},
                 ip=ip)
    return user


def get_user(session: Session, actor: Principal, user_id: int) -> User:
    actor.require(Permission.USERS_MANAGE)
    user = session.get(User, user_id)
    site = session.get(Site, user.site_id) if user else None
    if user is None or site is None or not actor.covers_path(site.path):
        raise NotFound("error.not_found_kind", kind="kind.user", id=user_id)
    return user


def update_user(session: Session, actor: Principal, user_id: int, data: dict[str, Any], *, ip: str = "") -> User:
    user = get_user(session, actor, user_id)
    changes = parse(UserUpdate, data).model_dump(exclude_unset=True)
    password = changes.pop("password", None)
    departments = changes.pop("department_ids", None)
    if "site_id" in changes and changes["site_id"] is None:
        raise InvalidInput("site_id", "error.user_needs_jurisdiction")
    before = {k: getattr(user, k) for k in changes}
    for key, value in changes.items():
        setattr(user, key, value)
    _check_user_refs(session, actor, user)
    if password:
        _check_password(password)
        user.password_hash = hash_password(password)
    diff: dict[str, Any] = {k: [before[k], changes[k]] for k in changes if before[k] != changes[k]}
    if departments is None and user.role != Role.HANDLER:
        departments = []  # a user who stops being a handler keeps no departments
    if departments is not None or "role" in diff:
        old = user_departments(session, user.id)
        _set_departments(session, actor, user, old if departments is None else departments)
        new = user_departments(session, user.id)
        if old != new:
            diff["department_ids"] = [old, new]
    if password or {"active", "role", "site_id", "department_ids"} & diff.keys():
        # A changed password, role or jurisdiction ends the sessions that were opened under the old one.
        _revoke_sessions(session, user.id or 0)
    session.add(user)
    session.flush()
    if password:
        diff["password"] = "changed"
    audit.record(session, actor, "user.update", object_kind="user", object_id=user.id, site_id=user.site_id,
                 summary=user.username, detail=diff, ip=ip)
    return user


def set_own_locale(session: Session, actor: Principal, locale: str) -> None:
    if locale not in LOCALES:
        raise InvalidInput("locale", "error.choice", choices=", ".join(LOCALES))
    user = session.get(User, actor.id)
    if user is None:
        raise NotFound("error.not_found_kind", kind="kind.user", id=actor.id)
    user.locale = locale
    session.add(user)


def list_users(
    session: Session, actor: Principal, *, role: Role | None = None, q: str | None = None,
    offset: int = 0, limit: int = 50,
) -> tuple[Sequence[User], int]:
    actor.require(Permission.USERS_MANAGE)
    stmt = select(User).join(Site, col(Site.id) == User.site_id).where(site_path_clause(actor))
    if role is not None:
        stmt = stmt.where(col(User.role) == role)
    if q:
        stmt = stmt.where(col(User.username).ilike(f"%{q}%") | col(User.display_name).ilike(f"%{q}%"))
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    return session.exec(stmt.order_by(col(User.username)).offset(offset).limit(limit)).all(), int(total)


# --- logging in -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Throttle:
    delay_seconds: float
    failures: int  # against the user name, since its last success
    address_failures: int  # from the address, whatever the name


def _delay(failures: int, free: int, settings: Settings) -> float:
    extra = failures - free
    return 0.0 if extra < 0 else min(settings.login_throttle_max_delay_seconds, 0.5 * 2**extra)


def _name_failures(session: Session, name: str, since: datetime) -> int:
    # Counted per user name, whether or not an account has it: an unknown name locks exactly like a known one,
    # so the answers cannot tell which names exist. A success starts the count again.
    last_success = session.exec(select(func.max(LoginAttempt.at)).where(
        col(LoginAttempt.username) == name, col(LoginAttempt.success).is_(True), col(LoginAttempt.at) >= since,
    )).one()
    return int(session.exec(select(func.count()).select_from(LoginAttempt).where(
        col(LoginAttempt.username) == name, col(LoginAttempt.success).is_(False),
        col(LoginAttempt.at) > last_success if last_success is not None else col(LoginAttempt.at) >= since,
    )).one())


def _address_failures(session: Session, ip: str, since: datetime) -> int:
    return int(session.exec(select(func.count()).select_from(LoginAttempt).where(
        col(LoginAttempt.ip) == ip, col(LoginAttempt.success).is_(False), col(LoginAttempt.at) >= since,
    )).one())


def throttle_for(session: Session, username: str, ip: str, settings: Settings | None = None) -> Throttle:
    """How long to wait before checking this login: the name's failures and, apart, the address's.

    An address (often a whole office behind one) is slowed only after as many failures as lock an account,
    and its failures never lock an account.
    """
    s = settings or get_settings()
    since = utcnow() - timedelta(minutes=s.login_throttle_window_minutes)
    failures = _name_failures(session, _login_name(username), since)
    by_address = _address_failures(session, ip, since) if ip else 0
    delay = max(_delay(failures, s.login_throttle_free_attempts, s),
                _delay(by_address, s.login_lockout_attempts, s))
    return Throttle(delay, failures, by_address)


def login_delay(engine: Engine, username: str, ip: str, settings: Settings | None = None) -> float:
    """The slow-down before checking this login, read in a short transaction of its own."""
    with session_scope(engine) as session:
        return throttle_for(session, username, ip, settings).delay_seconds


def _login_name(username: str) -> str:
    return username.strip()[:60]


# Two-key PostgreSQL advisory locks: this class of keys serialises the attempts on one user name.
_LOGIN_LOCK_CLASS = 0x4C47


def _settle(session: Session, name: str, password_ok: bool, checked_hash: str | None, *, ip: str,
            settings: Settings) -> User:
    """Record a login attempt whose password was checked; its user, or raise (the record still to commit).

    The lock-out is decided here, in the write, so parallel attempts cannot slip past it.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.connection().execute(text("SELECT pg_advisory_xact_lock(:c, hashtext(:n))"),
                                     {"c": _LOGIN_LOCK_CLASS, "n": name})
    since = utcnow() - timedelta(minutes=settings.login_throttle_window_minutes)
    failures = _name_failures(session, name, since)
    if failures >= settings.login_lockout_attempts:
        _record_failure(session, name, ip, "locked")
        raise TooManyAttempts("error.account_locked")
    user = session.exec(select(User).where(col(User.username) == name)).first()
    # The password was checked against the hash read before; a hash changed since then does not count.
    if not password_ok or user is None or user.password_hash != checked_hash or not user.active:
        inactive = password_ok and user is not None and user.password_hash == checked_hash
        _record_failure(session, name, ip, "inactive" if inactive else "bad_credentials")
        if failures + 1 >= settings.login_lockout_attempts:
            logger.warning("user name %s locked after %d failed logins", name, failures + 1)
            if user is not None:
                user.locked_until = utcnow() + timedelta(minutes=settings.login_throttle_window_minutes)
                session.add(user)
        raise Unauthorized("error.bad_credentials")
    session.add(LoginAttempt(username=name, ip=ip, success=True))
    user.last_login_at = utcnow()
    user.locked_until = None
    session.add(user)
    return user


def _record_failure(session: Session, name: str, ip: str, reason: str) -> None:
    logger.warning("failed login for %s from %s (%s)", name, ip, reason)
    session.add(LoginAttempt(username=name, ip=ip, success=False))
    audit.record(session, audit.SYSTEM, "login.failed", object_kind="user", object_id=name[:40],
                 summary=reason, ip=ip)


def _stored_hash(session: Session, name: str, settings: Settings) -> tuple[str | None, bool]:
    """The name's password hash (None for an unknown name) and whether the name is locked out."""
    since = utcnow() - timedelta(minutes=settings.login_throttle_window_minutes)
    stored = session.exec(select(User.password_hash).where(col(User.username) == name)).first()
    return stored, _name_failures(session, name, since) >= settings.login_lockout_attempts


def log_in(engine: Engine, username: str, password: str, *, kind: str, ip: str = "",
           settings: Settings | None = None) -> tuple[User, str]:
    """Check a login and open a browser session or bearer token: the user and the token's secret.

    Failures are recorded, logged and audited, and lock the name after too many. Three steps, so that the
    write lock is held for the record only: the account is read, the password hashed with no transaction
    open, and the outcome written in a short write.
    """
    s = settings or get_settings()
    name = _login_name(username)
    with session_scope(engine) as session:
        stored, locked = _stored_hash(session, name, s)
    # An unknown name is checked against a dummy hash, as long; a locked name is not checked at all (the
    # write answers "locked", known or not).
    ok = not locked and verify_password(stored, password)
    refused: Unauthorized | TooManyAttempts | None = None
    with session_scope(engine, write=True) as session:
        try:
            user = _settle(session, name, ok, stored, ip=ip, settings=s)
        except (Unauthorized, TooManyAttempts) as exc:
            refused = exc
        else:
            token = start_session(session, user, kind=kind, ip=ip, settings=s)
    if refused is not None:
        raise refused
    return user, token


def authenticate(session: Session, username: str, password: str, *, ip: str = "",
                 settings: Settings | None = None) -> User:
    """Check a username and password in the caller's transaction (failures are recorded: commit them)."""
    s = settings or get_settings()
    name = _login_name(username)
    stored = session.exec(select(User.password_hash).where(col(User.username) == name)).first()
    return _settle(session, name, verify_password(stored, password), stored, ip=ip, settings=s)


def start_session(session: Session, user: User, *, kind: str, ip: str = "", settings: Settings | None = None) -> str:
    """Open a browser session or issue a bearer token; returns the secret (only its hash is kept)."""
    s = settings or get_settings()
    token = new_token()
    hours = s.session_hours if kind == "browser" else s.bearer_token_hours
    session.add(AuthSession(
        token_hash=token_digest(token), user_id=user.id or 0, kind=kind, csrf_token=new_token(24), ip=ip,
        expires_at=utcnow() + timedelta(hours=hours),
    ))
    audit.record(session, principal_for_user(session, user), "login", object_kind="user", object_id=user.id,
                 site_id=user.site_id, summary=kind, ip=ip)
    return token


@dataclass(frozen=True)
class LiveSession:
    """What a request needs of the session behind its cookie or bearer token."""

    principal: Principal
    csrf_token: str


def resolve_session(session: Session, token: str, kind: str) -> LiveSession | None:
    """The principal behind a session cookie or bearer token, or None if unknown, expired or revoked."""
    if not token:
        return None
    # One statement of plain columns, built once: this runs on every request.
    found = session.connection().execute(_SESSION_LOOKUP, {"digest": token_digest(token)}).first()
    if found is None:
        return None
    if found.kind != kind or found.revoked_at is not None or found.expires_at <= utcnow() or not found.active:
        return None
    # A second small query only for handlers, whose departments decide which orders they act on.
    departments = user_departments(session, found.user_id) if found.role == Role.HANDLER else []
    principal = _user_principal(found.user_id, found.username, found.site_id, found.path, found.role,
                                found.staff_id, found.locale, departments)
    return LiveSession(principal, found.csrf_token)


_SESSION_LOOKUP: Executable = (
    sa_select(
        col(AuthSession.kind), col(AuthSession.revoked_at), col(AuthSession.expires_at),
        col(AuthSession.csrf_token), col(User.id).label("user_id"), col(User.username), col(User.site_id),
        col(User.role), col(User.staff_id), col(User.locale), col(User.active), col(Site.path),
    )
    .join(User, col(User.id) == AuthSession.user_id)
    .join(Site, col(Site.id) == User.site_id, isouter=True)
    .where(col(AuthSession.token_hash) == bindparam("digest"))
)


def end_session(session: Session, token: str, actor: Principal, *, ip: str = "") -> None:
    row = session.exec(select(AuthSession).where(col(AuthSession.token_hash) == token_digest(token))).first()
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)
        audit.record(session, actor, "logout", object_kind="user", object_id=actor.id, ip=ip)


def _revoke_sessions(session: Session, user_id: int) -> None:
    for row in session.exec(select(AuthSession).where(col(AuthSession.user_id) == user_id,
                                                       col(AuthSession.revoked_at).is_(None))):
        row.revoked_at = utcnow()
        session.add(row)


# --- machine tokens ---------------------------------------------------------------------------


class ApiTokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=80)
    scopes: list[Permission]
    site_id: int
    expires_at: datetime | None = None


class ApiTokenPublic(BaseModel):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    site_id: int
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


def token_public(token: ApiToken) -> ApiTokenPublic:
    return ApiTokenPublic(
        id=token.id or 0, name=token.name, prefix=token.prefix, scopes=token.scopes.split(),
        site_id=token.site_id, created_at=token.created_at, expires_at=token.expires_at,
        revoked_at=token.revoked_at, last_used_at=token.last_used_at,
    )


def create_api_token(session: Session, actor: Principal, data: dict[str, Any], *, ip: str = "") -> tuple[str, ApiToken]:
    """Issue a machine token; the secret is shown once and only its hash is stored."""
    actor.require(Permission.TOKENS_MANAGE)
    body = parse(ApiTokenCreate, data)
    if not body.scopes:
        raise InvalidInput("scopes", "error.required")
    for scope in body.scopes:
        if scope not in MACHINE_SCOPES:
            raise InvalidInput("scopes", "error.choice", choices=", ".join(s.value for s in MACHINE_SCOPES))
    site = session.get(Site, body.site_id)
    if site is None or not actor.covers_path(site.path):
        raise InvalidInput("site_id", "error.unknown_ref", kind="kind.site", value=body.site_id)
    if body.expires_at is not None and body.expires_at <= utcnow():
        raise InvalidInput("expires_at", "error.in_past")
    prefix = secrets.token_hex(4)  # hex: the "_" that separates it from the secret cannot occur in it
    secret = new_token(32)
    token = ApiToken(
        name=body.name, prefix=prefix, token_hash=token_digest(secret),
        scopes=" ".join(sorted({s.value for s in body.scopes})), site_id=body.site_id,
        created_by_id=actor.id, expires_at=body.expires_at,
    )
    session.add(token)
    session.flush()
    audit.record(session, actor, "token.create", object_kind="api_token", object_id=token.id,
                 site_id=token.site_id, summary=f"{token.name} [{token.scopes}]", ip=ip)
    return f"{TOKEN_PREFIX}{prefix}_{secret}", token


def revoke_api_token(session: Session, actor: Principal, token_id: int, *, ip: str = "") -> ApiToken:
    actor.require(Permission.TOKENS_MANAGE)
    token = session.get(ApiToken, token_id)
    site = session.get(Site, token.site_id) if token else None
    if token is None or site is None or not actor.covers_path(site.path):
        raise NotFound("error.not_found_kind", kind="kind.api_token", id=token_id)
    if token.revoked_at is not None:
        raise Conflict("error.token_revoked")
    token.revoked_at = utcnow()
    session.add(token)
    audit.record(session, actor, "token.revoke", object_kind="api_token", object_id=token.id,
                 site_id=token.site_id, summary=token.name, ip=ip)
    return token


def list_api_tokens(session: Session, actor: Principal) -> Sequence[ApiToken]:
    actor.require(Permission.TOKENS_MANAGE)
    stmt = select(ApiToken).join(Site, col(Site.id) == ApiToken.site_id).where(site_path_clause(actor))
    return session.exec(stmt.order_by(col(ApiToken.id).desc())).all()


def resolve_api_token(session: Session, raw: str) -> Principal | None:
    """The machine behind an `svt_` token, or None if unknown, expired or revoked."""
    if not raw.startswith(TOKEN_PREFIX) or raw.count("_") < 2:
        return None
    prefix, _, secret = raw[len(TOKEN_PREFIX):].partition("_")
    token = session.exec(select(ApiToken).where(col(ApiToken.prefix) == prefix)).first()
    if token is None or not hmac.compare_digest(token.token_hash, token_digest(secret)):
        return None
    now = utcnow()
    if token.revoked_at is not None or (token.expires_at is not None and token.expires_at <= now):
        return None
    site = session.get(Site, token.site_id)
    scopes = frozenset(Permission(s) for s in token.scopes.split() if s in Permission._value2member_map_)
    return Principal(
        kind="token", id=token.id, name=token.name, site_id=token.site_id,
        site_path=site.path if site else "/nowhere/", permissions=scopes,
    )


TOKEN_TOUCH_EVERY = timedelta(minutes=1)


def api_token_stale(session: Session, token_id: int) -> bool:
    """Whether the token's last use is older than a minute (so `touch_api_token` would write)."""
    last = session.exec(select(ApiToken.last_used_at).where(col(ApiToken.id) == token_id)).first()
    return last is None or utcnow() - last > TOKEN_TOUCH_EVERY


def touch_api_token(session: Session, token_id: int) -> None:
    token = session.get(ApiToken, token_id)
    if token is not None:
        now = utcnow()
        # Write at most once a minute: a rating pad posting all day must not turn every read into a write.
        if token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH_EVERY:
            token.last_used_at = now
            session.add(token)


def people_named(session: Session, usernames: Sequence[str]) -> dict[str, tuple[str, Role]]:
    """The display name and role of each of these user names (stored actors are user names)."""
    wanted = sorted({name for name in usernames if name})
    if not wanted:
        return {}
    rows = session.exec(select(User.username, User.display_name, User.role).where(col(User.username).in_(wanted)))
    return {username: (display_name, Role(role)) for username, display_name, role in rows.all()}
