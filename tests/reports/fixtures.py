"""Fixtures of reports filed through the service, in a chosen state: for the reports tests and
the apps built on reports (notifications, insights). A plugin of tests/conftest.py."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest

from accounts.models import User
from reports import lifecycle, privacy, services
from reports.models import Report
from reports.services import Upload
from tests.conftest import PHU_XUAN, PHU_XUAN_POINT
from tests.images import image_bytes


@pytest.fixture
def upload() -> Callable[..., Upload]:
    """A small photo as the services receive it (the API wraps uploaded files the same way)."""

    def make(**options: object) -> Upload:
        options.setdefault("size", (64, 48))
        data = image_bytes(**options)  # type: ignore[arg-type]
        return Upload(stream=io.BytesIO(data), size=len(data))

    return make


@pytest.fixture
def make_report(upload: Callable[..., Upload]) -> Callable[..., Report]:
    """File a report through reports.services.report_create and, unless `route=False`, route
    it as the after-commit task would (inside a test the commit never comes); unless
    `redact=False`, its photos go through the privacy step as their task would."""

    def make(
        reporter: User,
        *,
        category: str = "street_lighting",
        point: tuple[float, float] = PHU_XUAN_POINT,
        photos: int = 1,
        route: bool = True,
        redact: bool = True,
        description: str = "Đèn đường trước nhà số 5 không sáng",
        **fields: object,
    ) -> Report:
        report = services.report_create(
            reporter=reporter,
            category_code=category,
            description=description,
            lat=point[0],
            lng=point[1],
            photos=[upload() for _ in range(photos)],
            **fields,  # type: ignore[arg-type]
        )
        if redact:
            for photo_id in report.photos.values_list("pk", flat=True):
                privacy.photo_redact(photo_id=photo_id)
        if route:
            lifecycle.report_route(report_id=report.pk)
        report.refresh_from_db()
        return report

    return make


@pytest.fixture
def routed_report(make_report: Callable[..., Report], citizen: User) -> Report:
    """A citizen's street-lighting report in Phú Xuân, routed to HEPCO."""
    return make_report(citizen)


@pytest.fixture
def in_progress_report(routed_report: Report, staff_a: User) -> Report:
    return lifecycle.report_accept(report=routed_report, actor=staff_a)


@pytest.fixture
def triage_report(make_report: Callable[..., Report], citizen: User) -> Report:
    """A report in category "other", which no rule routes: it waits for the dispatcher."""
    return make_report(citizen, category="other", description="Chuyện khác")


@pytest.fixture
def file_for_caller() -> Callable[..., Report]:
    """File a report as the hotline does (reports.services.report_file_for_caller): garbage at
    the market in Phú Xuân, by phone, unless said otherwise."""
    from reports.services import report_file_for_caller

    def file(actor: User, **fields: Any) -> Report:
        values: dict[str, Any] = {
            "channel": "hotline",
            "category_code": "garbage",
            "description": "Người gọi báo rác tồn đọng",
            "area_code": PHU_XUAN,
            "lat": None,
            "lng": None,
            "address": "Chợ Đông Ba",
            "photos": [],
        }
        return report_file_for_caller(actor=actor, **(values | fields))

    return file
