"""The report metrics on /metrics: reports created by channel and category, the routing lag,
the cached pages' hits and misses, reports open and overdue by agency, texts by outcome."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from hues import metrics
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOCAL = {"REMOTE_ADDR": "127.0.0.1"}


def scrape(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", **LOCAL)
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


@pytest.fixture(autouse=True)
def _readings_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metrics, "_readings", metrics._Readings())
    monkeypatch.setattr(metrics, "SOURCE_SECONDS", 0.0)


def created(samples, channel: str, category: str) -> float:
    key = ("hues_reports_created_total", (("category", category), ("channel", channel)))
    return samples.get(key, 0.0)


def test_reports_filed_are_counted_by_channel_and_category(
    client, make_report, citizen, django_capture_on_commit_callbacks, file_for_caller
):
    before = scrape(client)
    operator = UserFactory(role="hotline")
    with django_capture_on_commit_callbacks(execute=True):
        make_report(citizen, category="garbage")
        file_for_caller(operator, category_code="garbage", description="Rác", address="Chợ Đông Ba")
    after = scrape(client)

    assert created(after, "app", "garbage") - created(before, "app", "garbage") == 1
    assert created(after, "hotline", "garbage") - created(before, "hotline", "garbage") == 1


def test_the_routing_lag_is_observed_once_per_routed_report(
    client, make_report, citizen, django_capture_on_commit_callbacks
):
    key = ("hues_routing_lag_seconds_count", ())
    before = scrape(client).get(key, 0.0)
    with django_capture_on_commit_callbacks(execute=True):
        make_report(citizen)  # routed
        make_report(citizen, category="other")  # to the dispatchers: not routed
    assert scrape(client)[key] - before == 1


def test_cached_pages_count_their_hits_and_misses(client, routed_report, settings):
    settings.FEED_CACHE_SECONDS = 15
    from django.core.cache import cache

    cache.clear()
    miss = ("hues_cache_lookups_total", (("cache", "feed"), ("result", "miss")))
    hit = ("hues_cache_lookups_total", (("cache", "feed"), ("result", "hit")))
    before = scrape(client)
    client.get("/api/v1/reports")
    client.get("/api/v1/reports")
    after = scrape(client)
    assert after.get(miss, 0) - before.get(miss, 0) == 1
    assert after.get(hit, 0) - before.get(hit, 0) == 1


def test_open_and_overdue_reports_are_gauged_by_agency(client, routed_report, triage_report):
    samples = scrape(client)
    assert samples[("hues_reports_open", (("agency", "hepco"),))] == 1
    assert samples[("hues_reports_open", (("agency", "none"),))] == 1
    assert samples[("hues_reports_overdue", (("agency", "hepco"),))] == 0
    assert samples[("hues_reports_open", (("agency", "police"),))] == 0

    with time_machine.travel(routed_report.due_at + timedelta(hours=1)):
        late = scrape(client)
    assert late[("hues_reports_overdue", (("agency", "hepco"),))] == 1
    assert timezone.now() < routed_report.due_at


def test_texts_are_counted_by_outcome(client, api):
    response = api.post(
        "/api/v1/auth/register",
        {"phone": "0905123456", "password": "a-long-passphrase", "full_name": "Lan"},
        format="json",
    )
    assert response.status_code == 201
    samples = scrape(client)
    sent = sum(
        value
        for (name, labels), value in samples.items()
        if name == "hues_sms_sent_total" and dict(labels)["outcome"] in ("sent", "queued")
    )
    assert sent >= 1
