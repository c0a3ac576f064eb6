"""Services are our active categories, named in the caller's language."""

from __future__ import annotations

import pytest
from django.test import Client

from reports.models import Category
from tests.open311.conftest import get, xml

SERVICE_FIELDS = {
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
}


@pytest.fixture(autouse=True)
def _reference(reference_data: None) -> None:
    pass


def test_services_lists_every_active_category(client: Client) -> None:
    response = get(client, "services.json")

    assert response.status_code == 200
    codes = [service["service_code"] for service in response.json()]
    assert codes == list(Category.objects.filter(is_active=True).values_list("code", flat=True))
    assert len(codes) == 11


def test_a_service_has_the_georeport_fields_with_no_metadata(client: Client) -> None:
    services = {s["service_code"]: s for s in get(client, "services.json").json()}

    lighting = services["street_lighting"]
    assert set(lighting) == SERVICE_FIELDS
    assert lighting["metadata"] is False
    assert lighting["type"] == "realtime"
    assert lighting["group"] == "infrastructure"
    assert "street_lighting" in lighting["keywords"]


def test_an_inactive_category_is_not_a_service(client: Client) -> None:
    Category.objects.filter(code="garbage").update(is_active=False)

    codes = [s["service_code"] for s in get(client, "services.json").json()]

    assert "garbage" not in codes


def test_services_are_named_in_vietnamese_by_default(client: Client) -> None:
    services = {s["service_code"]: s for s in get(client, "services.json").json()}

    assert services["street_lighting"]["service_name"] == "Điện chiếu sáng công cộng"


def test_services_are_named_in_english_for_accept_language_en(client: Client) -> None:
    response = get(client, "services.json", headers={"Accept-Language": "en"})

    services = {s["service_code"]: s for s in response.json()}
    assert services["street_lighting"]["service_name"] == "Street lighting"


@pytest.mark.parametrize("locale", ["en", "en_US", "en-GB"])
def test_the_locale_parameter_outranks_accept_language(client: Client, locale: str) -> None:
    response = get(client, "services.json", locale=locale, headers={"Accept-Language": "vi"})

    services = {s["service_code"]: s for s in response.json()}
    assert services["street_lighting"]["service_name"] == "Street lighting"
    assert response["Content-Language"] == "en"


def test_an_unknown_locale_falls_back_to_accept_language(client: Client) -> None:
    response = get(client, "services.json", locale="fr", headers={"Accept-Language": "vi"})

    services = {s["service_code"]: s for s in response.json()}
    assert services["street_lighting"]["service_name"] == "Điện chiếu sáng công cộng"


def test_services_in_xml_are_service_elements_under_services(client: Client) -> None:
    root = xml(get(client, "services.xml", locale="en"))

    assert root.tag == "services"
    services = root.findall("service")
    assert len(services) == 11
    assert all(child.tag == "service" for child in root)
    lighting = next(s for s in services if s.findtext("service_code") == "street_lighting")
    assert {child.tag for child in lighting} == SERVICE_FIELDS
    assert lighting.findtext("service_name") == "Street lighting"
    assert lighting.findtext("metadata") == "false"
    assert lighting.findtext("type") == "realtime"


def test_services_in_xml_are_utf8_with_a_declaration(client: Client) -> None:
    response = get(client, "services.xml")

    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert "Điện chiếu sáng công cộng".encode() in response.content


def test_a_service_definition_has_an_empty_attribute_list(client: Client) -> None:
    response = get(client, "services/street_lighting.json")

    assert response.status_code == 200
    assert response.json() == {"service_code": "street_lighting", "attributes": []}


def test_a_service_definition_in_xml(client: Client) -> None:
    root = xml(get(client, "services/street_lighting.xml"))

    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "street_lighting"
    attributes = root.find("attributes")
    assert attributes is not None
    assert list(attributes) == []


@pytest.mark.parametrize("code", ["no_such_service", "garbage"])
def test_the_definition_of_an_unknown_or_inactive_service_is_not_found(
    client: Client, code: str
) -> None:
    Category.objects.filter(code="garbage").update(is_active=False)

    response = get(client, f"services/{code}.json")

    assert response.status_code == 404
    [error] = response.json()
    assert error["code"] == 404
    assert error["description"]
