"""Faces and licence plates in a photo, found on the CPU in this process (issue 15).

Pure: a picture in, regions out; no Django request, no ORM. The detectors and why:

- Faces: libfacedetection (Shiqi Yu's CNN, BSD-3-Clause), through the `yuface` wheel, whose
  weights are compiled into the library: nothing to download, 1 MB installed. On the
  evaluation set it finds more faces than OpenCV's Haar cascades and dlib's HOG detector,
  in less time than the cascades (BENCHMARKS.md, "Photo privacy"). It looks at the photo
  shrunk to FACE_SIDE pixels (faces of 40 pixels at the stored 1,600 are 24 there, above
  its smallest).
- Plates: reports.plates: candidates shaped like a Vietnamese plate's text, kept when a
  small linear verifier (weights in redaction_data/, trained by tests/perf/redaction_train.py)
  says they are plates; its docstring says why no shipped model would do.

`check_detectors()` is what a worker calls at start: it raises DetectorUnavailable, with
what to do, when a detector is missing or finds nothing in the check picture that ships
beside this module; the worker must then not start, so that no photo is ever made public
without this step.
"""

from __future__ import annotations

import importlib.metadata
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image

FACE: Literal["face"] = "face"
PLATE: Literal["plate"] = "plate"
Kind = Literal["face", "plate"]

# The largest side the detectors look at. The stored photo is at most 1,600 pixels
# (PHOTO_MAX_SIDE); a larger picture is shrunk to this first, and boxes are given in the
# caller's pixels.
WORKING_SIDE = 1600
FACE_SIDE = 960
# Scores under these are not kept (libfacedetection's 0-1 confidence; the plate verifier's
# probability). Chosen on the tuning scenes (seeds 1000-1039), not on the evaluation set:
# the lowest that keeps precision near 0.9 there, since a plate missed is worse than a
# sign obscured.
FACE_THRESHOLD = 0.45
PLATE_THRESHOLD = 0.85
# Bumped when a detector, its settings or its thresholds change: kept with every photo's
# regions, so that photos processed by an older version can be found and processed again.
ENGINE_VERSION = 1

CHECK_PICTURE = Path(__file__).resolve().parent / "redaction_data" / "check.jpg"
# What the check picture holds (x, y, width, height): a face and a plate that every
# working version of the detectors finds.
CHECK_FACE = (134, 155, 72, 90)
CHECK_PLATE = (380, 330, 220, 47)


class DetectorUnavailable(RuntimeError):
    """A detector cannot run: photos must not be published until it is fixed."""


@dataclass(frozen=True)
class Region:
    """A rectangle of the picture to obscure, in the picture's pixels."""

    kind: Kind
    x: int
    y: int
    width: int
    height: int
    score: float

    def iou(self, other: Region) -> float:
        ix = min(self.x + self.width, other.x + other.width) - max(self.x, other.x)
        iy = min(self.y + self.height, other.y + other.height) - max(self.y, other.y)
        if ix <= 0 or iy <= 0:
            return 0.0
        inter = ix * iy
        return inter / (self.width * self.height + other.width * other.height - inter)


@dataclass(frozen=True)
class Detection:
    regions: tuple[Region, ...]
    detector_version: str


def _libraries() -> tuple[object, object]:
    try:
        import cv2
        import yuface
    except ImportError as error:  # pragma: no cover - the message is what matters
        raise DetectorUnavailable(
            f"Photo redaction needs {error.name}: install requirements/base.txt "
            "(yuface, opencv-python-headless). Photos stay private until it runs."
        ) from error
    return cv2, yuface


def detector_version() -> str:
    """Which detectors, at which versions and settings, made a set of regions."""
    _libraries()
    versions = {
        name: importlib.metadata.version(name) for name in ("yuface", "opencv-python-headless")
    }
    return (
        f"engine {ENGINE_VERSION}; faces libfacedetection (yuface {versions['yuface']}) "
        f"at {FACE_SIDE}px >= {FACE_THRESHOLD}; plates reports.plates "
        f"(opencv {versions['opencv-python-headless']}) >= {PLATE_THRESHOLD}"
    )


def _shrunk(image: Image.Image, side: int) -> tuple[Image.Image, float]:
    """The picture with its largest side at most `side`, and the factor back to it."""
    scale = side / max(image.size)
    if scale >= 1:
        return image, 1.0
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0), 1 / scale


def find_faces(rgb: Image.Image, *, threshold: float = FACE_THRESHOLD) -> list[Region]:
    _cv2, yuface = _libraries()
    small, back = _shrunk(rgb, FACE_SIDE)
    bgr = np.ascontiguousarray(np.asarray(small)[:, :, ::-1])
    with warnings.catch_warnings():
        # yuface warns on pictures over 960 pixels (slower, not worse); ours are at most that.
        warnings.simplefilter("ignore", UserWarning)
        scores, boxes, _landmarks = yuface.detect(bgr, conf=threshold)  # type: ignore[attr-defined]
    return [
        Region(
            FACE,
            round(int(x) * back),
            round(int(y) * back),
            round(int(w) * back),
            round(int(h) * back),
            float(score) / 100,
        )
        for score, (x, y, w, h) in zip(scores, boxes, strict=True)
    ]


def find_plates(rgb: Image.Image, *, threshold: float = PLATE_THRESHOLD) -> list[Region]:
    _libraries()
    from reports import plates

    gray = np.asarray(rgb.convert("L"))
    return [
        Region(PLATE, round(p.x), round(p.y), round(p.width), round(p.height), p.score)
        for p in plates.find_plates(gray)
        if p.score >= threshold
    ]


def _clipped(region: Region, width: int, height: int, back: float) -> Region | None:
    x0 = max(0, round(region.x * back))
    y0 = max(0, round(region.y * back))
    x1 = min(width, round((region.x + region.width) * back))
    y1 = min(height, round((region.y + region.height) * back))
    if x1 <= x0 or y1 <= y0:
        return None
    return Region(region.kind, x0, y0, x1 - x0, y1 - y0, region.score)


def detect(image: Image.Image) -> Detection:
    """The faces and plates in a picture, in its pixels (any size; RGB or convertible)."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    working, back = _shrunk(rgb, WORKING_SIDE)
    found = find_faces(working, threshold=FACE_THRESHOLD) + find_plates(
        working, threshold=PLATE_THRESHOLD
    )
    regions = [_clipped(region, rgb.width, rgb.height, back) for region in found]
    return Detection(tuple(r for r in regions if r is not None), detector_version())


def check_detectors() -> str:
    """Raise DetectorUnavailable unless both detectors run and find the face and the plate
    in the check picture; return the detector version. For a worker to call at start."""
    try:
        with Image.open(CHECK_PICTURE) as picture:
            picture.load()
            check = picture.convert("RGB")
    except OSError as error:
        raise DetectorUnavailable(f"The detectors' check picture is missing: {error}") from error
    try:
        detection = detect(check)
    except DetectorUnavailable:
        raise
    except Exception as error:
        # Whatever a broken install raises (a missing or damaged weights file, a library
        # that fails to load), the worker must not start.
        raise DetectorUnavailable(
            f"The detectors failed on their check picture: {error!r}. Photos stay private "
            "until they work."
        ) from error
    for kind, expected in ((FACE, CHECK_FACE), (PLATE, CHECK_PLATE)):
        wanted = Region(kind, *expected, score=1.0)
        if not any(r.kind == kind and r.iou(wanted) >= 0.3 for r in detection.regions):
            raise DetectorUnavailable(
                f"The {kind} detector found no {kind} in its check picture "
                f"({CHECK_PICTURE.name}; {detection.detector_version}): it is broken or "
                "misconfigured. Photos stay private until it works."
            )
    return detection.detector_version
