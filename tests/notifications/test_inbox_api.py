"""The inbox API: GET /api/v1/notifications, POST .../{id}/read, POST .../read-all."""

from __future__ import annotations

import pytest
from django.utils import timezone

from accounts.models import User
from notifications.models import Notification
from reports.models import Report
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
INBOX = "/api/v1/notifications"


def _notify(user: User, title: str = "Tin mới", *, report: Report | None = None, **fields):
    return Notification.objects.create(
        user=user, kind="public_update", title=title, body="Nội dung", report=report, **fields
    )


@pytest.fixture
def inbox(citizen: User, routed_report: Report) -> list[Notification]:
    """Three notifications of the citizen's, oldest first; the first one read."""
    return [
        _notify(citizen, "Một", report=routed_report, read_at=timezone.now()),
        _notify(citizen, "Hai", report=routed_report, data={"reference": routed_report.reference}),
        _notify(citizen, "Ba"),
    ]


def test_the_inbox_lists_the_callers_own_notifications_newest_first(
    api_as, citizen, other_citizen, inbox
):
    _notify(other_citizen, "Của người khác")

    response = api_as(citizen).get(INBOX)

    assert response.status_code == 200
    assert [item["title"] for item in response.json()["results"]] == ["Ba", "Hai", "Một"]


def test_a_notification_has_its_report_reference_and_read_state(
    api_as, citizen, inbox, routed_report
):
    items = api_as(citizen).get(INBOX).json()["results"]

    newest, middle, oldest = items
    assert middle == {
        "id": inbox[1].pk,
        "kind": "public_update",
        "title": "Hai",
        "body": "Nội dung",
        "report": routed_report.reference,
        "data": {"reference": routed_report.reference},
        "created_at": middle["created_at"],
        "read_at": None,
        "is_read": False,
    }
    assert newest["report"] is None
    assert oldest["is_read"] is True
    assert oldest["read_at"] is not None


@pytest.mark.parametrize(
    ("unread", "titles"), [("true", ["Ba", "Hai"]), ("false", ["Một"]), ("", ["Ba", "Hai", "Một"])]
)
def test_the_inbox_filters_unread_and_read(api_as, citizen, inbox, unread, titles):
    response = api_as(citizen).get(INBOX, {"unread": unread})

    assert response.status_code == 200
    assert [item["title"] for item in response.json()["results"]] == titles


def test_an_unknown_unread_value_is_an_error(api_as, citizen, inbox):
    response = api_as(citizen).get(INBOX, {"unread": "maybe"})

    assert response.status_code == 400
    assert "unread" in response.json()["fields"]


def test_the_inbox_pages_with_a_cursor(api_as, citizen):
    for number in range(5):
        _notify(citizen, f"Tin {number}")
    client = api_as(citizen)

    first = client.get(INBOX, {"page_size": 3}).json()
    second = client.get(first["next"]).json()

    assert [item["title"] for item in first["results"]] == ["Tin 4", "Tin 3", "Tin 2"]
    assert [item["title"] for item in second["results"]] == ["Tin 1", "Tin 0"]
    assert second["next"] is None


def test_a_garbled_cursor_is_an_error(api_as, citizen, inbox):
    response = api_as(citizen).get(INBOX, {"cursor": "not-a-cursor"})

    assert response.status_code == 400


def test_the_inbox_needs_a_signed_in_user(api):
    response = api.get(INBOX)

    assert response.status_code == 401


def test_the_inbox_costs_the_same_queries_for_three_as_for_thirty(
    api_as, citizen, routed_report, django_assert_num_queries
):
    client = api_as(citizen)
    for _ in range(3):
        _notify(citizen, report=routed_report)
    with django_assert_num_queries(2):  # the user, the page
        client.get(INBOX)

    for _ in range(27):
        _notify(citizen, report=routed_report)
    with django_assert_num_queries(2):
        response = client.get(INBOX, {"page_size": 50})
    assert len(response.json()["results"]) == 30


# Reading


def test_reading_a_notification_marks_it_read(api_as, citizen, inbox):
    unread = inbox[1]

    response = api_as(citizen).post(f"{INBOX}/{unread.pk}/read")

    assert response.status_code == 200
    assert response.json()["is_read"] is True
    unread.refresh_from_db()
    assert unread.read_at is not None


def test_reading_it_again_keeps_the_first_time(api_as, citizen, inbox):
    read = inbox[0]
    first_time = read.read_at

    response = api_as(citizen).post(f"{INBOX}/{read.pk}/read")

    assert response.status_code == 200
    read.refresh_from_db()
    assert read.read_at == first_time


def test_another_users_notification_is_not_found(api_as, other_citizen, inbox):
    response = api_as(other_citizen).post(f"{INBOX}/{inbox[1].pk}/read")

    assert response.status_code == 404
    assert response.json()["code"] == "notification_not_found"
    inbox[1].refresh_from_db()
    assert inbox[1].read_at is None


def test_an_unknown_notification_is_not_found(api_as, citizen):
    assert api_as(citizen).post(f"{INBOX}/999999999/read").status_code == 404


def test_reading_needs_a_signed_in_user(api, inbox):
    assert api.post(f"{INBOX}/{inbox[1].pk}/read").status_code == 401


def test_read_all_marks_only_the_callers_unread_notifications(
    api_as, citizen, other_citizen, inbox
):
    theirs = _notify(other_citizen)

    response = api_as(citizen).post(f"{INBOX}/read-all")

    assert response.status_code == 200
    assert response.json() == {"updated": 2}
    assert not Notification.objects.filter(user=citizen, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_after_read_all_the_unread_filter_is_empty(api_as, citizen, inbox):
    client = api_as(citizen)
    client.post(f"{INBOX}/read-all")

    assert client.get(INBOX, {"unread": "true"}).json()["results"] == []


def test_staff_have_an_inbox_too(api_as, staff_a):
    _notify(staff_a, "Phản ánh mới")

    response = api_as(staff_a).get(INBOX)

    assert [item["title"] for item in response.json()["results"]] == ["Phản ánh mới"]


def test_a_new_user_has_an_empty_inbox(api_as, reference_data):
    response = api_as(UserFactory()).get(INBOX)

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_the_schema_describes_the_inbox(api):
    paths = api.get("/api/schema/", {"format": "json"}).json()["paths"]

    assert "get" in paths["/api/v1/notifications"]
    assert "post" in paths["/api/v1/notifications/{id}/read"]
    assert "post" in paths["/api/v1/notifications/read-all"]
    parameters = {p["name"]: p for p in paths["/api/v1/notifications"]["get"]["parameters"]}
    assert parameters["unread"]["schema"]["type"] == "boolean"
