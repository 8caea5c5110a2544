"""zh-CN and English texts of event evidence (issue 13 §6)."""

from supervision.i18n import add_messages

add_messages({
    "kind.evidence": ("证据文件", "evidence file"),
    "camera.alert.evidence_disk_full": ("证据存储空间不足,已停止录制新片段", "Evidence disk nearly full: no new clips"),
    "audit_action.evidence.download": ("下载事件证据", "Event evidence downloaded"),
    "audit_action.evidence.export": ("导出证据包", "Evidence bundle exported"),
    "audit_action.evidence.verify": ("校验证据链", "Evidence chain verified"),
    "evidence.title": ("证据", "Evidence"),
    "evidence.none": ("暂无证据(事件发生时摄像机未在采集,或证据已过保存期)",
                      "No evidence (the camera was not being read when the event opened, or it was purged)"),
    "evidence.still.start": ("开始画面", "At the start"),
    "evidence.still.middle": ("中间画面", "In the middle"),
    "evidence.still.end": ("结束画面", "At the end"),
    "evidence.clip": ("视频片段(事件前后各 20 秒)", "Clip (20 s before and after)"),
    "evidence.altered": ("证据已被改动", "evidence altered"),
    "evidence.purged": ("已过保存期删除", "purged after the retention period"),
    "evidence.legal_hold": ("证据保全中(不会到期删除)", "Under legal hold (never purged)"),
    "evidence.sha256": ("SHA-256 校验值", "SHA-256"),
    "evidence.export": ("导出证据包(ZIP)", "Export the evidence bundle (ZIP)"),
    "evidence.download": ("下载", "Download"),
    "evidence.no_video": ("浏览器无法播放该视频,请下载后查看", "Your browser cannot play this video; download it"),
    "evidence.problem.missing": ("证据记录缺失(链条中断)", "an evidence record is missing (the chain is cut)"),
    "evidence.problem.unlinked": ("证据记录与前一条不衔接", "does not link to the record before it"),
    "evidence.problem.row_altered": ("证据记录内容被改动", "the record was altered"),
    "evidence.problem.file_missing": ("证据文件缺失", "the file is missing"),
    "evidence.problem.file_altered": ("证据文件内容与校验值不符", "the file no longer matches its hash"),
    "evidence.thumbnail": ("缩略图", "Thumbnail"),
    "video_event.filter": ("筛选", "Filter"),
    "video_event.filter.all": ("全部", "All"),
    "video_event.site": ("服务中心", "Centre"),
})
