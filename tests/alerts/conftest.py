"""Fixtures for the alerts tests: alerts composed as a dispatcher would, citizens living in
or reporting from an area, and the push outbox."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from celery.signals import task_prerun
from django.utils import timezone

from accounts.models import Device, User
from alerts import services
from alerts.models import Alert
from notifications.channels import push
from reports.models import Area
from tests.conftest import PHU_XUAN
from tests.factories import UserFactory

VY_DA = "19777"


@pytest.fixture(autouse=True)
def _push(settings: Any) -> Iterator[list[tuple[str, push.PushMessage]]]:
    settings.PUSH_BACKEND = "locmem"
    push.outbox.clear()
    push._backend.cache_clear()
    yield push.outbox
    push.outbox.clear()
    push._backend.cache_clear()


@pytest.fixture
def pushed(_push: list[tuple[str, push.PushMessage]]) -> list[tuple[str, push.PushMessage]]:
    return _push


@pytest.fixture
def phu_xuan(reference_data: None) -> Area:
    return Area.objects.get(code=PHU_XUAN)


@pytest.fixture
def vy_da(reference_data: None) -> Area:
    return Area.objects.get(code=VY_DA)


@pytest.fixture
def make_alert(dispatcher: User) -> Callable[..., Alert]:
    """A draft alert as the admin's form saves it; `areas` are Area objects."""

    def make(
        *,
        areas: list[Area] | None = None,
        whole_city: bool = False,
        starts_at: datetime | None = None,
        ends_at: datetime | None = None,
        **fields: Any,
    ) -> Alert:
        now = timezone.now()
        values: dict[str, Any] = {
            "kind": Alert.Kind.WATER_CUT,
            "severity": Alert.Severity.WARNING,
            "title_vi": "Cắt nước khu vực Phú Xuân",
            "title_en": "Water cut in Phu Xuan",
            "text_vi": "HueWACO tạm ngừng cấp nước từ 8 giờ đến 12 giờ để sửa đường ống.",
            "text_en": "HueWACO stops the water supply from 8 to 12 to repair a main.",
            **fields,
        }
        alert = Alert.objects.create(
            whole_city=whole_city,
            starts_at=starts_at or now - timedelta(minutes=1),
            ends_at=ends_at or now + timedelta(hours=6),
            created_by=dispatcher,
            **values,
        )
        alert.areas.set(areas or [])
        return alert

    return make


@pytest.fixture
def publish(
    dispatcher: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> Callable[[Alert], Alert]:
    """Publish as the dispatcher and run the tasks the commit starts (eagerly, as without
    a broker); the alert as it is afterwards."""

    def run(alert: Alert) -> Alert:
        with django_capture_on_commit_callbacks(execute=True):
            services.alert_publish(alert=alert, actor=dispatcher)
        alert.refresh_from_db()
        return alert

    return run


@pytest.fixture
def resident(phu_xuan: Area) -> Callable[..., User]:
    """A citizen whose saved home area is `area` (Phú Xuân unless told), with a phone."""

    def make(area: Area | None = None, *, device: bool = True, **fields: Any) -> User:
        user = UserFactory(home_area=area or phu_xuan, **fields)
        if device:
            Device.objects.create(user=user, token=f"token-{user.pk}", platform="android")
        return user

    return make


@pytest.fixture
def tasks_run() -> Iterator[list[tuple[str, tuple[Any, ...]]]]:
    """The (task name, args) of every Celery task that ran, in order."""
    ran: list[tuple[str, tuple[Any, ...]]] = []

    def record(sender: Any = None, args: Any = None, **kwargs: Any) -> None:
        ran.append((sender.name, tuple(args or ())))

    task_prerun.connect(record, weak=False)
    yield ran
    task_prerun.disconnect(record)
