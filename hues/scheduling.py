"""The one way services start background work: by task name, after the commit.

Services call `enqueue_on_commit("reports.route", report_id)`; they never import tasks.py,
so tasks can import services without an import circle. A broker that is down never fails
the request that committed: the error is logged and the periodic sweeper (for reports) or
the task's own retry picks the work up again.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from hues.celery import app

logger = logging.getLogger(__name__)


def enqueue(task_name: str, *args: Any, **options: Any) -> bool:
    """Send the task now; return False (and log) when it could not be sent."""
    try:
        app.tasks[task_name].apply_async(args=args, **options)
    except Exception:
        logger.exception("Could not enqueue %s%r", task_name, args)
        return False
    return True


def enqueue_on_commit(task_name: str, *args: Any, **options: Any) -> None:
    transaction.on_commit(lambda: enqueue(task_name, *args, **options))
