"""Input and output shapes of the reports API. Serializers never write."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import TextChoices
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from hues.links import absolute_url
from reports.media import photo_url
from reports.models import (
    Agency,
    Area,
    Category,
    Event,
    FlagReason,
    Photo,
    Priority,
    Report,
    ReportStatus,
)
from reports.selectors import categories_active


class CategoryOutput(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name")

    class Meta:
        model = Category
        fields = ["code", "name", "group", "icon", "deadline_hours", "urgent_deadline_hours"]


class AreaOutput(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name")
    bbox = serializers.SerializerMethodField()

    class Meta:
        model = Area
        fields = ["code", "name", "kind", "population", "bbox"]

    @extend_schema_field(
        serializers.ListField(child=serializers.FloatField(), min_length=4, max_length=4)
    )
    def get_bbox(self, area: Area) -> list[float]:
        return [area.min_lng, area.min_lat, area.max_lng, area.max_lat]


_DATETIME = serializers.DateTimeField()
# A reference the detail route accepts, replaced by each report's in its link.
_PLACEHOLDER = "XX-0000-000000"


def _datetime(value: datetime | None) -> str | None:
    """As serializers.DateTimeField shows it: ISO 8601 in the current time zone."""
    return None if value is None else _DATETIME.to_representation(value)


def _label(choices: type[TextChoices], value: str) -> str:
    """What get_FOO_display gives for a field with these choices (the value itself when it
    is none of them), without Django's hashing every choice's label on each call: one
    translation lookup instead of one per choice (a feed page asks twenty times)."""
    try:
        return str(choices(value).label)
    except ValueError:
        return value


class PageLookups(serializers.BaseSerializer):
    """What every item a serializer shows shares, looked up once per serializer: DRF's list
    serializer has one child for a whole page (a feed page, an Open311 list of up to
    1,000). The viewer, and the display names of the reference rows (categories, areas,
    agencies) in the active language: a cold feed page spent a tenth of its time asking for
    them again for every report and photo."""

    @functools.cached_property
    def _viewer(self) -> int | None:
        """The id of the user the request is from; None for anyone anonymous."""
        return getattr(getattr(self.context.get("request"), "user", None), "pk", None)

    @functools.cached_property
    def _display_names(self) -> dict[tuple[type, Any], str]:
        return {}

    def _display_name(self, value: Area | Agency | Category) -> str:
        key = (type(value), value.pk)
        found = self._display_names.get(key)
        if found is None:
            found = self._display_names[key] = str(value.display_name)
        return found


class CodeNameOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField(source="display_name")


class PhotoOutput(PageLookups, serializers.ModelSerializer):
    """A photo as its viewer may see it: everyone gets the public rendition, with faces and
    plates obscured (reports.privacy); its reporter also sees their photo before it is
    processed, and gets `original_url`, the unobscured copy, by a URL that expires."""

    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    public = serializers.SerializerMethodField(
        help_text=_("Whether others see it: processed (faces and plates obscured), not hidden.")
    )
    original_url = serializers.SerializerMethodField(
        help_text=_("The photo as sent, not obscured: for its reporter only; the URL expires.")
    )

    class Meta:
        model = Photo
        fields = ["url", "thumbnail_url", "width", "height", "kind", "public", "original_url"]

    def _absolute(self, url: str) -> str:
        return absolute_url(self.context.get("request"), url)

    def _viewer_is_reporter(self, photo: Photo) -> bool:
        viewer = self._viewer
        return viewer is not None and viewer == photo.report.reporter_id

    def _shown(self, photo: Photo) -> tuple[str, str]:
        """Signed URLs (paths) of the photo and its thumbnail: of the public rendition (a
        private report's expire, reports.media); of the evidence copy, expiring, only while
        the photo waits (only its reporter gets this far: ReportOutput leaves unprocessed
        photos out for everyone else)."""
        if photo.is_published:
            expiring = not photo.report.is_public
            return (
                photo_url(str(photo.public_image.name), expiring=expiring),
                photo_url(str(photo.public_thumbnail.name), expiring=expiring),
            )
        return (
            photo_url(str(photo.image.name), expiring=True),
            photo_url(str(photo.thumbnail.name), expiring=True),
        )

    @extend_schema_field(serializers.URLField())
    def get_url(self, photo: Photo) -> str:
        return self._absolute(self._shown(photo)[0])

    @extend_schema_field(serializers.URLField())
    def get_thumbnail_url(self, photo: Photo) -> str:
        return self._absolute(self._shown(photo)[1])

    @extend_schema_field(serializers.BooleanField())
    def get_public(self, photo: Photo) -> bool:
        return photo.is_published and photo.hidden_at is None

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_original_url(self, photo: Photo) -> str | None:
        if not (self._viewer_is_reporter(photo) and photo.has_original):
            return None
        return self._absolute(photo_url(str(photo.image.name), expiring=True))

    def to_representation(self, photo: Photo) -> dict[str, Any]:
        # What the declared fields give, without DRF's per-field machinery, both URLs
        # signed in one pass (feed hot path; tests/reports/test_fast_representation.py
        # compares both).
        url, thumbnail_url = self._shown(photo)
        return {
            "url": self._absolute(url),
            "thumbnail_url": self._absolute(thumbnail_url),
            "width": photo.width,
            "height": photo.height,
            "kind": photo.kind,
            "public": self.get_public(photo),
            "original_url": self.get_original_url(photo),
        }


# What the public reads in place of a comment a moderator hid (nothing is deleted).
HIDDEN_COMMENT = _("This comment was hidden by a moderator.")


class EventOutput(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display")
    message = serializers.CharField(
        help_text=_("The entry's text; a placeholder for a comment a moderator hid.")
    )
    hidden = serializers.BooleanField(
        source="is_moderated", help_text=_("A comment a moderator hid from the public.")
    )

    class Meta:
        model = Event
        fields = [
            "id",
            "kind",
            "kind_label",
            "from_status",
            "to_status",
            "message",
            "hidden",
            "created_at",
        ]
        extra_kwargs = {"id": {"help_text": _("Name it to flag a comment.")}}

    def to_representation(self, event: Event) -> dict[str, Any]:
        hidden = event.moderated_at is not None
        return {
            "id": event.pk,
            "kind": event.kind,
            "kind_label": _label(Event.Kind, event.kind),
            "from_status": event.from_status,
            "to_status": event.to_status,
            "message": str(HIDDEN_COMMENT) if hidden else event.message,
            "hidden": hidden,
            "created_at": _datetime(event.created_at),
        }


class LinksOutput(serializers.Serializer):
    self = serializers.URLField()


class ReportOutput(PageLookups, serializers.ModelSerializer):
    category = CodeNameOutput()
    area = CodeNameOutput(allow_null=True)
    agency = CodeNameOutput(allow_null=True)
    status_label = serializers.CharField(source="get_status_display")
    reporter_name = serializers.SerializerMethodField()
    supporters = serializers.IntegerField(source="supporters_count")
    photos = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = [
            "reference",
            "status",
            "status_label",
            "category",
            "description",
            "lat",
            "lng",
            "address",
            "area",
            "agency",
            "priority",
            "is_public",
            "hide_name",
            "reporter_name",
            "created_at",
            "updated_at",
            "due_at",
            "resolved_at",
            "supporters",
            "photos",
            "links",
        ]

    def get_reporter_name(self, report: Report) -> str | None:
        """The reporter's name, unless they hid it; they always see their own."""
        viewer = self._viewer
        if report.hide_name and not (viewer is not None and viewer == report.reporter_id):
            return None
        return report.reporter.full_name

    # Besides PageLookups', what every report of a page shares, looked up once: the time
    # zone, the status labels in the viewer's language, the photos' serializer.

    @functools.cached_property
    def _dates(self) -> serializers.DateTimeField:
        """DRF's DateTimeField with the current time zone fixed (it looks it up per value)."""
        return serializers.DateTimeField(default_timezone=timezone.get_current_timezone())

    def _datetime(self, value: datetime | None) -> str | None:
        return None if value is None else self._dates.to_representation(value)

    @functools.cached_property
    def _status_labels(self) -> dict[str, str]:
        return {}

    def _status_label(self, status: str) -> str:
        found = self._status_labels.get(status)
        if found is None:
            found = self._status_labels[status] = _label(ReportStatus, status)
        return found

    def _code_name(self, value: Area | Agency | Category | None) -> dict[str, str] | None:
        """As CodeNameOutput shows it."""
        return None if value is None else {"code": value.code, "name": self._display_name(value)}

    @functools.cached_property
    def _photo_output(self) -> PhotoOutput:
        return PhotoOutput(context=self.context)

    @extend_schema_field(LinksOutput)
    def get_links(self, report: Report) -> dict[str, str]:
        request = self.context.get("request")
        url = reverse("report-detail", kwargs={"reference": report.reference}, request=request)
        return {"self": url}

    def _detail_url(self, reference: str) -> str:
        """get_links' URL, reversed once per serializer and filled in for each report."""
        template: str | None = getattr(self, "_detail_template", None)
        if template is None:
            request = self.context.get("request")
            template = reverse("report-detail", kwargs={"reference": _PLACEHOLDER}, request=request)
            self._detail_template = template
        return template.replace(_PLACEHOLDER, reference)

    def _photos(self, report: Report) -> list[Photo]:
        """The photos the viewer may see: its reporter all of theirs; anyone else those
        processed (faces and plates obscured, reports.privacy) and not hidden by a
        moderator."""
        viewer = self._viewer
        if viewer is not None and viewer == report.reporter_id:
            return [
                photo for photo in report.photos.all() if photo.is_published or photo.has_original
            ]
        return [
            photo for photo in report.photos.all() if photo.hidden_at is None and photo.is_published
        ]

    @extend_schema_field(PhotoOutput(many=True))
    def get_photos(self, report: Report) -> list[dict[str, Any]]:
        photos = self._photo_output
        return [photos.to_representation(photo) for photo in self._photos(report)]

    def to_representation(self, report: Report) -> dict[str, Any]:
        """What the declared fields give (the schema's shape), built directly: DRF's
        generic field-by-field path costs more than the query on a feed page.
        tests/reports/test_fast_representation.py checks both give the same."""
        return {
            "reference": report.reference,
            "status": report.status,
            "status_label": self._status_label(report.status),
            "category": self._code_name(report.category),
            "description": report.description,
            "lat": report.lat,
            "lng": report.lng,
            "address": report.address,
            "area": self._code_name(report.area),
            "agency": self._code_name(report.agency),
            "priority": report.priority,
            "is_public": report.is_public,
            "hide_name": report.hide_name,
            "reporter_name": self.get_reporter_name(report),
            "created_at": self._datetime(report.created_at),
            "updated_at": self._datetime(report.updated_at),
            "due_at": self._datetime(report.due_at),
            "resolved_at": self._datetime(report.resolved_at),
            "supporters": report.supporters_count,
            "photos": self.get_photos(report),
            "links": {"self": self._detail_url(report.reference)},
        }

    def generic_representation(self, report: Report) -> dict[str, Any]:
        """DRF's own rendering of the declared fields (for the test of the fast one)."""
        return dict(super().to_representation(report))


class ReportDetailOutput(ReportOutput):
    timeline = EventOutput(many=True, source="public_events")
    duplicate_of: serializers.SlugRelatedField[Report] = serializers.SlugRelatedField(
        slug_field="reference",
        read_only=True,
        allow_null=True,
        help_text=_("The report this one was merged into as a duplicate; null otherwise."),
    )

    class Meta(ReportOutput.Meta):
        fields = [*ReportOutput.Meta.fields, "duplicate_of", "timeline"]

    def to_representation(self, report: Report) -> dict[str, Any]:
        body = super().to_representation(report)
        original = report.duplicate_of
        body["duplicate_of"] = original.reference if original is not None else None
        events = EventOutput(context=self.context)
        public_events = report.public_events  # type: ignore[attr-defined]
        body["timeline"] = [events.to_representation(event) for event in public_events]
        return body


class ReportCreateInput(serializers.Serializer):
    category = serializers.CharField(max_length=40, help_text=_("A category code."))
    description = serializers.CharField(max_length=2000)
    lat = serializers.FloatField(min_value=-90, max_value=90)
    lng = serializers.FloatField(min_value=-180, max_value=180)
    address = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    is_public = serializers.BooleanField(required=False, default=True)
    hide_name = serializers.BooleanField(required=False, default=False)
    priority = serializers.ChoiceField(
        choices=Priority.choices, required=False, default=Priority.NORMAL
    )
    photos = serializers.ListField(
        child=serializers.FileField(allow_empty_file=False, max_length=255),
        allow_empty=True,
        required=False,
        default=list,
        help_text=format_lazy(
            _("1 to {max} photos (JPEG, PNG, WebP or HEIC)."), max=settings.PHOTO_MAX_PER_REPORT
        ),
    )

    def validate_description(self, value: str) -> str:
        if "\x00" in value:
            raise serializers.ValidationError(_("The text contains a forbidden character."))
        return value

    def validate_address(self, value: str) -> str:
        return self.validate_description(value)


class AgencyOutput(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name")

    class Meta:
        model = Agency
        fields = ["code", "name", "kind"]


# Citizen actions on a report.


class ReportPhotosInput(serializers.Serializer):
    photos = serializers.ListField(
        child=serializers.FileField(allow_empty_file=False, max_length=255),
        allow_empty=True,
        required=False,
        default=list,
        help_text=format_lazy(
            _("1 or more photos (JPEG, PNG, WebP or HEIC), up to {max} on the report in all."),
            max=settings.PHOTO_MAX_PER_REPORT,
        ),
    )


class CommentInput(serializers.Serializer):
    message = serializers.CharField(max_length=2000, help_text=_("A message to the agency."))


class RatingInput(serializers.Serializer):
    stars = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class RatingOutput(serializers.Serializer):
    reference = serializers.CharField(source="report.reference")
    status = serializers.CharField(source="report.status")
    stars = serializers.IntegerField(source="report.rating")
    comment = serializers.CharField(source="report.rating_comment")
    ask_reopen = serializers.BooleanField(
        help_text=_("A low rating: offer the citizen to reopen the report.")
    )
    reopen_until = serializers.DateTimeField(
        allow_null=True, help_text=_("Until when the report may be reopened; null once it may not.")
    )


class ReopenInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text=_("What is still wrong."))


class SupportOutput(serializers.Serializer):
    reference = serializers.CharField()
    supported = serializers.BooleanField(help_text=_("Whether the caller supports it now."))
    supporters = serializers.IntegerField()


class FlagInput(serializers.Serializer):
    reason = serializers.ChoiceField(choices=FlagReason.choices)
    comment = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        help_text=_("The id of a comment in the report's timeline, to flag it instead."),
    )


class FlagOutput(serializers.Serializer):
    reference = serializers.CharField()
    comment = serializers.IntegerField(allow_null=True)
    flagged = serializers.BooleanField(help_text=_("The flag waits for a moderator."))


class NearbyQuery(serializers.Serializer):
    lat = serializers.FloatField(min_value=-90, max_value=90)
    lng = serializers.FloatField(min_value=-180, max_value=180)
    category = serializers.CharField(max_length=40, help_text=_("A category code."))

    def validate_category(self, value: str) -> Category:
        category = categories_active().filter(code=value).first()
        if category is None:
            raise serializers.ValidationError(
                _("Choose one of the categories offered."), code="unknown_category"
            )
        return category


class NearbyReportOutput(ReportOutput):
    distance = serializers.IntegerField(read_only=True, help_text=_("Metres from the point."))

    class Meta(ReportOutput.Meta):
        fields = [*ReportOutput.Meta.fields, "distance"]

    def to_representation(self, report: Report) -> dict[str, Any]:
        body = super().to_representation(report)
        body["distance"] = int(report.distance)  # type: ignore[attr-defined]
        return body


class NearbyOutput(serializers.Serializer):
    radius = serializers.IntegerField(help_text=_("The search radius in metres."))
    results = NearbyReportOutput(many=True)
