"""The Celery application; configuration comes from Django settings (CELERY_ namespace)."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import celeryd_init, task_postrun, task_prerun

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
