"""The hotline intake screen and an order's history in a real browser, against `serve --demo`."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import login

pytestmark = pytest.mark.browser


def test_intake_by_keyboard_then_dispatch_and_history(live_server: str, browser: Any) -> None:
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(page, live_server, "supervisor", start="/")  # the root shows the login form
    # The supervisor's home: the intake link and the due/overdue list of the demo's orders.
    assert page.locator("[data-panel=complaints_due]").count() == 1
    page.click("[data-testid=intake-link]")
    page.wait_for_selector("[data-testid=intake-form]")
    # Keyboard only: the type field has focus; "4" picks 投诉举报, then tab through the fields.
    assert page.evaluate("document.activeElement.name") == "type"
    page.keyboard.press("4")
    assert page.input_value("#f-type") == "complaint"
    page.fill("input[name=caller_name]", "浏览器测试人")
    page.fill("#f-phone", "13811112222")
    page.fill("textarea[name=content]", "窗口工作人员长时间玩手机,群众排队四十分钟")
    page.focus("textarea[name=content]")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("[data-testid=intake-done]")
    number = page.inner_text("[data-testid=intake-order-link]")
    assert number.startswith("GD")
    page.click("[data-testid=intake-order-link]")
    page.wait_for_selector("[data-testid=order-history]")
    assert page.inner_text("[data-testid=order-number]").find(number) >= 0
    assert "138****2222" in page.inner_text("[data-testid=caller]")
    # Dispatch from the order page: open the small form, pick the lead unit, send.
    page.click("[data-testid=action-dispatch]")
    page.select_option("details[open] select[name=lead_department_id]", index=1)
    page.fill("details[open] textarea[name=reason]", "请核实处理")
    page.click("[data-testid=do-dispatch]")
    page.wait_for_selector("[data-testid=order-history] .ev-dispatch")
    history = page.inner_text("[data-testid=order-history]")
    assert "受理" in history and "派单" in history and "请核实处理" in history
    assert page.inner_text("[data-testid=order-state]") == "已派单"
    # English on the same page.
    page.click("[data-testid=switch-en]")
    page.wait_for_selector("[data-testid=switch-zh]")
    assert "Dispatched" in page.inner_text("[data-testid=order-state]")
    assert errors == []
    context.close()


def test_citizen_files_and_tracks_without_login(live_server: str, browser: Any) -> None:
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(live_server + "/public/complaint")
    page.select_option("select[name=site_id]", index=1)
    page.fill("textarea[name=content]", "办事窗口午休无人值守,等了一个小时")
    page.check("input[name=anonymous]")
    page.click("[data-testid=public-submit]")
    page.wait_for_selector("[data-testid=receipt]")
    number = page.inner_text("[data-testid=tracking-number]")
    secret = page.inner_text("[data-testid=tracking-secret]")
    page.goto(live_server + f"/public/track?number={number}")
    page.fill("input[name=secret]", secret)
    page.click("[data-testid=track-form] button")
    page.wait_for_selector("[data-testid=track-status]")
    assert number in page.inner_text("[data-testid=track-status]")
    context.close()


def test_citizen_names_a_window_of_the_chosen_centre(live_server: str, browser: Any) -> None:
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(live_server + "/public/complaint")
    with_windows = page.eval_on_selector_all("select[name=window_id] optgroup", "gs => gs.map(g => g.dataset.site)")
    sites = page.eval_on_selector_all("select[name=site_id] option", "os => os.map(o => o.value).filter(v => v)")
    assert with_windows and len(sites) > 1
    site = with_windows[0]
    other = next(s for s in sites if s != site)
    # Only the chosen centre's windows can be picked (the script in complaints.js, no inline handler).
    page.select_option("select[name=site_id]", value=site)
    shown = page.eval_on_selector_all("select[name=window_id] optgroup:not([disabled])",
                                      "gs => gs.map(g => g.dataset.site)")
    assert shown == [site]
    window = page.eval_on_selector("select[name=window_id] optgroup:not([disabled]) option", "o => o.value")
    page.select_option("select[name=window_id]", value=window)
    page.select_option("select[name=site_id]", value=other)  # another centre: the window chosen no longer fits
    assert page.input_value("select[name=window_id]") == ""
    page.select_option("select[name=site_id]", value=site)
    page.select_option("select[name=window_id]", value=window)
    page.fill("textarea[name=content]", "窗口工作人员办理业务时长时间离岗")
    page.check("input[name=anonymous]")
    page.click("[data-testid=public-submit]")
    page.wait_for_selector("[data-testid=receipt]")
    assert page.inner_text("[data-testid=tracking-number]").startswith("GD")
    assert errors == []
    context.close()
