"""Report references are numbered per year without gaps: HUE-2026-000001, ... (one
statement counts up the year's row and reads it back)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from reports import services
from reports.models import ReferenceCounter, Report
from tests.conftest import PHU_XUAN_POINT


def file(citizen: User) -> Report:
    return services.report_create(
        reporter=citizen,
        category_code="street_lighting",
        description="Đèn đường không sáng",
        lat=PHU_XUAN_POINT[0],
        lng=PHU_XUAN_POINT[1],
        photos=[],
        min_photos=0,
    )


@pytest.mark.django_db
def test_references_count_up_within_a_year_and_start_again_in_the_next(citizen: User) -> None:
    with time_machine.travel(datetime(2026, 12, 31, 9, tzinfo=UTC), tick=False):
        first, second = file(citizen), file(citizen)
    with time_machine.travel(datetime(2027, 1, 2, 9, tzinfo=UTC), tick=False):
        next_year = file(citizen)

    assert [first.reference, second.reference] == ["HUE-2026-000001", "HUE-2026-000002"]
    assert next_year.reference == "HUE-2027-000001"
    assert dict(ReferenceCounter.objects.values_list("year", "last")) == {2026: 2, 2027: 1}


@pytest.mark.django_db
def test_a_reference_takes_one_statement(citizen: User) -> None:
    file(citizen)
    with CaptureQueriesContext(connection) as context:
        file(citizen)

    counter = [q["sql"] for q in context.captured_queries if "referencecounter" in q["sql"]]
    assert len(counter) == 1


@pytest.mark.django_db
def test_a_report_rolled_back_leaves_no_gap(citizen: User, monkeypatch: pytest.MonkeyPatch) -> None:
    file(citizen)

    def fail(**kwargs: Any) -> None:
        raise RuntimeError("storage failed")

    monkeypatch.setattr(services, "photos_store", fail)
    with pytest.raises(RuntimeError), transaction.atomic():
        file(citizen)
    monkeypatch.undo()

    assert file(citizen).reference == "HUE-2026-000002"
