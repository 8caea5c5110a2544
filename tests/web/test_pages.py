from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

from fastapi.testclient import TestClient


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
