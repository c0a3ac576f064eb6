"""Open311 GeoReport v2 clients: their API keys, and what they told us when filing a report."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApiKey(models.Model):
    """An Open311 client's key. Only its SHA-256 hash is stored, with a short prefix to tell
    keys apart; the client files reports as the key's service account (a verified citizen)."""

    name = models.CharField(_("name"), max_length=100, help_text=_("Who uses this key."))
    prefix = models.CharField(_("prefix"), max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("service account"),
        on_delete=models.PROTECT,
        related_name="open311_api_keys",
        help_text=_("The reports this client files are filed as this user."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("Open311 API key")
        verbose_name_plural = _("Open311 API keys")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class Submission(models.Model):
    """A report filed through Open311: the key that filed it, and the contact details and
    media URL the client sent. None of this is ever shown in public."""

    report = models.OneToOneField(
        "reports.Report",
        verbose_name=_("report"),
        on_delete=models.CASCADE,
        related_name="open311_submission",
    )
    api_key = models.ForeignKey(
        ApiKey,
        verbose_name=_("API key"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="submissions",
    )
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone number"), max_length=40, blank=True)
    media_url = models.URLField(_("media URL"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("Open311 submission")
        verbose_name_plural = _("Open311 submissions")
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.report.reference
