"""City alerts to citizens by area (floods, water and power cuts, weather, scams), and who
was told of each one. State changes happen only in alerts.services."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Alert(models.Model):
    class Kind(models.TextChoices):
        FLOOD = "flood", _("Flood")
        WATER_CUT = "water_cut", _("Water cut")
        POWER_CUT = "power_cut", _("Power cut")
        WEATHER = "weather", _("Dangerous weather")
        SCAM = "scam", _("Scam warning")
        OTHER = "other", _("Other")

    class Severity(models.TextChoices):
        INFO = "info", _("Information")
        WARNING = "warning", _("Warning")
        DANGER = "danger", _("Danger")

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHING = "publishing", _("Publishing")
        PUBLISHED = "published", _("Published")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    title_vi = models.CharField(_("title (Vietnamese)"), max_length=150)
    title_en = models.CharField(_("title (English)"), max_length=150)
    text_vi = models.TextField(_("text (Vietnamese)"), max_length=2000)
    text_en = models.TextField(_("text (English)"), max_length=2000)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    severity = models.CharField(
        _("severity"), max_length=10, choices=Severity.choices, default=Severity.INFO
    )
    whole_city = models.BooleanField(
        _("whole city"), default=False, help_text=_("For every citizen, whatever the area.")
    )
    areas = models.ManyToManyField(
        "reports.Area",
        verbose_name=_("areas"),
        blank=True,
        related_name="alerts",
        help_text=_("The wards and communes concerned; leave empty for the whole city."),
    )
    starts_at = models.DateTimeField(_("starts at"), default=timezone.now)
    ends_at = models.DateTimeField(_("ends at"))
    state = models.CharField(
        _("state"), max_length=12, choices=State.choices, default=State.DRAFT, editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("withdrawn by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True, editable=False)
    # Progress of the sending, kept by the tasks (alerts.services).
    recipients_total = models.PositiveIntegerField(_("recipients"), default=0, editable=False)
    batches_total = models.PositiveIntegerField(_("batches"), default=0, editable=False)
    notified_count = models.PositiveIntegerField(_("notified"), default=0, editable=False)
    pushed_count = models.PositiveIntegerField(_("pushed"), default=0, editable=False)
    selected_at = models.DateTimeField(
        _("recipients chosen at"), null=True, blank=True, editable=False
    )
    progress_at = models.DateTimeField(_("last progress"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-id"]
        permissions = [("publish_alert", _("Can publish and withdraw alerts"))]
        indexes = [models.Index(fields=["state", "ends_at"], name="alert_state_ends")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="alert_ends_after_start",
                violation_error_message=_("The end must come after the start."),
            ),
        ]

    def __str__(self) -> str:
        return self.title_vi

    @property
    def title(self) -> str:
        return self.title_en if _english() and self.title_en else self.title_vi

    @property
    def text(self) -> str:
        return self.text_en if _english() and self.text_en else self.text_vi


def _english() -> bool:
    return (get_language() or "vi").split("-")[0] == "en"


class AlertRecipient(models.Model):
    """One citizen an alert is for: chosen once when it is published (unique per alert and
    user, so publishing twice or a task's re-run never tells anyone twice), sent in `batch`."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="recipients")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    batch = models.PositiveIntegerField()
    notification = models.OneToOneField(
        "notifications.Notification",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="alert_recipient",
    )
    # Set when the batch task handled this recipient (told, or skipped: deactivated since).
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("alert recipient")
        verbose_name_plural = _("alert recipients")
        constraints = [
            models.UniqueConstraint(fields=["alert", "user"], name="alert_recipient_once"),
        ]
        indexes = [
            models.Index(fields=["alert", "batch"], name="alert_recipient_batch"),
            models.Index(
                fields=["alert"], condition=Q(handled_at__isnull=True), name="alert_recipient_todo"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.alert_id} → {self.user_id}"
