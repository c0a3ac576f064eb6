"""CSV downloads, streamed row by row: the report list as filtered in the admin, and the
dashboard's tables. UTF-8 with a byte-order mark for spreadsheets; cells a spreadsheet would
run as formulas are quoted; no column carries who reported."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import BooleanField, ExpressionWrapper, QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import get_language, gettext, override
from django.utils.translation import gettext_lazy as _

from insights import stats
from reports.models import Report, ReportStatus
from reports.selectors import overdue_condition

CSV_CHUNK_ROWS = 2000


class _Echo:
    """A file-like object whose write returns the line, for csv.writer in a stream."""

    def write(self, value: str) -> str:
        return value


def _safe(value: Any) -> Any:
    """A cell a spreadsheet will not run as a formula (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def stream_csv(
    filename: str, header: list[str], rows: Iterable[Iterable[Any]]
) -> StreamingHttpResponse:
    """A CSV download written row by row as it is sent: memory stays flat whatever the
    number of rows. It begins with a byte-order mark, so spreadsheets read it as UTF-8."""
    writer = csv.writer(_Echo())
    # The rows are written after the view returns: in the language of the request.
    language = get_language()

    def lines() -> Iterator[str]:
        with override(language):
            yield "\ufeff" + writer.writerow(header)
            for row in rows:
                yield writer.writerow([_safe(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


REPORT_COLUMNS = (
    "reference",
    "created_at",
    "category_id",
    "area_id",
    "agency_id",
    "status",
    "priority",
    "due_at",
    "overdue",
    "resolved_at",
    "rating",
    "supporters_count",
    "is_public",
    "lat",
    "lng",
    "address",
    "description",
)


def report_rows(reports: QuerySet[Report]) -> Iterator[list[Any]]:
    """The export's rows, read from the database in chunks (a server-side cursor on
    PostgreSQL), with names from the in-memory reference instead of joins."""
    reference = stats.stats_reference()
    statuses = {value: str(label) for value, label in ReportStatus.choices}
    now = timezone.now()
    yes, no = gettext("yes"), gettext("no")

    def name(items: dict[int, Any], pk: int | None) -> str:
        item = items.get(pk) if pk is not None else None
        return item.name if item is not None else ""

    def moment(value: Any) -> str:
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""

    # Overdue has one definition (selectors.overdue_condition), evaluated by the database.
    rows = (
        reports.order_by("id")
        .annotate(overdue=ExpressionWrapper(overdue_condition(now), output_field=BooleanField()))
        .values_list(*REPORT_COLUMNS)
    )
    for (
        reference_code,
        created_at,
        category_id,
        area_id,
        agency_id,
        status,
        priority,
        due_at,
        overdue,
        resolved_at,
        rating,
        supporters,
        is_public,
        lat,
        lng,
        address,
        description,
    ) in rows.iterator(chunk_size=CSV_CHUNK_ROWS):
        yield [
            reference_code,
            moment(created_at),
            name(reference.categories, category_id),
            name(reference.areas, area_id),
            name(reference.agencies, agency_id),
            statuses.get(status, status),
            priority,
            moment(due_at),
            moment(resolved_at),
            yes if overdue else no,
            rating if rating is not None else "",
            supporters,
            yes if is_public else no,
            f"{lat:.5f}",
            f"{lng:.5f}",
            address,
            description,
        ]


def report_header() -> list[str]:
    return [
        str(label)
        for label in (
            _("Reference"),
            _("Received"),
            _("Category"),
            _("Area"),
            _("Agency"),
            _("Status"),
            _("Priority"),
            _("Deadline"),
            _("Resolved"),
            _("Overdue"),
            _("Rating"),
            _("Supporters"),
            _("Public"),
            _("Latitude"),
            _("Longitude"),
            _("Address"),
            _("Description"),
        )
    ]


def export_reports(reports: QuerySet[Report], filename: str) -> StreamingHttpResponse:
    return stream_csv(filename, report_header(), report_rows(reports))
