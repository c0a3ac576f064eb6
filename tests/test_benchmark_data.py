"""tests/perf/generate.py (tests/perf/benchdata): benchmark data that is consistent with the
rest of the system (routing, references, the lifecycle's timeline, photos, supporters,
search)."""

from __future__ import annotations

import io
import itertools
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db.models import Count, F
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from reports.lifecycle import TRANSITIONS
from reports.models import (
    OPEN_STATUSES,
    Area,
    Category,
    Event,
    Photo,
    ReferenceCounter,
    Report,
    ReportStatus,
    Supporter,
)
from reports.routing import decide
from reports.selectors import routing_snapshot
from reports.text import report_search_text
from tests.perf.generate import main

# The lifecycle's transition each kind of generated event records (a dispatcher's routing
# has the kind of the automatic one; the generator routes automatically only).
RECORDED_BY = {
    transition.event: transition
    for transition in TRANSITIONS.values()
    if transition.name not in {"dispatch", "comment", "internal_note", "escalate"}
}

COUNT = 700
USERS = 40

pytestmark = pytest.mark.django_db


def generate(count: int = COUNT, users: int = USERS, seed: int = 7) -> str:
    out = io.StringIO()
    main(["--count", str(count), "--users", str(users), "--seed", str(seed)], out=out)
    return out.getvalue()


@pytest.fixture
def generated(reference_data: None) -> str:
    return generate()


def test_counts_users_and_the_heavy_reporter(generated: str) -> None:
    assert Report.objects.count() == COUNT
    citizens = User.objects.filter(phone__startswith="+8498")
    assert citizens.count() == USERS
    assert all(user.is_verified and not user.has_usable_password() for user in citizens)
    # Every reporter is one of the new citizens; the first filed exactly 50 reports.
    assert set(Report.objects.values_list("reporter_id", flat=True)) <= set(
        citizens.values_list("id", flat=True)
    )
    heavy = re.search(r"(\+8498\d+) filed 50 of them", generated)
    assert heavy is not None
    assert Report.objects.filter(reporter__phone=heavy.group(1)).count() == 50
    assert f"{COUNT} reports, {USERS} citizens" in generated


def test_statuses_in_realistic_proportions_and_every_category(generated: str) -> None:
    statuses = Counter(Report.objects.values_list("status", flat=True))
    # Old reports are mostly closed; recent ones are still with an agency.
    assert statuses[ReportStatus.CLOSED] > COUNT * 0.6
    assert statuses[ReportStatus.REJECTED] > 0
    assert sum(statuses[s] for s in OPEN_STATUSES) > 0
    assert set(Report.objects.values_list("category__code", flat=True)) == set(
        Category.objects.values_list("code", flat=True)
    )
    assert Report.objects.values("area").distinct().count() >= 30
    public = Report.objects.filter(is_public=True).count()
    assert COUNT * 0.85 < public < COUNT


def test_points_areas_and_agencies_follow_routing(generated: str) -> None:
    snapshot = routing_snapshot()
    codes = dict(Area.objects.values_list("id", "code"))
    for report in Report.objects.select_related("category", "agency"):
        area = snapshot.index.locate(report.lng, report.lat)
        assert area == codes[report.area_id]
        if report.status in (ReportStatus.SUBMITTED, ReportStatus.NEEDS_TRIAGE):
            assert report.agency is None
            continue
        decision = decide(
            category=report.category.code,
            area=area,
            rules=snapshot.rules,
            ward_committees=snapshot.ward_committees,
            default_agency=snapshot.default_agencies.get(report.category.code),
        )
        assert report.agency is not None
        assert report.agency.code == decision.agency
        assert report.routed_at is not None
        assert report.due_at is not None


def test_references_counters_and_search_text(generated: str, make_report: Callable) -> None:
    rows = list(Report.objects.values_list("reference", "created_at", "description", "address"))
    references = [row[0] for row in rows]
    assert len(set(references)) == COUNT
    last_by_year: dict[int, int] = {}
    for reference, created, _d, _a in rows:
        prefix, year, number = reference.split("-")
        assert prefix == "HUE"
        assert int(year) == timezone.localtime(created).year
        last_by_year[int(year)] = max(last_by_year.get(int(year), 0), int(number))
    assert dict(ReferenceCounter.objects.values_list("year", "last")) == last_by_year
    for report in Report.objects.only("reference", "description", "address", "search_text"):
        assert report.search_text == report_search_text(
            reference=report.reference, description=report.description, address=report.address
        )
    # The counters and id sequences go on from the generated reports: filing one works.
    citizen = User.objects.filter(phone__startswith="+8498").first()
    assert citizen is not None
    filed = make_report(citizen)
    assert filed.pk > max(Report.objects.exclude(pk=filed.pk).values_list("id", flat=True))
    year = timezone.localtime().year
    assert filed.reference == f"HUE-{year}-{last_by_year.get(year, 0) + 1:06d}"


def test_timelines_photos_and_supporters_match_each_report(generated: str) -> None:
    now = timezone.now()
    events: dict[int, list[Event]] = {}
    for event in Event.objects.order_by("created_at", "id"):
        events.setdefault(event.report_id, []).append(event)
    photos = Counter(Photo.objects.values_list("report_id", "kind"))
    supporters = dict(
        Supporter.objects.values("report_id").annotate(n=Count("id")).values_list("report_id", "n")
    )
    for report in Report.objects.all():
        timeline = events[report.pk]
        assert timeline[0].kind == Event.Kind.CREATED
        assert timeline[0].actor_id == report.reporter_id
        assert timeline[-1].to_status == report.status
        # Each event starts from the status the previous one left, by a transition of the
        # lifecycle that may leave that status, as the lifecycle records it.
        for before, after in itertools.pairwise(timeline):
            assert after.from_status == before.to_status
            transition = RECORDED_BY[after.kind]
            assert after.from_status in transition.sources
            assert after.to_status == (transition.target or after.from_status)
            assert after.is_public == transition.public
        assert all(event.created_at <= report.updated_at <= now for event in timeline)
        assert 1 <= photos[report.pk, Photo.Kind.EVIDENCE] <= 3
        assert photos[report.pk, Photo.Kind.RESULT] == (report.resolved_at is not None)
        assert supporters.get(report.pk, 0) == report.supporters_count
    assert not Supporter.objects.filter(report__reporter_id=F("user_id")).exists()
    assert Supporter.objects.values("report_id", "user_id").distinct().count() == (
        Supporter.objects.count()
    )


def test_feed_and_detail_serve_generated_reports(generated: str) -> None:
    client = APIClient()
    feed = client.get("/api/v1/reports")
    assert feed.status_code == 200
    page = feed.json()["results"]
    assert len(page) == 20
    newest = Report.objects.filter(is_public=True).order_by("-id").first()
    assert newest is not None
    assert page[0]["reference"] == newest.reference
    detail = client.get(f"/api/v1/reports/{newest.reference}")
    assert detail.status_code == 200
    assert detail.json()["timeline"][0]["kind"] == Event.Kind.CREATED


def test_a_second_run_adds_after_the_first(generated: str) -> None:
    before = set(Report.objects.values_list("reference", flat=True))
    latest = Report.objects.order_by("-created_at").values_list("created_at", flat=True)[0]
    generate(count=50, users=5, seed=8)
    assert Report.objects.count() == COUNT + 50
    added = Report.objects.exclude(reference__in=before)
    assert added.count() == 50
    assert all(created > latest for created in added.values_list("created_at", flat=True))
    assert User.objects.filter(phone__startswith="+8498").count() == USERS + 5


def test_a_count_below_one_is_refused(reference_data: None, capsys: Any) -> None:
    with pytest.raises(SystemExit):
        main(["--count", "0"])
    assert "--count" in capsys.readouterr().err
    assert Report.objects.count() == 0


SCHEMA = """
SELECT (SELECT array_agg(indexname ORDER BY indexname) FROM pg_indexes
        WHERE tablename IN ('reports_report', 'reports_photo', 'reports_event',
                            'reports_supporter')),
       (SELECT array_agg(conname || ':' || convalidated ORDER BY conname) FROM pg_constraint
        WHERE conrelid::regclass::text IN ('reports_report', 'reports_photo', 'reports_event',
                                           'reports_supporter'))
"""


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_rest_is_shared_by_connections_and_the_schema_comes_back(
    reference_data: None,
) -> None:
    """On PostgreSQL, with the reports committed first (benchdata.load.finish_in_parallel): the
    same rows as the one-connection path, every index and key back and validated."""
    from django.db import connection

    from tests.conftest import need

    need(connection.vendor == "postgresql", "needs PostgreSQL")
    with connection.cursor() as cursor:
        cursor.execute(SCHEMA)
        before = cursor.fetchone()

    out = generate(count=300, users=30)

    with connection.cursor() as cursor:
        cursor.execute(SCHEMA)
        after = cursor.fetchone()
    assert set(after[0]) ^ set(before[0]) == set()
    assert set(after[1]) ^ set(before[1]) == set()
    assert all(name.endswith(":true") for name in before[1])
    assert f"{Photo.objects.count()} photos, {Event.objects.count()} events" in out
    assert f"{Supporter.objects.count()} supporters" in out
    for report in Report.objects.all():
        assert report.events.order_by("id").first().kind == Event.Kind.CREATED
    assert Report.objects.count() == 300
