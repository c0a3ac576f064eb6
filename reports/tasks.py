"""Background work for reports: routing, telling the people concerned of each timeline event,
deadlines, the photo privacy step, and the sweepers that re-drive lost work."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from datetime import timedelta
from typing import Any

from celery import Task, shared_task
from celery.signals import worker_init
from django.conf import settings
from django.db import OperationalError

from accounts.sms_limits import SmsBudgetSpent
from accounts.texts import TextNotSent
from hues.scheduling import enqueue
from reports import audience, detection, idempotency, lifecycle, privacy, selectors, services

logger = logging.getLogger(__name__)


@shared_task(bind=True, name="reports.route", max_retries=None)
def route_report(self: Task[[int], None], report_id: int) -> None:
    """Route one report, and in a worker the other reports waiting with it, in one pass.
    A failure of its own report is retried with exponential backoff; the attempts are
    counted on the report, which goes to the dispatchers after ROUTING_MAX_ATTEMPTS. Run
    eagerly (no broker) it runs inside the request that filed the report, which routes only
    its own."""
    batch_size = 1 if self.request.is_eager else settings.ROUTING_BATCH_SIZE
    try:
        services.report_route_attempt(report_id=report_id, batch_size=batch_size)
    except Exception as error:
        delay = min(settings.ROUTING_RETRY_BASE_SECONDS * 2**self.request.retries, 600)
        raise self.retry(exc=error, countdown=delay) from error


@shared_task(name="reports.sweep_unrouted")
def sweep_unrouted() -> int:
    """Re-enqueue routing for reports left `submitted` too long (a lost message, a dead
    worker, a broker that was down when the report was filed)."""
    ids = selectors.reports_unrouted(older_than=settings.ROUTING_SWEEP_AFTER)
    for report_id in ids:
        enqueue("reports.route", report_id)
    return len(ids)


@shared_task(
    name="reports.notify",
    autoretry_for=(OSError, OperationalError),
    retry_backoff=True,
    retry_backoff_max=120,
    max_retries=5,
)
def notify(event_id: int) -> None:
    audience.notify_event(event_id)


@shared_task(name="reports.notify_many")
def notify_many(event_ids: list[int]) -> None:
    """Notify the events of a routing batch, one message and one pass for all of them. If
    the pass fails, each event is notified on its own, so one bad event never holds back
    the others; an event that fails alone too is handed to its own `reports.notify` task,
    with that task's retries; if even that cannot be sent, the notification sweeper finds
    it."""
    try:
        audience.notify_events(event_ids)
    except Exception:
        logger.exception("Notifying %d events together failed; each on its own", len(event_ids))
    else:
        return
    for event_id in event_ids:
        try:
            audience.notify_event(event_id)
        except Exception:
            logger.exception("Notifying event %s failed; retrying it on its own", event_id)
            enqueue("reports.notify", event_id)


@shared_task(
    name="reports.text_caller",
    # The gateway away (TextNotSent) or the day's SMS budget spent: later, within the day.
    autoretry_for=(OSError, OperationalError, TextNotSent, SmsBudgetSpent),
    retry_backoff=60,
    retry_backoff_max=3600,
    max_retries=8,
)
def text_caller(event_id: int) -> None:
    """The result of a report filed for a caller, texted to them (reports.audience)."""
    audience.caller_text_send(event_id=event_id)


@shared_task(name="reports.sweep_unnotified")
def sweep_unnotified() -> int:
    """Re-enqueue notification for events whose `reports.notify` task was lost."""
    return audience.events_renotify_lost()


@shared_task(name="reports.escalate_overdue")
def escalate_overdue() -> int:
    """Escalate reports past their deadline, once each; a longer backlog is taken up by the
    next runs (CELERY_BEAT_SCHEDULE)."""
    escalated = 0
    for report_id in selectors.reports_to_escalate(limit=500):
        escalated += lifecycle.report_escalate(report_id=report_id) is not None
    return escalated


# PRODUCT.md: a resolved report the citizen does not answer within 7 days is closed.
CLOSE_UNANSWERED_AFTER = timedelta(days=7)


@shared_task(name="reports.close_unanswered")
def close_unanswered() -> int:
    """Close resolved reports their citizen neither rated nor reopened in time."""
    closed = 0
    for report_id in selectors.reports_unanswered(older_than=CLOSE_UNANSWERED_AFTER, limit=1000):
        closed += (
            lifecycle.report_close_unanswered(report_id=report_id, after=CLOSE_UNANSWERED_AFTER)
            is not None
        )
    return closed


@shared_task(name="reports.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    """Forget the Idempotency-Keys older than 24 hours (reports.idempotency.KEEP_FOR)."""
    return idempotency.idempotency_keys_purge()


@shared_task(bind=True, name="reports.redact_photo", max_retries=None)
def redact_photo(self: Task[[int], None], photo_id: int) -> None:
    """The privacy step of one photo (reports.privacy.photo_redact). A failure is retried
    with exponential backoff up to PHOTO_REDACTION_MAX_ATTEMPTS; then the photo stays
    private and is listed for staff. Run eagerly (no broker: in the request, or a test) a
    failure is final at once: the request must not wait through the backoff, and staff
    send the photo through again from the admin."""
    try:
        privacy.photo_redact(photo_id=photo_id)
    except Exception as error:
        attempts = self.request.retries + 1
        final = self.request.is_eager or attempts >= settings.PHOTO_REDACTION_MAX_ATTEMPTS
        privacy.photo_redaction_failed(photo_id=photo_id, error=repr(error), final=final)
        if final:
            logger.exception("Photo %s: privacy step failed %d times", photo_id, attempts)
            return
        delay = min(settings.PHOTO_REDACTION_RETRY_BASE_SECONDS * 2**self.request.retries, 600)
        raise self.retry(exc=error, countdown=delay) from error


@shared_task(name="reports.sweep_unredacted_photos")
def sweep_unredacted_photos() -> int:
    """Re-enqueue the privacy step of photos left waiting too long (a lost message)."""
    ids = selectors.photos_waiting(older_than=settings.PHOTO_REDACTION_SWEEP_AFTER)
    for photo_id in ids:
        enqueue("reports.redact_photo", photo_id)
    return len(ids)


@shared_task(name="reports.purge_photo_originals")
def purge_photo_originals() -> int:
    """Delete evidence copies past PHOTO_ORIGINAL_RETENTION_DAYS after their report closed."""
    return privacy.photo_originals_purge()


# The detectors' check, run in a process of its own: the worker's main process forks its
# pool, and native libraries (OpenMP's and OpenCV's thread pools) started in a parent hang
# in its forked children (a pool process then never finished a photo: the task's hard time
# limit killed it). The parent never runs a detector.
_CHECK = """
import sys
from reports import detection
try:
    print(detection.check_detectors())
except detection.DetectorUnavailable as error:
    print(error, file=sys.stderr)
    sys.exit(3)
"""


def detectors_checked_apart() -> str:
    """The detectors' version, checked in a fresh interpreter; DetectorUnavailable with its
    message when they are missing or broken (or the check cannot run)."""
    root = str(settings.BASE_DIR)
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter and code
            [sys.executable, "-c", _CHECK],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            env={**os.environ, "PYTHONPATH": path},
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise detection.DetectorUnavailable(f"The detectors' check did not run: {error}") from error
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines() or ["(no output)"]
        raise detection.DetectorUnavailable(lines[-1])
    return done.stdout.strip().splitlines()[-1]


@worker_init.connect
def check_photo_detectors(**kwargs: Any) -> None:
    """A worker whose face or plate detector is missing or broken does not start: it would
    leave every photo private at best. The message says what is wrong; the photos wait,
    unpublished, for a worker that works."""
    try:
        version = detectors_checked_apart()
    except detection.DetectorUnavailable as error:
        logger.critical("Photo detectors unavailable: %s", error)
        # SystemExit: Celery's signal dispatch logs and swallows an Exception, not this.
        raise SystemExit(f"The worker did not start: {error}") from error
    logger.info("Photo detectors ready: %s", version)
