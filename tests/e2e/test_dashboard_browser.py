"""The operations dashboard in a real Chromium (Playwright): a dispatcher's wall screen and a
manager's agency view render their charts and the ward map with the expected figures.

Screenshots go to test-artifacts/ (dashboard-dispatcher.png, dashboard-manager.png).
"""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.core.cache import cache

from accounts.models import User
from tests.e2e.test_admin_browser import ARTIFACTS, PASSWORD, browser_page  # noqa: F401
from tests.insights import stats_scenario
from tests.insights.stats_scenario import NOW

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOVEMBER = "?date_from=2026-11-01&date_to=2026-11-30"


@pytest.fixture
def scenario(reference_data: None) -> Any:
    cache.clear()
    # The live server runs in this process: it sees the same clock.
    with time_machine.travel(NOW, tick=True):
        yield stats_scenario.build()


def open_dashboard(page: Any, live_server: Any, user: User) -> None:
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "0" + user.phone[3:])
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")
    page.click("#dashboard-nav")
    page.wait_for_selector("#dashboard")
    page.goto(f"{live_server.url}/admin/reports/report/dashboard/{NOVEMBER}")
    page.wait_for_selector("#kpis")


def test_a_dispatcher_sees_the_city_on_the_wall_screen(
    browser_page: Any,  # noqa: F811
    live_server: Any,
    dispatcher: User,
    scenario: Any,
) -> None:
    page = browser_page
    page.set_viewport_size({"width": 1920, "height": 1080})
    open_dashboard(page, live_server, dispatcher)
    assert page.inner_text("#kpi-received") == "9"
    assert page.inner_text("#kpi-on-time") == "50.0%"
    assert page.inner_text("#kpi-overdue") == "1"
    assert page.locator("#daily-table tbody tr").count() == 30
    # The charts are drawn, with something to see.
    chart = page.locator("#daily svg.chart").bounding_box()
    assert chart is not None
    assert chart["width"] > 400
    assert page.locator("#daily svg.chart rect").count() >= 30
    assert page.locator("#categories svg.chart rect").count() >= 3
    # The map: 40 wards and communes, Phú Xuân coloured apart from the wards with nothing open.
    city_map = page.locator("svg.city-map").bounding_box()
    assert city_map is not None
    assert city_map["width"] > 300
    assert city_map["height"] > 200
    assert page.locator("svg.city-map path").count() == 40
    phu_xuan = page.get_attribute('svg.city-map path[data-area="19753"]', "fill")
    a_luoi = page.get_attribute('svg.city-map path[data-area="20056"]', "fill")
    assert phu_xuan != a_luoi
    assert page.locator("#agency-table tbody tr").count() == 2
    assert page.locator("#overdue-table tbody tr").count() == 1
    page.screenshot(path=ARTIFACTS / "dashboard-dispatcher.png", full_page=True)


def test_a_manager_sees_their_agency_only(
    browser_page: Any,  # noqa: F811
    live_server: Any,
    manager: User,
    scenario: Any,
) -> None:
    page = browser_page
    open_dashboard(page, live_server, manager)
    assert page.inner_text("#kpi-received") == "6"
    assert page.locator("#agency-table tbody tr").count() == 1
    assert page.get_attribute("#agency-table tbody tr", "data-agency") == "hepco"
    assert page.locator("select[name=agency]").count() == 0
    assert page.locator("svg.city-map path").count() == 40
    page.screenshot(path=ARTIFACTS / "dashboard-manager.png", full_page=True)
