"""Every text a page asks for exists in Chinese and English."""

from __future__ import annotations

import re
from pathlib import Path

import web.app  # registers every package's texts (and is used below)
from supervision.i18n import _catalog, has_message
from web.composition import router_modules

TEMPLATES = Path(web.app.__file__).parent / "templates"
LITERAL_KEY = re.compile(r"""\bt\(\s*['"]([a-z_]+\.[A-Za-z0-9_.]+)['"]""")


def test_every_literal_key_in_templates_is_translated() -> None:
    router_modules()
    missing = set()
    for template in TEMPLATES.rglob("*.html"):
        for key in LITERAL_KEY.findall(template.read_text(encoding="utf-8")):
            if key.endswith((".", "_")):
                continue  # a prefix completed at run time ('kind.' ~ value)
            if not has_message(key):
                missing.add(f"{template.relative_to(TEMPLATES)}: {key}")
    assert sorted(missing) == []


def test_every_text_has_both_languages() -> None:
    router_modules()
    empty = [key for key, (zh, en) in _catalog.items() if not zh.strip() or not en.strip()]
    assert empty == []
    # Chinese first: the zh-CN text of a UI or error message is Chinese, not English left untranslated.
    untranslated = [key for key, (zh, en) in _catalog.items()
                    if key.startswith(("ui.", "error.")) and zh == en and re.search(r"[a-z]{4}", zh)]
    assert untranslated == []
