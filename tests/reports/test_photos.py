"""The photo pipeline (reports.photos): what goes in, what comes out, and what is refused."""

from __future__ import annotations

import functools
import io
import struct
import zlib

import pillow_heif
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms

from hues.errors import DomainError
from reports.photos import (
    PhotoBroken,
    PhotoLimits,
    PhotoTooLarge,
    PhotoUnsupported,
    ProcessedPhoto,
    process_photo,
)
from tests.images import GPS_IFD, MAKE, ORIENTATION, image_bytes

LIMITS = PhotoLimits(
    max_bytes=5 * 1024 * 1024, max_pixels=20_000_000, max_side=800, thumbnail_side=200
)
BLUE = (0, 0, 255)
SECRET = b"secret-metadata-7f3a"
HYPOTHESIS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def process(data: bytes, limits: PhotoLimits = LIMITS) -> ProcessedPhoto:
    return process_photo(io.BytesIO(data), size=len(data), limits=limits)


def opened(jpeg: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(jpeg))
    image.load()
    return image


def is_blue(pixel: tuple[int, ...]) -> bool:
    red, green, blue = pixel[:3]
    return blue > 200 and red < 60 and green < 60


def is_white(pixel: tuple[int, ...]) -> bool:
    return all(channel > 240 for channel in pixel[:3])


def can_encode_heif() -> bool:
    return bool(pillow_heif.libheif_info().get("HEIF"))


def skip_without_heif_encoder(fmt: str) -> None:
    if fmt == "HEIF" and not can_encode_heif():
        pytest.skip("this machine's libheif has no HEVC encoder, so no HEIC can be made")


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height pixels: a decompression bomb's shape."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def saved(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def with_every_kind_of_metadata(fmt: str) -> bytes:
    """A photo carrying GPS EXIF, a camera make, an ICC profile, XMP and (JPEG) a comment."""
    exif = Image.Exif()
    exif[MAKE] = "TestPhone"
    exif[GPS_IFD] = {1: "N", 2: (16.0, 28.0, 55.0), 3: "E", 4: (107.0, 34.0, 34.0)}
    options: dict[str, object] = {
        "exif": exif.tobytes(),
        "icc_profile": ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(),
    }
    if fmt in ("JPEG", "WEBP", "HEIF"):
        options["xmp"] = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">' + SECRET + b"</x:xmpmeta>"
    if fmt == "JPEG":
        options["comment"] = SECRET
    return saved(Image.new("RGB", (120, 80), (200, 60, 40)), fmt, **options)


# Accepted types


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "HEIF"])
def test_each_accepted_type_comes_out_as_a_jpeg_of_the_same_size(fmt):
    skip_without_heif_encoder(fmt)

    result = process(image_bytes(fmt, size=(320, 240)))

    image = opened(result.image)
    assert image.format == "JPEG"
    assert image.mode == "RGB"
    assert result.image.startswith(b"\xff\xd8\xff")
    assert (result.width, result.height) == image.size == (320, 240)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "HEIF"])
def test_the_thumbnail_is_a_jpeg_too(fmt):
    skip_without_heif_encoder(fmt)

    result = process(image_bytes(fmt, size=(320, 240)))

    thumbnail = opened(result.thumbnail)
    assert thumbnail.format == "JPEG"
    assert thumbnail.size == (result.thumbnail_width, result.thumbnail_height)


def test_the_colours_of_the_photo_survive_the_pipeline():
    result = process(image_bytes("PNG", size=(320, 240), color=(200, 60, 40)))

    image = opened(result.image)
    assert is_blue(image.getpixel((5, 5)))
    red, green, blue = image.getpixel((200, 150))
    assert abs(red - 200) < 12
    assert abs(green - 60) < 12
    assert abs(blue - 40) < 12


def test_a_multi_picture_jpeg_from_a_phone_camera_keeps_its_main_picture():
    main = Image.new("RGB", (300, 200), (200, 60, 40))
    depth_map = Image.new("RGB", (100, 50), BLUE)
    data = saved(main, "MPO", save_all=True, append_images=[depth_map])

    result = process(data)

    assert (result.width, result.height) == (300, 200)
    assert not is_blue(opened(result.image).getpixel((150, 100)))


def test_a_transparent_png_is_flattened_onto_white():
    image = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
    image.paste((0, 0, 255, 255), (0, 0, 50, 50))

    result = process(saved(image, "PNG"))

    flattened = opened(result.image)
    assert flattened.mode == "RGB"
    assert is_white(flattened.getpixel((150, 75)))
    assert is_blue(flattened.getpixel((20, 20)))


def test_a_half_transparent_png_is_blended_with_white():
    image = Image.new("RGBA", (100, 100), (0, 0, 0, 128))

    result = process(saved(image, "PNG"))

    grey = opened(result.image).getpixel((50, 50))
    assert all(110 < channel < 145 for channel in grey)


def test_a_palette_png_with_a_transparent_colour_is_flattened_onto_white():
    image = Image.new("P", (100, 100), 0)
    image.putpalette([0, 0, 0, 0, 0, 255] + [0] * 762)
    image.paste(1, (0, 0, 50, 50))
    data = saved(image, "PNG", transparency=0)

    result = process(data)

    flattened = opened(result.image)
    assert is_white(flattened.getpixel((75, 75)))
    assert is_blue(flattened.getpixel((20, 20)))


def test_a_transparent_webp_is_flattened_onto_white():
    image = Image.new("RGBA", (100, 100), (0, 0, 0, 0))

    result = process(saved(image, "WEBP", lossless=True))

    assert is_white(opened(result.image).getpixel((50, 50)))


# Refused types


@pytest.mark.parametrize(
    "content",
    [
        b"This is not a photo, just text in a file named photo.jpg\n" * 20,
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n",
        b"PK\x03\x04" + bytes(200),
        b"<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'/>",
        b"",
    ],
    ids=["text", "pdf", "zip", "svg", "empty"],
)
def test_a_file_that_is_not_an_image_is_an_unsupported_type(content):
    with pytest.raises(PhotoUnsupported) as raised:
        process(content)

    assert raised.value.code == "unsupported_photo_type"
    assert raised.value.field == "photos"


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF", "ICO"])
def test_a_real_image_of_another_type_is_an_unsupported_type(fmt):
    data = saved(Image.new("RGB", (64, 48), (200, 60, 40)), fmt)
    assert Image.open(io.BytesIO(data)).format == fmt  # really an image, of that type

    with pytest.raises(PhotoUnsupported):
        process(data)


# Damaged photos


@pytest.mark.parametrize("keep", [0.5, 0.2])
def test_a_truncated_jpeg_is_broken(keep):
    data = image_bytes("JPEG", size=(640, 480))

    with pytest.raises(PhotoBroken) as raised:
        process(data[: int(len(data) * keep)])

    assert raised.value.code == "invalid_photo"
    assert raised.value.field == "photos"


def test_a_jpeg_cut_off_inside_its_header_is_broken_not_of_another_type():
    data = image_bytes("JPEG", size=(640, 480))

    with pytest.raises(PhotoBroken):
        process(data[:100])


def test_a_jpeg_with_a_damaged_frame_header_is_broken_not_of_another_type():
    data = bytearray(image_bytes("JPEG", size=(640, 480)))
    start_of_frame = data.find(b"\xff\xc0")
    data[start_of_frame + 9] = 7  # seven colour components: no such JPEG

    with pytest.raises(PhotoBroken):
        process(bytes(data))


def test_a_jpeg_with_a_bogus_huffman_table_is_broken():
    data = bytearray(image_bytes("JPEG", size=(640, 480)))
    huffman_table = data.find(b"\xff\xc4")
    data[huffman_table + 5 : huffman_table + 21] = b"\xff" * 16  # more codes than can exist

    with pytest.raises(PhotoBroken):
        process(bytes(data))


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "HEIF"])
def test_a_truncated_photo_of_another_accepted_type_is_broken(fmt):
    skip_without_heif_encoder(fmt)
    data = image_bytes(fmt, size=(640, 480))

    with pytest.raises(PhotoBroken):
        process(data[: len(data) // 2])


def test_a_heic_whose_image_data_claims_more_bytes_than_it_has_is_broken():
    skip_without_heif_encoder("HEIF")
    data = bytearray(image_bytes("HEIF", size=(320, 240)))
    first_unit = data.find(b"mdat") + 4  # each coded unit starts with its length
    data[first_unit : first_unit + 4] = b"\x00\xff\xff\xff"

    with pytest.raises(PhotoBroken):
        process(bytes(data))


def test_a_photo_with_malformed_exif_is_still_accepted_and_turned_upright():
    data = image_bytes("JPEG", size=(64, 48), gps=True, orientation=6)
    latitude_entry = b"\x00\x02\x00\x05\x00\x00\x00\x03"  # GPSLatitude, RATIONAL x 3
    assert data.count(latitude_entry) == 1
    damaged = data.replace(latitude_entry, b"\x00\x02\x00\x07\x00\x00\x00\x03")  # UNDEFINED

    result = process(damaged)

    assert (result.width, result.height) == (48, 64)
    assert not opened(result.image).getexif()


# Too large


class Unreadable(io.BytesIO):
    def read(self, *args: object) -> bytes:
        raise AssertionError("an oversized photo must be refused before it is read")


def test_a_photo_over_the_byte_limit_is_refused_before_it_is_read():
    limits = PhotoLimits(max_bytes=1000, max_pixels=10**6, max_side=100, thumbnail_side=50)

    with pytest.raises(PhotoTooLarge) as raised:
        process_photo(Unreadable(), size=1001, limits=limits)

    assert raised.value.code == "photo_too_large"
    assert raised.value.field == "photos"


def test_a_photo_of_exactly_the_byte_limit_is_accepted():
    data = image_bytes("JPEG", size=(64, 48))
    limits = PhotoLimits(max_bytes=len(data), max_pixels=10**6, max_side=100, thumbnail_side=50)

    assert process(data, limits).width == 64


def test_a_photo_one_byte_over_the_byte_limit_is_too_large():
    data = image_bytes("JPEG", size=(64, 48))
    limits = PhotoLimits(max_bytes=len(data) - 1, max_pixels=10**6, max_side=100, thumbnail_side=50)

    with pytest.raises(PhotoTooLarge):
        process(data, limits)


def test_a_photo_of_exactly_the_pixel_limit_is_accepted():
    limits = PhotoLimits(max_bytes=10**7, max_pixels=200 * 100, max_side=100, thumbnail_side=50)

    assert process(image_bytes("PNG", size=(200, 100)), limits).width == 100


def test_a_photo_one_pixel_over_the_pixel_limit_is_too_large():
    limits = PhotoLimits(max_bytes=10**7, max_pixels=200 * 100 - 1, max_side=100, thumbnail_side=50)

    with pytest.raises(PhotoTooLarge) as raised:
        process(image_bytes("PNG", size=(200, 100)), limits)

    assert raised.value.code == "photo_too_large"


@pytest.mark.parametrize(
    "dimensions",
    [(100_000, 100_000), (10_000, 10_000), (8_000, 8_000)],
    ids=["far-over-pillows-bomb-limit", "over-pillows-warning-limit", "over-our-pixel-limit"],
)
def test_a_tiny_png_declaring_huge_dimensions_is_too_large(dimensions):
    data = png_declaring(*dimensions)
    assert len(data) < 200
    limits = PhotoLimits(max_bytes=10**7, max_pixels=50_000_000, max_side=1600, thumbnail_side=400)

    with pytest.raises(PhotoTooLarge):
        process(data, limits)


def test_a_highly_compressible_huge_png_is_too_large_even_under_a_generous_pixel_limit():
    data = saved(Image.new("1", (12_000, 12_000)), "PNG")  # 144 megapixels in ~20 kB
    assert len(data) < 100_000
    generous = PhotoLimits(max_bytes=10**7, max_pixels=10**9, max_side=1600, thumbnail_side=400)

    with pytest.raises(PhotoTooLarge):
        process(data, generous)


# Metadata


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "HEIF"])
def test_a_photo_with_gps_exif_comes_back_with_no_metadata_at_all(fmt):
    skip_without_heif_encoder(fmt)
    data = with_every_kind_of_metadata(fmt)
    source = Image.open(io.BytesIO(data))
    assert source.getexif().get_ifd(GPS_IFD)  # the input really carries GPS
    assert "icc_profile" in source.info

    image = opened(process(data).image)

    assert not image.getexif()
    assert not {"exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "comment"} & set(image.info)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "HEIF"])
def test_no_trace_of_the_metadata_is_left_in_the_output_bytes(fmt):
    skip_without_heif_encoder(fmt)

    result = process(with_every_kind_of_metadata(fmt))

    for output in (result.image, result.thumbnail):
        assert b"Exif\x00\x00" not in output
        assert b"ICC_PROFILE" not in output
        assert b"TestPhone" not in output
        assert SECRET not in output
        assert b"http://ns.adobe.com/xap" not in output


def test_the_thumbnail_carries_no_metadata_either():
    result = process(with_every_kind_of_metadata("JPEG"))

    thumbnail = opened(result.thumbnail)

    assert not thumbnail.getexif()
    assert not {"exif", "xmp", "icc_profile", "comment"} & set(thumbnail.info)


def test_the_output_is_a_new_encoding_not_the_uploaded_bytes():
    data = image_bytes("JPEG", size=(320, 240))

    result = process(data)

    assert result.image != data
    assert data not in result.image


# Orientation


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "HEIF"])
@pytest.mark.parametrize(
    ("orientation", "upright_size", "marker_corner"),
    [
        (3, (320, 240), "bottom-right"),
        (6, (240, 320), "top-right"),
        (8, (240, 320), "bottom-left"),
    ],
)
def test_the_exif_orientation_is_applied(fmt, orientation, upright_size, marker_corner):
    # tests.images draws a blue marker in the top-left corner of the stored pixels.
    skip_without_heif_encoder(fmt)

    result = process(image_bytes(fmt, size=(320, 240), orientation=orientation))

    image = opened(result.image)
    width, height = image.size
    corners = {
        "top-left": (4, 4),
        "top-right": (width - 5, 4),
        "bottom-left": (4, height - 5),
        "bottom-right": (width - 5, height - 5),
    }
    assert (result.width, result.height) == image.size == upright_size
    assert [name for name, xy in corners.items() if is_blue(image.getpixel(xy))] == [marker_corner]


def test_a_photo_without_an_orientation_is_left_as_it_is():
    result = process(image_bytes("JPEG", size=(320, 240)))

    image = opened(result.image)
    assert image.size == (320, 240)
    assert is_blue(image.getpixel((4, 4)))
    assert not is_blue(image.getpixel((315, 235)))


def test_the_orientation_is_applied_to_the_thumbnail_too():
    image = Image.new("RGB", (800, 600), (200, 60, 40))
    image.paste(BLUE, (0, 0, 400, 600))  # the left half, which orientation 6 turns to the top
    exif = Image.Exif()
    exif[ORIENTATION] = 6

    result = process(saved(image, "JPEG", exif=exif.tobytes()))

    thumbnail = opened(result.thumbnail)
    assert thumbnail.size == (150, 200)
    assert is_blue(thumbnail.getpixel((75, 50)))
    assert not is_blue(thumbnail.getpixel((75, 150)))


# Sizes


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
@pytest.mark.parametrize(
    ("size", "stored"),
    [((3200, 2400), (800, 600)), ((1200, 3000), (320, 800)), ((4000, 1000), (800, 200))],
    ids=["landscape", "portrait", "panorama"],
)
def test_a_large_photo_is_shrunk_to_max_side_keeping_its_aspect(fmt, size, stored):
    result = process(image_bytes(fmt, size=size))

    assert (result.width, result.height) == opened(result.image).size == stored


@pytest.mark.parametrize(
    ("size", "thumbnail"),
    [((3200, 2400), (200, 150)), ((1200, 3000), (80, 200)), ((500, 500), (200, 200))],
    ids=["landscape", "portrait", "square"],
)
def test_the_thumbnail_is_shrunk_to_thumbnail_side_keeping_its_aspect(size, thumbnail):
    result = process(image_bytes("JPEG", size=size))

    assert (result.thumbnail_width, result.thumbnail_height) == thumbnail
    assert opened(result.thumbnail).size == thumbnail


def test_a_small_photo_is_not_enlarged():
    result = process(image_bytes("JPEG", size=(150, 100)))

    assert (result.width, result.height) == (150, 100)
    assert (result.thumbnail_width, result.thumbnail_height) == (150, 100)


# The whole input space

MODES = {
    "JPEG": ["L", "RGB", "CMYK"],
    "PNG": ["1", "L", "LA", "P", "RGB", "RGBA", "I;16"],
    "WEBP": ["RGB", "RGBA"],
    "HEIF": ["L", "RGB", "RGBA"],
}


@st.composite
def photos(draw: st.DrawFn) -> tuple[bytes, tuple[int, int]]:
    """A real photo of a random type, mode, size and orientation, and its upright size."""
    formats = sorted(MODES) if can_encode_heif() else ["JPEG", "PNG", "WEBP"]
    fmt = draw(st.sampled_from(formats))
    mode = draw(st.sampled_from(MODES[fmt]))
    width = draw(st.integers(1, 400))
    height = draw(st.integers(1, 400))
    orientation = draw(st.sampled_from([None, 1, 2, 3, 4, 5, 6, 7, 8]))
    image = Image.linear_gradient("L").resize((width, height)).convert(mode)
    options: dict[str, object] = {}
    if orientation:
        exif = Image.Exif()
        exif[ORIENTATION] = orientation
        options["exif"] = exif.tobytes()
    upright = (height, width) if orientation in (5, 6, 7, 8) else (width, height)
    return saved(image, fmt, **options), upright


limits_strategy = st.builds(
    lambda max_side, thumbnail_side: PhotoLimits(
        max_bytes=10**7, max_pixels=10**6, max_side=max_side, thumbnail_side=thumbnail_side
    ),
    max_side=st.integers(8, 500),
    thumbnail_side=st.integers(4, 200),
)


def fits(size: tuple[int, int], side: int, source: tuple[int, int]) -> bool:
    """`size` is `source` shrunk (never enlarged) so its long side is at most `side`."""
    width, height = size
    long_side = min(side, max(source))
    scale = long_side / max(source)
    expected = (source[0] * scale, source[1] * scale)
    return (
        max(size) == long_side
        and min(width, height) >= 1
        and abs(width - expected[0]) <= 1
        and abs(height - expected[1]) <= 1
    )


@HYPOTHESIS
@given(photo=photos(), limits=limits_strategy)
def test_any_photo_within_the_limits_becomes_a_clean_jpeg_within_the_limits(photo, limits):
    data, upright = photo

    result = process(data, limits)

    image, thumbnail = opened(result.image), opened(result.thumbnail)
    assert image.format == thumbnail.format == "JPEG"
    assert image.mode == thumbnail.mode == "RGB"
    assert image.size == (result.width, result.height)
    assert thumbnail.size == (result.thumbnail_width, result.thumbnail_height)
    assert fits(image.size, limits.max_side, upright)
    assert fits(thumbnail.size, limits.thumbnail_side, image.size)
    assert not image.getexif()
    assert not thumbnail.getexif()


@HYPOTHESIS
@given(photo=photos(), spare_bytes=st.integers(-50, -1), spare_pixels=st.integers(-50, 0))
def test_any_photo_over_a_limit_is_refused_as_too_large(photo, spare_bytes, spare_pixels):
    data, (width, height) = photo
    over_bytes = PhotoLimits(
        max_bytes=len(data) + spare_bytes, max_pixels=10**6, max_side=100, thumbnail_side=50
    )
    over_pixels = PhotoLimits(
        max_bytes=10**7,
        max_pixels=max(0, width * height - 1 + spare_pixels),
        max_side=100,
        thumbnail_side=50,
    )

    with pytest.raises(PhotoTooLarge):
        process(data, over_bytes)
    with pytest.raises(PhotoTooLarge):
        process(data, over_pixels)


@functools.cache
def damage_bases() -> dict[str, bytes]:
    formats = ["JPEG", "PNG", "WEBP", "HEIF"] if can_encode_heif() else ["JPEG", "PNG", "WEBP"]
    return {
        fmt: image_bytes(fmt, size=(60, 40), gps=True, orientation=6, mode="RGB") for fmt in formats
    }


@st.composite
def damaged_photos(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(sorted(damage_bases().values()))))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data) - 1))]
    for _ in range(draw(st.integers(0, 12)) if data else 0):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


def outcome(data: bytes, limits: PhotoLimits) -> ProcessedPhoto | DomainError:
    try:
        return process(data, limits)
    except (PhotoUnsupported, PhotoBroken, PhotoTooLarge) as error:
        return error


@pytest.mark.filterwarnings("ignore::UserWarning:PIL")  # Pillow warns on corrupt EXIF
@HYPOTHESIS
@given(data=damaged_photos())
def test_damaged_bytes_give_a_clean_jpeg_or_a_domain_error_never_a_crash(data):
    limits = PhotoLimits(max_bytes=10**7, max_pixels=4_000_000, max_side=200, thumbnail_side=50)

    result = outcome(data, limits)

    if isinstance(result, DomainError):
        assert result.field == "photos"
    else:
        image = opened(result.image)
        assert image.format == "JPEG"
        assert max(image.size) <= 200
        assert not image.getexif()
