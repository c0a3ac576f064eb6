"""Each account's language: chosen at registration (or taken from the app's
Accept-Language), changed with PATCH /me, and used for what the user is written to: texted
codes, report notifications and area alerts."""

from __future__ import annotations

import pytest

from accounts.models import User
from notifications.models import Notification
from reports import lifecycle
from reports.audience import notify_event
from reports.models import Event
from tests.accounts.conftest import PHONE, code_in
from tests.factories import ReportFactory, UserFactory

ME = "/api/v1/me"


def test_registering_in_english_keeps_english_and_texts_the_code_in_english(register, sms_outbox):
    response = register(language="en")

    assert response.status_code == 201, response.json()
    assert User.objects.get(phone=PHONE).language == "en"
    assert sms_outbox[0].text.startswith("Hue-S: your code is")
    assert code_in(sms_outbox[0].text).isdigit()


def test_without_a_choice_the_apps_accept_language_decides(db, api, sms_outbox, register):
    api.credentials(HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    register()

    assert User.objects.get(phone=PHONE).language == "en"


def test_by_default_an_account_is_vietnamese(register, sms_outbox):
    register()

    assert User.objects.get(phone=PHONE).language == "vi"
    assert "Hue-S: your code is" not in sms_outbox[0].text


def test_an_unknown_language_is_refused_and_nothing_is_registered(register, sms_outbox):
    response = register(language="fr")

    assert response.status_code == 400
    assert "language" in response.json()["fields"]
    assert not User.objects.filter(phone=PHONE).exists()
    assert sms_outbox == []


def test_me_shows_and_changes_the_language(citizen, api_as):
    client = api_as(citizen)
    assert client.get(ME).json()["language"] == "vi"

    response = client.patch(ME, {"language": "en"}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["language"] == "en"
    citizen.refresh_from_db()
    assert citizen.language == "en"


def test_me_refuses_an_unknown_language_and_keeps_the_old_one(citizen, api_as):
    response = api_as(citizen).patch(ME, {"language": "xx"}, format="json")

    assert response.status_code == 400
    assert "language" in response.json()["fields"]
    citizen.refresh_from_db()
    assert citizen.language == "vi"


@pytest.mark.django_db
def test_report_notifications_are_written_in_each_recipients_language(staff_a, manager):
    english = UserFactory(full_name="Anna", language="en")
    vietnamese = UserFactory(full_name="Lan")
    report = lifecycle.report_route(report_id=ReportFactory(reporter=english).pk)
    other = lifecycle.report_route(report_id=ReportFactory(reporter=vietnamese).pk)
    notify_event(other.events.filter(kind=Event.Kind.ROUTED).latest("id").pk)
    event = report.events.filter(kind=Event.Kind.ROUTED).latest("id")
    User.objects.filter(pk=manager.pk).update(language="en")

    notify_event(event.pk)

    told = {n.user_id: n for n in Notification.objects.filter(event=event)}
    # The reporter and the English-speaking manager read English; the staff member, who kept
    # the default, reads Vietnamese, with the names in each language.
    assert told[english.pk].title.startswith("Your report")
    assert report.agency.name_en in told[english.pk].title
    vietnamese_title = Notification.objects.get(user=vietnamese).title
    assert not vietnamese_title.startswith("Your report")
    assert report.category.name_en in told[manager.pk].body
    assert report.category.name_vi in told[staff_a.pk].body
