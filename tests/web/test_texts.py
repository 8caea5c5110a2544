"""Every text a page asks for exists in Chinese and English."""

from __future__ import annotations

import re
from pathlib import Path

import web.app  # registers every package's texts (and is used below)
from supervision.i18n import _catalog, has_message, translate
from web.composition import router_modules
from web.labels import audit_action, ledger_kind, summary, workdays_left

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


def _audit_actions() -> set[str]:
    """Every audit action the code records: the literal third argument of audit.record/record_now, and the
    f-string families (`{kind.value}.create`, `work_order.{action.value}`) expanded over their enums."""
    import ast

    from complaints.workflow import Action as WorkOrderAction
    from supervision.org import OrgKind

    families = {"kind.value": [k.value for k in OrgKind], "action.value": [a.value for a in WorkOrderAction]}
    root = Path(web.app.__file__).parent.parent
    actions: set[str] = set()
    for package in ("supervision", "cameras", "risk", "complaints", "web"):
        for path in (root / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr in ("record", "record_now") and len(node.args) >= 3):
                    continue
                arg = node.args[2]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    actions.add(arg.value)
                elif isinstance(arg, ast.JoinedStr):
                    template = "".join(v.value if isinstance(v, ast.Constant) else "{" + ast.unparse(v.value) + "}"
                                       for v in arg.values)
                    for name, values in families.items():
                        if "{" + name + "}" in template:
                            actions.update(template.replace("{" + name + "}", v) for v in values)
    assert len(actions) > 40, actions
    return actions


def test_every_audit_action_has_a_label_in_both_languages() -> None:
    router_modules()
    unlabelled = {a for a in _audit_actions()
                  if any(audit_action(a, locale) in (translate("label.unknown_action", locale),)
                         for locale in ("zh-CN", "en"))}
    assert sorted(unlabelled) == []


def test_values_are_shown_by_their_labels() -> None:
    router_modules()
    assert audit_action("window.update", "zh-CN") == "窗口修改"
    assert audit_action("work_order.dispatch", "en") == "work order: dispatch"
    assert ledger_kind("bad_rating", "zh-CN") == "差评" and ledger_kind("complaint_upheld", "en") == "Complaint upheld"
    # Actors and sources need the reader: tests/web/test_trail.py.
    assert summary("GD20261123-0001 received→closed", "zh-CN") == "GD20261123-0001 受理→已办结"
    assert summary("bad_rating -2", "en") == "Bad rating -2"
    assert workdays_left(-16, "zh-CN") == "超期 16 个工作日"
    assert workdays_left(-16, "en") == "16 working day(s) overdue"
    assert workdays_left(3, "zh-CN") == "剩 3 个工作日" and workdays_left(0, "zh-CN") == "今日到期"
