"""The feed's pages: keyset pagination (hues.pagination) in each of the feed's orders."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from hues.pagination import KeysetPagination


class ReportPagination(KeysetPagination):
    page_size_description = _("Reports per page, 1 to %(max)d (default %(default)d).")
