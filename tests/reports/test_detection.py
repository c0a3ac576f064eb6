"""The detectors (reports.detection, reports.plates): they find the labelled faces and plates
in fixed evaluation pictures, in the caller's pixels, and a missing or broken detector stops
a worker at start. Recall and precision over the whole set are measured, not asserted
(tests/perf/redaction.py, BENCHMARKS.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reports import detection, plates
from reports.detection import FACE, PLATE, DetectorUnavailable, Region

SET = Path(__file__).resolve().parents[1] / "data" / "redaction"


def labelled(file: str) -> tuple[Image.Image, list[Region]]:
    manifest = json.loads((SET / "manifest.json").read_text())
    entry = next(e for e in manifest["images"] if e["file"] == f"images/{file}")
    regions = [
        Region(label["kind"], label["x"], label["y"], label["width"], label["height"], 1.0)
        for label in entry["labels"]
    ]
    with Image.open(SET / entry["file"]) as picture:
        return picture.convert("RGB"), regions


def counted(label: Region) -> bool:
    """The sizes the targets speak of: faces at least 40 px high, plates 60 px wide."""
    return (label.kind == FACE and label.height >= 40) or (
        label.kind == PLATE and label.width >= 60
    )


def found(label: Region, regions: tuple[Region, ...]) -> bool:
    return any(r.kind == label.kind and r.iou(label) >= 0.3 for r in regions)


@pytest.mark.parametrize(
    "file",
    [
        "scene-007.jpg",  # a face, a white long car plate
        "scene-008.jpg",  # two faces, a white motorbike plate
        "scene-002.jpg",  # a blue short car plate, a face, a far car
        "scene-042.jpg",  # a yellow motorbike plate, a face
        "package-astronaut.jpg",
        "package-obama.jpg",
    ],
)
def test_the_labelled_faces_and_plates_are_found(file: str) -> None:
    image, labels = labelled(file)
    result = detection.detect(image)
    wanted = [label for label in labels if counted(label)]
    assert wanted
    for label in wanted:
        assert found(label, result.regions), label
    # Nothing else: each detection is one of the labelled things.
    for region in result.regions:
        assert any(region.kind == label.kind and region.iou(label) >= 0.3 for label in labels)


@pytest.mark.parametrize("file", ["package-coffee.jpg", "package-chelsea.jpg"])
def test_a_photo_without_people_or_vehicles_has_no_regions(file: str) -> None:
    image, labels = labelled(file)
    assert not labels
    assert detection.detect(image).regions == ()


def test_boxes_are_in_the_callers_pixels_for_a_photo_larger_than_the_detectors_look_at() -> None:
    image, labels = labelled("scene-007.jpg")
    large = image.resize((image.width * 2, image.height * 2), Image.Resampling.BICUBIC)
    result = detection.detect(large)
    for label in filter(counted, labels):
        doubled = Region(
            label.kind, label.x * 2, label.y * 2, label.width * 2, label.height * 2, 1.0
        )
        assert found(doubled, result.regions), label
    for region in result.regions:
        assert region.x >= 0
        assert region.y >= 0
        assert region.x + region.width <= large.width
        assert region.y + region.height <= large.height


def test_a_greyscale_photo_is_read_as_well() -> None:
    image, labels = labelled("package-camera.jpg")
    result = detection.detect(image.convert("L"))
    assert all(found(label, result.regions) for label in labels)


def test_the_detector_version_names_the_engine_and_the_libraries() -> None:
    version = detection.check_detectors()
    assert version == detection.detect(Image.new("RGB", (64, 48))).detector_version
    assert f"engine {detection.ENGINE_VERSION}" in version
    assert "yuface 2023.5.1" in version
    assert "opencv" in version


def test_a_missing_face_detector_stops_the_worker_at_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "yuface", None)  # what an import of an absent package does
    with pytest.raises(DetectorUnavailable, match="needs yuface"):
        detection.check_detectors()


def test_a_face_detector_that_finds_nothing_stops_the_worker_at_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(detection, "FACE_THRESHOLD", 1.01)
    with pytest.raises(DetectorUnavailable, match="face detector found no face"):
        detection.check_detectors()


def test_a_damaged_plate_verifier_stops_the_worker_at_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    damaged = tmp_path / "plate_verifier.npz"
    weights = {layout: np.zeros(plates.features_size(layout)) for layout in plates.PATCH}
    plates.Verifier(weights, dict.fromkeys(plates.PATCH, -5.0)).save(damaged)
    monkeypatch.setattr(plates, "VERIFIER", damaged)
    plates.verifier.cache_clear()
    try:
        with pytest.raises(DetectorUnavailable, match="plate detector found no plate"):
            detection.check_detectors()
    finally:
        plates.verifier.cache_clear()


def test_a_missing_plate_verifier_stops_the_worker_at_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(plates, "VERIFIER", tmp_path / "absent.npz")
    plates.verifier.cache_clear()
    try:
        with pytest.raises(DetectorUnavailable, match="failed on their check picture"):
            detection.check_detectors()
    finally:
        plates.verifier.cache_clear()


def test_a_missing_check_picture_stops_the_worker_at_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(detection, "CHECK_PICTURE", tmp_path / "absent.jpg")
    with pytest.raises(DetectorUnavailable, match="check picture is missing"):
        detection.check_detectors()
