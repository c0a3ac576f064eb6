"""The public rendition (reports.redaction): obscured regions lose their detail for good, the
rest of the photo is the photo, and the thumbnail holds no more than the full size."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from reports.photos import JPEG_QUALITY
from reports.redaction import obscure, obscured_area, redact

SET = Path(__file__).resolve().parents[1] / "data" / "redaction"
HYPOTHESIS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass(frozen=True)
class Box:
    kind: str
    x: int
    y: int
    width: int
    height: int


def labelled(file: str) -> tuple[Image.Image, list[Box]]:
    """An evaluation picture and its labelled boxes."""
    manifest = json.loads((SET / "manifest.json").read_text())
    entry = next(e for e in manifest["images"] if e["file"] == f"images/{file}")
    boxes = [
        Box(label["kind"], label["x"], label["y"], label["width"], label["height"])
        for label in entry["labels"]
    ]
    with Image.open(SET / entry["file"]) as picture:
        return picture.convert("RGB"), boxes


def grey(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("L"), dtype=np.float64)


def laplacian(pixels: np.ndarray) -> np.ndarray:
    return (
        4 * pixels[1:-1, 1:-1]
        - pixels[:-2, 1:-1]
        - pixels[2:, 1:-1]
        - pixels[1:-1, :-2]
        - pixels[1:-1, 2:]
    )


def detail(pixels: np.ndarray) -> float:
    """High-frequency energy: the mean squared discrete Laplacian."""
    return float((laplacian(pixels) ** 2).mean())


def inside(pixels: np.ndarray, box: Box) -> np.ndarray:
    return pixels[box.y : box.y + box.height, box.x : box.x + box.width]


def decoded(jpeg: bytes) -> Image.Image:
    with Image.open(io.BytesIO(jpeg)) as picture:
        return picture.convert("RGB")


def reencoded(image: Image.Image) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return decoded(buffer.getvalue())


def outside_mask(size: tuple[int, int], boxes: list[Box], band: int) -> np.ndarray:
    """True where no obscured area (nor `band` pixels around it, where JPEG's 8x8 blocks
    and chroma subsampling carry a change a little way) reaches."""
    width, height = size
    mask = np.ones((height, width), dtype=bool)
    for box in boxes:
        area = obscured_area(box, width, height)
        assert area is not None
        left, top, right, bottom = area
        mask[max(0, top - band) : bottom + band, max(0, left - band) : right + band] = False
    return mask


@pytest.fixture(scope="module")
def street() -> tuple[Image.Image, list[Box]]:
    """A composed street scene with a face (99 x 136) and a long car plate (203 x 44)."""
    image, boxes = labelled("scene-007.jpg")
    return image, [b for b in boxes if b.width >= 60]


def test_a_face_and_a_plate_lose_their_detail(street: tuple[Image.Image, list[Box]]) -> None:
    image, boxes = street
    public = decoded(redact(image, boxes).image)
    before, after = grey(image), grey(public)
    for box in boxes:
        assert box.kind in ("face", "plate")
        # At least 90% of the high-frequency energy is gone (what is left is the JPEG's
        # ringing at cell edges).
        assert detail(inside(after, box)) < 0.1 * detail(inside(before, box)), box


def test_nothing_of_the_fine_detail_is_left(street: tuple[Image.Image, list[Box]]) -> None:
    """The fine detail (the Laplacian) inside an obscured box does not follow the original's
    at all, where outside it is the same picture."""
    image, boxes = street
    before, after = grey(image), grey(obscure(image, boxes))
    for box in boxes:
        original = laplacian(inside(before, box)).ravel()
        obscured = laplacian(inside(after, box)).ravel()
        assert abs(np.corrcoef(original, obscured)[0, 1]) < 0.1, box
        assert original.std() > 5


def test_different_plates_become_the_same_blocks(street: tuple[Image.Image, list[Box]]) -> None:
    """Whatever the plate said, its obscured area says (almost) the same: the text cannot be
    read back, or matched against candidate numbers."""
    image, boxes = street
    plate = next(b for b in boxes if b.kind == "plate")
    region = (plate.x, plate.y, plate.x + plate.width, plate.y + plate.height)
    other = image.copy()
    # Another plate at the same place: the same plate, its text mirrored.
    other.paste(image.crop(region).transpose(Image.Transpose.FLIP_LEFT_RIGHT), region[:2])
    before = inside(np.abs(grey(image) - grey(other)), plate).mean()
    after = inside(np.abs(grey(obscure(image, [plate])) - grey(obscure(other, [plate]))), plate)
    assert before > 15
    assert after.mean() < 0.25 * before


def test_the_rest_of_the_photo_is_unchanged_within_jpeg_tolerance(
    street: tuple[Image.Image, list[Box]],
) -> None:
    image, boxes = street
    public = np.asarray(decoded(redact(image, boxes).image), dtype=np.int16)
    plain = np.asarray(reencoded(image), dtype=np.int16)
    mask = outside_mask(image.size, boxes, band=16)
    assert mask.mean() > 0.8
    difference = np.abs(public - plain)[mask]
    # The same picture through the same encoder: identical but for the blocks next to the
    # obscured areas that the band does not cover.
    assert difference.mean() < 0.5
    assert np.percentile(difference, 99.9) <= 8


def test_the_margin_is_obscured_too(street: tuple[Image.Image, list[Box]]) -> None:
    image, boxes = street
    face = next(b for b in boxes if b.kind == "face")
    result = grey(obscure(image, [face]))
    # A band just outside the detector's box (hair, ears) changed as well.
    left = slice(face.x - 10, face.x - 2)
    rows = slice(face.y, face.y + face.height)
    assert np.abs(result[rows, left] - grey(image)[rows, left]).mean() > 1


def test_the_thumbnail_is_made_from_the_obscured_photo(
    street: tuple[Image.Image, list[Box]],
) -> None:
    image, boxes = street
    rendition = redact(image, boxes, thumbnail_side=400)
    thumbnail = decoded(rendition.thumbnail)
    assert max(thumbnail.size) == 400
    assert (rendition.thumbnail_width, rendition.thumbnail_height) == thumbnail.size
    obscured = obscure(image, boxes).resize(thumbnail.size, Image.Resampling.BICUBIC)
    unobscured = image.resize(thumbnail.size, Image.Resampling.BICUBIC)
    scale = thumbnail.width / image.width
    for box in boxes:
        small = Box(
            box.kind,
            int(box.x * scale),
            int(box.y * scale),
            max(1, int(box.width * scale)),
            max(1, int(box.height * scale)),
        )
        near_obscured = np.abs(inside(grey(thumbnail) - grey(obscured), small)).mean()
        near_original = np.abs(inside(grey(thumbnail) - grey(unobscured), small)).mean()
        assert near_obscured < near_original, box


def test_no_boxes_leave_the_photo_as_it_is(street: tuple[Image.Image, list[Box]]) -> None:
    image, _ = street
    rendition = redact(image, [])
    assert (rendition.width, rendition.height) == image.size
    public = np.asarray(decoded(rendition.image), dtype=np.int16)
    assert np.abs(public - np.asarray(reencoded(image), dtype=np.int16)).max() == 0


def test_a_box_staff_drew_of_another_kind_is_obscured(
    street: tuple[Image.Image, list[Box]],
) -> None:
    image, _ = street
    drawn = Box("other", 300, 120, 180, 90)
    result = grey(obscure(image, [drawn]))
    assert detail(inside(result, drawn)) < 0.1 * detail(inside(grey(image), drawn))


@HYPOTHESIS
@given(
    x=st.integers(-300, 700),
    y=st.integers(-300, 500),
    width=st.integers(0, 900),
    height=st.integers(0, 700),
    kind=st.sampled_from(["face", "plate", "other"]),
)
def test_any_box_leaves_a_photo_of_the_same_size(
    x: int, y: int, width: int, height: int, kind: str
) -> None:
    """Boxes partly or wholly outside the photo, empty or huge: the photo keeps its size and
    what lies outside the box's area is untouched."""
    image = Image.effect_noise((640, 480), 60).convert("RGB")
    box = Box(kind, x, y, width, height)
    result = obscure(image, [box])
    assert result.size == image.size
    mask = outside_mask(image.size, [box], band=0) if obscured_area(box, 640, 480) else None
    changed = np.any(np.asarray(result) != np.asarray(image), axis=2)
    if mask is None:
        assert not changed.any()
    else:
        assert not changed[mask].any()
