"""Every city the project ships, through the same doors: its reference data, routing at every
unit's inside point, the statistics, the dashboard's map, Open311's services and the texts
that name it. Huế runs the whole suite; these run for each city in cities/."""

from __future__ import annotations

import io
import json
import re

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Role, User
from hues.city import City
from notifications.models import Delivery
from notifications.tasks import deliver
from reports import lifecycle
from reports.audience import notify_event
from reports.cities import ward_committee_code
from reports.models import (
    Agency,
    Area,
    Category,
    ReplyPurpose,
    ReplyTemplate,
    ReportStatus,
    RoutingRule,
)
from reports.replies import reply_template_render
from reports.selectors import reply_templates_for
from reports.services import OutsideServiceArea
from tests.cities.conftest import inside_points
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _features(city: City) -> list[dict]:
    return json.loads(city.boundaries.read_text(encoding="utf-8"))["features"]


def test_seed_demo_loads_the_city(city: City, settings) -> None:
    settings.DEMO_USERS_ENABLED = True
    out = io.StringIO()

    call_command("seed_demo", stdout=out, stderr=io.StringIO())

    codes = {feature["properties"]["code"] for feature in _features(city)}
    assert set(Area.objects.values_list("code", flat=True)) == codes
    committees = set(
        Agency.objects.filter(kind=Agency.Kind.WARD_COMMITTEE).values_list("code", flat=True)
    )
    assert committees == {ward_committee_code(code) for code in codes}
    assert {a.code for a in city.agencies} <= set(Agency.objects.values_list("code", flat=True))
    assert list(Category.objects.order_by("sort_order").values_list("code", flat=True)) == [
        category.code for category in city.categories
    ]
    for category in city.categories:
        stored = Category.objects.get(code=category.code)
        assert stored.deadline_hours == category.deadline_hours
        assert stored.name_vi == category.name
    assert RoutingRule.objects.count() == len(city.rules)
    templates = ReplyTemplate.objects.exclude(code="")
    assert templates.filter(language="vi").count() == len(city.reply_templates)
    assert templates.filter(language="en").count() == len(
        [t for t in city.reply_templates if t.text_en]
    )
    for demo in city.demo_users:
        user = User.objects.get(phone=demo.phone)
        assert user.role == demo.role
        assert user.check_password(city.demo_password)
    assert city.name in out.getvalue()
    assert "Open311 demo API key" in out.getvalue()


def test_a_second_seed_changes_nothing(city: City) -> None:
    call_command("seed_demo", stdout=io.StringIO(), stderr=io.StringIO())
    before = sorted(Agency.objects.values_list("id", "code", "name"))

    call_command("seed_demo", stdout=io.StringIO(), stderr=io.StringIO())

    assert sorted(Agency.objects.values_list("id", "code", "name")) == before


def test_a_report_at_each_units_inside_point_goes_to_its_ward_committee(
    city: City, make_report
) -> None:
    """Urban order belongs to the People's Committee of the report's area, in every city:
    filed through the service and routed as the task routes it, at each unit's inside point
    (MultiPolygons included: Đà Nẵng's islands)."""
    citizen = UserFactory()
    points = inside_points(city)
    assert len(points) == len(_features(city))

    routed = {
        code: make_report(citizen, category="urban_order", point=point, photos=1)
        for code, point in points.items()
    }

    for code, report in routed.items():
        report.refresh_from_db()
        assert report.area is not None
        assert report.area.code == code
        assert report.status == ReportStatus.ROUTED
        assert report.agency is not None
        assert report.agency.code == ward_committee_code(code), code
        assert report.reference.startswith(f"{city.reference_prefix}-")


def test_a_rule_for_one_area_wins_over_the_categorys_agency(city: City, make_report) -> None:
    rule = next(r for r in city.rules if r.area is not None)
    point = inside_points(city)[rule.area]

    report = make_report(UserFactory(), category=rule.category, point=point)

    report.refresh_from_db()
    expected = ward_committee_code(rule.area) if rule.agency == "ward_committee" else rule.agency
    assert report.agency.code == expected


def test_the_areas_api_lists_every_unit(city: City) -> None:
    response = APIClient().get("/api/v1/areas")

    assert response.status_code == 200
    body = response.json()
    items = body if isinstance(body, list) else body["results"]
    assert len(items) == len(_features(city))


def test_the_statistics_count_the_citys_reports(city: City, make_report, settings) -> None:
    settings.STATS_MIN_COUNT = 1  # counts a few reports (small counts are withheld by default)
    citizen = UserFactory()
    points = list(inside_points(city).values())[:3]
    for point in points:
        make_report(citizen, category="garbage", point=point)
    # The statistics are cached per period: in Redis, an earlier test's figures may be there.
    cache.clear()

    response = APIClient().get("/api/v1/stats")

    assert response.status_code == 200
    body = response.json()
    assert body["city"]["received"] == 3
    garbage = next(row for row in body["categories"] if row["code"] == "garbage")
    assert garbage["received"] == 3


def test_the_dashboard_draws_every_unit_on_the_map(city: City, make_report) -> None:
    dispatcher = UserFactory(role=Role.DISPATCHER)
    code, point = next(iter(inside_points(city).items()))
    make_report(UserFactory(), category="garbage", point=point)
    client = Client()
    client.force_login(dispatcher)

    html = client.get("/admin/reports/report/dashboard/").content.decode()

    drawn = set(re.findall(r'data-area="([^"]+)"', html))
    assert drawn == {feature["properties"]["code"] for feature in _features(city)}
    assert code in drawn


def test_open311_services_are_the_citys_categories(city: City) -> None:
    response = Client().get("/open311/v2/services.json")

    assert response.status_code == 200
    assert [service["service_code"] for service in response.json()] == [
        category.code for category in city.categories
    ]


def test_texts_name_the_city(city: City, make_report, sms_outbox) -> None:
    staff = UserFactory(role=Role.DISPATCHER)
    citizen = UserFactory()
    report = make_report(
        citizen, category="garbage", point=next(iter(inside_points(city).values()))
    )
    client = Client()
    client.force_login(staff)

    assert f"{city.app_name}" in client.get("/admin/").content.decode()
    assert city.name in str(OutsideServiceArea().message)
    lifecycle.report_reject(
        report=report, actor=staff, reason=lifecycle.RejectReason.INVALID, message="Không hợp lệ"
    )
    notify_event(report.events.latest("id").pk)
    delivery = Delivery.objects.get(notification__user=citizen, channel=Delivery.Channel.SMS)
    deliver.apply(args=[delivery.pk])
    assert [message.text.split(": ")[0] for message in sms_outbox] == [city.app_name]


def test_a_report_of_each_category_is_offered_its_own_resolution_template(
    city: City, make_report
) -> None:
    """In each city, a report of every category but "other" finds a resolution template of its
    category first, in Vietnamese and in English, filled in with nothing left to write."""
    citizen = UserFactory()
    point = next(iter(inside_points(city).values()))
    for category in city.categories:
        if category.code == "other":
            continue
        report = make_report(citizen, category=category.code, point=point)
        for language in ("vi", "en"):
            first = reply_templates_for(
                report=report, purposes=[ReplyPurpose.RESOLUTION], language=language
            )[0]
            assert first.category is not None
            assert first.category.code == category.code, (category.code, language)
            filled = reply_template_render(template=first, report=report)
            assert report.reference in filled
            assert "{" not in filled, filled


def test_far_islands_are_drawn_in_an_inset_and_the_mainland_keeps_its_scale(city: City) -> None:
    from insights.maps import MapArea, area_rings, city_map_svg, outlying

    areas = [
        MapArea(
            code=feature["properties"]["code"],
            name=feature["properties"]["name"],
            rings=area_rings(feature["geometry"]),
            fill="#fff",
            label="",
        )
        for feature in _features(city)
    ]
    main, far = outlying(areas)

    svg = str(city_map_svg(areas))
    assert len(main) + len(far) == len(areas)
    assert svg.count("data-area=") == len(areas)
    if city.slug == "da_nang":
        assert [area.code for area in far] == ["20333"]  # Hoàng Sa, 400 km out at sea
        assert 'class="inset"' in svg
    else:
        assert far == []
        assert 'class="inset"' not in svg
    # The drawing is as tall as the mainland makes it, not a strip squashed by the islands.
    height = float(re.search(r'viewBox="0 0 \d+ (\d+)"', svg).group(1))
    assert height > 300
