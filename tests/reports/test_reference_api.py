"""Reference data, health, the OpenAPI schema and the interactive docs."""

from __future__ import annotations

import re

import pytest
import yaml
from django.contrib.staticfiles import finders

from reports.models import Category

DEMO_CATEGORIES = [
    "urban_order",
    "garbage",
    "drainage",
    "street_lighting",
    "water_supply",
    "electricity",
    "trees_parks",
    "road_damage",
    "traffic_order",
    "security_order",
    "other",
]


# Categories


def test_categories_lists_the_eleven_demo_categories_in_order(api, reference_data):
    response = api.get("/api/v1/categories")

    assert response.status_code == 200
    assert [category["code"] for category in response.json()] == DEMO_CATEGORIES


def test_categories_are_named_in_vietnamese_by_default(api, reference_data):
    names = {c["code"]: c["name"] for c in api.get("/api/v1/categories").json()}

    assert names["street_lighting"] == "Điện chiếu sáng công cộng"
    assert names["other"] == "Khác"


def test_categories_are_named_in_english_on_request(api, reference_data):
    response = api.get("/api/v1/categories", HTTP_ACCEPT_LANGUAGE="en")

    names = {c["code"]: c["name"] for c in response.json()}
    assert names["street_lighting"] == "Street lighting"
    assert names["water_supply"] == "Water supply"


def test_a_category_carries_its_group_icon_and_deadlines(api, reference_data):
    drainage = next(c for c in api.get("/api/v1/categories").json() if c["code"] == "drainage")

    assert drainage == {
        "code": "drainage",
        "name": "Thoát nước, ngập úng",
        "group": "infrastructure",
        "icon": "water",
        "deadline_hours": 23,
        "urgent_deadline_hours": 23,
    }


def test_an_inactive_category_is_not_offered(api, reference_data):
    Category.objects.filter(code="other").update(is_active=False)

    codes = [category["code"] for category in api.get("/api/v1/categories").json()]

    assert "other" not in codes
    assert len(codes) == 10


def test_categories_need_no_sign_in_and_leave_out_database_ids(api, reference_data):
    category = api.get("/api/v1/categories").json()[0]

    assert "id" not in category
    assert "default_agency" not in category


# Areas


def test_areas_lists_the_forty_areas_with_code_name_kind_and_bbox(api, reference_data):
    response = api.get("/api/v1/areas")

    assert response.status_code == 200
    areas = response.json()
    assert len(areas) == 40
    assert len({area["code"] for area in areas}) == 40
    for area in areas:
        assert {"code", "name", "kind", "bbox"} <= set(area)
        assert area["kind"] in ("ward", "commune")


def test_the_areas_are_21_wards_and_19_communes(api, reference_data):
    kinds = [area["kind"] for area in api.get("/api/v1/areas").json()]

    assert (kinds.count("ward"), kinds.count("commune")) == (21, 19)


def test_an_areas_bbox_is_min_lng_min_lat_max_lng_max_lat_around_it(api, reference_data):
    areas = {area["code"]: area for area in api.get("/api/v1/areas").json()}
    phu_xuan = areas["19753"]
    min_lng, min_lat, max_lng, max_lat = phu_xuan["bbox"]

    assert phu_xuan["name"] == "Phường Phú Xuân"
    assert min_lng < 107.57612 < max_lng
    assert min_lat < 16.4821 < max_lat


def test_areas_are_named_in_english_on_request(api, reference_data):
    response = api.get("/api/v1/areas", HTTP_ACCEPT_LANGUAGE="en")

    names = {area["code"]: area["name"] for area in response.json()}
    assert names["19753"] == "Phu Xuan Ward"


def test_areas_do_not_carry_their_boundary_polygons(api, reference_data):
    area = api.get("/api/v1/areas").json()[0]

    assert "boundary" not in area


# Health


def test_health_answers_ok(api):
    response = api.get("/api/v1/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_health_touches_no_database(api, db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = api.get("/api/v1/health")

    assert response.status_code == 200


def test_health_ignores_a_bad_bearer_token(api):
    response = api.get("/api/v1/health", HTTP_AUTHORIZATION="Bearer not-a-token")

    assert response.status_code == 200


# Schema and docs


@pytest.fixture
def schema(api, db):
    response = api.get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_the_schema_is_an_openapi_3_document(schema):
    assert re.fullmatch(r"3\.\d+\.\d+", schema["openapi"])
    assert schema["info"]["title"]


def test_the_schema_describes_the_reports_endpoints(schema):
    assert {"get", "post"} <= set(schema["paths"]["/api/v1/reports"])
    assert "get" in schema["paths"]["/api/v1/reports/{reference}"]


def test_the_schema_describes_registration(schema):
    assert "post" in schema["paths"]["/api/v1/auth/register"]


def test_the_schema_is_also_served_as_json(api, db):
    response = api.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    assert "/api/v1/reports" in response.json()["paths"]


def test_the_docs_page_renders_html(api, db):
    response = api.get("/api/docs/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "swagger" in response.content.decode().lower()


def test_the_docs_page_loads_only_local_assets(api, db):
    page = api.get("/api/docs/").content.decode()

    assert "cdn." not in page
    assert "unpkg" not in page
    assert "jsdelivr" not in page
    sources = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page)
    assert sources
    assert all(not re.match(r"(?:https?:)?//", source) for source in sources)


def test_every_asset_of_the_docs_page_is_a_static_file_we_serve(api, db, settings):
    page = api.get("/api/docs/").content.decode()

    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page)
    prefix = "/" + settings.STATIC_URL.lstrip("/")

    # The page's start-up script comes from the page's own URL (hues.views.SwaggerDocsView).
    scripts = [asset for asset in assets if asset.startswith("/api/docs/?")]
    assert len(scripts) == 1
    assert api.get(scripts[0])["Content-Type"].startswith("application/javascript")
    assets.remove(scripts[0])
    assert assets
    for asset in assets:
        assert asset.startswith(prefix)
        assert finders.find(asset.removeprefix(prefix)), asset
