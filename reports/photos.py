"""The photo pipeline: check, orient, shrink, strip, thumbnail.

Pure: bytes in, bytes out, no ORM. Every upload is decoded and re-encoded as a new JPEG
with no metadata (EXIF, GPS, XMP, ICC, comments): the original bytes are never kept. JPEGs
are decoded in draft mode at the smallest scale that still gives the stored size, and the
thumbnail is made from the same decoded image; a JPEG's scan data is first decoded strictly
(libjpeg-turbo, through simplejpeg) in one channel at that scale, so that corrupt data is
refused instead of stored as grey.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import IO

import pillow_heif
import simplejpeg
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

from hues.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType

pillow_heif.register_heif_opener()

# MPO is a JPEG with more pictures appended (depth maps, previews), as many phone cameras
# write; Pillow names it apart, and only its first (main) picture is read.
ALLOWED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "HEIF"})
# ISO base media "ftyp" brands of HEIF/HEIC images (not AVIF, which is not accepted).
HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"})
JPEG_QUALITY = 85
ORIENTATION = 0x0112
# EXIF orientation -> the transposition that makes the picture upright.
UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


class PhotoUnsupported(UnsupportedMediaType):
    code = "unsupported_photo_type"
    message = _("The photo must be a JPEG, PNG, WebP or HEIC image.")


class PhotoTooLarge(PayloadTooLarge):
    code = "photo_too_large"
    message = _("The photo is too large.")


class PhotoTooCostly(PhotoTooLarge):
    code = "photo_too_costly"
    message = _("The photo would take too much memory to read.")


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
    # What reading one photo may cost in memory, estimated from its header (decoding_bytes).
    max_decoding_bytes: int = 192 * 1024 * 1024


# Bytes a pixel takes in Pillow's memory by mode; any other mode (RGB, which Pillow pads to
# four bytes, RGBA, CMYK, I, F, ...) takes four.
PIXEL_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16L": 2, "I;16B": 2, "I;16N": 2}
# Formats whose decoder first fills a buffer of its own (four bytes a pixel at most), which
# Pillow then copies.
BUFFERED_FORMATS = frozenset({"WEBP", "HEIF"})


def _has_transparency(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
        image.mode == "P" and "transparency" in image.info
    )


def decoding_bytes(image: Image.Image, *, declared: tuple[int, int] | None = None) -> int:
    """The memory reading an opened (not yet decoded) picture costs at most, from its header:
    the decoded pixels at the size they will be decoded (after a JPEG's draft), the decoder's
    own buffer (WebP, HEIC), and the copies _flatten makes: a picture that is not RGB is
    converted (four bytes a pixel), one with transparency through RGBA, a white background
    and the alpha mask (nine). A progressive JPEG is decoded through a buffer of all its DCT
    coefficients at its `declared` size, whatever the draft: two bytes a pixel and channel at
    most."""
    width, height = image.size
    pixels = width * height
    per_pixel = PIXEL_BYTES.get(image.mode, 4)
    if image.format in BUFFERED_FORMATS:
        per_pixel += 4
    if _has_transparency(image):
        per_pixel += 9
    elif image.mode != "RGB":
        per_pixel += 4
    coefficients = 0
    if image.format in ("JPEG", "MPO") and image.info.get("progressive"):
        declared_width, declared_height = declared or image.size
        coefficients = declared_width * declared_height * len(image.getbands()) * 2
    return pixels * per_pixel + coefficients


def _encode(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def _starts_like_accepted_type(stream: IO[bytes]) -> bool:
    """Whether a file Pillow could not identify starts like a JPEG, PNG, WebP or HEIC: then
    it is one whose header is damaged or cut short (as a broken upload leaves it), not a
    file of another type."""
    try:
        stream.seek(0)
        head = stream.read(12)
    except (OSError, ValueError):
        return False
    return (
        head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n"))
        or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")
        or (head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS)
    )


# JPEG modes decoded by libjpeg-turbo through simplejpeg in strict mode (colour and grey,
# nearly every photo); CMYK ones are checked that way, then decoded by Pillow.
STRICT_JPEG_MODES = {"RGB": "RGB", "L": "GRAY"}


def _jpeg_data(stream: IO[bytes]) -> bytes:
    position = stream.tell()
    try:
        stream.seek(0)
        return stream.read()
    finally:
        stream.seek(position)


def _decode_jpeg_strictly(stream: IO[bytes], image: Image.Image) -> Image.Image:
    """The pixels of an opened JPEG (an MPO's first picture) at the size Pillow's draft
    chose, decoded once by libjpeg-turbo with every warning an error: a scan cut short (even
    with an end marker appended) or carrying corrupt entropy-coded data raises ValueError,
    where Pillow would decode grey or garbage without a word."""
    pixels = simplejpeg.decode_jpeg(
        _jpeg_data(stream),
        colorspace=STRICT_JPEG_MODES[image.mode],
        min_width=image.width,
        min_height=image.height,
        strict=True,
    )
    if image.mode == "L":
        pixels = pixels[:, :, 0]
    return Image.fromarray(pixels)


def _check_jpeg_scan(stream: IO[bytes], image: Image.Image) -> None:
    """Decode a JPEG's (or an MPO's first picture's) scan data with every libjpeg warning an
    error, at the size Pillow will decode it and in one channel: a scan that is cut short
    (even with an end marker appended) or carries corrupt entropy-coded data raises
    ValueError. Pillow decodes such data into grey or garbage without a word, and we would
    store the re-encoded result."""
    simplejpeg.decode_jpeg(
        _jpeg_data(stream),
        colorspace="CMYK" if image.mode == "CMYK" else "GRAY",
        min_width=image.width,
        min_height=image.height,
        strict=True,
    )


def _turn_upright(image: Image.Image) -> Image.Transpose | None:
    """The transposition that turns the picture as its EXIF orientation says. Unlike
    ImageOps.exif_transpose, only that tag is read and nothing is written back into the
    EXIF (which is dropped anyway), so a malformed EXIF block cannot fail a good photo."""
    orientation = image.getexif().get(ORIENTATION)
    return UPRIGHT.get(orientation) if isinstance(orientation, int) else None


def _flatten(image: Image.Image) -> Image.Image:
    """RGB on a white background: JPEG has no transparency."""
    if image.mode == "RGB":
        return image
    if _has_transparency(image):
        rgba = image if image.mode == "RGBA" else image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def process_photo(stream: IO[bytes], *, size: int, limits: PhotoLimits) -> ProcessedPhoto:
    """Check an uploaded photo and return its cleaned image and thumbnail as JPEG bytes.

    Raises PhotoTooLarge (bytes or pixels over the limits, decompression bombs; its subclass
    PhotoTooCostly when reading the picture would cost more memory than allowed),
    PhotoUnsupported (not one of the accepted image types) or PhotoBroken (damaged data).
    """
    if size > limits.max_bytes:
        raise PhotoTooLarge(
            _("Each photo may be at most %(size)s.") % {"size": filesizeformat(limits.max_bytes)},
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
                    _("The photo has too many pixels (at most %(mp)s megapixels).")
                    % {"mp": f"{limits.max_pixels / 1_000_000:g}"},
                    field="photos",
                )
            scale = limits.max_side / max(width, height)
            drafted = image.format in ("JPEG", "MPO") and scale < 1
            if drafted:
                # Decode at 1/2, 1/4 or 1/8 scale when that still covers the stored size.
                image.draft("RGB", (max(1, int(width * scale)), max(1, int(height * scale))))
            if decoding_bytes(image, declared=(width, height)) > limits.max_decoding_bytes:
                # Refused from the header, before a byte of pixels is decoded: a few hundred
                # bytes can declare a picture that takes hundreds of megabytes to hold.
                raise PhotoTooCostly(
                    _(
                        "The photo would take too much memory to read (at most %(size)s); "
                        "send a smaller picture."
                    )
                    % {"size": filesizeformat(limits.max_decoding_bytes)},
                    field="photos",
                )
            turn = _turn_upright(image)
            picture: Image.Image = image
            if image.format in ("JPEG", "MPO") and image.mode in STRICT_JPEG_MODES:
                # One strict decode gives the pixels (no second, checking decode).
                picture = _decode_jpeg_strictly(stream, image)
            else:
                if image.format in ("JPEG", "MPO"):
                    _check_jpeg_scan(stream, image)
                image.load()
    except (PhotoUnsupported, PhotoTooLarge):
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise PhotoTooLarge(field="photos") from error
    except UnidentifiedImageError as error:
        if _starts_like_accepted_type(stream):
            raise PhotoBroken(field="photos") from error
        raise PhotoUnsupported(field="photos") from error
    except Exception as error:
        # Decoders of untrusted data fail in many ways (OSError, EOFError from libheif,
        # struct.error, ...): like Django's forms.ImageField, any of them means a damaged file.
        raise PhotoBroken(field="photos") from error

    # Shrink first, then turn (fewer pixels to move: the bounding box is square, so the
    # order does not change the result). After a draft decode the shrink is small (under 2x,
    # 1.25x for a 12 MP photo), where HAMMING is as sharp as LANCZOS in half the time.
    clean = _flatten(picture)
    resample = Image.Resampling.HAMMING if drafted else Image.Resampling.LANCZOS
    clean.thumbnail((limits.max_side, limits.max_side), resample, reducing_gap=3.0)
    if turn is not None:
        clean = clean.transpose(turn)
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
