"""The operations centre's dashboard in the admin: figures, scope, filters, query count,
and agreement with the public statistics."""

from __future__ import annotations

import re
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from insights import rollup
from tests.insights import stats_scenario
from tests.insights.stats_scenario import NOW
from tests.reports.helpers import admin_client

pytestmark = pytest.mark.django_db

DASHBOARD = "/admin/reports/report/dashboard/"
NOVEMBER = {"date_from": "2026-11-01", "date_to": "2026-11-30"}


@pytest.fixture
def scenario(reference_data: None) -> Any:
    cache.clear()
    with time_machine.travel(NOW, tick=False):
        yield stats_scenario.build()


def page(client: Client, **params: str) -> Any:
    with time_machine.travel(NOW, tick=False):
        return client.get(DASHBOARD, params)


def kpi(html: str, name: str) -> str:
    match = re.search(rf'id="kpi-{name}">(?:<a [^>]*>)?([^<]*)<', html)
    assert match, f"no {name} figure"
    return match.group(1).strip()


def table_rows(html: str, table: str) -> list[list[str]]:
    body = re.search(rf'<table id="{table}">.*?<tbody>(.*?)</tbody>', html, re.S)
    assert body, f"no {table}"
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1), re.S)
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in rows
    ]


def agency_row(html: str, code: str) -> str:
    match = re.search(rf'<tr data-agency="{code}">(.*?)</tr>', html, re.S)
    assert match, f"{code} is not in the agency table"
    return match.group(1)


def test_a_dispatcher_sees_the_whole_city(dispatcher: User, scenario: Any) -> None:
    response = page(admin_client(dispatcher), **NOVEMBER)
    assert response.status_code == 200
    html = response.content.decode()
    assert (kpi(html, "received"), kpi(html, "resolved")) == ("9", "4")
    assert (kpi(html, "on-time"), kpi(html, "average")) == ("50.0%", "103.5 h")
    assert (kpi(html, "satisfaction"), kpi(html, "open"), kpi(html, "overdue")) == (
        "3.67/5",
        "6",
        "1",
    )
    assert 'data-agency="hepco"' in html
    assert 'data-agency="ward-19753"' in html


def test_agencies_are_ranked_by_on_time_rate(dispatcher: User, scenario: Any) -> None:
    html = page(admin_client(dispatcher), **NOVEMBER).content.decode()
    codes = re.findall(r'<tr data-agency="([^"]+)">', html)
    # HEPCO resolved half on time; the ward committee resolved nothing yet: last.
    assert codes == ["hepco", "ward-19753"]
    assert "50.0%" in agency_row(html, "hepco")
    assert 'style="width:50.0%"' in agency_row(html, "hepco")


def test_the_daily_chart_has_its_numbers_in_a_table(dispatcher: User, scenario: Any) -> None:
    html = page(admin_client(dispatcher), **NOVEMBER).content.decode()
    rows = table_rows(html, "daily-table")
    assert len(rows) == 30
    by_day = {day: (int(received), int(resolved)) for day, received, resolved in rows}
    assert by_day["03/11/2026"] == (1, 0)  # r1 filed
    assert by_day["04/11/2026"] == (0, 1)  # r1 resolved
    assert by_day["15/11/2026"] == (1, 1)  # r7 filed and resolved the same day
    assert by_day["30/11/2026"] == (1, 0)  # r11 at 23:30, Hue time
    assert sum(r for r, _ in by_day.values()) == 9
    assert sum(r for _, r in by_day.values()) == 4
    assert html.count("<rect") > 30  # the chart's columns


def test_open_reports_by_category_and_status(dispatcher: User, scenario: Any) -> None:
    html = page(admin_client(dispatcher), **NOVEMBER).content.decode()
    categories = {row[0]: row[-1] for row in table_rows(html, "category-table")}
    assert categories == {
        "Điện chiếu sáng công cộng": "4",
        "Trật tự đô thị (lấn chiếm vỉa hè, hàng rong)": "1",
        "Khác": "1",
    }
    statuses = dict(table_rows(html, "status-table"))
    assert statuses == {
        "Đã gửi": "1",
        "Chờ phân loại": "0",
        "Đã chuyển đơn vị": "4",
        "Đang xử lý": "1",
    }


def test_the_ward_map_colours_open_reports_per_10000_inhabitants(
    dispatcher: User, scenario: Any
) -> None:
    html = page(admin_client(dispatcher), **NOVEMBER).content.decode()
    areas = {row[0]: row[1:] for row in table_rows(html, "area-table")}
    assert len(areas) == 40
    # Phú Xuân: r3 r5 r10 r11 r12 open among 130,247 people.
    assert areas["Phường Phú Xuân"] == ["5", "130247", "0.38"]
    assert areas["Phường Vỹ Dạ"] == ["1", "49684", "0.2"]
    assert areas["Xã A Lưới 1"][0] == "0"
    assert html.count('<path d="M') >= 40
    phu_xuan = re.search(r'<path d="[^"]+" fill="([^"]+)"[^>]*data-area="19753"', html)
    a_luoi = re.search(r'<path d="[^"]+" fill="([^"]+)"[^>]*data-area="20056"', html)
    assert phu_xuan
    assert a_luoi
    assert phu_xuan.group(1) != a_luoi.group(1)


def test_the_overdue_list_links_each_report(dispatcher: User, scenario: Any) -> None:
    html = page(admin_client(dispatcher), **NOVEMBER).content.decode()
    rows = table_rows(html, "overdue-table")
    assert [row[0] for row in rows] == [scenario["r3"].reference]
    # Due 25 November 08:00, and it is 1 December 10:00.
    assert rows[0][-1] == "6 ngày 2 giờ"
    assert f"/admin/reports/report/{scenario['r3'].pk}/change/" in html


def test_a_manager_sees_only_their_agency(manager: User, scenario: Any) -> None:
    html = page(admin_client(manager), **NOVEMBER).content.decode()
    assert kpi(html, "received") == "6"
    assert re.findall(r'<tr data-agency="([^"]+)">', html) == ["hepco"]
    assert 'name="agency"' not in html
    # No filter widens the scope: asking for the ward committee still counts HEPCO only.
    html = page(admin_client(manager), **NOVEMBER, agency="ward-19753").content.decode()
    assert kpi(html, "received") == "6"
    assert re.findall(r'<tr data-agency="([^"]+)">', html) == ["hepco"]


@pytest.mark.parametrize("role", ["staff_a", "citizen"])
def test_staff_and_citizens_have_no_dashboard(
    role: str, request: pytest.FixtureRequest, scenario: Any
) -> None:
    user = request.getfixturevalue(role)
    response = page(admin_client(user), **NOVEMBER)
    assert response.status_code in (302, 403)
    assert b"kpi-received" not in response.content


def test_the_anonymous_are_sent_to_the_login(client: Client, scenario: Any) -> None:
    response = page(client)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_filters_narrow_the_figures(dispatcher: User, scenario: Any) -> None:
    client = admin_client(dispatcher)
    html = page(client, **NOVEMBER, area="19777").content.decode()
    assert kpi(html, "received") == "2"
    html = page(client, **NOVEMBER, category="urban_order").content.decode()
    assert (kpi(html, "received"), kpi(html, "open")) == ("2", "1")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"date_from": "2026-12-05", "date_to": "2026-12-01"}, "date_from"),
        ({"date_from": "not a day"}, "date_from"),
        ({"category": "potholes"}, "category"),
        ({"area": "19753\x00"}, "area"),
    ],
)
def test_bad_filters_answer_400_with_the_field_named(
    dispatcher: User, scenario: Any, params: dict[str, str], field: str
) -> None:
    response = page(admin_client(dispatcher), **params)
    assert response.status_code == 400
    assert f'id="error-{field}"' in response.content.decode()
    assert b"kpi-received" not in response.content


def test_the_dashboard_renders_in_at_most_ten_queries(
    dispatcher: User, scenario: Any, django_assert_max_num_queries: Any, settings: Any
) -> None:
    settings.DASHBOARD_CACHE_SECONDS = 0  # count every time
    client = admin_client(dispatcher)
    page(client, **NOVEMBER)  # the reference names and outlines are loaded once per process
    with django_assert_max_num_queries(10):
        assert page(client, **NOVEMBER).status_code == 200


def test_the_dashboard_agrees_with_the_public_statistics(
    dispatcher: User, scenario: Any, settings: Any
) -> None:
    settings.STATS_MIN_COUNT = (
        1  # the public figures in full (small counts are withheld by default)
    )
    html = page(admin_client(dispatcher), **NOVEMBER).content.decode()
    with time_machine.travel(NOW, tick=False):
        public = APIClient().get("/api/v1/stats", NOVEMBER).json()
    city = public["city"]
    assert kpi(html, "received") == str(city["received"])
    assert kpi(html, "resolved") == str(city["resolved"])
    assert kpi(html, "on-time") == f"{city['on_time_rate'] * 100:.1f}%"
    assert kpi(html, "average") == f"{city['average_resolution_hours']} h"
    assert kpi(html, "open") == str(city["open"])
    for agency in public["agencies"]:
        cells = [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", agency_row(html, agency["code"]), re.S)
        ]
        assert cells[2:4] == [str(agency["received"]), str(agency["resolved"])]
        assert cells[9:11] == [str(agency["open"]), str(agency["overdue"])]


def test_figures_are_counted_once_per_scope_and_filters(
    dispatcher: User, manager: User, scenario: Any, settings: Any
) -> None:
    settings.DASHBOARD_CACHE_SECONDS = 60
    assert kpi(page(admin_client(dispatcher), **NOVEMBER).content.decode(), "received") == "9"
    scenario["r3"].delete()
    rollup.rebuild()  # a deletion is counted by the nightly rebuild
    # The same view within the minute comes from the cache; another scope is counted anew.
    assert kpi(page(admin_client(dispatcher), **NOVEMBER).content.decode(), "received") == "9"
    assert kpi(page(admin_client(manager), **NOVEMBER).content.decode(), "received") == "5"
    settings.DASHBOARD_CACHE_SECONDS = 0
    cache.clear()
    assert kpi(page(admin_client(dispatcher), **NOVEMBER).content.decode(), "received") == "8"


@pytest.mark.parametrize(
    ("role", "shown"), [("dispatcher", True), ("manager", True), ("staff_a", False)]
)
def test_the_dashboard_link_is_offered_to_those_who_may_open_it(
    role: str, shown: bool, request: pytest.FixtureRequest, scenario: Any
) -> None:
    user = request.getfixturevalue(role)
    html = admin_client(user).get("/admin/reports/report/").content.decode()
    assert ('id="dashboard-nav"' in html) is shown
    assert ('class="dashboard-link"' in html) is shown


def test_the_chosen_days_stay_in_the_date_inputs(dispatcher: User, scenario: Any) -> None:
    """Browsers' date inputs read and send ISO days, whatever the language's own format."""
    html = page(admin_client(dispatcher), **NOVEMBER).content.decode()
    assert 'name="date_from" value="2026-11-01"' in html
    assert 'name="date_to" value="2026-11-30"' in html
