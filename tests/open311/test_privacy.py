"""Nothing Open311 answers ever carries a reporter's personal data."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from reports.models import Report
from tests.open311.conftest import get

OPEN311_PERSON = {
    "first_name": "Hoàng",
    "last_name": "Minh Tuấn",
    "email": "tuan.hoang@example.vn",
    "phone": "0914555666",
}


def secrets_of(user: User) -> list[str]:
    national = "0" + user.phone.removeprefix("+84")
    return [user.full_name, user.email, user.phone, national, user.phone.removeprefix("+")]


def everything_open311_says(client: Client, references: list[str]) -> list[bytes]:
    bodies = []
    for fmt in ("json", "xml"):
        paths = [
            f"requests.{fmt}",
            f"requests.{fmt}?service_request_id={','.join(references)}",
            f"services.{fmt}",
            f"discovery.{fmt}",
        ]
        paths += [f"requests/{reference}.{fmt}" for reference in references]
        paths += [f"tokens/{reference}.{fmt}" for reference in references]
        for path in paths:
            response = client.get(f"/open311/v2/{path}")
            assert response.status_code in (200, 404), path
            bodies.append(response.content)
    return bodies


@pytest.mark.parametrize("hide_name", [False, True])
def test_no_answer_carries_the_reporters_name_email_or_phone(
    client: Client, filed: Callable[..., Report], citizen: User, hide_name: bool
) -> None:
    report = filed(citizen, hide_name=hide_name)

    bodies = everything_open311_says(client, [report.reference])

    for body in bodies:
        text = body.decode()
        for secret in secrets_of(citizen):
            assert secret not in text


def test_no_answer_carries_the_contact_details_an_open311_client_sent(
    client: Client, submit: Callable[..., Any], reference_data: None
) -> None:
    response = submit(**OPEN311_PERSON)
    reference = response.json()[0]["service_request_id"]

    bodies = [response.content, *everything_open311_says(client, [reference])]

    for body in bodies:
        for secret in OPEN311_PERSON.values():
            assert secret not in body.decode()


def test_the_public_api_does_not_show_the_contact_details_either(
    client: Client, submit: Callable[..., Any], reference_data: None
) -> None:
    reference = submit(**OPEN311_PERSON).json()[0]["service_request_id"]

    detail = client.get(f"/api/v1/reports/{reference}")
    feed = client.get("/api/v1/reports")

    assert detail.status_code == 200
    assert detail.json()["reporter_name"] is None
    for body in (detail.content.decode(), feed.content.decode()):
        for secret in OPEN311_PERSON.values():
            assert secret not in body


def test_a_request_lists_no_field_about_the_reporter(
    client: Client, filed: Callable[..., Report], citizen: User
) -> None:
    filed(citizen)

    [request] = get(client, "requests.json").json()

    assert not {key for key in request if "reporter" in key or "account" in key}
    assert not {"email", "phone", "first_name", "last_name", "device_id"} & set(request)
