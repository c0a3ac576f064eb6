"""Photo privacy (issue 15, reports.privacy): no public URL ever serves a photo that has
not been through the face and plate step, or its unobscured copy; failures stay private;
staff change what is obscured; the evidence copy is deleted after the report closed."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from PIL import Image

from hues.errors import InvalidInput
from reports import detection, editing, lifecycle, privacy, tasks
from reports.media import photo_url
from reports.models import Event, Photo, PhotoRegion, Redaction, Report, ReportStatus
from tests.reports.helpers import admin_client, resolve_with_photo

pytestmark = pytest.mark.django_db

CHECK = detection.CHECK_PICTURE.read_bytes()
FACE = detection.CHECK_FACE
PLATE = detection.CHECK_PLATE


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def fetch(url: str) -> Image.Image:
    response = Client().get(path_of(url))
    assert response.status_code == 200, url
    data = b"".join(response.streaming_content) if response.streaming else response.content
    return Image.open(io.BytesIO(data)).convert("RGB")


def pixels(image: Image.Image, box: tuple[int, int, int, int] | None = None) -> np.ndarray:
    if box is not None:
        x, y, w, h = box
        image = image.crop((x, y, x + w, y + h))
    return np.asarray(image, dtype=np.float32)


def detail(image: Image.Image, box: tuple[int, int, int, int]) -> float:
    """How much fine detail a region holds: the mean absolute difference of neighbours."""
    gray = pixels(image.convert("L"), box)
    return float(np.abs(np.diff(gray, axis=0)).mean() + np.abs(np.diff(gray, axis=1)).mean())


@pytest.fixture
def file_check_photo(file_report: Callable[..., Any]) -> Callable[..., Report]:
    """A report filed over the API with the detectors' check picture: a face and a plate
    at known places. Its after-commit tasks (privacy step, routing) run."""

    def make(user: Any, **fields: Any) -> Report:
        upload = SimpleUploadedFile("street.jpg", CHECK)
        response = file_report(user, photos=[upload], **fields)
        assert response.status_code == 201, response.json()
        return Report.objects.get(reference=response.json()["reference"])

    return make


def public_photo(api: Any, report: Report) -> dict[str, Any]:
    [photo] = api.get(f"/api/v1/reports/{report.reference}").json()["photos"]
    return photo


# The privacy step and what the public gets


def test_the_public_photo_has_the_face_and_the_plate_obscured_and_the_rest_unchanged(
    api, citizen, file_check_photo
):
    report = file_check_photo(citizen)
    photo = report.photos.get()
    assert photo.redaction == Redaction.DONE

    public = fetch(public_photo(api, report)["url"])
    evidence = Image.open(photo.image.path).convert("RGB")

    assert public.size == evidence.size
    for box in (FACE, PLATE):
        assert detail(public, box) < 0.35 * detail(evidence, box), box
    # Away from the obscured areas (each box and its margin), the pixels are the evidence
    # copy's, within JPEG re-encoding.
    mask = np.ones((public.height, public.width), dtype=bool)
    for region in photo.regions.all():
        area = privacy.redaction.obscured_area(region, public.width, public.height)
        assert area is not None
        left, top, right, bottom = area
        mask[max(0, top - 8) : bottom + 8, max(0, left - 8) : right + 8] = False
    difference = np.abs(pixels(public) - pixels(evidence))[mask]
    assert difference.mean() < 2.0
    assert np.percentile(difference, 99) < 16


def test_regions_are_kept_with_their_source_and_the_detectors_version(citizen, file_check_photo):
    photo = file_check_photo(citizen).photos.get()

    kinds = {region.kind for region in photo.regions.all()}
    assert {"face", "plate"} <= kinds
    assert {region.source for region in photo.regions.all()} == {PhotoRegion.Source.DETECTOR}
    assert photo.detector_version.startswith("engine ")
    assert all(r.detector_version == photo.detector_version for r in photo.regions.all())


def test_the_public_thumbnail_is_made_from_the_obscured_photo(api, citizen, file_check_photo):
    report = file_check_photo(citizen)
    photo = report.photos.get()
    thumbnail = fetch(public_photo(api, report)["thumbnail_url"])
    scale = thumbnail.width / photo.width
    face = tuple(round(value * scale) for value in FACE)
    evidence = Image.open(photo.thumbnail.path).convert("RGB")

    assert detail(thumbnail, face) < 0.5 * detail(evidence, face)  # type: ignore[arg-type]


def test_the_public_never_gets_a_url_of_the_unobscured_copy(
    api, api_as, citizen, other_citizen, file_check_photo
):
    report = file_check_photo(citizen)
    photo = report.photos.get()

    for client in (api, api_as(other_citizen)):
        body = client.get(f"/api/v1/reports/{report.reference}").json()
        feed = client.get("/api/v1/reports").json()
        text = f"{body}{feed}"
        assert photo.image.name not in text
        assert photo.thumbnail.name not in text
        assert body["photos"][0]["original_url"] is None
    # Even a URL signed for good (as the API gave before phase two) no longer opens it.
    for name in (photo.image.name, photo.thumbnail.name):
        assert Client().get(photo_url(name, expiring=False)).status_code == 404


def test_the_reporter_gets_the_unobscured_copy_by_a_url_that_expires(
    api_as, citizen, file_check_photo
):
    report = file_check_photo(citizen)
    [photo] = api_as(citizen).get(f"/api/v1/reports/{report.reference}").json()["photos"]

    assert photo["public"] is True
    assert "e=" in photo["original_url"]
    assert Client().get(path_of(photo["original_url"])).status_code == 200


# Nothing unprocessed is public


@pytest.fixture
def waiting_report(make_report: Callable[..., Report], citizen: Any) -> Report:
    """A public report whose photo's privacy step has not run yet."""
    return make_report(citizen, redact=False)


def test_a_photo_waiting_for_the_step_is_absent_from_every_public_answer(
    api, api_as, other_citizen, waiting_report, client
):
    reference = waiting_report.reference
    for viewer in (api, api_as(other_citizen)):
        assert viewer.get(f"/api/v1/reports/{reference}").json()["photos"] == []
        [listed] = viewer.get("/api/v1/reports").json()["results"]
        assert listed["photos"] == []
    [request] = client.get("/open311/v2/requests.json").json()
    assert request["media_url"] is None


def test_the_reporter_sees_their_own_photo_at_once(api_as, citizen, waiting_report):
    [photo] = api_as(citizen).get(f"/api/v1/reports/{waiting_report.reference}").json()["photos"]

    assert photo["public"] is False
    assert "e=" in photo["url"]  # the evidence copy, by an expiring URL, to them alone
    assert Client().get(path_of(photo["url"])).status_code == 200


def test_once_processed_the_photo_appears_for_everyone(api, waiting_report):
    privacy.photo_redact(photo_id=waiting_report.photos.get().pk)

    [photo] = api.get(f"/api/v1/reports/{waiting_report.reference}").json()["photos"]
    assert photo["public"] is True
    assert "/media/public/" in photo["url"]


def test_agency_result_photos_go_through_the_same_step(api, in_progress_report, staff_a):
    resolve_with_photo(report=in_progress_report, actor=staff_a, note="Đã sửa xong")

    result = in_progress_report.photos.get(kind=Photo.Kind.RESULT)
    assert result.redaction == Redaction.DONE
    kinds = [
        p["kind"]
        for p in api.get(f"/api/v1/reports/{in_progress_report.reference}").json()["photos"]
    ]
    assert kinds == ["evidence", "result"]


# Failures


def broken_detector(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(image: Any) -> Any:
        raise RuntimeError("detector crashed")

    monkeypatch.setattr(detection, "detect", fail)


def test_a_photo_whose_step_fails_stays_private_and_is_listed_for_staff(
    monkeypatch, api, staff_a, citizen, file_check_photo
):
    broken_detector(monkeypatch)

    report = file_check_photo(citizen)

    photo = report.photos.get()
    assert photo.redaction == Redaction.FAILED
    assert "detector crashed" in photo.redaction_error
    assert not photo.public_image
    assert api.get(f"/api/v1/reports/{report.reference}").json()["photos"] == []
    listed = admin_client(staff_a).get("/admin/reports/report/?photo_privacy=failed")
    assert report.reference in listed.content.decode()


def test_a_failure_in_a_worker_is_retried_with_backoff_then_kept_private(
    monkeypatch, settings, waiting_report
):
    broken_detector(monkeypatch)
    settings.PHOTO_REDACTION_MAX_ATTEMPTS = 3
    photo = waiting_report.photos.get()
    countdowns: list[int] = []

    class Retry(Exception):
        pass

    def retry(*, exc: Exception, countdown: int) -> Exception:
        countdowns.append(countdown)
        return Retry()

    monkeypatch.setattr(tasks.redact_photo, "retry", retry)
    for attempt in range(3):
        tasks.redact_photo.push_request(retries=attempt, is_eager=False)
        try:
            if attempt < 2:
                with pytest.raises(Retry):
                    tasks.redact_photo.run(photo.pk)
                photo.refresh_from_db()
                assert photo.redaction == Redaction.PENDING
            else:
                tasks.redact_photo.run(photo.pk)
        finally:
            tasks.redact_photo.pop_request()

    assert countdowns == [10, 20]
    photo.refresh_from_db()
    assert photo.redaction == Redaction.FAILED
    assert photo.redaction_attempts == 3


def test_staff_send_a_failed_photo_through_again(
    monkeypatch, staff_a, citizen, file_check_photo, django_capture_on_commit_callbacks
):
    with monkeypatch.context() as patch:
        broken_detector(patch)
        report = file_check_photo(citizen)
    photo = report.photos.get()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client(staff_a).post(redact_url(photo), {"action": "retry"})

    assert response.status_code == 302
    photo.refresh_from_db()
    assert photo.redaction == Redaction.DONE


def test_the_sweeper_re_enqueues_photos_whose_task_was_lost(settings, waiting_report):
    photo = waiting_report.photos.get()
    Photo.objects.filter(pk=photo.pk).update(created_at=timezone.now() - timedelta(hours=1))

    assert tasks.sweep_unredacted_photos() == 1

    photo.refresh_from_db()
    assert photo.redaction == Redaction.DONE


def test_a_worker_with_a_broken_detector_does_not_start(monkeypatch):
    # The check runs in a process of its own: there, its check picture is missing.
    broken = tasks._CHECK.replace(
        "print(detection.check_detectors())",
        "detection.CHECK_PICTURE = detection.Path('/nonexistent/check.png')\n"
        "    print(detection.check_detectors())",
    )
    monkeypatch.setattr(tasks, "_CHECK", broken)

    with pytest.raises(SystemExit, match="did not start: The detectors' check picture is missing"):
        tasks.check_photo_detectors()


def test_a_worker_with_working_detectors_starts_without_running_them_itself(monkeypatch):
    """Native thread pools started in the worker's main process hang in the pool processes
    it forks (the fault suite's prefork worker never finished a photo): the main process
    never runs a detector."""

    def in_the_parent() -> str:
        raise AssertionError("the worker's main process ran the detectors")

    monkeypatch.setattr(detection, "check_detectors", in_the_parent)

    tasks.check_photo_detectors()  # no exception: checked in a process of its own


# Staff redaction in the admin


def redact_url(photo: Photo) -> str:
    return f"/admin/reports/report/{photo.report_id}/photos/{photo.pk}/redact/"


def test_staff_draw_a_box_and_the_public_photo_is_obscured_there(
    api, staff_a, citizen, file_check_photo, django_capture_on_commit_callbacks
):
    report = file_check_photo(citizen)
    photo = report.photos.get()
    box = (420, 40, 120, 90)  # a corner with detail, no face or plate
    before = fetch(public_photo(api, report)["url"])
    old_file = Path(photo.public_image.path)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client(staff_a).post(
            redact_url(photo),
            {"action": "add", "kind": "other", "x": 420, "y": 40, "width": 120, "height": 90},
        )

    assert response.status_code == 302
    after = fetch(public_photo(api, report)["url"])
    assert detail(after, box) < 0.5 * detail(before, box)
    region = photo.regions.get(source=PhotoRegion.Source.STAFF)
    assert (region.x, region.y, region.width, region.height, region.created_by) == (
        420,
        40,
        120,
        90,
        staff_a,
    )
    event = report.events.get(kind=Event.Kind.PHOTO_REDACTED)
    assert event.is_public is False
    assert event.actor == staff_a
    assert event.data["added"] == [["other", 420, 40, 120, 90]]
    # The old public rendition is gone: its URL shows nothing any more.
    assert not old_file.exists()


def test_staff_remove_a_false_box_and_the_public_photo_shows_that_area_again(
    api, dispatcher, citizen, file_check_photo
):
    report = file_check_photo(citizen)
    photo = report.photos.get()
    plate = next(r for r in photo.regions.all() if r.kind == "plate")
    box = (plate.x, plate.y, plate.width, plate.height)
    before = fetch(public_photo(api, report)["url"])

    response = admin_client(dispatcher).post(
        redact_url(photo), {"action": "remove", "region": plate.pk}
    )

    assert response.status_code == 302
    after = fetch(public_photo(api, report)["url"])
    assert detail(after, box) > 2 * detail(before, box)
    plate.refresh_from_db()
    assert plate.removed_by == dispatcher
    assert report.events.filter(kind=Event.Kind.PHOTO_REDACTED).count() == 1


def test_the_redaction_page_shows_the_canvas_from_our_static_files(
    staff_a, citizen, file_check_photo
):
    photo = file_check_photo(citizen).photos.get()

    page = admin_client(staff_a).get(redact_url(photo)).content.decode()

    assert 'id="redaction-canvas"' in page
    assert "/static/reports/redaction.js" in page
    assert "csrfmiddlewaretoken" in page


def test_a_post_without_the_csrf_token_is_refused(staff_a, citizen, file_check_photo):
    photo = file_check_photo(citizen).photos.get()
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_a)

    response = client.post(
        redact_url(photo), {"action": "add", "x": 1, "y": 1, "width": 50, "height": 50}
    )

    assert response.status_code == 403
    assert not photo.regions.filter(source=PhotoRegion.Source.STAFF).exists()


def test_staff_of_another_agency_cannot_open_the_page(staff_b, citizen, file_check_photo):
    photo = file_check_photo(citizen).photos.get()

    assert admin_client(staff_b).get(redact_url(photo)).status_code == 404
    response = admin_client(staff_b).post(
        redact_url(photo), {"action": "add", "x": 1, "y": 1, "width": 50, "height": 50}
    )
    assert response.status_code == 404
    assert not photo.regions.filter(source=PhotoRegion.Source.STAFF).exists()


# The evidence copy's retention


def close(report: Report, *, days_ago: int) -> None:
    Report.objects.filter(pk=report.pk).update(
        status=ReportStatus.CLOSED, closed_at=timezone.now() - timedelta(days=days_ago)
    )


def test_the_unobscured_copy_is_deleted_after_the_retention_days(
    settings, api_as, citizen, file_check_photo, django_capture_on_commit_callbacks
):
    settings.PHOTO_ORIGINAL_RETENTION_DAYS = 30
    recent, old = file_check_photo(citizen), file_check_photo(citizen)
    close(recent, days_ago=29)
    close(old, days_ago=31)
    old_photo = old.photos.get()
    path = old_photo.image.path

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.purge_photo_originals() == 1

    old_photo.refresh_from_db()
    assert old_photo.original_deleted_at is not None
    assert not old_photo.image
    assert recent.photos.get().has_original
    [photo] = api_as(citizen).get(f"/api/v1/reports/{old.reference}").json()["photos"]
    assert photo["original_url"] is None
    assert "/media/public/" in photo["url"]  # the public rendition stays
    assert not Path(path).exists()


def test_with_no_retention_no_unobscured_copy_is_kept(settings, citizen, file_check_photo):
    settings.PHOTO_ORIGINAL_RETENTION_DAYS = 0

    photo = file_check_photo(citizen).photos.get()

    assert photo.original_deleted_at is not None
    assert photo.is_published


# Back-filling photos stored before the step existed


def test_the_back_fill_processes_every_waiting_photo_in_batches(make_report, citizen, capsys):
    reports = [make_report(citizen, redact=False, photos=2) for _ in range(2)]
    assert Photo.objects.filter(redaction=Redaction.PENDING).count() == 4

    call_command("redact_photos", batch_size=3)

    assert not Photo.objects.exclude(redaction=Redaction.DONE).exists()
    assert all(p.public_image for r in reports for p in r.photos.all())
    assert "4/4" in capsys.readouterr().out


def test_the_back_fill_resumes_after_the_last_photo_it_did(make_report, citizen):
    make_report(citizen, redact=False, photos=3)
    first, *rest = Photo.objects.order_by("id")

    call_command("redact_photos", after=first.pk)

    first.refresh_from_db()
    assert first.redaction == Redaction.PENDING
    assert all(Photo.objects.get(pk=p.pk).redaction == Redaction.DONE for p in rest)


def test_lifecycle_offers_no_redaction_button(routed_report, staff_a):
    assert "redact_photo" not in lifecycle.allowed_transitions(routed_report, staff_a)


# Split reports share their photos' files


def test_a_split_part_keeps_the_photos_public_rendition_and_its_boxes(
    api, make_report, citizen, dispatcher
):
    mixed = make_report(citizen, category="other", description="Rác và đèn hỏng", photos=2)
    photos = list(mixed.photos.order_by("id"))
    PhotoRegion.objects.create(
        photo=photos[1], kind="face", source=PhotoRegion.Source.STAFF, x=1, y=1, width=9, height=9
    )

    [light] = editing.report_split(
        report=mixed,
        actor=dispatcher,
        reason="Hai vấn đề khác nhau",
        parts=[
            editing.SplitPart("garbage", mixed.description, []),
            editing.SplitPart("street_lighting", "Đèn đường hỏng", [photos[1].pk]),
        ],
    )

    copy = light.photos.get()
    assert copy.is_published
    assert copy.public_image.name == photos[1].public_image.name
    assert copy.regions.count() == photos[1].regions.count()
    [shown] = api.get(f"/api/v1/reports/{light.reference}").json()["photos"]
    assert "/media/public/" in shown["url"]


# A box staff draw: any numbers the form lets through


@given(
    x=st.integers(-2000, 4000),
    y=st.integers(-2000, 4000),
    width=st.integers(1, 5000),
    height=st.integers(1, 5000),
    kind=st.sampled_from(["face", "plate", "other", "sign"]),
)
@hypothesis_settings(max_examples=300, deadline=None)
def test_a_drawn_box_is_kept_inside_the_photo_or_refused(x, y, width, height, kind):
    photo = Photo(width=1600, height=1200)
    try:
        box = privacy._clean_box(privacy.BoxInput(kind, x, y, width, height), photo)
    except InvalidInput:
        return
    assert box.kind in PhotoRegion.Kind.values
    assert 0 <= box.x < box.x + box.width <= photo.width
    assert 0 <= box.y < box.y + box.height <= photo.height
    assert min(box.width, box.height) >= privacy.MIN_BOX_SIDE
