"""gunicorn's configuration for the project: `gunicorn -c python:hues.gunicorn hues.wsgi`.

It makes the metrics safe with several worker processes (prometheus-client's multiprocess
mode): each worker counts into its own files in PROMETHEUS_MULTIPROC_DIR (a new temporary
directory when the variable is unset), emptied when gunicorn starts, and a worker's live
figures (requests in progress) are dropped when it exits. Any other setting comes from the
command line or GUNICORN_CMD_ARGS as usual (--bind, --workers, --threads, --timeout).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

# Set before any worker imports prometheus-client, which reads it once.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="hues-metrics-")


def on_starting(server: Any) -> None:
    """A new gunicorn counts from zero: a previous run's files are removed (Prometheus reads
    the drop as a restart)."""
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    for path in directory.glob("*.db"):
        path.unlink(missing_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    """A worker that exited (or was killed) no longer counts in the live gauges."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
