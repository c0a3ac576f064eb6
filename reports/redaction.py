"""The public rendition of a photo: faces and plates irreversibly obscured (issue 15).

Pure: a picture and regions in, JPEG bytes out; no Django request, no ORM. Each region,
grown by a margin, is blurred hard and reduced to a coarse mosaic of a few cells across
(CELLS), each the mean of a blurred neighbourhood, then drawn back at full size by smooth
interpolation between the cells. What is left is a function of those few colours alone, so
the detail inside is gone, not hidden (a blur alone can be partly undone by deconvolution;
a fine mosaic of text in a known font can be matched back; a handful of cells cannot). The
rest of the picture is left as it was. The thumbnail is made from the obscured picture, so
no size of the public rendition ever held the detail.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from PIL import Image, ImageFilter

from reports.photos import JPEG_QUALITY

# How much larger than the detected box the obscured area is, on each side, as a share of
# the box (a detector's box hugs the face from brow to chin: hair, ears and the plate's
# frame are outside it), and at least MIN_MARGIN pixels.
MARGIN = {"face": 0.25, "plate": 0.15}
MIN_MARGIN = 4
# Mosaic cells across the region's shorter side: a face becomes 5 x 5 blocks or so, a
# long plate 2 rows of about 10.
CELLS = {"face": 5, "plate": 2}
DEFAULT_CELLS = 4
# The smallest cell, in pixels: a small region still loses everything.
MIN_CELL = 6


class Box(Protocol):
    """What redaction needs of a region: a detector's Region, or a box staff drew."""

    kind: str
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class Rendition:
    image: bytes
    thumbnail: bytes
    width: int
    height: int
    thumbnail_width: int
    thumbnail_height: int


def obscured_area(box: Box, width: int, height: int) -> tuple[int, int, int, int] | None:
    """The area (left, top, right, bottom) a box obscures in a picture of that size:
    the box grown by its margin, within the picture; None when nothing is left of it."""
    share = MARGIN.get(box.kind, 0.25)
    grow_x = max(MIN_MARGIN, round(box.width * share))
    grow_y = max(MIN_MARGIN, round(box.height * share))
    left, top = max(0, box.x - grow_x), max(0, box.y - grow_y)
    right = min(width, box.x + box.width + grow_x)
    bottom = min(height, box.y + box.height + grow_y)
    if right <= left or bottom <= top:
        return None
    return left, top, right, bottom


def _mosaic(patch: Image.Image, kind: str) -> Image.Image:
    cells = CELLS.get(kind, DEFAULT_CELLS)
    cell = max(MIN_CELL, round(min(patch.size) / cells))
    # The blur first, as wide as a cell, so that each cell's colour is a mean over more
    # than its own pixels: nothing at a finer scale than the cells survives.
    blurred = patch.filter(ImageFilter.BoxBlur(cell))
    across = max(1, round(patch.width / cell)), max(1, round(patch.height / cell))
    coarse = blurred.resize(across, Image.Resampling.BOX)
    # Back to full size smoothly: the area is a soft blur of a few cells, and still holds
    # nothing but the cells' colours.
    return coarse.resize(patch.size, Image.Resampling.BILINEAR)


def obscure(image: Image.Image, boxes: Iterable[Box]) -> Image.Image:
    """A copy of the picture with every box's area (plus its margin) obscured."""
    result = image.convert("RGB") if image.mode != "RGB" else image.copy()
    for box in boxes:
        area = obscured_area(box, result.width, result.height)
        if area is not None:
            result.paste(_mosaic(result.crop(area), box.kind), area[:2])
    return result


def _encode(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def redact(image: Image.Image, boxes: Iterable[Box], *, thumbnail_side: int = 400) -> Rendition:
    """The public rendition of a photo: full size and thumbnail, as JPEG bytes, with every
    box obscured. The picture is the stored (upright, metadata-free) photo; boxes are in
    its pixels."""
    public = obscure(image, boxes)
    thumbnail = public.copy()
    thumbnail.thumbnail(
        (thumbnail_side, thumbnail_side), Image.Resampling.BICUBIC, reducing_gap=2.0
    )
    return Rendition(
        image=_encode(public),
        thumbnail=_encode(thumbnail),
        width=public.width,
        height=public.height,
        thumbnail_width=thumbnail.width,
        thumbnail_height=thumbnail.height,
    )
