"""The newcomer's walk in a real browser: log in as each role, see the home page, switch language."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.browser

HOMES = {
    "admin": ("系统管理员工作台", "Administrator's desk"),
    "officer": ("纪检监察工作台", "Discipline officer's desk"),
    "supervisor": ("监督员工作台", "Supervisor's desk"),
    "manager": ("管理者工作台:本月考评", "Manager's desk: this month's scores"),
    "handler-MY-D-GA": ("承办人工作台:本单位工单", "Handler's desk: your units' orders"),
    "staff": ("我的工作台", "My desk"),
}


def _login(page: Any, base: str, username: str) -> None:
    page.goto(base + "/")
    assert "/login" in page.url
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=home-title]")
    page.wait_for_load_state("domcontentloaded")  # the title can be parsed before the panels below it


@pytest.mark.parametrize("username", list(HOMES))
def test_each_role_logs_in_and_switches_language(live_server: str, browser: Any, username: str) -> None:
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    _login(page, live_server, username)
    zh, en = HOMES[username]
    assert page.inner_text("[data-testid=home-title]") == zh
    assert page.get_attribute("html", "lang") == "zh-CN"
    page.click("[data-testid=switch-en]")
    page.wait_for_selector("[data-testid=switch-zh]")
    assert page.inner_text("[data-testid=home-title]") == en
    page.click("[data-testid=switch-zh]")
    page.wait_for_selector("[data-testid=switch-en]")
    assert page.inner_text("[data-testid=home-title]") == zh
    context.close()


def test_wrong_password_stays_on_the_login_page(live_server: str, browser: Any) -> None:
    page = browser.new_page()
    page.goto(live_server + "/login")
    page.fill("input[name=username]", "officer")
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit]")
    assert "用户名或密码错误" in page.inner_text("[data-testid=login-error]")
    page.close()


def test_admin_browses_the_demo_organisation_and_sees_a_form_error(live_server: str, browser: Any) -> None:
    page = browser.new_page()
    _login(page, live_server, "admin")
    page.click("text=组织机构")
    page.wait_for_selector("[data-testid=org-list]")
    assert "绵阳" in page.inner_text("[data-testid=org-list]")
    page.goto(live_server + "/org/halls/new")
    page.fill("input[name=code]", "bad code with spaces")
    page.fill("input[name=name]", "测试大厅")
    page.click("[data-testid=save]")
    page.wait_for_selector("[data-testid=problems]")
    assert "编码" in page.inner_text("[data-testid=problems]")
    assert page.input_value("input[name=name]") == "测试大厅"
    page.close()
