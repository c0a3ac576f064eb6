"""Two staff members acting on the same report at the same moment: one wins, the other is
told the report changed; nothing is applied twice. Needs PostgreSQL (row locks)."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections, connection

from accounts.models import Role
from hues.errors import DomainError
from reports import lifecycle
from reports.models import Event, Report, ReportStatus
from tests.conftest import need
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _at_once(actions):
    """Run the callables in threads released together; return what each raised (or None)."""
    barrier = threading.Barrier(len(actions))
    outcomes: list[object] = [None] * len(actions)

    def run(index, action):
        try:
            barrier.wait()
            action()
        except DomainError as error:
            outcomes[index] = error
        finally:
            close_old_connections()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.fixture
def two_staff(hepco):
    return (
        UserFactory(role=Role.STAFF, agency=hepco, full_name="A"),
        UserFactory(role=Role.STAFF, agency=hepco, full_name="B"),
    )


def test_two_staff_accepting_at_once_accept_it_once(make_report, citizen, two_staff):
    need(connection.vendor == "postgresql", "row locks need PostgreSQL (DATABASE_URL)")
    report = make_report(citizen)

    outcomes = _at_once(
        [lambda user=user: lifecycle.report_accept(report=report, actor=user) for user in two_staff]
    )

    assert sorted(type(o).__name__ for o in outcomes) == ["NoneType", "TransitionNotAllowed"]
    report = Report.objects.get(pk=report.pk)
    assert report.status == ReportStatus.IN_PROGRESS
    assert report.events.filter(kind=Event.Kind.ACCEPTED).count() == 1


def test_a_rejection_and_an_acceptance_at_once_leave_one_consistent_outcome(
    make_report, citizen, two_staff
):
    need(connection.vendor == "postgresql", "row locks need PostgreSQL (DATABASE_URL)")
    report = make_report(citizen)
    accept = lambda: lifecycle.report_accept(report=report, actor=two_staff[0])  # noqa: E731
    reject = lambda: lifecycle.report_reject(  # noqa: E731
        report=report, actor=two_staff[1], reason="invalid", message="Không đúng"
    )

    outcomes = _at_once([accept, reject])

    report = Report.objects.get(pk=report.pk)
    events = list(report.events.filter(kind__in=["accepted", "rejected"]).values_list("kind"))
    if outcomes[1] is None:  # the rejection ran; the acceptance may have run before it
        assert report.status == ReportStatus.REJECTED
    else:
        assert report.status == ReportStatus.IN_PROGRESS
        assert events == [("accepted",)]
    assert len(events) == sum(o is None for o in outcomes)
