from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from supervision.settings import get_settings
from tests.web.conftest import bearer, login
from web.app import create_app
from web.composition import seed_demo_everything


def test_admin_creates_a_window_through_the_form(logged_in: Callable[[str], tuple[TestClient, str]],
                                                 org_data: SimpleNamespace) -> None:
    client, csrf = logged_in("admin")
    response = client.post("/org/windows/new", data={
        "csrf_token": csrf, "code": "W-MZ", "name": "民政窗口", "number": "B02", "site_id": str(org_data.city),
        "hall_id": str(org_data.hall), "department_id": str(org_data.dept2),
    })
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert "民政窗口" in page.text and "已保存" in page.text


def test_a_bad_form_keeps_what_was_typed_and_names_the_field(logged_in: Callable[[str], tuple[TestClient, str]],
                                                             org_data: SimpleNamespace) -> None:
    client, csrf = logged_in("admin")
    response = client.post("/org/staff/new", data={
        "csrf_token": csrf, "code": "S777", "name": "孙八", "rank": "general", "employment": "contract",
        "site_id": str(org_data.county), "window_id": str(org_data.window), "phone": "12ab",
    })
    assert response.status_code == 422
    assert "该窗口属于其他站点" in response.text and "不是有效的电话号码" in response.text
    assert 'value="孙八"' in response.text and 'value="S777"' in response.text


def test_site_tree_page_and_list_filters(logged_in: Callable[[str], tuple[TestClient, str]],
                                         org_data: SimpleNamespace) -> None:
    client, _ = logged_in("officer")
    sites = client.get("/org/sites")
    assert sites.status_code == 200 and "城厢街道便民服务中心" in sites.text
    townships = client.get("/org/sites", params={"kind": "township"}).text
    table = townships[townships.index('data-testid="org-list"'):]
    assert "城厢街道便民服务中心" in table and "游仙区政务服务中心" not in table
    assert 'data-testid="new-site"' not in sites.text  # officers read the organisation, admins edit it


def test_revealing_a_phone_number_is_audited(logged_in: Callable[[str], tuple[TestClient, str]],
                                             org_data: SimpleNamespace) -> None:
    client, csrf = logged_in("admin")
    page = client.post(f"/org/staff/{org_data.staff}/phone", data={"csrf_token": csrf})
    assert "13800001111" in page.text
    audit = client.get("/admin/audit", params={"action": "view.staff_phone"})
    assert "view.staff_phone" in audit.text


def test_manager_records_and_reverses_a_ledger_entry(logged_in: Callable[[str], tuple[TestClient, str]],
                                                     org_data: SimpleNamespace) -> None:
    client, csrf = logged_in("manager")
    added = client.post("/ledger", data={"csrf_token": csrf, "staff_id": str(org_data.staff), "day": "2026-11-20",
                                         "kind": "late", "points": "-1", "reason": "迟到 5 分钟"})
    assert added.status_code == 303
    page = client.get("/ledger")
    assert "迟到 5 分钟" in page.text
    bad = client.post("/ledger", data={"csrf_token": csrf, "day": "2026-11-20", "kind": "late", "points": "x",
                                       "reason": "r"})
    assert bad.status_code == 422 and "须为数字" in bad.text


def test_staff_sees_own_records_only(logged_in: Callable[[str], tuple[TestClient, str]],
                                     org_data: SimpleNamespace) -> None:
    client, _ = logged_in("staff")
    me = client.get("/me")
    assert me.status_code == 200 and "张三" in me.text
    assert client.get("/org/staff").status_code == 403
    assert client.get("/ledger").status_code == 403


def test_calendar_page_answers_and_explains_an_unknown_year(logged_in: Callable[[str], tuple[TestClient, str]],
                                                            org_data: SimpleNamespace) -> None:
    client, _ = logged_in("admin")
    page = client.get("/calendar", params={"start": "2026-09-30", "days": "3"})
    assert "2026-10-10" in page.text
    unknown = client.get("/calendar", params={"check_day": "2030-03-04", "year": 2030})
    assert "2030 年的节假日安排尚未录入" in unknown.text and "暂定" in unknown.text


def test_org_import_page_takes_a_workbook_and_reports_problems_by_row(
    logged_in: Callable[[str], tuple[TestClient, str]], org_data: SimpleNamespace
) -> None:
    client, csrf = logged_in("admin")
    template = client.get("/org/import/template.xlsx")
    assert template.status_code == 200 and template.content.startswith(b"PK")
    exported = client.get("/org/export.xlsx")
    assert exported.status_code == 200
    again = client.post("/org/import", data={"csrf_token": csrf},
                        files={"file": ("org.xlsx", exported.content, "application/octet-stream")})
    assert again.status_code == 200 and 'data-testid="import-report"' in again.text
    # The organisation's own export comes back unchanged, every row of it.
    report = again.context["report"].as_dict()
    assert {kind: counts["unchanged"] for kind, counts in report.items()} == {
        "site": 4, "hall": 2, "department": 3, "window": 3, "post": 2, "staff": 3}
    assert all(counts["created"] == counts["updated"] == 0 for counts in report.values())
    not_a_workbook = client.post("/org/import", data={"csrf_token": csrf},
                                 files={"file": ("org.xlsx", b"hello", "application/octet-stream")})
    assert not_a_workbook.status_code == 422 and "文件类型不对" in not_a_workbook.text


# --- No internal code on a page: every demo role's pages, walked by following their links. ---

DEMO_USERS = ("admin", "officer", "supervisor", "manager", "staff", "officer_fc", "manager_jy", "supervisor_gx",
              "supervisor_town", "staff_town", "handler-MY-D-GA", "handler-MY-FC-D-RS")
# What an internal code looks like in a page's text: snake_case tokens (bad_rating), `kind:value` codes
# (user:supervisor, rating:8), an arrow between codes (received→closed), a bare id after a number ("161 #31"),
# and pydantic's English messages.
RAW_CODE = re.compile(
    r"\b[a-z]+(?:_[a-z0-9]+)+\b"
    r"|\b[a-z_]+:[a-z0-9_]+\b"
    r"|\b[a-z_]+\s*→\s*[a-z_]+\b"
    r"|\b\d+ #\d+\b"
    r"|\b[a-z]+\.[a-z]+(?:_[a-z]+)*\b|@[a-z_]+\."  # a message key (level.basic) or a stored keyed reason
    r"|Input should be|Field required|valid date|is not a valid|value_error"
    r"|剩 -\d"  # an overdue order said "剩 -16 个工作日" (16 working days *left*) instead of 超期 16 个工作日
)
SKIP_LINK = re.compile(r"^/(static|api)/|\.(xlsx|jpg|jpeg|png|mjpeg|pdf|csv)(\?|$)|^/logout|/live(\?|$)|/photos/"
                       r"|/evidence/|/export|/print")
DEMO_NAMES = re.compile(r"\b(?:" + "|".join(DEMO_USERS) + r")\b")
PAGES_PER_PATTERN = 2  # /risk/points/1 and /risk/points/2 look alike: two of each are enough
PAGES_PER_ROLE = 80


class _Text(HTMLParser):
    """The text a reader sees: no script, style, form values or attributes (a <code> of raw data is skipped)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.links: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "code", "textarea"):
            self._skip += 1
        if tag == "a":
            href = dict(attrs).get("href") or ""
            if href.startswith("/"):
                self.links.append(href.split("#")[0])

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "code", "textarea") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _walk(client: TestClient, start: str = "/") -> tuple[list[str], list[str]]:
    """Follow a user's links from the home page; return the pages seen and the raw codes found on them."""
    seen: list[str] = []
    patterns: dict[str, int] = {}
    queue = [start]
    found: list[str] = []
    while queue and len(seen) < PAGES_PER_ROLE:
        url = queue.pop(0)
        pattern = re.sub(r"\d+", "N", url.split("?")[0])
        if url in seen or SKIP_LINK.search(url) or patterns.get(pattern, 0) >= PAGES_PER_PATTERN:
            continue
        patterns[pattern] = patterns.get(pattern, 0) + 1
        response = client.get(url)
        seen.append(url)
        assert response.status_code < 500, f"{url}: {response.status_code}"
        if response.status_code != 200 or "text/html" not in response.headers.get("content-type", ""):
            continue
        parser = _Text()
        parser.feed(response.text)
        # The demo's user names (supervisor_town) are names people chose, not codes.
        text = DEMO_NAMES.sub("", " ".join(parser.parts))
        found += [f"{url}: {m.group(0)!r} in …{text[max(0, m.start() - 40):m.end() + 40]!r}…"
                  for m in RAW_CODE.finditer(text)]
        queue += [link for link in parser.links if link not in seen]
    return seen, found


@pytest.fixture
def demo_engine(engine: Engine) -> Engine:
    seed_demo_everything(engine, get_settings())
    return engine


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_no_internal_code_on_any_page_of_any_demo_role(demo_engine: Engine, locale: str) -> None:
    password = get_settings().demo_password
    problems: list[str] = []
    for username in DEMO_USERS:
        app = create_app(get_settings(), demo_engine, migrate=False, services=[])
        with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
            csrf = login(client, username, password)
            if locale != "zh-CN":
                assert client.post("/locale", data={"locale": locale, "csrf_token": csrf}).status_code == 303
            seen, found = _walk(client)
            assert len(seen) >= 3, f"{username} reached only {seen}"
            problems += [f"{username} {p}" for p in found]
    first: dict[str, str] = {}
    for problem in problems:  # one line per code, where it was first seen
        first.setdefault(problem.split(": ", 1)[1].split(" in ")[0], problem)
    assert problems == [], f"{len(problems)} raw codes, e.g.:\n" + "\n".join(sorted(first.values()))


def test_the_favicon_is_linked_and_answered(app_client: TestClient) -> None:
    login_page = app_client.get("/login")
    assert '<link rel="icon" href="/static/favicon.svg"' in login_page.text
    old_style = app_client.get("/favicon.ico")
    assert old_style.status_code == 301 and old_style.headers["location"] == "/static/favicon.svg"
    icon = app_client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")


def test_forms_report_every_field_problem_at_once(logged_in: Callable[[str], tuple[TestClient, str]],
                                                  org_data: SimpleNamespace) -> None:
    """Not one round at a time: every wrong field of the intake and the org forms is named in one answer."""
    client, csrf = logged_in("supervisor")
    typed = client.post("/complaints/intake", data={"csrf_token": csrf, "idempotency_key": "k1", "type": "complaint",
                                                    "phone": "12ab", "content": "", "window_id": "999999"})
    assert typed.status_code == 422
    assert {"phone", "content", "window_id"} <= typed.context["problem_fields"]  # type: ignore[attr-defined]
    untyped = client.post("/complaints/intake", data={"csrf_token": csrf, "idempotency_key": "k2", "content": ""})
    assert untyped.status_code == 422
    assert {"type", "content"} <= untyped.context["problem_fields"]  # type: ignore[attr-defined]
    admin, admin_csrf = logged_in("admin")
    hall = admin.post("/org/halls/new", data={"csrf_token": admin_csrf, "code": "bad code", "name": "",
                                              "site_id": "999999"})
    assert hall.status_code == 422
    problems = hall.text[hall.text.index('data-testid="problems"'):]
    assert problems.count("<li") >= 3, problems[:600]


def test_pydantic_never_speaks_english_on_a_chinese_answer(app_client: TestClient, org_data: SimpleNamespace) -> None:
    headers = bearer(app_client, "admin")
    answer = app_client.get("/api/v1/calendar/workday", params={"day": "2026-13-45"}, headers=headers)
    assert answer.status_code == 422
    fields = answer.json()["error"]["fields"]
    assert fields[0]["field"] == "day" and "YYYY-MM-DD" in fields[0]["message"]
    assert not RAW_CODE.search(fields[0]["message"])  # "Input should be a valid date…" was shown as is


@pytest.mark.parametrize("username", ["manager", "officer", "supervisor", "staff", "handler"])
def test_the_jurisdiction_panel_links_open(logged_in: Callable[[str], tuple[TestClient, str]],
                                            org_data: SimpleNamespace, username: str) -> None:
    """Each count of the home's jurisdiction panel leads to its list (/org/staff, not /org/staffs), or is text."""
    client, _ = logged_in(username)
    home = client.get("/")
    panel = home.text.split('data-panel="jurisdiction"', 1)
    links = re.findall(r'href="(/org/[^"]*)"', panel[1].split("</section>", 1)[0]) if len(panel) == 2 else []
    for href in links:
        assert client.get(href).status_code == 200, href
    if username in ("manager", "officer", "supervisor"):
        assert "/org/staff" in links and "/org/sites" in links
