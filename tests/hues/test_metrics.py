"""/metrics: Prometheus's text format, served only to this machine or with METRICS_TOKEN;
requests counted by URL pattern (never the raw path) and status; readings taken at scrape
time, kept a few seconds, and left out (not a 500) when their source fails."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.parser import text_string_to_metric_families

from hues import metrics
from hues.celery import app as celery_app
from tests.conftest import need

LOCAL = {"REMOTE_ADDR": "127.0.0.1"}


def scrape(client, **headers: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The samples of a scrape from this machine: (name, sorted labels) -> value."""
    response = client.get("/metrics", **{**LOCAL, **headers})
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def requests_counted(client, route: str, status: str, method: str = "GET") -> float:
    key = (
        "hues_http_requests_total",
        (("method", method), ("route", route), ("status", status)),
    )
    return scrape(client).get(key, 0.0)


@pytest.fixture(autouse=True)
def _readings_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test registers its own sources and reads them afresh."""
    monkeypatch.setattr(metrics, "_sources", dict(metrics._sources))
    monkeypatch.setattr(metrics, "_readings", metrics._Readings())


def test_a_scrape_from_this_machine_gets_the_text_format(client):
    client.get("/api/v1/health")

    samples = scrape(client)

    assert any(name == "hues_http_requests_total" for name, _ in samples)


def test_another_machine_is_refused_without_a_token(client):
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert b"hues_http" not in response.content


@pytest.mark.parametrize("header", ["HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP"])
def test_a_request_through_a_proxy_on_this_machine_is_refused(client, header):
    response = client.get("/metrics", **LOCAL, **{header: "203.0.113.9"})

    assert response.status_code == 403


def test_ipv6_loopback_is_this_machine(client):
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="::ffff:127.0.0.1").status_code == 200


def test_with_a_token_every_scrape_needs_it(client, settings):
    settings.METRICS_TOKEN = "scrape-secret-42"

    missing = client.get("/metrics", **LOCAL)
    wrong = client.get("/metrics", **LOCAL, HTTP_AUTHORIZATION="Bearer not-it")
    right = client.get(
        "/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer scrape-secret-42"
    )

    assert missing.status_code == 401
    assert missing["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert missing.json()["code"] == "not_authenticated"
    assert wrong.status_code == 401
    assert right.status_code == 200
    assert b"hues_http_requests_total" in right.content


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer",
        "Bearer  ",
        "Basic c2NyYXBl",
        "Bearer \u00e9\u00e8\u00ff",
        "scrape-secret-42",
        "x" * 5000,
    ],
)
def test_a_malformed_authorization_is_a_401_not_a_500(client, settings, authorization):
    settings.METRICS_TOKEN = "scrape-secret-42"

    response = client.get("/metrics", **LOCAL, HTTP_AUTHORIZATION=authorization)

    assert response.status_code == 401


@pytest.mark.parametrize("method", ["post", "put", "delete", "patch"])
def test_only_get_is_answered(client, method):
    response = getattr(client, method)("/metrics", **LOCAL)

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


@pytest.mark.django_db
def test_requests_are_counted_by_url_pattern_never_by_path(client):
    before = requests_counted(client, "api/v1/reports/<reference>", "404")

    client.get("/api/v1/reports/HUE-2026-000001")
    client.get("/api/v1/reports/HUE-2026-999999")
    response = client.get("/metrics", **LOCAL)

    after = requests_counted(client, "api/v1/reports/<reference>", "404")
    assert after == before + 2
    assert b"HUE-2026-000001" not in response.content


def test_a_path_no_pattern_matches_counts_as_unmatched(client):
    before = requests_counted(client, metrics.UNMATCHED, "404")

    client.get("/wp-login.php")
    client.get("/no/such/page/0905123456")

    assert requests_counted(client, metrics.UNMATCHED, "404") == before + 2
    assert b"wp-login" not in client.get("/metrics", **LOCAL).content


def test_an_unknown_method_counts_as_other(client):
    before = requests_counted(client, "api/v1/health", "405", method="other")

    client.generic("BREW", "/api/v1/health")

    assert requests_counted(client, "api/v1/health", "405", method="other") == before + 1


@pytest.mark.django_db
def test_a_request_refused_before_routing_counts_under_its_route(client, settings):
    settings.REQUEST_MAX_BODY_SIZE = 1000
    before = requests_counted(client, "api/v1/reports", "413", method="POST")

    client.post("/api/v1/reports", data=b"x" * 2000, content_type="application/octet-stream")

    assert requests_counted(client, "api/v1/reports", "413", method="POST") == before + 1


def test_latency_is_a_histogram_by_route_and_status(client):
    client.get("/health/live")

    samples = scrape(client)

    labels = (("method", "GET"), ("route", "health/live"), ("status", "200"))
    assert samples[("hues_http_request_duration_seconds_count", labels)] >= 1
    assert ("hues_http_request_duration_seconds_bucket", (("le", "0.005"), *labels)) in samples


def test_the_regex_patterns_of_the_api_read_as_paths():
    assert (
        metrics.route_label(r"api/v1/reports/(?P<reference>[A-Z]{2,10}-\d{4}-\d{6,})/photos$")
        == "api/v1/reports/<reference>/photos"
    )
    assert (
        metrics.route_label(
            r"open311/v2/requests/(?P<service_request_id>[\w-]+)\.(?P<format>json|xml)$"
        )
        == "open311/v2/requests/<service_request_id>.<format>"
    )


def test_a_source_is_read_at_scrape_time_and_kept_a_few_seconds(client, monkeypatch):
    calls = []

    def read() -> list[GaugeMetricFamily]:
        calls.append(1)
        return [GaugeMetricFamily("hues_test_reading", "A reading.", value=len(calls))]

    metrics.register_source("test", read)

    first = scrape(client)
    second = scrape(client)
    monkeypatch.setattr(metrics, "SOURCE_SECONDS", 0.0)
    third = scrape(client)

    assert first[("hues_test_reading", ())] == 1
    assert second[("hues_test_reading", ())] == 1  # kept: not read again
    assert third[("hues_test_reading", ())] == 2
    assert len(calls) == 2
    assert first[("hues_metrics_source_up", (("source", "test"),))] == 1


def test_a_failing_source_is_left_out_and_marked_down(client):
    def read() -> list[GaugeMetricFamily]:
        raise ConnectionError("the database is away")

    metrics.register_source("failing", read)

    samples = scrape(client)

    assert samples[("hues_metrics_source_up", (("source", "failing"),))] == 0
    assert any(name == "hues_http_requests_total" for name, _ in samples)


def test_the_sms_hook_exposes_texts_sent_by_outcome(client):
    metrics.register_sms_counts(lambda: {"sent": 120, "failed": 3})

    samples = scrape(client)

    assert samples[("hues_sms_sent_total", (("outcome", "sent"),))] == 120
    assert samples[("hues_sms_sent_total", (("outcome", "failed"),))] == 3


def test_without_a_broker_no_queue_is_reported(client):
    samples = scrape(client)

    assert not any(name == "hues_celery_queue_length" for name, _ in samples)
    assert samples[("hues_metrics_source_up", (("source", "broker"),))] == 1


@pytest.fixture
def broker_url(settings) -> Iterator[str]:
    """The real broker (Redis), tasks sent to it rather than run eagerly; the queue purged
    before and after (tests that use a broker run one after the other: tests/conftest.py)."""
    url = settings.E2E_BROKER_URL
    need(url.startswith("redis://"), "CELERY_BROKER_URL does not point at Redis")
    eager = celery_app.conf.CELERY_TASK_ALWAYS_EAGER
    celery_app.conf.CELERY_TASK_ALWAYS_EAGER = False
    with celery_app.connection_for_write() as connection:
        connection.default_channel.queue_purge(celery_app.conf.task_default_queue)
    try:
        yield url
    finally:
        with celery_app.connection_for_write() as connection:
            connection.default_channel.queue_purge(celery_app.conf.task_default_queue)
        celery_app.conf.CELERY_TASK_ALWAYS_EAGER = eager


def test_queue_lengths_are_read_from_the_broker(client, broker_url):
    for _ in range(3):
        celery_app.send_task("reports.sweep_unrouted")

    samples = scrape(client)

    queue = celery_app.conf.task_default_queue
    assert samples[("hues_celery_queue_length", (("queue", queue),))] == 3


@celery_app.task(name="tests.metrics.fails")
def _fails() -> None:
    raise RuntimeError("a task that fails")


@celery_app.task(name="tests.metrics.succeeds")
def _succeeds() -> int:
    return 1


def test_tasks_are_counted_by_outcome(client):
    def counted(task: str, outcome: str) -> float:
        key = ("hues_celery_tasks_total", (("outcome", outcome), ("task", task)))
        return scrape(client).get(key, 0.0)

    failed = counted("tests.metrics.fails", "failed")
    succeeded = counted("tests.metrics.succeeds", "succeeded")

    with pytest.raises(RuntimeError):
        _fails.apply()
    _succeeds.apply()

    assert counted("tests.metrics.fails", "failed") == failed + 1
    assert counted("tests.metrics.succeeds", "succeeded") == succeeded + 1
    durations = scrape(client)
    assert (
        durations[
            ("hues_celery_task_duration_seconds_count", (("task", "tests.metrics.succeeds"),))
        ]
        >= 1
    )


def test_the_probes_and_metrics_answer_whatever_the_host(client):
    foreign = {"HTTP_HOST": "10.20.30.40:8000"}

    assert client.get("/health/live", **foreign).status_code == 200
    assert client.get("/metrics", **LOCAL, **foreign).status_code == 200
    assert client.get("/api/v1/health", **foreign).status_code == 400  # the host check stays
