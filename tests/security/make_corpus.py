# ruff: noqa: T201 - a command-line script: it prints its figures.
"""A corpus of hostile uploads, and what each costs the API process.

    .venv/bin/python tests/security/make_corpus.py write DIR   # the files, one per sample
    .venv/bin/python tests/security/make_corpus.py measure     # time and peak RSS per sample

Every sample is made here, deterministically, from Pillow and a seeded random generator:
oversized bodies and photos, too many files, pixel bombs, truncated and corrupted JPEG, PNG,
WebP and HEIC, HTML, SVG, PDF and polyglots named .jpg, and formats we do not accept. Each
names the answer it must get (status and code). tests/security/test_upload_corpus.py feeds
each to POST /api/v1/reports and POST /api/v1/reports/{ref}/photos; `measure` files each once
through the API in this process (as a gunicorn worker would run it) and prints the time and
the rise of the process's peak RSS, which README.md records.

Two more samples are polyglots that ARE valid JPEGs (HTML after the image, or a script in a
JPEG comment): they are accepted, and the stored photo, re-encoded from the pixels, carries
none of it (checked by the test).
"""

from __future__ import annotations

import functools
import io
import random
import struct
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

# The limits the samples are built against (the test and `measure` set them).
SMALL_BODY_LIMIT = 1_000_000  # REQUEST_MAX_BODY_SIZE
SMALL_PHOTO_LIMIT = 300_000  # PHOTO_MAX_BYTES
SCRIPT = b"<script>alert(document.cookie)</script>"


@dataclass(frozen=True)
class Sample:
    name: str
    files: Callable[[], list[tuple[str, bytes]]]
    status: int
    code: str
    settings: dict[str, int] = field(default_factory=dict)

    @property
    def refused(self) -> bool:
        return self.status >= 400


def _rng(name: str) -> random.Random:
    return random.Random(name)


def _image(fmt: str, size: tuple[int, int] = (320, 240), mode: str = "RGB", **options) -> bytes:
    image = Image.new(mode, size, (30, 120, 200) if mode == "RGB" else 0)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


@functools.cache
def jpeg() -> bytes:
    return _image("JPEG", quality=90)


@functools.cache
def png() -> bytes:
    return _image("PNG")


@functools.cache
def heic() -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    return _image("HEIF")


def noise_jpeg(size: tuple[int, int]) -> bytes:
    """A real photo of noise: it does not compress, so its size is under our control."""
    rng = _rng(f"noise-{size}")
    image = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int, colour_type: int = 2) -> bytes:
    """A PNG header declaring a huge image (RGB; 6: RGBA), with almost no data behind it."""
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(100)))
        + _chunk(b"IEND", b"")
    )


def png_bomb() -> bytes:
    """A real 144-megapixel PNG that compresses to a few kilobytes."""
    buffer = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(buffer, format="PNG")
    return buffer.getvalue()


def png_text_bomb() -> bytes:
    """A small PNG with a compressed text chunk that inflates to 64 MB."""
    text = _chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"A" * (64 * 2**20), 9))
    return png()[:33] + text + png()[33:]


def jpeg_declaring(width: int, height: int) -> bytes:
    data = bytearray(jpeg())
    sof = data.find(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def jpeg_with(marker: bytes, offset: int, garbage: bytes) -> bytes:
    """The JPEG with `garbage` written into the segment that starts with `marker`."""
    data = bytearray(jpeg())
    start = data.find(marker) + offset
    data[start : start + len(garbage)] = garbage
    return bytes(data)


def png_bad_crc() -> bytes:
    data = bytearray(png())
    data[40] ^= 0xFF  # inside the first IDAT: its CRC no longer matches
    return bytes(data)


def other_format(fmt: str) -> bytes:
    return _image(fmt, size=(64, 48))


def one(name: str, make: Callable[[], bytes]) -> Callable[[], list[tuple[str, bytes]]]:
    return lambda: [(name, make())]


SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
    b'<rect width="10" height="10"/></svg>'
)
PDF = b"%PDF-1.4\n1 0 obj<< /Type /Catalog >>endobj\ntrailer<< /Root 1 0 R >>\n%%EOF\n"
EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n(pwned) print showpage\n"

SAMPLES = [
    # Sizes and counts
    Sample(
        "body-over-the-request-limit",
        one("photo.jpg", lambda: noise_jpeg((640, 640)) * 3),
        413,
        "request_too_large",
        {"REQUEST_MAX_BODY_SIZE": SMALL_BODY_LIMIT},
    ),
    Sample(
        "photo-over-the-byte-limit",
        one("photo.jpg", lambda: noise_jpeg((640, 480))),
        413,
        "photo_too_large",
        {"PHOTO_MAX_BYTES": SMALL_PHOTO_LIMIT},
    ),
    Sample("six-photos", lambda: [(f"p{n}.jpg", jpeg()) for n in range(6)], 400, "photo_count"),
    Sample(
        "a-hundred-and-one-files",
        lambda: [(f"p{n}.jpg", jpeg()[:64]) for n in range(101)],
        400,
        "invalid",
    ),
    Sample("an-empty-file", one("photo.jpg", lambda: b""), 400, "invalid"),
    # Pixel bombs
    Sample("png-144-megapixels", one("photo.png", png_bomb), 413, "photo_too_large"),
    Sample(
        "png-declaring-100000x100000",
        one("photo.png", lambda: png_declaring(100_000, 100_000)),
        413,
        "photo_too_large",
    ),
    Sample(
        "four-pngs-declaring-7071x7071-rgba",
        lambda: [(f"p{n}.png", png_declaring(7071, 7071, colour_type=6)) for n in range(4)],
        413,
        "photo_too_costly",
    ),
    Sample(
        "jpeg-declaring-65000x65000",
        one("photo.jpg", lambda: jpeg_declaring(65_000, 65_000)),
        413,
        "photo_too_large",
    ),
    Sample("png-text-chunk-bomb", one("photo.png", png_text_bomb), 400, "invalid_photo"),
    # Truncated and corrupted
    Sample(
        "jpeg-cut-in-half",
        one("photo.jpg", lambda: jpeg()[: len(jpeg()) // 2]),
        400,
        "invalid_photo",
    ),
    Sample("jpeg-header-only", one("photo.jpg", lambda: jpeg()[:200]), 400, "invalid_photo"),
    Sample(
        "jpeg-zero-size-frame",
        one("photo.jpg", lambda: jpeg_with(b"\xff\xc0", 5, bytes(4))),
        400,
        "invalid_photo",
    ),
    Sample(
        "jpeg-garbage-huffman-table",
        one("photo.jpg", lambda: jpeg_with(b"\xff\xc4", 4, b"\xff" * 36)),
        400,
        "invalid_photo",
    ),
    Sample(
        "jpeg-cut-short-then-an-end-marker",
        one("photo.jpg", lambda: noise_jpeg((320, 240))[:-4000] + b"\xff\xd9"),
        400,
        "invalid_photo",
    ),
    Sample(
        "png-cut-in-half", one("photo.png", lambda: png()[: len(png()) // 2]), 400, "invalid_photo"
    ),
    Sample("png-bad-checksum", one("photo.png", png_bad_crc), 400, "invalid_photo"),
    Sample(
        "webp-cut-short",
        one("photo.webp", lambda: _image("WEBP")[:60]),
        400,
        "invalid_photo",
    ),
    Sample(
        "heic-cut-in-half",
        one("photo.heic", lambda: heic()[: len(heic()) // 2]),
        400,
        "invalid_photo",
    ),
    Sample(
        "heic-header-then-garbage",
        one(
            "photo.heic",
            lambda: (
                b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + _rng("heic").randbytes(4000)
            ),
        ),
        400,
        "invalid_photo",
    ),
    # Other things named .jpg
    Sample(
        "html-named-jpg",
        one("photo.jpg", lambda: b"<!DOCTYPE html><html>" + SCRIPT + b"</html>"),
        415,
        "unsupported_photo_type",
    ),
    Sample("svg-named-jpg", one("photo.jpg", lambda: SVG), 415, "unsupported_photo_type"),
    Sample("pdf-named-jpg", one("photo.jpg", lambda: PDF), 415, "unsupported_photo_type"),
    Sample(
        "html-then-a-jpeg",
        one("photo.jpg", lambda: b"<html>" + SCRIPT + jpeg()),
        415,
        "unsupported_photo_type",
    ),
    Sample(
        "pdf-then-a-jpeg", one("photo.jpg", lambda: PDF + jpeg()), 415, "unsupported_photo_type"
    ),
    Sample(
        "php-then-a-gif",
        one("photo.jpg", lambda: b"<?php system($_GET['c']); ?>" + other_format("GIF")),
        415,
        "unsupported_photo_type",
    ),
    Sample(
        "zip-named-jpg",
        one("photo.jpg", lambda: b"PK\x03\x04" + bytes(200)),
        415,
        "unsupported_photo_type",
    ),
    Sample("postscript-named-jpg", one("photo.jpg", lambda: EPS), 415, "unsupported_photo_type"),
    # Image formats we do not accept
    *(
        Sample(
            f"{fmt.lower()}-named-jpg",
            one("photo.jpg", functools.partial(other_format, fmt)),
            415,
            "unsupported_photo_type",
        )
        for fmt in ("GIF", "BMP", "TIFF", "ICO", "PPM", "TGA")
    ),
    # Polyglots that are valid JPEGs: accepted, and neutralised by re-encoding.
    Sample("jpeg-then-html", one("photo.jpg", lambda: jpeg() + b"<html>" + SCRIPT), 201, ""),
    Sample(
        "jpeg-with-a-script-comment",
        one(
            "photo.jpg",
            lambda: (
                jpeg()[:2] + b"\xff\xfe" + struct.pack(">H", len(SCRIPT) + 2) + SCRIPT + jpeg()[2:]
            ),
        ),
        201,
        "",
    ),
]


def write(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for sample in SAMPLES:
        for index, (name, data) in enumerate(sample.files()):
            (directory / f"{sample.name}-{index:03d}-{name}").write_bytes(data)
    print(f"{len(SAMPLES)} samples written to {directory}")


def _peak_rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _reset_peak_rss() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # Linux: peak RSS := current RSS


def measure() -> None:
    """File each sample once through the API, in this process, on an in-memory database."""
    import os
    import time

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hues.settings_test")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import override_settings, setup_test_environment
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    from hues.city import current_city
    from reports.cities import city_load
    from tests.factories import UserFactory

    setup_test_environment()
    connection.creation.create_test_db(verbosity=0)
    city_load(current_city(), boundaries=Path(settings.AREAS_GEOJSON))
    client = APIClient()
    token = RefreshToken.for_user(UserFactory()).access_token
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    # Warm up: the first filing builds the routing snapshot, which no sample should pay for.
    client.post("/api/v1/reports", _filing([("photo.jpg", jpeg())]), format="multipart")

    print(f"{'sample':34} {'status':>6} {'code':24} {'ms':>8} {'peak RSS +MiB':>14}")
    for sample in SAMPLES:
        data = _filing(sample.files())
        payload, content_type = client._encode_data(data, format="multipart")
        with override_settings(**sample.settings):
            _reset_peak_rss()
            before = _peak_rss_kib()
            started = time.perf_counter()
            response = client.generic("POST", "/api/v1/reports", payload, content_type)
            elapsed = (time.perf_counter() - started) * 1000
            rise = (_peak_rss_kib() - before) / 1024
        code = response.json().get("code", "") if response.status_code >= 400 else ""
        print(f"{sample.name:34} {response.status_code:>6} {code:24} {elapsed:8.1f} {rise:14.1f}")


def _filing(files: list[tuple[str, bytes]]) -> dict[str, object]:
    return {
        "category": "street_lighting",
        "description": "Đèn đường hỏng",
        "lat": "16.4821",
        "lng": "107.57612",
        "photos": [_named(name, content) for name, content in files],
    }


def _named(name: str, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="image/jpeg")


if __name__ == "__main__":
    if sys.argv[1:2] == ["write"] and len(sys.argv) == 3:
        write(Path(sys.argv[2]))
    elif sys.argv[1:] == ["measure"]:
        measure()
    else:
        sys.exit(__doc__)
