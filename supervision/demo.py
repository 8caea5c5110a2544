"""The demo organisation: the Mianyang centres of the 2014 report, with invented people and accounts.

Everything is written through the org and accounts services as the system principal, so each row is
validated and audited like an admin's, and flagged `is_demo`. Seeding runs in the caller's transaction
(the caller commits) and is idempotent: when the city centre's code exists, the organisation is not written
again (only the per-centre demo ledger facts an older demo lacks are added).
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, func, select

from supervision import accounts, org
from supervision.access import SYSTEM
from supervision.demo_data import (
    BUREAU_LEADERS,
    CHIEF_POST,
    CHIEF_TITLE,
    CITY_ADDRESS,
    CITY_CODE,
    CITY_DEPARTMENTS,
    CITY_HALLS,
    CITY_NAME,
    COMPREHENSIVE_HALL,
    COMPREHENSIVE_KEY,
    COMPREHENSIVE_POSTS,
    COMPREHENSIVE_WINDOW_NAME,
    COUNTY_DEPARTMENTS,
    DEFAULT_TOWNSHIPS_PER_DIVISION,
    DELEGATED_DEPARTMENTS,
    DIVISIONS,
    GIVEN_CHARS,
    PARK_DEPARTMENTS,
    PHONE_PREFIXES,
    POST_DUTIES_BY_STEP,
    RANDOM_SEED,
    SECTION_CADRES,
    STAGES,
    SURNAMES,
    TOWNSHIP_POSTS,
    VILLAGE_NAMES,
    DivisionSpec,
)
from supervision.errors import Conflict
from supervision.i18n import add_messages, translate
from supervision.models import (
    Department,
    Employment,
    Hall,
    Post,
    Role,
    Site,
    SiteKind,
    Staff,
    StaffRank,
    User,
    Window,
)
from supervision.org import OrgKind
from supervision.passwords import hash_password

logger = logging.getLogger(__name__)

add_messages(
    {
        "demo.created": (
            "已创建演示组织“{name}”(用时 {seconds} 秒)",
            "Created the demo organisation \u201c{name}\u201d in {seconds} s",
        ),
        "demo.exists": (
            "演示组织“{name}”已存在,未重复创建",
            "The demo organisation \u201c{name}\u201d exists already; nothing was added",
        ),
        "demo.counts": (
            "站点 {sites} 个(县级 {counties}、园区 {parks}、乡镇 {townships}、村 {villages}),大厅 {halls} 个,"
            "部门 {departments} 个,窗口 {windows} 个,岗位 {posts} 个,人员 {staff} 名,账户 {users} 个",
            "{sites} sites ({counties} counties, {parks} parks, {townships} townships, {villages} villages), "
            "{halls} halls, {departments} departments, {windows} windows, {posts} posts, {staff} staff, "
            "{users} accounts",
        ),
        "demo.incomplete": (
            "站点“{code}”已存在,但演示组织不完整(上次初始化被中断):请使用新的数据库重新初始化",
            "The site \u201c{code}\u201d exists but the demo organisation is incomplete (an earlier seeding was "
            "cut short): seed it into a fresh database",
        ),
        "demo.accounts": ("演示账户(密码均为 {password}):", "Demo accounts (password {password} for all):"),
        "demo.account_line": ("{username}  {role}  {site}", "{username}  {role}  {site}"),
    }
)


# --- the plan of township centres (pure: no database) -------------------------------------------


@dataclass(frozen=True)
class TownshipSpec:
    code: str
    name: str
    division_key: str
    generated: bool  # True when the name is made up (the real list we keep is shorter than the count)
    villages: tuple[tuple[str, str], ...] = ()  # (code, name) of the village rooms under it


def township_plan(full: bool) -> list[TownshipSpec]:
    """The township centres to create: the seed's 287 when full, two per county or park otherwise."""
    plan: list[TownshipSpec] = []
    for index, division in enumerate(DIVISIONS):
        count = division.townships if full else min(DEFAULT_TOWNSHIPS_PER_DIVISION, division.townships)
        # A few village rooms: under the first township of every division (default: of the first two only).
        with_villages = full or index < 2
        for i in range(count):
            code = f"{CITY_CODE}-{division.key}-T{i + 1:02d}"
            if i < len(division.township_names):
                base, generated = division.township_names[i], False
            else:
                # Clearly invented, so nobody takes it for a real place.
                base, generated = f"{division.name}演示乡镇{i + 1:02d}", True
            villages = _village_plan(code, base) if i == 0 and with_villages else ()
            plan.append(TownshipSpec(code, f"{base}便民服务中心", division.key, generated, villages))
    return plan


def _village_plan(township_code: str, township_name: str) -> tuple[tuple[str, str], ...]:
    # Streets (街道) have communities (社区), townships have villages (村).
    wanted = "社区" if township_name.endswith("街道") else "村"
    names = [n for n in VILLAGE_NAMES if n.endswith(wanted)][:2]
    return tuple((f"{township_code}-V{j + 1:02d}", f"{n}便民服务室") for j, n in enumerate(names))


# --- accounts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountSpec:
    username: str
    role: Role
    site_code: str
    display_name: str
    staff_code_hint: str = ""  # for staff accounts: the post whose holder the account belongs to


TOWN_CODE = f"{CITY_CODE}-FC-T01"  # 城厢街道便民服务中心

ACCOUNTS: tuple[AccountSpec, ...] = (
    AccountSpec("admin", Role.ADMIN, CITY_CODE, "系统管理员"),
    AccountSpec("officer", Role.OFFICER, CITY_CODE, ""),
    AccountSpec("supervisor", Role.SUPERVISOR, CITY_CODE, ""),
    AccountSpec("manager", Role.MANAGER, CITY_CODE, ""),
    AccountSpec("staff", Role.STAFF, CITY_CODE, "", f"{CITY_CODE}-P-GA-01"),
    AccountSpec("officer_fc", Role.OFFICER, f"{CITY_CODE}-FC", ""),
    AccountSpec("manager_jy", Role.MANAGER, f"{CITY_CODE}-JY", ""),
    AccountSpec("supervisor_gx", Role.SUPERVISOR, f"{CITY_CODE}-GX", ""),
    AccountSpec("supervisor_town", Role.SUPERVISOR, TOWN_CODE, ""),
    AccountSpec("staff_town", Role.STAFF, TOWN_CODE, "", f"{TOWN_CODE}-P01"),
)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: Role
    site_code: str
    site_name: str
    display_name: str


@dataclass
class DemoSummary:
    """What the demo holds, and the accounts to log in with."""

    created: bool
    full: bool
    city_site_id: int
    city_name: str
    counts: dict[str, int] = field(default_factory=dict)
    accounts: list[DemoAccount] = field(default_factory=list)
    seconds: float = 0.0

    def lines(self, locale: str = "zh-CN", *, password: str = "") -> list[str]:
        """The summary as text for the CLI (the password is shown only when given)."""
        head = "demo.created" if self.created else "demo.exists"
        out = [
            translate(head, locale, name=self.city_name, seconds=f"{self.seconds:.1f}"),
            translate("demo.counts", locale, **self.counts),
            translate("demo.accounts", locale, password=password or "***"),
        ]
        for account in self.accounts:
            out.append(
                "  "
                + translate(
                    "demo.account_line",
                    locale,
                    username=account.username,
                    role=f"role.{account.role.value}",
                    site=account.site_name,
                )
            )
        return out


# --- seeding ------------------------------------------------------------------------------------


def seed_demo(session: Session, *, full: bool = False, password: str) -> DemoSummary:
    """Create the demo organisation (all of it `is_demo`) unless the city centre exists; return what it holds.

    Commits in batches (see `_Builder.checkpoint`); the caller commits the last one. The session is
    cleared along the way, so objects the caller loaded before are detached afterwards. The accounts
    come last: a city centre without them is a seeding that was cut short, reported as a Conflict.
    """
    started = time.perf_counter()
    city = session.exec(select(Site).where(col(Site.code) == CITY_CODE)).first()
    if city is not None:
        last = ACCOUNTS[-1].username
        if session.exec(select(User).where(col(User.username) == last)).first() is None:
            raise Conflict("demo.incomplete", code=CITY_CODE)
        logger.info("demo organisation %s exists already; nothing added", CITY_CODE)
        seed_demo_ledgers(session)  # a demo from before per-centre facts gains them; otherwise nothing
        return _summary(session, city, created=False, full=full, seconds=time.perf_counter() - started)
    builder = _Builder(session)
    city = builder.city()
    for division in DIVISIONS:
        builder.division(division)
    for township in township_plan(full):
        builder.township(township)
    builder.users(password)
    session.flush()
    seed_demo_ledgers(session)
    seconds = time.perf_counter() - started
    logger.info(
        "demo organisation seeded (%s) in %.1f s: %s",
        "full" if full else "default",
        seconds,
        dict(builder.created),
    )
    return _summary(session, city, created=True, full=full, seconds=seconds)


# (kind, points, zh reason) of the month's demo ledger: DOMAIN.md's published deductions and a bonus.
_DEMO_FACTS: tuple[tuple[str, float, str], ...] = (
    ("late", -1.0, "迟到 8 分钟"),
    ("missed_sign_in", -2.0, "上午漏签到"),
    ("off_post", -3.0, "脱岗 22 分钟(视频核实)"),
    ("absent_half_day", -5.0, "无故缺勤半天"),
    ("praise", 1.0, "群众来电表扬"),
)


def seed_demo_ledgers(session: Session, *, today: date | None = None) -> int:
    """Scored facts in every demo centre (city, counties, parks, townships), each added once.

    So a county manager, a township supervisor and window staff each find their own month on /ledger and
    /me; a centre that has its facts already (an earlier start) gets nothing more.
    """
    made = 0
    for site in session.exec(select(Site).where(col(Site.is_demo)).order_by(col(Site.path))).all():
        if site.kind == SiteKind.CITY:
            made += _seed_site_ledger(session, site, marker="demo", today=today, entries=40, sample=12)
        elif site.kind in (SiteKind.COUNTY, SiteKind.PARK):
            made += _seed_site_ledger(session, site, marker=f"demo-{site.code}", today=today, entries=8, sample=6)
        elif site.kind == SiteKind.TOWNSHIP:
            made += _seed_site_ledger(session, site, marker=f"demo-{site.code}", today=today, entries=3, sample=3)
    return made


def _seed_site_ledger(session: Session, site: Site, *, marker: str, today: date | None, entries: int,
                      sample: int) -> int:
    from supervision.ledger import record_entry
    from supervision.models import LedgerEntry
    from supervision.settings import get_settings

    if session.exec(select(LedgerEntry.id).where(col(LedgerEntry.source_kind) == "demo",
                                                 col(LedgerEntry.source_id) == f"{marker}-000")).first():
        return 0
    day0 = today or datetime.now(get_settings().tz).date()
    rng = random.Random(20141210 if marker == "demo" else f"{marker}-20141210")
    staff = session.exec(
        select(Staff).where(col(Staff.site_id) == site.id, col(Staff.window_id).is_not(None)).order_by(col(Staff.id))
    ).all()
    if not staff:
        return 0
    # The first post holders first: a township's staff account holds its first post.
    chosen = list(staff[:1]) + rng.sample(list(staff[1:]), min(sample - 1, len(staff) - 1))
    for n in range(entries):
        person = chosen[n % len(chosen)] if n < len(chosen) else rng.choice(chosen)
        kind, points, reason = _DEMO_FACTS[rng.randrange(len(_DEMO_FACTS))] if n % 3 else _DEMO_FACTS[0]
        record_entry(
            session, actor=SYSTEM, day=day0 - timedelta(days=rng.randrange(0, 28)), kind=kind, points=points,
            reason=f"{reason}(演示)", source_kind="demo", source_id=f"{marker}-{n:03d}", staff_id=person.id,
            window_id=person.window_id,
        )
    return entries


class _Builder:
    """Writes the demo rows through the services, keeping codes, names and phones deterministic."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.rng = random.Random(RANDOM_SEED)
        self.created: Counter[str] = Counter()
        self.sites: dict[str, Site] = {}
        self.posts: dict[str, Post] = {}
        self.post_holders: dict[str, Staff] = {}
        self._names: set[str] = set()
        self._staff_codes = set(session.exec(select(Staff.code)).all())
        self._staff_seq = 0

    # -- helpers --

    def checkpoint(self) -> None:
        """Commit the rows written so far and let go of them.

        Each audit record updates the chain's head row: with an ORM UPDATE, which scans every object in
        the session, and, on PostgreSQL, on a row whose versions pile up until the transaction ends.
        Committing in batches and clearing the session keeps seeding linear instead of quadratic.
        """
        self.session.flush()
        # Let go before committing, so the rows we still hold keep their loaded attributes.
        self.session.expunge_all()
        self.session.commit()

    def add(self, entity: OrgKind, /, **data: Any) -> Any:
        data["is_demo"] = True
        row = org.create_entity(self.session, SYSTEM, entity, data)
        self.created[entity.value] += 1
        return row

    def person_name(self) -> str:
        for _ in range(50):
            given = "".join(self.rng.choice(GIVEN_CHARS) for _ in range(self.rng.choice((1, 2, 2))))
            name = self.rng.choice(SURNAMES) + given
            if name not in self._names:
                self._names.add(name)
                return name
        return name  # a repeated name is harmless; it only makes the list less tidy

    def phone(self) -> str:
        return self.rng.choice(PHONE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def next_staff_code(self) -> str:
        while True:
            self._staff_seq += 1
            code = f"S{self._staff_seq:05d}"
            if code not in self._staff_codes:
                self._staff_codes.add(code)
                return code

    def staff(
        self,
        site: Site,
        *,
        rank: StaffRank | None = None,
        title: str = "",
        window: Window | None = None,
        post: Post | None = None,
        department_id: int | None = None,
        temp_share: float = 0.12,
    ) -> Staff:
        if rank is None:
            rank = StaffRank.TEMPORARY if self.rng.random() < temp_share else StaffRank.GENERAL
        if rank is StaffRank.TEMPORARY:
            employment = Employment.CONTRACT
        elif rank is StaffRank.GENERAL:
            employment = Employment.CONTRACT if self.rng.random() < 0.2 else Employment.ESTABLISHED
        else:
            employment = Employment.ESTABLISHED
        staff: Staff = self.add(
            OrgKind.STAFF,
            code=self.next_staff_code(),
            name=self.person_name(),
            rank=rank.value,
            employment=employment.value,
            site_id=site.id,
            title=title,
            window_id=window.id if window else None,
            post_id=post.id if post else None,
            department_id=department_id if department_id is not None else (post.department_id if post else None),
            phone=self.phone(),
        )
        if post is not None:
            self.post_holders[post.code] = staff
        return staff

    def post(self, site: Site, window: Window, code: str, name: str, duties: str, department_id: int | None) -> Post:
        post: Post = self.add(
            OrgKind.POST,
            code=code,
            name=name,
            site_id=site.id,
            window_id=window.id,
            department_id=department_id,
            duties=duties,
        )
        self.posts[code] = post
        return post

    # -- the city centre --

    def city(self) -> Site:
        city: Site = self.add(
            OrgKind.SITE, code=CITY_CODE, name=CITY_NAME, kind=SiteKind.CITY.value, address=CITY_ADDRESS
        )
        self.sites[CITY_CODE] = city
        halls: dict[str, Hall] = {
            h.key: self.add(OrgKind.HALL, code=f"{CITY_CODE}-H-{h.key}", name=h.name, site_id=city.id, floor=h.floor)
            for h in CITY_HALLS
        }
        letters = {h.key: h.letter for h in CITY_HALLS}
        numbers: Counter[str] = Counter()

        def window_number(hall_key: str) -> str:
            numbers[hall_key] += 1
            return f"{letters[hall_key]}{numbers[hall_key]:02d}"

        delegated = [
            self.add(OrgKind.DEPARTMENT, code=f"{CITY_CODE}-D-{key}", name=name, site_id=city.id)
            for key, name in DELEGATED_DEPARTMENTS
        ]
        # The comprehensive window first: it opens the administrative-approval hall (C01).
        comprehensive: Window = self.add(
            OrgKind.WINDOW,
            code=f"{CITY_CODE}-W-{COMPREHENSIVE_KEY}",
            name=COMPREHENSIVE_WINDOW_NAME,
            number=window_number(COMPREHENSIVE_HALL),
            site_id=city.id,
            hall_id=halls[COMPREHENSIVE_HALL].id,
            is_comprehensive=True,
            delegated_department_ids=[d.id for d in delegated],
        )
        chief: Staff | None = None
        for i, (name, duties) in enumerate(COMPREHENSIVE_POSTS, start=1):
            post = self.post(city, comprehensive, f"{CITY_CODE}-P-{COMPREHENSIVE_KEY}-{i:02d}", name, duties, None)
            if name == CHIEF_POST:
                chief = self.staff(
                    city, rank=StaffRank.SECTION_LEVEL, title=CHIEF_TITLE, window=comprehensive, post=post
                )
            else:
                self.staff(city, window=comprehensive, post=post)
        if chief is not None:
            org.update_entity(
                self.session,
                SYSTEM,
                OrgKind.WINDOW,
                int(comprehensive.id or 0),
                {"chief_representative_id": chief.id},
            )

        for spec in CITY_DEPARTMENTS:
            dept: Department = self.add(
                OrgKind.DEPARTMENT, code=f"{CITY_CODE}-D-{spec.key}", name=spec.name, site_id=city.id
            )
            window: Window = self.add(
                OrgKind.WINDOW,
                code=f"{CITY_CODE}-W-{spec.key}",
                name=f"{spec.short}窗口",
                number=window_number(spec.hall),
                site_id=city.id,
                hall_id=halls[spec.hall].id,
                department_id=dept.id,
            )
            steps = [(line, step) for line, line_steps in spec.lines for step in line_steps]
            # The window's head (a section-level cadre) holds the first deciding post.
            head_index = next((i for i, (_, s) in enumerate(steps) if s in ("审批", "审核")), len(steps) - 1)
            for i, (line, step) in enumerate(steps):
                name_t, duties_t = STAGES[step]
                post = self.post(
                    city,
                    window,
                    f"{CITY_CODE}-P-{spec.key}-{i + 1:02d}",
                    name_t.format(line=line),
                    duties_t.format(line=line),
                    dept.id,
                )
                if i == head_index:
                    self.staff(city, rank=StaffRank.SECTION_LEVEL, title="窗口负责人", window=window, post=post)
                else:
                    self.staff(city, window=window, post=post)
            self.checkpoint()

        for title in BUREAU_LEADERS:
            self.staff(city, rank=StaffRank.BUREAU_LEADER, title=title)
        for title in SECTION_CADRES:
            self.staff(city, rank=StaffRank.SECTION_LEVEL, title=title)
        return city

    # -- counties and parks --

    def division(self, spec: DivisionSpec) -> Site:
        key = f"{CITY_CODE}-{spec.key}"
        site: Site = self.add(
            OrgKind.SITE,
            code=key,
            name=f"{spec.name}政务服务中心",
            kind=spec.kind,
            parent_id=self.sites[CITY_CODE].id,
            address=f"四川省绵阳市{spec.name}",
        )
        self.sites[key] = site
        hall: Hall = self.add(OrgKind.HALL, code=f"{key}-H1", name="政务服务大厅", site_id=site.id, floor="1F")
        departments = PARK_DEPARTMENTS if spec.kind == SiteKind.PARK.value else COUNTY_DEPARTMENTS
        for n, (dkey, dname, post_names) in enumerate(departments, start=1):
            dept: Department = self.add(
                OrgKind.DEPARTMENT, code=f"{key}-D-{dkey}", name=f"{spec.name}{dname}", site_id=site.id
            )
            window: Window = self.add(
                OrgKind.WINDOW,
                code=f"{key}-W-{dkey}",
                name=f"{dname.removesuffix('局')}窗口",
                number=f"{n:02d}",
                site_id=site.id,
                hall_id=hall.id,
                department_id=dept.id,
            )
            for j, post_name in enumerate(post_names, start=1):
                duties = next((d for step, d in POST_DUTIES_BY_STEP if step in post_name), POST_DUTIES_BY_STEP[0][1])
                post = self.post(site, window, f"{key}-P-{dkey}-{j:02d}", post_name, duties, dept.id)
                self.staff(site, window=window, post=post, temp_share=0.2)
        self.staff(site, rank=StaffRank.SECTION_LEVEL, title="中心主任")
        self.staff(site, rank=StaffRank.SECTION_LEVEL, title="中心副主任")
        self.checkpoint()
        return site

    # -- townships and villages --

    def township(self, spec: TownshipSpec) -> Site:
        parent = self.sites[f"{CITY_CODE}-{spec.division_key}"]
        site: Site = self.add(
            OrgKind.SITE, code=spec.code, name=spec.name, kind=SiteKind.TOWNSHIP.value, parent_id=parent.id
        )
        self.sites[spec.code] = site
        hall: Hall = self.add(OrgKind.HALL, code=f"{spec.code}-H", name="便民服务大厅", site_id=site.id)
        window: Window = self.add(
            OrgKind.WINDOW,
            code=f"{spec.code}-W01",
            name="综合便民窗口",
            number="01",
            site_id=site.id,
            hall_id=hall.id,
            is_comprehensive=True,
        )
        self.staff(site, rank=StaffRank.SECTION_LEVEL, title="便民服务中心主任")
        for j, (post_name, duties) in enumerate(TOWNSHIP_POSTS, start=1):
            post = self.post(site, window, f"{spec.code}-P{j:02d}", post_name, duties, None)
            self.staff(site, window=window, post=post, temp_share=0.3)
        for code, name in spec.villages:
            village: Site = self.add(OrgKind.SITE, code=code, name=name, kind=SiteKind.VILLAGE.value, parent_id=site.id)
            self.staff(village, rank=StaffRank.TEMPORARY, title="便民服务代办员")
        self.checkpoint()
        return site

    # -- accounts --

    def users(self, password: str) -> None:
        # One hash for all accounts: argon2 costs 0.1 s a call on a quiet machine, a second on a busy one.
        digest = hash_password(password)
        for spec in ACCOUNTS:
            site = self.sites[spec.site_code]
            staff = self.post_holders.get(spec.staff_code_hint) if spec.staff_code_hint else None
            display = staff.name if staff is not None else (spec.display_name or self.person_name())
            user = accounts.create_user(
                self.session,
                SYSTEM,
                {
                    "username": spec.username,
                    "display_name": display,
                    "password": password,
                    "role": spec.role,
                    "site_id": site.id,
                    "staff_id": staff.id if staff is not None else None,
                },
                password_hash=digest,
            )
            user.is_demo = True
            self.session.add(user)
            self.created["user"] += 1


# --- the summary --------------------------------------------------------------------------------


def _summary(session: Session, city: Site, *, created: bool, full: bool, seconds: float) -> DemoSummary:
    path = city.path
    in_tree = col(Site.path).startswith(path, autoescape=True)
    kinds = dict(session.exec(select(Site.kind, func.count()).where(in_tree).group_by(Site.kind)).all())

    def count(table: Any) -> int:
        stmt = select(func.count()).select_from(table).join(Site, col(Site.id) == table.site_id).where(in_tree)
        return int(session.exec(stmt).one())

    counts = {
        "sites": sum(int(v) for v in kinds.values()),
        "counties": int(kinds.get(SiteKind.COUNTY, 0)),
        "parks": int(kinds.get(SiteKind.PARK, 0)),
        "townships": int(kinds.get(SiteKind.TOWNSHIP, 0)),
        "villages": int(kinds.get(SiteKind.VILLAGE, 0)),
        "halls": count(Hall),
        "departments": count(Department),
        "windows": count(Window),
        "posts": count(Post),
        "staff": count(Staff),
        "users": count(User),
    }
    names = [spec.username for spec in ACCOUNTS]
    rows = session.exec(
        select(User, Site).join(Site, col(Site.id) == User.site_id).where(col(User.username).in_(names))
    ).all()
    found = {user.username: (user, site) for user, site in rows}
    demo_accounts = [
        DemoAccount(u.username, Role(u.role), s.code, s.name, u.display_name)
        for u, s in (found[n] for n in names if n in found)
    ]
    return DemoSummary(
        created=created,
        full=full,
        city_site_id=int(city.id or 0),
        city_name=city.name,
        counts=counts,
        accounts=demo_accounts,
        seconds=seconds,
    )


__all__ = ["ACCOUNTS", "DemoAccount", "DemoSummary", "TownshipSpec", "seed_demo", "township_plan"]
