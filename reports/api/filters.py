"""Filters of the report feed. They take codes and references, never database ids."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet, Subquery
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField

from hues.filters import StrictBooleanFilter
from reports import selectors
from reports.models import Agency, Area, Category, Report, ReportStatus
from reports.selectors import FeedOrder
from reports.text import search_words

DEFAULT_RADIUS_METRES = 1000
MAX_RADIUS_METRES = 50_000
MAX_SEARCH_WORDS = 10
FEED_SEARCH_MAX_LENGTH = 200
# A plain decimal number: no exponent, no "nan" or "inf", no digit separators.
_NUMBER = re.compile(r"[-+]?\d{1,3}(?:\.\d{1,15})?")


class CoordinatesField(forms.Field):
    """Comma-separated decimal degrees, `count` of them, as (lat or lng) pairs demand."""

    count = 2
    default_error_messages = {"invalid": _("Enter comma-separated decimal numbers.")}

    def to_python(self, value: Any) -> tuple[float, ...] | None:
        if value in self.empty_values:
            return None
        parts = str(value).split(",")
        if len(parts) != self.count or not all(_NUMBER.fullmatch(part.strip()) for part in parts):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return tuple(float(part) for part in parts)


def _check_lat(lat: float) -> None:
    if not -90 <= lat <= 90:
        raise forms.ValidationError(_("A latitude is between -90 and 90."), code="out_of_range")


def _check_lng(lng: float) -> None:
    if not -180 <= lng <= 180:
        raise forms.ValidationError(_("A longitude is between -180 and 180."), code="out_of_range")


class PointField(CoordinatesField):
    default_error_messages = {"invalid": _("Enter a point as lat,lng, e.g. 16.4637,107.5909.")}

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value:
            _check_lat(value[0])
            _check_lng(value[1])


class BoundingBoxField(CoordinatesField):
    count = 4
    default_error_messages = {
        "invalid": _("Enter a box as minLng,minLat,maxLng,maxLat, e.g. 107.55,16.44,107.62,16.49.")
    }

    def validate(self, value: Any) -> None:
        super().validate(value)
        if not value:
            return
        min_lng, min_lat, max_lng, max_lat = value
        for lng in (min_lng, max_lng):
            _check_lng(lng)
        for lat in (min_lat, max_lat):
            _check_lat(lat)
        if min_lng > max_lng or min_lat > max_lat:
            raise forms.ValidationError(
                _("The minimum longitude and latitude come first, then the maximum ones."),
                code="invalid",
            )


class SearchField(forms.CharField):
    def validate(self, value: Any) -> None:
        super().validate(value)
        if len(search_words(value or "")) > MAX_SEARCH_WORDS:
            raise forms.ValidationError(
                _("Search with at most %(max)d words.") % {"max": MAX_SEARCH_WORDS},
                code="too_many_words",
            )


class UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 time, in UTC for the database: PostgreSQL refuses the offsets Python
    accepts beyond ±16 hours, and a time near year 1 or 9999 may not exist in UTC."""

    default_error_messages = {
        "out_of_range": _("Enter a time between the years 1 and 9999, UTC offset at most 14 hours.")
    }

    def to_python(self, value: Any) -> datetime | None:
        parsed = super().to_python(value)
        if parsed is None:
            return None
        offset = parsed.utcoffset()
        if offset is not None and abs(offset.total_seconds()) > 14 * 3600:
            raise forms.ValidationError(self.error_messages["out_of_range"], code="out_of_range")
        try:
            return parsed.astimezone(UTC)
        except OverflowError as error:
            raise forms.ValidationError(
                self.error_messages["out_of_range"], code="out_of_range"
            ) from error


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class PointFilter(django_filters.Filter):
    field_class = PointField


class BoundingBoxFilter(django_filters.Filter):
    field_class = BoundingBoxField


class RadiusFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class SearchFilter(django_filters.CharFilter):
    field_class = SearchField


# The reference tables the feed filters by code.
_BY_CODE: dict[str, type[Category | Area | Agency]] = {
    "category": Category,
    "area": Area,
    "agency": Agency,
}


class ReportFilterForm(forms.Form):
    """The checks that span two parameters."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "near" not in self.errors and not cleaned.get("near"):
            if cleaned.get("radius") is not None:
                self.add_error("radius", _("A radius goes with near=lat,lng."))
            if cleaned.get("ordering") == FeedOrder.NEAREST:
                self.add_error("ordering", _("Ordering by distance needs near=lat,lng."))
        return cleaned


class _SharedFields(dict[str, forms.Field]):
    """A form class's fields, which Django deep-copies into each form so that one may change
    its own: the feed's filter form never does (it validates; it renders, for the browsable
    API, without changing a field), so each form takes them as they are. Deep copies of
    fourteen fields and their widgets were a tenth of an uncached feed page (issue 17)."""

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, forms.Field]:
        return dict(self)


class _FiltersCopiedShallow(dict[str, django_filters.Filter]):
    """A filter set's filters, which django-filter deep-copies into each filter set so that
    each may point back to its own (`parent`, for the filters with a `method`): a shallow copy
    of each does that, the filter's method bound again to the copy, its settings shared."""

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, django_filters.Filter]:
        copies = {}
        for name, original in self.items():
            filter_ = copy.copy(original)
            if original.method is not None:
                filter_.method = original.method  # a FilterMethod of the copy's own
            copies[name] = filter_
        return copies


class ReportFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=ReportStatus.choices,
        # A column of the report itself: no join can repeat a row, and DISTINCT would make
        # PostgreSQL sort every matching report before it cuts the page.
        distinct=False,
        help_text=_("Only reports in this status; repeat the parameter for several."),
    )
    # By the id the code names, in a subquery PostgreSQL runs once before the scan: the
    # feed's partial indexes (category, area, agency, then id) then give a page straight
    # from the index, at any depth, instead of joining the reference tables for every row.
    category = django_filters.CharFilter(
        field_name="category",
        method="filter_code",
        max_length=40,
        help_text=_("A category code."),
    )
    area = django_filters.CharFilter(
        field_name="area",
        method="filter_code",
        max_length=10,
        help_text=_("An area's official code."),
    )
    agency = django_filters.CharFilter(
        field_name="agency",
        method="filter_code",
        max_length=40,
        help_text=_("The handling agency's code."),
    )
    created_after = UtcDateTimeFilter(
        field_name="created_at",
        lookup_expr="gte",
        help_text=_("Only reports filed at or after this time (ISO 8601)."),
    )
    created_before = UtcDateTimeFilter(
        field_name="created_at",
        lookup_expr="lt",
        help_text=_("Only reports filed before this time (ISO 8601)."),
    )
    updated_after = UtcDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        help_text=_(
            "Only reports changed at or after this time (ISO 8601), to sync what changed: "
            "send the latest updated_at already seen (that report comes again)."
        ),
    )
    bbox = BoundingBoxFilter(
        method="filter_bbox",
        help_text=_(
            "Only reports inside the box minLng,minLat,maxLng,maxLat (decimal degrees, "
            "e.g. 107.55,16.44,107.62,16.49)."
        ),
    )
    near = PointFilter(
        method="filter_near",
        help_text=_(
            "Only reports within `radius` of the point lat,lng (e.g. 16.4637,107.5909), "
            "by great-circle distance."
        ),
    )
    radius = RadiusFilter(
        method="filter_radius",
        min_value=1,
        max_value=MAX_RADIUS_METRES,
        help_text=format_lazy(
            _("With near: the distance in whole metres, 1 to {max} (default {default})."),
            max=MAX_RADIUS_METRES,
            default=DEFAULT_RADIUS_METRES,
        ),
    )
    q = SearchFilter(
        method="filter_q",
        max_length=FEED_SEARCH_MAX_LENGTH,
        help_text=_(
            "Search the description, address and reference: reports holding every word, "
            'in any case, with or without diacritics ("duong" finds "đường").'
        ),
    )
    ordering = django_filters.ChoiceFilter(
        choices=FeedOrder.choices,
        method="filter_ordering",
        help_text=_(
            "newest (the default): newest first. most_supported: most supporters first, the "
            "newest first among equals. nearest: closest first, the oldest first among equals; "
            "needs near, and lists only the reports within the radius. Every ordering pages "
            "with the cursor of the next and previous links, which resumes right after the last "
            "report shown, so no page repeats or skips a report; a cursor belongs to its "
            "ordering."
        ),
    )
    mine = StrictBooleanFilter(
        method="filter_mine",
        label=_("Only my reports (also the private ones); needs a signed-in user."),
    )

    class Meta:
        model = Report
        fields: list[str] = []
        form = ReportFilterForm

    def get_form_class(self) -> type[forms.Form]:
        """django-filter's form class, made once per process instead of once per request
        (a new class each time: the feed's filters are the same for every request), whose
        instances share its fields (_SharedFields)."""
        made = type(self).__dict__.get("_form_class")
        if made is None:
            made = super().get_form_class()
            made.base_fields = _SharedFields(made.base_fields)
            type(self)._form_class = made
        return made

    def filter_queryset(self, queryset: QuerySet[Report]) -> QuerySet[Report]:
        queryset = super().filter_queryset(queryset)
        order = self.form.cleaned_data.get("ordering") or FeedOrder.NEWEST
        return selectors.report_feed_ordered(queryset, order=FeedOrder(order))

    # The type of `value` in each method is the parameter's type in the OpenAPI schema.

    def filter_code(self, queryset: QuerySet[Report], name: str, value: str) -> QuerySet[Report]:
        if not value:
            return queryset
        related = _BY_CODE[name]
        return queryset.filter(
            **{
                f"{name}_id": Subquery(
                    related._default_manager.filter(code=value).order_by().values("id")[:1]
                )
            }
        )

    def filter_mine(self, queryset: QuerySet[Report], name: str, value: bool) -> QuerySet[Report]:
        # The view already chose the base queryset from the selector (see ReportViewSet).
        return queryset

    def filter_radius(self, queryset: QuerySet[Report], name: str, value: int) -> QuerySet[Report]:
        return queryset  # filter_near applies it

    def filter_ordering(
        self, queryset: QuerySet[Report], name: str, value: str
    ) -> QuerySet[Report]:
        return queryset  # filter_queryset applies it, after every filter

    def filter_bbox(
        self, queryset: QuerySet[Report], name: str, value: tuple[float, float, float, float]
    ) -> QuerySet[Report]:
        min_lng, min_lat, max_lng, max_lat = value
        return selectors.reports_in_box(
            queryset, min_lng=min_lng, min_lat=min_lat, max_lng=max_lng, max_lat=max_lat
        )

    def filter_near(
        self, queryset: QuerySet[Report], name: str, value: tuple[float, float]
    ) -> QuerySet[Report]:
        radius = self.form.cleaned_data.get("radius") or DEFAULT_RADIUS_METRES
        return selectors.reports_near(queryset, lat=value[0], lng=value[1], radius=radius)

    def filter_q(self, queryset: QuerySet[Report], name: str, value: str) -> QuerySet[Report]:
        return selectors.reports_matching(queryset, query=value)


ReportFilter.base_filters = _FiltersCopiedShallow(ReportFilter.base_filters)


def feed_cache_parameters(query: Any) -> dict[str, str] | None:
    """A feed request's parameters in one canonical form, checked by the same fields as the
    filters' (`near=16.46370,107.5909` and `near=16.4637,107.59090` are one point; "Đường"
    and "duong" one search): what keys a cached page. None when one is invalid or repeated
    (the filter set answers those)."""
    canonical: dict[str, str] = {}
    for name in query:
        values = query.getlist(name)
        if name == "status":
            canonical[name] = ",".join(sorted(set(values)))
            continue
        if len(values) != 1:
            return None
        value = values[0]
        try:
            if name == "near":
                lat, lng = PointField().clean(value)
                canonical[name] = f"{lat!r},{lng!r}"
            elif name == "radius":
                field = forms.IntegerField(min_value=1, max_value=MAX_RADIUS_METRES)
                canonical[name] = str(field.clean(value))
            elif name == "q":
                text = SearchField(max_length=FEED_SEARCH_MAX_LENGTH).clean(value)
                canonical[name] = " ".join(search_words(text))
            else:
                canonical[name] = value
        except forms.ValidationError:
            return None
    return canonical
