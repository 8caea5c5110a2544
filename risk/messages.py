"""zh-CN and English texts of the risk register."""

from supervision.i18n import add_messages, has_message

add_messages(
    {
        # errors
        "risk.error.unknown_criteria": (
            "没有版本为“{version}”的定级标准",
            "no grading criteria of version \u201c{version}\u201d",
        ),
        "risk.error.has_history": (
            "“{code}”已有复核或检查记录,不能删除,请改为撤销或停用",
            "\u201c{code}\u201d has reviews or checks and cannot be deleted; retire or deactivate it",
        ),
        "risk.error.future_date": ("日期不能晚于今天", "cannot be later than today"),
        "risk.error.review_before_last": (
            "复核日期不能早于上次复核({last})",
            "cannot be before the last review ({last})",
        ),
        "risk.error.point_retired": ("风险点“{code}”已撤销", "the risk point \u201c{code}\u201d is retired"),
        "risk.error.regrade_needs_level": (
            "重新定级须给出与现等级不同的新等级",
            "a re-grading needs a new level different from the current one",
        ),
        "risk.error.level_change_is_regrade": (
            "改变等级须选择“调整等级”",
            "changing the level needs the outcome \u201cre-graded\u201d",
        ),
        "risk.error.level": ("风险等级须为一级、二级或三级", "the level must be 1, 2 or 3 (一级/二级/三级)"),
        "risk.error.choice": ("取值须为:{choices}", "must be one of: {choices}"),
        "risk.error.workbook_empty": (
            "工作簿中没有任何风险点或措施",
            "the workbook holds no risk points or measures",
        ),
        "risk.error.workbook_too_many": ("行数过多(最多 {max} 行)", "too many rows (at most {max})"),
        "risk.error.date": ("日期格式应为 YYYY-MM-DD", "must be a date as YYYY-MM-DD"),
        "risk.error.no_demo_posts": (
            "没有演示岗位,请先生成演示组织",
            "no demo posts: seed the demo organisation first",
        ),
        # kinds
        "kind.risk_point": ("廉政风险点", "risk point"),
        "kind.countermeasure": ("防控措施", "countermeasure"),
        "kind.risk_evidence": ("检查佐证材料", "check evidence"),
        "kind.risk_reminder": ("风险提醒", "risk reminder"),
        "kind.risk_criteria": ("定级标准", "grading criteria"),
        # enumerations
        "risk.category.moral": ("思想道德", "Moral and ethical"),
        "risk.category.duty": ("岗位职责", "Post duties"),
        "risk.category.system": ("制度机制", "Rules and mechanisms"),
        "risk.category.process": ("业务流程", "Business process"),
        "risk.category.external": ("外部环境", "External environment"),
        "risk.level.1": ("一级", "Level 1 (high)"),
        "risk.level.2": ("二级", "Level 2 (medium)"),
        "risk.level.3": ("三级", "Level 3 (low)"),
        "risk.measure_type.regulation": ("制度", "Regulation"),
        "risk.measure_type.process": ("流程", "Process"),
        "risk.measure_type.technology": ("技术", "Technology"),
        "risk.measure_type.education": ("教育", "Education"),
        "risk.measure_type.supervision": ("监督", "Supervision"),
        "risk.frequency.weekly": ("每周", "Weekly"),
        "risk.frequency.monthly": ("每月", "Monthly"),
        "risk.frequency.quarterly": ("每季度", "Quarterly"),
        "risk.frequency.half_yearly": ("每半年", "Half-yearly"),
        "risk.frequency.yearly": ("每年", "Yearly"),
        "risk.result.effective": ("有效", "Effective"),
        "risk.result.partly": ("部分有效", "Partly effective"),
        "risk.result.not_effective": ("无效", "Not effective"),
        "risk.outcome.confirmed": ("维持", "Confirmed"),
        "risk.outcome.regraded": ("调整等级", "Re-graded"),
        "risk.outcome.revised": ("修订", "Revised"),
        "risk.outcome.retired": ("撤销", "Retired"),
        "risk.trigger.schedule": ("定期复核", "Scheduled"),
        "risk.trigger.duties_changed": ("岗位职责变化", "Duties changed"),
        "risk.trigger.incidents": ("事件信号", "Incident signal"),
        "risk.trigger.import": ("台账导入", "Imported ledger"),
        "risk.trigger.other": ("其他", "Other"),
        "risk.flag.review_due": ("即将复核", "Review due soon"),
        "risk.flag.review_overdue": ("复核逾期", "Review overdue"),
        "risk.flag.duties_changed": ("岗位职责已变化", "Post duties changed"),
        "risk.flag.measures_failing": ("措施全部逾期或无效", "All measures overdue or not effective"),
        "risk.flag.no_measures": ("无防控措施", "No countermeasures"),
        "risk.flag.regrade": ("建议重新定级", "Re-grading suggested"),
        "risk.flag.check_due": ("即将检查", "Check due soon"),
        "risk.flag.check_overdue": ("检查逾期", "Check overdue"),
        "risk.flag.not_effective": ("上次检查无效", "Last check not effective"),
        "risk.reminder.review_due": ("风险点即将到期复核", "Risk point review falls due"),
        "risk.reminder.review_overdue": ("风险点复核已逾期", "Risk point review overdue"),
        "risk.reminder.duties_changed": (
            "岗位职责变化,风险点需复核",
            "Post duties changed: review the risk point",
        ),
        "risk.reminder.check_due": ("防控措施即将到期检查", "Countermeasure check falls due"),
        "risk.reminder.check_overdue": ("防控措施检查已逾期", "Countermeasure check overdue"),
        "risk.reminder.regrade": (
            "关联事件达到阈值,建议重新定级",
            "Incidents reached the threshold: consider re-grading",
        ),
        "risk.no_department": ("综合窗口及未归属部门", "Comprehensive window / no department"),
        # workbook
        "risk.sheet.points": ("风险点", "Risk points"),
        "risk.sheet.measures": ("防控措施", "Countermeasures"),
        "risk.sheet.help": ("填写说明", "Instructions"),
    }
)

# Field labels are one catalogue for all packages (supervision.errors looks up "field.<name>"), and
# add_messages refuses a key registered twice with different texts. Only names no other package is likely
# to use are registered here; generic ones (level, category, content, outcome, result) are left to the
# catalogue as it stands, so the import order of the domains can never make one of them fail.
_FIELDS = {
    "field.manifestation": ("表现形式", "How the risk shows"),
    "field.grading_basis": ("定级依据", "Grading basis"),
    "field.criteria_version": ("定级标准版本", "Grading criteria version"),
    "field.process_step": ("办理环节", "Process step"),
    "field.direct_responsible_id": ("直接责任人", "Directly responsible"),
    "field.department_responsible_id": ("部门责任人", "Department responsible"),
    "field.leader_responsible_id": ("责任领导", "Responsible leader"),
    "field.direct_responsible_code": ("直接责任人工号", "Directly responsible (staff code)"),
    "field.department_responsible_code": ("部门责任人工号", "Department responsible (staff code)"),
    "field.leader_responsible_code": ("责任领导工号", "Responsible leader (staff code)"),
    "field.measure_ids": ("防控措施", "Countermeasures"),
    "field.point_ids": ("风险点", "Risk points"),
    "field.measure_type": ("措施类型", "Measure type"),
    "field.owner_id": ("措施责任人", "Owner"),
    "field.owner_code": ("措施责任人工号", "Owner's staff code"),
    "field.check_frequency": ("检查频次", "Check frequency"),
    "field.check_method": ("检查方式", "How it is checked"),
    "field.checked_on": ("检查日期", "Check date"),
    "field.checker_id": ("检查人", "Checker"),
    "field.checker_name": ("检查人", "Checker"),
    "field.reviewed_on": ("复核日期", "Review date"),
    "field.effective_from": ("施行日期", "In force from"),
    "field.point_codes": ("关联风险点编码", "Risk point codes"),
    "field.last_reviewed_on": ("上次复核日期", "Last review date"),
    "field.last_checked_on": ("上次检查日期", "Last check date"),
    "field.last_result": ("上次检查结果", "Last check result"),
}
add_messages({k: v for k, v in _FIELDS.items() if not has_message(k)})
