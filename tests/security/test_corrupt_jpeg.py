"""Issue 16, point 11 (the second half), reproduced: a JPEG whose scan data is corrupt (bad
entropy-coded data, or cut short with an end marker appended) was decoded by Pillow into grey
or garbage without a word, and stored re-encoded.

Now a JPEG's scan is first decoded strictly (libjpeg-turbo's warnings are errors:
reports.photos._check_jpeg_scan): 400 `invalid_photo`, and nothing is stored."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from reports.models import Photo, Report

pytestmark = pytest.mark.django_db


def noise_jpeg(*, progressive: bool = False) -> bytes:
    """A photo of noise: its scan data is most of the file."""
    rng = random.Random(11)
    image = Image.frombytes("RGB", (480, 360), rng.randbytes(480 * 360 * 3))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90, progressive=progressive)
    return buffer.getvalue()


# A seed whose garbage Pillow decodes without a word (with most seeds it notices).
PROGRESSIVE_SEED = 4


def corrupt_middle(data: bytes, garbage: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + garbage + data[middle + len(garbage) :]


CORRUPT = {
    "random-bytes-in-the-scan": lambda: corrupt_middle(
        noise_jpeg(), random.Random(1).randbytes(100)
    ),
    "stuffed-bytes-in-the-scan": lambda: corrupt_middle(noise_jpeg(), b"\xff\x00" * 100),
    "restart-markers-out-of-place": lambda: corrupt_middle(noise_jpeg(), b"\xff\xd0" * 25),
    "cut-short-with-an-end-marker": lambda: (
        noise_jpeg()[: len(noise_jpeg()) * 2 // 3] + b"\xff\xd9"
    ),
    "progressive-with-random-bytes": lambda: corrupt_middle(
        noise_jpeg(progressive=True), random.Random(PROGRESSIVE_SEED).randbytes(100)
    ),
}


def files_under(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


@pytest.mark.parametrize("name", sorted(CORRUPT))
def test_a_jpeg_with_corrupt_scan_data_is_refused(file_report, citizen, settings, name):
    data = CORRUPT[name]()
    Image.open(io.BytesIO(data)).load()  # Pillow alone decodes it without a word

    response = file_report(citizen, photos=[SimpleUploadedFile("photo.jpg", data)])

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_photo"
    assert response.json()["fields"]["photos"][0]["code"] == "invalid_photo"
    assert not Report.objects.exists()
    assert not Photo.objects.exists()
    assert files_under(Path(settings.MEDIA_ROOT)) == []


@pytest.mark.parametrize("progressive", [False, True])
def test_a_clean_jpeg_is_accepted(file_report, citizen, progressive):
    data = noise_jpeg(progressive=progressive)

    response = file_report(citizen, photos=[SimpleUploadedFile("photo.jpg", data)])

    assert response.status_code == 201


def test_a_cmyk_jpeg_is_accepted(file_report, citizen):
    buffer = io.BytesIO()
    Image.new("CMYK", (320, 240), (10, 200, 30, 0)).save(buffer, format="JPEG")

    response = file_report(citizen, photos=[SimpleUploadedFile("photo.jpg", buffer.getvalue())])

    assert response.status_code == 201
