"""The photo pipeline: check, orient, shrink, strip, thumbnail.

Pure: bytes in, bytes out, no ORM. Every upload is decoded and re-encoded as a new JPEG
with no metadata (EXIF, GPS, XMP, ICC, comments): the original bytes are never kept. JPEGs
are decoded in draft mode at the smallest scale that still gives the stored size, and the
thumbnail is made from the same decoded image, so each photo is decoded once.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import IO

import pillow_heif
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

from hues.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType

pillow_heif.register_heif_opener()

ALLOWED_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "HEIF"})
JPEG_QUALITY = 85


class PhotoUnsupported(UnsupportedMediaType):
    code = "unsupported_photo_type"
    message = _("The photo must be a JPEG, PNG, WebP or HEIC image.")


class PhotoTooLarge(PayloadTooLarge):
    code = "photo_too_large"
    message = _("The photo is too large.")


class PhotoBroken(InvalidInput):
    code = "invalid_photo"
    message = _("The photo could not be read; it may be damaged.")


@dataclass(frozen=True)
class ProcessedPhoto:
    image: bytes
    thumbnail: bytes
    width: int
    height: int
    thumbnail_width: int
    thumbnail_height: int


@dataclass(frozen=True)
class PhotoLimits:
    max_bytes: int
    max_pixels: int
    max_side: int
    thumbnail_side: int


def _encode(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def _flatten(image: Image.Image) -> Image.Image:
    """RGB on a white background: JPEG has no transparency."""
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def process_photo(stream: IO[bytes], *, size: int, limits: PhotoLimits) -> ProcessedPhoto:
    """Check an uploaded photo and return its cleaned image and thumbnail as JPEG bytes.

    Raises PhotoTooLarge (bytes or pixels over the limits, decompression bombs),
    PhotoUnsupported (not one of the accepted image types) or PhotoBroken (damaged data).
    """
    if size > limits.max_bytes:
        raise PhotoTooLarge(
            _("Each photo may be at most %(mb)d MB.") % {"mb": limits.max_bytes // (1024 * 1024)},
            field="photos",
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(stream)
            if image.format not in ALLOWED_FORMATS:
                raise PhotoUnsupported(field="photos")
            width, height = image.size
            if width * height > limits.max_pixels or width < 1 or height < 1:
                raise PhotoTooLarge(
                    _("The photo has too many pixels (at most %(mp)d megapixels).")
                    % {"mp": limits.max_pixels // 1_000_000},
                    field="photos",
                )
            scale = limits.max_side / max(width, height)
            if image.format == "JPEG" and scale < 1:
                # Decode at 1/2, 1/4 or 1/8 scale when that still covers the stored size.
                image.draft("RGB", (max(1, int(width * scale)), max(1, int(height * scale))))
            image.load()
            upright = ImageOps.exif_transpose(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise PhotoTooLarge(field="photos") from error
    except UnidentifiedImageError as error:
        raise PhotoUnsupported(field="photos") from error
    except (OSError, SyntaxError, ValueError) as error:
        raise PhotoBroken(field="photos") from error

    clean = _flatten(upright)
    clean.thumbnail((limits.max_side, limits.max_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
    clean.info.clear()
    thumbnail = clean.copy()
    thumbnail.thumbnail(
        (limits.thumbnail_side, limits.thumbnail_side), Image.Resampling.BICUBIC, reducing_gap=2.0
    )
    return ProcessedPhoto(
        image=_encode(clean),
        thumbnail=_encode(thumbnail),
        width=clean.width,
        height=clean.height,
        thumbnail_width=thumbnail.width,
        thumbnail_height=thumbnail.height,
    )
