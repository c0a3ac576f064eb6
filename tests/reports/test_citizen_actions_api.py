"""A citizen's actions on a report: photos, comments, rating, reopening, support, and the
likely duplicates near a point before filing.

Who may do what: anonymous callers get 401; another citizen's private report is 404 for
everyone else; the reporter-only actions (photos, comments, rating, reopen) answer 403
`not_reporter` on a public report the caller did not file, staff included.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from reports import lifecycle
from reports.lifecycle import RejectReason
from reports.models import Event, Photo, Report, ReportStatus, Supporter
from reports.selectors import NEARBY_DEFAULT_RADIUS_METRES, NEARBY_LIMIT, NEARBY_RADIUS_METRES
from tests.conftest import PHU_XUAN_POINT, need
from tests.factories import UserFactory
from tests.reports.helpers import resolve_with_photo

S = ReportStatus
# Metres per degree of latitude on the sphere reports.geo measures on.
METRES_PER_DEGREE = 111_195.08


def url(report, action):
    return f"/api/v1/reports/{report.reference}/{action}"


def post(client, report, action, body=None):
    fmt = "multipart" if action == "photos" else "json"
    return client.post(url(report, action), body or {}, format=fmt)


def state(report):
    """What a refused action must leave as it was."""
    report = Report.objects.get(pk=report.pk)
    return {
        "status": report.status,
        "updated_at": report.updated_at,
        "rating": report.rating,
        "resolved_at": report.resolved_at,
        "closed_at": report.closed_at,
        "supporters_count": report.supporters_count,
        "photos": Photo.objects.filter(report=report).count(),
        "events": Event.objects.filter(report=report).count(),
        "supporters": Supporter.objects.filter(report=report).count(),
    }


def north_of(point, metres):
    return (point[0] + metres / METRES_PER_DEGREE, point[1])


@pytest.fixture
def body_for(photo):
    """A valid body for each action."""

    def make(action):
        return {
            "photos": {"photos": [photo()]},
            "comments": {"message": "Đèn vẫn chưa sáng."},
            "rating": {"stars": 4, "comment": "Cảm ơn."},
            "reopen": {"reason": "Đèn lại tắt sau hai ngày."},
            "support": {},
        }[action]

    return make


@pytest.fixture
def submitted_report(make_report, citizen):
    """A report no agency has yet (routing has not run)."""
    return make_report(citizen, route=False)


@pytest.fixture
def resolved_report(in_progress_report, staff_a):
    return resolve_with_photo(report=in_progress_report, actor=staff_a, note="Đã thay bóng.")


@pytest.fixture
def private_report(make_report, citizen):
    return make_report(citizen, is_public=False)


REPORTER_ACTIONS = ["photos", "comments", "rating", "reopen"]


# Who may act


@pytest.mark.parametrize("action", [*REPORTER_ACTIONS, "support"])
def test_an_anonymous_caller_is_asked_to_sign_in_and_nothing_changes(
    api, resolved_report, body_for, action
):
    before = state(resolved_report)

    response = post(api, resolved_report, action, body_for(action))

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert state(resolved_report) == before


def test_an_anonymous_caller_cannot_withdraw_support(api, routed_report):
    response = api.delete(url(routed_report, "support"))

    assert response.status_code == 401


@pytest.mark.parametrize("action", REPORTER_ACTIONS)
def test_another_citizen_may_not_act_on_a_public_report_they_did_not_file(
    api_as, other_citizen, resolved_report, body_for, action
):
    before = state(resolved_report)

    response = post(api_as(other_citizen), resolved_report, action, body_for(action))

    assert response.status_code == 403
    assert response.json()["code"] == "not_reporter"
    assert state(resolved_report) == before


@pytest.mark.parametrize("action", REPORTER_ACTIONS)
def test_staff_of_the_agency_may_not_act_as_the_citizen(
    api_as, staff_a, resolved_report, body_for, action
):
    before = state(resolved_report)

    response = post(api_as(staff_a), resolved_report, action, body_for(action))

    assert response.status_code == 403
    assert response.json()["code"] == "not_reporter"
    assert state(resolved_report) == before


@pytest.mark.parametrize("action", [*REPORTER_ACTIONS, "support"])
def test_another_citizens_private_report_is_not_found(
    api_as, other_citizen, private_report, body_for, action
):
    before = state(private_report)

    response = post(api_as(other_citizen), private_report, action, body_for(action))

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert state(private_report) == before


@pytest.mark.parametrize("action", [*REPORTER_ACTIONS, "support"])
def test_a_private_report_is_not_found_for_staff_through_the_api(
    api_as, staff_a, private_report, body_for, action
):
    response = post(api_as(staff_a), private_report, action, body_for(action))

    assert response.status_code == 404


def test_withdrawing_support_from_another_citizens_private_report_is_not_found(
    api_as, other_citizen, private_report
):
    response = api_as(other_citizen).delete(url(private_report, "support"))

    assert response.status_code == 404


@pytest.mark.parametrize("action", [*REPORTER_ACTIONS, "support"])
def test_an_unknown_reference_is_not_found(api_as, citizen, body_for, action):
    response = api_as(citizen).post(
        f"/api/v1/reports/HUE-2026-999999/{action}",
        body_for(action),
        format="multipart" if action == "photos" else "json",
    )

    assert response.status_code == 404


def test_the_reporter_may_comment_on_their_own_private_report(api_as, citizen, private_report):
    response = post(api_as(citizen), private_report, "comments", {"message": "Thêm thông tin."})

    assert response.status_code == 201, response.json()


# Photos


def test_the_reporter_adds_photos_while_the_report_is_submitted(
    api_as, citizen, submitted_report, photo
):
    response = post(api_as(citizen), submitted_report, "photos", {"photos": [photo(), photo()]})

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["reference"] == submitted_report.reference
    assert len(body["photos"]) == 3
    assert {p["kind"] for p in body["photos"]} == {"evidence"}


def test_adding_photos_does_not_change_the_status(api_as, citizen, submitted_report, photo):
    post(api_as(citizen), submitted_report, "photos", {"photos": [photo()]})

    submitted_report.refresh_from_db()
    assert submitted_report.status == S.SUBMITTED


def test_added_photos_are_stored_as_the_reporters_evidence(
    api_as, citizen, submitted_report, photo
):
    post(api_as(citizen), submitted_report, "photos", {"photos": [photo()]})

    added = Photo.objects.filter(report=submitted_report).order_by("-id").first()
    assert added.kind == Photo.Kind.EVIDENCE
    assert added.uploaded_by == citizen


def test_photos_cannot_be_added_once_an_agency_has_the_report(
    api_as, citizen, routed_report, photo
):
    before = state(routed_report)

    response = post(api_as(citizen), routed_report, "photos", {"photos": [photo()]})

    assert response.status_code == 409
    assert response.json()["code"] == "photos_closed"
    assert state(routed_report) == before


def test_a_report_may_hold_five_photos_in_all(api_as, citizen, make_report, photo):
    report = make_report(citizen, route=False, photos=3)

    response = post(api_as(citizen), report, "photos", {"photos": [photo(), photo()]})

    assert response.status_code == 201, response.json()
    assert len(response.json()["photos"]) == 5


def test_photos_beyond_five_in_all_are_refused_and_none_is_stored(
    api_as, citizen, make_report, photo
):
    report = make_report(citizen, route=False, photos=4)
    before = state(report)

    response = post(api_as(citizen), report, "photos", {"photos": [photo(), photo()]})

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "photo_count"
    assert body["fields"]["photos"][0]["code"] == "photo_count"
    assert state(report) == before


def test_a_request_without_photos_is_refused(api_as, citizen, submitted_report):
    response = post(api_as(citizen), submitted_report, "photos", {})

    assert response.status_code == 400
    assert response.json()["code"] == "photo_count"


def test_a_damaged_photo_is_refused_and_nothing_is_stored(api_as, citizen, submitted_report, photo):
    before = state(submitted_report)
    broken = photo(name="broken.jpg")
    broken.file.truncate(500)

    response = post(api_as(citizen), submitted_report, "photos", {"photos": [broken]})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_photo"
    assert state(submitted_report) == before


def test_a_text_field_is_no_photo(api_as, citizen, submitted_report):
    response = post(api_as(citizen), submitted_report, "photos", {"photos": "not a file"})

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"photos.0"}


# Comments


def test_the_reporter_writes_to_the_agency_and_gets_the_timeline_entry(
    api_as, citizen, in_progress_report
):
    response = post(api_as(citizen), in_progress_report, "comments", {"message": " Vẫn tối. "})

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["kind"] == "commented"
    assert body["message"] == "Vẫn tối."
    assert body["created_at"]


def test_the_comment_appears_in_the_reports_timeline(api_as, citizen, in_progress_report):
    client = api_as(citizen)
    post(client, in_progress_report, "comments", {"message": "Vẫn tối."})

    timeline = client.get(f"/api/v1/reports/{in_progress_report.reference}").json()["timeline"]

    assert timeline[-1]["kind"] == "commented"
    assert timeline[-1]["message"] == "Vẫn tối."


def test_a_closed_report_takes_no_more_comments(api_as, citizen, resolved_report):
    lifecycle.report_rate(report=resolved_report, actor=citizen, stars=5)
    before = state(resolved_report)

    response = post(api_as(citizen), resolved_report, "comments", {"message": "Cảm ơn."})

    assert response.status_code == 409
    assert response.json()["code"] == "transition_not_allowed"
    assert state(resolved_report) == before


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="missing"),
        pytest.param({"message": ""}, id="empty"),
        pytest.param({"message": "   "}, id="blank"),
        pytest.param({"message": "a\x00b"}, id="nul"),
        pytest.param({"message": "x" * 2001}, id="too-long"),
        pytest.param({"message": ["Vẫn tối."]}, id="list"),
        pytest.param({"message": {"text": "Vẫn tối."}}, id="object"),
        pytest.param({"message": True}, id="boolean"),
        pytest.param({"message": None}, id="null"),
    ],
)
def test_a_bad_comment_is_refused_on_its_field_and_records_nothing(
    api_as, citizen, in_progress_report, body
):
    before = state(in_progress_report)

    response = post(api_as(citizen), in_progress_report, "comments", body)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "message" in response.json()["fields"]
    assert state(in_progress_report) == before


# Rating


def test_the_reporter_rates_a_resolved_report_which_closes_it(api_as, citizen, resolved_report):
    response = post(api_as(citizen), resolved_report, "rating", {"stars": 4, "comment": "Tốt."})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["reference"] == resolved_report.reference
    assert body["status"] == "closed"
    assert body["stars"] == 4
    assert body["comment"] == "Tốt."
    resolved_report.refresh_from_db()
    assert resolved_report.status == S.CLOSED
    assert resolved_report.rating == 4


def test_a_good_rating_does_not_ask_to_reopen(api_as, citizen, resolved_report):
    body = post(api_as(citizen), resolved_report, "rating", {"stars": 3}).json()

    assert body["ask_reopen"] is False


@pytest.mark.parametrize("stars", [1, 2])
def test_a_rating_of_two_stars_or_fewer_asks_to_reopen_until_the_window_ends(
    api_as, citizen, resolved_report, stars
):
    body = post(api_as(citizen), resolved_report, "rating", {"stars": stars}).json()

    assert body["ask_reopen"] is True
    resolved_report.refresh_from_db()
    expected = resolved_report.resolved_at + timedelta(days=7)
    assert body["reopen_until"] == expected.astimezone(timezone.get_current_timezone()).isoformat()


def test_a_low_rating_after_the_reopen_window_does_not_ask_to_reopen(
    api_as, citizen, in_progress_report, staff_a, time_machine
):
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    report = resolve_with_photo(report=in_progress_report, actor=staff_a, note="Xong.")
    time_machine.move_to(start + timedelta(days=8), tick=False)

    body = post(api_as(citizen), report, "rating", {"stars": 1}).json()

    assert body["ask_reopen"] is False
    assert body["reopen_until"] is None


def test_a_report_not_yet_resolved_cannot_be_rated(api_as, citizen, in_progress_report):
    before = state(in_progress_report)

    response = post(api_as(citizen), in_progress_report, "rating", {"stars": 5})

    assert response.status_code == 409
    assert response.json()["code"] == "transition_not_allowed"
    assert state(in_progress_report) == before


def test_a_report_is_rated_once(api_as, citizen, resolved_report):
    client = api_as(citizen)
    post(client, resolved_report, "rating", {"stars": 5})

    response = post(client, resolved_report, "rating", {"stars": 1})

    assert response.status_code == 409
    resolved_report.refresh_from_db()
    assert resolved_report.rating == 5


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="missing"),
        pytest.param({"stars": 0}, id="zero"),
        pytest.param({"stars": 6}, id="six"),
        pytest.param({"stars": -1}, id="negative"),
        pytest.param({"stars": 10**30}, id="huge"),
        pytest.param({"stars": 4.5}, id="fraction"),
        pytest.param({"stars": "five"}, id="word"),
        pytest.param({"stars": True}, id="boolean"),
        pytest.param({"stars": None}, id="null"),
        pytest.param({"stars": [4]}, id="list"),
        pytest.param({"stars": 4, "comment": "a\x00b"}, id="nul-comment"),
        pytest.param({"stars": 4, "comment": "x" * 2001}, id="long-comment"),
        pytest.param({"stars": 4, "comment": {"text": "Tốt"}}, id="object-comment"),
    ],
)
def test_a_bad_rating_is_refused_and_the_report_stays_resolved(
    api_as, citizen, resolved_report, body
):
    before = state(resolved_report)

    response = post(api_as(citizen), resolved_report, "rating", body)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert set(response.json()["fields"]) <= {"stars", "comment"}
    assert state(resolved_report) == before


# Reopening


@pytest.fixture
def resolved_at(in_progress_report, staff_a, time_machine):
    """A report resolved at a known instant; the clock stays stopped there."""
    instant = timezone.now().replace(microsecond=0)
    time_machine.move_to(instant, tick=False)
    report = resolve_with_photo(report=in_progress_report, actor=staff_a, note="Đã sửa.")
    return report, instant


def test_the_reporter_reopens_a_resolved_report(api_as, citizen, resolved_report):
    response = post(api_as(citizen), resolved_report, "reopen", {"reason": "Đèn lại tắt."})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "in_progress"
    assert body["timeline"][-1]["kind"] == "reopened"
    assert body["timeline"][-1]["message"] == "Đèn lại tắt."


def test_a_report_may_be_reopened_after_a_low_rating(api_as, citizen, resolved_report):
    client = api_as(citizen)
    post(client, resolved_report, "rating", {"stars": 1})

    response = post(client, resolved_report, "reopen", {"reason": "Chưa sửa xong."})

    assert response.status_code == 200, response.json()
    resolved_report.refresh_from_db()
    assert resolved_report.status == S.IN_PROGRESS
    assert resolved_report.rating is None


def test_a_report_may_be_reopened_exactly_seven_days_after_its_resolution(
    api_as, citizen, resolved_at, time_machine
):
    report, instant = resolved_at
    time_machine.move_to(instant + timedelta(days=7), tick=False)

    response = post(api_as(citizen), report, "reopen", {"reason": "Đèn lại tắt."})

    assert response.status_code == 200, response.json()


def test_a_report_cannot_be_reopened_a_second_after_the_seven_days(
    api_as, citizen, resolved_at, time_machine
):
    report, instant = resolved_at
    time_machine.move_to(instant + timedelta(days=7, seconds=1), tick=False)
    before = state(report)

    response = post(api_as(citizen), report, "reopen", {"reason": "Đèn lại tắt."})

    assert response.status_code == 409
    assert response.json()["code"] == "reopen_window_passed"
    assert state(report) == before


def test_an_open_report_cannot_be_reopened(api_as, citizen, in_progress_report):
    before = state(in_progress_report)

    response = post(api_as(citizen), in_progress_report, "reopen", {"reason": "?"})

    assert response.status_code == 409
    assert response.json()["code"] == "transition_not_allowed"
    assert state(in_progress_report) == before


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="missing"),
        pytest.param({"reason": ""}, id="empty"),
        pytest.param({"reason": " \n "}, id="blank"),
        pytest.param({"reason": "\x00"}, id="nul"),
        pytest.param({"reason": "x" * 2001}, id="too-long"),
        pytest.param({"reason": ["Đèn tắt"]}, id="list"),
        pytest.param({"reason": False}, id="boolean"),
    ],
)
def test_a_bad_reopen_reason_is_refused_and_the_report_stays_resolved(
    api_as, citizen, resolved_report, body
):
    before = state(resolved_report)

    response = post(api_as(citizen), resolved_report, "reopen", body)

    assert response.status_code == 400
    assert "reason" in response.json()["fields"]
    assert state(resolved_report) == before


# Support ("me too")


def support(client, report):
    return client.post(url(report, "support"))


def withdraw(client, report):
    return client.delete(url(report, "support"))


def supporters(report):
    return Report.objects.values_list("supporters_count", flat=True).get(pk=report.pk)


def test_another_citizen_supports_a_report(api_as, other_citizen, routed_report):
    response = support(api_as(other_citizen), routed_report)

    assert response.status_code == 201, response.json()
    assert response.json() == {
        "reference": routed_report.reference,
        "supported": True,
        "supporters": 1,
    }
    assert supporters(routed_report) == 1


def test_the_report_shows_its_supporters(api, api_as, other_citizen, routed_report):
    support(api_as(other_citizen), routed_report)

    body = api.get(f"/api/v1/reports/{routed_report.reference}").json()

    assert body["supporters"] == 1


def test_supporting_twice_is_refused_and_counted_once(api_as, other_citizen, routed_report):
    client = api_as(other_citizen)
    support(client, routed_report)

    response = support(client, routed_report)

    assert response.status_code == 409
    assert response.json()["code"] == "already_supported"
    assert supporters(routed_report) == 1


def test_repeated_support_from_one_user_counts_once(api_as, other_citizen, routed_report):
    client = api_as(other_citizen)

    codes = [support(client, routed_report).status_code for _ in range(5)]

    assert codes == [201, 409, 409, 409, 409]
    assert supporters(routed_report) == 1
    assert Supporter.objects.filter(report=routed_report).count() == 1


def test_each_user_counts_once(api_as, other_citizen, routed_report):
    support(api_as(other_citizen), routed_report)
    support(api_as(UserFactory()), routed_report)

    assert supporters(routed_report) == 2


def test_staff_may_support_a_report_too(api_as, staff_b, routed_report):
    response = support(api_as(staff_b), routed_report)

    assert response.status_code == 201


def test_the_reporter_cannot_support_their_own_report(api_as, citizen, routed_report):
    response = support(api_as(citizen), routed_report)

    assert response.status_code == 403
    assert response.json()["code"] == "own_report"
    assert supporters(routed_report) == 0


def test_the_reporter_cannot_support_their_own_private_report(api_as, citizen, private_report):
    response = support(api_as(citizen), private_report)

    assert response.status_code == 403
    assert supporters(private_report) == 0


def test_an_unverified_user_cannot_support(api_as, unverified, routed_report):
    response = support(api_as(unverified), routed_report)

    assert response.status_code == 403
    assert response.json()["code"] == "phone_not_verified"
    assert supporters(routed_report) == 0


def test_a_resolved_report_takes_no_more_support(api_as, other_citizen, resolved_report):
    response = support(api_as(other_citizen), resolved_report)

    assert response.status_code == 409
    assert response.json()["code"] == "support_closed"
    assert supporters(resolved_report) == 0


def test_support_may_be_withdrawn(api_as, other_citizen, routed_report):
    client = api_as(other_citizen)
    support(client, routed_report)

    response = withdraw(client, routed_report)

    assert response.status_code == 200, response.json()
    assert response.json() == {
        "reference": routed_report.reference,
        "supported": False,
        "supporters": 0,
    }
    assert supporters(routed_report) == 0
    assert not Supporter.objects.filter(report=routed_report).exists()


def test_withdrawing_twice_is_refused_and_counted_once(api_as, other_citizen, routed_report):
    client = api_as(other_citizen)
    support(client, routed_report)
    support(api_as(UserFactory()), routed_report)
    withdraw(client, routed_report)

    response = withdraw(client, routed_report)

    assert response.status_code == 409
    assert response.json()["code"] == "not_supported"
    assert supporters(routed_report) == 1


def test_withdrawing_without_having_supported_leaves_others_support(
    api_as, other_citizen, routed_report
):
    support(api_as(UserFactory()), routed_report)

    response = withdraw(api_as(other_citizen), routed_report)

    assert response.status_code == 409
    assert supporters(routed_report) == 1


def test_support_may_be_given_again_after_withdrawing(api_as, other_citizen, routed_report):
    client = api_as(other_citizen)
    support(client, routed_report)
    withdraw(client, routed_report)

    response = support(client, routed_report)

    assert response.status_code == 201
    assert supporters(routed_report) == 1


@pytest.mark.django_db(transaction=True)
def test_simultaneous_support_requests_from_one_user_count_once(
    api_as, make_report, citizen, other_citizen
):
    need(connection.vendor == "postgresql", "the database is not PostgreSQL (DATABASE_URL)")
    report = make_report(citizen)
    clients = [api_as(other_citizen) for _ in range(8)]
    start = threading.Barrier(len(clients))

    def call(client):
        start.wait()
        try:
            return support(client, report).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        codes = sorted(pool.map(call, clients))

    assert codes == [201] + [409] * (len(clients) - 1)
    assert supporters(report) == 1


# Likely duplicates nearby


NEARBY = "/api/v1/reports/nearby"


def nearby(client, *, point=PHU_XUAN_POINT, category="street_lighting", **params):
    return client.get(NEARBY, {"lat": point[0], "lng": point[1], "category": category, **params})


def references(response):
    assert response.status_code == 200, response.json()
    return [item["reference"] for item in response.json()["results"]]


def test_nearby_finds_a_report_of_the_same_category_close_by(
    api_as, make_report, citizen, other_citizen
):
    report = make_report(citizen, point=north_of(PHU_XUAN_POINT, 60))

    response = nearby(api_as(other_citizen))

    assert references(response) == [report.reference]
    item = response.json()["results"][0]
    assert 55 <= item["distance"] <= 65
    assert item["status"] == "routed"
    assert item["category"]["code"] == "street_lighting"


def test_nearby_says_the_radius_it_searched(api_as, citizen):
    body = nearby(api_as(citizen)).json()

    assert body["radius"] == NEARBY_DEFAULT_RADIUS_METRES


def test_nearby_leaves_out_reports_beyond_the_categorys_radius(
    api_as, make_report, citizen, other_citizen
):
    make_report(citizen, point=north_of(PHU_XUAN_POINT, NEARBY_DEFAULT_RADIUS_METRES + 20))

    assert references(nearby(api_as(other_citizen))) == []


def test_nearby_includes_a_report_just_inside_the_radius(
    api_as, make_report, citizen, other_citizen
):
    report = make_report(citizen, point=north_of(PHU_XUAN_POINT, NEARBY_DEFAULT_RADIUS_METRES - 5))

    assert references(nearby(api_as(other_citizen))) == [report.reference]


def test_drainage_looks_further_than_street_lighting(api_as, make_report, citizen, other_citizen):
    radius = NEARBY_RADIUS_METRES["drainage"]
    assert radius > NEARBY_DEFAULT_RADIUS_METRES
    point = north_of(PHU_XUAN_POINT, radius - 50)
    flood = make_report(citizen, category="drainage", point=point, description="Ngập")
    make_report(citizen, category="street_lighting", point=point)
    client = api_as(other_citizen)

    assert references(nearby(client, category="drainage")) == [flood.reference]
    assert nearby(client, category="drainage").json()["radius"] == radius
    assert references(nearby(client, category="street_lighting")) == []


def test_nearby_leaves_out_other_categories(api_as, make_report, citizen, other_citizen):
    make_report(citizen, category="garbage", point=north_of(PHU_XUAN_POINT, 10))

    assert references(nearby(api_as(other_citizen))) == []


def test_nearby_lists_open_reports_first_then_resolved_ones_each_nearest_first(
    api_as, make_report, citizen, other_citizen, staff_a
):
    far_open = make_report(citizen, point=north_of(PHU_XUAN_POINT, 120))
    near_open = make_report(citizen, point=north_of(PHU_XUAN_POINT, 40))
    nearest = make_report(citizen, point=north_of(PHU_XUAN_POINT, 5))
    resolve_with_photo(
        report=lifecycle.report_accept(report=nearest, actor=staff_a), actor=staff_a, note="Xong."
    )
    farther_resolved = make_report(citizen, point=north_of(PHU_XUAN_POINT, 90))
    resolve_with_photo(
        report=lifecycle.report_accept(report=farther_resolved, actor=staff_a),
        actor=staff_a,
        note="Xong.",
    )

    assert references(nearby(api_as(other_citizen))) == [
        near_open.reference,
        far_open.reference,
        nearest.reference,
        farther_resolved.reference,
    ]


def test_nearby_leaves_out_rejected_reports(api_as, make_report, citizen, other_citizen, staff_a):
    report = make_report(citizen, point=north_of(PHU_XUAN_POINT, 20))
    lifecycle.report_reject(
        report=report, actor=staff_a, reason=RejectReason.INVALID, message="Không đúng."
    )

    assert references(nearby(api_as(other_citizen))) == []


def test_nearby_leaves_out_reports_resolved_long_ago(
    api_as, make_report, citizen, other_citizen, staff_a, time_machine
):
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    report = make_report(citizen, point=north_of(PHU_XUAN_POINT, 20))
    resolve_with_photo(
        report=lifecycle.report_accept(report=report, actor=staff_a), actor=staff_a, note="Xong."
    )
    time_machine.move_to(start + timedelta(days=31), tick=False)

    assert references(nearby(api_as(other_citizen))) == []


def test_nearby_gives_at_most_ten_reports(api_as, make_report, citizen, other_citizen):
    for metres in range(NEARBY_LIMIT + 2):
        make_report(citizen, point=north_of(PHU_XUAN_POINT, metres * 5))

    assert len(references(nearby(api_as(other_citizen)))) == NEARBY_LIMIT


def test_nearby_leaves_out_another_citizens_private_report(
    api_as, make_report, citizen, other_citizen
):
    make_report(citizen, point=north_of(PHU_XUAN_POINT, 20), is_public=False)

    assert references(nearby(api_as(other_citizen))) == []


def test_nearby_includes_the_callers_own_private_report(api_as, make_report, citizen):
    report = make_report(citizen, point=north_of(PHU_XUAN_POINT, 20), is_public=False)

    assert references(nearby(api_as(citizen))) == [report.reference]


def test_nearby_hides_a_reporters_hidden_name(api_as, make_report, citizen, other_citizen):
    make_report(citizen, point=north_of(PHU_XUAN_POINT, 20), hide_name=True)

    response = nearby(api_as(other_citizen))

    assert response.json()["results"][0]["reporter_name"] is None
    assert citizen.full_name not in response.content.decode()


def test_nearby_needs_a_signed_in_user(api, routed_report):
    response = nearby(api)

    assert response.status_code == 401


def test_nearby_reads_in_a_constant_number_of_queries(
    api_as, make_report, citizen, other_citizen, django_assert_max_num_queries
):
    for metres in (10, 30, 50, 70):
        make_report(citizen, point=north_of(PHU_XUAN_POINT, metres), photos=2)
    client = api_as(other_citizen)

    with django_assert_max_num_queries(4):
        response = nearby(client)

    assert len(references(response)) == 4


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"lat": ""}, id="lat-empty"),
        pytest.param({"lat": "abc"}, id="lat-word"),
        pytest.param({"lat": "nan"}, id="lat-nan"),
        pytest.param({"lat": "1e400"}, id="lat-infinite"),
        pytest.param({"lat": "9" * 400}, id="lat-huge"),
        pytest.param({"lat": "91"}, id="lat-off-earth"),
        pytest.param({"lng": "-181"}, id="lng-off-earth"),
        pytest.param({"lng": "1\x00"}, id="lng-nul"),
        pytest.param({"category": ""}, id="category-empty"),
        pytest.param({"category": "street\x00lighting"}, id="category-nul"),
        pytest.param({"category": "x" * 41}, id="category-too-long"),
    ],
)
def test_bad_nearby_parameters_are_refused_on_their_field(api_as, citizen, params):
    response = nearby(api_as(citizen), **params)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert set(response.json()["fields"]) == set(params)


def test_nearby_refuses_an_unknown_category(api_as, citizen):
    response = nearby(api_as(citizen), category="flying_saucers")

    assert response.status_code == 400
    assert response.json()["fields"]["category"][0]["code"] == "unknown_category"


def test_nearby_needs_every_parameter(api_as, citizen):
    response = api_as(citizen).get(NEARBY)

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"lat", "lng", "category"}


def test_nearby_is_not_taken_for_a_report_reference(api_as, citizen):
    response = api_as(citizen).get(f"{NEARBY}?lat=16.48&lng=107.57&category=garbage")

    assert response.status_code == 200
    assert set(response.json()) == {"radius", "results"}


def test_supporting_moves_updated_at_so_syncing_apps_see_the_new_count(
    api_as, other_citizen, make_report, citizen
):
    report = make_report(citizen)
    before = report.updated_at

    api_as(other_citizen).post(f"/api/v1/reports/{report.reference}/support")

    report.refresh_from_db()
    assert report.supporters_count == 1
    assert report.updated_at > before
