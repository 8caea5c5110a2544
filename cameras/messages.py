"""zh-CN and English texts of the camera side."""

from supervision.i18n import add_messages

add_messages({
    "kind.camera": (
        "摄像机",
        "camera",
    ),
    "kind.camera_alert": (
        "视频告警",
        "video alert",
    ),
    "field.host": (
        "地址",
        "address",
    ),
    "field.port": (
        "端口",
        "port",
    ),
    "field.main_profile": (
        "主码流",
        "main stream",
    ),
    "field.analysis_profile": (
        "分析码流",
        "analysis stream",
    ),
    "field.stream_uri_override": (
        "视频流地址",
        "stream URI",
    ),
    "camera.error.auth_failed": (
        "用户名或密码错误,摄像机拒绝了登录",
        "The camera refused the user name or password",
    ),
    "camera.error.unreachable": (
        "无法连接到 {host}:{port}(地址或端口错误,或设备未通电/不在网络中)",
        "Cannot connect to {host}:{port} (wrong address or port, or the device is off or "
        "not on the network)",
    ),
    "camera.error.timeout": (
        "{host}:{port} 在 {seconds} 秒内没有应答(端口开着但设备不响应)",
        "{host}:{port} did not answer within {seconds} s (the port is open but the "
        "device does not respond)",
    ),
    "camera.error.not_onvif": (
        "{host}:{port} 不是 ONVIF 设备(或未启用 ONVIF,请在摄像机网页中开启)",
        "{host}:{port} is not an ONVIF device (or ONVIF is switched off in the camera's "
        "web page)",
    ),
    "camera.error.malformed": (
        "设备返回了无法解析的 XML,可能固件有缺陷",
        "The device answered with malformed XML (a firmware fault)",
    ),
    "camera.error.soap_fault": (
        "设备拒绝了请求:{reason}",
        "The device refused the request: {reason}",
    ),
    "camera.error.clock": (
        "摄像机拒绝了登录,且不登录就不告知其时间:多半是摄像机时钟不准(请在摄像机上开启 NTP 校时或校正时间),"
        "也请核对用户名和密码",
        "The camera refused the login and tells its time only after one: its clock is most likely off (switch "
        "on NTP in the camera or set its time), and check the user name and password",
    ),
    "camera.stream_uri_hint": (
        "可选。没有 ONVIF 的编码器或录像机通道:填写 rtsp://用户名:密码@地址:端口/路径(也可为 rtsps、http、https),"
        "将直接读取该视频流,不再通过 ONVIF 询问设备",
        "Optional. An encoder or NVR channel without ONVIF: give rtsp://USER:PASSWORD@HOST:PORT/path (or rtsps, "
        "http, https); that stream is read directly and the device is not asked over ONVIF",
    ),
    "camera.error.stream_scheme": (
        "视频流地址只能以 rtsp://、rtsps://、http:// 或 https:// 开头",
        "The stream URI must start with rtsp://, rtsps://, http:// or https://",
    ),
    "camera.error.no_h264": (
        "摄像机没有 H.264 码流配置,请在摄像机中把至少一个码流设为 H.264",
        "The camera has no H.264 profile; set at least one stream to H.264 in the camera",
    ),
    "camera.error.no_profiles": (
        "摄像机没有返回任何媒体配置",
        "The camera reported no media profiles",
    ),
    "camera.error.unknown_profile": (
        "设备没有这个码流配置",
        "the device has no such profile",
    ),
    "camera.error.device": (
        "设备错误:{reason}",
        "Device error: {reason}",
    ),
    "camera.error.no_frame": (
        "暂无该摄像机的画面",
        "No picture from this camera yet",
    ),
    "camera.error.worker_unreachable": (
        "读取该摄像机的采集进程无法访问",
        "The ingest worker reading this camera cannot be reached",
    ),
    "camera.error.duplicate": (
        "地址 {host}:{port} 已登记为摄像机“{name}”",
        "{host}:{port} is already registered as the camera “{name}”",
    ),
    "camera.stream.open_failed": (
        "无法打开视频流",
        "Cannot open the stream",
    ),
    "camera.stream.no_packets": (
        "视频流中断",
        "The stream stopped",
    ),
    "camera.stream.bad_data": (
        "视频流数据无法解码",
        "The stream sends data that cannot be decoded",
    ),
    "camera.error.frame_stale": (
        "画面已过期:摄像机离线,最后一帧拍摄于 {at}({age} 秒前)",
        "The picture is stale: the camera is offline; its last frame is from {at} ({age} s ago)",
    ),
    "camera.stream.worker_silent": (
        "采集进程已停止上报(视为离线)",
        "The ingest worker reading this camera stopped reporting (taken as offline)",
    ),
    "camera.stream.no_uri": (
        "没有可用的视频流地址(请重新探测)",
        "No stream URI (probe the camera again)",
    ),
    "camera.status.unknown": (
        "未知",
        "unknown",
    ),
    "camera.status.online": (
        "在线",
        "online",
    ),
    "camera.status.offline": (
        "离线",
        "offline",
    ),
    "camera.status.frozen": (
        "画面冻结",
        "frozen",
    ),
    "camera.alert.offline": (
        "摄像机离线",
        "Camera offline",
    ),
    "camera.alert.frozen": (
        "摄像机画面冻结",
        "Camera picture frozen",
    ),
    "camera.slow_keyframes": (
        "关键帧间隔 {seconds} 秒,分析频率低于每秒一次;请把摄像机的 I 帧间隔设为不超过帧率",
        "Key frames every {seconds} s: analysis runs slower than once a second; set the "
        "camera's I-frame interval to at most its frame rate",
    ),
    "camera.clock_offset": (
        "摄像机时钟偏差 {seconds} 秒",
        "Camera clock is {seconds} s off",
    ),
})

# Pages of the camera side.
add_messages({
    "camera.nav": ("视频监控", "Cameras"),
    "camera.wall": ("实时画面墙", "Live wall"),
    "camera.wall_scope_all": ("全部管辖范围", "Whole jurisdiction"),
    "camera.wall_hint": ("每 {seconds} 秒刷新一次画面;点击画面查看实时视频(查看记录将写入审计日志)",
                         "Stills refresh every {seconds} s; click one for the live video (viewing is "
                         "written to the audit log)"),
    "camera.list": ("摄像机与运行状态", "Cameras and their health"),
    "camera.register": ("登记摄像机", "Register a camera"),
    "camera.discover": ("查找摄像机", "Find cameras"),
    "camera.alerts": ("视频告警", "Video alerts"),
    "camera.alerts_open": ("未恢复的告警", "Open alerts"),
    "camera.alerts_all": ("全部告警(含已恢复)", "All alerts (including cleared)"),
    "camera.no_cameras": ("此范围内没有摄像机", "No cameras here"),
    "camera.no_alerts": ("没有未恢复的视频告警", "No open video alerts"),
    "camera.no_picture": ("暂无画面", "No picture yet"),
    "camera.frame_stale": ("画面已过期", "Stale picture"),
    "camera.live": ("实时视频", "Live video"),
    "camera.live_audited": ("您正在查看实时视频;查看人、摄像机和起止时间将记入审计日志。",
                            "You are watching live video; who watched which camera from when to when "
                            "is written to the audit log."),
    "camera.live_ended": ("实时视频已结束或暂不可用,显示的是最近一帧画面。",
                          "The live video ended or is not available; showing the latest still."),
    "camera.back_to_wall": ("返回画面墙", "Back to the wall"),
    "camera.details": ("设备详情", "Device details"),
    "camera.status": ("状态", "Status"),
    "camera.status_since": ("状态开始于", "Status since"),
    "camera.fps": ("接收帧率", "Frames/s received"),
    "camera.analysed_fps": ("分析帧率", "Frames/s analysed"),
    "camera.last_frame": ("最近一帧", "Last frame"),
    "camera.resolution": ("分辨率", "Resolution"),
    "camera.codec": ("编码", "Codec"),
    "camera.bitrate": ("码率 (kbit/s)", "Bitrate (kbit/s)"),
    "camera.reconnects": ("重连次数", "Reconnects"),
    "camera.last_error": ("最近错误", "Last error"),
    "camera.worker": ("采集进程", "Ingest worker"),
    "camera.keyframe_interval": ("关键帧间隔 (秒)", "Key-frame interval (s)"),
    "camera.manufacturer": ("厂商", "Manufacturer"),
    "camera.model": ("型号", "Model"),
    "camera.firmware": ("固件", "Firmware"),
    "camera.serial": ("序列号", "Serial number"),
    "camera.profiles": ("媒体配置(码流)", "Media profiles (streams)"),
    "camera.profile_token": ("配置", "Profile"),
    "camera.gop": ("GOP", "GOP"),
    "camera.stream_uri": ("RTSP 地址", "RTSP URI"),
    "camera.snapshot_uri": ("抓图地址", "Snapshot URI"),
    "camera.probed_at": ("最近探测", "Last probed"),
    "camera.probe": ("询问设备", "Ask the device"),
    "camera.probe_again": ("重新探测", "Probe again"),
    "camera.probed": ("已重新探测设备并更新信息", "The device was asked again; its details are updated"),
    "camera.probe_hint": ("先填写地址、端口、用户名和密码并“询问设备”,系统通过 ONVIF 读取设备信息和码流,"
                          "再选择主码流和分析码流后登记。",
                          "Fill in address, port, user and password and “Ask the device”: the system reads "
                          "its details and streams over ONVIF; then pick the main and analysis streams "
                          "and register."),
    "camera.device_answered": ("设备已应答", "The device answered"),
    "camera.save_register": ("登记", "Register"),
    "camera.password_kept": ("密码已加密保存在本表单中,无需重新输入",
                             "The password is kept (encrypted) in this form; no need to type it again"),
    "camera.password_unchanged": ("留空表示不修改", "Leave empty to keep it"),
    "camera.enabled": ("启用采集", "Ingest on"),
    "camera.registered_as": ("已登记为 #{id}", "Registered as #{id}"),
    "camera.discover_hint": ("通过 WS-Discovery 在本地网段组播查找 ONVIF 设备(组播不跨路由器;其他网段的"
                             "摄像机请填写其 IP 地址单独探测)。",
                             "Finds ONVIF devices by WS-Discovery multicast on the local network (multicast "
                             "does not cross routers: for a camera on another subnet give its IP address)."),
    "camera.discover_target": ("查找范围", "Where to look"),
    "camera.discover_multicast": ("本地网段(组播)", "The local network (multicast)"),
    "camera.discover_address": ("或单个 IP 地址", "or one IP address"),
    "camera.discover_run": ("开始查找", "Search"),
    "camera.discover_found": ("找到 {count} 台设备", "{count} devices answered"),
    "camera.discover_none": ("没有设备应答", "No device answered"),
    "camera.xaddrs": ("服务地址", "Service address"),
    "camera.hardware": ("硬件", "Hardware"),
    "camera.error.bad_target": ("请填写 IP 地址,或选择本地网段", "Give an IP address or pick the local network"),
    "camera.alert_kind": ("告警", "Alert"),
    "camera.alert_started": ("开始", "Started"),
    "camera.alert_cleared": ("恢复", "Cleared"),
    "camera.alert_open": ("未恢复", "open"),
    "camera.camera": ("摄像机", "Camera"),
    "camera.panel": ("视频监控:告警与画面", "Video: alerts and live halls"),
    "camera.counts": ("在线 {online} · 离线 {offline} · 冻结 {frozen} · 未知 {unknown}",
                      "online {online} · offline {offline} · frozen {frozen} · unknown {unknown}"),
    "camera.open_wall": ("打开实时画面墙", "Open the live wall"),
    "camera.all_alerts": ("查看全部告警", "See all alerts"),
    "camera.demo_hint": ("演示用虚拟摄像机", "A virtual demo camera"),
    "field.target": ("查找范围", "where to look"),
    # --- zones and presence (issue 13) ---
    "kind.zone": ("区域", "zone"),
    "audit_action.zone.reference": ("拍摄空岗参考图", "took the empty-post still"),
    "field.polygon": ("区域轮廓", "zone outline"),
    "field.occupied_after_seconds": ("确认在岗所需秒数", "seconds to confirm presence"),
    "field.vacant_after_seconds": ("确认离岗所需秒数", "seconds to confirm absence"),
    "field.queue_alert_count": ("排队告警人数", "queue alert count"),
    "zone.error.too_few_points": ("区域至少需要 3 个点", "A zone needs at least 3 points"),
    "zone.error.point_shape": ("第 {point} 个点应为 (x, y) 两个数", "Point {point} must be two numbers (x, y)"),
    "zone.error.point_outside": (
        "第 {point} 个点超出画面(坐标须在 0 到 1 之间)",
        "Point {point} lies outside the picture (coordinates go from 0 to 1)",
    ),
    "zone.error.point_repeated": ("第 {point} 个点与前一个点重合", "Point {point} repeats the point before it"),
    "zone.error.self_intersecting": (
        "区域的边自相交(第 {point} 个点起的边与另一条边交叉)",
        "The zone's edges cross (the edge from point {point} crosses another)",
    ),
    "zone.error.too_small": ("区域太小,容纳不下一个人", "The zone is too small to hold a person"),
    "zone.error.post_needed": ("岗位区域须关联一个岗位或窗口", "A post zone must name its post or window"),
    "zone.error.hall_needed": ("排队区域须关联一个大厅", "A queue zone must name the hall it serves"),
    "zone.error.bad_points": (
        "坐标格式不正确:每行一个点,写作 x, y(0 到 1 之间)",
        "Coordinates not understood: one point per line, as x, y (from 0 to 1)",
    ),
    "zone.title": ("分析区域", "Analysis zones"),
    "zone.picture": ("画面", "Picture"),
    "zone.still_alt": ("{name} 的最新画面", "The latest picture of {name}"),
    "zone.no_still": ("暂无画面,仍可按坐标绘制", "No picture yet; zones can still be drawn by coordinates"),
    "zone.draw_help": (
        "在画面上依次点击区域的各个角点;也可以在右侧按“x, y”逐行填写坐标(0 到 1),用键盘即可完成。",
        "Click the corners of the zone on the picture in turn, or type the points as \"x, y\" one per line "
        "(0 to 1) in the form: the keyboard alone will do.",
    ),
    "zone.footage_note": (
        "坐标按画面宽高的比例保存,摄像机更换分辨率后区域保持不变。",
        "Points are kept as shares of the picture's width and height: zones stay put when the resolution changes.",
    ),
    "zone.new": ("新建区域", "New zone"),
    "zone.edit": ("修改区域", "Edit zone"),
    "zone.edit_button": ("修改", "Edit"),
    "zone.cancel": ("取消", "Cancel"),
    "zone.actions": ("操作", "Actions"),
    "zone.points_help": ("每行一个点:x, y", "one point per line: x, y"),
    "zone.undo_point": ("撤销上一个点", "Undo the last point"),
    "zone.clear_points": ("清除所有点", "Clear all points"),
    "zone.list": ("本摄像机的区域", "This camera's zones"),
    "zone.none": ("尚未绘制区域", "No zones drawn yet"),
    "zone.presence": ("在岗状态", "Presence"),
    "zone.since": ("起始时间", "Since"),
    "zone.manage_link": ("分析区域", "Analysis zones"),
    "zone.kind.post": ("岗位区域", "post zone"),
    "zone.kind.queue": ("排队区域", "queue zone"),
    "zone.kind.entrance": ("入口计数线", "entrance line"),
    "presence.occupied": ("在岗", "at the post"),
    "presence.vacant": ("离岗", "away"),
    "presence.unknown": ("未知", "unknown"),
    "zone.reference": ("空岗参考图", "Empty-post still"),
    "zone.reference_take": ("拍摄空岗参考图", "Take the empty-post still"),
    "zone.reference_help": (
        "在岗位无人时拍摄:以当前画面为空岗基准,分析开始时已在岗的人员不会被误认为背景。",
        "Take it while nobody is at the post: the current picture becomes the empty post, so a person already "
        "there when analysis starts is not taken for the background.",
    ),
    "zone.reference_none": ("未拍摄(状态在确认空岗前为未知)", "none (the state stays unknown until the post is seen empty)"),
    "zone.reference_saved": ("已保存空岗参考图", "The empty-post still is saved"),
    "zone.error.no_picture": ("未能读取摄像机当前画面", "The camera's current picture could not be read"),
    "zone.error.reference_post_only": ("只有岗位区域需要空岗参考图", "Only a post zone takes an empty-post still"),
    "video_event.title": ("视频事件", "Video events"),
    "video_event.kind.post_vacant": ("离岗超时", "Post left vacant"),
    "video_event.status.open": ("进行中", "going on"),
    "video_event.status.pending_review": ("待审核", "pending review"),
    "video_event.status.closed": ("已审核", "reviewed"),
    "video_event.none": ("暂无视频事件", "No video events"),
    "video_event.all": ("全部事件", "All events"),
    "kind.video": ("视频事件", "video event"),
    "ledger_reason.video_off_post": ("视频核实离岗 {minutes} 分钟:{note}", "Off post for {minutes} minutes on video: {note}"),
    "video_event.error.reviewed": ("该事件已审核", "This event has been reviewed already"),
    "video_event.error.still_open": ("事件仍在进行中,人员回岗后再审核",
                                     "The event is still going on: review it once the person is back"),
    "video_event.error.no_staff": ("该岗位未配备人员,无法计分,请驳回或先配置人员",
                                   "Nobody is assigned to this post: dismiss it or assign the post first"),
    "video_event.detail": ("视频事件详情", "Video event"),
    "video_event.review": ("审核", "Review"),
    "video_event.outcome": ("审核结论", "Outcome"),
    "video_event.outcome.confirmed": ("确认(计入考核)", "Confirmed (counts towards the score)"),
    "video_event.outcome.dismissed": ("驳回(误报)", "Dismissed (false alarm)"),
    "video_event.reason": ("理由", "Reason"),
    "video_event.submit": ("提交审核", "Submit the review"),
    "video_event.reviewed_at": ("审核时间", "Reviewed at"),
    "video_event.ledger_link": ("考核记录", "Ledger entry"),
    "video_event.open_link": ("查看", "Open"),
    "video_event.open_only": ("仅看进行中", "Only those going on"),
    "video_event.status": ("状态", "Status"),
    "video_event.started": ("开始", "Started"),
    "video_event.ended": ("结束", "Ended"),
    "video_event.minutes": ("时长(分钟)", "Minutes"),
    "video_event.post": ("岗位", "Post"),
    "video_event.staff": ("人员", "Staff member"),
    "video_event.camera": ("摄像机", "Camera"),
    "video_event.help": (
        "办公时间内(工作日、午休除外、人员未请假或出差)岗位区域无人超过设定分钟数时生成;经监察人员审核确认前不计分。",
        "Opened when a post zone stays empty longer than the set minutes in office hours (a working day, outside "
        "lunch, its staff member not on leave or a trip); nothing counts towards a score before an officer confirms.",
    ),
    # --- tamper, queue while vacant, MQTT (issue 13 §4, §5, §8) ---
    "camera.alert.tamper": ("摄像机被遮挡或移动", "Camera tampered with"),
    "camera.tamper.covered": ("镜头被遮挡(画面过暗或单一)", "Lens covered (the picture is dark or uniform)"),
    "camera.tamper.blurred": ("画面模糊(失焦或镜头被涂抹)", "Picture blurred (out of focus or smeared)"),
    "camera.tamper.turned_away": ("摄像机被转向(画面与参考图不符)",
                                  "Camera turned away (the scene no longer matches the reference still)"),
    "video_event.kind.tamper": ("摄像机遮挡/移动", "Camera tampered with"),
    "video_event.kind.queue_vacant": ("有人排队但窗口空岗", "Queue while a window is vacant"),
    "video_event.outcome.confirmed_finding": ("确认(属实,不计个人分)", "Confirmed (true; no one's score changes)"),
    "tamper.title": ("防遮挡检测", "Tamper checks"),
    "tamper.state": ("当前状态", "Now"),
    "tamper.none": ("正常", "normal"),
    "tamper.reference": ("场景参考图", "Reference still"),
    "tamper.reference_none": ("未拍摄(只检测遮挡,不检测模糊和转向)",
                              "none (only a covered lens is found, not blur or a turned camera)"),
    "tamper.reference_take": ("重新拍摄场景参考图", "Take the reference still again"),
    "tamper.reference_saved": ("已保存场景参考图,检测将以此为准", "The reference still is saved; the checks now "
                               "compare with it"),
    "tamper.help": (
        "镜头被遮挡(过暗或画面单一)、失焦模糊、或被转向(画面与参考图不符)持续数秒后告警,并生成待审核的视频事件。"
        "摄像机按计划调整位置后,请在画面正常时重新拍摄参考图。",
        "A lens covered (dark or uniform), blurred, or a camera turned away (the scene no longer matches the "
        "reference still) for a few seconds raises an alert and a video event to review. After the camera was "
        "moved on purpose, take the reference still again while the picture is right.",
    ),
    "audit_action.camera.tamper_reference": ("拍摄场景参考图", "took the camera's reference still"),
    "queue.title": ("排队区域", "Queue zones"),
    "queue.count": ("当前人数", "People now"),
    "queue.count_unknown": ("未统计", "not counted"),
    "queue.vacant_windows": ("空岗窗口", "Vacant windows"),
    "queue.alert": ("告警", "Alert"),
    "queue.help": (
        "排队区域人数达到告警人数、且该区域服务的窗口中至少一个空岗(办公时间内)时告警,任一条件结束即关闭。"
        "人数为画面中人形区域的估计,多人重叠时偏少。",
        "An alert opens when the people counted in the queue zone reach its alert count while at least one window "
        "it serves is vacant (in office hours), and closes when either ends. The count is an estimate from the "
        "shapes in the picture: people who overlap count as fewer.",
    ),
})

# Review (issue 13 §7): the timeline, the keyboard, false alarms per zone; windows closed (§3).
add_messages({
    "kind.window_closure": ("窗口暂停服务记录", "window closure"),
    "audit_action.zone.threshold": ("调整岗位区域离岗阈值", "set a post zone's vacancy threshold"),
    "audit_action.window.close": ("设置窗口暂停服务", "closed a window for a while"),
    "audit_action.window.reopen": ("窗口提前恢复服务", "reopened a closed window"),
    "review.timeline": ("岗位当日在岗时间线", "The post's presence that day"),
    "review.timeline.desc": (
        "横轴为 {start}–{end};浅色底为办公时间,斜纹为午休,灰色为窗口暂停服务,绿色为在岗,红色为空岗,黑框为本事件。",
        "Across {start}–{end}: office hours shaded, lunch hatched, the window closed in grey, occupied green, "
        "vacant red, this event framed in black.",
    ),
    "review.timeline.none": ("当日没有在岗记录", "No presence recorded that day"),
    "review.timeline.spans": ("时间段", "Spans"),
    "review.state.occupied": ("在岗", "occupied"),
    "review.state.vacant": ("空岗", "vacant"),
    "review.state.unknown": ("未知", "unknown"),
    "review.state.closed": ("窗口暂停服务", "window closed"),
    "review.state.event": ("本事件", "this event"),
    "review.state.hours": ("办公时间", "office hours"),
    "review.state.lunch": ("午休", "lunch break"),
    "review.keys": ("键盘操作", "Keyboard"),
    "review.keys.help": (
        "c 确认(计入考核),d 驳回(误报);输入理由后按 Ctrl+Enter 提交;j / k 下一条 / 上一条待审核事件。",
        "c confirm (counts), d dismiss (false alarm); type the reason, then Ctrl+Enter submits; j / k next / "
        "previous event to review.",
    ),
    "review.next": ("下一条待审核", "Next to review"),
    "review.previous": ("上一条待审核", "Previous to review"),
    "review.false_alarms": ("误报统计", "False alarms"),
    "review.false_alarms.help": (
        "按岗位区域统计视频事件的审核结论;误报率高的区域可调高其离岗阈值(分钟,留空则用系统默认),调整留痕。",
        "Video events per post zone by outcome; where the false-alarm rate is high, raise that zone's vacancy "
        "threshold (minutes; empty: the system default). Every change is audited.",
    ),
    "review.zone": ("岗位区域", "Post zone"),
    "review.events": ("事件数", "Events"),
    "review.confirmed": ("确认", "Confirmed"),
    "review.dismissed": ("驳回(误报)", "Dismissed (false alarms)"),
    "review.pending": ("未审核", "Not reviewed"),
    "review.rate": ("误报率", "False-alarm rate"),
    "review.threshold": ("离岗阈值(分钟)", "Vacancy threshold (minutes)"),
    "review.threshold.default": ("默认", "default"),
    "review.threshold.own": ("本区域", "this zone's"),
    "review.threshold.save": ("保存阈值", "Save the threshold"),
    "review.none": ("暂无岗位区域", "No post zones"),
    "review.error.not_post_zone": ("只有岗位区域有离岗阈值", "Only a post zone has a vacancy threshold"),
    "window_closure.title": ("窗口暂停服务", "Windows closed"),
    "window_closure.nav": ("窗口暂停服务", "Windows closed"),
    "window_closure.help": (
        "窗口暂停服务期间(如系统升级、业务培训、窗口合并),该窗口岗位不判定离岗。设置与提前恢复均留痕。",
        "While a window is closed (a system upgrade, a training, windows merged for the day) its post is not "
        "watched for vacancy. Closing and reopening are audited.",
    ),
    "window_closure.window": ("窗口", "Window"),
    "window_closure.from": ("开始时间", "From"),
    "window_closure.to": ("结束时间", "To"),
    "window_closure.reason": ("原因", "Reason"),
    "window_closure.by": ("设置人", "Set by"),
    "window_closure.active": ("暂停中", "closed now"),
    "window_closure.add": ("设置暂停服务", "Close a window"),
    "window_closure.end": ("提前恢复服务", "Reopen now"),
    "window_closure.none": ("暂无暂停服务记录", "No window closures"),
    "window_closure.error.ends_before_start": ("结束时间须晚于开始时间", "must be later than the start"),
})
