"""Reply templates filled for a report: what staff start from when they write to a citizen.

The placeholders (hues.replies.PLACEHOLDERS) take the report's values in the template's
language. A value the report does not have yet (no deadline, no ward, no agency) leaves its
placeholder in the text, where the staff member sees it and writes it in; the forms refuse to
send a text that still holds one (reports.admin_replies).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import translation

from hues.dates import short_time
from hues.replies import fill

if TYPE_CHECKING:
    from reports.models import ReplyTemplate, Report


def reply_values(report: Report, language: str) -> dict[str, str]:
    """The report's values for the placeholders, named in `language` (categories, wards and
    agencies have a Vietnamese and an English name). Reads only the report's row and its
    category, area and agency (select_related by the admin's selectors)."""
    with translation.override(language):
        values = {
            "reference": report.reference,
            "category": report.category.display_name,
        }
        if report.agency is not None:
            values["agency"] = report.agency.display_name
        if report.area is not None:
            values["ward"] = report.area.display_name
        if report.due_at is not None:
            values["deadline"] = short_time(report.due_at)
    return values


def reply_template_render(*, template: ReplyTemplate, report: Report) -> str:
    """The template's text for this report: its placeholders filled, nothing else changed
    (no format specs, no attribute access: hues.replies.fill)."""
    return fill(template.text, reply_values(report, template.language))
