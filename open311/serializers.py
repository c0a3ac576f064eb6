"""Input and output shapes of GeoReport v2. Serializers never write."""

from __future__ import annotations

import functools
import re
from datetime import datetime, timedelta
from typing import Any

from django.core.validators import URLValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from hues.links import absolute_url
from open311.selectors import CLOSED, MAX_REQUESTS, OPEN, open311_status
from reports.api.serializers import PageLookups
from reports.media import photo_url
from reports.models import Category, Report

# GeoReport v2: with no dates, the last 90 days; a range may not span more than 90 days.
MAX_RANGE = timedelta(days=90)
# "+07:00" sent without URL-encoding arrives as " 07:00".
LOST_PLUS = re.compile(r" (\d{2}(?::?\d{2})?)$")


def _split(value: str) -> list[str]:
    return list(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))


class W3CDateTimeField(serializers.DateTimeField):
    """A W3C (ISO 8601) date-time; written in the city's time with its offset, to the second."""

    def to_internal_value(self, value: Any) -> datetime:
        if isinstance(value, str):
            value = LOST_PLUS.sub(r"+\1", value.strip())
        return super().to_internal_value(value)

    def to_representation(self, value: datetime | None) -> Any:
        # In the zone it was given (default_timezone), else the current one.
        zone = getattr(self, "timezone", None)
        return timezone.localtime(value, zone).isoformat(timespec="seconds") if value else None


class ServiceRequestsQuery(serializers.Serializer):
    """GET requests: every parameter is optional; an empty one counts as absent."""

    service_request_id = serializers.CharField(required=False, allow_blank=True)
    service_code = serializers.CharField(required=False, allow_blank=True)
    start_date = W3CDateTimeField(required=False, allow_null=True)
    end_date = W3CDateTimeField(required=False, allow_null=True)
    status = serializers.CharField(required=False, allow_blank=True)

    def to_internal_value(self, data: Any) -> Any:
        present = {key: value for key, value in data.items() if value != ""}
        return super().to_internal_value(present)

    def validate_service_request_id(self, value: str) -> list[str]:
        references = _split(value)
        if len(references) > MAX_REQUESTS:
            raise serializers.ValidationError(
                _("Ask for at most %(max)d requests at once.") % {"max": MAX_REQUESTS}
            )
        return references

    def validate_service_code(self, value: str) -> list[str]:
        return _split(value)

    def validate_status(self, value: str) -> set[str]:
        statuses = set(_split(value))
        if not statuses or statuses - {OPEN, CLOSED}:
            raise serializers.ValidationError(_("Use open, closed, or both separated by a comma."))
        return statuses

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start: datetime | None = attrs.get("start_date")
        end: datetime | None = attrs.get("end_date")
        if end is None:
            end = timezone.now() if start is None else start + MAX_RANGE
        if start is None:
            start = end - MAX_RANGE
        if end < start:
            raise serializers.ValidationError({"end_date": _("end_date is before start_date.")})
        if end - start > MAX_RANGE:
            raise serializers.ValidationError(
                {"end_date": _("The date range may not span more than 90 days.")}
            )
        return {**attrs, "start_date": start, "end_date": end}


class ServiceRequestCreateInput(serializers.Serializer):
    """POST requests (form-encoded). We have no geocoder: lat and long are required."""

    service_code = serializers.CharField(max_length=40)
    lat = serializers.FloatField(min_value=-90, max_value=90)
    long = serializers.FloatField(min_value=-180, max_value=180)
    address_string = serializers.CharField(
        max_length=255, required=False, allow_blank=True, default=""
    )
    description = serializers.CharField(max_length=2000)
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    media_url = serializers.CharField(
        max_length=500,
        required=False,
        allow_blank=True,
        default="",
        validators=[URLValidator(schemes=["http", "https"])],
    )


class ServiceOutput(serializers.Serializer):
    service_code = serializers.CharField(source="code")
    service_name = serializers.CharField(source="display_name")
    description = serializers.CharField(source="display_name")
    metadata = serializers.SerializerMethodField()
    type = serializers.SerializerMethodField()
    keywords = serializers.SerializerMethodField()
    group = serializers.CharField()

    def get_metadata(self, category: Category) -> bool:
        return False  # no attributes beyond the standard fields

    def get_type(self, category: Category) -> str:
        return "realtime"

    def get_keywords(self, category: Category) -> str:
        return ", ".join(word for word in (category.group, category.code) if word)


class ServiceDefinitionOutput(serializers.Serializer):
    service_code = serializers.CharField(source="code")
    attributes = serializers.SerializerMethodField()

    def get_attributes(self, category: Category) -> list[dict[str, Any]]:
        return []


class ServiceRequestOutput(PageLookups, serializers.Serializer):
    """A public report as GeoReport v2 shows it: never anything about the reporter."""

    service_request_id = serializers.CharField(source="reference")
    status = serializers.SerializerMethodField()
    status_notes = serializers.CharField(allow_null=True)
    service_name = serializers.CharField(source="category.display_name")
    service_code = serializers.CharField(source="category.code")
    description = serializers.CharField()
    agency_responsible = serializers.SerializerMethodField()
    service_notice = serializers.SerializerMethodField()
    requested_datetime = W3CDateTimeField(source="created_at")
    updated_datetime = W3CDateTimeField(source="updated_at")
    expected_datetime = W3CDateTimeField(source="due_at", allow_null=True)
    address = serializers.CharField()
    address_id = serializers.SerializerMethodField()
    zipcode = serializers.SerializerMethodField()
    lat = serializers.FloatField()
    long = serializers.FloatField(source="lng")
    media_url = serializers.SerializerMethodField()

    def get_status(self, report: Report) -> str:
        return open311_status(report.status)

    def get_agency_responsible(self, report: Report) -> str | None:
        return report.agency.display_name if report.agency else None

    def get_service_notice(self, report: Report) -> None:
        return None

    def get_address_id(self, report: Report) -> None:
        return None

    def get_zipcode(self, report: Report) -> None:
        return None

    def get_media_url(self, report: Report) -> str | None:
        """The public rendition (faces and plates obscured) of the first photo the citizen
        sent, or the media URL an Open311 client gave."""
        name = getattr(report, "first_photo", None)
        if not name:
            return getattr(report, "submitted_media_url", None) or None
        url = photo_url(name, expiring=False)  # Open311 lists public reports only
        return self._absolute(url)

    def _absolute(self, url: str) -> str:
        return absolute_url(self.context.get("request"), url)

    @functools.cached_property
    def _dates(self) -> W3CDateTimeField:
        """W3CDateTimeField with the current time zone fixed: looked up once per list (of
        up to 1,000), not for each of its three dates of each request."""
        return W3CDateTimeField(default_timezone=timezone.get_current_timezone())

    def to_representation(self, report: Report) -> dict[str, Any]:
        # What the declared fields give (the schema's shape), without DRF's per-field
        # machinery: a list holds up to 1,000 requests (tests/open311/test_fast_output.py
        # compares both).
        when = self._dates.to_representation
        notes = getattr(report, "status_notes", None)  # annotated by open311.selectors
        agency = report.agency
        return {
            "service_request_id": report.reference,
            "status": self.get_status(report),
            "status_notes": None if notes is None else str(notes),
            "service_name": self._display_name(report.category),
            "service_code": str(report.category.code),
            "description": str(report.description),
            "agency_responsible": self._display_name(agency) if agency else None,
            "service_notice": None,
            "requested_datetime": when(report.created_at),
            "updated_datetime": when(report.updated_at),
            "expected_datetime": when(report.due_at),
            "address": str(report.address),
            "address_id": None,
            "zipcode": None,
            "lat": float(report.lat),
            "long": float(report.lng),
            "media_url": self.get_media_url(report),
        }

    def generic_representation(self, report: Report) -> dict[str, Any]:
        """DRF's own, from the declared fields: what the hand-built one must equal."""
        return dict(super().to_representation(report))


class ServiceRequestCreatedOutput(serializers.Serializer):
    service_request_id = serializers.CharField(source="reference")
    service_notice = serializers.SerializerMethodField()
    account_id = serializers.SerializerMethodField()

    def get_service_notice(self, report: Report) -> str:
        return str(_("Received. It is routed to the agency responsible, which answers in public."))

    def get_account_id(self, report: Report) -> None:
        return None  # the person has no account with us


class TokenOutput(serializers.Serializer):
    service_request_id = serializers.CharField(source="reference")
    token = serializers.CharField(source="reference")
