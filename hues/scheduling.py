"""The one way services start background work: by task name, after the commit.

Services call `enqueue_on_commit("reports.route", report_id)`; they never import tasks.py,
so tasks can import services without an import circle. A broker that is down never fails
the request that committed: the error is logged and the periodic sweeper (for reports) or
the task's own retry picks the work up again.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.db import transaction

from hues.celery import app

logger = logging.getLogger(__name__)

# After a failed publish the broker is left alone this long: while Redis is down or paused,
# only the first request pays the (short) socket timeout, the others carry on at once.
SKIP_BROKER_SECONDS = 5.0
_broker_failed_at: float | None = None


def broker_skipped() -> bool:
    return (
        _broker_failed_at is not None and time.monotonic() - _broker_failed_at < SKIP_BROKER_SECONDS
    )


def enqueue(task_name: str, *args: Any, **options: Any) -> bool:
    """Send the task now; return False (and log) when it could not be sent, or when the
    broker failed a moment ago (the sweepers re-drive what was not sent)."""
    global _broker_failed_at
    task = app.tasks[task_name]
    eager = app.conf.task_always_eager
    if not eager and broker_skipped():
        logger.warning("Broker unavailable: %s%r left to the sweeper", task_name, args)
        return False
    try:
        task.apply_async(args=args, **options)
    except Exception:
        if not eager:
            _broker_failed_at = time.monotonic()
        logger.exception("Could not enqueue %s%r", task_name, args)
        return False
    _broker_failed_at = None
    return True


def enqueue_on_commit(task_name: str, *args: Any, **options: Any) -> None:
    transaction.on_commit(lambda: enqueue(task_name, *args, **options))
