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
        "摄像机时钟与服务器相差 {seconds} 秒,认证失败;请在摄像机上开启 NTP 校时",
        "The camera's clock is {seconds} s off the server's, so login failed; switch on "
        "NTP in the camera",
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
