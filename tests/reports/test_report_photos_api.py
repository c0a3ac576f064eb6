"""Photos through the filing API: bad uploads are refused cleanly, good ones are stored clean."""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pillow_heif
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.models import User
from reports.models import Event, Photo, Report
from tests.images import GPS_IFD, image_bytes

PhotoMaker = Callable[..., SimpleUploadedFile]
STORED_NAME = re.compile(r"^(photos|thumbnails)/\d{4}/\d{2}/[0-9a-f]{32}\.jpg$")


def stored_files(media_root: Path | str) -> list[Path]:
    root = Path(media_root)
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


@functools.cache
def compressible_bomb() -> bytes:
    """A real PNG of 144 megapixels that compresses to a few kilobytes."""
    buffer = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(buffer, format="PNG")
    return buffer.getvalue()


def gif() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 60, 40)).save(buffer, format="GIF")
    return buffer.getvalue()


@pytest.fixture
def file_report_with(file_report: Callable[..., Any]) -> Callable[..., Any]:
    """File a report with exactly these files."""

    def make(user: User, files: list[SimpleUploadedFile]) -> Any:
        return file_report(user, photos=files)

    return make


# Bad uploads: a clear 4xx in the documented shape, and nothing created.


@dataclass(frozen=True)
class BadUpload:
    files: Callable[[PhotoMaker], list[SimpleUploadedFile]]
    status: int
    code: str
    # Lower settings.PHOTO_MAX_BYTES to one byte under the smallest file.
    one_byte_over_the_limit: bool = False


BAD_UPLOADS = {
    "text-renamed-jpg": BadUpload(
        lambda photo: [upload("photo.jpg", b"not a photo at all, just text\n" * 50)],
        415,
        "unsupported_photo_type",
    ),
    "gif": BadUpload(lambda photo: [upload("photo.jpg", gif())], 415, "unsupported_photo_type"),
    "truncated-jpeg": BadUpload(
        lambda photo: [upload("photo.jpg", image_bytes("JPEG")[:2000])], 400, "invalid_photo"
    ),
    "oversized": BadUpload(
        lambda photo: [photo()], 413, "photo_too_large", one_byte_over_the_limit=True
    ),
    "decompression-bomb": BadUpload(
        lambda photo: [upload("photo.png", compressible_bomb())], 413, "photo_too_large"
    ),
    "six-photos": BadUpload(lambda photo: [photo() for _ in range(6)], 400, "photo_count"),
    "zero-photos": BadUpload(lambda photo: [], 400, "photo_count"),
    "one-bad-among-good": BadUpload(
        lambda photo: [photo(), photo(), upload("photo.jpg", b"%PDF-1.4\n" + bytes(300))],
        415,
        "unsupported_photo_type",
    ),
}


@pytest.fixture(params=sorted(BAD_UPLOADS))
def bad_upload(request: pytest.FixtureRequest) -> BadUpload:
    return BAD_UPLOADS[request.param]


@pytest.fixture
def refused(bad_upload, citizen, file_report_with, photo, settings):
    """The API's answer to the bad upload."""
    files = bad_upload.files(photo)
    if bad_upload.one_byte_over_the_limit:
        settings.PHOTO_MAX_BYTES = min(file.size for file in files) - 1
    return file_report_with(citizen, files)


def test_a_bad_upload_gets_its_documented_status_and_code(bad_upload, refused):
    assert refused.status_code == bad_upload.status, refused.json()
    assert refused.json()["code"] == bad_upload.code


def test_a_bad_upload_gets_the_documented_error_shape_naming_the_photos_field(bad_upload, refused):
    body = refused.json()

    assert set(body) == {"detail", "code", "fields"}
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert [error["code"] for error in body["fields"]["photos"]] == [bad_upload.code]


def test_a_bad_upload_creates_no_report_no_photo_and_no_event(refused):
    assert refused.status_code >= 400

    assert not Report.objects.exists()
    assert not Photo.objects.exists()
    assert not Event.objects.exists()


def test_a_bad_upload_writes_no_file_under_the_media_root(refused, settings):
    assert refused.status_code >= 400

    assert stored_files(settings.MEDIA_ROOT) == []


# Boundaries of the limits


def test_a_photo_of_exactly_the_byte_limit_is_accepted(citizen, file_report_with, photo, settings):
    upload_ = photo()
    settings.PHOTO_MAX_BYTES = upload_.size

    response = file_report_with(citizen, [upload_])

    assert response.status_code == 201, response.json()


def test_five_photos_are_accepted(citizen, file_report):
    response = file_report(citizen, photos=5)

    assert response.status_code == 201, response.json()
    assert len(response.json()["photos"]) == 5
    assert Photo.objects.filter(report__reference=response.json()["reference"]).count() == 5


def test_one_photo_is_accepted(citizen, file_report):
    response = file_report(citizen, photos=1)

    assert response.status_code == 201, response.json()
    assert len(response.json()["photos"]) == 1


# What is stored


def stored_photo(response) -> Photo:
    assert response.status_code == 201, response.json()
    return Photo.objects.get(report__reference=response.json()["reference"])


def opened(path: str) -> Image.Image:
    image = Image.open(path)
    image.load()
    return image


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "HEIF"])
def test_a_photo_with_gps_exif_is_stored_without_any_metadata(
    fmt, citizen, file_report_with, photo
):
    if fmt == "HEIF" and not pillow_heif.libheif_info().get("HEIF"):
        pytest.skip("this machine's libheif has no HEVC encoder, so no HEIC can be made")
    upload_ = photo(fmt=fmt, gps=True)
    assert Image.open(io.BytesIO(upload_.read())).getexif().get_ifd(GPS_IFD)  # it has GPS
    upload_.seek(0)

    stored = stored_photo(file_report_with(citizen, [upload_]))

    for path in (stored.image.path, stored.thumbnail.path):
        image = opened(path)
        assert image.format == "JPEG"
        assert not image.getexif()
        assert not {"exif", "xmp", "icc_profile", "comment"} & set(image.info)
        raw = Path(path).read_bytes()
        assert b"Exif\x00\x00" not in raw
        assert b"TestPhone" not in raw


def test_stored_file_names_are_random_not_the_uploaded_name(citizen, file_report_with):
    name = "nguyen-thi-lan-home-16.4821-107.5761.jpg"
    files = [upload(name, image_bytes("JPEG")), upload(name, image_bytes("JPEG"))]

    response = file_report_with(citizen, files)

    assert response.status_code == 201, response.json()
    names = [
        file.name
        for stored in Photo.objects.filter(report__reference=response.json()["reference"])
        for file in (stored.image, stored.thumbnail)
    ]
    assert len(set(names)) == 4
    assert all(STORED_NAME.match(stored_name) for stored_name in names), names
    assert not any("nguyen" in stored_name for stored_name in names)


def test_photo_urls_do_not_reveal_the_uploaded_name(citizen, file_report_with):
    response = file_report_with(citizen, [upload("my-house-on-le-loi.jpg", image_bytes("JPEG"))])

    assert response.status_code == 201, response.json()
    (body,) = response.json()["photos"]
    assert "my-house" not in body["url"]
    assert "my-house" not in body["thumbnail_url"]


def test_the_original_upload_bytes_are_never_stored(citizen, file_report_with, settings):
    data = image_bytes("JPEG", gps=True)

    response = file_report_with(citizen, [upload("photo.jpg", data)])

    assert response.status_code == 201, response.json()
    files = stored_files(settings.MEDIA_ROOT)
    assert files  # the photo was stored where this test looks
    assert all(path.read_bytes() != data for path in files)


def test_only_the_cleaned_image_its_thumbnail_and_their_public_renditions_are_stored(
    citizen, file_report, settings
):
    response = file_report(citizen, photos=2)

    assert response.status_code == 201, response.json()
    stored = {
        Path(settings.MEDIA_ROOT, file.name)
        for photo in Photo.objects.all()
        for file in (photo.image, photo.thumbnail, photo.public_image, photo.public_thumbnail)
    }
    assert set(stored_files(settings.MEDIA_ROOT)) == stored
    assert len(stored) == 8


def test_the_api_reports_the_upright_size_of_the_stored_photo(citizen, file_report_with, photo):
    response = file_report_with(citizen, [photo(size=(640, 480), orientation=6)])

    stored = stored_photo(response)
    (body,) = response.json()["photos"]
    assert (body["width"], body["height"]) == (480, 640)
    assert opened(stored.image.path).size == (480, 640)


def test_a_large_photo_is_stored_shrunk_with_a_smaller_thumbnail(
    citizen, file_report_with, photo, settings
):
    settings.PHOTO_MAX_SIDE = 500
    settings.PHOTO_THUMBNAIL_SIDE = 100

    stored = stored_photo(file_report_with(citizen, [photo(size=(1000, 800))]))

    assert opened(stored.image.path).size == (500, 400)
    assert opened(stored.thumbnail.path).size == (100, 80)
