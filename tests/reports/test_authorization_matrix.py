"""The authorization matrix: every role against every report route of the API, with a
report of their own and a private report of someone else's.

Who: anonymous, an unverified user, the reporter, another citizen, staff of the handling
agency (A), staff of another agency (B), a manager, a dispatcher, an administrator.
A foreign private report answers 404 to everyone but its reporter; nothing in any answer
carries another user's phone, email or hidden name.
"""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from reports.models import Report

pytestmark = pytest.mark.django_db

ROLES = [
    "anonymous",
    "unverified",
    "reporter",
    "other_citizen",
    "staff_a",
    "staff_b",
    "manager",
    "dispatcher",
    "administrator",
]

# (method, path template, body) for every report route that names a report.
REPORT_ROUTES = [
    ("get", "/api/v1/reports/{ref}", None),
    ("post", "/api/v1/reports/{ref}/comments", {"message": "Xin cập nhật"}),
    ("post", "/api/v1/reports/{ref}/rating", {"stars": 5}),
    ("post", "/api/v1/reports/{ref}/reopen", {"reason": "Chưa sửa"}),
    ("post", "/api/v1/reports/{ref}/support", None),
    ("delete", "/api/v1/reports/{ref}/support", None),
    ("post", "/api/v1/reports/{ref}/photos", None),
]


@pytest.fixture
def people(
    request,
    citizen,
    other_citizen,
    unverified,
    staff_a,
    staff_b,
    manager,
    dispatcher,
    administrator,
):
    return {
        "anonymous": None,
        "unverified": unverified,
        "reporter": citizen,
        "other_citizen": other_citizen,
        "staff_a": staff_a,
        "staff_b": staff_b,
        "manager": manager,
        "dispatcher": dispatcher,
        "administrator": administrator,
    }


def _client(user) -> APIClient:
    client = APIClient()
    if user is not None:
        token = RefreshToken.for_user(user).access_token
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def private_report(make_report, citizen) -> Report:
    return make_report(
        citizen, is_public=False, hide_name=True, description="Riêng tư: nhà số 7 đổ rác trộm"
    )


@pytest.fixture
def public_hidden_report(make_report, citizen) -> Report:
    return make_report(citizen, hide_name=True, description="Công khai, ẩn tên")


def _call(client, method, path, body):
    return getattr(client, method)(path, body or {}, format="json")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "body"), REPORT_ROUTES)
def test_a_private_report_is_404_to_everyone_but_its_reporter(
    role, method, path, body, people, private_report
):
    response = _call(_client(people[role]), method, path.format(ref=private_report.reference), body)

    if role == "reporter":
        assert response.status_code != 404
    elif role == "anonymous":
        assert response.status_code in (401, 404)
    else:
        assert response.status_code == 404, response.content


@pytest.mark.parametrize("role", ROLES)
def test_the_feed_never_lists_someone_elses_private_report(role, people, private_report):
    body = _client(people[role]).get("/api/v1/reports").json()

    assert private_report.reference not in {r["reference"] for r in body["results"]}


@pytest.mark.parametrize("role", [r for r in ROLES if r != "reporter"])
def test_no_answer_carries_the_reporters_phone_email_or_hidden_name(
    role, people, public_hidden_report, citizen
):
    client = _client(people[role])
    ref = public_hidden_report.reference
    answers = [
        client.get("/api/v1/reports"),
        client.get(f"/api/v1/reports/{ref}"),
        client.get("/api/v1/reports", {"q": "ẩn tên"}),
        client.get(
            "/api/v1/reports/nearby",
            {
                "lat": public_hidden_report.lat,
                "lng": public_hidden_report.lng,
                "category": "street_lighting",
            },
        ),
    ]
    if people[role] is not None:
        answers.append(client.get("/api/v1/me"))

    for answer in answers:
        text = json.dumps(answer.json(), ensure_ascii=False)
        assert citizen.phone not in text
        assert citizen.phone[3:] not in text
        assert citizen.email not in text
        assert citizen.full_name not in text


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "closed"),
        ("agency", "police"),
        ("reporter", "1"),
        ("due_at", "2030-01-01T00:00:00Z"),
        ("supporters_count", 999),
        ("reference", "HUE-2026-999999"),
    ],
)
def test_nobody_sets_protected_report_fields_through_the_api(
    role, field, value, people, make_report, citizen, photo
):
    report = make_report(citizen)
    before = Report.objects.values().get(pk=report.pk)
    client = _client(people[role])

    client.post(
        f"/api/v1/reports/{report.reference}/comments",
        {"message": "x", field: value},
        format="json",
    )
    client.patch(f"/api/v1/reports/{report.reference}", {field: value}, format="json")
    client.put(f"/api/v1/reports/{report.reference}", {field: value}, format="json")

    after = Report.objects.values().get(pk=report.pk)
    for name in ("status", "agency_id", "reporter_id", "due_at", "supporters_count", "reference"):
        assert after[name] == before[name], name


@pytest.mark.parametrize("role", [role for role in ROLES if role != "anonymous"])
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("role", "administrator"),
        ("is_staff", True),
        ("agency", "hepco"),
        ("groups", [1]),
        ("phone", "+84905999999"),
        ("is_superuser", True),
    ],
)
def test_nobody_raises_their_own_rights_through_me(role, field, value, people):
    user = people[role]
    before = (
        user.role,
        user.is_staff,
        user.agency_id,
        user.phone,
        user.is_superuser,
        set(user.groups.values_list("name", flat=True)),
    )

    _client(user).patch("/api/v1/me", {field: value}, format="json")

    user.refresh_from_db()
    after = (
        user.role,
        user.is_staff,
        user.agency_id,
        user.phone,
        user.is_superuser,
        set(user.groups.values_list("name", flat=True)),
    )
    assert after == before


@pytest.mark.parametrize(
    "role", [role for role in ROLES if role not in ("anonymous", "unverified")]
)
def test_filing_a_report_cannot_choose_its_status_agency_or_reporter(
    role, people, file_report, other_citizen
):
    user = people[role]

    response = file_report(
        user,
        status="closed",
        agency="police",
        reporter=str(other_citizen.pk),
        reference="HUE-2026-999999",
    )

    assert response.status_code == 201, response.content
    report = Report.objects.get(reference=response.json()["reference"])
    assert report.reporter == user
    assert report.reference != "HUE-2026-999999"
    assert report.agency is None or report.agency.code == "hepco"
    assert report.status in ("routed", "submitted")
