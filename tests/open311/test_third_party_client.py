"""Our Open311 endpoint as an existing GeoReport v2 client sees it: the `georeport` package
from PyPI, over real HTTP (live server), in JSON and in XML."""

from __future__ import annotations

import pytest
from georeport import GeoReport

from reports.models import Report

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def city(live_server, reference_data, open311_roles):
    return f"{live_server.url}/open311/v2"


@pytest.fixture
def filed_public(citizen, file_report):
    reference = file_report(citizen, description="Đèn đường hỏng trước chợ").json()["reference"]
    return Report.objects.get(reference=reference)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_georeport_client_lists_our_services(city, fmt):
    services = GeoReport(city, output_format=fmt).get_service_list()

    codes = {service["service_code"] for service in services}
    assert {"street_lighting", "garbage", "drainage", "urban_order"} <= codes
    lighting = next(s for s in services if s["service_code"] == "street_lighting")
    assert lighting["service_name"]
    assert str(lighting["metadata"]).lower() == "false"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_georeport_client_reads_a_service_definition(city, fmt):
    definition = GeoReport(city, output_format=fmt).get_service_definition("drainage")

    assert definition["service_code"] == "drainage"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_georeport_client_reads_requests_and_one_request(city, filed_public, fmt):
    client = GeoReport(city, output_format=fmt)

    requests_ = client.get_service_requests(service_code="street_lighting", status="open")
    one = client.get_service_request(filed_public.reference)

    requests_ = requests_ if isinstance(requests_, list) else [requests_]
    assert filed_public.reference in {r["service_request_id"] for r in requests_}
    one = one[0] if isinstance(one, list) else one
    assert one["service_request_id"] == filed_public.reference
    assert one["status"] == "open"
    assert one["agency_responsible"]


def test_a_georeport_client_gets_a_clear_error_for_an_unknown_request(city):
    import requests

    with pytest.raises(requests.HTTPError) as error:
        GeoReport(city).get_service_request("HUE-2026-999999")

    assert error.value.response.status_code == 404
    assert error.value.response.json()[0]["code"] == 404


def test_a_request_filed_with_a_key_is_readable_by_the_client(city, api_key, live_server):
    import requests

    response = requests.post(
        f"{city}/requests.json",
        data={
            "api_key": api_key.key,
            "service_code": "garbage",
            "lat": "16.4821",
            "long": "107.57612",
            "description": "Rác tồn đọng đầu hẻm",
        },
        timeout=30,
    )
    assert response.status_code == 201, response.text
    reference = response.json()[0]["service_request_id"]

    one = GeoReport(city).get_service_request(reference)

    one = one[0] if isinstance(one, list) else one
    assert one["service_code"] == "garbage"
