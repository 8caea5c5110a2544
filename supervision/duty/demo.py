"""Demo rosters and duty logs: the year's roster at the city centre and at each demo county/park and township
with a demo account, duty-log entries on past working days, and a swap waiting for a manager. Each part runs
once per site; a restart adds nothing (and takes well under a second once seeded)."""

from __future__ import annotations

import dataclasses
import logging
import random
import time as clock
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from supervision.access import SYSTEM
from supervision.db import session_scope
from supervision.demo_data import CITY_CODE
from supervision.duty.log import DutyLogCreate, record_entry
from supervision.duty.models import DutyAssignment, DutyLogEntry, DutyPoolMember, DutyRole, DutySwap, SwapStatus
from supervision.duty.rosters import RANK_ROLE, generation_input, save_roster, set_pool, solve_roster
from supervision.errors import SupervisionError
from supervision.models import Employment, Site, Staff, StaffRank, User

logger = logging.getLogger(__name__)

# The centres whose demo accounts should find a roster: the city, the counties with accounts, the township.
DEMO_SITES = (CITY_CODE, f"{CITY_CODE}-FC", f"{CITY_CODE}-JY", f"{CITY_CODE}-GX", f"{CITY_CODE}-FC-T01")
# A county centre has its director and deputy (section level) but no bureau leaders: these fill the pool.
EXTRA_PEOPLE: tuple[tuple[str, StaffRank, str], ...] = (
    ("DL1", StaffRank.BUREAU_LEADER, "局长"), ("DL2", StaffRank.BUREAU_LEADER, "副局长"),
    ("DL3", StaffRank.BUREAU_LEADER, "副局长"), ("DL4", StaffRank.BUREAU_LEADER, "纪检组长"),
    ("DC1", StaffRank.SECTION_LEVEL, "办公室主任"), ("DC2", StaffRank.SECTION_LEVEL, "监督检查股股长"),
    ("DC3", StaffRank.SECTION_LEVEL, "综合窗口股股长"),
)
NAMES = ("赵国强", "钱立新", "孙海燕", "李建军", "周文斌", "吴晓梅", "郑志刚", "王丽华", "冯德明", "陈秀英",
         "褚明远", "卫红梅", "蒋卫东", "沈佳慧", "韩志勇", "杨春兰", "朱建平", "秦晓东", "尤丽娟", "许国华",
         "何建国", "吕海涛", "施美玲", "张明辉", "孔令军", "曹雪梅", "严志强", "华丽萍", "金大伟", "魏秀兰",
         "陶建华", "姜晓燕", "戚志明", "谢丽君", "邹国庆")
PROBLEMS = (
    ("群众反映社保卡补办排队时间过长", "协调社保窗口增开一个临时受理窗口", "当场分流,等候时间缩短"),
    ("企业开办材料不全,往返多次", "联系市场监管窗口一次性告知所缺材料并容缺受理", "当日办结"),
    ("老年群众不会使用自助机查询公积金", "安排导服人员陪同操作", "查询完成"),
    ("不动产登记窗口系统故障", "联系信息科排除故障,期间登记群众信息预约回访", "40 分钟后恢复"),
    ("群众对窗口答复有异议", "调取相关政策当面解释,并请窗口负责人复核", "群众表示理解"),
    ("外地群众咨询异地就医备案", "协调医保窗口开辟绿色通道", "当场办理"),
    ("残疾人办事无法上楼", "安排工作人员下楼代办", "办结"),
    ("税务窗口叫号系统重复叫号", "通知技术人员处理并人工维持秩序", "已处理"),
)


def _demo_people(session: Session, site: Site) -> int:
    """Bureau leaders and cadres for a centre that lacks them (codes `<site>-DL1`…); runs once per site."""
    made = 0
    needed = EXTRA_PEOPLE if site.kind != "township" else EXTRA_PEOPLE[:3] + EXTRA_PEOPLE[4:7]
    for n, (suffix, rank, title) in enumerate(needed):
        code = f"{site.code}-{suffix}"
        if site.code == CITY_CODE or session.exec(select(Staff.id).where(Staff.code == code)).first() is not None:
            continue
        name = NAMES[(int(site.id or 0) * 7 + n) % len(NAMES)]
        session.add(Staff(code=code, name=name, rank=rank, employment=Employment.ESTABLISHED, site_id=site.id or 0,
                          title=title, is_demo=True))
        made += 1
    session.flush()
    return made


def _seed_pool(session: Session, site: Site) -> bool:
    if session.exec(select(DutyPoolMember.id).where(DutyPoolMember.site_id == site.id)).first() is not None:
        return False
    _demo_people(session, site)
    people = session.exec(select(Staff).where(Staff.site_id == site.id, col(Staff.active),
                                              col(Staff.rank).in_(list(RANK_ROLE))).order_by(col(Staff.code))).all()
    # The city's bureau leaders and its bureau's section chiefs; a county's own director and deputy too.
    chosen = [p.id for p in people if p.id is not None and (p.rank == StaffRank.BUREAU_LEADER or ("窗口负责人" not in
                                                             p.title and "首席" not in p.title))]
    set_pool(session, SYSTEM, site_id=site.id or 0, staff_ids=chosen[:16])
    return True


def _seed_roster(engine: Engine, site: Site, year: int) -> int:
    """The whole year (January on): the past as it was planned, the rest still to come."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    with session_scope(engine) as read:
        if read.exec(select(DutyAssignment.id).where(DutyAssignment.site_id == site.id,
                                                     col(DutyAssignment.day) >= start)).first() is not None:
            return 0
        data = generation_input(read, SYSTEM, site_id=site.id or 0, start=start, end=end, today=start)
    try:
        roster = solve_roster(data)
    except SupervisionError as exc:  # e.g. demo leave that empties a pool on some day: the demo goes on
        logger.warning("no demo roster at %s: %s", site.code, exc)
        return 0
    with session_scope(engine, write=True) as write:
        return save_roster(write, SYSTEM, data, roster)


def _seed_log(session: Session, site: Site, today: date, tz: ZoneInfo) -> int:
    """About 21 entries a month at the city (the seed's 256 a year), fewer at the counties; past days only."""
    if session.exec(select(DutyLogEntry.id).where(DutyLogEntry.site_id == site.id)).first() is not None:
        return 0
    writer = session.exec(select(User).where(col(User.is_demo), col(User.site_id) == site.id)
                          .order_by(col(User.id))).first() or session.exec(
        select(User).where(col(User.is_demo), User.username == "manager")).first()
    if writer is None:
        return 0
    # The entries are written by a demo account of the site (as its duty desk would), with the system's reach.
    actor = dataclasses.replace(SYSTEM, kind="user", id=writer.id, name=writer.username)
    days = session.exec(select(col(DutyAssignment.day)).where(DutyAssignment.site_id == site.id,
                                                         col(DutyAssignment.day) < today).distinct()
                        .order_by(col(DutyAssignment.day))).all()
    rng = random.Random(int(site.id or 0))
    share = 1.05 if site.code == CITY_CODE else 0.35
    now = datetime.now(tz)
    made = 0
    for day in days:
        if rng.random() > share:
            continue
        problem, handling, result = PROBLEMS[rng.randrange(len(PROBLEMS))]
        at = datetime.combine(day, time(9 + rng.randrange(7), rng.randrange(60)), tzinfo=tz)
        record_entry(session, actor, DutyLogCreate(site_id=site.id or 0, occurred_at=at, problem=problem,
                                                   handling=handling, result=result), tz=tz, now=now)
        made += 1
    return made


def _seed_swap(session: Session, site: Site, today: date) -> int:
    """One swap waiting for a manager at each demo centre: two cadres trade duties of the coming weeks."""
    if session.exec(select(DutySwap.id).where(DutySwap.site_id == site.id)).first() is not None:
        return 0
    coming = session.exec(select(DutyAssignment).where(
        DutyAssignment.site_id == site.id, DutyAssignment.role == DutyRole.CADRE, col(DutyAssignment.day) > today)
        .order_by(col(DutyAssignment.day)).limit(12)).all()
    if not coming:
        return 0
    mine = coming[0]
    theirs = next((a for a in coming[1:] if a.staff_id != mine.staff_id), None)
    if theirs is None:
        return 0
    session.add(DutySwap(site_id=site.id or 0, assignment_id=mine.id or 0, requester_id=mine.staff_id,
                         counterpart_id=theirs.staff_id, counterpart_assignment_id=theirs.id,
                         reason="当天需参加市级业务培训(演示)", status=SwapStatus.ACCEPTED))
    return 1


def seed_duty_demo(engine: Engine, *, today: date, tz: ZoneInfo) -> None:
    """Pools, the year's rosters and duty logs at the demo centres; nothing twice."""
    began = clock.perf_counter()
    with session_scope(engine, write=True) as session:
        sites = list(session.exec(select(Site).where(col(Site.code).in_(DEMO_SITES))).all())
        for site in sites:
            _seed_pool(session, site)
    planned = sum(_seed_roster(engine, site, today.year) for site in sites)
    with session_scope(engine, write=True) as session:
        logged = sum(_seed_log(session, site, today, tz) for site in sites)
        for site in sites:
            _seed_swap(session, site, today)
    logger.info("demo duty: %d working days planned, %d log entries, in %.1f s", planned, logged,
                clock.perf_counter() - began)


