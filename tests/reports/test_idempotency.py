"""POST /api/v1/reports with an Idempotency-Key: retries file a report once.

Same key and body: the same report again (201, marked Idempotent-Replayed). Same key, other
body: 422 idempotency_mismatch. While the first request with the key is at work: 409
idempotency_in_flight. Keys are kept 24 hours, then purged by a beat task.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.utils import timezone

from hues.celery import app as celery_app
from reports import idempotency, services
from reports.models import IdempotencyKey, Report
from reports.tasks import purge_idempotency_keys
from tests.conftest import PHU_XUAN_POINT, need

URL = "/api/v1/reports"
HUE = ZoneInfo("Asia/Ho_Chi_Minh")
KEY = "6f1c7d2e-4b1a-4c8e-9a57-2f0d3e1b9c44"


@pytest.fixture
def post(api_as, photo, django_capture_on_commit_callbacks):
    """POST a report as `user`, with `key` as its Idempotency-Key unless None. The photos
    are made afresh for each request, with the same bytes every time."""

    def make(user, key=KEY, *, photos=None, **fields):
        body = {
            "category": "street_lighting",
            "description": "Đèn đường trước nhà số 5 không sáng",
            "lat": PHU_XUAN_POINT[0],
            "lng": PHU_XUAN_POINT[1],
            "photos": photos if photos is not None else [photo()],
            **fields,
        }
        headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
        with django_capture_on_commit_callbacks(execute=True):
            return api_as(user).post(URL, body, format="multipart", **headers)

    return make


def _reference(response):
    assert response.status_code == 201, response.content
    return response.json()["reference"]


def _error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["detail"], str)
    assert body["detail"]


# Retries


def test_a_retry_with_the_same_key_and_body_returns_the_same_report(post, citizen):
    first = _reference(post(citizen))

    again = _reference(post(citizen))

    assert again == first
    assert Report.objects.count() == 1


def test_ten_retries_file_one_report(post, citizen):
    references = {_reference(post(citizen)) for _ in range(10)}

    assert len(references) == 1
    assert Report.objects.count() == 1


def test_a_retry_answers_201_with_the_report_and_its_location(post, citizen):
    first = post(citizen)

    again = post(citizen)

    assert again.status_code == 201
    assert again["Location"] == first["Location"]
    # The same photos, processed since the first answer (after its commit): their public
    # URLs are new, the reporter's unobscured copy is the same.
    originals = [[photo["original_url"] for photo in r.json()["photos"]] for r in (first, again)]
    assert originals[0] == originals[1]
    assert all(originals[0])


def test_a_retry_shows_the_report_as_it_is_now(post, citizen):
    first = post(citizen)

    again = post(citizen)

    # Routing ran after the first request's commit.
    assert first.json()["status"] == "submitted"
    assert again.json()["status"] == "routed"
    assert again.json()["agency"]["code"] == "hepco"


def test_a_retry_is_marked_as_a_replay(post, citizen):
    first = post(citizen)

    again = post(citizen)

    assert "Idempotent-Replayed" not in first
    assert again["Idempotent-Replayed"] == "true"


def test_the_key_remembers_its_report(post, citizen):
    reference = _reference(post(citizen))

    key = IdempotencyKey.objects.get(user=citizen, key=KEY)

    assert key.report.reference == reference
    assert len(key.request_hash) == 64


def test_without_a_key_every_request_files_a_new_report(post, citizen):
    first = _reference(post(citizen, key=None))

    second = _reference(post(citizen, key=None))

    assert first != second
    assert not IdempotencyKey.objects.exists()


def test_the_same_key_from_another_user_files_their_own_report(post, citizen, other_citizen):
    mine = _reference(post(citizen))

    theirs = _reference(post(other_citizen))

    assert mine != theirs
    assert Report.objects.get(reference=theirs).reporter == other_citizen


def test_another_key_files_another_report(post, citizen):
    first = _reference(post(citizen))

    second = _reference(post(citizen, key="another-key"))

    assert first != second


# A different body


def test_the_same_key_with_another_description_answers_422(post, citizen):
    post(citizen)

    response = post(citizen, description="Một báo cáo khác")

    _error(response, 422, "idempotency_mismatch")
    assert Report.objects.count() == 1


def test_the_same_key_with_other_photo_bytes_answers_422(post, citizen, photo):
    post(citizen)

    response = post(citizen, photos=[photo(color=(10, 200, 10))])

    _error(response, 422, "idempotency_mismatch")


def test_the_same_key_with_one_more_photo_answers_422(post, citizen, photo):
    post(citizen)

    _error(post(citizen, photos=[photo(), photo()]), 422, "idempotency_mismatch")


def test_the_same_key_with_another_field_answers_422(post, citizen):
    post(citizen)

    _error(post(citizen, is_public="false"), 422, "idempotency_mismatch")


def test_the_photo_file_name_is_not_part_of_the_body(post, citizen, photo):
    first = _reference(post(citizen, photos=[photo(name="IMG_0001.jpg")]))

    again = _reference(post(citizen, photos=[photo(name="upload.jpg")]))

    assert again == first


# The body's hash (pure)


def _upload(data=b"photo bytes"):
    return SimpleUploadedFile("photo.jpg", data)


def test_the_hash_does_not_depend_on_the_order_of_the_fields():
    forward = idempotency.request_hash([("a", ["1"]), ("b", ["2"])])

    assert idempotency.request_hash([("b", ["2"]), ("a", ["1"])]) == forward


def test_the_hash_depends_on_the_order_of_the_photos():
    one, two = b"one", b"two"

    assert idempotency.request_hash(
        [("photos", [_upload(one), _upload(two)])]
    ) != idempotency.request_hash([("photos", [_upload(two), _upload(one)])])


def test_the_hash_tells_apart_values_that_concatenate_the_same():
    assert idempotency.request_hash([("a", ["bc"])]) != idempotency.request_hash([("ab", ["c"])])
    assert idempotency.request_hash([("a", ["b", "c"])]) != idempotency.request_hash(
        [("a", ["bc"])]
    )


def test_the_hash_reads_a_large_photo_in_chunks_and_rewinds_it():
    data = bytes(range(256)) * 4096  # 1 MiB
    upload = _upload(data)

    idempotency.request_hash([("photos", [upload])])

    assert upload.tell() == 0
    assert upload.read() == data


def test_the_hash_covers_every_byte_of_a_photo():
    data = bytearray(b"x" * 200_000)
    before = idempotency.request_hash([("photos", [_upload(bytes(data))])])
    data[150_000] = ord("y")

    assert idempotency.request_hash([("photos", [_upload(bytes(data))])]) != before


# Bad keys


def test_an_empty_key_answers_400(post, citizen):
    response = post(citizen, key="")

    _error(response, 400, "idempotency_key_invalid")
    assert "Idempotency-Key" in response.json()["fields"]
    assert not Report.objects.exists()


def test_a_key_of_256_characters_answers_400(post, citizen):
    _error(post(citizen, key="k" * 256), 400, "idempotency_key_invalid")
    assert not Report.objects.exists()


def test_a_key_of_255_characters_is_accepted(post, citizen):
    assert post(citizen, key="k" * 255).status_code == 201


@pytest.mark.parametrize("key", ["with space", "tab\there", "clé", "\x7f"])
def test_a_key_with_other_than_visible_ascii_answers_400(post, citizen, key):
    _error(post(citizen, key=key), 400, "idempotency_key_invalid")


# Failures free the key


def test_a_request_refused_by_the_service_frees_its_key(post, citizen):
    refused = post(citizen, category="no_such_category")

    response = post(citizen)

    assert refused.status_code == 400
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response


def test_a_request_refused_for_its_photo_frees_its_key(post, citizen):
    broken = SimpleUploadedFile("photo.jpg", b"not an image")
    refused = post(citizen, photos=[broken])

    assert refused.status_code in (400, 415)
    assert not IdempotencyKey.objects.exists()


def test_a_request_refused_by_validation_keeps_no_key(post, citizen):
    response = post(citizen, lat="north")

    assert response.status_code == 400
    assert not IdempotencyKey.objects.exists()


def test_an_unexpected_error_frees_the_key(post, citizen, monkeypatch):
    def broken(**fields):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "report_create", broken)
    with pytest.raises(RuntimeError):
        post(citizen)

    assert not IdempotencyKey.objects.exists()


# In flight


@pytest.fixture
def while_in_flight(monkeypatch):
    """Run `during()` while the first request that gets as far as filing holds its key
    (inside services.report_create, before anything is written), then let it go on."""

    def arrange(during):
        real = services.report_create
        results = []

        def first_request_at_work(**fields):
            if not results:
                results.append(None)
                results[0] = during()
            return real(**fields)

        monkeypatch.setattr(services, "report_create", first_request_at_work)
        return results

    return arrange


def test_a_retry_while_the_first_request_is_at_work_answers_409(post, citizen, while_in_flight):
    second = while_in_flight(lambda: post(citizen))

    first = post(citizen)

    _error(second[0], 409, "idempotency_in_flight")
    assert first.status_code == 201
    assert Report.objects.count() == 1


def test_another_body_while_the_first_request_is_at_work_answers_422(
    post, citizen, while_in_flight
):
    second = while_in_flight(lambda: post(citizen, description="Khác"))

    post(citizen)

    _error(second[0], 422, "idempotency_mismatch")


def test_after_the_first_request_finishes_the_retry_gets_the_report(post, citizen, while_in_flight):
    while_in_flight(lambda: post(citizen))
    first = _reference(post(citizen))

    assert _reference(post(citizen)) == first


def test_a_key_abandoned_longer_than_the_timeout_is_taken_over(post, citizen, while_in_flight):
    # The first request hangs past IN_FLIGHT_TIMEOUT (its worker died, say); a retry then
    # files the report, and the first request, when it wakes up, files nothing.
    later = timezone.now() + idempotency.IN_FLIGHT_TIMEOUT + timedelta(seconds=1)

    def retry_much_later():
        with time_machine.travel(later, tick=False):
            return post(citizen)

    retry = while_in_flight(retry_much_later)
    first = post(citizen)

    assert retry[0].status_code == 201
    _error(first, 409, "idempotency_in_flight")
    assert list(Report.objects.values_list("reference", flat=True)) == [
        retry[0].json()["reference"]
    ]
    assert IdempotencyKey.objects.get().report.reference == retry[0].json()["reference"]


# Keeping and purging keys


def test_a_retry_within_24_hours_still_returns_the_same_report(post, citizen):
    with time_machine.travel(datetime(2026, 3, 10, 9, 0, tzinfo=HUE), tick=False) as clock:
        first = _reference(post(citizen))
        clock.shift(timedelta(hours=23, minutes=59))
        purge_idempotency_keys()

        assert _reference(post(citizen)) == first


def test_the_purge_forgets_keys_older_than_24_hours(post, citizen):
    with time_machine.travel(datetime(2026, 3, 10, 9, 0, tzinfo=HUE), tick=False) as clock:
        post(citizen)
        clock.shift(timedelta(hours=24, seconds=1))

        purged = purge_idempotency_keys()

    assert purged == 1
    assert not IdempotencyKey.objects.exists()


def test_the_purge_keeps_younger_keys(post, citizen, other_citizen):
    with time_machine.travel(datetime(2026, 3, 10, 9, 0, tzinfo=HUE), tick=False) as clock:
        post(citizen)
        clock.shift(timedelta(hours=12))
        post(other_citizen)
        clock.shift(timedelta(hours=12, seconds=1))

        purge_idempotency_keys()

    assert list(IdempotencyKey.objects.values_list("user", flat=True)) == [other_citizen.pk]


def test_after_the_purge_the_same_key_files_a_new_report(post, citizen):
    with time_machine.travel(datetime(2026, 3, 10, 9, 0, tzinfo=HUE), tick=False) as clock:
        first = _reference(post(citizen))
        clock.shift(timedelta(days=2))
        purge_idempotency_keys()

        assert _reference(post(citizen)) != first


def test_the_purge_keeps_the_reports(post, citizen):
    with time_machine.travel(datetime(2026, 3, 10, 9, 0, tzinfo=HUE), tick=False) as clock:
        post(citizen)
        clock.shift(timedelta(days=2))
        purge_idempotency_keys()

    assert Report.objects.count() == 1


def test_beat_runs_the_purge_task_every_hour():
    entries = [
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "reports.purge_idempotency_keys"
    ]

    assert [entry["schedule"] for entry in entries] == [3600.0]
    assert "reports.purge_idempotency_keys" in celery_app.tasks


# Concurrency, with real transactions (PostgreSQL)


@pytest.fixture
def postgresql():
    need(connection.vendor == "postgresql", "concurrent requests need PostgreSQL")


def _in_threads(count, request, *, barrier=True):
    """Run `request()` in `count` threads started at once; their responses."""
    start = threading.Barrier(count)
    responses = [None] * count

    def run(index):
        try:
            if barrier:
                start.wait(timeout=30)
            responses[index] = request()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return responses


@pytest.mark.django_db(transaction=True)
def test_simultaneous_requests_with_one_key_file_exactly_one_report(
    postgresql, api_as, citizen, photo
):
    client = api_as(citizen)
    data = photo().read()

    def request():
        body = {
            "category": "street_lighting",
            "description": "Đèn đường trước nhà số 5 không sáng",
            "lat": PHU_XUAN_POINT[0],
            "lng": PHU_XUAN_POINT[1],
            "photos": [SimpleUploadedFile("photo.jpg", data)],
        }
        return client.post(URL, body, format="multipart", HTTP_IDEMPOTENCY_KEY=KEY)

    responses = _in_threads(6, request)

    statuses = sorted(response.status_code for response in responses)
    assert set(statuses) <= {201, 409}, statuses
    assert 201 in statuses
    assert len({r.json()["reference"] for r in responses if r.status_code == 201}) == 1
    assert Report.objects.filter(reporter=citizen).count() == 1
    assert IdempotencyKey.objects.get(user=citizen, key=KEY).report is not None


@pytest.mark.django_db(transaction=True)
def test_a_request_arriving_while_the_first_is_at_work_gets_409_on_postgresql(
    postgresql, api_as, citizen, photo, monkeypatch
):
    client = api_as(citizen)
    data = photo().read()
    first_at_work, second_answered = threading.Event(), threading.Event()
    real = services.photos_process

    def slow_photos(uploads, **options):
        first_at_work.set()
        assert second_answered.wait(timeout=30)
        return real(uploads, **options)

    monkeypatch.setattr(services, "photos_process", slow_photos)

    def request():
        body = {
            "category": "street_lighting",
            "description": "Đèn đường trước nhà số 5 không sáng",
            "lat": PHU_XUAN_POINT[0],
            "lng": PHU_XUAN_POINT[1],
            "photos": [SimpleUploadedFile("photo.jpg", data)],
        }
        return client.post(URL, body, format="multipart", HTTP_IDEMPOTENCY_KEY=KEY)

    first = []
    worker = threading.Thread(target=lambda: (first.append(request()), connections.close_all()))
    worker.start()
    assert first_at_work.wait(timeout=30)
    try:
        second = request()
    finally:
        second_answered.set()
        worker.join(timeout=60)

    _error(second, 409, "idempotency_in_flight")
    assert first[0].status_code == 201
    assert Report.objects.filter(reporter=citizen).count() == 1
