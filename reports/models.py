"""Reference data (areas, agencies, categories, routing rules) and reports with their
photos and timeline. Status changes happen only in reports.lifecycle."""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hues.dates import short_time
from hues.languages import active_language
from hues.replies import PLACEHOLDERS, unknown_placeholders


def localized(vi: str, en: str) -> str:
    """The English text when English is active and present, else the Vietnamese."""
    return en if active_language() == "en" and en else vi


class Area(models.Model):
    class Kind(models.TextChoices):
        WARD = "ward", _("Ward")
        COMMUNE = "commune", _("Commune")
        SPECIAL_ZONE = "special_zone", _("Special zone")

    code = models.CharField(_("official code"), max_length=10, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    population = models.PositiveIntegerField(_("population"), null=True, blank=True)
    boundary = models.JSONField(_("boundary"), help_text=_("GeoJSON Polygon or MultiPolygon."))
    min_lng = models.FloatField()
    min_lat = models.FloatField()
    max_lng = models.FloatField()
    max_lat = models.FloatField()

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return localized(self.name, self.name_en)


class Agency(models.Model):
    class Kind(models.TextChoices):
        DEPARTMENT = "department", _("City department")
        UTILITY = "utility", _("Public utility company")
        POLICE = "police", _("Police")
        WARD_COMMITTEE = "ward_committee", _("Ward or commune People's Committee")
        OTHER = "other", _("Other unit")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    short_name = models.CharField(
        _("short name"), max_length=60, blank=True, help_text=_("For lists, e.g. HEPCO.")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    email = models.EmailField(_("contact email"), blank=True)
    area = models.OneToOneField(
        Area,
        verbose_name=_("area"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ward_committee",
        help_text=_("For a ward committee: the area it governs."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(area__isnull=False) | ~Q(kind="ward_committee"),
                name="agency_ward_committee_has_area",
                violation_error_message=_("A ward committee is tied to its area."),
            ),
        ]

    def __str__(self) -> str:
        return self.short_name or self.name

    @property
    def display_name(self) -> str:
        return localized(self.name, self.name_en)


class Category(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_vi = models.CharField(_("name (Vietnamese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    group = models.CharField(_("group"), max_length=100, blank=True)
    icon = models.CharField(_("icon"), max_length=50, blank=True)
    default_agency = models.ForeignKey(
        Agency,
        verbose_name=_("default agency"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Handles reports that no routing rule matches. Empty: dispatcher triage."),
    )
    deadline_hours = models.PositiveIntegerField(_("resolution deadline (hours)"), default=240)
    urgent_deadline_hours = models.PositiveIntegerField(
        _("deadline for urgent reports (hours)"), default=72
    )
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return localized(self.name_vi, self.name_en)


class RoutingRule(models.Model):
    """(category, area or any area) → an agency, or the ward committee of the report's area."""

    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.CASCADE, related_name="rules"
    )
    area = models.ForeignKey(
        Area,
        verbose_name=_("area"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("Empty: any area."),
    )
    agency = models.ForeignKey(
        Agency,
        verbose_name=_("agency"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    to_ward_committee = models.BooleanField(
        _("to the ward committee of the report's area"), default=False
    )

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        ordering = ["category__code", "area__name"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(agency__isnull=False) & Q(to_ward_committee=False))
                | (Q(agency__isnull=True) & Q(to_ward_committee=True)),
                name="routing_rule_one_target",
                violation_error_message=_(
                    "Choose either an agency or the ward committee of the area, not both."
                ),
            ),
            models.UniqueConstraint(
                fields=["category", "area"],
                name="routing_rule_unique_category_area",
                violation_error_message=_("This category already has a rule for this area."),
            ),
            models.UniqueConstraint(
                fields=["category"],
                condition=Q(area__isnull=True),
                name="routing_rule_unique_category_any_area",
                violation_error_message=_("This category already has a rule for any area."),
            ),
        ]

    def __str__(self) -> str:
        target = self.agency or _("ward committee")
        where = self.area or _("any area")
        return f"{self.category.code} / {where} → {target}"


class Channel(models.Model):
    """How a report reached the city: the app, Open311, the hotline, a visit... Administrators
    add channels; the app's and Open311's are set on their reports automatically."""

    APP = "app"
    OPEN311 = "open311"
    HOTLINE = "hotline"

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return localized(self.name, self.name_en)


class ReportStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    NEEDS_TRIAGE = "needs_triage", _("Needs triage")
    ROUTED = "routed", _("Routed")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    REJECTED = "rejected", _("Rejected")
    MERGED = "merged", _("Merged into another report")


# The status groups, each defined once: queries, indexes, the lifecycle and the statistics
# all use these.
# Not finished: someone still has to act (route, handle or resolve it).
OPEN_STATUSES = (
    ReportStatus.SUBMITTED,
    ReportStatus.NEEDS_TRIAGE,
    ReportStatus.ROUTED,
    ReportStatus.IN_PROGRESS,
)
# An agency has it: its deadline clock runs (unless it waits for the citizen).
WITH_AGENCY_STATUSES = (ReportStatus.ROUTED, ReportStatus.IN_PROGRESS)
# Resolved, whether or not the citizen has closed it since: what the statistics count.
RESOLVED_STATUSES = (ReportStatus.RESOLVED, ReportStatus.CLOSED)
# Finished for good: the days photo originals are kept (PHOTO_ORIGINAL_RETENTION_DAYS)
# count from `closed_at` in these.
CLOSED_STATUSES = (ReportStatus.CLOSED, ReportStatus.REJECTED)


class Priority(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")


class HideReason(models.TextChoices):
    """Why a moderator took something away from the public (the reporter is told)."""

    PERSONAL_DATA = "personal_data", _("It shows personal data")
    OFFENSIVE = "offensive", _("It is offensive or abusive")
    NOT_A_REPORT = "not_a_report", _("It is not a report about the city")
    FLAGGED = "flagged", _("Flagged by citizens, awaiting a moderator")
    OTHER = "other", _("Another reason")


class FlagReason(models.TextChoices):
    """Why a citizen flags a public report or comment."""

    SPAM = "spam", _("Spam or advertising")
    OFFENSIVE = "offensive", _("Offensive or abusive")
    PERSONAL_DATA = "personal_data", _("Shows personal data")
    FALSE = "false", _("False or misleading")
    OTHER = "other", _("Something else")


class ReferenceCounter(models.Model):
    """The last report number issued in a year: PREFIX-2026-000123."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("reference counter")

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class Report(models.Model):
    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reporter"),
        on_delete=models.PROTECT,
        related_name="reports",
    )
    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="reports"
    )
    description = models.TextField(_("description"), max_length=2000)
    lat = models.FloatField(_("latitude"))
    lng = models.FloatField(_("longitude"))
    address = models.CharField(_("address"), max_length=255, blank=True)
    area = models.ForeignKey(
        Area,
        verbose_name=_("area"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reports",
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=ReportStatus.choices,
        default=ReportStatus.SUBMITTED,
        editable=False,
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    agency = models.ForeignKey(
        Agency,
        verbose_name=_("agency"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reports",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_reports",
    )
    # Whether the public sees the report: the reporter's choice (`reporter_public`), unless a
    # moderator hid it or it was merged into another report. Written by reports.lifecycle.
    is_public = models.BooleanField(_("public"), default=True)
    reporter_public = models.BooleanField(_("public by the reporter's choice"), default=True)
    hide_name = models.BooleanField(_("hide the reporter's name"), default=False)
    channel = models.ForeignKey(
        Channel,
        verbose_name=_("channel"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reports",
    )
    # A report staff filed for a caller or visitor: who filed it, and whom to text.
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("filed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    caller_name = models.CharField(_("caller's name"), max_length=150, blank=True)
    caller_phone = models.CharField(_("caller's phone"), max_length=20, blank=True)
    caller_consent_at = models.DateTimeField(
        _("caller agreed to be texted at"), null=True, blank=True
    )
    # Moderation: hidden from the public (not from the reporter and staff), and the public
    # text as a moderator edited it, the citizen's own kept here.
    hidden_at = models.DateTimeField(_("hidden at"), null=True, blank=True)
    hidden_reason = models.CharField(
        _("hidden because"), max_length=20, choices=HideReason.choices, blank=True
    )
    original_description = models.TextField(_("original description"), blank=True)
    original_address = models.CharField(_("original address"), max_length=255, blank=True)
    flags_open = models.PositiveIntegerField(_("open flags"), default=0)
    split_from = models.ForeignKey(
        "self",
        verbose_name=_("split from"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="split_into",
    )
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    rating_comment = models.TextField(_("rating comment"), blank=True)
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("duplicate of"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="duplicates",
    )
    supporters_count = models.PositiveIntegerField(_("supporters"), default=0)
    routing_attempts = models.PositiveSmallIntegerField(_("routing attempts"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    routed_at = models.DateTimeField(_("routed at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # The resolution clock stops while the agency waits for the citizen's answer.
    waiting_since = models.DateTimeField(_("waiting for the citizen since"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    # Description, address and reference in lower case without diacritics, for search.
    search_text = models.TextField(editable=False, blank=True, default="")

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-id"]
        permissions = [
            ("work_report", _("Can work on reports of their own agency")),
            ("assign_report", _("Can assign reports to colleagues")),
            ("triage_report", _("Can route, re-route and triage any report")),
            ("moderate_report", _("Can hide and edit what the public sees of reports")),
            ("file_report", _("Can file reports for callers and visitors")),
        ]
        indexes = [
            models.Index(fields=["status", "-id"], name="report_status_id"),
            models.Index(fields=["agency", "status", "-id"], name="report_agency_status_id"),
            models.Index(fields=["reporter", "-id"], name="report_reporter_id"),
            models.Index(fields=["-id"], condition=Q(is_public=True), name="report_public_feed"),
            # The public feed filtered as citizens filter it (reports.api.filters), newest
            # first: a page at any depth is read straight from one of these.
            models.Index(
                fields=["category", "-id"],
                condition=Q(is_public=True),
                name="report_public_category",
            ),
            models.Index(
                fields=["area", "-id"], condition=Q(is_public=True), name="report_public_area"
            ),
            models.Index(
                fields=["agency", "-id"], condition=Q(is_public=True), name="report_public_agency"
            ),
            models.Index(
                fields=["category", "area", "-id"],
                condition=Q(is_public=True),
                name="report_public_category_area",
            ),
            models.Index(
                fields=["status", "-id"], condition=Q(is_public=True), name="report_public_status"
            ),
            # The statistics (reports.stats) read these without touching the table: what was
            # filed in a time range, what was resolved in one (with what each figure needs),
            # what is open now and what is overdue now, longest first.
            models.Index(fields=["created_at", "category", "agency", "area"], name="report_filed"),
            models.Index(
                fields=[
                    "resolved_at",
                    "created_at",
                    "due_at",
                    "rating",
                    "category",
                    "agency",
                    "area",
                ],
                condition=Q(status__in=list(RESOLVED_STATUSES)),
                name="report_resolved",
            ),
            models.Index(
                fields=["category", "agency", "area", "status", "due_at", "waiting_since"],
                condition=Q(status__in=list(OPEN_STATUSES)),
                name="report_open",
            ),
            models.Index(
                fields=["due_at", "id"],
                condition=Q(status__in=list(WITH_AGENCY_STATUSES), waiting_since__isnull=True),
                name="report_overdue",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(lat__gte=-90, lat__lte=90) & Q(lng__gte=-180, lng__lte=180),
                name="report_location_on_earth",
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="report_rating_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        """Past the deadline while an agency has it and the clock runs (as
        reports.selectors.overdue_condition)."""
        return bool(
            self.due_at
            and self.status in WITH_AGENCY_STATUSES
            and self.waiting_since is None
            and self.due_at < timezone.now()
        )


def _photo_path(prefix: str) -> str:
    # Random names: nothing in a URL reveals the report, the user or the upload.
    now = timezone.now()
    return str(PurePosixPath(prefix, f"{now:%Y/%m}", f"{uuid.uuid4().hex}.jpg"))


def photo_upload_to(instance: Photo, filename: str) -> str:
    return _photo_path("photos")


def thumbnail_upload_to(instance: Photo, filename: str) -> str:
    return _photo_path("thumbnails")


def public_photo_upload_to(instance: Photo, filename: str) -> str:
    return _photo_path("public")


def public_thumbnail_upload_to(instance: Photo, filename: str) -> str:
    return _photo_path("public-thumbnails")


class Redaction(models.TextChoices):
    """Where a photo is in the privacy step (reports.privacy)."""

    PENDING = "pending", _("Waiting to be processed")
    DONE = "done", _("Obscured")
    FAILED = "failed", _("Failed: kept private")


class Photo(models.Model):
    class Kind(models.TextChoices):
        EVIDENCE = "evidence", _("Evidence from the citizen")
        RESULT = "result", _("Result from the agency")

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="photos")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    image = models.ImageField(
        _("image"), upload_to=photo_upload_to, width_field="width", height_field="height"
    )
    thumbnail = models.ImageField(_("thumbnail"), upload_to=thumbnail_upload_to)
    width = models.PositiveIntegerField(_("width"), default=0)
    height = models.PositiveIntegerField(_("height"), default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # Hidden from the public by a moderator; the reporter and staff still see it.
    hidden_at = models.DateTimeField(_("hidden at"), null=True, blank=True)
    # Photo privacy (reports.privacy): `image` and `thumbnail` are the evidence copy (the
    # upload re-encoded, unobscured; never public); `public_image` and `public_thumbnail`
    # the rendition with faces and plates obscured, the only one anyone else ever sees.
    public_image = models.ImageField(
        _("public image"), upload_to=public_photo_upload_to, blank=True
    )
    public_thumbnail = models.ImageField(
        _("public thumbnail"), upload_to=public_thumbnail_upload_to, blank=True
    )
    redaction = models.CharField(
        _("faces and plates"), max_length=10, choices=Redaction.choices, default=Redaction.PENDING
    )
    redaction_attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    redaction_error = models.CharField(_("last error"), max_length=500, blank=True)
    redacted_at = models.DateTimeField(_("obscured at"), null=True, blank=True)
    detector_version = models.CharField(_("detector version"), max_length=200, blank=True)
    # The evidence copy deleted (PHOTO_ORIGINAL_RETENTION_DAYS after the report closed).
    original_deleted_at = models.DateTimeField(_("original deleted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["id"]
        indexes = [
            # The photos still to process or that failed: few, looked up by the sweeper,
            # the back-fill and the admin's filter.
            models.Index(
                fields=["redaction"],
                condition=~Q(redaction="done"),
                name="photo_redaction_open",
            ),
        ]

    def __str__(self) -> str:
        return PurePosixPath(self.image.name or self.public_image.name or "").name

    @property
    def is_published(self) -> bool:
        """Whether its obscured rendition exists: until then nobody but its reporter and
        staff sees the photo at all."""
        return self.redaction == Redaction.DONE and bool(self.public_image.name)

    @property
    def has_original(self) -> bool:
        return self.original_deleted_at is None and bool(self.image.name)

    @property
    def staff_thumbnail_name(self) -> str:
        """The thumbnail staff see: the evidence copy's while it is kept, then the public
        one."""
        return str((self.thumbnail if self.has_original else self.public_thumbnail).name or "")


class PhotoRegion(models.Model):
    """A box obscured in a photo's public rendition, found by the detector or drawn by
    staff. Staff removing a false one keeps the row (`removed_at`), so the detector's
    answer and the correction both stay on record."""

    class Kind(models.TextChoices):
        FACE = "face", _("Face")
        PLATE = "plate", _("Licence plate")
        OTHER = "other", _("Other")

    class Source(models.TextChoices):
        DETECTOR = "detector", _("Detector")
        STAFF = "staff", _("Staff")

    photo = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="regions")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    x = models.PositiveIntegerField()
    y = models.PositiveIntegerField()
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    score = models.FloatField(_("score"), null=True, blank=True)
    detector_version = models.CharField(_("detector version"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    removed_at = models.DateTimeField(_("removed at"), null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("obscured region")
        verbose_name_plural = _("obscured regions")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(width__gt=0, height__gt=0), name="photo_region_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.x},{self.y} {self.width}x{self.height}"


class Supporter(models.Model):
    """A citizen's "me too" on someone else's report; once per user and report."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="supporters")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="supported_reports"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Set when the support came from a duplicate merged into this report (its reporter or a
    # supporter of it): undoing the merge takes it away again.
    merged_from = models.ForeignKey(
        "Report", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        verbose_name = _("supporter")
        verbose_name_plural = _("supporters")
        constraints = [
            models.UniqueConstraint(fields=["report", "user"], name="supporter_once_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.report_id}"


class Holiday(models.Model):
    """A public holiday: no working hours count towards deadlines on this day."""

    date = models.DateField(_("date"), unique=True)
    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("public holiday")
        verbose_name_plural = _("public holidays")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%d/%m/%Y} {self.name}"


class IdempotencyKey(models.Model):
    """A client's Idempotency-Key for filing a report: the same key and body give the same
    report, whatever the number of retries."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    report = models.ForeignKey(
        Report, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_per_user"),
        ]

    def __str__(self) -> str:
        return self.key


class Event(models.Model):
    """One entry of a report's timeline."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        ROUTED = "routed", _("Routed")
        NEEDS_TRIAGE = "needs_triage", _("Sent to triage")
        ACCEPTED = "accepted", _("Accepted")
        ASSIGNED = "assigned", _("Assigned")
        STATUS_CHANGED = "status_changed", _("Status changed")
        TRANSFERRED = "transferred", _("Transferred")
        PUBLIC_UPDATE = "public_update", _("Update")
        INTERNAL_NOTE = "internal_note", _("Internal note")
        RESOLVED = "resolved", _("Resolved")
        REJECTED = "rejected", _("Rejected")
        REOPENED = "reopened", _("Reopened")
        CLOSED = "closed", _("Closed")
        RATED = "rated", _("Rated")
        COMMENTED = "commented", _("Comment from the citizen")
        ESCALATED = "escalated", _("Escalated")
        CORRECTED = "corrected", _("Corrected")
        HIDDEN = "hidden", _("Hidden from the public")
        SHOWN = "shown", _("Shown to the public again")
        EDITED = "edited", _("Public text edited")
        PHOTO_HIDDEN = "photo_hidden", _("Photo hidden from the public")
        PHOTO_SHOWN = "photo_shown", _("Photo shown again")
        PHOTO_REDACTED = "photo_redacted", _("Obscured areas of a photo changed")
        COMMENT_HIDDEN = "comment_hidden", _("Comment hidden")
        MERGED = "merged", _("Merged into another report")
        DUPLICATE_ADDED = "duplicate_added", _("Duplicate merged in")
        UNMERGED = "unmerged", _("Merge undone")
        DUPLICATE_REMOVED = "duplicate_removed", _("Duplicate taken out")
        SPLIT = "split", _("Split into several reports")

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    from_status = models.CharField(
        _("from status"), max_length=20, choices=ReportStatus.choices, blank=True
    )
    to_status = models.CharField(
        _("to status"), max_length=20, choices=ReportStatus.choices, blank=True
    )
    message = models.TextField(_("message"), blank=True)
    is_public = models.BooleanField(_("visible to the citizen"), default=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    # A comment a moderator hid: the public sees a placeholder, nothing is deleted.
    moderated_at = models.DateTimeField(_("hidden by a moderator at"), null=True, blank=True)
    # Set by `reports.notify` once everyone concerned has been told; an event still without
    # it after NOTIFY_SWEEP_AFTER lost its task (a broker outage, a dead worker) and the
    # sweeper (`reports.sweep_unnotified`) enqueues it again.
    notified_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("timeline")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["report", "created_at"]),
            models.Index(
                fields=["created_at"],
                condition=Q(notified_at__isnull=True),
                name="event_not_notified",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({short_time(self.created_at)})"

    @property
    def is_moderated(self) -> bool:
        return self.moderated_at is not None


class Flag(models.Model):
    """A citizen's flag on a public report, or on one of its comments (`event`): once per
    user and thing flagged. Open flags wait in the moderation queue until a moderator keeps
    (`dismissed`) or hides (`upheld`) what was flagged."""

    class Decision(models.TextChoices):
        UPHELD = "upheld", _("Hidden")
        DISMISSED = "dismissed", _("Kept visible")

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="flags")
    event = models.ForeignKey(
        Event, null=True, blank=True, on_delete=models.CASCADE, related_name="flags"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="flags"
    )
    reason = models.CharField(_("reason"), max_length=20, choices=FlagReason.choices)
    created_at = models.DateTimeField(_("flagged at"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices, blank=True)

    class Meta:
        verbose_name = _("flag")
        verbose_name_plural = _("flags")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "report"],
                condition=Q(event__isnull=True),
                name="flag_report_once_per_user",
            ),
            models.UniqueConstraint(
                fields=["user", "event"],
                condition=Q(event__isnull=False),
                name="flag_comment_once_per_user",
            ),
        ]
        indexes = [
            models.Index(fields=["report"], condition=Q(decided_at__isnull=True), name="flag_open")
        ]

    def __str__(self) -> str:
        return f"{self.report_id}:{self.reason}"


class ReplyPurpose(models.TextChoices):
    """What a reply template is for (the codes are hues.replies.PURPOSES)."""

    PUBLIC_UPDATE = "public_update", _("Public update")
    QUESTION = "question", _("Question to the citizen")
    RESOLUTION = "resolution", _("Resolution")
    REJECTION = "rejection", _("Rejection")


def validate_placeholders(text: str) -> None:
    unknown = unknown_placeholders(text)
    if unknown:
        raise ValidationError(
            _("Unknown placeholder(s): %(unknown)s. Use only %(known)s."),
            code="unknown_placeholder",
            params={
                "unknown": ", ".join(f"{{{name}}}" for name in unknown),
                "known": ", ".join(f"{{{name}}}" for name in PLACEHOLDERS),
            },
        )


class ReplyTemplate(models.Model):
    """A ready answer to a citizen, for one purpose, in one language, for one category
    and/or agency or for all: staff pick it in the admin's forms and edit it before sending.
    Its placeholders ({reference}, {category}, {agency}, {ward}, {deadline}) are filled from
    the report (reports.replies)."""

    name = models.CharField(
        _("name"), max_length=120, help_text=_("What staff see in the list of templates.")
    )
    purpose = models.CharField(_("purpose"), max_length=20, choices=ReplyPurpose.choices)
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("Empty: reports of any category."),
    )
    agency = models.ForeignKey(
        Agency,
        verbose_name=_("agency"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="reply_templates",
        help_text=_("Empty: reports of any agency."),
    )
    text = models.TextField(
        _("text"),
        max_length=2000,
        validators=[validate_placeholders],
        help_text=_(
            "Placeholders, filled from the report: {reference}, {category}, {agency}, {ward}, "
            "{deadline}."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    # The key of a template the city's definition seeds ([[reply_templates]] in city.toml),
    # so that loading it again finds the template, changed or not; empty for the others.
    code = models.SlugField(_("code"), max_length=60, blank=True, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("reply template")
        verbose_name_plural = _("reply templates")
        ordering = ["purpose", "language", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["code", "language"],
                condition=~Q(code=""),
                name="reply_template_code_language",
            ),
        ]
        indexes = [models.Index(fields=["purpose", "language"], name="reply_template_purpose")]

    def __str__(self) -> str:
        return self.name
