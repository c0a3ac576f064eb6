"""CSV exports: the dashboard's reports and agency table, and the filtered change list,
streamed, within the viewer's scope, and safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from reports.models import Report
from tests.factories import ReportFactory
from tests.insights import stats_scenario
from tests.insights.stats_scenario import NOW
from tests.reports.helpers import admin_client

pytestmark = pytest.mark.django_db

NOVEMBER = {"date_from": "2026-11-01", "date_to": "2026-11-30"}
REPORTS_CSV = "/admin/reports/report/dashboard/reports.csv"
AGENCIES_CSV = "/admin/reports/report/dashboard/agencies.csv"
CHANGELIST_CSV = "/admin/reports/report/export.csv"


@pytest.fixture
def scenario(reference_data: None) -> Any:
    cache.clear()
    with time_machine.travel(NOW, tick=False):
        yield stats_scenario.build()


def download(client: Client, url: str, **params: str) -> tuple[Any, list[list[str]]]:
    with time_machine.travel(NOW, tick=False):
        response = client.get(url, params)
        if response.status_code != 200:
            return response, []
        assert response.streaming, "exports are streamed, row by row"
        text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff"), "a byte-order mark, so spreadsheets read UTF-8"
    return response, list(csv.reader(io.StringIO(text[1:])))


def test_the_reports_received_in_the_period(dispatcher: User, scenario: Any) -> None:
    response, rows = download(admin_client(dispatcher), REPORTS_CSV, **NOVEMBER)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="reports-2026-11-01-2026-11-30.csv"' in response["Content-Disposition"]
    header, *body = rows
    assert header[:3] == ["Mã phản ánh", "Tiếp nhận", "Lĩnh vực"]
    references = {row[0] for row in body}
    expected = {
        scenario[name].reference
        for name in ["r1", "r2", "r3", "r5", "r6", "r7", "r9", "r10", "r11"]
    }
    assert references == expected
    r3 = next(row for row in body if row[0] == scenario["r3"].reference)
    assert r3[1] == "2026-11-20 08:00"  # Hue time
    assert r3[header.index("Quá hạn")] == "có"


def test_a_managers_export_holds_only_their_agency(manager: User, scenario: Any) -> None:
    _, rows = download(admin_client(manager), REPORTS_CSV, **NOVEMBER, agency="ward-19753")
    agencies = {row[4] for row in rows[1:]}
    assert agencies == {"HEPCO"}
    assert len(rows) - 1 == 6


def test_the_agency_table(dispatcher: User, scenario: Any) -> None:
    _, rows = download(admin_client(dispatcher), AGENCIES_CSV, **NOVEMBER)
    header, first, second = rows
    assert header[:3] == ["Hạng", "Mã đơn vị", "Đơn vị xử lý"]
    assert first[:7] == ["1", "hepco", "HEPCO", "6", "4", "2", "50.0"]
    assert second[:5] == ["2", "ward-19753", second[2], "2", "0"]
    assert second[6] == ""  # no rate without a resolved report


def test_cells_are_never_spreadsheet_formulas(dispatcher: User, scenario: Any) -> None:
    Report.objects.filter(pk=scenario["r1"].pk).update(description='=HYPERLINK("http://x")')
    _, rows = download(admin_client(dispatcher), REPORTS_CSV, **NOVEMBER)
    row = next(row for row in rows if row[0] == scenario["r1"].reference)
    assert row[-1] == '\'=HYPERLINK("http://x")'


def test_the_change_list_export_follows_its_filters(dispatcher: User, scenario: Any) -> None:
    _, rows = download(admin_client(dispatcher), CHANGELIST_CSV, status__exact="in_progress")
    assert [row[0] for row in rows[1:]] == [scenario["r3"].reference]
    _, rows = download(admin_client(dispatcher), CHANGELIST_CSV, q=scenario["r7"].reference)
    assert [row[0] for row in rows[1:]] == [scenario["r7"].reference]


def test_the_change_list_export_keeps_the_agency_scope(staff_b: User, scenario: Any) -> None:
    _, rows = download(admin_client(staff_b), CHANGELIST_CSV)
    assert {row[0] for row in rows[1:]} == {scenario["r5"].reference, scenario["r6"].reference}


def test_exports_hold_no_reporter_identity(dispatcher: User, scenario: Any) -> None:
    _, rows = download(admin_client(dispatcher), CHANGELIST_CSV)
    text = repr(rows)
    for report in scenario.values():
        assert report.reporter.phone not in text
        assert report.reporter.full_name not in text


def test_staff_cannot_download_the_dashboards_exports(staff_a: User, scenario: Any) -> None:
    for url in (REPORTS_CSV, AGENCIES_CSV):
        response, rows = download(admin_client(staff_a), url, **NOVEMBER)
        assert response.status_code == 403
        assert rows == []


def test_bad_filters_answer_400(dispatcher: User, scenario: Any) -> None:
    response, _ = download(admin_client(dispatcher), REPORTS_CSV, date_from="2026-99-01")
    assert response.status_code == 400


def test_the_export_reads_in_constant_queries(dispatcher: User, scenario: Any) -> None:
    client = admin_client(dispatcher)
    download(client, CHANGELIST_CSV)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            download(client, CHANGELIST_CSV)
        return len(captured)

    before = queries()
    with time_machine.travel(NOW, tick=False):
        ReportFactory.create_batch(25, agency=scenario["r1"].agency)
    assert queries() == before
