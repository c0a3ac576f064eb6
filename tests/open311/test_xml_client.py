"""An XML-only client: files a request and reads it back, with nothing but XML."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.test import Client

from open311.services import IssuedApiKey
from tests.open311.conftest import request_fields, xml


def test_an_xml_client_files_a_request_and_reads_it_back(
    client: Client, api_key: IssuedApiKey, django_capture_on_commit_callbacks: Any
) -> None:
    services = xml(client.get("/open311/v2/services.xml?locale=en"))
    code = next(
        s.findtext("service_code")
        for s in services.iter("service")
        if s.findtext("service_name") == "Street lighting"
    )
    assert code is not None

    with django_capture_on_commit_callbacks(execute=True):
        filed = client.post(
            "/open311/v2/requests.xml",
            urlencode(request_fields(api_key.key, service_code=code)),
            content_type="application/x-www-form-urlencoded",
        )
    assert filed.status_code == 201
    answer = xml(filed)
    assert answer.tag == "service_requests"
    [created] = answer.findall("request")
    assert {child.tag for child in created} == {
        "service_request_id",
        "service_notice",
        "account_id",
    }
    request_id = created.findtext("service_request_id")

    token = xml(client.get(f"/open311/v2/tokens/{request_id}.xml"))
    assert token.findtext("./request/service_request_id") == request_id

    read = xml(client.get(f"/open311/v2/requests/{request_id}.xml", {"locale": "en"}))
    [request] = read.findall("request")
    assert request.findtext("service_request_id") == request_id
    assert request.findtext("status") == "open"
    assert request.findtext("service_code") == "street_lighting"
    assert request.findtext("service_name") == "Street lighting"
    assert request.findtext("agency_responsible") == "Hue Environment and Urban Works (HEPCO)"
    assert request.findtext("description") == "Đèn đường trước số 5 Lê Lợi không sáng"
    assert request.findtext("address") == "5 Lê Lợi, Phú Xuân"
    assert (request.findtext("expected_datetime") or "").endswith("+07:00")
