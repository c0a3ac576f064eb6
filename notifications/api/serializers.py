"""The inbox's answers."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from notifications.models import Notification


class NotificationOutput(serializers.ModelSerializer):
    report = serializers.CharField(
        source="report_reference",
        allow_null=True,
        help_text=_("The reference of the report it is about, if any."),
    )
    is_read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "title",
            "body",
            "report",
            "data",
            "created_at",
            "read_at",
            "is_read",
        ]
        extra_kwargs = {
            "kind": {"help_text": _("What happened: the timeline event's kind, e.g. resolved.")},
            "data": {
                "help_text": _(
                    'reference and status of the report; action "rate" when the citizen '
                    "is asked to rate the result."
                )
            },
        }

    def get_is_read(self, notification: Notification) -> bool:
        return notification.read_at is not None


class ReadAllOutput(serializers.Serializer):
    updated = serializers.IntegerField(help_text=_("How many notifications were marked read."))
