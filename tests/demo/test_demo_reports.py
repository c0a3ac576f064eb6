"""The living demo: `seed_demo --reports N` files reports of the last 30 days through the
lifecycle's services at the moments they happened, in every state."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Role
from demo.reports import DAYS
from insights.models import DailyFigures
from reports.models import Channel, Event, Flag, HideReason, Report, ReportStatus

COUNT = 150


def _seed(reports: int = COUNT) -> str:
    out = io.StringIO()
    call_command("seed_demo", reports=reports, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def demo_on(settings):
    settings.DEBUG = True
    settings.DEMO_USERS_ENABLED = True


@pytest.fixture
def demo(reference_data, demo_on) -> str:
    # reference_data: the routing snapshot is told to reload, since another test's seeding
    # may have cached agencies its rolled-back transaction created.
    return _seed()


def test_the_demo_has_reports_in_every_state_a_newcomer_meets(demo):
    statuses = set(Report.objects.values_list("status", flat=True))

    # Submitted lasts only until the routing task runs, at once in the embedded mode.
    assert statuses >= set(ReportStatus.values) - {ReportStatus.SUBMITTED}
    assert Report.objects.filter(escalated_at__isnull=False).exists()
    assert Report.objects.filter(status=ReportStatus.CLOSED, rating__isnull=False).exists()
    assert Event.objects.filter(kind=Event.Kind.CORRECTED).exists()
    assert "Demo reports: " in demo


def test_the_demo_has_the_editors_work_merged_hidden_flagged_and_hotline(demo):
    merged = Report.objects.filter(status=ReportStatus.MERGED)
    assert merged.exists()
    assert all(report.duplicate_of_id is not None for report in merged)
    assert Report.objects.filter(hidden_reason=HideReason.PERSONAL_DATA).exists()
    # One report reached the flag threshold and waits for a moderator; others have a flag.
    assert Report.objects.filter(hidden_reason=HideReason.FLAGGED).exists()
    assert Flag.objects.filter(decision="").exists()
    hotline = Report.objects.exclude(channel__code__in=(Channel.APP, Channel.OPEN311))
    assert hotline.filter(channel__code=Channel.HOTLINE).exists()
    assert all(report.filed_by.role == Role.HOTLINE for report in hotline)


def test_the_demo_happened_over_the_last_month_in_order(demo):
    now = timezone.now()
    created = list(Report.objects.values_list("created_at", flat=True))
    assert len(created) == COUNT
    assert min(created) >= now - timedelta(days=DAYS, hours=12)
    assert max(created) <= now
    # Spread over the month, not filed in one instant.
    assert max(created) - min(created) > timedelta(days=DAYS - 3)
    for report in Report.objects.prefetch_related("events"):
        moments = [event.created_at for event in report.events.order_by("pk")]
        assert moments == sorted(moments), report.reference
        assert moments[0] == report.created_at
        assert moments[-1] <= now
    # The dashboard's past days are counted.
    assert DailyFigures.objects.filter(day__lt=timezone.localdate()).exists()


def test_seeding_the_demo_again_adds_nothing(demo):
    before = set(Report.objects.values_list("pk", "status", "updated_at"))

    output = _seed()

    assert set(Report.objects.values_list("pk", "status", "updated_at")) == before
    assert "already filed" in output


def test_no_demo_report_without_debug(reference_data, settings):
    settings.DEBUG = False
    settings.DEMO_USERS_ENABLED = False

    _seed()

    assert not Report.objects.exists()


def test_hidden_and_merged_demo_reports_stay_out_of_the_public_feed(demo, client):
    response = client.get("/api/v1/reports", {"page_size": 100})

    assert response.status_code == 200
    shown = {item["reference"] for item in response.json()["results"]}
    gone = set(
        Report.objects.filter(hidden_at__isnull=False).values_list("reference", flat=True)
    ) | set(Report.objects.filter(status=ReportStatus.MERGED).values_list("reference", flat=True))
    assert shown
    assert not shown & gone


@pytest.mark.django_db(transaction=True)  # each step commits, and its texts' tasks run then
def test_the_demo_texts_no_one_whatever_gateway_is_set(reference_data, demo_on, settings, tmp_path):
    """Its citizens and callers are made up: their texts never reach the configured gateway."""
    settings.SMS_BACKEND = "file"
    outbox = tmp_path / "sms"
    outbox.mkdir()
    settings.SMS_FILE_DIR = str(outbox)

    _seed(60)

    assert Report.objects.filter(status__in=(ReportStatus.RESOLVED, ReportStatus.CLOSED)).exists()
    assert not list(outbox.iterdir())
