"""The anonymous feed's first pages come from the cache, and never outlive a change."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import pytest
from django.core.cache import cache, caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from reports import lifecycle
from reports.models import Category, Report

FEED = "/api/v1/reports"

pytestmark = pytest.mark.django_db(transaction=True)  # on_commit runs: the real order


@pytest.fixture(autouse=True)
def feed_cache(settings: Any) -> Iterator[None]:
    settings.FEED_CACHE_SECONDS = 30
    cache.clear()
    yield
    cache.clear()


def queries(request: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as context:
        assert request().status_code == 200
    return len(context.captured_queries)


def references(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["reference"] for item in response.json()["results"]]


def test_a_repeated_anonymous_page_runs_no_query(
    api: Any, make_report: Callable[..., Report], citizen: User, django_assert_num_queries: Any
) -> None:
    make_report(citizen)
    first = api.get(FEED)
    with django_assert_num_queries(0):
        again = api.get(FEED)
    assert again.json() == first.json()
    assert again["ETag"] == first["ETag"]
    with django_assert_num_queries(0):
        assert api.get(FEED, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_a_new_report_shows_at_once(
    api: Any, make_report: Callable[..., Report], citizen: User
) -> None:
    old = make_report(citizen)
    assert references(api.get(FEED)) == [old.reference]
    new = make_report(citizen)
    assert references(api.get(FEED)) == [new.reference, old.reference]


def test_a_status_change_and_a_supporter_show_at_once(
    api_as: Callable[[User], Any],
    api: Any,
    make_report: Callable[..., Report],
    citizen: User,
    other_citizen: User,
    staff_a: User,
) -> None:
    report = make_report(citizen)
    assert api.get(FEED).json()["results"][0]["status"] == "routed"
    lifecycle.report_accept(report=report, actor=staff_a)
    assert api.get(FEED).json()["results"][0]["status"] == "in_progress"
    answer = api_as(other_citizen).post(f"{FEED}/{report.reference}/support")
    assert answer.status_code in (200, 201), answer.content
    assert api.get(FEED).json()["results"][0]["supporters"] == 1


def test_a_category_renamed_shows_at_once(
    api: Any, make_report: Callable[..., Report], citizen: User
) -> None:
    make_report(citizen)
    api.get(FEED)
    category = Category.objects.get(code="street_lighting")
    category.name_vi = "Đèn đường"
    category.save()
    assert api.get(FEED).json()["results"][0]["category"]["name"] == "Đèn đường"


def test_signed_in_users_and_further_pages_are_not_cached(
    api_as: Callable[[User], Any],
    api: Any,
    make_report: Callable[..., Report],
    citizen: User,
) -> None:
    make_report(citizen)
    make_report(citizen)
    client = api_as(citizen)
    client.get(FEED)
    second = api.get(FEED, {"page_size": 1}).json()["next"]
    api.get(second)
    # Each asks the database again.
    assert queries(lambda: client.get(FEED)) > 0
    assert queries(lambda: client.get(FEED, {"q": "den"})) > 0
    assert queries(lambda: api.get(second)) > 0
    assert queries(lambda: api.get(FEED, {"created_after": "2020-01-01T00:00:00Z"})) > 0


def test_near_and_search_pages_are_cached_on_the_point_and_the_words(
    api: Any, make_report: Callable[..., Report], citizen: User
) -> None:
    report = make_report(citizen)
    near = f"{report.lat},{report.lng}"
    assert references(api.get(FEED, {"near": near})) == [report.reference]
    assert references(api.get(FEED, {"q": "đèn"})) == [report.reference]

    assert queries(lambda: api.get(FEED, {"near": f"{report.lat}0,{report.lng}"})) == 0
    assert queries(lambda: api.get(FEED, {"q": "  DEN "})) == 0
    assert queries(lambda: api.get(FEED, {"near": near, "radius": 20})) > 0  # another radius
    assert queries(lambda: api.get(FEED, {"q": "den rac"})) > 0  # other words


def test_a_new_report_shows_at_once_near_and_in_a_search(
    api: Any, make_report: Callable[..., Report], citizen: User
) -> None:
    old = make_report(citizen)
    near = f"{old.lat},{old.lng}"
    api.get(FEED, {"near": near})
    api.get(FEED, {"q": "den"})
    new = make_report(citizen)

    assert references(api.get(FEED, {"near": near})) == [new.reference, old.reference]
    assert references(api.get(FEED, {"q": "den"})) == [new.reference, old.reference]


def test_an_invalid_near_or_search_is_refused_even_after_a_cached_page(
    api: Any, make_report: Callable[..., Report], citizen: User
) -> None:
    report = make_report(citizen)
    api.get(FEED, {"q": "den"})
    api.get(FEED, {"near": f"{report.lat},{report.lng}"})

    assert api.get(FEED, {"q": "den" + "," * 200}).status_code == 400
    assert api.get(FEED, {"near": f"{report.lat},{report.lng},1"}).status_code == 400
    assert api.get(FEED, {"near": f"{report.lat},{report.lng}", "radius": 0}).status_code == 400


def test_off_when_the_setting_is_zero(
    settings: Any,
    api: Any,
    make_report: Callable[..., Report],
    citizen: User,
) -> None:
    settings.FEED_CACHE_SECONDS = 0
    make_report(citizen)
    api.get(FEED)
    assert queries(lambda: api.get(FEED)) > 0


def detail(client: Any, report: Report) -> Any:
    answer = client.get(f"{FEED}/{report.reference}")
    assert answer.status_code == 200, answer.content
    return answer.json()


def test_a_repeated_anonymous_detail_runs_no_query_until_the_report_changes(
    api: Any,
    make_report: Callable[..., Report],
    citizen: User,
    staff_a: User,
    django_assert_num_queries: Any,
) -> None:
    report = make_report(citizen)
    other = make_report(citizen)
    first = detail(api, report)
    lifecycle.report_accept(report=other, actor=staff_a)  # another report: no effect
    with django_assert_num_queries(0):
        assert detail(api, report) == first
    lifecycle.report_accept(report=report, actor=staff_a)
    changed = detail(api, report)
    assert changed["status"] == "in_progress"
    assert [event["kind"] for event in changed["timeline"]][-1] == "accepted"


def test_a_report_made_private_is_gone_at_once_for_anonymous_users(
    api: Any, make_report: Callable[..., Report], citizen: User
) -> None:
    report = make_report(citizen)
    detail(api, report)
    report.is_public = False
    report.save()
    assert api.get(f"{FEED}/{report.reference}").status_code == 404


def test_a_signed_in_users_detail_is_not_cached(
    api_as: Callable[[User], Any], make_report: Callable[..., Report], citizen: User
) -> None:
    report = make_report(citizen, hide_name=True)
    client = api_as(citizen)
    assert detail(client, report)["reporter_name"] == citizen.full_name
    assert queries(lambda: client.get(f"{FEED}/{report.reference}")) > 0


def test_a_deleted_account_leaves_no_name_in_cached_pages(
    api: Any, make_report: Callable[..., Report], citizen: User
) -> None:
    from accounts.services import user_delete_account

    report = make_report(citizen)
    assert api.get(FEED).json()["results"][0]["reporter_name"] == citizen.full_name
    assert detail(api, report)["reporter_name"] == citizen.full_name
    user_delete_account(user=citizen)
    assert api.get(FEED).json()["results"][0]["reporter_name"] is None
    assert detail(api, report)["reporter_name"] is None


def test_a_renamed_reporter_shows_at_once(
    api: Any, make_report: Callable[..., Report], citizen: User
) -> None:
    report = make_report(citizen)
    detail(api, report)
    api.get(FEED)
    citizen.full_name = "Trần Thị Bình"
    citizen.save(update_fields=["full_name"])
    assert api.get(FEED).json()["results"][0]["reporter_name"] == "Trần Thị Bình"
    assert detail(api, report)["reporter_name"] == "Trần Thị Bình"


@pytest.mark.parametrize("path", ["feed", "detail", "near"])
def test_a_cached_page_costs_one_round_trip_to_redis_with_the_throttle(
    path: str,
    api: Any,
    make_report: Callable[..., Report],
    citizen: User,
    monkeypatch: pytest.MonkeyPatch,
    django_assert_num_queries: Any,
) -> None:
    """The page and its versions are read by the throttle's script (hues.throttling
    read_ahead), not by a second call after it."""
    from redis import Redis

    from hues.cache import ResilientRedisCache
    from tests.conftest import need

    need(isinstance(caches["default"], ResilientRedisCache), "the cache is not Redis")
    report = make_report(citizen)
    url = {
        "feed": FEED,
        "detail": f"{FEED}/{report.reference}",
        "near": f"{FEED}?near={report.lat},{report.lng}",
    }[path]
    first = api.get(url)
    assert first.status_code == 200
    calls: list[str] = []
    real = Redis.execute_command
    monkeypatch.setattr(
        Redis, "execute_command", lambda self, *a, **k: calls.append(a[0]) or real(self, *a, **k)
    )

    with django_assert_num_queries(0):
        again = api.get(url)

    assert calls == ["EVALSHA"]
    assert again.content == first.content


def test_a_cached_page_is_still_read_when_no_throttle_counts_the_request(
    api: Any,
    make_report: Callable[..., Report],
    citizen: User,
    settings: Any,
    django_assert_num_queries: Any,
) -> None:
    """With no rate for anonymous clients nothing reads the page ahead: the view reads it."""
    report = make_report(citizen)
    url = f"{FEED}/{report.reference}"
    first = api.get(url)
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "anon": None,
        },
    }
    with django_assert_num_queries(0):
        again = api.get(url)
    assert again.content == first.content


def test_reports_routed_in_one_batch_show_routed_at_once_in_the_feed_and_their_details(
    api: Any, make_report: Callable[..., Report], citizen: User
) -> None:
    """A routing batch is one UPDATE and one INSERT (no post_save): it drops the pages itself."""
    with mock.patch("hues.scheduling.enqueue"):  # no routing task runs after the commit
        first, second = (make_report(citizen, route=False) for _ in range(2))
    assert {item["status"] for item in api.get(FEED).json()["results"]} == {"submitted"}
    assert detail(api, first)["status"] == "submitted"

    lifecycle.reports_route(report_ids=[first.pk, second.pk])

    assert {item["status"] for item in api.get(FEED).json()["results"]} == {"routed"}
    assert detail(api, first)["status"] == "routed"
    assert detail(api, second)["status"] == "routed"


def test_a_detail_is_kept_longer_than_a_feed_page(
    api: Any,
    make_report: Callable[..., Report],
    citizen: User,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only its own report's changes (and names) change a detail; any new report changes
    the feed."""
    from reports import selectors

    settings.DETAIL_CACHE_SECONDS = 300
    kept: dict[str, int] = {}

    class Recording:
        def __getattr__(self, name: str) -> Any:
            return getattr(cache, name)

        def set(self, key: str, value: Any, timeout: Any = None, **kwargs: Any) -> None:
            kept[key.split(":")[1]] = timeout
            cache.set(key, value, timeout, **kwargs)

    monkeypatch.setattr(selectors, "cache", Recording())
    report = make_report(citizen)

    detail(api, report)
    api.get(FEED)

    assert kept["detail"] == 300
    assert kept["feed"] == 30
