"""Vietnamese licence plates in a photo, found by the shape of their text (issue 15).

Pure: a greyscale picture in, boxes out; no Django, no model file. No detector for
Vietnamese plates ships in a package (the OpenCV cascades that do ship are for Russian
plates and find few of ours: BENCHMARKS.md), so this one is built from what every plate
has, whatever its colour:

1. Candidates. Rows of characters: the picture is binarised against its local mean (dark
   on light for white and yellow plates, light on dark for blue ones) at full, half and
   quarter scale, so that characters from 7 to about 140 pixels high are each seen at a size
   the threshold suits; components of character size and shape on one line, less than a
   character and a half apart, make a row; one row of 5 to 10 characters (75A-123.45: the
   dash and the dot are too small to count) is a car's long plate, two short rows one above
   the other (75-B1 over 123.45) a motorbike's or a car's short plate. And, because blur and
   low light join characters to each other and to the plate's frame, areas dense in
   vertical edges (Sobel, closed, opened) of a plate's proportions.
2. Verification. Shop signs, house numbers and phone numbers are candidates too. Each
   candidate, with a tenth of its size around it, is resized to a fixed patch per layout
   and described by its histogram of oriented gradients; a logistic regression per layout
   (weights in redaction_data/plate_verifier.npz, 11 kB, trained by
   tests/perf/redaction_train.py on composed scenes apart from the evaluation set) gives
   the probability that it is a plate. Overlapping boxes keep the most probable.

The box errs on the large side: a region too large is harmless, a plate left readable is not.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

# Character heights (pixels) looked for at each scale; the scales overlap by a little.
CHAR_MIN, CHAR_MAX = 7, 40
SCALES = (1, 2, 4)
BLOCK = 25  # the adaptive threshold's neighbourhood, pixels (odd)
OFFSET = 4  # how much darker (or lighter) than its neighbourhood a character pixel is
ONE_LINE, TWO_LINE = "one-line", "two-line"
# The verifier's view of a candidate: its box grown by CONTEXT on each side, at this size.
PATCH = {ONE_LINE: (128, 32), TWO_LINE: (64, 48)}
CONTEXT = 0.1
_HOG = {
    layout: cv2.HOGDescriptor(size, (16, 16), (8, 8), (8, 8), 9) for layout, size in PATCH.items()
}
_CLOSE = cv2.getStructuringElement(cv2.MORPH_RECT, (9, 3))
_OPEN = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 5))
VERIFIER = Path(__file__).resolve().parent / "redaction_data" / "plate_verifier.npz"


@dataclass(frozen=True)
class Chars:
    """Character candidates, one array entry each: box and centre."""

    x: np.ndarray
    y: np.ndarray
    w: np.ndarray
    h: np.ndarray

    def __len__(self) -> int:
        return len(self.x)


@dataclass(frozen=True)
class Row:
    x0: float
    y0: float
    x1: float
    y1: float
    count: int
    char_height: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0


@dataclass(frozen=True)
class PlateBox:
    x: float
    y: float
    width: float
    height: float
    score: float
    layout: str


def _characters(binary: np.ndarray) -> Chars:
    _count, _labels, stats, _centroids = cv2.connectedComponentsWithStats(binary, connectivity=8)
    x, y, w, h, area = (stats[1:, i] for i in range(5))
    fill = area / np.maximum(w * h, 1)
    keep = (
        (h >= CHAR_MIN)
        & (h <= CHAR_MAX)
        & (w >= 0.1 * h)
        & (w <= 1.05 * h)
        & (fill >= 0.18)
        & (fill <= 0.95)
    )
    return Chars(
        x[keep].astype(np.float32),
        y[keep].astype(np.float32),
        w[keep].astype(np.float32),
        h[keep].astype(np.float32),
    )


def _rows(chars: Chars) -> list[Row]:
    """Join characters into rows (union-find over neighbours to the right)."""
    n = len(chars)
    if n < 2:
        return []
    order = np.argsort(chars.x)
    x, y, w, h = chars.x[order], chars.y[order], chars.w[order], chars.h[order]
    cy = y + h / 2
    parent = np.arange(n)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = int(parent[i])
        return i

    right = x + w
    reach = np.searchsorted(x, right + 1.5 * h, side="right")
    for i in range(n):
        j = np.arange(i + 1, reach[i])
        if not len(j):
            continue
        gap = x[j] - right[i]
        ratio = np.maximum(h[j], h[i]) / np.minimum(h[j], h[i])
        near = (
            (ratio <= 1.35)
            & (np.abs(cy[j] - cy[i]) <= 0.3 * np.maximum(h[j], h[i]))
            & (gap >= -0.25 * h[i])
            & (gap <= 1.5 * np.minimum(h[j], h[i]))
        )
        for k in j[near]:
            a, b = root(i), root(int(k))
            if a != b:
                parent[b] = a
    roots = np.array([root(i) for i in range(n)])
    rows = []
    for r in np.unique(roots):
        members = roots == r
        count = int(members.sum())
        if count < 2:
            continue
        rows.append(
            Row(
                float(x[members].min()),
                float(y[members].min()),
                float(right[members].max()),
                float((y[members] + h[members]).max()),
                count,
                float(np.median(h[members])),
            )
        )
    return rows


def _one_line(row: Row) -> tuple[float, float, float, float] | None:
    aspect = row.width / row.char_height
    if not (5 <= row.count <= 10 and 2.6 <= aspect <= 9.5 and row.height <= 1.8 * row.char_height):
        return None
    pad_x, pad_y = 0.45 * row.char_height, 0.3 * row.char_height
    return (row.x0 - pad_x, row.y0 - pad_y, row.width + 2 * pad_x, row.height + 2 * pad_y)


def _two_line(top: Row, bottom: Row) -> tuple[float, float, float, float] | None:
    if not (2 <= top.count <= 6 and 3 <= bottom.count <= 6):
        return None
    height = max(top.char_height, bottom.char_height)
    if max(top.char_height, bottom.char_height) > 1.5 * min(top.char_height, bottom.char_height):
        return None
    gap = bottom.y0 - top.y1
    if not (-0.1 * height <= gap <= 0.9 * height):
        return None
    overlap = min(top.x1, bottom.x1) - max(top.x0, bottom.x0)
    if overlap < 0.6 * min(top.width, bottom.width):
        return None
    if not (0.3 <= top.width / bottom.width <= 2.0):
        return None
    x0, x1 = min(top.x0, bottom.x0), max(top.x1, bottom.x1)
    y0, y1 = top.y0, bottom.y1
    if not (0.7 <= (x1 - x0) / (y1 - y0) <= 3.0):
        return None
    pad_x, pad_y = 0.35 * height, 0.25 * height
    return (x0 - pad_x, y0 - pad_y, x1 - x0 + 2 * pad_x, y1 - y0 + 2 * pad_y)


@dataclass(frozen=True)
class Candidate:
    """A box that may be a plate, in the full picture's pixels, before verification."""

    x: float
    y: float
    width: float
    height: float
    layout: str


def _boxes(rows: list[Row]) -> list[tuple[tuple[float, float, float, float], str]]:
    boxes = []
    for row in rows:
        one = _one_line(row)
        if one:
            boxes.append((one, ONE_LINE))
    by_top = sorted(rows, key=lambda r: r.y0)
    for i, top in enumerate(by_top):
        for bottom in by_top[i + 1 :]:
            if bottom.y0 - top.y1 > 1.0 * top.char_height:
                break
            two = _two_line(top, bottom)
            if two:
                boxes.append((two, TWO_LINE))
    return boxes


def _edge_blobs(level: np.ndarray) -> list[tuple[tuple[float, float, float, float], str]]:
    """Areas dense in vertical edges, as rows of characters make them, even where blur
    or a low light joins the characters to each other or to the plate's frame."""
    edges = cv2.convertScaleAbs(cv2.Sobel(level, cv2.CV_16S, 1, 0, ksize=3))
    _, binary = cv2.threshold(edges, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    binary = cv2.morphologyEx(binary, cv2.MORPH_CLOSE, _CLOSE)
    binary = cv2.morphologyEx(binary, cv2.MORPH_OPEN, _OPEN)
    contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    boxes = []
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        if not (CHAR_MIN * 1.3 <= h <= CHAR_MAX * 2.2 and 1.0 <= w / h <= 7.5):
            continue
        if cv2.contourArea(contour) < 0.45 * w * h:
            continue
        layout = ONE_LINE if w / h >= 2.4 else TWO_LINE
        grow = 0.12 * h
        boxes.append(((x - grow, y - grow, w + 2 * grow, h + 2 * grow), layout))
    return boxes


def candidates(gray: np.ndarray) -> list[Candidate]:
    """Every box shaped like a plate's text, at every scale: rows of characters (both
    polarities) and areas dense in vertical edges."""
    found = []
    level = gray
    for scale in SCALES:
        if scale > 1:
            size = (gray.shape[1] // scale, gray.shape[0] // scale)
            if min(size) < BLOCK:
                break
            level = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
        boxes = _edge_blobs(level)
        for polarity in (cv2.THRESH_BINARY_INV, cv2.THRESH_BINARY):
            binary = cv2.adaptiveThreshold(
                level, 255, cv2.ADAPTIVE_THRESH_MEAN_C, polarity, BLOCK, OFFSET
            )
            boxes += _boxes(_rows(_characters(binary)))
        for box, layout in boxes:
            x, y, w, h = (v * scale for v in box)
            found.append(Candidate(x, y, w, h, layout))
    return found


def _patch(gray: np.ndarray, candidate: Candidate) -> np.ndarray:
    """The candidate and a little around it, at the verifier's size for its layout."""
    size = PATCH[candidate.layout]
    grow_x, grow_y = candidate.width * CONTEXT, candidate.height * CONTEXT
    x0, y0 = candidate.x - grow_x, candidate.y - grow_y
    x1, y1 = candidate.x + candidate.width + grow_x, candidate.y + candidate.height + grow_y
    # An affine map from the box to the patch; outside the picture is its edge repeated.
    matrix = np.array(
        [
            [size[0] / (x1 - x0), 0, -x0 * size[0] / (x1 - x0)],
            [0, size[1] / (y1 - y0), -y0 * size[1] / (y1 - y0)],
        ],
        dtype=np.float32,
    )
    shrink = max((x1 - x0) / size[0], (y1 - y0) / size[1])
    source = gray
    if shrink > 2:
        # Shrink the neighbourhood first so that the warp samples it without aliasing.
        factor = int(shrink // 2) * 2
        left, top = max(0, int(x0) - factor), max(0, int(y0) - factor)
        right = min(gray.shape[1], int(x1) + factor)
        bottom = min(gray.shape[0], int(y1) + factor)
        if right - left < factor or bottom - top < factor:
            return np.zeros(size[::-1], np.uint8)
        crop = gray[top:bottom, left:right]
        small = cv2.resize(
            crop, ((right - left) // factor, (bottom - top) // factor), interpolation=cv2.INTER_AREA
        )
        matrix = np.array(
            [
                [size[0] / (x1 - x0) * factor, 0, (left - x0) * size[0] / (x1 - x0)],
                [0, size[1] / (y1 - y0) * factor, (top - y0) * size[1] / (y1 - y0)],
            ],
            dtype=np.float32,
        )
        source = small
    return np.asarray(
        cv2.warpAffine(
            source, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
    )


def features_size(layout: str) -> int:
    return int(_HOG[layout].getDescriptorSize())


def features(gray: np.ndarray, candidate: Candidate) -> np.ndarray:
    """What the verifier sees of a candidate: the histogram of oriented gradients of its
    patch (unsigned: dark-on-light and light-on-dark plates look alike)."""
    patch = _patch(gray, candidate)
    return np.asarray(_HOG[candidate.layout].compute(patch)).ravel()


@dataclass(frozen=True)
class Verifier:
    """A logistic regression per layout over `features`: score = sigmoid(w . x + b)."""

    weights: dict[str, np.ndarray]
    bias: dict[str, float]

    @classmethod
    def load(cls, path: Path | None = None) -> Verifier:
        with np.load(path or VERIFIER) as data:
            return cls(
                {layout: data[f"{layout}_w"] for layout in PATCH},
                {layout: float(data[f"{layout}_b"]) for layout in PATCH},
            )

    def save(self, path: Path) -> None:
        arrays: dict[str, Any] = {}
        for layout in PATCH:
            arrays[f"{layout}_w"] = self.weights[layout].astype(np.float32)
            arrays[f"{layout}_b"] = np.array(self.bias[layout], dtype=np.float32)
        np.savez_compressed(path, **arrays)

    def score(self, layout: str, vectors: np.ndarray) -> np.ndarray:
        logits = vectors @ self.weights[layout] + self.bias[layout]
        return 1 / (1 + np.exp(-np.clip(logits, -30, 30)))


def _suppress(boxes: list[PlateBox], overlap: float = 0.3) -> list[PlateBox]:
    """Keep the best of boxes that overlap (intersection over the smaller box)."""
    kept: list[PlateBox] = []
    for box in sorted(boxes, key=lambda b: -b.score):
        for other in kept:
            ix = min(box.x + box.width, other.x + other.width) - max(box.x, other.x)
            iy = min(box.y + box.height, other.y + other.height) - max(box.y, other.y)
            if ix > 0 and iy > 0:
                smaller = min(box.width * box.height, other.width * other.height)
                if ix * iy > overlap * smaller:
                    break
        else:
            kept.append(box)
    return kept


def find_plates(gray: np.ndarray, model: Verifier | None = None) -> list[PlateBox]:
    """Plate boxes in a greyscale picture (uint8, H x W), in its pixels, best first."""
    model = model or verifier()
    found = candidates(gray)
    boxes = []
    for layout in PATCH:
        mine = [c for c in found if c.layout == layout]
        if not mine:
            continue
        scores = model.score(layout, np.stack([features(gray, c) for c in mine]))
        boxes += [
            PlateBox(c.x, c.y, c.width, c.height, float(score), layout)
            for c, score in zip(mine, scores, strict=True)
        ]
    return _suppress(boxes)


@functools.cache
def verifier() -> Verifier:
    """The shipped verifier, read once per process."""
    return Verifier.load()
