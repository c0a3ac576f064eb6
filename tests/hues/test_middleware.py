import pytest

from reports.models import Report


@pytest.mark.django_db
def test_a_body_larger_than_the_limit_gets_413_before_it_is_read(client, settings):
    settings.REQUEST_MAX_BODY_SIZE = 1000

    response = client.post(
        "/api/v1/reports", data=b"x" * 2000, content_type="application/octet-stream"
    )

    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"
    assert not Report.objects.exists()


def test_a_malformed_content_length_is_a_400(client):
    response = client.generic("POST", "/api/v1/reports", b"", CONTENT_LENGTH="lots")

    assert response.status_code == 400
