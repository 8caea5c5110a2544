#!/usr/bin/env bash
# System packages the test suite drives for real: Chromium (browser test), ffmpeg and GStreamer's RTSP
# server (camera tests), and a CJK font so that Chinese renders in screenshots, PDF and image output (without
# one, Chromium and the server draw every Chinese character as an empty box). Installed with apt-get when we are root and something is missing; otherwise we
# say what is missing, and the tests that need it skip with that reason.
set -u
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
if ! /usr/bin/python3 -c 'import gi; gi.require_version("GstRtspServer", "1.0")' >/dev/null 2>&1; then
  need+=(python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-rtsp gstreamer1.0-plugins-base gstreamer1.0-plugins-good
         gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav)
fi
command -v ip >/dev/null 2>&1 || need+=(iproute2)
if ! command -v fc-list >/dev/null 2>&1 || [ -z "$(fc-list :lang=zh family 2>/dev/null)" ]; then
  need+=(fontconfig fonts-noto-cjk)
fi
# PDF reports embed a TrueType CJK font (reportlab reads TrueType outlines, not Noto's CFF ones).
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "system-deps: missing ${need[*]} (run as root: apt-get install ${need[*]}); tests needing them will skip" >&2
  exit 0
fi
echo "system-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
