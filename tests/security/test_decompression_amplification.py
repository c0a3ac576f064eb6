"""Issue 16, point 5, reproduced: five PNGs of a few hundred kilobytes, each declaring
7071x7071 RGBA (just under PHOTO_MAX_PIXELS), were decoded and accepted as five 1600x1600
photos; one worker's peak memory went from 174 MB to 639 MB.

Now the memory reading a photo would cost is estimated from its header (declared size, after
a JPEG's draft, times the bytes a pixel takes in each copy: reports.photos.decoding_bytes)
and checked against PHOTO_MAX_DECODING_BYTES before any decoding, for every accepted format:
413 `photo_too_costly`, and nothing is stored."""

from __future__ import annotations

import io
import struct
import zlib
from functools import cache
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageFile

from reports.models import Photo, Report
from reports.photos import (
    PhotoBroken,
    PhotoLimits,
    PhotoTooCostly,
    decoding_bytes,
    process_photo,
)
from tests.images import image_bytes
from tests.security.make_corpus import jpeg_declaring

pytestmark = pytest.mark.django_db

SIDE = 7071


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@cache
def transparent_png(side: int = SIDE) -> bytes:
    """A complete, valid sidexside RGBA PNG of transparent black: about 200 kB that decode
    to 200 MB (compressed row by row, so the test never holds the pixels)."""
    compressor = zlib.compressobj(9)
    row = bytes(1 + side * 4)
    data = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", data)
        + _chunk(b"IEND", b"")
    )


@pytest.fixture
def no_decoding(monkeypatch):
    """Fails the test if any picture's pixels are decoded."""

    def refuse(self, *args, **kwargs):
        raise AssertionError(f"{self.format} pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


def files_under(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def test_five_pngs_declaring_7071_square_rgba_are_refused_before_decoding(
    file_report, citizen, settings, no_decoding
):
    data = transparent_png()
    assert len(data) < 250_000
    photos = [SimpleUploadedFile(f"p{n}.png", data) for n in range(5)]

    response = file_report(citizen, photos=photos)

    assert response.status_code == 413
    assert response.json()["code"] == "photo_too_costly"
    assert response.json()["fields"]["photos"][0]["code"] == "photo_too_costly"
    assert not Report.objects.exists()
    assert not Photo.objects.exists()
    assert files_under(Path(settings.MEDIA_ROOT)) == []


@pytest.mark.parametrize(
    ("fmt", "mode"),
    [("JPEG", "RGB"), ("PNG", "RGB"), ("PNG", "RGBA"), ("WEBP", "RGB"), ("HEIF", "RGB")],
)
def test_every_accepted_format_is_held_to_the_memory_budget(
    file_report, citizen, settings, fmt, mode
):
    data = image_bytes(fmt, size=(600, 600), mode=mode)
    settings.PHOTO_MAX_DECODING_BYTES = 600 * 600 * 4 - 1

    response = file_report(citizen, photos=[SimpleUploadedFile("photo", data)])

    assert response.status_code == 413
    assert response.json()["code"] == "photo_too_costly"
    assert not Report.objects.exists()
    assert files_under(Path(settings.MEDIA_ROOT)) == []


@pytest.mark.parametrize(
    ("fmt", "mode"),
    [("JPEG", "RGB"), ("PNG", "RGBA"), ("WEBP", "RGB"), ("HEIF", "RGB")],
)
def test_photos_within_the_default_budget_are_accepted(file_report, citizen, fmt, mode):
    data = image_bytes(fmt, size=(1200, 900), mode=mode)

    response = file_report(citizen, photos=[SimpleUploadedFile("photo", data)])

    assert response.status_code == 201


def test_a_48_megapixel_jpeg_costs_what_its_draft_decodes():
    """A big phone JPEG is decoded at a quarter of its size: under a budget that its full
    size (192 MB) would break. (Its scan data is a small picture's: whether that is then
    refused as broken is not what this test is about.)"""
    data = jpeg_declaring(8000, 6000)
    limits = PhotoLimits(
        max_bytes=10**7,
        max_pixels=50_000_000,
        max_side=1600,
        thumbnail_side=400,
        max_decoding_bytes=2000 * 1500 * 4,
    )

    try:
        process_photo(io.BytesIO(data), size=len(data), limits=limits)
    except PhotoTooCostly:
        pytest.fail("a 48-megapixel JPEG was refused for its memory")
    except PhotoBroken:
        pass


def progressive_jpeg_declaring(width: int, height: int) -> bytes:
    """A small progressive JPEG whose frame header declares width x height."""
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (30, 120, 200)).save(buffer, format="JPEG", progressive=True)
    data = bytearray(buffer.getvalue())
    frame = data.find(b"\xff\xc2")
    data[frame + 5 : frame + 9] = struct.pack(">HH", height, width)
    return bytes(data)


@pytest.fixture
def progressive_bomb() -> bytes:
    return progressive_jpeg_declaring(SIDE, SIDE)


def test_a_progressive_jpeg_counts_its_coefficients_at_the_declared_size(
    file_report, citizen, progressive_bomb, no_decoding
):
    """libjpeg holds every DCT coefficient of a progressive JPEG, at its full size, whatever
    the draft: 7071x7071 costs 300 MB however small the file."""
    data = progressive_bomb

    response = file_report(citizen, photos=[SimpleUploadedFile("photo.jpg", data)])

    assert response.status_code == 413
    assert response.json()["code"] == "photo_too_costly"
    assert not Report.objects.exists()


def test_a_24_megapixel_progressive_jpeg_fits_the_default_budget():
    image = Image.open(io.BytesIO(progressive_jpeg_declaring(6000, 4000)))
    image.draft("RGB", (1600, 1067))

    assert decoding_bytes(image, declared=(6000, 4000)) < 192 * 1024 * 1024


def test_the_estimate_counts_the_transparent_copies():
    image = Image.open(io.BytesIO(transparent_png(64)))

    assert decoding_bytes(image) == 64 * 64 * (4 + 9)
