"""Fixtures: the reference data of Hue, and a fixed cast of people.

The cast: a citizen, another citizen, an unverified user, staff of HEPCO (agency A), staff of
the Phú Xuân ward committee (agency B), HEPCO's manager, a dispatcher and an administrator.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import sms
from accounts.models import Role, User
from reports.models import Agency, Area
from tests.factories import UserFactory
from tests.images import image_bytes

IN_CI = os.environ.get("CI", "").lower() == "true"
PHU_XUAN = "19753"
# A point inside Phường Phú Xuân, and one in Phường Vỹ Dạ (../shared/data/hue_wards_2025.csv).
PHU_XUAN_POINT = (16.4821, 107.57612)
VY_DA_POINT = (16.47461, 107.60998)
SAIGON_POINT = (10.7769, 106.7009)


def need(condition: bool, reason: str) -> None:
    """Skip with a visible reason locally; fail under CI=true, where nothing may be missing."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"Missing in CI: {reason}")
    pytest.skip(reason)


# Data migrations whose rows a transactional test's flush removes: replayed in order.
DATA_MIGRATIONS = [
    ("accounts.migrations.0003_roles", "create_roles"),
    ("accounts.migrations.0005_holiday_permissions", "grant"),
    ("accounts.migrations.0006_lockout_permissions", "grant"),
    ("reports.migrations.0004_holidays_2026", "load_holidays"),
    ("open311.migrations.0002_role_permissions", "grant"),
    ("alerts.migrations.0002_role_permissions", "grant"),
]


def _ensure_roles() -> None:
    """The role groups, their permissions and the 2026 holidays come from data migrations;
    a transactional test's flush empties them, so put them back as the migrations made
    them."""
    from django.apps import apps
    from django.contrib.auth.models import Group

    from reports.selectors import holidays_changed

    if Group.objects.filter(name=Role.CITIZEN).exists():
        return
    for module, function in DATA_MIGRATIONS:
        getattr(importlib.import_module(module), function)(apps, None)
    holidays_changed()


@pytest.fixture
def reference_data(db: None) -> None:
    """The role groups and the demo reference data (40 areas, agencies, categories, rules),
    loaded once per database and again after a transactional test flushed it."""
    from reports.demo import seed_reference_data
    from reports.selectors import routing_data_changed

    _ensure_roles()
    if Area.objects.exists() and Agency.objects.filter(code="hepco").exists():
        return
    path = Path(settings.AREAS_GEOJSON)
    need(path.is_file(), f"the area boundaries are not at {path}")
    seed_reference_data(path)
    routing_data_changed()


@pytest.fixture(autouse=True)
def _sms_outbox() -> Iterator[list[sms.SmsMessage]]:
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


@pytest.fixture
def sms_outbox(_sms_outbox: list[sms.SmsMessage]) -> list[sms.SmsMessage]:
    return _sms_outbox


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def throttle_rates(settings: Any) -> Callable[..., None]:
    """Set some throttle scopes' rates (hues.throttling), with every count starting afresh."""
    from django.core.cache import cache

    def set_rates(**rates: str) -> None:
        framework = settings.REST_FRAMEWORK
        settings.REST_FRAMEWORK = {
            **framework,
            "DEFAULT_THROTTLE_RATES": {**framework["DEFAULT_THROTTLE_RATES"], **rates},
        }
        cache.clear()

    return set_rates


@pytest.fixture
def hepco(reference_data: None) -> Agency:
    return Agency.objects.get(code="hepco")


@pytest.fixture
def phu_xuan_committee(reference_data: None) -> Agency:
    return Agency.objects.get(code=f"ward-{PHU_XUAN}")


@pytest.fixture
def citizen(reference_data: None) -> User:
    return UserFactory(full_name="Nguyễn Thị Lan", email="lan@example.vn")


@pytest.fixture
def other_citizen(reference_data: None) -> User:
    return UserFactory(full_name="Trần Văn Bình", email="binh@example.vn")


@pytest.fixture
def unverified(reference_data: None) -> User:
    return UserFactory(full_name="Lê Văn Chưa", phone_verified_at=None)


@pytest.fixture
def staff_a(hepco: Agency) -> User:
    return UserFactory(full_name="Staff HEPCO", role=Role.STAFF, agency=hepco)


@pytest.fixture
def staff_b(phu_xuan_committee: Agency) -> User:
    return UserFactory(full_name="Staff Phú Xuân", role=Role.STAFF, agency=phu_xuan_committee)


@pytest.fixture
def manager(hepco: Agency) -> User:
    return UserFactory(full_name="Manager HEPCO", role=Role.MANAGER, agency=hepco)


@pytest.fixture
def dispatcher(reference_data: None) -> User:
    return UserFactory(full_name="Dispatcher", role=Role.DISPATCHER)


@pytest.fixture
def administrator(reference_data: None) -> User:
    return UserFactory(full_name="Administrator", role=Role.ADMINISTRATOR)


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def api_as() -> Callable[[User], APIClient]:
    """An API client carrying a user's bearer token, as the mobile app sends it."""

    def make(user: User) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
        return client

    return make


@pytest.fixture
def photo() -> Callable[..., SimpleUploadedFile]:
    """An uploaded photo: photo(), photo(fmt="PNG"), photo(gps=True), ..."""

    def make(fmt: str = "JPEG", name: str | None = None, **options: object) -> SimpleUploadedFile:
        data = image_bytes(fmt, **options)  # type: ignore[arg-type]
        extension = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "HEIF": "heic"}.get(fmt, "bin")
        return SimpleUploadedFile(name or f"photo.{extension}", data)

    return make


@pytest.fixture
def file_report(
    api_as: Callable[[User], APIClient],
    photo: Callable[..., SimpleUploadedFile],
    django_capture_on_commit_callbacks: Callable[..., object],
) -> Callable[..., object]:
    """File a report over the API as `user`, running the after-commit routing task."""

    def make(
        user: User,
        *,
        photos: int | list[SimpleUploadedFile] = 1,
        lat: float = PHU_XUAN_POINT[0],
        lng: float = PHU_XUAN_POINT[1],
        **fields: object,
    ) -> object:
        """`photos` is a number of generated photos, or the uploads to send."""
        body: dict[str, object] = {
            "category": "street_lighting",
            "description": "Đèn đường trước nhà số 5 không sáng",
            "lat": lat,
            "lng": lng,
            "photos": [photo() for _ in range(photos)] if isinstance(photos, int) else photos,
            **fields,
        }
        with django_capture_on_commit_callbacks(execute=True):
            return api_as(user).post("/api/v1/reports", body, format="multipart")

    return make
