"""Alerts in the admin: who may compose them, the publish and withdraw buttons, progress."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from alerts import services
from alerts.models import Alert
from notifications.models import Notification
from tests.reports.helpers import admin_client

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/alerts/alert/"
ADD = "/admin/alerts/alert/add/"


def act_url(alert: Alert, verb: str) -> str:
    return reverse("admin:alerts_alert_act", args=[alert.pk, verb])


def change_url(alert: Alert) -> str:
    return reverse("admin:alerts_alert_change", args=[alert.pk])


def form_data(phu_xuan, **fields):
    now = timezone.localtime()
    later = now + timedelta(hours=4)
    return {
        "kind": "flood",
        "severity": "danger",
        "title_vi": "Ngập sâu đường Lê Lợi",
        "text_vi": "Nước sông Hương dâng cao, hạn chế đi lại.",
        "title_en": "Deep flooding on Le Loi street",
        "text_en": "The Perfume River is rising; avoid travel.",
        "areas": [phu_xuan.pk],
        "starts_at_0": now.strftime("%d/%m/%Y"),
        "starts_at_1": now.strftime("%H:%M:%S"),
        "ends_at_0": later.strftime("%d/%m/%Y"),
        "ends_at_1": later.strftime("%H:%M:%S"),
        **fields,
    }


# Who composes


@pytest.mark.parametrize(
    ("role", "may"),
    [
        ("administrator", True),
        ("dispatcher", True),
        ("manager", False),
        ("staff", False),
        ("citizen", False),
    ],
)
def test_only_dispatchers_and_administrators_hold_the_alert_permissions(reference_data, role, may):
    codenames = set(
        Group.objects.get(name=role)
        .permissions.filter(content_type__app_label="alerts")
        .values_list("codename", flat=True)
    )
    expected = {"add_alert", "change_alert", "delete_alert", "view_alert", "publish_alert"}
    assert codenames == (expected if may else set())


def test_a_dispatcher_composes_an_alert(dispatcher, phu_xuan):
    client = admin_client(dispatcher)

    assert client.get(ADD).status_code == 200
    response = client.post(ADD, form_data(phu_xuan))

    assert response.status_code == 302, response.content.decode()[:2000]
    alert = Alert.objects.get()
    assert (alert.state, alert.created_by, alert.severity) == ("draft", dispatcher, "danger")
    assert list(alert.areas.all()) == [phu_xuan]
    assert timezone.localtime(alert.starts_at).date() == timezone.localdate()
    assert alert.ends_at - alert.starts_at == timedelta(hours=4)


def test_dates_are_written_the_vietnamese_way(dispatcher, phu_xuan):
    data = form_data(phu_xuan)
    data.update(starts_at_0="31/12/2026", starts_at_1="08:00", ends_at_0="2027-01-02")
    data["ends_at_1"] = "17:30"

    response = admin_client(dispatcher).post(ADD, data)

    assert response.status_code == 302
    alert = Alert.objects.get()
    assert timezone.localtime(alert.starts_at).strftime("%d/%m/%Y %H:%M") == "31/12/2026 08:00"
    assert timezone.localtime(alert.ends_at).strftime("%d/%m/%Y %H:%M") == "02/01/2027 17:30"


def test_an_administrator_composes_a_whole_city_alert(administrator, phu_xuan):
    response = admin_client(administrator).post(ADD, form_data(phu_xuan, areas=[], whole_city="on"))

    assert response.status_code == 302
    assert Alert.objects.get().whole_city is True


@pytest.mark.parametrize("who", ["manager", "staff_a"])
def test_managers_and_staff_cannot_compose_or_see_alerts(request, who, phu_xuan):
    client = admin_client(request.getfixturevalue(who))

    assert client.get(ADD).status_code == 403
    assert client.post(ADD, form_data(phu_xuan)).status_code == 403
    assert client.get(CHANGELIST).status_code == 403
    assert not Alert.objects.exists()


def test_a_citizen_cannot_reach_the_admin(citizen):
    response = admin_client(citizen).get(ADD)

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"areas": []}, "Choose one or more areas, or the whole city."),
        ({"whole_city": "on"}, "Choose either the whole city or one or more areas."),
    ],
)
def test_an_alert_is_for_areas_or_the_whole_city(dispatcher, phu_xuan, fields, error):
    response = admin_client(dispatcher).post(
        ADD, form_data(phu_xuan, **fields), headers={"Accept-Language": "en"}
    )

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Alert.objects.exists()


def test_the_end_must_come_after_the_start(dispatcher, phu_xuan):
    data = form_data(phu_xuan)
    data["ends_at_0"], data["ends_at_1"] = data["starts_at_0"], data["starts_at_1"]

    response = admin_client(dispatcher).post(ADD, data, headers={"Accept-Language": "en"})

    assert response.status_code == 200
    assert "The end must come after the start." in response.content.decode()
    assert not Alert.objects.exists()


# Publish and withdraw


def test_a_dispatcher_publishes_with_the_button(
    dispatcher, make_alert, resident, phu_xuan, django_capture_on_commit_callbacks
):
    user = resident(phu_xuan)
    alert = make_alert(areas=[phu_xuan])
    client = admin_client(dispatcher)

    page = client.get(change_url(alert)).content.decode()
    assert act_url(alert, "publish") in page
    assert client.get(act_url(alert, "publish")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(act_url(alert, "publish"))

    assert response.status_code == 302
    alert.refresh_from_db()
    assert (alert.state, alert.published_by) == (Alert.State.PUBLISHED, dispatcher)
    assert Notification.objects.filter(user=user, kind="alert").count() == 1
    shown = client.get(change_url(alert)).content.decode()
    assert (
        "1 of 1 notified, 1 pushed"
        in client.get(change_url(alert), headers={"Accept-Language": "en"}).content.decode()
    )
    assert act_url(alert, "withdraw") in shown
    assert act_url(alert, "publish") not in shown


def test_a_manager_has_no_publish_button(manager, make_alert, phu_xuan):
    alert = make_alert(areas=[phu_xuan])
    client = admin_client(manager)

    assert client.get(change_url(alert)).status_code == 403
    assert client.get(act_url(alert, "publish")).status_code == 403
    assert client.post(act_url(alert, "publish")).status_code == 403
    alert.refresh_from_db()
    assert alert.state == Alert.State.DRAFT


def test_a_user_with_view_but_not_publish_permission_gets_no_button(
    dispatcher, make_alert, phu_xuan
):
    from django.contrib.auth.models import Permission

    dispatcher.user_permissions.add(Permission.objects.get(codename="view_alert"))
    Group.objects.get(name="dispatcher").permissions.remove(
        Permission.objects.get(codename="publish_alert")
    )
    alert = make_alert(areas=[phu_xuan])
    client = admin_client(dispatcher)

    assert act_url(alert, "publish") not in client.get(change_url(alert)).content.decode()
    assert client.post(act_url(alert, "publish")).status_code == 403
    alert.refresh_from_db()
    assert alert.state == Alert.State.DRAFT


def test_publishing_an_alert_without_areas_shows_the_reason(dispatcher, make_alert):
    alert = make_alert(areas=[])

    response = admin_client(dispatcher).post(
        act_url(alert, "publish"), headers={"Accept-Language": "en"}
    )

    assert response.status_code == 200
    assert "Choose one or more areas, or the whole city." in response.content.decode()
    alert.refresh_from_db()
    assert alert.state == Alert.State.DRAFT


def test_a_published_alert_is_read_only_and_cannot_be_deleted(
    dispatcher, make_alert, publish, phu_xuan
):
    alert = publish(make_alert(areas=[phu_xuan]))
    client = admin_client(dispatcher)

    response = client.post(change_url(alert), {"title_vi": "Đổi"})
    assert response.status_code == 403
    alert.refresh_from_db()
    assert alert.title_vi == "Cắt nước khu vực Phú Xuân"
    delete = reverse("admin:alerts_alert_delete", args=[alert.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Alert.objects.filter(pk=alert.pk).exists()


def test_a_dispatcher_withdraws_with_the_button(dispatcher, make_alert, publish, phu_xuan):
    alert = publish(make_alert(areas=[phu_xuan]))

    response = admin_client(dispatcher).post(act_url(alert, "withdraw"))

    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.state == Alert.State.WITHDRAWN


def test_the_list_actions_publish_and_withdraw(
    dispatcher, make_alert, phu_xuan, django_capture_on_commit_callbacks
):
    drafts = [make_alert(areas=[phu_xuan]) for _ in range(2)]
    client = admin_client(dispatcher)
    selected = [str(alert.pk) for alert in drafts]

    with django_capture_on_commit_callbacks(execute=True):
        client.post(CHANGELIST, {"action": "publish_selected", "_selected_action": selected})
    assert set(Alert.objects.values_list("state", flat=True)) == {Alert.State.PUBLISHED}

    client.post(CHANGELIST, {"action": "withdraw_selected", "_selected_action": selected})
    assert set(Alert.objects.values_list("state", flat=True)) == {Alert.State.WITHDRAWN}


def test_a_manager_is_offered_no_list_action(manager, make_alert, phu_xuan):
    alert = make_alert(areas=[phu_xuan])

    response = admin_client(manager).post(
        CHANGELIST, {"action": "publish_selected", "_selected_action": [str(alert.pk)]}
    )

    assert response.status_code == 403
    alert.refresh_from_db()
    assert alert.state == Alert.State.DRAFT


# Progress and query counts


def test_the_list_shows_the_progress(dispatcher, make_alert, resident, phu_xuan, settings):
    settings.ALERT_BATCH_SIZE = 1
    for _ in range(2):
        resident(phu_xuan)
    alert = services.alert_publish(alert=make_alert(areas=[phu_xuan]), actor=dispatcher)
    services._insert_recipients(alert, 1)
    Alert.objects.filter(pk=alert.pk).update(selected_at=timezone.now(), recipients_total=2)
    services.alert_send_batch(alert_id=alert.pk, batch=0)

    page = admin_client(dispatcher).get(CHANGELIST, headers={"Accept-Language": "en"})

    html = page.content.decode()
    assert "1 of 2 notified, 1 pushed" in html
    # The row's state, not the state filter's link in the sidebar.
    assert '<td class="field-state">Publishing</td>' in html


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("url", [CHANGELIST, f"{CHANGELIST}?state=published"])
def test_the_changelist_does_not_grow_with_its_rows(
    dispatcher, make_alert, publish, phu_xuan, vy_da, url
):
    client = admin_client(dispatcher)
    publish(make_alert(areas=[phu_xuan, vy_da]))
    client.get(url)
    few = _queries(client, url)

    for _ in range(4):
        publish(make_alert(areas=[phu_xuan, vy_da]))
        publish(make_alert(whole_city=True))
    many = _queries(client, url)

    assert many == few


def test_the_confirmation_says_how_many_citizens_publishing_reaches(
    dispatcher, make_alert, resident, phu_xuan, vy_da
):
    resident(phu_xuan)
    resident(phu_xuan)
    resident(vy_da)
    client = admin_client(dispatcher)
    english = {"Accept-Language": "en"}

    in_area = client.get(act_url(make_alert(areas=[phu_xuan]), "publish"), headers=english)
    city = client.get(act_url(make_alert(whole_city=True), "publish"), headers=english)

    assert "That is 2 citizens now." in in_area.content.decode()
    assert "Every citizen of the city will get this alert" in city.content.decode()
    assert "That is 3 citizens now." in city.content.decode()
