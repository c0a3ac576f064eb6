"""hues.links.absolute_url gives what build_absolute_uri gives, working the prefix out once."""

from __future__ import annotations

import pytest
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from hues.links import absolute_url


@pytest.mark.parametrize("secure", [True, False])
@pytest.mark.parametrize(
    "url",
    [
        "/media/photos/a.jpg?sig=x",
        "/",
        "https://bucket.example.org/photos/a.jpg",
        "//cdn.example.org/a.jpg",
        "relative/path.jpg",
    ],
)
def test_it_equals_build_absolute_uri(url, secure):
    request = Request(
        APIRequestFactory().get("/api/v1/reports", secure=secure, HTTP_HOST="testserver")
    )

    assert absolute_url(request, url) == request.build_absolute_uri(url)
    assert absolute_url(request, url) == request.build_absolute_uri(url)  # from the prefix kept


def test_the_host_is_validated_once_per_request(monkeypatch):
    request = Request(
        APIRequestFactory().get("/api/v1/reports", secure=True, HTTP_HOST="testserver")
    )
    calls = []
    original = request._request.get_host

    def counted():
        calls.append(1)
        return original()

    monkeypatch.setattr(request._request, "get_host", counted)

    urls = [absolute_url(request, f"/media/{n}.jpg") for n in range(90)]

    assert urls[7] == "https://testserver/media/7.jpg"
    assert len(calls) == 1


def test_without_a_request_the_url_stays_as_it_is():
    assert absolute_url(None, "/media/a.jpg") == "/media/a.jpg"
