"""Issue 16, point 10 (the first two leaks), reproduced: registration answered `phone_taken`
for a number with an account, and the password reset answered in 16.6 ms for an existing
phone and 10.9 ms for an unknown one. Both told who has an account.

Now registration answers the same for every number (the owner of an account is texted a
notice instead), the code checks answer the same refusal whatever the reason, and the reset
request does the same work for every number: the same queries, and the send in a task."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TAKEN = "+84905123456"
FREE = "+84912000111"


@pytest.fixture
def post(django_capture_on_commit_callbacks, reference_data):
    def send(path, body):
        with django_capture_on_commit_callbacks(execute=True):
            return APIClient().post(f"/api/v1/auth/{path}", body, format="json")

    return send


@pytest.fixture
def account():
    return UserFactory(phone=TAKEN, full_name="Chủ Tài Khoản")


def registration(phone: str) -> dict[str, str]:
    return {"phone": phone, "password": "một-mật-khẩu-dài-42", "full_name": "Người Lạ"}


def answer(response) -> tuple[int, str]:
    """What a client sees, the number itself aside (it echoes the caller's input)."""
    body = dict(response.json())
    body.pop("phone", None)
    return response.status_code, repr(sorted(body.items()))


def test_registering_a_taken_number_answers_as_for_a_free_one(post, account, sms_outbox):
    taken = post("register", registration(TAKEN))
    free = post("register", registration(FREE))

    assert answer(taken) == answer(free)
    assert taken.json()["phone"] == "+8490****456"
    owner_text = next(message for message in sms_outbox if message.phone == TAKEN)
    assert not re.search(r"\d{6}", owner_text.text)  # a notice, not a code


def test_registering_again_answers_the_same_for_a_taken_and_a_free_number(post, account):
    post("register", registration(TAKEN))
    post("register", registration(FREE))

    assert answer(post("register", registration(TAKEN))) == answer(
        post("register", registration(FREE))
    )


def test_wrong_codes_after_registering_answer_the_same_for_a_taken_and_a_free_number(post, account):
    post("register", registration(TAKEN))
    post("register", registration(FREE))

    def answers(phone):
        return [answer(post("verify", {"phone": phone, "code": "000000"})) for _ in range(7)]

    assert answers(TAKEN) == answers(FREE)


def _statements(queries) -> list[str]:
    """The SQL run, its literal values (the number, times, ids) taken out."""
    return [re.sub(r"'[^']*'|\b\d+\b", "?", query["sql"]) for query in queries]


def test_a_reset_request_does_the_same_work_for_a_taken_and_an_unknown_number(
    account, sms_outbox, django_capture_on_commit_callbacks
):
    work = {}
    for phone in (TAKEN, FREE):
        with (
            django_capture_on_commit_callbacks(execute=False) as tasks,
            CaptureQueriesContext(connection) as queries,
        ):
            response = APIClient().post("/api/v1/auth/password/reset", {"phone": phone})
        work[phone] = (response.status_code, response.json(), _statements(queries), len(tasks))

    assert work[TAKEN] == work[FREE]
    assert sms_outbox == []  # the text goes out from the task, for either number
