"""The CJK font every PDF we write embeds: reports (the monthly bulletin), certificates, exports.

reportlab embeds TrueType outlines only, so the font is a TrueType one (WenQuanYi Micro Hei, installed by
scripts/system-deps.sh as fonts-wqy-microhei); `SUPERVISION_PDF_FONT` names another .ttf/.ttc file.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

FONT_NAME = "SupervisionCJK"
_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)


class FontMissing(RuntimeError):
    """No CJK TrueType font on this machine: a PDF would print every Chinese character as a box."""


def font_path() -> Path:
    configured = os.environ.get("SUPERVISION_PDF_FONT", "").strip()
    for candidate in ((configured,) if configured else ()) + _CANDIDATES:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise FontMissing("no CJK TrueType font: install fonts-wqy-microhei or set SUPERVISION_PDF_FONT")


@cache
def cjk_font() -> str:
    """Register the CJK font with reportlab once and return the name to draw with."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    path = font_path()
    kwargs = {"subfontIndex": 0} if path.suffix.lower() == ".ttc" else {}
    pdfmetrics.registerFont(TTFont(FONT_NAME, str(path), **kwargs))
    return FONT_NAME
