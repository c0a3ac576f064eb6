"""End to end: a real `celery worker` process routes a report filed over HTTP.

Needs PostgreSQL (the worker is another process and must see the test database) and a
Redis broker: CI provides both (CELERY_BROKER_URL, DATABASE_URL). Locally, without them,
the test is skipped with the reason; under CI=true it fails instead.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.db import connection

from accounts.models import User
from hues.celery import app as celery_app
from reports.models import Event, Photo, Report, ReportStatus
from tests.conftest import PHU_XUAN_POINT, need
from tests.factories import UserFactory
from tests.images import image_bytes

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-42"


@pytest.fixture
def broker_url() -> str:
    url = settings.E2E_BROKER_URL
    need(url.startswith("redis://"), "CELERY_BROKER_URL does not point at Redis")
    need(connection.vendor == "postgresql", "the database is not PostgreSQL (DATABASE_URL)")
    return url


def shared_database_url() -> str:
    """The test database's URL, for another process (a worker) to use."""
    database = connection.settings_dict
    return (
        f"postgres://{database['USER']}:{database['PASSWORD'] or ''}@"
        f"{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}"
    )


@contextlib.contextmanager
def worker_process(env: dict[str, str], log: Path) -> Iterator[Path]:
    """A real `celery worker` (solo pool) with `env`, on a purged broker, writing to `log`;
    meanwhile this process sends its tasks to the broker instead of running them eagerly.
    Yields the log; stops the worker after."""
    subprocess.run(
        [sys.executable, "-m", "celery", "-A", "hues", "purge", "-f"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    with log.open("w") as output:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "-A", "hues", "worker", "--pool=solo"),
                *("--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"),
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    # The namespaced key is the one the settings set and Celery reads first: assigning
    # conf.task_always_eager would leave the tasks eager (run by the live server itself).
    eager = celery_app.conf.CELERY_TASK_ALWAYS_EAGER
    celery_app.conf.CELERY_TASK_ALWAYS_EAGER = False
    try:
        yield log
    finally:
        celery_app.conf.CELERY_TASK_ALWAYS_EAGER = eager
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def worker_env(broker_url: str, **extra: str) -> dict[str, str]:
    """The environment of a real worker on the test database and `broker_url`, in
    production settings, with `extra` settings."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hues.settings",
        "DEBUG": "false",
        "SECRET_KEY": settings.SECRET_KEY,
        "DATABASE_URL": shared_database_url(),
        "CELERY_BROKER_URL": broker_url,
        **extra,
    }


@pytest.fixture
def worker(broker_url: str, reference_data: None, tmp_path: Path) -> Iterator[Path]:
    """A real worker process on the test database; tasks go to the broker, not eagerly."""
    env = worker_env(
        broker_url,
        MEDIA_ROOT=str(tmp_path / "media"),
        SMS_BACKEND="file",
        SMS_FILE_DIR=str(tmp_path / "sms"),
    )
    with worker_process(env, tmp_path / "worker.log") as log:
        yield log


def _wait_for(predicate, *, timeout: float, log: Path) -> None:
    """Poll another process's work until it shows, or fail with its log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(f"Timed out after {timeout} s. Worker log:\n{log.read_text()[-4000:]}")


def test_a_real_worker_routes_a_report_filed_over_http(worker: Path, live_server) -> None:
    citizen: User = UserFactory(phone="+84905123456")
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        token = http.post("/api/v1/auth/token", json={"phone": "0905123456", "password": PASSWORD})
        assert token.status_code == 200, token.text
        response = http.post(
            "/api/v1/reports",
            headers={"Authorization": f"Bearer {token.json()['access']}"},
            data={
                "category": "street_lighting",
                "description": "Đèn đường trước chợ Đông Ba không sáng",
                "lat": str(PHU_XUAN_POINT[0]),
                "lng": str(PHU_XUAN_POINT[1]),
            },
            files={"photos": ("street.jpg", image_bytes("JPEG", gps=True), "image/jpeg")},
        )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == ReportStatus.SUBMITTED  # routing happens in the worker
    report = Report.objects.get(reference=response.json()["reference"], reporter=citizen)

    _wait_for(
        lambda: Report.objects.filter(pk=report.pk, status=ReportStatus.ROUTED).exists(),
        timeout=60,
        log=worker,
    )

    report.refresh_from_db()
    assert report.agency.code == "hepco"
    assert report.due_at is not None
    assert Event.objects.filter(report=report, kind=Event.Kind.ROUTED).count() == 1
    assert "Task reports.route[" in worker.read_text()  # received and run by the worker
    # The photo's privacy step went through its own queue ("photos"), which a plain
    # `celery worker` consumes beside the default one.
    photo = Photo.objects.get(report=report)
    _wait_for(
        lambda: Photo.objects.filter(pk=photo.pk, redacted_at__isnull=False).exists(),
        timeout=60,
        log=worker,
    )
    assert "Task reports.redact_photo[" in worker.read_text()
