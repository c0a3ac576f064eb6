"""A worker keeps its database connections as the web does (CONN_MAX_AGE), instead of
Celery's Django fixup closing them around every task."""

from __future__ import annotations

from types import SimpleNamespace
from unittest import mock

from celery.fixups.django import DjangoWorkerFixup

from hues import celery


def test_celerys_fixup_does_not_close_the_connection_around_each_task():
    fixup = DjangoWorkerFixup(celery.app)

    with mock.patch.object(fixup, "_close_database") as close:
        for _ in range(1000):
            fixup.close_database()

    close.assert_not_called()


def test_a_worker_closes_connections_past_their_age_around_each_task():
    task = SimpleNamespace(request=SimpleNamespace(is_eager=False))

    with mock.patch("django.db.close_old_connections") as close_old:
        celery._close_old_connections(sender=task)

    close_old.assert_called_once_with()


def test_an_eager_task_leaves_the_connection_of_its_request_alone():
    task = SimpleNamespace(request=SimpleNamespace(is_eager=True))

    with mock.patch("django.db.close_old_connections") as close_old:
        celery._close_old_connections(sender=task)

    close_old.assert_not_called()
