"""A real Prometheus server (Debian package prometheus) scrapes the project as it runs in
production: gunicorn with two worker processes (hues/gunicorn.py: prometheus-client's
multiprocess mode) and a Celery worker with a prefork pool serving its own metrics
(WORKER_METRICS_ADDRESS), both behind METRICS_TOKEN; the series are read back through
Prometheus's HTTP API, and the alerting rules load in it.

The project runs on an SQLite file here (the figures do not depend on the database); the
worker needs the Redis broker of the test run (CELERY_BROKER_URL) and consumes a queue of
its own, so other tests' workers never see its tasks.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
import uuid
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from celery.exceptions import AlwaysEagerIgnored
from django.conf import settings
from django_guid import clear_guid, set_guid
from prometheus_client.parser import text_string_to_metric_families

from hues.celery import app as celery_app
from tests.conftest import need
from tests.fault.harness import PYTHON, ROOT, Proc, Stack, base_env, free_port, manage, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("prometheus-live")]

TOKEN = "scrape-" + uuid.uuid4().hex
HEALTH_REQUESTS = 40
TASKS = 5


@dataclass
class Live:
    web: str
    web_proc: Proc
    web_metrics_dir: Path
    worker_metrics: str
    prometheus: str
    queue: str
    worker_log: Path

    def query(self, expression: str) -> list[dict[str, Any]]:
        response = httpx.get(
            f"{self.prometheus}/api/v1/query", params={"query": expression}, timeout=10
        )
        response.raise_for_status()
        body = response.json()
        assert body["status"] == "success", body
        return list(body["data"]["result"])

    def value(self, expression: str) -> float | None:
        result = self.query(expression)
        return float(result[0]["value"][1]) if result else None

    def health_answered(self) -> float:
        """hues_http_requests_total for GET api/v1/health 200, read from the web's /metrics."""
        response = httpx.get(
            f"{self.web}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
        )
        return sum(
            sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples
            if sample.name == "hues_http_requests_total"
            and sample.labels == {"route": "api/v1/health", "method": "GET", "status": "200"}
        )

    def wait_for_value(self, expression: str, expected: float, timeout: float = 60) -> float:
        seen: list[float | None] = []

        def reached() -> bool:
            seen.append(self.value(expression))
            return seen[-1] == expected

        try:
            wait_for(reached, timeout=timeout, what=f"{expression} == {expected} in Prometheus")
        except TimeoutError as error:
            raise AssertionError(f"{error}; it read {seen[-5:]}") from error
        return expected


def _prometheus_config(web_port: int, worker_port: int, rules: Path) -> str:
    def job(name: str, port: int, *, token: bool) -> dict[str, Any]:
        config: dict[str, Any] = {
            "job_name": name,
            "metrics_path": "/metrics",
            "static_configs": [{"targets": [f"127.0.0.1:{port}"]}],
        }
        if token:
            config["authorization"] = {"type": "Bearer", "credentials": TOKEN}
        return config

    # JSON is YAML: Prometheus reads it as its configuration file.
    return json.dumps(
        {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(rules)],
            "scrape_configs": [
                job("hues-web", web_port, token=True),
                job("hues-web-without-token", web_port, token=False),
                job("hues-worker", worker_port, token=True),
            ],
        }
    )


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    prometheus = shutil.which("prometheus")
    need(prometheus is not None, "prometheus is not installed (Debian package prometheus)")
    assert prometheus is not None
    broker = settings.E2E_BROKER_URL
    need(broker.startswith("redis://"), "CELERY_BROKER_URL does not point at Redis")
    work = tmp_path_factory.mktemp("prometheus-live")
    queue = f"hues-metrics-test-{uuid.uuid4().hex[:8]}"
    web_port, worker_port, prometheus_port = free_port(), free_port(), free_port()
    common = {
        "DEBUG": "false",
        "SECRET_KEY": "prometheus-live-" + uuid.uuid4().hex * 2,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{work / 'db.sqlite3'}",
        "CACHE_URL": "locmemcache://live",
        "MEDIA_ROOT": str(work / "media"),
        "SMS_BACKEND": "file",
        "SMS_FILE_DIR": str(work / "sms"),
        "SECURE_SSL_REDIRECT": "false",
        "METRICS_TOKEN": TOKEN,
        "LOG_LEVEL": "WARNING",
    }
    manage(base_env(**common, CELERY_BROKER_URL=""), "migrate", "--no-input", "-v", "0")
    stack = Stack(work)
    web_metrics, worker_metrics = work / "metrics-web", work / "metrics-worker"
    worker_metrics.mkdir()
    try:
        web = stack.add(
            Proc(
                name="gunicorn",
                argv=[
                    PYTHON,
                    "-m",
                    "gunicorn",
                    "-c",
                    "python:hues.gunicorn",
                    "hues.wsgi",
                    "--workers",
                    "2",
                    "--bind",
                    f"127.0.0.1:{web_port}",
                ],
                # No broker: the web runs its tasks itself (the embedded mode's way).
                env=base_env(
                    **common, CELERY_BROKER_URL="", PROMETHEUS_MULTIPROC_DIR=str(web_metrics)
                ),
                log=work / "gunicorn.log",
            )
        ).start()
        stack.add(
            Proc(
                name="worker",
                argv=[
                    PYTHON,
                    "-m",
                    "celery",
                    "-A",
                    "hues",
                    "worker",
                    "--pool=prefork",
                    "--concurrency=2",
                    "-Q",
                    queue,
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    f"--hostname=metrics-{uuid.uuid4().hex[:6]}@%h",
                ],
                env=base_env(
                    **{**common, "LOG_LEVEL": "INFO"},  # its task lines
                    CELERY_BROKER_URL=broker,
                    WORKER_METRICS_ADDRESS=f"127.0.0.1:{worker_port}",
                    PROMETHEUS_MULTIPROC_DIR=str(worker_metrics),
                ),
                log=work / "worker.log",
            )
        ).start()
        config = work / "prometheus.yml"
        config.write_text(
            _prometheus_config(web_port, worker_port, ROOT / "deploy/prometheus/alerts.yml")
        )
        stack.add(
            Proc(
                name="prometheus",
                argv=[
                    prometheus,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={work / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{prometheus_port}",
                    "--log.level=warn",
                ],
                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
                log=work / "prometheus.log",
            )
        ).start()
        url = f"http://127.0.0.1:{web_port}"
        prometheus_url = f"http://127.0.0.1:{prometheus_port}"
        try:
            wait_for(
                lambda: httpx.get(f"{url}/health/live", timeout=2).status_code == 200,
                timeout=90,
                what="gunicorn",
            )
            wait_for(
                lambda: (
                    httpx.get(f"http://127.0.0.1:{worker_port}/metrics", timeout=2).status_code
                    == 401
                ),
                timeout=90,
                what="the worker's metrics",
            )
            wait_for(
                lambda: httpx.get(f"{prometheus_url}/-/ready", timeout=2).status_code == 200,
                timeout=90,
                what="Prometheus",
            )
        except TimeoutError:
            pytest.fail("\n".join(f"--- {p.name}\n{p.tail()}" for p in stack.procs))
        yield Live(
            web=url,
            web_proc=web,
            web_metrics_dir=web_metrics,
            worker_metrics=f"http://127.0.0.1:{worker_port}",
            prometheus=prometheus_url,
            queue=queue,
            worker_log=work / "worker.log",
        )
    finally:
        stack.stop_all()
        with celery_app.connection_for_write(broker) as connection:
            connection.default_channel.queue_delete(queue)


def test_prometheus_scrapes_the_web_with_the_token_and_is_refused_without(live: Live):
    live.wait_for_value('up{job="hues-web"}', 1)
    live.wait_for_value('up{job="hues-web-without-token"}', 0)


def test_requests_served_by_both_gunicorn_workers_add_up_in_prometheus(live: Live):
    query = 'sum(hues_http_requests_total{job="hues-web",route="api/v1/health",status="200"})'

    def ask(_: int) -> int:
        return httpx.get(f"{live.web}/api/v1/health", timeout=10).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert set(pool.map(ask, range(HEALTH_REQUESTS))) == {200}

    live.wait_for_value(query, HEALTH_REQUESTS)
    print(f"\n{query} ->", json.dumps(live.query(query)))  # noqa: T201  # for the report
    # Eight clients at once against two sync workers: both took some.
    counted_by = {path.name for path in live.web_metrics_dir.glob("counter_*.db")}
    assert len(counted_by) == 2, counted_by


def test_a_killed_gunicorn_worker_leaves_its_counts_but_not_its_live_gauge(live: Live):
    query = 'sum(hues_http_requests_total{job="hues-web",route="api/v1/health",status="200"})'
    before = live.health_answered()  # from the web itself, not from a scrape that may lag
    for _ in range(3):
        assert httpx.get(f"{live.web}/api/v1/health", timeout=10).status_code == 200
    expected = live.wait_for_value(query, before + 3)
    victim = live.web_proc.children()[0]

    os.kill(victim, signal.SIGKILL)  # a gunicorn worker this test started
    killed_at = time.time()
    wait_for(
        lambda: victim not in live.web_proc.children() and len(live.web_proc.children()) == 2,
        timeout=60,
        what="gunicorn to replace its worker",
    )

    assert not (live.web_metrics_dir / f"gauge_livesum_{victim}.db").exists()
    # Scrapes after the new worker started: the total has not dropped (counts outlive a
    # process, in its file).
    wait_for(
        lambda: (live.value('timestamp(up{job="hues-web"})') or 0) > killed_at + 2,
        timeout=60,
        what="Prometheus to scrape the new worker",
    )
    assert live.value(query) == expected


def test_the_workers_task_metrics_reach_prometheus(live: Live):
    query = (
        'sum(hues_celery_tasks_total{job="hues-worker",task="reports.sweep_unrouted",'
        'outcome="succeeded"})'
    )
    with (
        warnings.catch_warnings(category=AlwaysEagerIgnored, action="ignore"),
        celery_app.connection_for_write(settings.E2E_BROKER_URL) as connection,
    ):
        for _ in range(TASKS):
            celery_app.send_task("reports.sweep_unrouted", queue=live.queue, connection=connection)

    live.wait_for_value(query, TASKS)
    print(f"\n{query} ->", json.dumps(live.query(query)))  # noqa: T201  # for the report


def test_the_alerting_rules_load_in_prometheus(live: Live):
    rules = httpx.get(f"{live.prometheus}/api/v1/rules", timeout=10).json()

    names = {rule["name"] for group in rules["data"]["groups"] for rule in group["rules"]}
    assert {"HuesErrorRate", "HuesQueueGrowing", "HuesRoutingSlow", "HuesSmsFailing"} <= names
    assert all(
        rule["health"] == "ok" for group in rules["data"]["groups"] for rule in group["rules"]
    )


def test_the_worker_logs_a_task_with_the_request_id_it_was_sent_with(live: Live):
    request_id = str(uuid.uuid4())
    set_guid(request_id)  # as the API request that enqueues it has
    try:
        with (
            warnings.catch_warnings(category=AlwaysEagerIgnored, action="ignore"),
            celery_app.connection_for_write(settings.E2E_BROKER_URL) as connection,
        ):
            sent = celery_app.send_task(
                "reports.sweep_unrouted", queue=live.queue, connection=connection
            )
    finally:
        clear_guid()

    def task_lines() -> list[dict[str, Any]]:
        lines = [
            json.loads(line)
            for line in live.worker_log.read_text().splitlines()
            if line.startswith("{")
        ]
        return [line for line in lines if line.get("task_id") == sent.id]

    wait_for(lambda: bool(task_lines()), timeout=60, what="the worker's line for the task")
    (line,) = task_lines()
    assert line["request_id"] == request_id
    assert line["logger"] == "hues.task"
    assert line["message"].startswith(f"Task reports.sweep_unrouted[{sent.id}] succeeded")
