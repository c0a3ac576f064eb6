"""GET /api/v1/alerts (by point, for the caller, anonymously) and GET /api/v1/alerts/{id}."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from alerts import services
from alerts.models import Alert
from tests.conftest import PHU_XUAN, PHU_XUAN_POINT, SAIGON_POINT, VY_DA_POINT
from tests.hues.test_schema_conformance import assert_conforms

pytestmark = pytest.mark.django_db

LIST = "/api/v1/alerts"
DETAIL = "/api/v1/alerts/{id}"


def at(point: tuple[float, float]) -> dict[str, float]:
    return {"lat": point[0], "lng": point[1]}


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [alert["id"] for alert in response.json()["results"]]


@pytest.fixture
def alerts(make_alert, publish, phu_xuan, vy_da):
    """One published alert per place: Phú Xuân, Vỹ Dạ, the whole city; and a draft."""
    return {
        "phu_xuan": publish(make_alert(areas=[phu_xuan], title_vi="Phú Xuân")),
        "vy_da": publish(make_alert(areas=[vy_da], title_vi="Vỹ Dạ")),
        "city": publish(make_alert(whole_city=True, title_vi="Toàn thành phố")),
        "draft": make_alert(areas=[phu_xuan], title_vi="Nháp"),
    }


# By point


def test_a_point_gets_its_areas_alerts_and_the_whole_citys(api, alerts):
    response = api.get(LIST, at(PHU_XUAN_POINT))

    assert set(ids(response)) == {alerts["phu_xuan"].pk, alerts["city"].pk}
    assert response.json()["area"]["code"] == PHU_XUAN
    assert_conforms(response, "GET", LIST)


def test_a_point_in_another_ward_gets_that_wards_alerts(api, alerts):
    assert set(ids(api.get(LIST, at(VY_DA_POINT)))) == {alerts["vy_da"].pk, alerts["city"].pk}


def test_a_point_outside_hue_gets_only_the_whole_citys(api, alerts):
    response = api.get(LIST, at(SAIGON_POINT))

    assert ids(response) == [alerts["city"].pk]
    assert response.json()["area"] is None
    assert_conforms(response, "GET", LIST)


def test_an_alert_for_several_areas_is_listed_once(api, make_alert, publish, phu_xuan, vy_da):
    both = publish(make_alert(areas=[phu_xuan, vy_da]))

    assert ids(api.get(LIST, at(PHU_XUAN_POINT))) == [both.pk]


def test_the_most_severe_comes_first(api, make_alert, publish, phu_xuan):
    info = publish(make_alert(areas=[phu_xuan], severity=Alert.Severity.INFO))
    danger = publish(make_alert(areas=[phu_xuan], severity=Alert.Severity.DANGER))
    warning = publish(make_alert(areas=[phu_xuan], severity=Alert.Severity.WARNING))

    assert ids(api.get(LIST, at(PHU_XUAN_POINT))) == [danger.pk, warning.pk, info.pk]


# For the caller


def test_a_citizen_gets_the_alerts_of_their_home_area(api_as, resident, alerts, vy_da):
    user = resident(vy_da)

    assert set(ids(api_as(user).get(LIST))) == {alerts["vy_da"].pk, alerts["city"].pk}


def test_a_citizen_gets_the_alerts_where_they_recently_reported(
    api_as, make_report, citizen, alerts
):
    make_report(citizen, point=VY_DA_POINT)

    assert set(ids(api_as(citizen).get(LIST))) == {alerts["vy_da"].pk, alerts["city"].pk}


def test_an_old_report_no_longer_brings_its_areas_alerts(api_as, make_report, citizen, alerts):
    with time_machine.travel(timezone.now() - timedelta(days=31), tick=False):
        make_report(citizen, point=VY_DA_POINT)

    assert ids(api_as(citizen).get(LIST)) == [alerts["city"].pk]


def test_home_area_and_reports_together(api_as, make_report, resident, alerts, phu_xuan):
    user = resident(phu_xuan)
    make_report(user, point=VY_DA_POINT)

    response = api_as(user).get(LIST)

    assert set(ids(response)) == {alerts["phu_xuan"].pk, alerts["vy_da"].pk, alerts["city"].pk}
    assert response.json()["area"] is None
    assert_conforms(response, "GET", LIST)


def test_anonymous_without_a_point_gets_the_whole_citys_only(api, alerts):
    assert ids(api.get(LIST)) == [alerts["city"].pk]


def test_a_point_wins_over_the_callers_areas(api_as, resident, alerts, vy_da):
    user = resident(vy_da)

    assert set(ids(api_as(user).get(LIST, at(PHU_XUAN_POINT)))) == {
        alerts["phu_xuan"].pk,
        alerts["city"].pk,
    }


# What is current


def test_drafts_withdrawn_future_and_ended_alerts_are_not_listed(
    api, make_alert, publish, dispatcher, phu_xuan
):
    now = timezone.now()
    current = publish(make_alert(areas=[phu_xuan], ends_at=now + timedelta(hours=1)))
    withdrawn = publish(make_alert(areas=[phu_xuan]))
    services.alert_withdraw(alert=withdrawn, actor=dispatcher)
    make_alert(areas=[phu_xuan])
    later = publish(
        make_alert(
            areas=[phu_xuan], starts_at=now + timedelta(hours=2), ends_at=now + timedelta(hours=5)
        )
    )

    assert ids(api.get(LIST, at(PHU_XUAN_POINT))) == [current.pk]
    with time_machine.travel(now + timedelta(hours=3), tick=False):
        assert ids(api.get(LIST, at(PHU_XUAN_POINT))) == [later.pk]
    with time_machine.travel(now + timedelta(hours=7), tick=False):
        assert ids(api.get(LIST, at(PHU_XUAN_POINT))) == []


def test_an_alert_is_listed_while_it_is_still_being_sent(api, make_alert, dispatcher, phu_xuan):
    alert = services.alert_publish(alert=make_alert(areas=[phu_xuan]), actor=dispatcher)

    assert alert.state == Alert.State.PUBLISHING
    assert ids(api.get(LIST, at(PHU_XUAN_POINT))) == [alert.pk]


def test_the_list_is_bounded(api, make_alert, publish, phu_xuan, monkeypatch):
    monkeypatch.setattr("alerts.selectors.LIST_MAX", 2)
    for _ in range(3):
        publish(make_alert(areas=[phu_xuan]))

    assert len(ids(api.get(LIST, at(PHU_XUAN_POINT)))) == 2


# Languages


def test_vietnamese_by_default_english_on_request(api, alerts):
    vietnamese = api.get(f"/api/v1/alerts/{alerts['phu_xuan'].pk}").json()
    english = api.get(
        f"/api/v1/alerts/{alerts['phu_xuan'].pk}", headers={"Accept-Language": "en"}
    ).json()

    assert (vietnamese["title"], vietnamese["severity_label"]) == ("Phú Xuân", "Cảnh báo")
    assert vietnamese["kind_label"] == "Cắt nước"
    assert vietnamese["text"].startswith("HueWACO tạm ngừng")
    assert (english["title"], english["severity_label"]) == ("Water cut in Phu Xuan", "Warning")
    assert english["kind_label"] == "Water cut"
    assert english["text"].startswith("HueWACO stops")
    assert english["areas"] == [{"code": PHU_XUAN, "name": "Phu Xuan Ward"}]


# Detail


def test_a_published_alert_is_shown(api, alerts):
    response = api.get(f"/api/v1/alerts/{alerts['vy_da'].pk}")

    assert response.json()["is_withdrawn"] is False
    assert_conforms(response, "GET", DETAIL)


def test_a_withdrawn_alert_is_shown_as_withdrawn(api, alerts, dispatcher):
    services.alert_withdraw(alert=alerts["vy_da"], actor=dispatcher)

    response = api.get(f"/api/v1/alerts/{alerts['vy_da'].pk}")

    assert response.json()["is_withdrawn"] is True


@pytest.mark.parametrize("alert_id", ["draft", "999999", "99999999999999999999"])
def test_a_draft_or_unknown_alert_is_not_found(api, alerts, alert_id):
    pk = alerts["draft"].pk if alert_id == "draft" else alert_id

    response = api.get(f"/api/v1/alerts/{pk}")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert_conforms(response, "GET", DETAIL)


# Bad input


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"lat": "x", "lng": "107.5"}, "lat"),
        ({"lat": "16.4", "lng": "abc"}, "lng"),
        ({"lat": "91", "lng": "107.5"}, "lat"),
        ({"lat": "16.4", "lng": "-181"}, "lng"),
        ({"lat": "nan", "lng": "107.5"}, "lat"),
        ({"lat": "16.4", "lng": "inf"}, "lng"),
        ({"lat": "16.4"}, "lng"),
        ({"lng": "107.5"}, "lat"),
    ],
)
def test_a_bad_point_answers_400_with_the_field(api, alerts, query, field):
    response = api.get(LIST, query)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["fields"]) == [field]
    assert_conforms(response, "GET", LIST)


# Queries


def test_the_number_of_queries_does_not_grow_with_the_alerts(
    api,
    api_as,
    make_alert,
    publish,
    resident,
    make_report,
    phu_xuan,
    vy_da,
    django_assert_max_num_queries,
):
    user = resident(phu_xuan)
    make_report(user, point=VY_DA_POINT)
    publish(make_alert(areas=[phu_xuan, vy_da]))
    api.get(LIST, at(PHU_XUAN_POINT))  # the routing snapshot is built once per process
    client = api_as(user)

    def count(call) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert call().status_code == 200
        return len(captured)

    few = (count(lambda: api.get(LIST, at(PHU_XUAN_POINT))), count(lambda: client.get(LIST)))
    for _ in range(5):
        publish(make_alert(areas=[phu_xuan, vy_da]))
        publish(make_alert(whole_city=True))
    many = (count(lambda: api.get(LIST, at(PHU_XUAN_POINT))), count(lambda: client.get(LIST)))

    assert many == few
    with django_assert_max_num_queries(3):
        api.get(LIST, at(PHU_XUAN_POINT))
    with django_assert_max_num_queries(3):
        client.get(LIST)


def test_the_alert_is_in_the_citizens_inbox(api_as, make_alert, publish, resident, phu_xuan):
    user = resident(phu_xuan)
    alert = publish(make_alert(areas=[phu_xuan]))

    response = api_as(user).get("/api/v1/notifications")

    assert_conforms(response, "GET", "/api/v1/notifications")
    [notification] = response.json()["results"]
    assert (notification["kind"], notification["report"]) == ("alert", None)
    assert notification["title"] == "Cắt nước khu vực Phú Xuân"
    assert notification["data"]["alert"] == alert.pk
    assert notification["data"]["title_en"] == "Water cut in Phu Xuan"
