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

# Reports in a chosen state (make_report, routed_report, ...), for every app's tests.
pytest_plugins = ["tests.reports.fixtures"]

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
    ("accounts.migrations.0009_text_message_permissions", "grant"),
    ("reports.migrations.0004_holidays_2026", "load_holidays"),
    ("open311.migrations.0002_role_permissions", "grant"),
    ("alerts.migrations.0002_role_permissions", "grant"),
    ("reports.migrations.0015_channels_and_editor_roles", "seed_channels"),
    ("reports.migrations.0015_channels_and_editor_roles", "grant"),
    ("reports.migrations.0016_reply_templates", "grant"),
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


def _seed_reference_data() -> None:
    """The role groups and the city's reference data (Huế's 40 areas, agencies, categories,
    rules), made when missing."""
    from hues.city import current_city
    from reports.cities import city_load

    _ensure_roles()
    if Area.objects.exists() and Agency.objects.filter(code="hepco").exists():
        return
    path = Path(settings.AREAS_GEOJSON)
    need(path.is_file(), f"the area boundaries are not at {path}")
    city_load(current_city(), boundaries=path)


def _delete_reference_data() -> None:
    """Back to a freshly migrated database: no areas, agencies, categories, rules or reply
    templates."""
    from reports.models import Category, ReplyTemplate, RoutingRule

    for model in (ReplyTemplate, RoutingRule, Category, Agency, Area):
        model.objects.all().delete()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> None:
    """The reference data is committed to the test database once, since seeding it inside
    each test's rolled-back transaction took a tenth of a second per test. A test that does
    not ask for `reference_data` still starts from a freshly migrated database: see
    `_reference_data_only_when_asked`."""
    if Path(settings.AREAS_GEOJSON).is_file():  # else `reference_data` skips (fails in CI)
        with django_db_blocker.unblock():
            _seed_reference_data()


_RESEED = pytest.StashKey[Any]()


@pytest.fixture(autouse=True)
def _reference_data_only_when_asked(request: pytest.FixtureRequest) -> None:
    """A test that did not ask for `reference_data` gets it deleted: inside its transaction,
    or for good in a transactional test. A transactional test's flush empties every table;
    `pytest_runtest_teardown` seeds them again once it has run."""
    from django.db import connection

    uses_database = (
        request.node.get_closest_marker("django_db") is not None
        or "_django_db_helper" in request.fixturenames
    )
    if not uses_database:
        return
    request.getfixturevalue("_django_db_helper")
    if not connection.in_atomic_block:  # a TransactionTestCase: flushed after the test
        request.node.stash[_RESEED] = request.getfixturevalue("django_db_blocker")
    if "reference_data" not in request.fixturenames:
        _delete_reference_data()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """After a transactional test's flush (its fixtures' teardown), the reference data is
    committed again for the tests after it. Not after the last test: its teardown also ends
    the session's fixtures, so the test database is gone and the settings name the
    configured one again (seeding would write into it, or fail where it has no tables)."""
    yield
    blocker = item.stash.get(_RESEED, None)
    if nextitem is not None and blocker is not None and Path(settings.AREAS_GEOJSON).is_file():
        with blocker.unblock():
            _seed_reference_data()


@pytest.fixture
def reference_data(db: None) -> None:
    """The role groups and the demo reference data (40 areas, agencies, categories, rules):
    committed once per test database (`django_db_setup`), loaded again here if the test
    deleted it; the routing and holiday snapshots are told to reload, since a previous test
    may have changed these rows and rolled back."""
    from reports.selectors import routing_data_changed

    _seed_reference_data()
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
def sms_limits(settings: Any) -> Callable[..., None]:
    """Set some SMS limits (accounts.sms_limits), every count starting afresh:
    sms_limits(number={"hour": 3}, daily_budget=5)."""
    from django.core.cache import cache

    unlimited = {"hour": 100_000, "day": 100_000}

    def set_limits(
        *,
        number: dict[str, int] | None = None,
        prefix: dict[str, int] | None = None,
        client: dict[str, int] | None = None,
        hourly_budget: int = 1_000_000,
        daily_budget: int = 1_000_000,
    ) -> None:
        settings.SMS_LIMIT_PER_NUMBER = number or unlimited
        settings.SMS_LIMIT_PER_PREFIX = prefix or unlimited
        settings.SMS_LIMIT_PER_CLIENT = client or unlimited
        settings.SMS_HOURLY_BUDGET = hourly_budget
        settings.SMS_DAILY_BUDGET = daily_budget
        cache.clear()

    return set_limits


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


# The longest tests go first, so that under pytest-xdist (`-n 2`, pyproject.toml) they run
# beside the rest instead of keeping one worker busy alone at the end. Whole files move, in
# this order; the others keep theirs.
LONGEST_FIRST = [
    "tests/e2e/test_fault_injection.py",
    "tests/e2e/test_schemathesis_live.py",
    "tests/e2e/test_schemathesis.py",
    "tests/e2e/test_sqlite_concurrency.py",
]
# Files whose module-scoped fixture starts servers (gunicorn on a migrated and seeded
# database): one xdist worker runs the whole file, so the servers start once.
ONE_WORKER_PER_FILE = {
    "tests/e2e/test_schemathesis_live.py",
    "tests/e2e/test_sqlite_concurrency.py",
}


def _rename(item: pytest.Item, nodeid: str) -> None:
    """Give an item another node id (pytest 9 keeps it in `_id`, pytest 8 in `_nodeid`)."""
    if hasattr(item, "_id"):
        from _pytest.nodeid import coerce_node_id

        item._id = coerce_node_id(nodeid)
    else:
        item._nodeid = nodeid


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {path: index for index, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))
    for item in items:
        # Schemathesis names its items after the test alone, one per API operation: xdist
        # schedules by node id and would run one item of each such set.
        label = getattr(item, "operation_label", None)
        if label and not item.nodeid.endswith("]"):
            _rename(item, f"{item.nodeid}[{label}]")
        path = item.nodeid.split("::")[0]
        if path in ONE_WORKER_PER_FILE:
            item.add_marker(pytest.mark.xdist_group(path))
        # A real Celery worker consumes the one broker database (and purges it first): the
        # tests that start one run in the same xdist worker, one after the other.
        elif "broker_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("celery-broker"))
        # xdist's loadgroup schedules by an "@group" suffix on the node id, which xdist 3.8
        # writes where pytest 9.2 no longer reads it (`_nodeid`): without this the groups
        # are ignored and two real workers purge and consume each other's broker.
        groups = sorted({str(mark.args[0]) for mark in item.iter_markers("xdist_group")})
        suffix = f"@{'_'.join(groups)}"
        if groups and config.getoption("loadgroup", False) and not item.nodeid.endswith(suffix):
            _rename(item, f"{item.nodeid}{suffix}")
