"""Photo files are served only through signed URLs (reports.media): a public report's photos
to anyone with the URL, for good; a private report's only through URLs that expire; a bare
path, a forged or tampered signature or an expired URL is 404."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.core.signing import Signer
from django.test import Client
from django.utils import timezone
from django.utils.http import urlencode

from reports import media
from reports.media import photo_url
from reports.models import Photo, Report
from tests.reports.helpers import admin_client, change_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def public_report(make_report, citizen) -> Report:
    return make_report(citizen)


@pytest.fixture
def private_report(make_report, citizen) -> Report:
    return make_report(citizen, is_public=False)


def photo_of(report: Report) -> Photo:
    return report.photos.get()


def path_of(url: str) -> str:
    """The URL as the test client takes it: path and query, no host."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def api_photo_urls(client, report: Report) -> list[str]:
    body = client.get(f"/api/v1/reports/{report.reference}").json()
    return [url for photo in body["photos"] for url in (photo["url"], photo["thumbnail_url"])]


def test_anyone_fetches_a_public_reports_photo_and_thumbnail_from_the_api(api, public_report):
    photo = photo_of(public_report)

    urls = api_photo_urls(api, public_report)

    assert len(urls) == 2
    for url, file in zip(urls, (photo.public_image, photo.public_thumbnail), strict=True):
        response = Client().get(path_of(url))
        assert response.status_code == 200
        assert response["Content-Type"] == "image/jpeg"
        assert b"".join(response.streaming_content) == Path(file.path).read_bytes()


def test_a_public_reports_photo_urls_never_expire_and_may_be_cached(api, public_report):
    url = api_photo_urls(api, public_report)[0]

    assert "e" not in parse_qs(urlsplit(url).query)
    with time_machine.travel(timezone.now() + timedelta(days=400)):
        response = Client().get(path_of(url))
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize("report_fixture", ["public_report", "private_report"])
def test_the_bare_file_path_is_404_without_a_signature(request, report_fixture):
    report = request.getfixturevalue(report_fixture)
    photo = photo_of(report)

    for file in (photo.image, photo.thumbnail):
        assert Client().get(f"/media/{file.name}").status_code == 404


def test_the_reporter_fetches_their_private_reports_photos(api_as, citizen, private_report):
    urls = api_photo_urls(api_as(citizen), private_report)

    assert len(urls) == 2
    for url in urls:
        response = Client().get(path_of(url))  # an image loader sends no token
        assert response.status_code == 200
        assert response["Cache-Control"].startswith("private")


def test_a_private_reports_photo_url_expires(api_as, citizen, private_report, settings):
    url = api_photo_urls(api_as(citizen), private_report)[0]

    with time_machine.travel(timezone.now() + timedelta(seconds=2 * settings.PHOTO_URL_MAX_AGE)):
        response = Client().get(path_of(url))

    assert response.status_code == 404


def test_a_private_reports_photo_url_works_for_at_least_one_period(
    api_as, citizen, private_report, settings
):
    url = api_photo_urls(api_as(citizen), private_report)[0]

    with time_machine.travel(timezone.now() + timedelta(seconds=settings.PHOTO_URL_MAX_AGE - 1)):
        response = Client().get(path_of(url))

    assert response.status_code == 200


def test_dropping_the_expiry_of_a_private_url_does_not_make_it_permanent(
    api_as, citizen, private_report
):
    url = api_photo_urls(api_as(citizen), private_report)[0]
    parts = urlsplit(url)
    signature = parse_qs(parts.query)["s"][0]

    assert Client().get(f"{parts.path}?s={signature}").status_code == 404


def test_pushing_the_expiry_of_a_private_url_later_breaks_its_signature(
    api_as, citizen, private_report
):
    url = api_photo_urls(api_as(citizen), private_report)[0]
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    later = int(query["e"][0]) + 86_400

    assert Client().get(f"{parts.path}?e={later}&s={query['s'][0]}").status_code == 404


def test_a_signature_of_one_photo_opens_no_other(api, make_report, citizen, public_report):
    other = photo_of(make_report(citizen, is_public=False))
    signature = parse_qs(urlsplit(api_photo_urls(api, public_report)[0]).query)["s"][0]

    assert Client().get(f"/media/{other.image.name}?s={signature}").status_code == 404


@pytest.mark.parametrize(
    "name",
    [
        "../settings.py",
        "photos/2026/12/../../../hues/settings.py",
        "photos/2026/12/notahexname.jpg",
        "photos/2026/12/0123456789abcdef0123456789abcdef.png",
    ],
)
def test_names_we_never_store_are_refused_even_when_signed(name):
    assert Client().get(photo_url(name, expiring=False)).status_code == 404


def test_a_signed_url_of_a_missing_file_is_404(public_report):
    photo = photo_of(public_report)
    Path(photo.image.path).unlink()

    assert Client().get(photo_url(photo.image.name, expiring=False)).status_code == 404


def test_nobody_else_is_given_a_private_reports_photo_urls(
    api_as, other_citizen, staff_a, private_report
):
    photo = photo_of(private_report)
    for client in (Client(), api_as(other_citizen), api_as(staff_a)):
        for path in ("/api/v1/reports", f"/api/v1/reports/{private_report.reference}"):
            text = client.get(path).content.decode()
            assert photo.image.name not in text
            assert photo.thumbnail.name not in text


def test_agency_staff_see_a_private_reports_photos_in_the_admin(staff_a, private_report):
    photo = photo_of(private_report)
    page = admin_client(staff_a).get(change_url(private_report)).content.decode()

    urls = [
        line.split('"')[0]
        for line in page.split('src="')[1:]
        if line.startswith(f"/media/{photo.thumbnail.name}")
    ]
    assert len(urls) == 1
    assert Client().get(urls[0].replace("&amp;", "&")).status_code == 200


def test_a_private_reports_etag_changes_when_its_photo_urls_do(
    api_as, citizen, other_citizen, private_report, public_report, settings
):
    settings.PHOTO_URL_MAX_AGE = 600  # within the access token's life
    client, other = api_as(citizen), api_as(other_citizen)
    path = f"/api/v1/reports/{private_report.reference}"
    public_path = f"/api/v1/reports/{public_report.reference}"
    etag, public_etag = client.get(path)["ETag"], other.get(public_path)["ETag"]
    # The reporter's own public report: their unobscured copy's URL expires (original_url).
    own_etag = client.get(public_path)["ETag"]

    with time_machine.travel(timezone.now() + timedelta(seconds=settings.PHOTO_URL_MAX_AGE)):
        assert client.get(path, headers={"If-None-Match": etag}).status_code == 200
        assert other.get(public_path, headers={"If-None-Match": public_etag}).status_code == 304
        assert client.get(public_path, headers={"If-None-Match": own_etag}).status_code == 200


@pytest.mark.parametrize(
    ("mode", "header"), [("x-accel-redirect", "X-Accel-Redirect"), ("x-sendfile", "X-Sendfile")]
)
def test_the_web_server_sends_the_file_when_told_to(mode, header, public_report, settings):
    settings.MEDIA_SERVE = mode
    photo = photo_of(public_report)

    response = Client().get(photo_url(photo.public_image.name, expiring=False))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response.content == b""
    expected = {
        "x-accel-redirect": f"/protected-media/{photo.public_image.name}",
        "x-sendfile": str(Path(photo.public_image.path).resolve()),
    }[mode]
    assert response[header] == expected


def test_the_web_server_is_not_told_about_a_bad_signature(public_report, settings):
    settings.MEDIA_SERVE = "x-accel-redirect"
    photo = photo_of(public_report)

    response = Client().get(f"/media/{photo.image.name}?s=forged")

    assert response.status_code == 404
    assert "X-Accel-Redirect" not in response


def test_a_signed_url_made_once_is_made_anew_for_another_secret(settings):
    """URLs are signed once per process (reports.media._signed_url); the secret keys them."""
    from reports.media import photo_url

    name = "photos/2026/01/" + "a" * 32 + ".jpg"
    first = photo_url(name, expiring=False)
    assert photo_url(name, expiring=False) == first
    settings.SECRET_KEY = "another-secret-" + "x" * 40

    assert photo_url(name, expiring=False) != first


@pytest.mark.parametrize("expires", [None, 1_790_000_000])
@pytest.mark.parametrize(
    "name", ["public/2026/12/" + "a" * 32 + ".jpg", "photos/2026/01/" + "0f" * 16 + ".jpg", "x|y"]
)
def test_the_signature_is_django_signers_from_a_key_made_once(name, expires, settings):
    for secret in ("first-secret-" + "k" * 40, "second-secret-" + "z" * 40):
        settings.SECRET_KEY = secret
        expected = Signer(salt=media.SALT).signature(f"{name}|{expires or ''}")
        assert media._signature(name, expires) == expected
        query = {"e": expires, "s": expected} if expires is not None else {"s": expected}
        signed = media._signed_url(secret, "/media/", name, expires)
        assert signed == f"/media/{name}?{urlencode(query)}"
