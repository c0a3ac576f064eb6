"""The daily figures (insights.rollup): what a refresh counts again, and that the statistics
read from them agree with a count over the reports themselves."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.db.models import Count, Sum
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from insights import rollup, stats
from insights.models import DailyFigures, DailyFiguresState
from reports import lifecycle, services
from reports.models import Agency, Category, Report, ReportStatus
from reports.services import Upload
from tests.factories import ReportFactory

HUE = ZoneInfo("Asia/Ho_Chi_Minh")
pytestmark = pytest.mark.django_db


def at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=HUE)


def november() -> stats.StatsFilters:
    return stats.StatsFilters(period=stats.Period(date(2026, 11, 1), date(2026, 11, 30)))


def stored(day: date) -> dict[str, int]:
    """The day's daily figures, summed over its rows."""
    sums = DailyFigures.objects.filter(day=day).aggregate(
        received=Sum("received"), resolved=Sum("resolved"), ratings=Sum("ratings")
    )
    return {name: value or 0 for name, value in sums.items()}


def _comparable(rows: Iterable[DailyFigures]) -> list[tuple[Any, ...]]:
    return sorted(
        (
            row.day,
            row.category_id,
            row.agency_id,
            row.area_id,
            row.received,
            row.resolved,
            row.with_deadline,
            row.on_time,
            row.ratings,
            row.rating_sum,
            round(row.hours_sum, 6),
        )
        for row in rows
    )


def counted_afresh() -> list[tuple[Any, ...]]:
    """Every day's rows as a rebuild would count them now, in a comparable form."""
    return _comparable(rollup._counted(None))


def kept() -> list[tuple[Any, ...]]:
    return _comparable(DailyFigures.objects.all())


@pytest.fixture
def resolve(staff_a: User, upload: Callable[..., Upload]) -> Callable[[Report], Report]:
    def act(report: Report) -> Report:
        report = lifecycle.report_accept(report=report, actor=staff_a)
        return services.report_resolve_with_photos(
            report=report, actor=staff_a, note="Đã thay bóng đèn", photos=[upload()]
        )

    return act


@pytest.fixture
def filed(make_report: Callable[..., Report], citizen: User) -> Report:
    """A citizen's report filed on 5 November and routed to HEPCO, counted by a refresh."""
    with time_machine.travel(at(11, 5), tick=False):
        report = make_report(citizen)
        rollup.refresh()
    return report


def test_the_first_refresh_counts_every_day(reference_data: None) -> None:
    ReportFactory(created_at=at(10, 3))
    ReportFactory(created_at=at(11, 4))
    with time_machine.travel(at(12, 1), tick=False):
        assert not DailyFiguresState.objects.exists()
        assert rollup.refresh() == 2
    assert stored(date(2026, 10, 3))["received"] == 1
    assert stored(date(2026, 11, 4))["received"] == 1
    assert DailyFiguresState.objects.get().counted_until == at(12, 1)


def test_a_refresh_counts_again_only_the_days_changed_reports_touch(
    filed: Report, resolve: Callable[[Report], Report]
) -> None:
    with time_machine.travel(at(11, 2), tick=False):
        ReportFactory(created_at=at(11, 2))
    with time_machine.travel(at(11, 9), tick=False):
        rollup.rebuild()
    # A row of 2 November that no report's change touches stays as it is; had the refresh
    # counted everything again, it would be replaced.
    DailyFigures.objects.filter(day=date(2026, 11, 2)).update(received=99)
    with time_machine.travel(at(11, 10), tick=False):
        resolve(filed)
    with time_machine.travel(at(11, 10, 10), tick=False):
        assert sorted(rollup.days_touched(at(11, 10) - rollup.LOOK_BACK)) == [
            date(2026, 11, 5),
            date(2026, 11, 10),
        ]
        assert rollup.refresh() == 2
    assert stored(date(2026, 11, 10))["resolved"] == 1
    assert stored(date(2026, 11, 5))["received"] == 1
    assert stored(date(2026, 11, 2))["received"] == 99


def test_a_reopened_report_leaves_the_day_it_was_resolved_and_counts_on_its_new_one(
    filed: Report,
    resolve: Callable[[Report], Report],
    citizen: User,
    staff_a: User,
    upload: Callable[..., Upload],
) -> None:
    def resolve_again(report: Report) -> Report:
        return services.report_resolve_with_photos(
            report=Report.objects.get(pk=report.pk),
            actor=staff_a,
            note="Đã thay dây",
            photos=[upload()],
        )

    with time_machine.travel(at(11, 6), tick=False):
        report = resolve(filed)
        rollup.refresh()
    assert stored(date(2026, 11, 6))["resolved"] == 1
    with time_machine.travel(at(11, 8), tick=False):
        report = lifecycle.report_reopen(report=report, actor=citizen, reason="Vẫn tối")
        rollup.refresh()
    assert stored(date(2026, 11, 6))["resolved"] == 0  # in progress again
    with time_machine.travel(at(11, 12), tick=False):
        report = resolve_again(report)
        rollup.refresh()
    assert stored(date(2026, 11, 12))["resolved"] == 1
    # Reopened and resolved again between two refreshes (a beat that was down): the day it
    # was resolved before is found from the timeline's resolved events, since its
    # resolved_at has moved on.
    with time_machine.travel(at(11, 13), tick=False):
        report = lifecycle.report_reopen(report=report, actor=citizen, reason="Lại tối")
    with time_machine.travel(at(11, 14), tick=False):
        report = resolve_again(report)
        rollup.refresh()
    assert stored(date(2026, 11, 12))["resolved"] == 0
    assert stored(date(2026, 11, 14))["resolved"] == 1
    assert kept() == counted_afresh()


def test_a_rating_and_a_transfer_are_counted_on_the_next_refresh(
    filed: Report, resolve: Callable[[Report], Report], citizen: User
) -> None:
    with time_machine.travel(at(11, 6), tick=False):
        report = resolve(filed)
        rollup.refresh()
    with time_machine.travel(at(11, 7), tick=False):
        lifecycle.report_rate(report=report, actor=citizen, stars=4)
        rollup.refresh()
    assert stored(date(2026, 11, 6))["ratings"] == 1
    with time_machine.travel(at(12, 1), tick=False):
        figures = stats.figures_total(november())
    assert (figures.ratings, figures.satisfaction) == (1, 4.0)
    # Given to another agency by a model save (as the admin does): the figures follow it.
    with time_machine.travel(at(11, 20), tick=False):
        moved = Report.objects.get(pk=report.pk)
        moved.agency = Agency.objects.exclude(pk=moved.agency_id).order_by("code").first()
        moved.save()
        rollup.refresh()
    assert kept() == counted_afresh()
    agencies = {row.agency_id for row in DailyFigures.objects.filter(day=date(2026, 11, 6))}
    assert agencies == {moved.agency_id}


def test_a_change_committed_late_is_still_counted(filed: Report) -> None:
    with time_machine.travel(at(11, 20), tick=False):
        rollup.refresh()
    # A transaction that set updated_at two minutes before that refresh started, and
    # committed after it.
    Report.objects.filter(pk=filed.pk).update(
        category=Category.objects.get(code="drainage"), updated_at=at(11, 20) - timedelta(minutes=2)
    )
    with time_machine.travel(at(11, 20, 10), tick=False):
        assert rollup.refresh() == 1
    assert kept() == counted_afresh()


def test_today_is_counted_from_the_reports_before_any_refresh(
    make_report: Callable[..., Report], citizen: User
) -> None:
    with time_machine.travel(at(11, 30), tick=False):
        rollup.refresh()
        make_report(citizen)
        today = stats.StatsFilters(period=stats.Period(date(2026, 11, 1), date(2026, 11, 30)))
        assert stats.figures_total(today).received == 1
        assert stats.daily_counts(today)[-1].received == 1
    assert stored(date(2026, 11, 30))["received"] == 0


def test_the_statistics_from_the_daily_figures_equal_a_count_over_the_reports(
    reference_data: None,
) -> None:
    """Many reports over November in every state: the figures of the month, read from the
    daily figures, are those counted directly with the ORM."""
    categories = ["street_lighting", "drainage", "urban_order"]
    agencies = list(Agency.objects.order_by("code")[:3])
    for n in range(60):
        created = at(11, 1 + n % 28, 6 + n % 12)
        resolved = created + timedelta(hours=5 + n * 3) if n % 3 else None
        ReportFactory(
            created_at=created,
            category=Category.objects.get(code=categories[n % 3]),
            agency=agencies[n % 3] if n % 7 else None,
            status=ReportStatus.CLOSED if resolved else ReportStatus.ROUTED,
            resolved_at=resolved,
            due_at=created + timedelta(hours=48),
            rating=(n % 5) + 1 if resolved and n % 2 else None,
        )
    with time_machine.travel(at(12, 15), tick=False):
        rollup.refresh()
        figures = stats.figures_total(november())
        by_agency = {g.item.id: g.figures for g in stats.figures_by(november(), group="agency")}
    start, end = at(11, 1, 0), at(12, 1, 0)
    resolved_rows = Report.objects.filter(
        status__in=stats.RESOLVED_STATUSES, resolved_at__gte=start, resolved_at__lt=end
    )
    expected_hours = [(r.resolved_at - r.created_at).total_seconds() / 3600 for r in resolved_rows]
    assert (
        figures.received == Report.objects.filter(created_at__gte=start, created_at__lt=end).count()
    )
    assert figures.resolved == len(expected_hours) > 0
    assert figures.average_resolution_hours == round(sum(expected_hours) / len(expected_hours), 1)
    assert figures.ratings == resolved_rows.exclude(rating=None).count()
    assert figures.on_time == sum(1 for r in resolved_rows if r.resolved_at <= r.due_at)
    per_agency = dict(
        resolved_rows.exclude(agency=None).values_list("agency").annotate(n=Count("id"))
    )
    assert {pk: f.resolved for pk, f in by_agency.items() if f.resolved} == per_agency


def test_the_dashboard_reads_the_daily_figures_not_the_reports(
    filed: Report,
) -> None:
    """For a past month, the only query over the reports table is for the open reports
    (after the state of the daily figures and the figures themselves)."""
    with time_machine.travel(at(12, 10), tick=False):
        rollup.refresh()
        stats.stats_reference()
        with CaptureQueriesContext(connection) as captured:
            stats.Tally.count(november())
    sql = [query["sql"] for query in captured]
    assert len(sql) == 3
    assert "reports_dailyfiguresstate" in sql[0]
    assert "reports_dailyfigures" in sql[1]
    assert "reports_dailyfigures" not in sql[2]


def test_without_any_refresh_the_reports_are_counted_themselves(reference_data: None) -> None:
    """As in the demo, where no beat runs: nothing is counted yet, and the figures of a
    past month still come out right, from the reports."""
    with time_machine.travel(at(11, 3), tick=False):
        ReportFactory(created_at=at(11, 3))
    with time_machine.travel(at(12, 20), tick=False):
        assert stats.counted_until() is None
        assert stats.figures_total(november()).received == 1
        assert sum(day.received for day in stats.daily_counts(november())) == 1
    assert not DailyFigures.objects.exists()


def test_the_beat_refreshes_every_minute_and_rebuilds_every_night(settings: Any) -> None:
    from celery.schedules import crontab

    from hues.celery import app

    schedule = {
        entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
    assert schedule["insights.refresh_daily_figures"] == 60.0
    assert schedule["insights.rebuild_daily_figures"] == crontab(hour=3, minute=0)
    assert {"insights.refresh_daily_figures", "insights.rebuild_daily_figures"} <= set(app.tasks)


def test_the_tasks_count_the_daily_figures(reference_data: None) -> None:
    from insights import tasks

    with time_machine.travel(at(11, 3), tick=False):
        ReportFactory(created_at=at(11, 3))
    with time_machine.travel(at(11, 4), tick=False):
        assert tasks.refresh_daily_figures.delay().get() == 1
        assert tasks.rebuild_daily_figures.delay().get() == 1
    assert stored(date(2026, 11, 3))["received"] == 1
