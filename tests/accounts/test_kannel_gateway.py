"""End to end through a real SMS gateway: Debian's Kannel (bearerbox and smsbox) with its fake
SMS centre (fakesmsc) as the carrier (tests/accounts/kannel.py).

A citizen registers through the API; the code goes API -> outbox -> task -> smsbox's sendsms
-> bearerbox -> the carrier, which receives it in UCS-2 (the Vietnamese text keeps its
diacritics); the citizen verifies with the code the carrier received; Kannel's delivery
report comes back to the API and is recorded on the text. With bearerbox stopped during the
send, a real Celery worker retries with backoff and the code arrives once bearerbox is back.

Needs the Debian packages kannel and kannel-extras (.ci/run installs them) and PostgreSQL
(the live server, the worker and Kannel's callbacks write at once); the second test also
needs a Redis broker (a worker process shares the test database). Without them the tests skip
with the reason locally, and fail under CI=true.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from django.conf import settings
from django.db import connection

from accounts.models import TextMessage, User
from tests.accounts import kannel as kannel_harness
from tests.accounts.conftest import FULL_NAME, PASSWORD, PHONE, code_in
from tests.conftest import need
from tests.e2e.test_worker_routing import worker_env, worker_process

# The worker test starts a real Celery worker on the run's broker (and purges it first): with the
# other tests that do, one after the other (tests/conftest.py, "celery-broker").
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("celery-broker"),
]

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def wait_for(found: Callable[[], T], *, timeout: float, why: Callable[[], str]) -> T:
    """Poll other processes' work until it shows; fail with their logs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"Timed out after {timeout} s.\n{why()}")


@pytest.fixture
def kannel(tmp_path: Path) -> Iterator[kannel_harness.Kannel]:
    need(
        kannel_harness.installed(),
        "Kannel is not installed (apt-get install kannel kannel-extras)",
    )
    # The live server, the sending worker and Kannel's callbacks write at once: SQLite's
    # in-memory test database refuses a second writer instead of waiting for it.
    need(connection.vendor == "postgresql", "the database is not PostgreSQL (DATABASE_URL)")
    gateway = kannel_harness.Kannel(tmp_path / "kannel")
    gateway.start()
    try:
        yield gateway
    finally:
        gateway.stop()


def _gateway_settings(gateway: kannel_harness.Kannel, base_url: str) -> dict[str, str]:
    return {
        "SMS_BACKEND": "kannel",
        "KANNEL_SENDSMS_URL": gateway.sendsms_url,
        "KANNEL_USERNAME": kannel_harness.USERNAME,
        "KANNEL_PASSWORD": kannel_harness.PASSWORD,
        "SMS_SENDER": "Hue-S",
        "SMS_STATUS_BASE_URL": base_url.replace("localhost", "127.0.0.1"),
    }


def _carrier_got(gateway: kannel_harness.Kannel) -> Callable[[], list[Any]]:
    return lambda: [message for message in gateway.messages() if message.to == PHONE]


def _register(base_url: str) -> httpx.Response:
    with httpx.Client(base_url=base_url, timeout=30) as http:
        return http.post(
            "/api/v1/auth/register",
            json={"phone": "0905123456", "password": PASSWORD, "full_name": FULL_NAME},
        )


def _verify(base_url: str, code: str) -> httpx.Response:
    with httpx.Client(base_url=base_url, timeout=30) as http:
        return http.post("/api/v1/auth/verify", json={"phone": PHONE, "code": code})


def test_a_citizen_verifies_with_the_code_the_carrier_received_through_kannel(
    kannel, live_server, settings, reference_data
):
    for name, value in _gateway_settings(kannel, live_server.url).items():
        setattr(settings, name, value)

    assert _register(live_server.url).status_code == 201

    (message,) = wait_for(_carrier_got(kannel), timeout=30, why=kannel.logs)
    code = code_in(message.text)
    print(f"The carrier (fakesmsc) received: {message}")  # noqa: T201  the report quotes it
    assert message.sender == "Hue-S"
    assert message.text == f"Hue-S: mã xác thực của bạn là {code}, có hiệu lực trong 10 phút."
    response = _verify(live_server.url, code)
    assert response.status_code == 200, response.text
    assert User.objects.get(phone=PHONE).is_verified

    # Kannel's delivery report (fakesmsc "delivers" at once) is recorded on the text.
    text = wait_for(
        # The report may come before smsbox's answer is recorded: both are kept.
        lambda: TextMessage.objects.filter(phone=PHONE, state="delivered", attempts=1).first(),
        timeout=30,
        why=kannel.logs,
    )
    assert text.delivery_status == "delivered"
    assert text.gateway_id  # the SMS centre's id for the message
    assert text.attempts == 1


@pytest.fixture
def worker(
    kannel: kannel_harness.Kannel, live_server: Any, reference_data: None, tmp_path: Path
) -> Iterator[Path]:
    """A real worker process on the test database, sending through Kannel, retrying a
    transient failure after 1, 2, 4... seconds; the tasks go to the broker."""
    broker_url = settings.E2E_BROKER_URL
    need(broker_url.startswith("redis://"), "CELERY_BROKER_URL does not point at Redis")
    need(connection.vendor == "postgresql", "the database is not PostgreSQL (DATABASE_URL)")
    env = worker_env(
        broker_url, SMS_RETRY_BASE_SECONDS="1", **_gateway_settings(kannel, live_server.url)
    )
    with worker_process(env, tmp_path / "worker.log") as log:
        yield log


def test_a_code_sent_while_bearerbox_is_down_arrives_once_it_is_back(
    kannel, worker, live_server, settings
):
    for name, value in _gateway_settings(kannel, live_server.url).items():
        setattr(settings, name, value)

    def logs() -> str:
        return f"{kannel.logs()}\n--- worker\n{worker.read_text()[-4000:]}"

    kannel.stop()
    assert _register(live_server.url).status_code == 201

    # The worker tried, found the gateway down, and keeps the text queued for a retry.
    text = wait_for(
        lambda: TextMessage.objects.filter(phone=PHONE, attempts__gte=2).first(),
        timeout=60,
        why=logs,
    )
    assert text.state == TextMessage.State.QUEUED
    assert "ConnectError" in text.last_error
    assert _carrier_got(kannel)() == []

    kannel.start()

    (message,) = wait_for(_carrier_got(kannel), timeout=90, why=logs)
    print(f"The carrier (fakesmsc) received, after the outage: {message}")  # noqa: T201
    assert _verify(live_server.url, code_in(message.text)).status_code == 200
    text.refresh_from_db()
    assert text.state in (TextMessage.State.SENT, TextMessage.State.DELIVERED)
    assert text.attempts >= 3
    assert "retried in" in worker.read_text()
