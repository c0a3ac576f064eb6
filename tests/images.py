"""Image bytes for tests: real JPEG/PNG/WebP/HEIC data made with Pillow."""

from __future__ import annotations

import io

from PIL import Image

# EXIF tags
ORIENTATION = 0x0112
GPS_IFD = 0x8825
MAKE = 0x010F


def image_bytes(
    fmt: str = "JPEG",
    size: tuple[int, int] = (640, 480),
    color: tuple[int, int, int] = (200, 60, 40),
    *,
    gps: bool = False,
    orientation: int | None = None,
    mode: str = "RGB",
) -> bytes:
    image = Image.new(mode, size, color if mode == "RGB" else (*color, 128))
    # A marker in the top-left corner, to check orientation after processing.
    for x in range(min(40, size[0])):
        for y in range(min(20, size[1])):
            image.putpixel((x, y), (0, 0, 255) if mode == "RGB" else (0, 0, 255, 255))
    exif = Image.Exif()
    if gps:
        exif[MAKE] = "TestPhone"
        exif[GPS_IFD] = {1: "N", 2: (16.0, 28.0, 55.0), 3: "E", 4: (107.0, 34.0, 34.0)}
    if orientation:
        exif[ORIENTATION] = orientation
    buffer = io.BytesIO()
    options: dict[str, object] = {}
    if gps or orientation:
        options["exif"] = exif.tobytes()
    if fmt == "JPEG":
        options["quality"] = 90
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()
