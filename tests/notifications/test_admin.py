"""Notifications and deliveries in Django admin: read-only, for administrators only."""

from __future__ import annotations

import pytest

from accounts.models import User
from notifications.models import Delivery, Notification
from reports.audience import notify_event
from reports.models import Event, Report
from tests.reports.helpers import admin_client

pytestmark = pytest.mark.django_db
NOTIFICATIONS = "/admin/notifications/notification/"
DELIVERIES = "/admin/notifications/delivery/"


@pytest.fixture
def told(routed_report: Report, citizen: User, settings) -> list[Notification]:
    """The routing of the citizen's report, told to the citizen and to HEPCO, by email too."""
    settings.NOTIFICATION_EMAIL_ENABLED = True
    event = routed_report.events.get(kind=Event.Kind.ROUTED)
    return notify_event(event.pk)


def test_an_administrator_sees_the_notifications_and_their_deliveries(administrator, told, citizen):
    client = admin_client(administrator)
    notification = next(n for n in told if n.user == citizen)

    listing = client.get(NOTIFICATIONS)
    detail = client.get(f"{NOTIFICATIONS}{notification.pk}/change/")
    deliveries = client.get(DELIVERIES)

    assert listing.status_code == 200
    assert notification.title in listing.content.decode()
    assert detail.status_code == 200
    (inline,) = detail.context["inline_admin_formsets"]
    assert [form.instance.channel for form in inline.formset] == [Delivery.Channel.EMAIL]
    assert deliveries.status_code == 200


def test_the_notification_screens_are_read_only(administrator, told):
    client = admin_client(administrator)
    notification = told[0]
    delivery = Delivery.objects.filter(notification=notification).first()
    assert delivery is not None

    page = client.get(f"{NOTIFICATIONS}{notification.pk}/change/").content.decode()

    assert 'name="_save"' not in page
    assert client.get(f"{NOTIFICATIONS}add/").status_code == 403
    assert client.post(f"{NOTIFICATIONS}{notification.pk}/delete/").status_code == 403
    assert client.post(f"{DELIVERIES}{delivery.pk}/change/", {"status": "sent"}).status_code == 403
    assert Delivery.objects.get(pk=delivery.pk).state == Delivery.State.PENDING


@pytest.mark.parametrize("who", ["staff_a", "manager", "dispatcher"])
def test_agency_staff_and_dispatchers_cannot_see_what_users_were_told(request, who, told):
    client = admin_client(request.getfixturevalue(who))

    assert client.get(NOTIFICATIONS).status_code == 403
    assert client.get(DELIVERIES).status_code == 403
    assert "notifications/notification/" not in client.get("/admin/").content.decode()


def test_an_administrator_finds_a_users_notifications_by_phone(administrator, told, citizen):
    response = admin_client(administrator).get(NOTIFICATIONS, {"q": citizen.phone})

    assert response.status_code == 200
    assert response.context["cl"].result_count == 1


@pytest.mark.parametrize("path", [NOTIFICATIONS, DELIVERIES])
def test_the_lists_cost_the_same_queries_for_many_rows(
    path, administrator, make_report, citizen, django_assert_max_num_queries, settings
):
    settings.NOTIFICATION_EMAIL_ENABLED = True
    client = admin_client(administrator)
    report = make_report(citizen)
    notify_event(report.events.get(kind=Event.Kind.ROUTED).pk)
    with django_assert_max_num_queries(100) as few:
        client.get(path)
    for _ in range(10):
        report = make_report(citizen)
        notify_event(report.events.get(kind=Event.Kind.ROUTED).pk)

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(path)

    assert response.status_code == 200
