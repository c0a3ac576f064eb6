"""The feed's pages: keyset pagination (hues.pagination) in each of the feed's orders."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from hues.pagination import KeysetPagination
from reports import selectors
from reports.models import Report


class ReportPagination(KeysetPagination):
    page_size_description = _("Reports per page, 1 to %(max)d (default %(default)d).")

    def fetch(self, page: QuerySet[Report]) -> list[Report]:
        """The page's reports through the feed's own statement (selectors.feed_page),
        their photos attached."""
        return selectors.feed_page(page)
