"""Discovery, unknown addresses, and Open311's place outside the OpenAPI schema."""

from __future__ import annotations

from django.test import Client

from tests.open311.conftest import get, xml

FORMATS = ["text/xml", "application/json"]


def test_discovery_names_the_georeport_v2_endpoint_and_its_formats(client: Client) -> None:
    response = get(client, "discovery.json")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"changeset", "contact", "key_service", "endpoints"}
    [endpoint] = body["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert endpoint["formats"] == FORMATS
    assert endpoint["type"] in ("production", "test")


def test_discovery_in_xml_nests_endpoints_and_formats(client: Client) -> None:
    root = xml(get(client, "discovery.xml"))

    assert root.tag == "discovery"
    [endpoint] = root.findall("./endpoints/endpoint")
    assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert [f.text for f in endpoint.findall("./formats/format")] == FORMATS


def test_an_unknown_address_is_a_georeport_error_not_an_html_page(client: Client) -> None:
    response = get(client, "nothing-here.json")

    assert response.status_code == 404
    assert response.json() == [{"code": 404, "description": response.json()[0]["description"]}]


def test_an_unknown_address_in_xml_answers_an_errors_document(client: Client) -> None:
    response = get(client, "nothing-here.xml")

    assert response.status_code == 404
    root = xml(response)
    assert root.tag == "errors"
    assert root.findtext("./error/code") == "404"


def test_a_format_other_than_json_or_xml_is_not_found(client: Client) -> None:
    assert get(client, "services.html").status_code == 404


def test_open311_is_not_in_the_api_schema(client: Client, db: None) -> None:
    schema = client.get("/api/schema/", headers={"Accept": "application/json"})

    assert schema.status_code == 200
    assert "open311" not in schema.content.decode()
