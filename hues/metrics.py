"""Metrics in Prometheus's text format, from prometheus-client.

Each process counts into the metric objects below: the web's requests (by route, the URL
pattern, never the raw path), reports filed, cached pages, and the tasks a Celery worker
runs (routing lag, outcomes). Under gunicorn each worker process counts into its own file in
PROMETHEUS_MULTIPROC_DIR (prometheus-client's multiprocess mode, set up by hues/gunicorn.py)
and `/metrics` adds them up; a Celery worker does the same in its own directory and serves
them on WORKER_METRICS_ADDRESS.

Other figures are read when Prometheus scrapes the web's `/metrics`, from wherever they
live (`register_source`): Celery's queue lengths from the broker, here; open and overdue
reports from the database (insights); texts sent (the SMS hook, `register_sms_counts`).
Each reading is kept SOURCE_SECONDS, so scrapes in a row cost one.

Neither endpoint is public: with METRICS_TOKEN set, only a request carrying it as a bearer
token is answered; without it, only a request made on this machine, straight to the server
(a loopback address and no proxy's forwarding header).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import ThreadingWSGIServer
from prometheus_client.metrics_core import CounterMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

logger = logging.getLogger(__name__)

# Prometheus's text format, as generate_latest writes it.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Read by prometheus-client when it is first imported: set it before the process starts.
MULTIPROCESS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")

# No *_created series: Prometheus does not use them, and multiprocess mode has none.
disable_created_metrics()

# The metric objects. In multiprocess mode their values live in the directory's files, and a
# scrape reads the files (MultiProcessCollector), not this registry.
REGISTRY = CollectorRegistry()

HTTP_REQUESTS = Counter(
    "hues_http_requests",
    "HTTP requests answered, by route (the URL pattern), method and status.",
    ["route", "method", "status"],
    registry=REGISTRY,
)
HTTP_DURATION = Histogram(
    "hues_http_request_duration_seconds",
    "Time to answer an HTTP request (until the view returned), by route, method and status.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
HTTP_IN_PROGRESS = Gauge(
    "hues_http_requests_in_progress",
    "HTTP requests being answered now.",
    multiprocess_mode="livesum",
    registry=REGISTRY,
)
REPORTS_CREATED = Counter(
    "hues_reports_created",
    "Reports filed, by channel (app, open311, ...) and category code.",
    ["channel", "category"],
    registry=REGISTRY,
)
ROUTING_LAG = Histogram(
    "hues_routing_lag_seconds",
    "Time from a report's filing to its routing to an agency.",
    buckets=(1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600),
    registry=REGISTRY,
)
CACHE_LOOKUPS = Counter(
    "hues_cache_lookups",
    "Lookups of cached pages, by cache (feed, detail, ...) and result (hit, miss).",
    ["cache", "result"],
    registry=REGISTRY,
)
TASKS = Counter(
    "hues_celery_tasks",
    "Celery tasks run, by task name and outcome (succeeded, failed, retried).",
    ["task", "outcome"],
    registry=REGISTRY,
)
TASK_DURATION = Histogram(
    "hues_celery_task_duration_seconds",
    "Time a Celery task ran, by task name.",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 90.0),
    registry=REGISTRY,
)
TASK_OUTCOMES = {"SUCCESS": "succeeded", "FAILURE": "failed", "RETRY": "retried"}


# What the code counts: one call where it happens.


def report_created(*, channel: str, category: str) -> None:
    REPORTS_CREATED.labels(channel=channel, category=category).inc()


def report_routed(*, lag_seconds: float) -> None:
    ROUTING_LAG.observe(max(0.0, lag_seconds))


def cache_lookup(*, cache: str, hit: bool) -> None:
    CACHE_LOOKUPS.labels(cache=cache, result="hit" if hit else "miss").inc()


def task_finished(*, task: str, state: str, seconds: float | None) -> None:
    TASKS.labels(task=task, outcome=TASK_OUTCOMES.get(state, state.lower())).inc()
    if seconds is not None:
        TASK_DURATION.labels(task=task).observe(seconds)


# Requests: the route is the URL pattern that matched, so a label never holds a client's
# path (a reference, a token) and the number of series stays bounded.

UNMATCHED = "<unmatched>"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_NAMED_GROUP = re.compile(r"\(\?P<(\w+)>(?:[^()\\]|\\.)*\)")


@lru_cache(maxsize=512)
def route_label(route: str) -> str:
    """A URL pattern as a label: regular expressions' named groups written as path() writes
    them (`reports/(?P<reference>[A-Z]...)$` -> `reports/<reference>`)."""
    label = _NAMED_GROUP.sub(r"<\1>", route)
    return label.replace("^", "").replace("$", "").replace("\\.", ".")


def route_of(request: HttpRequest) -> str:
    """The URL pattern a request matched; for a request answered before the URL was resolved
    (a body too large, a host refused) the pattern its path would match; else UNMATCHED."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return UNMATCHED
    return route_label(match.route or "") if match.route is not None else UNMATCHED


def observe_request(*, route: str, method: str, status: int, seconds: float) -> None:
    labels = {
        "route": route,
        "method": method if method in METHODS else "other",
        "status": str(status),
    }
    HTTP_REQUESTS.labels(**labels).inc()
    HTTP_DURATION.labels(**labels).observe(seconds)


# Readings taken at scrape time.

Source = Callable[[], Iterable[Metric]]
SOURCE_SECONDS = 5.0
_sources: dict[str, Source] = {}


def register_source(name: str, read: Source) -> None:
    """Add a reading to the web's /metrics: `read` returns metric families
    (prometheus_client.core.GaugeMetricFamily, ...) read from the database, the broker, ...;
    it is called at most once every SOURCE_SECONDS per process. Apps register theirs in
    their AppConfig.ready(). A reading that fails is logged and left out, and
    hues_metrics_source_up{source=name} says 0."""
    _sources[name] = read


def register_sms_counts(read: Callable[[], Mapping[str, int]]) -> None:
    """The hook for hues_sms_sent_total{outcome}: `read` returns the texts sent since the
    start, by outcome (e.g. {"sent": 120, "failed": 3}), cheaply (it runs at scrape time,
    at most every SOURCE_SECONDS). The SMS code registers it in its AppConfig.ready():
    `metrics.register_sms_counts(selectors.sms_counts_by_outcome)`."""

    def families() -> list[Metric]:
        sent = CounterMetricFamily(
            "hues_sms_sent", "Texts sent through the SMS gateway, by outcome.", labels=["outcome"]
        )
        for outcome, count in sorted(read().items()):
            sent.add_metric([outcome], count)
        return [sent]

    register_source("sms", families)


class _Readings:
    """The registered sources as one collector, each reading kept SOURCE_SECONDS."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: dict[str, tuple[float, bool, list[Metric]]] = {}

    def read(self, name: str, source: Source) -> tuple[bool, list[Metric]]:
        with self._lock:
            kept = self._kept.get(name)
            if kept is not None and time.monotonic() - kept[0] < SOURCE_SECONDS:
                return kept[1], kept[2]
            try:
                ok, families = True, list(source())
            except Exception:
                # A database or broker that is away must not take the other metrics with it.
                logger.warning("Metrics: the %s reading failed", name, exc_info=True)
                ok, families = False, []
            self._kept[name] = (time.monotonic(), ok, families)
            return ok, families

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "hues_metrics_source_up",
            "1 when the last reading of a source (database, broker, ...) worked, else 0.",
            labels=["source"],
        )
        for name, source in sorted(_sources.items()):
            ok, families = self.read(name, source)
            up.add_metric([name], 1.0 if ok else 0.0)
            yield from families
        yield up


_readings = _Readings()


def queue_lengths() -> list[Metric]:
    """Messages waiting in each Celery queue, from the broker (none without a broker)."""
    from kombu.exceptions import ChannelError

    from hues.celery import app

    if app.conf.task_always_eager:
        return []
    length = GaugeMetricFamily(
        "hues_celery_queue_length", "Messages waiting in a Celery queue.", labels=["queue"]
    )
    names = {app.conf.task_default_queue, *(queue.name for queue in app.conf.task_queues or ())}
    with app.connection_for_read() as connection:
        channel: Any = connection.default_channel  # kombu's channels are untyped here
        for name in sorted(names):
            try:
                count = channel.queue_declare(queue=name, passive=True).message_count
            except ChannelError:  # not found: Redis keeps no empty queue
                count = 0
            length.add_metric([name], count)
    return [length]


register_source("broker", queue_lengths)


# Exposition.


class _Own:
    """This process's metric objects, or every process's files in multiprocess mode."""

    def collect(self) -> Iterator[Metric]:
        if MULTIPROCESS_DIR:
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=MULTIPROCESS_DIR)
            yield from registry.collect()
        else:
            yield from REGISTRY.collect()


class _Scrape:
    def __init__(self, *collectors: Any) -> None:
        self.collectors = collectors

    def collect(self) -> Iterator[Metric]:
        for collector in self.collectors:
            yield from collector.collect()


def exposition(*, readings: bool) -> bytes:
    """The metrics in Prometheus's text format; `readings`: with the scrape-time sources
    (the web's /metrics; a worker's exporter serves only what its processes counted)."""
    scrape = _Scrape(_Own(), _readings) if readings else _Scrape(_Own())
    return generate_latest(scrape)


_LOOPBACK_FORWARDED = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


def _is_loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)  # ::ffff:127.0.0.1 from a server on [::]
    return bool((mapped or ip).is_loopback)


def refusal(meta: Mapping[str, Any]) -> int | None:
    """Why a scrape is refused (401: a token is set and this request lacks it; 403: no token
    is set and the request is not from this machine, straight to the server), or None. A
    proxy on this machine makes every request look local: its forwarding headers refuse."""
    token = settings.METRICS_TOKEN
    if token:
        scheme, _space, given = str(meta.get("HTTP_AUTHORIZATION", "")).partition(" ")
        expected = token.encode()
        matches = hmac.compare_digest(given.strip().encode("utf-8", "replace"), expected)
        return None if scheme.lower() == "bearer" and matches else 401
    local = _is_loopback(str(meta.get("REMOTE_ADDR", "")))
    if local and not any(meta.get(header) for header in _LOOPBACK_FORWARDED):
        return None
    return 403


def _refused(status: int) -> JsonResponse:
    if status == 401:
        response = JsonResponse(
            {
                "detail": _("Metrics need the bearer token of METRICS_TOKEN."),
                "code": "not_authenticated",
            },
            status=401,
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return JsonResponse(
        {
            "detail": _("Metrics are served only to this machine (or with METRICS_TOKEN)."),
            "code": "permission_denied",
        },
        status=403,
    )


def metrics_view(request: HttpRequest) -> HttpResponse:
    """GET /metrics: Prometheus's scrape of this web instance."""
    if request.method not in ("GET", "HEAD"):
        refused = JsonResponse(
            {"detail": _("Method not allowed."), "code": "method_not_allowed"}, status=405
        )
        refused["Allow"] = "GET, HEAD"
        return refused
    status = refusal(request.META)
    if status is not None:
        return _refused(status)
    response = HttpResponse(exposition(readings=True), content_type=CONTENT_TYPE)
    response["Cache-Control"] = "no-store"
    return response


# A Celery worker's exporter (WORKER_METRICS_ADDRESS).


def clear_directory(directory: str) -> None:
    """Remove a previous run's files: counts start afresh with the server (Prometheus reads
    the drop as a restart). Only prometheus-client's own files are touched."""
    for path in Path(directory).glob("*.db"):
        path.unlink(missing_ok=True)


def _worker_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    status = refusal(environ)
    if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
        status = 405
    if status is not None:
        reason = {401: "Unauthorized", 403: "Forbidden", 405: "Method Not Allowed"}[status]
        headers = [("Content-Type", "text/plain; charset=utf-8")]
        if status == 401:
            headers.append(("WWW-Authenticate", 'Bearer realm="metrics"'))
        start_response(f"{status} {reason}", headers)
        return [f"{reason}\n".encode()]
    start_response("200 OK", [("Content-Type", CONTENT_TYPE)])
    return [exposition(readings=False)]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # the base's argument name
        """Scrapes are not worth a log line each."""


def parse_address(value: str) -> tuple[str, int]:
    """`host:port` (or `[::1]:port`) -> (host, port); ValueError when it is not one."""
    host, separator, port = value.rpartition(":")
    if not separator or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{value!r} is not host:port")
    return host.strip("[]"), int(port)


def serve_worker_metrics(address: str) -> ThreadingWSGIServer:
    """Serve this worker's metrics (every process of its pool, from PROMETHEUS_MULTIPROC_DIR)
    on `address`, in a thread of the worker's main process."""
    host, port = parse_address(address)
    server = make_server(
        host, port, _worker_app, server_class=ThreadingWSGIServer, handler_class=_QuietHandler
    )
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    logger.info("Worker metrics on http://%s:%d/metrics", host, port)
    return server
