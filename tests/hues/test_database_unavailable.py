"""While the database is away (restarting, failing over) the API answers 503 with
Retry-After in its error shape, never a 500: the client may simply retry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client, RequestFactory

from hues.api_errors import server_error

pytestmark = pytest.mark.django_db


@contextmanager
def database_away(error: Exception) -> Iterator[None]:
    """Every new query fails as it does when PostgreSQL is down."""
    with mock.patch.object(BaseDatabaseWrapper, "ensure_connection", side_effect=error):
        yield


def _assert_503(response) -> None:
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == "5"


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("connection to server at 127.0.0.1 failed: Connection refused"),
        InterfaceError("connection already closed"),
    ],
)
def test_an_api_view_answers_503_in_the_error_shape(api_as, citizen, error):
    client = api_as(citizen)

    with database_away(error):
        response = client.get("/api/v1/me")

    _assert_503(response)
    assert response.json() == {
        "detail": "Dịch vụ tạm thời gián đoạn. Vui lòng thử lại sau vài giây.",
        "code": "service_unavailable",
    }


def test_the_answer_follows_the_language(api_as, citizen):
    client = api_as(citizen)

    with database_away(OperationalError("the database system is shutting down")):
        response = client.get("/api/v1/reports", HTTP_ACCEPT_LANGUAGE="en")

    _assert_503(response)
    assert response.json()["code"] == "service_unavailable"
    assert response.json()["detail"] == (
        "The service is briefly unavailable. Try again in a few seconds."
    )


def test_the_admin_answers_503_too(administrator):
    client = Client(raise_request_exception=False)
    client.force_login(administrator)

    with database_away(OperationalError("server closed the connection unexpectedly")):
        response = client.get("/admin/")

    _assert_503(response)
    assert response["Content-Type"].startswith("text/plain")


def test_a_database_error_outside_a_view_is_503_in_the_api_shape():
    request = RequestFactory().get("/api/v1/reports")
    try:
        raise OperationalError("could not connect to server")
    except OperationalError:
        response = server_error(request)

    _assert_503(response)
    assert json.loads(response.content)["code"] == "service_unavailable"


def test_any_other_crash_stays_a_500():
    request = RequestFactory().get("/api/v1/reports")
    try:
        raise RuntimeError("a bug")
    except RuntimeError:
        response = server_error(request)

    assert response.status_code == 500
    assert json.loads(response.content)["code"] == "server_error"
