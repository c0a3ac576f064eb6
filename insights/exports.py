"""CSV downloads, streamed row by row: the report list as filtered in the admin, and the
dashboard's tables. UTF-8 with a byte-order mark for spreadsheets; every cell is quoted, and no
part of a cell can run as a formula; no column carries who reported."""

from __future__ import annotations

import csv
import re
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


# Where a spreadsheet may start a formula (CSV injection): at the start of a cell, and after
# any character that a spreadsheet may take for a list separator (`,` and `;` by locale, a
# tab, a line break), past spaces; the ASCII signs and their full-width forms, which some
# spreadsheets read as the same.
_FORMULA = re.compile(r"(?:^|(?<=[,;\t\r\n]))([ \u3000]*)(?=[=+\-@\t\r\uff1d\uff0b\uff0d\uff20])")


def _safe(value: Any) -> Any:
    """A cell no part of which a spreadsheet will run as a formula: a `'` before every sign
    that could start one (`abc;=1+1` becomes `abc;'=1+1`)."""
    if isinstance(value, str):
        return _FORMULA.sub(lambda match: match.group(1) + "'", value)
    return value


def stream_csv(
    filename: str, header: list[str], rows: Iterable[Iterable[Any]]
) -> StreamingHttpResponse:
    """A CSV download written row by row as it is sent: memory stays flat whatever the
    number of rows. It begins with a byte-order mark, so spreadsheets read it as UTF-8."""
    # Every cell quoted: a spreadsheet that splits on another separator than the comma still
    # finds the cells' ends.
    writer = csv.writer(_Echo(), quoting=csv.QUOTE_ALL)
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
    "channel_id",
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
    # Hidden reports and merged duplicates stay out of every export, as out of every public
    # list: an export leaves the building.
    rows = (
        reports.filter(hidden_at__isnull=True)
        .exclude(status=ReportStatus.MERGED)
        .order_by("id")
        .annotate(overdue=ExpressionWrapper(overdue_condition(now), output_field=BooleanField()))
        .values_list(*REPORT_COLUMNS)
    )
    for (
        reference_code,
        created_at,
        category_id,
        area_id,
        agency_id,
        channel_id,
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
            name(reference.channels, channel_id),
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
            _("Channel"),
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
