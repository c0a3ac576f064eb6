"""Read replicas (DATABASE_REPLICA_URLS, hues.db): the settings they make, the router, and
which reads a replica answers: the public feed, the public statistics and Open311's lists;
never a report's detail, `mine`, filing, the admin, the dashboard or a task."""

from __future__ import annotations

import copy
import importlib
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections, router
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import User
from hues import db
from hues.db import PrimaryReplicaRouter
from insights import stats
from insights import tasks as insights_tasks
from open311 import selectors as open311_selectors
from reports import selectors, tasks
from reports.api.filters import ReportFilter
from reports.models import Report
from tests.conftest import PHU_XUAN_POINT
from tests.factories import ReportFactory
from tests.reports.helpers import admin_client

REPLICA = "replica_1"
PRIMARY_URL = "postgres://hues:secret@db-primary:5432/hues"
REPLICA_URLS = "postgres://hues:secret@db-replica-1:5432/hues,postgres://hues@db-replica-2/hues"
ROUTER = "hues.db.PrimaryReplicaRouter"


# --- Settings --------------------------------------------------------------------------------


def reloaded_settings(monkeypatch: pytest.MonkeyPatch, **environment: str | None) -> Any:
    """hues.settings' DATABASES and DATABASE_ROUTERS under `environment` (None: unset); the
    module is loaded again with the real environment afterwards."""
    import hues.settings

    try:
        with monkeypatch.context() as patch:
            patch.setenv("SECRET_KEY", "x" * 50)
            for name, value in environment.items():
                if value is None:
                    patch.delenv(name, raising=False)
                else:
                    patch.setenv(name, value)
            module = importlib.reload(hues.settings)
            return copy.deepcopy(module.DATABASES), list(module.DATABASE_ROUTERS)
    finally:
        importlib.reload(hues.settings)


def test_each_replica_url_becomes_an_alias_with_the_primarys_options(monkeypatch):
    databases, routers = reloaded_settings(
        monkeypatch,
        DATABASE_URL=PRIMARY_URL,
        DATABASE_REPLICA_URLS=REPLICA_URLS,
        CONN_MAX_AGE="60",
    )

    assert list(databases) == ["default", "replica_1", "replica_2"]
    assert routers == [ROUTER]
    assert (databases["replica_1"]["HOST"], databases["replica_2"]["HOST"]) == (
        "db-replica-1",
        "db-replica-2",
    )
    for alias in ("replica_1", "replica_2"):
        replica = databases[alias]
        assert replica["ENGINE"] == "django.db.backends.postgresql"
        assert replica["CONN_MAX_AGE"] == databases["default"]["CONN_MAX_AGE"] == 60
        assert replica["CONN_HEALTH_CHECKS"] is True
        assert replica["OPTIONS"]["options"] == "-c jit=off"
        assert replica["TEST"] == {"MIRROR": "default"}
    assert "TEST" not in databases["default"]


def test_a_replica_url_keeps_its_own_query_options(monkeypatch):
    databases, _ = reloaded_settings(
        monkeypatch,
        DATABASE_URL=PRIMARY_URL,
        DATABASE_REPLICA_URLS="postgres://hues@db-replica-1/hues?sslmode=require",
    )

    assert databases["replica_1"]["OPTIONS"] == {"sslmode": "require", "options": "-c jit=off"}


def test_without_replicas_there_is_only_the_primary_and_no_router(monkeypatch):
    databases, routers = reloaded_settings(
        monkeypatch, DATABASE_URL=None, DATABASE_REPLICA_URLS=None
    )

    assert list(databases) == ["default"]
    assert routers == []
    # The embedded default keeps its options.
    assert databases["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert databases["default"]["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert databases["default"]["CONN_HEALTH_CHECKS"] is True


def test_an_empty_list_is_no_replica(monkeypatch):
    databases, routers = reloaded_settings(
        monkeypatch, DATABASE_URL=PRIMARY_URL, DATABASE_REPLICA_URLS=" , "
    )

    assert (list(databases), routers) == (["default"], [])


@pytest.mark.filterwarnings("ignore:Engine not recognized from url")
@pytest.mark.parametrize(
    "urls", ["not-a-url", "sqlite:///replica.sqlite3", f"{PRIMARY_URL},mysql://h/hues"]
)
def test_a_replica_url_that_is_no_database_of_the_primarys_kind_stops_start_up(monkeypatch, urls):
    with pytest.raises(ImproperlyConfigured, match="DATABASE_REPLICA_URLS") as error:
        reloaded_settings(monkeypatch, DATABASE_URL=PRIMARY_URL, DATABASE_REPLICA_URLS=urls)

    assert "secret" not in str(error.value)


@pytest.mark.skipif(
    bool(os.environ.get("DATABASE_REPLICA_URLS")), reason="this run has replicas configured"
)
def test_this_test_run_has_no_replica_configured(settings):
    """Everything else in the suite runs as before: one database, no router."""
    assert list(connections) == [DEFAULT_DB_ALIAS]
    assert settings.DATABASE_ROUTERS == []
    assert db.replica() == DEFAULT_DB_ALIAS


# --- A replica in a test: an alias of the test database ------------------------------------------


@pytest.fixture
def replica(settings: Any) -> Iterator[str]:
    """A replica as DATABASE_REPLICA_URLS makes one, added at run time: an alias with the
    primary's settings (so the test database, through a connection of its own: it sees what
    is committed), a mirror of the primary, and the router. Requested after the database
    fixtures, so it is gone before they tear down."""
    primary = connections[DEFAULT_DB_ALIAS].settings_dict
    connections.settings[REPLICA] = {
        **primary,
        "TEST": {**primary["TEST"], "MIRROR": DEFAULT_DB_ALIAS},
    }
    settings.DATABASE_ROUTERS = [ROUTER]
    yield REPLICA
    if hasattr(connections._connections, REPLICA):  # opened by the test
        wrapper = connections[REPLICA]
        if wrapper.connection is not None:
            # Django's close() keeps an in-memory SQLite database open.
            wrapper.connection.close()
        del connections[REPLICA]
    del connections.settings[REPLICA]


@pytest.fixture
def replica_connected(transactional_db: None, replica: str) -> str:
    """The replica's connection, open: a transactional test reads committed rows through it.
    Opened here, since the test case refuses to open a connection for an alias it was not
    told about (the alias did not exist yet when it started)."""
    connections[replica].connect()
    return replica


def test_replica_picks_a_configured_replica(replica):
    assert db.replica_aliases() == [REPLICA]
    assert {db.replica() for _ in range(5)} == {REPLICA}


def test_replica_spreads_reads_over_every_replica(replica):
    connections.settings["replica_2"] = dict(connections.settings[REPLICA])
    try:
        assert {db.replica() for _ in range(200)} == {"replica_1", "replica_2"}
    finally:
        del connections.settings["replica_2"]


# --- The router ---------------------------------------------------------------------------------


def loaded_from(alias: str) -> Report:
    report = Report(reference="HUE-2026-000001")
    report._state.db = alias
    return report


def test_writes_go_to_the_primary_even_for_rows_read_from_a_replica(replica):
    assert PrimaryReplicaRouter().db_for_write(Report) == DEFAULT_DB_ALIAS
    assert router.db_for_write(Report, instance=loaded_from(REPLICA)) == DEFAULT_DB_ALIAS


def test_implicit_reads_stay_on_the_primary(replica):
    assert PrimaryReplicaRouter().db_for_read(Report) is None
    assert router.db_for_read(Report) == DEFAULT_DB_ALIAS
    assert Report.objects.all().db == DEFAULT_DB_ALIAS
    # A related lookup follows the row it starts from.
    assert router.db_for_read(Report, instance=loaded_from(REPLICA)) == REPLICA


def test_migrations_run_on_the_primary_only(replica):
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "reports", model_name="report") is True
    assert router.allow_migrate(REPLICA, "reports", model_name="report") is False


def test_rows_of_the_primary_and_a_replica_may_be_related(replica):
    assert router.allow_relation(loaded_from(DEFAULT_DB_ALIAS), loaded_from(REPLICA)) is True
    assert PrimaryReplicaRouter().allow_relation(loaded_from(REPLICA), loaded_from("other")) is None


@pytest.mark.django_db
def test_saving_a_row_read_from_a_replica_writes_to_the_primary(reference_data, replica):
    report = ReportFactory()
    report._state.db = REPLICA
    report.description = "Đèn vẫn không sáng"

    report.save(update_fields=["description"])

    assert report._state.db == DEFAULT_DB_ALIAS


# --- Which database each read uses ---------------------------------------------------------------


def feed(user: User | None = None, **parameters: str) -> Any:
    """The feed's queryset as the list view makes it: the selector, then the filters."""
    filters = ReportFilter(
        QueryDict(urlencode(parameters)), queryset=selectors.report_feed(user=user)
    )
    assert filters.is_valid(), filters.errors
    return filters.qs


@pytest.mark.parametrize(
    "parameters",
    [
        {},
        {"near": f"{PHU_XUAN_POINT[0]},{PHU_XUAN_POINT[1]}", "radius": "500"},
        {"near": f"{PHU_XUAN_POINT[0]},{PHU_XUAN_POINT[1]}", "ordering": "nearest"},
        {"q": "đèn đường"},
        {"status": "routed", "category": "street_lighting", "area": "19753"},
        {"bbox": "107.55,16.44,107.62,16.49", "ordering": "most_supported"},
    ],
)
@pytest.mark.django_db
def test_the_public_feed_reads_a_replica_whatever_its_filters(replica, parameters):
    assert feed(**parameters).db == REPLICA


@pytest.mark.django_db
def test_the_public_feed_reads_a_replica_for_a_signed_in_citizen_too(replica, citizen):
    assert selectors.report_feed(user=citizen).db == REPLICA


@pytest.mark.django_db
def test_reads_that_must_see_the_latest_writes_stay_on_the_primary(replica, citizen, staff_a):
    report = ReportFactory(reporter=citizen, is_public=True)

    assert selectors.report_feed(user=citizen, mine=True).db == DEFAULT_DB_ALIAS
    assert selectors.report_feed(user=None, mine=True).db == DEFAULT_DB_ALIAS
    assert selectors.reports_visible_to(citizen).db == DEFAULT_DB_ALIAS
    detail = selectors.report_detail(user=citizen, reference=report.reference)
    assert detail is not None
    assert detail._state.db == DEFAULT_DB_ALIAS
    assert selectors.reports_for_staff(staff_a).db == DEFAULT_DB_ALIAS
    assert selectors.categories_active().db == DEFAULT_DB_ALIAS
    period = stats.Period.last_days(30)
    assert stats.StatsFilters(period=period).reports().db == DEFAULT_DB_ALIAS  # the dashboard
    request = open311_selectors.service_request_get(report.reference)
    assert request is not None
    assert request._state.db == DEFAULT_DB_ALIAS


@pytest.mark.django_db
def test_open311s_services_read_a_replica(replica):
    assert open311_selectors.services_active().db == REPLICA


def test_the_statistics_filters_read_the_database_they_name(replica):
    filters = stats.StatsFilters(period=stats.Period.last_days(30), using=REPLICA)

    assert filters.reports().db == REPLICA
    assert filters.cache_key() == stats.StatsFilters(period=filters.period).cache_key()


# --- End to end: a replica connection answers the public reads ----------------------------------


def tables(queries: list[dict[str, str]]) -> set[str]:
    """The tables (and columns) the captured queries name."""
    return {name for query in queries for name in re.findall(r'"(\w+)"', query["sql"])}


REPORT_TABLES = {
    "reports_report",
    "reports_photo",
    "reports_dailyfigures",
    "reports_dailyfiguresstate",
}


@contextmanager
def reads() -> Iterator[dict[str, set[str]]]:
    """The tables read on the replica and on the primary inside the block."""
    found: dict[str, set[str]] = {}
    with (
        CaptureQueriesContext(connections[REPLICA]) as on_replica,
        CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as on_primary,
    ):
        yield found
    found["replica"] = tables(on_replica.captured_queries)
    found["primary"] = tables(on_primary.captured_queries)


def assert_on_replica(request: Callable[[], Any]) -> Any:
    with reads() as found:
        response = request()
    assert response.status_code == 200, response.content
    assert "reports_report" in found["replica"]
    assert not found["primary"] & REPORT_TABLES, found["primary"]
    return response


def assert_on_primary(request: Callable[[], Any], status: int = 200) -> Any:
    with reads() as found:
        response = request()
    assert response.status_code == status, response.content
    assert found["replica"] == set()
    return response


def test_the_public_reads_are_answered_by_the_replica(
    replica_connected, api: APIClient, file_report, citizen, other_citizen, settings
):
    settings.STATS_MIN_COUNT = 1  # three reports (small counts are withheld by default)
    filed = [
        assert_on_primary(lambda user=user: file_report(user), status=201).json()["reference"]
        for user in (citizen, other_citizen, citizen)
    ]
    cache.clear()  # no statistics or feed page from an earlier test

    first = assert_on_replica(lambda: api.get("/api/v1/reports", {"page_size": 2})).json()
    assert [item["reference"] for item in first["results"]] == [filed[2], filed[1]]
    assert first["results"][0]["photos"]  # prefetched on the replica too
    second = assert_on_replica(lambda: api.get(first["next"])).json()
    assert [item["reference"] for item in second["results"]] == [filed[0]]
    near = f"{PHU_XUAN_POINT[0]},{PHU_XUAN_POINT[1]}"
    for parameters in (
        {"near": near, "ordering": "nearest"},
        {"q": "đèn đường"},
        {"status": "routed", "category": "street_lighting"},
    ):
        body = assert_on_replica(lambda p=parameters: api.get("/api/v1/reports", p)).json()
        assert len(body["results"]) == 3, parameters
    statistics = assert_on_replica(lambda: api.get("/api/v1/stats")).json()
    assert statistics["city"]["received"] == 3
    requests = assert_on_replica(lambda: api.get("/open311/v2/requests.json")).json()
    assert {request["service_request_id"] for request in requests} == set(filed)
    with reads() as found:
        assert api.get("/open311/v2/services.json").status_code == 200
    assert "reports_category" in found["replica"]


def test_detail_mine_filing_open311_lookups_the_admin_and_tasks_read_the_primary(
    replica_connected, api: APIClient, api_as, file_report, citizen, dispatcher
):
    reference = assert_on_primary(lambda: file_report(citizen), status=201).json()["reference"]
    cache.clear()

    assert_on_primary(lambda: api.get(f"/api/v1/reports/{reference}"))
    mine = assert_on_primary(lambda: api_as(citizen).get("/api/v1/reports", {"mine": "true"}))
    assert [item["reference"] for item in mine.json()["results"]] == [reference]
    assert_on_primary(lambda: api.get(f"/open311/v2/requests/{reference}.json"))
    by_id = assert_on_primary(
        lambda: api.get("/open311/v2/requests.json", {"service_request_id": reference})
    )
    assert [request["service_request_id"] for request in by_id.json()] == [reference]
    staff = admin_client(dispatcher)
    assert_on_primary(lambda: staff.get("/admin/reports/report/"))
    assert_on_primary(lambda: staff.get("/admin/reports/report/dashboard/"))
    with reads() as found:
        insights_tasks.refresh_daily_figures.delay()
        tasks.sweep_unrouted.delay()
    assert found["replica"] == set()
    assert "reports_report" in found["primary"]
