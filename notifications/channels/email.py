"""Email, to users who gave an address, while NOTIFICATION_EMAIL_ENABLED."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.core.mail import send_mail

from hues.city import current_city
from notifications.channels.base import Channel, Message, Outcome
from notifications.models import Delivery, Notification


class EmailChannel(Channel):
    name = Delivery.Channel.EMAIL

    def carries(self, messages: Sequence[Message]) -> list[bool]:
        enabled = settings.NOTIFICATION_EMAIL_ENABLED
        return [bool(enabled and m.user.email) for m in messages]

    def send(self, notification: Notification) -> Outcome:
        user = notification.user
        if not user.email:
            return Outcome(Delivery.State.SKIPPED, "no email address")
        send_mail(
            subject=f"{current_city().app_name}: {notification.title}",
            message=notification.body or notification.title,
            from_email=None,
            recipient_list=[user.email],
        )
        return Outcome(Delivery.State.SENT)
