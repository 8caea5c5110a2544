"""Demo register: risk points and countermeasures for the demo organisation's posts, with three years of
checks and reviews (some overdue). Everything it writes is marked `is_demo`.

Points come from templates per process step (咨询, 受理, 审核, 审批, 收费, 发证, 勘验, 处罚, 登记, 转报), and
their levels from the default grading criteria applied to the post's kind of power (risk.grading).
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import insert
from sqlmodel import Session, col, func, select

from risk import deadlines, provisional
from risk.grading import HIGH_POWERS, PowerKind, powers_in, suggest_level
from risk.models import (
    CheckFrequency,
    CheckResult,
    Countermeasure,
    CountermeasureCheck,
    MeasureType,
    ReviewOutcome,
    RiskCategory,
    RiskPoint,
    RiskPointMeasure,
    RiskReview,
)
from risk.register import current_criteria
from risk.scope import local_today
from risk.settings import get_risk_settings
from risk.signal import link_as, point_concerns
from supervision import audit, incidents, org
from supervision.access import SYSTEM
from supervision.errors import InvalidInput
from supervision.incidents import Concern
from supervision.models import Department, Post, Site, SiteKind, Staff, StaffRank
from supervision.org import OrgKind
from supervision.workdays import WorkCalendar, load_calendar

logger = logging.getLogger(__name__)

DEMO_SEED = 20141210

_C = RiskCategory


@dataclass(frozen=True)
class PointTemplate:
    name: str
    manifestation: str
    category: RiskCategory
    decisive: bool = False


# The step a post's name ends in, in the order they are looked for (审批 before 审核 before 受理 …).
STEP_POWERS: dict[str, frozenset[PowerKind]] = {
    "审批": frozenset({PowerKind.APPROVAL}),
    "收费": frozenset({PowerKind.FEES}),
    "处罚": frozenset({PowerKind.PENALTIES}),
    "发证": frozenset({PowerKind.LICENSING}),
    "勘验": frozenset({PowerKind.INSPECTION}),
    "登记": frozenset({PowerKind.CERTIFICATION}),
    "审核": frozenset(),
    "受理": frozenset(),
    "转报": frozenset(),
    "咨询": frozenset(),
}

POINT_TEMPLATES: dict[str, tuple[PointTemplate, ...]] = {
    "咨询": (
        PointTemplate("服务态度生硬、推诿", "对群众咨询敷衍了事、冷硬横推,不执行首问负责制", _C.MORAL),
        PointTemplate("告知不一次性、不完整", "未一次性告知所需材料,致群众多次往返", _C.DUTY),
        PointTemplate("违规推介中介", "借咨询之便向群众推荐指定中介或代办人员并从中获利", _C.EXTERNAL),
        PointTemplate("泄露办事人信息", "向无关人员透露办事人个人信息和咨询内容", _C.SYSTEM),
    ),
    "受理": (
        PointTemplate("受理把关不严", "对材料不全或不符合法定形式的申请予以受理", _C.DUTY),
        PointTemplate("故意刁难、吃拿卡要", "对符合条件的申请不予受理,或暗示办事人“表示”", _C.MORAL),
        PointTemplate("擅自增设受理条件", "要求提供清单以外的证明材料", _C.PROCESS),
        PointTemplate("体外循环", "不经系统登记受理,线下流转,规避电子监察计时", _C.SYSTEM),
    ),
    "审核": (
        PointTemplate("审核把关不严", "对不符合条件的申请提出同意意见", _C.DUTY),
        PointTemplate("人情审核、优亲厚友", "对熟人、关系人的申请降低审查标准或优先办理", _C.MORAL),
        PointTemplate("超时限审核、压件", "无正当理由超过承诺时限,或故意拖延办理", _C.PROCESS),
        PointTemplate("中介围猎", "与中介机构、申请人私下接触,接受宴请或礼品", _C.EXTERNAL),
    ),
    "审批": (
        PointTemplate("违规审批、越权审批", "对不符合法定条件的申请作出准予决定,或超越授权范围审批", _C.DUTY, True),
        PointTemplate("自由裁量不规范", "同类事项审批尺度不一,滥用自由裁量权", _C.SYSTEM, True),
        PointTemplate("收受贿赂、利益输送", "利用审批权索取或收受申请人财物", _C.MORAL, True),
        PointTemplate("规避集体审议", "重大事项未经集体研究擅自决定", _C.PROCESS, True),
    ),
    "收费": (
        PointTemplate("擅自减免或多收费用", "不按核定标准收费,擅自减免、多收、少收", _C.DUTY, True),
        PointTemplate("收费不开票、截留挪用", "收费不开具票据,截留、挪用、坐支收费款项", _C.PROCESS, True),
        PointTemplate("票据管理混乱", "票据领用、核销不规范,空白票据有流失风险", _C.SYSTEM),
        PointTemplate("收受好处减免费用", "收受缴费人好处后违规减免", _C.MORAL, True),
    ),
    "发证": (
        PointTemplate("违规制发证照", "对未经审批或审批未通过的事项制发证照", _C.DUTY, True),
        PointTemplate("空白证照管理不严", "空白证照、印章保管使用不规范,有私自制证风险", _C.SYSTEM),
        PointTemplate("发证环节刁难", "借发证之机刁难群众或索要好处", _C.MORAL),
    ),
    "勘验": (
        PointTemplate("勘验走过场、不实", "现场核查不到位,出具与实际不符的勘验意见", _C.DUTY, True),
        PointTemplate("接受吃请", "现场勘验中接受申请人宴请、礼品或车辆接送", _C.MORAL),
        PointTemplate("勘验标准不统一", "同类项目勘验尺度不一", _C.SYSTEM),
        PointTemplate("受利害关系人干预", "勘验结论受申请人或利害关系人请托影响", _C.EXTERNAL),
    ),
    "处罚": (
        PointTemplate("处罚裁量不公", "同类违法行为处罚幅度悬殊,滥用裁量权", _C.DUTY, True),
        PointTemplate("以罚代管、人情处罚", "收受好处后不罚、少罚或以罚代管", _C.MORAL, True),
        PointTemplate("处罚程序不合法", "未履行告知、听证程序或违法送达", _C.PROCESS, True),
        PointTemplate("罚没款管理不规范", "罚款未按规定缴入指定账户", _C.SYSTEM, True),
    ),
    "登记": (
        PointTemplate("登记审查不严", "对材料虚假或不符合条件的申请予以登记", _C.DUTY, True),
        PointTemplate("违规变更登记信息", "擅自修改登记簿信息或违规出具证明", _C.SYSTEM),
        PointTemplate("优亲厚友、插队办理", "为熟人插队办理或降低审查要求", _C.MORAL),
    ),
    "转报": (
        PointTemplate("压件不报、延误转报", "未按时限将申请材料转报上级部门", _C.PROCESS),
        PointTemplate("转报材料把关不严", "对不符合条件的材料签署转报意见", _C.DUTY),
        PointTemplate("接受请托违规协调", "接受申请人请托,违规协调上级审批部门", _C.EXTERNAL),
    ),
}


@dataclass(frozen=True)
class MeasureTemplate:
    content: str
    measure_type: MeasureType
    frequency: CheckFrequency
    method: str


MEASURE_TEMPLATES: dict[RiskCategory, tuple[MeasureTemplate, ...]] = {
    _C.DUTY: (
        MeasureTemplate(
            "严格执行{line}审查标准清单,实行 A/B 角双人复核",
            MeasureType.PROCESS,
            CheckFrequency.QUARTERLY,
            "科室负责人每季度随机抽查卷宗不少于 10 件",
        ),
        MeasureTemplate(
            "落实{line}岗位责任制和责任追究制,签订岗位廉政承诺书",
            MeasureType.REGULATION,
            CheckFrequency.YEARLY,
            "年度考核时检查承诺书签订和履行情况",
        ),
    ),
    _C.MORAL: (
        MeasureTemplate(
            "推行好差评回访,对{line}差评逐件核实整改",
            MeasureType.SUPERVISION,
            CheckFrequency.MONTHLY,
            "监督员每月回访办事群众不少于 20 人",
        ),
        MeasureTemplate(
            "重点岗位人员定期轮岗,实行廉政谈话",
            MeasureType.REGULATION,
            CheckFrequency.HALF_YEARLY,
            "每半年检查轮岗和谈话记录",
        ),
    ),
    _C.PROCESS: (
        MeasureTemplate(
            "{line}全流程网上办理,电子监察实时计时预警",
            MeasureType.TECHNOLOGY,
            CheckFrequency.MONTHLY,
            "每月调取电子监察系统超时、异常办件报表",
        ),
        MeasureTemplate(
            "公开{line}办事流程和承诺时限,实行限时办结制",
            MeasureType.REGULATION,
            CheckFrequency.QUARTERLY,
            "每季度核对公开内容与实际办理情况",
        ),
    ),
    _C.SYSTEM: (
        MeasureTemplate(
            "制定{line}自由裁量基准并公开,重大事项集体审议",
            MeasureType.REGULATION,
            CheckFrequency.HALF_YEARLY,
            "每半年检查裁量基准执行和集体审议记录",
        ),
        MeasureTemplate(
            "{line}票据、证照、印章专人保管,领用登记、定期盘点",
            MeasureType.REGULATION,
            CheckFrequency.MONTHLY,
            "每月盘点核销并由科室负责人签字",
        ),
    ),
    _C.EXTERNAL: (
        MeasureTemplate(
            "禁止与中介机构和申请人私下接触,实行来访登记",
            MeasureType.REGULATION,
            CheckFrequency.QUARTERLY,
            "纪检组每季度明察暗访",
        ),
        MeasureTemplate(
            "{line}窗口视频监控全覆盖,重点岗位录像保存 30 天",
            MeasureType.TECHNOLOGY,
            CheckFrequency.MONTHLY,
            "每月抽看重点岗位录像",
        ),
    ),
}
DEPARTMENT_EDUCATION = MeasureTemplate(
    "开展{dept}廉政警示教育,每季度学习典型案例",
    MeasureType.EDUCATION,
    CheckFrequency.QUARTERLY,
    "纪检组检查学习记录和心得体会",
)
HIGH_LEVEL_WATCH = MeasureTemplate(
    "纪检组对{line}一级风险事项实行电子监察重点监控和专项抽查",
    MeasureType.SUPERVISION,
    CheckFrequency.QUARTERLY,
    "纪检组每季度调取电子监察记录并抽查 5 件",
)

_POWER_LABELS = {
    PowerKind.APPROVAL: "行政审批",
    PowerKind.LICENSING: "行政许可",
    PowerKind.FEES: "行政收费",
    PowerKind.PENALTIES: "行政处罚",
    PowerKind.MONEY: "资金管理",
    PowerKind.PROCUREMENT: "采购",
    PowerKind.INSPECTION: "监督检查",
    PowerKind.CERTIFICATION: "登记确认",
    PowerKind.SERVICE: "公共服务",
}
_LEVEL_ZH = {1: "一级", 2: "二级", 3: "三级"}


class RiskDemoSummary(BaseModel):
    created: bool
    posts: int
    points: int
    measures: int
    checks: int
    reviews: int
    levels: dict[int, int]
    seconds: float


def step_of(post_name: str) -> tuple[str, str]:
    """(business line, step) from a post name like "出入境收费岗" → ("出入境", "收费")."""
    stem = post_name.removesuffix("岗")
    for step in STEP_POWERS:
        if step in stem:
            line = stem.replace(step, "", 1).removeprefix("委托事项").removeprefix("委托") or stem
            return line, step
    return stem, "受理"


def grade(post_name: str, department_name: str, step: str, template: PointTemplate) -> tuple[int, str]:
    """The level the default criteria give, and the basis written on the point."""
    line_powers = powers_in(post_name + department_name)
    # Only the step decides whether the post itself holds the power; the line and department only say which.
    powers = set(STEP_POWERS[step]) | (line_powers if step in ("审核", "受理") else set())
    if step in ("咨询", "转报"):
        powers = {PowerKind.SERVICE}
    level = int(suggest_level(powers, decisive=template.decisive))
    named = "、".join(_POWER_LABELS[p] for p in sorted(powers, key=list(PowerKind).index)) or "公共服务"
    holds = "直接掌握" if set(STEP_POWERS[step]) & HIGH_POWERS else "涉及"
    where = "处在作出决定的环节" if template.decisive else "不直接作出决定"
    return level, f"岗位{holds}{named}权力,{where};按定级标准定为{_LEVEL_ZH[level]}风险。"


def demo_centre_codes(session: Session, *, full: bool = False) -> list[str]:
    """The demo counties and parks (and, unless the full demo with its 287 townships, the demo townships)."""
    kinds = [SiteKind.COUNTY, SiteKind.PARK] + ([] if full else [SiteKind.TOWNSHIP])
    return list(session.exec(select(Site.code).where(col(Site.is_demo), col(Site.kind).in_(kinds))
                             .order_by(col(Site.path))).all())


def seed_risk_demo(
    session: Session,
    *,
    site_code: str | None = None,
    today: date | None = None,
    years: int = 3,
    seed: int = DEMO_SEED,
    with_incidents: bool = False,
    duties_changes: int = 2,
) -> RiskDemoSummary:
    """Generate the demo register on the demo posts of the city centre (or of `site_code`); runs once.

    Runs in the caller's transaction. `with_incidents` adds a few demo incidents so the re-grading signal
    shows before the complaint and video domains have produced any.
    """
    started = time.perf_counter()
    site_stmt = (
        select(Site).where(col(Site.code) == site_code)
        if site_code
        else select(Site).where(col(Site.kind) == SiteKind.CITY, col(Site.is_demo))
    )
    site = session.exec(site_stmt.order_by(col(Site.id))).first()
    # Once per centre: each county's and township's register is seeded on its own.
    existing = int(session.exec(
        select(func.count()).select_from(RiskPoint).join(Post, col(Post.id) == col(RiskPoint.post_id))
        .where(col(RiskPoint.is_demo), col(Post.site_id) == (site.id if site else -1))).one())
    if existing:
        # Debug: a restart passes here once per centre (40 of them in the default demo).
        logger.debug("demo risk register of %s exists already (%d points); nothing added", site_code or "the city",
                     existing)
        return _summary(session, created=False, posts=0, seconds=time.perf_counter() - started)
    posts = (
        list(
            session.exec(
                select(Post).where(col(Post.site_id) == site.id, col(Post.is_demo)).order_by(col(Post.code))
            ).all()
        )
        if site is not None
        else []
    )
    if not posts:
        raise InvalidInput("site_code", "risk.error.no_demo_posts")
    day = today or local_today()
    builder = _DemoBuilder(session, random.Random(seed), day, years)
    if site is not None and site.kind != SiteKind.CITY:
        builder.measure_prefix = f"CS-{site.code}-"
    builder.register(posts)
    builder.history()
    if duties_changes:
        builder.change_duties(duties_changes)
    if with_incidents:
        builder.incidents()
    audit.record(
        session,
        SYSTEM,
        "risk.demo_seed",
        object_kind="risk_point",
        site_id=site.id if site else None,
        summary=f"{len(builder.points)} points, {len(builder.measures)} measures",
        detail=dict(builder.counts),
    )
    seconds = time.perf_counter() - started
    # The city's register at info; the forty small ones of the counties and townships at debug.
    logger.log(logging.INFO if site is None or site.kind == SiteKind.CITY else logging.DEBUG,
               "demo risk register of %s seeded in %.1f s: %s", site.code if site else "?", seconds,
               dict(builder.counts))
    return _summary(session, created=True, posts=len(posts), seconds=seconds)


def _summary(session: Session, *, created: bool, posts: int, seconds: float) -> RiskDemoSummary:
    def count(table: Any) -> int:
        return int(session.exec(select(func.count()).select_from(table).where(col(table.is_demo))).one())

    levels = {
        int(lv): int(n)
        for lv, n in session.exec(
            select(RiskPoint.level, func.count()).where(col(RiskPoint.is_demo)).group_by(col(RiskPoint.level))
        )
    }
    return RiskDemoSummary(
        created=created,
        posts=posts,
        points=count(RiskPoint),
        measures=count(Countermeasure),
        checks=count(CountermeasureCheck),
        reviews=count(RiskReview),
        levels=levels,
        seconds=round(seconds, 2),
    )


class _DemoBuilder:
    def __init__(self, session: Session, rng: random.Random, today: date, years: int) -> None:
        self.session = session
        self.rng = rng
        self.today = today
        self.start = today - timedelta(days=365 * years)
        self.settings = get_risk_settings()
        self.calendar: WorkCalendar = load_calendar(session)
        self.criteria = current_criteria(session, on=today)
        self.points: list[RiskPoint] = []
        self.measures: list[Countermeasure] = []
        self.links: list[tuple[RiskPoint, Countermeasure]] = []
        self.first_level: dict[str, int] = {}
        self.counts: Counter[str] = Counter()
        self.leaders: list[Staff] = []
        self.names: dict[int, str] = {}
        self.measure_prefix = "CS-"

    # -- the register --

    def register(self, posts: list[Post]) -> None:
        s = self.session
        site_ids = {p.site_id for p in posts}
        staff = list(
            s.exec(
                select(Staff).where(col(Staff.site_id).in_(site_ids), col(Staff.active)).order_by(col(Staff.code))
            ).all()
        )
        self.names = {st.id or 0: st.name for st in staff}
        holders: dict[int, Staff] = {}
        for st in staff:
            if st.post_id is not None:
                holders.setdefault(st.post_id, st)
        heads: dict[int, Staff] = {}
        for st in staff:
            if st.rank == StaffRank.SECTION_LEVEL and st.window_id is not None:
                heads.setdefault(st.window_id, st)
        self.leaders = [st for st in staff if st.rank == StaffRank.BUREAU_LEADER] or staff[:1]
        section = [st for st in staff if st.rank == StaffRank.SECTION_LEVEL] or staff[:1]
        depts = {d.id: d for d in s.exec(select(Department))}
        created_at = datetime.combine(self.start, dtime(9), tzinfo=UTC)
        moral_by_dept: dict[int | None, list[RiskPoint]] = defaultdict(list)
        dept_owner: dict[int | None, Staff] = {}
        dept_lines: dict[int | None, str] = {}
        for index, post in enumerate(posts):
            dept = depts.get(post.department_id) if post.department_id is not None else None
            dept_name = dept.name if dept else "综合窗口"
            line, step = step_of(post.name)
            direct = holders.get(post.id or 0)
            head = heads.get(post.window_id or 0) or section[index % len(section)]
            leader = self.leaders[(post.department_id or index) % len(self.leaders)]
            templates = list(POINT_TEMPLATES[step])
            n = self._points_for_post(len(templates))
            chosen = templates[:n]
            post_points: list[RiskPoint] = []
            for k, t in enumerate(chosen, start=1):
                level, basis = grade(post.name, dept_name, step, t)
                point = RiskPoint(
                    code=f"FX-{post.code}-{k:02d}",
                    name=f"{line}{t.name}"[:200],
                    post_id=post.id or 0,
                    manifestation=t.manifestation,
                    category=t.category,
                    grading_basis=basis,
                    power=_power_name(line, step),
                    process_step=step,
                    direct_responsible_id=direct.id if direct else None,
                    department_responsible_id=head.id,
                    leader_responsible_id=leader.id,
                    level=level,
                    criteria_id=self.criteria.id or 0,
                    next_review_due=self.today,
                    is_demo=True,
                    duties_seen_at=post.duties_changed_at,
                    created_at=created_at,
                    updated_at=created_at,
                )
                # A few points were first graded a level lower and raised at a review: the history shows it.
                self.first_level[point.code] = min(level + 1, 3) if level < 3 and self.rng.random() < 0.06 else level
                post_points.append(point)
            self.points += post_points
            for category in dict.fromkeys(p.category for p in post_points):
                covered = [p for p in post_points if p.category == category]
                if category is RiskCategory.MORAL:
                    moral_by_dept[post.department_id] += covered
                    dept_owner.setdefault(post.department_id, head)
                    dept_lines.setdefault(post.department_id, dept_name)
                    continue
                template = MEASURE_TEMPLATES[category][index % 2]
                self._measure(template, line, head, post.site_id, covered, created_at)
            high = [p for p in post_points if p.level == 1]
            if high:
                self._measure(HIGH_LEVEL_WATCH, line, head, post.site_id, high, created_at)
        for dept_id, covered in moral_by_dept.items():
            site_id = self._site_of(covered)
            self._measure(
                DEPARTMENT_EDUCATION,
                dept_lines[dept_id],
                dept_owner[dept_id],
                site_id,
                covered,
                created_at,
                dept=dept_lines[dept_id],
            )
        for p in self.points:
            p.level = self.first_level[p.code]
        s.add_all(self.points)
        s.add_all(self.measures)
        s.flush()
        s.execute(insert(RiskPointMeasure), [{"point_id": p.id, "measure_id": m.id} for p, m in self.links])
        self.counts.update(points=len(self.points), measures=len(self.measures), links=len(self.links))

    def _points_for_post(self, available: int) -> int:
        roll = self.rng.random()
        n = 2 if roll < 0.06 else 4 if roll > 0.90 else 3
        return min(n, available)

    def _site_of(self, points: list[RiskPoint]) -> int:
        post = self.session.get(Post, points[0].post_id)
        return post.site_id if post else 0

    def _measure(
        self,
        template: MeasureTemplate,
        line: str,
        owner: Staff,
        site_id: int,
        covered: list[RiskPoint],
        created_at: datetime,
        dept: str = "",
    ) -> None:
        number = len(self.measures) + 1
        measure = Countermeasure(
            code=f"{self.measure_prefix}{number:04d}",
            content=template.content.format(line=line, dept=dept),
            measure_type=template.measure_type,
            owner_id=owner.id or 0,
            check_frequency=template.frequency,
            check_method=template.method,
            site_id=site_id,
            next_check_due=self.today,
            is_demo=True,
            created_at=created_at,
            updated_at=created_at,
        )
        self.measures.append(measure)
        self.links += [(p, measure) for p in covered]

    # -- three years of reviews and checks --

    def history(self) -> None:
        reviews: list[dict[str, Any]] = []
        for point in self.points:
            reviews += self._reviews(point)
        checks: list[dict[str, Any]] = []
        for measure in self.measures:
            checks += self._checks(measure)
        if reviews:
            self.session.execute(insert(RiskReview), reviews)
        if checks:
            self.session.execute(insert(CountermeasureCheck), checks)
        self.session.add_all(self.points)
        self.session.add_all(self.measures)
        self.session.flush()
        self.counts.update(reviews=len(reviews), checks=len(checks))

    def _reviews(self, point: RiskPoint) -> list[dict[str, Any]]:
        final = grade_of(point)
        level = point.level
        lapse = self.rng.random() < 0.07  # reviews stopped some time ago: overdue now
        stop = self.today - timedelta(days=self.rng.randint(100, 400)) if lapse else self.today
        out: list[dict[str, Any]] = []
        last = self.start
        while True:
            due = last + timedelta(days=self.settings.review_days(level))
            when = deadlines.on_workday(due + timedelta(days=self.rng.randint(-10, 6)), self.calendar).day
            if when > stop or when > self.today:
                break
            outcome, after, basis = ReviewOutcome.CONFIRMED, level, point.grading_basis
            if level != final:
                outcome, after = ReviewOutcome.REGRADED, final
                basis = point.grading_basis + "(复核时按定级标准上调)"
            reviewer = self.leaders[len(out) % len(self.leaders)]
            out.append(
                {
                    "point_id": point.id,
                    "reviewed_on": when,
                    "reviewer_name": reviewer.name,
                    "reviewer_user_id": None,
                    "outcome": outcome,
                    "level_before": level,
                    "level_after": after,
                    "criteria_id": self.criteria.id,
                    "grading_basis": basis,
                    "notes": "" if outcome is ReviewOutcome.CONFIRMED else "岗位权力清单调整,重新定级",
                    "trigger": "schedule",
                    "incident_count": 0,
                    "recorded_by": "system:demo",
                    "recorded_at": datetime.combine(when, dtime(10), tzinfo=UTC),
                    "is_demo": True,
                }
            )
            level, last = after, when
        point.level = level
        point.last_reviewed_on = last if out else None
        provisional.set_review_due(point, deadlines.review_due(
            last, point.level, self.settings.review_days(point.level), self.calendar))
        if out:
            point.signal_reset_at = datetime.combine(last, dtime(10), tzinfo=UTC)
        return out

    def _checks(self, measure: Countermeasure) -> list[dict[str, Any]]:
        frequency = CheckFrequency(measure.check_frequency)
        lapse = self.rng.random() < 0.08  # checks stopped: overdue now
        period = deadlines.frequency_days(frequency)
        stop = self.today - timedelta(days=self.rng.randint(period + 5, period * 3)) if lapse else self.today
        weak = self.rng.random() < 0.03  # its last check found it not effective
        out: list[dict[str, Any]] = []
        last = self.start
        while True:
            due = deadlines.check_due(last, frequency, self.calendar).day
            when = deadlines.on_workday(due + timedelta(days=self.rng.randint(-5, 3)), self.calendar).day
            if when > stop or when > self.today:
                break
            roll = self.rng.random()
            result = (
                CheckResult.EFFECTIVE
                if roll < 0.86
                else CheckResult.PARTLY
                if roll < 0.97
                else CheckResult.NOT_EFFECTIVE
            )
            checker = self.leaders[-1] if len(out) % 3 == 2 else None
            out.append(
                {
                    "measure_id": measure.id,
                    "checked_on": when,
                    "checker_id": checker.id if checker else measure.owner_id,
                    "checker_name": checker.name if checker else self.names.get(measure.owner_id, "")[:60],
                    "result": result,
                    "notes": "" if result is CheckResult.EFFECTIVE else "已督促整改",
                    "evidence_sha256": "",
                    "evidence_name": "",
                    "evidence_type": "",
                    "evidence_size": 0,
                    "recorded_by": "system:demo",
                    "recorded_at": datetime.combine(when, dtime(15), tzinfo=UTC),
                    "is_demo": True,
                }
            )
            last = when
        if out and weak:
            out[-1]["result"] = CheckResult.NOT_EFFECTIVE
            out[-1]["notes"] = "措施未落实,已责令整改"
        measure.last_checked_on = last if out else None
        measure.last_result = out[-1]["result"] if out else None
        provisional.set_check_due(measure, deadlines.check_due(last, frequency, self.calendar))
        return out

    # -- signals --

    def change_duties(self, how_many: int) -> None:
        """Change the duties of a few posts (through the org service), so their points are due for review."""
        post_ids = sorted({p.post_id for p in self.points})
        for post_id in self.rng.sample(post_ids, min(how_many, len(post_ids))):
            post = self.session.get(Post, post_id)
            if post is None:
                continue
            org.update_entity(
                self.session, SYSTEM, OrgKind.POST, post_id, {"duties": post.duties + "(新增网上预审和容缺受理职责)"}
            )
            self.counts["duties_changed"] += 1

    def incidents(self) -> None:
        """A handful of demo incidents about service attitude or obstruction (刁难) on a few posts, one post
        past the re-grading threshold: only the points they concern are flagged, not the post's 优亲厚友 point.

        They fall after the points' last review (whose signal they would otherwise not count towards).
        """
        threshold = self.settings.signal_threshold
        noon = datetime.combine(self.today, dtime(4), tzinfo=UTC)
        first = noon - timedelta(days=threshold + 1)
        concern_of: dict[int, Concern] = {}
        for p in sorted(self.points, key=lambda p: p.code):
            mine = point_concerns(p.name, p.manifestation, p.category)
            concern = next((c for c in (Concern.ATTITUDE, Concern.OBSTRUCTION) if c in mine), None)
            if concern is None or p.post_id in concern_of:
                continue
            if p.signal_reset_at is not None and p.signal_reset_at.astimezone(UTC) >= first:
                continue
            concern_of[p.post_id] = concern
        post_ids = sorted(concern_of)
        for n, post_id in enumerate(self.rng.sample(post_ids, min(3, len(post_ids)))):
            for k in range(threshold if n == 0 else 1):
                incident = incidents.record_incident(
                    self.session,
                    kind=("complaint", "bad_rating")[k % 2],
                    source_kind="risk_demo",
                    source_id=f"{post_id}-{k}",
                    occurred_at=noon - timedelta(days=1 + k),
                    post_id=post_id,
                    summary="演示事件",
                )
                link_as(self.session, incident, frozenset({concern_of[post_id]}))
                self.counts["incidents"] += 1


def _power_name(line: str, step: str) -> str:
    kinds = STEP_POWERS[step]
    return (f"{line}{_POWER_LABELS[next(iter(kinds))]}" if kinds else f"{line}事项{step}")[:200]


def grade_of(point: RiskPoint) -> int:
    """The level the point's basis states (the grading the criteria give it today)."""
    for level, zh in _LEVEL_ZH.items():
        if f"定为{zh}" in point.grading_basis:
            return level
    return point.level
