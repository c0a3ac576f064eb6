"""Every admin list page runs a number of queries that does not grow with its rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from reports import lifecycle
from tests.reports.helpers import resolve_with_photo

pytestmark = pytest.mark.django_db

PAGES = [
    "/admin/reports/report/",
    "/admin/reports/report/?queue=triage",
    "/admin/reports/report/?overdue=yes",
    "/admin/notifications/notification/",
    "/admin/notifications/delivery/",
    "/admin/reports/agency/",
    "/admin/reports/category/",
    "/admin/reports/routingrule/",
    "/admin/reports/area/",
    "/admin/reports/holiday/",
    "/admin/accounts/user/",
]


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


def _more_work(make_report, citizen, staff_a, count: int) -> None:
    for _ in range(count):
        report = make_report(citizen)
        accepted = lifecycle.report_accept(report=report, actor=staff_a)
        resolve_with_photo(report=accepted, actor=staff_a, note="Xong")
        make_report(citizen, category="other")


@pytest.mark.parametrize("url", PAGES)
def test_an_admin_list_page_does_not_grow_with_its_rows(
    url, administrator, make_report, citizen, staff_a
):
    client = Client()
    client.force_login(administrator)
    _more_work(make_report, citizen, staff_a, 1)
    client.get(url)  # warm caches (content types, session)
    few = _queries(client, url)

    _more_work(make_report, citizen, staff_a, 4)
    many = _queries(client, url)

    assert many == few
