"""The feed filtered as citizens filter it reads a page straight from an index, at any depth
(issue 17): PostgreSQL's plan for a category and area page at a cursor is one scan of the
matching partial index in the feed's order, with no sort and no join of the reference
tables before the page is cut."""

from __future__ import annotations

import pytest
from django.db import connection
from django.http import QueryDict

from hues.pagination import RowComparison
from reports import selectors
from reports.api.filters import ReportFilter
from tests.conftest import need


def _plan(params: dict[str, str]) -> str:
    query = QueryDict(mutable=True)
    query.update(params)
    feed = ReportFilter(query, queryset=selectors.report_feed(user=None, mine=False)).qs
    page = feed.filter(RowComparison(["id"], "<", [10**6]))[:21]
    sql, values = page.query.sql_with_params()
    with connection.cursor() as cursor:
        # A test database is small enough to read whole: make the planner show the plan it
        # takes on a large table.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("EXPLAIN " + sql, values)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize(
    ("params", "index"),
    [
        ({"category": "garbage", "area": "19753"}, "report_public_category_area"),
        ({"category": "garbage"}, "report_public_category"),
        ({"area": "19753"}, "report_public_area"),
        ({"agency": "hepco"}, "report_public_agency"),
    ],
)
def test_a_filtered_feed_page_is_read_from_its_index_in_order(params, index, routed_report) -> None:
    need(connection.vendor == "postgresql", "query plans are PostgreSQL's (DATABASE_URL)")

    plan = _plan(params)

    assert f"Index Scan using {index} on reports_report" in plan, plan
    assert "Sort" not in plan, plan


def test_a_feed_page_by_status_is_cut_without_sorting_every_match(routed_report) -> None:
    """The status filter needs no DISTINCT (a column of the report): with it PostgreSQL
    sorted every matching report of a million before cutting the page."""
    need(connection.vendor == "postgresql", "query plans are PostgreSQL's (DATABASE_URL)")

    plan = _plan({"status": "routed"})

    assert "Unique" not in plan, plan
    assert "Sort" not in plan, plan
    assert "Index Scan using report_public_status on reports_report" in plan, plan
