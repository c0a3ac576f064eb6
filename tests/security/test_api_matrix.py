"""The authorization matrix over every API route: nine roles, each against every operation of
the OpenAPI schema, pointed at objects of another user (the "victim"): their private report,
their notification, their push device, their refresh token, their phone number.

For every role and route: no server error; a route for signed-in users answers 401 to the
anonymous; the victim's objects are 404 (or refused) and unchanged; and no answer carries the
victim's phone (either form), email, name, private description or the agency's internal
note. A guard test fails when a route is added to the API without being added here.
(tests/reports/test_authorization_matrix.py covers the report routes in depth.)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import Device, User
from notifications.models import Notification
from reports import lifecycle
from reports.models import Report
from tests.factories import UserFactory

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
NOTE = "Ghi chú nội bộ: chủ nhà là người quen của tổ trưởng"
PRIVATE_DESCRIPTION = "Riêng tư: hàng xóm số 12 xả nước thải"
VICTIM_TOKEN = "victim-push-token-0123456789"


@dataclass
class Victim:
    user: User
    report: Report
    notification: Notification
    device: Device
    refresh: str

    def secrets(self) -> list[str]:
        phone = self.user.phone
        return [
            phone,
            "0" + phone[3:],
            self.user.email,
            self.user.full_name,
            PRIVATE_DESCRIPTION,
            NOTE,
            VICTIM_TOKEN,
            self.refresh,
        ]


@pytest.fixture
def victim(make_report, staff_a) -> Victim:
    user = UserFactory(full_name="Hoàng Thị Nạn", email="nan.hoang@example.vn")
    report = make_report(user, is_public=False, hide_name=True, description=PRIVATE_DESCRIPTION)
    lifecycle.report_add_note(report=report, actor=staff_a, message=NOTE)
    notification = Notification.objects.create(
        user=user, kind="routed", title="Phản ánh đã chuyển", body=NOTE, report=report
    )
    device = Device.objects.create(user=user, token=VICTIM_TOKEN, platform="android")
    return Victim(user, report, notification, device, str(RefreshToken.for_user(user)))


@pytest.fixture
def people(
    unverified, citizen, other_citizen, staff_a, staff_b, manager, dispatcher, administrator
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


@dataclass(frozen=True)
class Route:
    """One operation: who may call it, and a request naming the victim's objects."""

    signed_in: bool  # 401 for the anonymous
    body: Callable[[Victim], dict[str, Any]] = lambda victim: {}
    multipart: bool = False
    # The victim's object it names answers 404 to everyone (the victim is not in the cast).
    foreign_404: bool = False


def _victim_phone(victim: Victim) -> dict[str, Any]:
    return {"phone": victim.user.phone}


ROUTES: dict[tuple[str, str], Route] = {
    ("get", "/api/v1/health"): Route(signed_in=False),
    ("get", "/api/v1/categories"): Route(signed_in=False),
    ("get", "/api/v1/areas"): Route(signed_in=False),
    ("get", "/api/v1/stats"): Route(signed_in=False),
    ("get", "/api/v1/alerts"): Route(signed_in=False),
    ("get", "/api/v1/alerts/{id}"): Route(signed_in=False),
    ("post", "/api/v1/auth/register"): Route(
        signed_in=False,
        body=lambda v: {"phone": v.user.phone, "password": "một-mật-khẩu-dài", "full_name": "X"},
    ),
    ("post", "/api/v1/auth/verify"): Route(
        signed_in=False, body=lambda v: {"phone": v.user.phone, "code": "000000"}
    ),
    ("post", "/api/v1/auth/token"): Route(
        signed_in=False, body=lambda v: {"phone": v.user.phone, "password": "đoán-mò-mật-khẩu"}
    ),
    ("post", "/api/v1/auth/token/refresh"): Route(signed_in=False, body=lambda v: {}),
    ("post", "/api/v1/auth/logout"): Route(signed_in=True, body=lambda v: {"refresh": v.refresh}),
    ("post", "/api/v1/auth/logout/all"): Route(signed_in=True),
    ("post", "/api/v1/auth/verify/resend"): Route(signed_in=False, body=_victim_phone),
    ("post", "/api/v1/auth/password/reset"): Route(signed_in=False, body=_victim_phone),
    ("post", "/api/v1/auth/password/reset/confirm"): Route(
        signed_in=False,
        body=lambda v: {"phone": v.user.phone, "code": "000000", "new_password": "mật-khẩu-mới-9"},
    ),
    ("get", "/api/v1/me"): Route(signed_in=True),
    ("patch", "/api/v1/me"): Route(signed_in=True, body=lambda v: {"full_name": "Tên Mới"}),
    ("delete", "/api/v1/me"): Route(signed_in=True),
    ("post", "/api/v1/me/devices"): Route(
        signed_in=True, body=lambda v: {"token": "a-new-token-of-mine", "platform": "ios"}
    ),
    ("delete", "/api/v1/me/devices/{token}"): Route(signed_in=True, foreign_404=True),
    ("get", "/api/v1/notifications"): Route(signed_in=True),
    ("post", "/api/v1/notifications/{id}/read"): Route(signed_in=True, foreign_404=True),
    ("post", "/api/v1/notifications/read-all"): Route(signed_in=True),
    ("get", "/api/v1/reports"): Route(signed_in=False),
    ("post", "/api/v1/reports"): Route(signed_in=True, multipart=True),
    ("get", "/api/v1/reports/nearby"): Route(signed_in=True),
    ("get", "/api/v1/reports/{reference}"): Route(signed_in=False, foreign_404=True),
    ("post", "/api/v1/reports/{reference}/comments"): Route(
        signed_in=True, body=lambda v: {"message": "Xin cập nhật"}, foreign_404=True
    ),
    ("post", "/api/v1/reports/{reference}/photos"): Route(
        signed_in=True, multipart=True, foreign_404=True
    ),
    ("post", "/api/v1/reports/{reference}/rating"): Route(
        signed_in=True, body=lambda v: {"stars": 5}, foreign_404=True
    ),
    ("post", "/api/v1/reports/{reference}/reopen"): Route(
        signed_in=True, body=lambda v: {"reason": "Chưa sửa"}, foreign_404=True
    ),
    ("post", "/api/v1/reports/{reference}/support"): Route(signed_in=True, foreign_404=True),
    ("post", "/api/v1/reports/{reference}/flags"): Route(signed_in=True, foreign_404=True),
    ("delete", "/api/v1/reports/{reference}/support"): Route(signed_in=True, foreign_404=True),
}


def _client(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        token = RefreshToken.for_user(user).access_token
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def _path(template: str, victim: Victim) -> str:
    return template.format(
        reference=victim.report.reference,
        id=victim.notification.pk,
        token=VICTIM_TOKEN,
    )


def _query(path: str, victim: Victim) -> dict[str, Any]:
    if path == "/api/v1/reports/nearby":
        return {"lat": victim.report.lat, "lng": victim.report.lng, "category": "street_lighting"}
    if path == "/api/v1/reports":
        return {"q": "hàng xóm"}
    return {}


def call(client: APIClient, method: str, template: str, victim: Victim, photo: Any) -> Any:
    route = ROUTES[(method, template)]
    path = _path(template, victim)
    if method == "get":
        return client.get(path, _query(template, victim))
    body = route.body(victim)
    if route.multipart:
        body = {
            "category": "street_lighting",
            "description": "Đèn đường hỏng",
            "lat": victim.report.lat,
            "lng": victim.report.lng,
            **body,
            "photos": [photo()],
        }
        return getattr(client, method)(path, body, format="multipart")
    return getattr(client, method)(path, body, format="json")


def test_every_route_of_the_api_is_in_the_matrix():
    schema = Client().get("/api/schema/?format=json").json()
    operations = {
        (method, path)
        for path, item in schema["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }

    assert operations - set(ROUTES) == set(), "add the new routes to ROUTES"
    assert set(ROUTES) - operations == set(), "ROUTES names routes the API no longer has"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "template"), sorted(ROUTES))
def test_no_role_reaches_or_reads_another_users_objects(
    role, method, template, people, victim, photo, django_capture_on_commit_callbacks
):
    route = ROUTES[(method, template)]
    unread_before = Notification.objects.filter(pk=victim.notification.pk, read_at=None).exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = call(_client(people[role]), method, template, victim, photo)

    assert response.status_code < 500, response.content
    if role == "anonymous" and route.signed_in:
        assert response.status_code == 401, response.content
    elif route.foreign_404:
        assert response.status_code == 404, response.content
    text = response.content.decode() + json.dumps(dict(response.headers))
    for secret in victim.secrets():
        assert secret not in text, (secret, text[:500])
    # The victim's objects are as they were.
    assert Device.objects.filter(pk=victim.device.pk, user=victim.user).exists()
    assert (
        Notification.objects.filter(pk=victim.notification.pk, read_at=None).exists()
        == unread_before
    )
    assert not BlacklistedToken.objects.filter(token__token=victim.refresh).exists()
    victim.user.refresh_from_db()
    assert victim.user.is_active
    assert victim.user.token_generation == 0  # their sessions go on
    assert victim.user.full_name == "Hoàng Thị Nạn"
    assert victim.user.check_password("correct-horse-42")
    report = Report.objects.get(pk=victim.report.pk)
    assert (report.status, report.supporters_count, report.photos.count()) == (
        victim.report.status,
        victim.report.supporters_count,
        1,
    )


@pytest.mark.parametrize("role", [role for role in ROLES if role != "anonymous"])
def test_the_inbox_holds_only_the_callers_own_notifications(role, people, victim):
    user = people[role]
    mine = Notification.objects.create(user=user, kind="routed", title="Của tôi")

    body = _client(user).get("/api/v1/notifications").json()

    assert [item["id"] for item in body["results"]] == [mine.pk]


@pytest.mark.parametrize("role", [role for role in ROLES if role != "anonymous"])
def test_each_role_reads_and_forgets_only_its_own(role, people, victim):
    user = people[role]
    client = _client(user)
    mine = Notification.objects.create(user=user, kind="routed", title="Của tôi")
    Device.objects.create(user=user, token=f"own-token-{role}", platform="ios")

    assert client.post(f"/api/v1/notifications/{mine.pk}/read").status_code == 200
    assert client.delete(f"/api/v1/me/devices/own-token-{role}").status_code == 204
    assert client.post("/api/v1/notifications/read-all").json() == {"updated": 0}
    assert Notification.objects.filter(pk=victim.notification.pk, read_at=None).exists()


@pytest.mark.parametrize("role", ROLES)
def test_an_internal_note_reaches_no_one_through_the_api_or_open311(
    role, people, make_report, citizen, staff_a, django_capture_on_commit_callbacks
):
    report = make_report(citizen)  # public; its reporter is the "reporter" role
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.report_add_note(report=report, actor=staff_a, message=NOTE)
    user = people[role]
    client = _client(user)
    answers = [
        client.get("/api/v1/reports"),
        client.get(f"/api/v1/reports/{report.reference}"),
        client.get("/api/v1/reports", {"q": "ghi chú nội bộ"}),
        Client().get("/open311/v2/requests.json"),
        Client().get(f"/open311/v2/requests/{report.reference}.json"),
    ]
    if user is not None:
        answers.append(client.get("/api/v1/reports", {"mine": "true"}))
    if user is not None and not user.is_staff:
        answers.append(client.get("/api/v1/notifications"))

    for answer in answers:
        assert answer.status_code == 200, answer.content
        assert NOTE not in answer.content.decode()


# Photos (issue 15): the public rendition (faces and plates obscured) is all anyone but the
# reporter gets through the API; the unobscured copy reaches the reporter by an expiring
# URL; a photo not processed yet reaches nobody else at all.


def _photo_urls(answer: dict[str, Any]) -> list[str]:
    return [
        url
        for photo in answer["photos"]
        for url in (photo["url"], photo["thumbnail_url"], photo["original_url"])
        if url
    ]


@pytest.mark.parametrize("role", ROLES)
def test_only_the_reporter_gets_a_url_of_the_unobscured_photo(role, people, make_report, citizen):
    processed = make_report(citizen, description="Đèn hỏng, ảnh đã xử lý")
    waiting = make_report(citizen, description="Đèn hỏng, ảnh chưa xử lý", redact=False)
    client = _client(people[role])
    reporter = role == "reporter"

    done = client.get(f"/api/v1/reports/{processed.reference}").json()
    pending = client.get(f"/api/v1/reports/{waiting.reference}").json()

    assert len(done["photos"]) == 1
    assert (done["photos"][0]["original_url"] is not None) == reporter
    assert len(pending["photos"]) == (1 if reporter else 0)
    evidence = {
        name
        for report in (processed, waiting)
        for photo in report.photos.all()
        for name in (photo.image.name, photo.thumbnail.name)
    }
    for url in _photo_urls(done) + _photo_urls(pending):
        names_evidence = any(name in url for name in evidence)
        assert not names_evidence or (reporter and "e=" in url), url
        assert Client().get(url.removeprefix("http://testserver")).status_code == 200, url
