"""Logs: one JSON line per request and per task with the request id (taken from a
well-formed X-Request-ID, else made, and sent back), carried into the request's tasks; and
no password, token, one-time code or full phone number in any line."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from logging.config import DictConfigurator
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import IntegrityError
from django_guid import clear_guid, set_guid

from hues import logs
from hues.celery import app as celery_app
from tests.conftest import PHU_XUAN_POINT, need

REQUEST_ID = "6f1c2a9e-0905-4123-9123-456789012345"
JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjo0Mn0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def _handler(stream: io.StringIO) -> logging.Handler:
    """A handler built from settings.LOGGING's JSON set-up (formatter and filters), by the
    same factory as dictConfig, writing to `stream`."""
    config = logs.logging_config(log_format="json", level="INFO")
    configurator = DictConfigurator(config)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(configurator.configure_formatter(config["formatters"]["json"]))
    for name in config["handlers"]["default"]["filters"]:
        handler.addFilter(configurator.configure_filter(config["filters"][name]))
    return handler


@pytest.fixture
def logged() -> Iterator[Any]:
    """logged(name): the JSON lines written since the test began by the logger `name`."""
    stream = io.StringIO()
    handler = _handler(stream)
    root = logging.getLogger()
    root.addHandler(handler)

    def lines(name: str) -> list[dict[str, Any]]:
        return [line for line in json_lines(stream.getvalue()) if line["logger"] == name]

    yield lines
    root.removeHandler(handler)


@pytest.fixture
def emit() -> Iterator[Any]:
    """Log through a handler configured as settings.LOGGING's, and return its line."""
    stream = io.StringIO()
    logger = logging.getLogger("tests.logs")
    handler = _handler(stream)
    logger.addHandler(handler)

    def log(message: str, *args: Any, exc_info: Any = None, **extra: Any) -> dict[str, Any]:
        stream.seek(0)
        stream.truncate()
        logger.warning(message, *args, exc_info=exc_info, extra=extra)
        (line,) = json_lines(stream.getvalue())
        return line

    yield log
    logger.removeHandler(handler)


# Masking


def test_a_password_in_the_message_arguments_is_masked(emit):
    line = emit("login attempt %s", {"phone": "+84905123456", "password": "hunter2-secret"})

    assert "hunter2-secret" not in json.dumps(line)
    assert "+84905123456" not in line["message"]
    assert "456" in line["message"]


def test_tokens_in_extra_fields_and_text_are_masked(emit):
    line = emit(
        "refresh with %s then Authorization: Bearer %s",
        JWT,
        "abc123opaque",
        access_token="opaque-access-token-value",
        headers={"Authorization": f"Bearer {JWT}"},
    )

    text = json.dumps(line)
    assert JWT not in text
    assert "abc123opaque" not in text
    assert "opaque-access-token-value" not in text
    assert line["access_token"] == logs.MASK


@pytest.mark.parametrize(
    "sms",
    [
        "Hue-S: your code is 482913. It is valid for 10 minutes.",
        "Hue-S: mã xác thực của bạn là 482913, có hiệu lực trong 10 phút.",
        "verification otp=482913 for 10 minutes",
    ],
)
def test_a_one_time_code_is_masked(emit, sms):
    line = emit("sending SMS: %s", sms)

    assert "482913" not in line["message"]
    assert "10" in line["message"]  # the minutes are not a code


def test_a_code_in_an_extra_field_is_masked_but_error_codes_are_kept(emit):
    line = emit("checked", code="482913", error_code="invalid", status_code=404)

    assert line["code"] == logs.MASK
    assert line["error_code"] == "invalid"
    assert line["status_code"] == 404


@pytest.mark.parametrize(
    "phone",
    [
        "0905123456",
        "0905 123 456",
        "0905.123.456",
        "+84 905 123 456",
        "84905123456",
        "+84905123456",
    ],
)
def test_a_phone_number_keeps_only_its_last_three_digits(emit, phone):
    line = emit("texting %s now", phone, phone=phone)

    digits = "".join(c for c in phone if c.isdigit())
    assert line["message"] == f"texting {'*' * (len(digits) - 3)}456 now"
    assert line["phone"] == f"{'*' * (len(digits) - 3)}456"


def test_a_phone_number_in_an_exception_is_masked(emit):
    try:
        raise IntegrityError(
            'duplicate key value violates unique constraint "accounts_user_phone_key"\n'
            "DETAIL:  Key (phone)=(+84905123456) already exists."
        )
    except IntegrityError:
        line = emit("registration failed", exc_info=True)

    assert "IntegrityError" in line["exc_info"]
    assert "+84905123456" not in line["exc_info"]
    assert "********456" in line["exc_info"]


def test_what_is_not_secret_is_left_as_it_is(emit):
    message = (
        f"Report HUE-2026-000123 routed to hepco in 0.041234s (request {REQUEST_ID}), "
        "GET /api/v1/reports 200, 1730000000 seconds, code=invalid"
    )

    line = emit(message, route="api/v1/reports/<reference>", count=12345)

    assert line["message"] == message
    assert line["count"] == 12345


# The request's line and its id


@pytest.mark.django_db
def test_each_request_writes_one_json_line_with_its_request_id(client, logged):
    response = client.get("/api/v1/categories", HTTP_X_REQUEST_ID=REQUEST_ID)

    assert response["X-Request-ID"] == REQUEST_ID
    (line,) = logged("hues.request")
    assert line["request_id"] == REQUEST_ID
    assert line["message"] == "GET /api/v1/categories 200"
    assert (line["method"], line["route"], line["status"]) == ("GET", "api/v1/categories", 200)
    assert line["duration_ms"] >= 0
    assert line["level"] == "INFO"
    assert line["time"].endswith("+00:00")


@pytest.mark.parametrize(
    "given", ["not-a-uuid", "6f1c2a9e-0905-4123-9123", "x" * 300, "'; DROP TABLE reports; --"]
)
def test_a_malformed_request_id_is_replaced_by_a_new_one(client, logged, given):
    response = client.get("/health/live", HTTP_X_REQUEST_ID=given)

    made = response["X-Request-ID"]
    assert made != given
    assert str(uuid.UUID(made)) == made
    (line,) = logged("hues.request")
    assert line["request_id"] == made


def test_without_a_request_id_one_is_made(client):
    first = client.get("/health/live")["X-Request-ID"]
    second = client.get("/health/live")["X-Request-ID"]

    assert first != second
    assert str(uuid.UUID(first)) == first


@pytest.mark.django_db
def test_a_device_token_in_the_path_is_not_logged(api_as, citizen, logged):
    token = "fcm-token:APA91bSecretPushToken_-123"
    client = api_as(citizen)
    client.post("/api/v1/me/devices", {"token": token, "platform": "android"})

    response = client.delete(f"/api/v1/me/devices/{token}")

    assert response.status_code == 204
    line = logged("hues.request")[-1]
    assert "APA91bSecretPushToken" not in json.dumps(line)
    assert line["route"] == "api/v1/me/devices/<str:token>"
    assert line["user_id"] == citizen.pk


@pytest.mark.django_db(transaction=True)
def test_a_task_run_by_the_request_logs_with_the_request_id(api_as, photo, citizen, logged):
    # Transactional: the routing task runs eagerly at the commit, inside the request.
    body = {
        "category": "street_lighting",
        "description": "Đèn đường trước nhà số 5 không sáng",
        "lat": PHU_XUAN_POINT[0],
        "lng": PHU_XUAN_POINT[1],
        "photos": [photo()],
    }

    response = api_as(citizen).post(
        "/api/v1/reports", body, format="multipart", HTTP_X_REQUEST_ID=REQUEST_ID
    )

    assert response.status_code == 201, response.content
    routed = [line for line in logged("hues.task") if line["task"] == "reports.route"]
    assert routed
    assert {line["request_id"] for line in routed} == {REQUEST_ID}
    assert routed[0]["message"].startswith("Task reports.route[")
    assert routed[0]["state"] == "SUCCESS"
    (request_line,) = logged("hues.request")
    assert request_line["request_id"] == REQUEST_ID


def test_a_failed_task_is_one_error_line_with_its_traceback(logged):
    @celery_app.task(name="tests.logs.fails")
    def fails() -> None:
        raise RuntimeError("texting 0905123456 failed")

    with pytest.raises(RuntimeError):
        fails.apply()

    (line,) = logged("hues.task")
    assert line["level"] == "ERROR"
    assert line["state"] == "FAILURE"
    assert "RuntimeError" in line["exc_info"]
    assert "0905123456" not in line["exc_info"]


def test_a_task_sent_while_a_request_id_is_set_carries_it(settings):
    url = settings.E2E_BROKER_URL
    need(url.startswith("redis://"), "CELERY_BROKER_URL does not point at Redis")
    queue = f"tests-request-id-{uuid.uuid4().hex[:8]}"
    eager = celery_app.conf.CELERY_TASK_ALWAYS_EAGER
    celery_app.conf.CELERY_TASK_ALWAYS_EAGER = False
    set_guid(REQUEST_ID)
    try:
        celery_app.send_task("reports.sweep_unrouted", queue=queue)
        with celery_app.connection_for_read() as connection:
            message = connection.SimpleQueue(queue).get(timeout=5)
            message.ack()
            connection.default_channel.queue_delete(queue)
    finally:
        clear_guid()
        celery_app.conf.CELERY_TASK_ALWAYS_EAGER = eager

    assert message.headers[logs.TASK_HEADER] == REQUEST_ID


# The format setting


def _log_in_a_new_process(**env: str) -> subprocess.CompletedProcess[str]:
    code = (
        "import django, logging; django.setup(); "
        "logging.getLogger('tests.format').warning('texting %s', '0905123456')"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=django_settings.BASE_DIR,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST")},
            "DJANGO_SETTINGS_MODULE": "hues.settings",
            "SECRET_KEY": "x" * 50,
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_logs_json_lines_and_development_readable_text():
    production = _log_in_a_new_process(DEBUG="false")
    development = _log_in_a_new_process(DEBUG="true")

    (line,) = [line for line in json_lines(production.stderr) if line["logger"] == "tests.format"]
    assert line["message"] == "texting *******456"
    assert line["level"] == "WARNING"
    assert development.stderr.strip().endswith("WARNING tests.format [None] texting *******456")


def test_an_unknown_log_format_stops_start_up():
    result = _log_in_a_new_process(DEBUG="false", LOG_FORMAT="xml")

    assert result.returncode != 0
    assert "LOG_FORMAT='xml': use json or console." in result.stderr
