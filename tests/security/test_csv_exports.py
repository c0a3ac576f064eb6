"""Issue 16, point 8, reproduced: a cell like `abc;=1+1;x` was written unquoted, and a
spreadsheet that splits on `;` (the list separator of several locales) ran `=1+1`; a
full-width equals sign at the start was not neutralised; and agency staff could filter the
report list and its CSV export by reporter id (`?reporter=<id>`), grouping a pseudonymous
citizen's reports.

Now every cell is quoted and a `'` goes before every sign that could start a formula, at the
start of the cell and after any separator inside it (insights.exports); only the operations
centre may filter by who reported (ReportAdmin.lookup_allowed)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
import time_machine
from django.core.cache import cache

from accounts.models import User
from reports.models import Report
from tests.insights import stats_scenario
from tests.insights.stats_scenario import NOW
from tests.reports.helpers import admin_client

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/reports/report/"
CHANGELIST_CSV = "/admin/reports/report/export.csv"
REPORTS_CSV = "/admin/reports/report/dashboard/reports.csv"
NOVEMBER = {"date_from": "2026-11-01", "date_to": "2026-11-30"}
FORMULA_STARTS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")


@pytest.fixture
def scenario(reference_data: None) -> Any:
    cache.clear()
    with time_machine.travel(NOW, tick=False):
        yield stats_scenario.build()


def raw_export(user: User, url: str, **params: Any) -> str:
    with time_machine.travel(NOW, tick=False):
        response = admin_client(user).get(url, params)
        assert response.status_code == 200
        return b"".join(response.streaming_content).decode("utf-8").removeprefix("\ufeff")


def description_cell(text: str, reference: str) -> str:
    row = next(row for row in csv.reader(io.StringIO(text)) if row[0] == reference)
    return row[-1]


def pieces(text: str, separator: str) -> list[str]:
    """The cells a spreadsheet splitting on `separator` without reading quotes would see."""
    return [
        piece.strip(' "\u3000') for line in text.splitlines() for piece in line.split(separator)
    ]


@pytest.mark.parametrize(
    ("description", "written"),
    [
        ("abc;=1+1;x", "abc;'=1+1;x"),
        ("abc,=1+1,x", "abc,'=1+1,x"),
        ("a\t+cmd|' /C calc'!A0", "a\t'+cmd|' /C calc'!A0"),
        ("abc; @SUM(A1)", "abc; '@SUM(A1)"),
        ("\uff1d1+1", "'\uff1d1+1"),
        ("\uff0b1", "'\uff0b1"),
        ("\uff0d1", "'\uff0d1"),
        ("\uff20SUM(A1)", "'\uff20SUM(A1)"),
        ("ok; so = fine", "ok; so = fine"),
    ],
)
@pytest.mark.parametrize("url", [CHANGELIST_CSV, REPORTS_CSV])
def test_no_part_of_a_cell_is_a_formula(dispatcher, scenario, description, written, url):
    report = scenario["r1"]
    Report.objects.filter(pk=report.pk).update(description=description)

    text = raw_export(dispatcher, url, **(NOVEMBER if url == REPORTS_CSV else {}))

    assert description_cell(text, report.reference) == written
    for separator in (",", ";", "\t"):
        assert not [piece for piece in pieces(text, separator) if piece.startswith(FORMULA_STARTS)]


def test_every_cell_is_quoted(dispatcher, scenario):
    text = raw_export(dispatcher, CHANGELIST_CSV)

    for line in csv.reader(io.StringIO(text)):
        assert line
    assert all(line.startswith('"') and line.endswith('"') for line in text.splitlines())


@pytest.mark.parametrize(
    "lookup", ["reporter", "reporter__id__exact", "reporter_id", "reporter__in", "caller_phone"]
)
@pytest.mark.parametrize("url", [CHANGELIST, CHANGELIST_CSV])
def test_agency_staff_cannot_filter_by_reporter(staff_b, scenario, lookup, url):
    reporter = scenario["r5"].reporter_id
    value = scenario["r5"].caller_phone or "0905123456" if lookup == "caller_phone" else reporter

    response = admin_client(staff_b).get(url, {lookup: value})

    assert response.status_code == 400


@pytest.mark.parametrize("user", ["staff_b", "manager"])
def test_agency_people_still_filter_as_before(request, scenario, user):
    response = admin_client(request.getfixturevalue(user)).get(
        CHANGELIST, {"status__exact": "in_progress"}
    )

    assert response.status_code == 200


def test_the_operations_centre_may_filter_by_reporter(dispatcher, scenario):
    report = scenario["r5"]

    response = admin_client(dispatcher).get(CHANGELIST, {"reporter": report.reporter_id})

    assert response.status_code == 200
    assert report.reference in response.content.decode()
