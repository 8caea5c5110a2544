"""zh-CN and English texts of the scoring rules."""

from supervision.i18n import add_messages

add_messages({
    "error.scoring_top_only": ("评分规则全局适用,只能由最上级站点的管理员修改",
                               "The rules hold everywhere: only an admin of the top site changes them"),
    "kind.scoring_rule_set": ("评分规则版本", "scoring rule set"),
    "error.scoring_first_of_month": ("生效日期须为某月 1 日", "must be the first day of a month"),
    "error.scoring_version_exists": ("版本“{version}”已存在", "the version \u201c{version}\u201d already exists"),
    "error.scoring_month_taken": ("{month} 已有生效的规则版本", "a version already takes effect in {month}"),
    "error.scoring_unknown_item": ("未知的评分项“{key}”", "unknown scoring item \u201c{key}\u201d"),
    "error.scoring_duplicate_item": ("评分项“{key}”重复", "the scoring item \u201c{key}\u201d appears twice"),
    "error.scoring_negative_cap": ("评分项“{key}”的上限不能为负", "the cap of \u201c{key}\u201d cannot be negative"),
    "field.items": ("评分项", "items"),
    "scoring.item.attendance.late_short": ("迟到 10 分钟以内", "late by up to 10 minutes"),
    "scoring.item.attendance.late_long": ("迟到超过 10 分钟", "late by more than 10 minutes"),
    "scoring.item.attendance.early_short": ("早退 10 分钟以内", "left up to 10 minutes early"),
    "scoring.item.attendance.early_long": ("早退超过 10 分钟", "left more than 10 minutes early"),
    "scoring.item.attendance.missed_punch": ("缺卡(漏打卡)", "missed punch"),
    "scoring.item.attendance.absent_half": ("旷工半天", "absent half a day"),
    "scoring.item.attendance.absent_day": ("旷工一天", "absent a whole day"),
    "scoring.item.video.off_post": ("离岗超过 15 分钟", "off post for more than 15 minutes"),
})
