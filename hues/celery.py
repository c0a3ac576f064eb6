"""The Celery application; configuration comes from Django settings (CELERY_ namespace)."""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any

from celery import Celery
from celery.signals import (
    before_task_publish,
    celeryd_init,
    setup_logging,
    task_postrun,
    task_prerun,
    worker_init,
)

from hues import logs

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hues.settings")

app = Celery("hues")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Celery's Django fixup closes every database connection before and after each task unless
# this is set: a new PostgreSQL connection (and backend process) per task, the largest cost
# of a routing burst after its queries. A worker keeps its connections as the web does
# instead, by CONN_MAX_AGE and CONN_HEALTH_CHECKS (`_close_old_connections` below), so the
# fixup's count-based recycling is turned off.
app.conf.CELERY_DB_REUSE_MAX = 2**62


def worker_transport_options(options: dict[str, Any]) -> dict[str, Any]:
    """The broker options of a worker: the web's, but waiting for a paused Redis instead of
    timing out after half a second. Celery logs an acknowledgement that times out and drops
    it, and the message keeps its prefetch slot: after `concurrency` of them the worker
    consumes nothing more until it is restarted (tests/fault found it). Keep-alive probes
    still notice a broker that vanished."""
    return {**options, "socket_timeout": None, "socket_keepalive": True}


@celeryd_init.connect
def _worker_waits_for_the_broker(sender: Any = None, conf: Any = None, **kwargs: Any) -> None:
    conf = conf if conf is not None else app.conf
    # The namespaced key is the one the settings set, and the one Celery reads first.
    conf.CELERY_BROKER_TRANSPORT_OPTIONS = worker_transport_options(
        dict(conf.broker_transport_options or {})
    )


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(sender: Any = None, **kwargs: Any) -> None:
    """Around each task, as around each web request: close connections past CONN_MAX_AGE or
    left unusable by an error (with CONN_MAX_AGE 0, the default, after every task)."""
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return  # eager: inside a web request or a test, whose connection this is not
    from django.db import close_old_connections

    close_old_connections()


@setup_logging.connect
def _log_as_django_does(**kwargs: Any) -> None:
    """A worker and beat log through settings.LOGGING (JSON lines in production, the request
    id, secrets masked), not through a handler of Celery's."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


# The request id follows the work: a task sent while one is set (in a request, or in a task
# that carries one) carries it in its headers; the worker sets it while the task runs. An
# eager task runs inside the request (or test) that set it, and leaves it alone.


@before_task_publish.connect
def _send_request_id(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    from django_guid import get_guid

    request_id = get_guid()
    if request_id and headers is not None:
        headers[logs.TASK_HEADER] = request_id


_started: dict[str, float] = {}


@task_prerun.connect
def _task_started(task_id: str = "", task: Any = None, **kwargs: Any) -> None:
    _started[task_id] = time.perf_counter()
    if task is None or task.request.is_eager:
        return
    from django_guid import set_guid
    from django_guid.utils import generate_guid

    set_guid(task.request.get(logs.TASK_HEADER) or generate_guid())


@task_postrun.connect
def _task_finished(
    task_id: str = "", task: Any = None, state: str | None = None, retval: Any = None, **kwargs: Any
) -> None:
    """The task's one log line and its metrics (hues_celery_tasks_total,
    hues_celery_task_duration_seconds)."""
    from hues import metrics

    started = _started.pop(task_id, None)
    seconds = time.perf_counter() - started if started is not None else None
    name = getattr(task, "name", "?")
    error = retval if isinstance(retval, BaseException) else None
    if not state:
        # An eager task that raised, on its way to the caller (CELERY_TASK_EAGER_PROPAGATES):
        # Celery sends no state, but this runs while the exception is in flight.
        error = sys.exc_info()[1]
        state = "FAILURE" if error is not None else "UNKNOWN"
    logs.log_task(task=name, task_id=task_id, state=state, seconds=seconds, error=error)
    metrics.task_finished(task=name, state=state, seconds=seconds)
    if task is not None and not task.request.is_eager:
        from django_guid import clear_guid

        clear_guid()


@worker_init.connect
def _serve_worker_metrics(**kwargs: Any) -> None:
    """WORKER_METRICS_ADDRESS: the worker's main process serves its pool's metrics, which
    every process writes to PROMETHEUS_MULTIPROC_DIR (needed with a pool of processes)."""
    from django.conf import settings

    address = settings.WORKER_METRICS_ADDRESS
    if not address:
        return
    from hues import metrics

    if metrics.MULTIPROCESS_DIR:
        metrics.clear_directory(metrics.MULTIPROCESS_DIR)
    else:
        logging.getLogger(__name__).warning(
            "WORKER_METRICS_ADDRESS without PROMETHEUS_MULTIPROC_DIR: only the tasks this "
            "process runs itself are counted (a solo or threads pool), not a prefork pool's"
        )
    metrics.serve_worker_metrics(address)
