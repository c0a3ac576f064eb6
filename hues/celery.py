"""The Celery application; configuration comes from Django settings (CELERY_ namespace)."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import celeryd_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hues.settings")

app = Celery("hues")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


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
