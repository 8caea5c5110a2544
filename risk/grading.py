"""Grading (定级) of integrity risk points: the default criteria and the level a kind of power suggests.

Pure logic, no I/O. DOMAIN.md: 一级 when the post directly holds approval, licensing, fees, penalties,
money or procurement power; 二级 for powers with discretion that do not decide by themselves
(inspection, certification); 三级 for the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from enum import StrEnum

from risk.models import RiskLevel


class PowerKind(StrEnum):
    APPROVAL = "approval"  # 行政审批
    LICENSING = "licensing"  # 行政许可
    FEES = "fees"  # 行政收费
    PENALTIES = "penalties"  # 行政处罚
    MONEY = "money"  # 资金管理
    PROCUREMENT = "procurement"  # 采购
    INSPECTION = "inspection"  # 监督检查
    CERTIFICATION = "certification"  # 认证、确认、登记
    SERVICE = "service"  # 咨询、受理、公共服务


HIGH_POWERS = frozenset(
    {
        PowerKind.APPROVAL,
        PowerKind.LICENSING,
        PowerKind.FEES,
        PowerKind.PENALTIES,
        PowerKind.MONEY,
        PowerKind.PROCUREMENT,
    }
)
MEDIUM_POWERS = frozenset({PowerKind.INSPECTION, PowerKind.CERTIFICATION})

DEFAULT_CRITERIA_VERSION = "MY-LZ-2014"
DEFAULT_CRITERIA_TITLE = "政务服务中心廉政风险等级评定标准(2014版)"
DEFAULT_CRITERIA_FROM = date(2014, 1, 1)
DEFAULT_CRITERIA_TEXT = (
    "一级(高):岗位直接掌握行政审批、行政许可、行政收费、行政处罚、资金管理或采购等权力,"
    "且该风险点处在作出决定的环节;\n"
    "二级(中):岗位掌握监督检查、认证确认等有裁量空间但不直接决定的权力,"
    "或一级权力中不作决定的环节(受理、初审、送达);\n"
    "三级(低):咨询、受理、公共服务等裁量空间小的岗位,以及思想道德、外部环境等一般性风险。\n"
    "复核:一级每 90 天、二级每 180 天、三级每 360 天,岗位职责或流程变化时随时复核;"
    "关联投诉、差评、视频告警达到阈值时提请重新定级。"
)

# Words in a post's or a power's name that reveal the kind of power (every match counts).
POWER_KEYWORDS: tuple[tuple[str, PowerKind], ...] = (
    ("审批", PowerKind.APPROVAL),
    ("审核", PowerKind.APPROVAL),
    ("核准", PowerKind.APPROVAL),
    ("许可", PowerKind.LICENSING),
    ("发证", PowerKind.LICENSING),
    ("执照", PowerKind.LICENSING),
    ("收费", PowerKind.FEES),
    ("缴费", PowerKind.FEES),
    ("征收", PowerKind.FEES),
    ("税", PowerKind.FEES),
    ("处罚", PowerKind.PENALTIES),
    ("罚款", PowerKind.PENALTIES),
    ("执法", PowerKind.PENALTIES),
    ("资金", PowerKind.MONEY),
    ("财务", PowerKind.MONEY),
    ("补贴", PowerKind.MONEY),
    ("补助", PowerKind.MONEY),
    ("公积金", PowerKind.MONEY),
    ("社保", PowerKind.MONEY),
    ("采购", PowerKind.PROCUREMENT),
    ("招标", PowerKind.PROCUREMENT),
    ("交易", PowerKind.PROCUREMENT),
    ("检查", PowerKind.INSPECTION),
    ("检验", PowerKind.INSPECTION),
    ("稽查", PowerKind.INSPECTION),
    ("勘验", PowerKind.INSPECTION),
    ("监管", PowerKind.INSPECTION),
    ("认证", PowerKind.CERTIFICATION),
    ("认定", PowerKind.CERTIFICATION),
    ("确认", PowerKind.CERTIFICATION),
    ("登记", PowerKind.CERTIFICATION),
    ("备案", PowerKind.CERTIFICATION),
    ("鉴定", PowerKind.CERTIFICATION),
)


def powers_in(text: str) -> set[PowerKind]:
    """The kinds of power a post's name, duties or a power's name speak of."""
    return {kind for word, kind in POWER_KEYWORDS if word in text}


def suggest_level(powers: Iterable[PowerKind], *, decisive: bool = True) -> RiskLevel:
    """The level the default criteria give a point, from its post's powers and whether its step decides."""
    kinds = set(powers)
    if kinds & HIGH_POWERS:
        return RiskLevel.HIGH if decisive else RiskLevel.MEDIUM
    if kinds & MEDIUM_POWERS:
        return RiskLevel.MEDIUM
    return RiskLevel.LOW


def regrade_prompted(incident_count: int, threshold: int) -> bool:
    """Whether the incidents counted against a point are enough to ask for a re-grading."""
    return threshold > 0 and incident_count >= threshold
