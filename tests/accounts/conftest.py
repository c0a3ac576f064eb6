"""Helpers for the accounts tests: registering over the API and reading the texted code."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.response import Response
from rest_framework.test import APIClient

from accounts import sms

PHONE = "+84905123456"
PHONE_NATIONAL = "0905123456"
PASSWORD = "sông-Hương-2026"
FULL_NAME = "Phạm Thị Hoa"

_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


def code_in(text: str) -> str:
    """The 6-digit code a text message carries."""
    match = _CODE.search(text)
    assert match, f"no 6-digit code in {text!r}"
    return match.group(1)


@pytest.fixture
def clock(time_machine: Any) -> Any:
    """A stopped clock that tests move by exact amounts with clock.shift(timedelta)."""
    time_machine.move_to("2026-03-02 08:00:00+07:00", tick=False)
    return time_machine


@pytest.fixture
def register(
    db: None, api: APIClient, django_capture_on_commit_callbacks: Callable[..., Any]
) -> Callable[..., Response]:
    """POST /auth/register as the app does, running the after-commit SMS task."""

    def post(
        phone: str = PHONE_NATIONAL,
        password: str = PASSWORD,
        full_name: str = FULL_NAME,
        **body: Any,
    ) -> Response:
        body = {"phone": phone, "password": password, "full_name": full_name, **body}
        with django_capture_on_commit_callbacks(execute=True):
            return api.post("/api/v1/auth/register", body, format="json")

    return post


@pytest.fixture
def resend(
    db: None, api: APIClient, django_capture_on_commit_callbacks: Callable[..., Any]
) -> Callable[..., Response]:
    """POST /auth/verify/resend, running the after-commit SMS task."""

    def post(phone: str = PHONE) -> Response:
        with django_capture_on_commit_callbacks(execute=True):
            return api.post("/api/v1/auth/verify/resend", {"phone": phone}, format="json")

    return post


@pytest.fixture
def verify(db: None, api: APIClient) -> Callable[..., Response]:
    """POST /auth/verify."""

    def post(code: str, phone: str = PHONE) -> Response:
        return api.post("/api/v1/auth/verify", {"phone": phone, "code": code}, format="json")

    return post


@pytest.fixture
def last_code(sms_outbox: list[sms.SmsMessage]) -> Callable[[], str]:
    """The code in the latest text message."""

    def read() -> str:
        assert sms_outbox, "no text message was sent"
        return code_in(sms_outbox[-1].text)

    return read


def wrong(code: str) -> str:
    """A 6-digit code that is not `code`."""
    return f"{(int(code) + 1) % 1_000_000:06d}"
