"""A feed page is read through one hand-written statement around the filters' narrow query
(selectors.feed_page over reports.rows) and its photos through a second: it gives the same
reports, in the same order, with the same related rows, photos, distances, answers and ETags
as the querysets it replaces, for every filter, order, direction, viewer and language; on
SQLite and on PostgreSQL (CI). With it: instances built without Model.__init__, filter sets
and forms that share their fields, and serializers that look up once per page what every
report of it shares."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.models import F, Prefetch, QuerySet
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from rest_framework.test import APIClient

from accounts.models import User
from reports import rows, selectors, services
from reports.api.etags import feed_etag
from reports.api.filters import ReportFilter
from reports.api.serializers import ReportOutput
from reports.models import Category, Photo, Report
from tests.conftest import PHU_XUAN_POINT
from tests.reports.helpers import field_values, request_as

pytestmark = pytest.mark.django_db

FEED_FIELDS = set(selectors.FEED_REPORT_FIELDS)
PHOTO_FIELDS = set(selectors.FEED_PHOTO_FIELDS)


@pytest.fixture
def reports(report_states: list[Report], other_citizen: User) -> list[Report]:
    # Supporters, so that "most supported" orders by something other than the id (the
    # original already has one: the reporter of the duplicate merged into it).
    services.report_support(report=report_states[0], user=other_citizen)
    return report_states


def filtered(user: User | None, query: str) -> QuerySet[Report]:
    """The feed's queryset for a query string, as the view builds it (not yet a page)."""
    area = Report.objects.filter(area__isnull=False).values_list("area__code", flat=True)[0]
    near = f"{PHU_XUAN_POINT[0]},{PHU_XUAN_POINT[1]}"
    params = QueryDict(query.format(area=area, near=near))
    mine = params.get("mine") == "true"
    filters = ReportFilter(params, queryset=selectors.report_feed(user=user, mine=mine))
    assert filters.is_valid(), filters.errors
    return filters.qs


def orm_page(page: QuerySet[Report]) -> list[Report]:
    """What a page was before feed_page: the feed's querysets, photos prefetched."""
    return list(
        page.select_related("category", "area", "agency", "reporter").prefetch_related(
            Prefetch("photos", queryset=Photo.objects.order_by("id"))
        )
    )


QUERIES = [
    "",
    "category=street_lighting",
    "category=other",
    "area={area}",
    "status=routed&status=resolved",
    "q=den",
    "near={near}&radius=5000",
    "near={near}&radius=5000&ordering=nearest",
    "ordering=most_supported",
    "bbox=107.5,16.4,107.7,16.6",
    "mine=true",
    "mine=true&ordering=most_supported",
    "category=no-such-category",
]


def pages(user: User | None, query: str) -> list[QuerySet[Report]]:
    """The page querysets the pagination makes of a query: the first two reports, then the
    rest forward, and backward from the last one (a previous link)."""
    queryset = filtered(user, query)
    return [queryset[:2], queryset[2:], queryset.reverse()[:3]]


@pytest.mark.parametrize("query", QUERIES)
def test_the_same_reports_related_rows_and_photos_as_the_querysets(
    reports: list[Report], viewer_user: User | None, query: str
) -> None:
    user = viewer_user
    for page in pages(user, query):
        fast, slow = selectors.feed_page(page), orm_page(page)
        assert [r.pk for r in fast] == [r.pk for r in slow]
        for mine, theirs in zip(fast, slow, strict=True):
            loaded = {Report._meta.get_field(name).attname for name in FEED_FIELDS}
            assert set(mine.get_deferred_fields()).isdisjoint(loaded | {"id"})
            skip = {f.name for f in Report._meta.concrete_fields} - FEED_FIELDS
            assert field_values(mine, skip) == field_values(theirs, skip)
            for name, shown in (
                ("category", ("code", "name_vi", "name_en")),
                ("area", ("code", "name", "name_en")),
                ("agency", ("code", "name", "name_en")),
                ("reporter", ("full_name",)),
            ):
                ours, orm = getattr(mine, name), getattr(theirs, name)
                assert (ours is None) == (orm is None), name
                if ours is not None:
                    assert ours.pk == orm.pk
                    assert [getattr(ours, f) for f in shown] == [getattr(orm, f) for f in shown]
            assert [p.pk for p in mine.photos.all()] == [p.pk for p in theirs.photos.all()]
            for ours, orm in zip(mine.photos.all(), theirs.photos.all(), strict=True):
                assert ours.report is mine
                assert {f: getattr(ours, f) for f in PHOTO_FIELDS - {"report"}} == {
                    f: getattr(orm, f) for f in PHOTO_FIELDS - {"report"}
                }
            if "distance" in page.query.annotations:
                assert mine.distance == pytest.approx(theirs.distance)  # type: ignore[attr-defined]


def test_the_pages_are_not_empty_and_hold_every_state(reports: list[Report], citizen: User) -> None:
    """The comparisons above compare something: the reporter's own feed (mine) holds every
    state; the public feed the public ones, with photos, and a report without agency."""
    mine = selectors.feed_page(filtered(citizen, "mine=true")[:100])
    public = selectors.feed_page(filtered(None, "")[:100])
    assert {r.pk for r in mine} == {r.pk for r in reports if r.reporter_id == citizen.pk}
    assert len(public) == 5
    assert any(r.agency is None for r in public)
    assert sum(len(r.photos.all()) for r in public) >= 4
    supported = selectors.feed_page(filtered(None, "ordering=most_supported")[:2])
    assert [r.pk for r in supported] == [reports[5].pk, reports[0].pk]  # 1 each, newest first


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_same_answer_and_etag(
    reports: list[Report], viewer_user: User | None, language: str
) -> None:
    user = viewer_user
    request = request_as(user)
    with translation.override(language):
        for query in QUERIES:
            for page in pages(user, query):
                fast, slow = selectors.feed_page(page), orm_page(page)
                # One serializer for the page, as the view's list serializer has.
                answer = ReportOutput(fast, many=True, context={"request": request}).data
                expected = [
                    ReportOutput(context={"request": request}).to_representation(report)
                    for report in slow
                ]
                assert answer == expected
                links = ("next", None)
                assert feed_etag(request, fast, links) == feed_etag(request, slow, links)


def test_two_statements_for_a_page_and_none_from_the_serializer(
    reports: list[Report], citizen: User
) -> None:
    client = APIClient()
    client.force_authenticate(citizen)
    near = f"{PHU_XUAN_POINT[0]},{PHU_XUAN_POINT[1]}"
    for query in ("mine=true", f"category=street_lighting&near={near}&radius=5000"):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/api/v1/reports?{query}", secure=True)
        assert response.status_code == 200, response.content
        assert response.json()["results"]
        statements = [q["sql"] for q in queries.captured_queries]
        assert len(statements) == 2, statements
        assert "reports_photo" in statements[1]


def test_the_api_answers_as_the_serializer_over_the_querysets(
    reports: list[Report], citizen: User
) -> None:
    client = APIClient()
    client.force_authenticate(citizen)
    request = request_as(citizen)
    response = client.get("/api/v1/reports?mine=true&page_size=3", secure=True)
    assert response.status_code == 200
    expected = [
        ReportOutput(context={"request": request}).to_representation(report)
        for report in orm_page(filtered(citizen, "mine=true")[:3])
    ]
    assert response.json()["results"] == expected
    following = client.get(response.json()["next"], secure=True)
    assert following.status_code == 200
    expected = [
        ReportOutput(context={"request": request}).to_representation(report)
        for report in orm_page(filtered(citizen, "mine=true")[3:6])
    ]
    assert following.json()["results"] == expected


def test_an_empty_queryset_is_an_empty_page(reference_data: None) -> None:
    with CaptureQueriesContext(connection) as queries:
        assert selectors.feed_page(selectors.report_feed(user=None, mine=True)[:20]) == []
    assert len(queries) == 0


def test_a_page_needs_an_order_ending_in_the_id_only_for_the_pagination(
    reports: list[Report],
) -> None:
    """feed_page keeps whatever order the page has, annotations included."""
    lat, lng = PHU_XUAN_POINT
    page = selectors.reports_near(
        selectors.report_feed(user=None), lat=lat, lng=lng, radius=5000
    ).order_by("distance", "id")[:3]
    fast = selectors.feed_page(page)
    assert [r.pk for r in fast] == [r.pk for r in page]
    assert all(isinstance(r.distance, float) for r in fast)  # type: ignore[attr-defined]


# The instances: what Model.from_db gives.


def state(instance: Any) -> tuple[Any, ...]:
    values = {k: v for k, v in instance.__dict__.items() if k != "_state"}
    return (
        type(instance),
        values,
        instance._state.db,
        instance._state.adding,
        instance.get_deferred_fields(),
    )


@pytest.mark.parametrize(
    ("model", "only"),
    [
        (Report, None),
        (Report, set(selectors.FEED_REPORT_FIELDS)),
        (Photo, None),  # has post_init receivers (its image's width and height)
        (Photo, set(selectors.FEED_PHOTO_FIELDS)),
        (Category, {"code"}),
    ],
)
def test_columns_build_what_from_db_gives(
    reports: list[Report], model: type[Any], only: set[str] | None
) -> None:
    columns = rows.Columns(model, "t", only=only)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns.sql(connection)} FROM {table} t ORDER BY t.id")  # noqa: S608
        found = cursor.fetchall()
    assert found
    for row in found:
        built = columns.build_present(row, 0, connection)
        values = list(row)
        for position, functions, column in columns.converters(connection):
            for function in functions:
                values[position] = function(values[position], column, connection)
        expected = model.from_db(connection.alias, columns.attnames, values)
        assert state(built) == state(expected)
        assert built == expected


def test_each_filter_set_has_filters_of_its_own(reports: list[Report]) -> None:
    """The filters are copied shallowly (their settings shared), each bound to its own
    filter set, the class's untouched; the forms share the class's fields."""
    first = ReportFilter(QueryDict("category=street_lighting"), queryset=Report.objects.all())
    second = ReportFilter(QueryDict("category=other"), queryset=Report.objects.all())
    assert first.filters["category"] is not second.filters["category"]
    assert first.filters["category"].parent is first
    assert second.filters["category"].parent is second
    assert not hasattr(ReportFilter.base_filters["category"], "parent")
    assert first.filters["category"].extra is ReportFilter.base_filters["category"].extra
    assert first.is_valid()
    assert second.is_valid()
    lighting = {r.category.code for r in first.qs}
    other = {r.category.code for r in second.qs}
    assert lighting == {"street_lighting"}
    assert other == {"other"}
    assert first.form.fields["category"] is second.form.fields["category"]
    invalid = ReportFilter(QueryDict("radius=0&near=1,2"), queryset=Report.objects.all())
    assert not invalid.is_valid()
    assert ReportFilter(QueryDict("radius=10&near=1,2"), queryset=Report.objects.all()).is_valid()


def test_a_page_needs_an_order_by_names(reports: list[Report]) -> None:
    with pytest.raises(ValueError, match="ordered by names"):
        selectors.feed_page(Report.objects.order_by()[:2])
    with pytest.raises(ValueError, match="ordered by names"):
        selectors.feed_page(Report.objects.order_by(F("id").desc())[:2])
