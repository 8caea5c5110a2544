"""Demo data of the complaints loop: a month of orders in every state, calls, ratings, a visit and notices.

The seed's own story comes first: a supervisor reports a window worker's poor attitude; the order is
dispatched, signed and answered by the unit's handler (承办人) with the finding "属实", called back,
the finding confirmed with a criticism notice, and the notice drafted, approved and published to the
board. Everything goes through the services, as the demo's own accounts where a person acts (a unit's
actions by its handler `handler-<department code>`), so history and audit look like real use.
"""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from complaints.hotline import log_call
from complaints.models import Channel, RequestType, WorkOrder
from complaints.notices import approve_notice, draft_notice, publish_notice
from complaints.ratings import appeal_rating, push_rating
from complaints.visits import finding_to_order, record_visit
from complaints.workflow import UNIT_ACTIONS
from complaints.workorders import create_work_order, transition
from supervision import accounts
from supervision.access import SYSTEM, Principal
from supervision.db import writer
from supervision.models import Department, Role, Site, SiteKind, Staff, User, Window
from supervision.passwords import hash_password

logger = logging.getLogger(__name__)

CONTENTS: dict[str, list[str]] = {
    "consult": ["咨询不动产登记需要携带哪些材料", "咨询社保卡补办的办理时限", "咨询营业执照变更是否可以网上办理"],
    "help": ["老人行动不便,求助能否上门办理身份证", "求助:企业开办材料被退回三次,不知如何修改"],
    "suggestion": ["建议大厅增加周末延时服务", "建议取号机增加语音提示", "建议停车场增加指示牌"],
    "complaint": [
        "窗口人员办理业务时长时间玩手机,群众排队等待超过四十分钟",
        "工作人员未一次性告知所需材料,来回跑了三趟",
        "窗口午休时间无人值守,未按规定设置引导",
        "办件超过承诺时限仍未办结,电话询问无人答复",
    ],
    "praise": ["表扬窗口工作人员耐心细致,主动延时为群众办结业务"],
}
NAMES = ["王女士", "李先生", "张先生", "刘女士", "陈先生", "杨女士", "赵先生", "周女士"]
CHANNELS = [Channel.HOTLINE, Channel.HOTLINE, Channel.HOTLINE, Channel.COMPLAINT_PHONE, Channel.REPORT_BOX,
            Channel.WALK_IN, Channel.DEPUTY, Channel.MEDIA]


def _principal(session: Session, username: str) -> Principal:
    user = session.exec(select(User).where(col(User.username) == username)).first()
    return accounts.principal_for_user(session, user) if user is not None else SYSTEM


INTEGRITY_TIPS = [
    "举报{window}工作人员在办理业务时暗示办事群众“表示心意”,并收受购物卡",
    "举报{window}负责人为亲属经营的中介公司优先办理、违规减免材料",
    "反映{window}工作人员利用职务便利向办事企业推荐指定中介并收取好处费",
]


HANDLER_PREFIX = "handler-"


def handler_username(department_code: str) -> str:
    return f"{HANDLER_PREFIX}{department_code}"[:60]


def seed_handlers(engine: Engine, *, password: str) -> list[str]:
    """A handler (承办人) for every demo department that serves a window at city, county or park level.

    Those are the departments the demo's orders are dispatched to; each handler sits at its department's
    centre. Idempotent: an existing handler is left as it is. Returns the usernames created.
    """
    made: list[str] = []
    with Session(writer(engine), expire_on_commit=False) as session:
        served = select(Window.department_id).where(col(Window.department_id).is_not(None))
        rows = session.exec(
            select(Department, Site)
            .join(Site, col(Site.id) == col(Department.site_id))
            .where(col(Site.is_demo), col(Site.kind).in_([SiteKind.CITY.value, SiteKind.COUNTY.value,
                                                           SiteKind.PARK.value]),
                   col(Department.id).in_(served))
            .order_by(col(Site.path), col(Department.code))
        ).all()
        existing = set(session.exec(select(User.username).where(col(User.username).startswith(HANDLER_PREFIX))))
        digest: str | None = None
        for dept, site in rows:
            username = handler_username(dept.code)
            if username in existing:
                continue
            digest = digest or hash_password(password)  # one hash for all: argon2 costs ~0.1 s a call
            user = accounts.create_user(session, SYSTEM, {
                "username": username, "display_name": f"{dept.name}承办人"[:60], "password": password,
                "role": Role.HANDLER, "site_id": site.id, "department_ids": [dept.id],
            }, ip="demo", password_hash=digest)
            user.is_demo = True
            session.add(user)
            made.append(username)
        session.commit()
    return made


def _unit_actor(session: Session, supervisor: Principal, action: str, department_id: int | None) -> Principal:
    """Who takes a step: the lead unit's handler for the unit's actions, the supervisor for the rest."""
    if action not in UNIT_ACTIONS or department_id is None:
        return supervisor
    dept = session.get(Department, department_id)
    return _principal(session, handler_username(dept.code)) if dept is not None else supervisor


def seed_complaints(engine: Engine, *, orders: int = 36, now: datetime | None = None,
                    townships: bool = True) -> int:
    """Seed each demo centre once (the city's month, a few orders per county and park, a couple per
    township, and integrity tips only discipline officers see); return how many orders were made.

    A centre that has orders already gets nothing, so a restart adds nothing; each centre is its own
    transaction.
    """
    now = now or datetime.now(UTC)
    made = 0
    with Session(engine, expire_on_commit=False) as session:
        city = session.exec(select(Site).where(col(Site.kind) == SiteKind.CITY.value).order_by(col(Site.id))).first()
        if city is None:
            return 0
        kinds = [SiteKind.COUNTY, SiteKind.PARK] + ([SiteKind.TOWNSHIP] if townships else [])
        others = list(session.exec(select(Site).where(col(Site.is_demo), col(Site.kind).in_(kinds))
                                   .order_by(col(Site.path))).all())
    made += _seed_city(engine, city, orders, now)
    for site in others:
        made += _seed_centre(engine, site, now)
    return made


def _has_orders(session: Session, site: Site) -> bool:
    return session.exec(select(WorkOrder.id).where(col(WorkOrder.site_id) == site.id).limit(1)).first() is not None


def _seed_city(engine: Engine, city: Site, orders: int, now: datetime) -> int:
    with Session(writer(engine), expire_on_commit=False) as session:
        if _has_orders(session, city):
            return 0
        windows = session.exec(
            select(Window).where(col(Window.site_id) == city.id, col(Window.department_id).is_not(None))
            .order_by(col(Window.id))
        ).all()
        staff = session.exec(
            select(Staff).where(col(Staff.site_id) == city.id, col(Staff.window_id).is_not(None))
            .order_by(col(Staff.id))
        ).all()
        if not windows or not staff:
            return 0
        led = {w.id for w in windows}
        staff = [s for s in staff if s.window_id in led]
        if not staff:
            return 0
        supervisor = _principal(session, "supervisor")
        manager = _principal(session, "manager")
        made = _story(session, supervisor, manager, city, staff[0], now) + _the_month(
            session, supervisor, city, list(windows), staff, orders, now)
        made += _integrity_tips(session, supervisor, city, list(windows), now, count=2)
        _ratings(session, city, staff, now)
        _appealed_rating(session, supervisor, staff[-1], now)
        _visit(session, supervisor, city, staff[min(3, len(staff) - 1)], now)
        session.commit()
    return made


def _seed_centre(engine: Engine, site: Site, now: datetime) -> int:
    """A county's or park's few orders in several states and an integrity tip; a township's two new orders."""
    with Session(writer(engine), expire_on_commit=False) as session:
        if _has_orders(session, site):
            return 0
        windows = list(session.exec(select(Window).where(col(Window.site_id) == site.id).order_by(col(Window.id))))
        staff = list(session.exec(
            select(Staff).where(col(Staff.site_id) == site.id, col(Staff.window_id).is_not(None))
            .order_by(col(Staff.id))))
        if not windows:
            return 0
        supervisor = _principal(session, "supervisor")
        led = [w for w in windows if w.department_id is not None]
        if led and site.kind != SiteKind.TOWNSHIP.value:
            made = _the_month(session, supervisor, site, led, staff, 6, now, extra_calls=False)
            made += _integrity_tips(session, supervisor, site, led, now, count=1)
            rated = [p for p in staff if p.window_id in {w.id for w in led}]
            if rated:
                _appealed_rating(session, supervisor, rated[0], now)
        else:
            made = 0
            for n, (kind, content) in enumerate([(RequestType.CONSULT, "咨询低保申请需要哪些材料"),
                                                 (RequestType.COMPLAINT, "便民服务中心工作人员迟到,群众等候半小时")]):
                create_work_order(session, supervisor, {
                    "channel": Channel.HOTLINE if n == 0 else Channel.WALK_IN, "type": kind, "content": content,
                    "caller_name": NAMES[n], "phone": f"1390000{n:04d}", "site_id": site.id,
                    "window_id": windows[0].id, "received_at": now - timedelta(days=n + 1),
                }, ip="demo", now=now - timedelta(days=n + 1))
                made += 1
        session.commit()
    return made


def _integrity_tips(session: Session, supervisor: Principal, site: Site, windows: list[Window], now: datetime,
                    *, count: int) -> int:
    """Integrity tips (举报 about corruption): only discipline officers see that they exist."""
    for n in range(count):
        window = windows[(n * 3) % len(windows)]
        at = now - timedelta(days=3 + 2 * n, hours=2)
        create_work_order(session, supervisor, {
            "channel": Channel.REPORT_BOX if n % 2 else Channel.COMPLAINT_PHONE, "type": RequestType.COMPLAINT,
            "integrity": True, "content": INTEGRITY_TIPS[n % len(INTEGRITY_TIPS)].format(window=window.name),
            "caller_name": "匿名", "site_id": site.id, "window_id": window.id, "received_at": at,
        }, ip="demo", now=at)
    return count


def _story(session: Session, supervisor: Principal, manager: Principal, city: Site, worker: Staff,
           now: datetime) -> int:
    """The seed's story: a supervisor's report of a worker's attitude → upheld → criticism notice."""
    at = now - timedelta(days=12)
    order = create_work_order(session, supervisor, {
        "channel": Channel.VISIT, "type": RequestType.COMPLAINT, "site_id": city.id, "window_id": worker.window_id,
        "staff_id": worker.id, "caller_name": supervisor.name[:60], "title": "窗口工作人员服务态度生硬",
        "content": f"督查员巡查发现:{worker.name}在接待办事群众时态度生硬、语气不耐烦,群众当场表示不满。",
        "received_at": at,
    }, ip="demo")
    dept = session.get(Window, worker.window_id)
    lead = dept.department_id if dept is not None else None
    steps: list[tuple[str, dict[str, Any], int]] = [
        ("dispatch", {"lead_department_id": lead, "reason": "请核实并整改"}, 0),
        ("sign", {}, 1),
        ("progress", {"reason": "已调取大厅监控并约谈当事人"}, 2),
        ("reply", {"reply": "经核实,反映情况属实。已对当事人进行批评教育,并在科室内通报。", "finding": "upheld",
                   "facts": f"调取大厅监控录像,{worker.name}接待群众时语气生硬、未起身接待,与反映一致。"}, 4),
        ("callback", {"level": 4, "method": "phone", "reason": "对处理结果满意"}, 5),
        ("confirm_finding", {"disposition": ["criticism_notice"], "reason": "监控录像证实"}, 5),
        ("close", {"reason": "处理完毕"}, 6),
    ]
    for action, data, days in steps:
        actor = _unit_actor(session, supervisor, action, lead)
        transition(session, actor, order.id, action, data, ip="demo", now=at + timedelta(days=days, hours=2))
    notice = draft_notice(session, supervisor, {
        "kind": "criticism", "site_id": city.id, "source_ref": f"work_order:{order.number}",
        "title": f"关于{worker.name}服务态度问题的通报批评",
        "body": (f"经督查员现场巡查发现,{worker.name}在窗口接待群众时态度生硬。经调查核实,情况属实。"
                 "现予以通报批评,扣减当月绩效分。各窗口要引以为戒,切实改进服务作风。"),
    }, ip="demo")
    approver = manager if manager is not SYSTEM else SYSTEM
    approve_notice(session, approver, notice.id or 0, ip="demo")
    publish_notice(session, supervisor, notice.id or 0, ip="demo")
    draft_notice(session, supervisor, {
        "kind": "commendation", "site_id": city.id, "title": "关于表扬综合窗口延时服务的通报",
        "body": "综合窗口工作人员主动延时服务,为外地群众当日办结业务,予以通报表扬。",
    }, ip="demo")
    return 1


def _the_month(session: Session, supervisor: Principal, city: Site, windows: list[Window], staff: list[Staff],
               count: int, now: datetime, *, extra_calls: bool = True) -> int:
    """Orders over the last weeks, left in every state (some overdue, so the cards show)."""
    rng = random.Random(96196)
    types = [RequestType.COMPLAINT] * 4 + [RequestType.HELP, RequestType.SUGGESTION, RequestType.CONSULT,
                                           RequestType.PRAISE]
    for n in range(count):
        # The orders that reach the callback are complaints: each centre shows a finding confirmed (and the city
        # callers nobody reached).
        kind = RequestType.COMPLAINT if n % 6 == 5 else types[n % len(types)]
        window = windows[rng.randrange(len(windows))]
        person = next((s for s in staff if s.window_id == window.id), None) if n % 3 == 0 else None
        at = now - timedelta(days=rng.randrange(1, 30), hours=rng.randrange(0, 8))
        phone = f"13{rng.randrange(100000000, 999999999)}"
        channel = CHANNELS[n % len(CHANNELS)]
        data: dict[str, Any] = {
            "type": kind, "content": rng.choice(CONTENTS[kind.value]), "caller_name": rng.choice(NAMES),
            "phone": phone, "window_id": window.id, "staff_id": person.id if person else None, "site_id": city.id,
            "received_at": at, "urgency": "urgent" if n % 7 == 0 else "normal",
        }
        if channel is Channel.HOTLINE:
            call = log_call(session, supervisor, {**{k: v for k, v in data.items() if k != "site_id"},
                                                  "site_id": city.id}, ip="demo", now=at)
            order_id = call.work_order_id
        else:
            order_id = create_work_order(session, supervisor, {**data, "channel": channel}, ip="demo", now=at).id
        if order_id is None:
            continue
        stage = n % 6
        plan: list[tuple[str, dict[str, Any]]] = [("dispatch", {"lead_department_id": window.department_id})]
        if stage >= 2:
            plan.append(("sign", {}))
        if stage >= 3:
            plan.append(("progress", {"reason": "正在核实"}))
        if stage >= 4:
            reply: dict[str, Any] = {"reply": "已按规定办理并答复来电人。"}
            if kind is RequestType.COMPLAINT:
                reply.update(finding=rng.choice(["upheld", "partly", "not_upheld"]),
                             facts="调阅办件记录和大厅监控,询问当班工作人员,核实了来电反映的情况。")
            plan.append(("reply", reply))
        if stage >= 5 and n % 12 == 11:
            # A caller nobody reaches: the set number of tries recorded, then closed without a callback.
            plan += [("callback_try", {"method": "phone", "reason": "无人接听"})] * 3
            plan.append(("close", {"reason": "三次回访均未接通,按规定办结"}))
        elif stage >= 5:
            plan.append(("callback", {"level": rng.choice([5, 4, 3, 2]), "method": "phone", "reason": "回访"}))
            if kind is RequestType.COMPLAINT:
                plan.append(("confirm_finding", {"reason": "核查属实情况清楚"}))
            plan.append(("close", {"reason": "办结"}))
        if stage == 0:
            plan = []
        for i, (action, step) in enumerate(plan):
            try:
                actor = _unit_actor(session, supervisor, action, window.department_id)
                transition(session, actor, order_id, action, step, ip="demo",
                           now=min(at + timedelta(hours=4 + 20 * i), now))
            except Exception as exc:  # a demo step refused (e.g. a type that closes at intake): keep going
                logger.debug("demo step %s skipped: %s", action, exc)
                break
    if not extra_calls:
        return count
    log_call(session, supervisor, {"type": "consult", "content": "咨询大厅周六是否上班", "caller_name": "孙先生",
                                   "phone": "13912345678", "answered_on_the_spot": True,
                                   "answer": "周六上午 9:00–12:00 开放综合窗口。", "site_id": city.id},
             ip="demo", now=now - timedelta(hours=3))
    log_call(session, SYSTEM, {"external_id": "IVR-DEMO-0001", "phone": "13700001234", "site_id": city.id,
                               "received_at": now - timedelta(minutes=20), "duration_s": 95, "agent": "8012"},
             ip="demo")
    return count


def _ratings(session: Session, city: Site, staff: list[Staff], now: datetime) -> None:
    rng = random.Random(5)
    for n in range(20):
        person = staff[n % len(staff)]
        level = [5, 5, 4, 5, 3, 4, 5, 2, 5, 1][n % 10]
        push_rating(session, SYSTEM, {
            "case_no": f"DEMO-{now:%Y%m}-{n:04d}", "window_id": person.window_id, "staff_id": person.id,
            "level": level, "reason": "办理时间过长,解释不清" if level <= 2 else "",
            "rated_at": now - timedelta(days=rng.randrange(0, 20), hours=1),
        }, ip="demo")


def _appealed_rating(session: Session, supervisor: Principal, person: Staff, now: datetime) -> None:
    """A very bad rating the clerk says was never theirs, appealed: the jurisdiction's managers decide it."""
    rating, _ = push_rating(session, SYSTEM, {
        "case_no": f"DEMO-SS-{person.site_id}-{now:%Y%m}", "window_id": person.window_id, "staff_id": person.id,
        "level": 1, "reason": "态度很差", "rated_at": now - timedelta(days=2, hours=3),
    }, ip="demo")
    appeal_rating(session, supervisor, rating.id or 0, "当事人当天轮休,评价器误选窗口,申请复核", ip="demo")


def _visit(session: Session, supervisor: Principal, city: Site, person: Staff, now: datetime) -> None:
    detail = record_visit(session, supervisor, {
        "site_id": city.id, "window_id": person.window_id, "visited_on": (now - timedelta(days=2)).date(),
        "mode": "secret", "visitors": "督查组 2 人", "summary": "暗访大厅窗口服务情况",
        "findings": [
            {"description": f"{person.name}岗位空岗 20 分钟,未放置暂停服务牌", "staff_id": person.id,
             "window_id": person.window_id},
            {"description": "取号机故障未及时报修", "window_id": person.window_id},
        ],
    }, ip="demo")
    finding_to_order(session, supervisor, detail.findings[1].id or 0, type="suggestion", ip="demo")
