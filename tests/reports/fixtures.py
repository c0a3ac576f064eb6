"""Fixtures of reports filed through the service, in a chosen state: for the reports tests and
the apps built on reports (notifications, insights). A plugin of tests/conftest.py."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest

from accounts.models import User
from reports import editing, lifecycle, moderation, privacy, services
from reports.models import Report
from reports.services import Upload
from tests.conftest import PHU_XUAN, PHU_XUAN_POINT
from tests.images import image_bytes
from tests.reports.helpers import resolve_with_photo


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


@pytest.fixture
def report_states(
    make_report: Callable[..., Report],
    citizen: User,
    other_citizen: User,
    staff_a: User,
    dispatcher: User,
) -> list[Report]:
    """One report in each state the API shows differently: public with three photos (one
    hidden by a moderator) and the name hidden, photos not processed yet, private, in triage
    without agency, resolved with a hidden comment and a result photo, an original and its
    merged duplicate, hidden by a moderator."""
    public = make_report(citizen, photos=3, hide_name=True)
    photos = list(public.photos.all())
    moderation.photo_set_hidden(
        photo=photos[1], actor=dispatcher, hidden=True, reason="personal_data"
    )
    waiting = make_report(citizen, photos=2, redact=False)  # photos not processed yet
    private = make_report(citizen, is_public=False)
    triage = make_report(citizen, category="other", description="Chuyện khác")
    resolved = make_report(other_citizen)
    lifecycle.report_accept(report=resolved, actor=staff_a)
    comment = lifecycle.report_comment(report=resolved, actor=other_citizen, message="Cảm ơn")
    moderation.comment_hide(event=comment, actor=dispatcher, reason="offensive")
    resolve_with_photo(report=resolved, actor=staff_a, note="Đã sửa xong")
    original = make_report(other_citizen)
    duplicate = make_report(citizen)
    editing.report_merge(duplicate=duplicate, original=original, actor=dispatcher)
    hidden = make_report(other_citizen)
    moderation.report_hide(report=hidden, actor=dispatcher, reason="offensive")
    found = [public, waiting, private, triage, resolved, original, duplicate, hidden]
    for report in found:
        report.refresh_from_db()
    assert triage.agency_id is None
    assert duplicate.duplicate_of_id == original.pk
    return found


@pytest.fixture(params=["anonymous", "reporter", "other"])
def viewer(request: pytest.FixtureRequest) -> str:
    """Who reads, in the tests of the hand-written reads: nobody signed in, the citizen who
    filed most of report_states, another citizen."""
    return str(request.param)


@pytest.fixture
def viewer_user(viewer: str, citizen: User, other_citizen: User) -> User | None:
    return {"anonymous": None, "reporter": citizen, "other": other_citizen}[viewer]
