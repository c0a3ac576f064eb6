"""Uploads under attack: every sample of the corpus (tests/security/make_corpus.py), sent to
both upload routes — filing a report and adding photos to one — gets its clear 4xx in the
API's error shape, and leaves nothing behind: no report, photo or event row, no file under
MEDIA_ROOT, no file in the upload temp directory. The valid-JPEG polyglots are accepted and
stored without their payload. (Time and memory per sample: `make_corpus.py measure`.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from reports.models import Event, Photo, Report
from tests.security.make_corpus import SAMPLES, Sample

pytestmark = pytest.mark.django_db

BY_NAME = {sample.name: sample for sample in SAMPLES}
REFUSED = sorted(sample.name for sample in SAMPLES if sample.refused)
ACCEPTED = sorted(sample.name for sample in SAMPLES if not sample.refused)


def files_under(root: Path) -> set[Path]:
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()


@pytest.fixture
def temp_uploads(settings, tmp_path) -> Path:
    """Every upload over 1 kB goes through a temporary file, here."""
    directory = tmp_path / "uploads"
    directory.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(directory)
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1000
    return directory


@pytest.fixture
def submitted_report(make_report, citizen) -> Report:
    """A report of the citizen's still `submitted`: photos may be added."""
    return make_report(citizen, route=False)


def uploads(sample: Sample) -> list[SimpleUploadedFile]:
    return [
        SimpleUploadedFile(name, data, content_type="image/jpeg") for name, data in sample.files()
    ]


def send(route: str, sample: Sample, api_as, citizen, report: Report, settings):
    for name, value in sample.settings.items():
        setattr(settings, name, value)
    client = api_as(citizen)
    if route == "file":
        body = {
            "category": "street_lighting",
            "description": "Đèn đường trước nhà số 5 không sáng",
            "lat": report.lat,
            "lng": report.lng,
            "photos": uploads(sample),
        }
        return client.post("/api/v1/reports", body, format="multipart")
    return client.post(
        f"/api/v1/reports/{report.reference}/photos",
        {"photos": uploads(sample)},
        format="multipart",
    )


def test_the_corpus_covers_every_kind_of_attack():
    names = " ".join(BY_NAME)
    for kind in (
        "body-over",
        "photo-over",
        "six-photos",
        "hundred",
        "megapixels",
        "declaring",
        "bomb",
        "jpeg-cut",
        "png-cut",
        "heic-cut",
        "webp-cut",
        "checksum",
        "huffman",
        "html-named",
        "svg-named",
        "pdf-named",
        "then-a-jpeg",
        "gif",
        "tiff",
    ):
        assert kind in names, kind


@pytest.mark.parametrize("route", ["file", "add"])
@pytest.mark.parametrize("name", REFUSED)
def test_a_hostile_upload_is_refused_in_the_error_shape_and_leaves_nothing(
    name, route, api_as, citizen, submitted_report, temp_uploads, settings
):
    sample = BY_NAME[name]
    media = Path(settings.MEDIA_ROOT)
    media_before = files_under(media)
    rows_before = (Report.objects.count(), Photo.objects.count(), Event.objects.count())

    response = send(route, sample, api_as, citizen, submitted_report, settings)

    assert response.status_code == sample.status, response.content
    body = response.json()
    assert {"detail", "code"} <= set(body) <= {"detail", "code", "fields"}
    assert body["code"] == sample.code
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert (Report.objects.count(), Photo.objects.count(), Event.objects.count()) == rows_before
    assert files_under(media) == media_before
    assert files_under(temp_uploads) == set()


@pytest.mark.parametrize("route", ["file", "add"])
@pytest.mark.parametrize("name", ACCEPTED)
def test_a_polyglot_that_is_a_real_jpeg_is_stored_without_its_payload(
    name, route, api_as, citizen, submitted_report, temp_uploads, settings
):
    photos_before = set(Photo.objects.values_list("pk", flat=True))

    response = send(route, BY_NAME[name], api_as, citizen, submitted_report, settings)

    assert response.status_code == 201, response.content
    (stored,) = Photo.objects.exclude(pk__in=photos_before)
    for file in (stored.image, stored.thumbnail):
        data = Path(file.path).read_bytes()
        assert data.startswith(b"\xff\xd8")
        assert b"<script" not in data
        assert b"<html" not in data
    assert files_under(temp_uploads) == set()
