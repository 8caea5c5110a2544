"""What a complaint or a bad rating is about, read off the record for the risk register (pure table + one read).

A 12345 order has no fixed category list of its own: what it is about is in its title and content, in the
words callers and agents use. The table below names those words per concern; an order concerns every
concern whose words it contains. An integrity tip (举报) whose words match nothing is taken as 吃拿卡要,
the commonest integrity complaint at a window. The officer can re-link what the words get wrong.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlmodel import Session, col, select

from complaints.models import Rating, WorkOrder
from supervision.incidents import Concern

# Concern → the words that show it (checked in the order's title and content, a rating's reason).
CONCERN_WORDS: Mapping[Concern, tuple[str, ...]] = {
    Concern.ATTITUDE: ("态度", "生硬", "不耐烦", "冷漠", "训斥", "脸色", "顶撞", "敷衍", "服务差", "语气"),
    Concern.DELAY: ("推诿", "拖延", "超时", "久拖", "踢皮球", "跑了好几次", "多次往返"),
    Concern.OBSTRUCTION: ("刁难", "不予受理", "不给办", "故意卡"),
    Concern.GRAFT: ("吃拿卡要", "索要", "红包", "好处费", "收礼", "礼品", "回扣", "表示一下", "请吃饭"),
    Concern.FAVOURITISM: ("优亲厚友", "插队", "熟人", "关系户", "亲友", "走后门", "人情"),
    Concern.FEES: ("乱收费", "多收", "收费"),
    Concern.OFF_POST: ("脱岗", "离岗", "不在岗", "玩手机", "空岗"),
    Concern.LAX_REVIEW: ("审查不严", "违规审批", "违规办理", "虚假材料"),
}

# When no word matched: what an order is about by whether it is an integrity tip.
UNMATCHED_INTEGRITY_TIP: frozenset[Concern] = frozenset({Concern.GRAFT})


def concerns_in(text: str) -> frozenset[Concern]:
    """The concerns whose words occur in a text."""
    return frozenset(c for c, words in CONCERN_WORDS.items() if any(w in text for w in words))


def order_concerns(title: str, content: str, *, integrity: bool) -> frozenset[Concern]:
    """What an order is about: the concerns its words show, or an integrity tip's default."""
    found = concerns_in(f"{title}\n{content}")
    if not found and integrity:
        return UNMATCHED_INTEGRITY_TIP
    return found


def _ids(source_ids: Sequence[str]) -> list[int]:
    return [int(s) for s in source_ids if s.isascii() and s.isdigit() and len(s) < 12]


def _order_part(source_id: str) -> str:
    """The order's id in an incident's source: `<order id>`, or `<order id>:<staff id>` for a further person."""
    return source_id.split(":", 1)[0]


def work_order_concerns(session: Session, source_ids: Sequence[str]) -> dict[str, frozenset[Concern]]:
    """Concerns of the work orders behind incidents (source kind `work_order`), keyed by each source id given."""
    ids = _ids([_order_part(s) for s in source_ids])
    if not ids:
        return {}
    rows = session.exec(
        select(WorkOrder.id, WorkOrder.title, WorkOrder.content, WorkOrder.integrity).where(col(WorkOrder.id).in_(ids))
    ).all()
    by_order = {str(i): order_concerns(t, c, integrity=bool(g)) for i, t, c, g in rows}
    return {s: by_order[_order_part(s)] for s in source_ids if _order_part(s) in by_order}


def rating_concerns(session: Session, source_ids: Sequence[str]) -> dict[str, frozenset[Concern]]:
    """Concerns a bad rating's reason shows (beyond the attitude every bad rating is about)."""
    ids = _ids(source_ids)
    if not ids:
        return {}
    rows = session.exec(select(Rating.id, Rating.reason).where(col(Rating.id).in_(ids))).all()
    return {str(i): concerns_in(reason or "") for i, reason in rows}
