"""What users are told (their in-app inbox) and how each notification reaches them.

The tables are the ones these models had in the reports app (`reports_notification`,
`reports_delivery`): they moved here without copying a row (migration 0001 is state-only).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """What a user is told, kept as their in-app inbox; pushed, texted or mailed by tasks."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=30)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    # What it is about, when it is about a report: the reports app decides who hears what.
    report = models.ForeignKey(
        "reports.Report",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    event = models.ForeignKey(
        "reports.Event",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        db_table = "reports_notification"
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-id"]
        indexes = [models.Index(fields=["user", "-id"], name="notification_inbox")]
        constraints = [
            # One notification per user and event: a re-run task never notifies twice.
            models.UniqueConstraint(
                fields=["user", "event"],
                condition=Q(event__isnull=False),
                name="notification_once_per_event",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Delivery(models.Model):
    """One attempt channel for a notification (push, SMS, email), sent by a task."""

    class Channel(models.TextChoices):
        PUSH = "push", _("Push")
        SMS = "sms", _("SMS")
        EMAIL = "email", _("Email")

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "reports_delivery"
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "channel"], name="delivery_once_per_channel"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.notification_id}:{self.channel}:{self.state}"
