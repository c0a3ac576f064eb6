"""Text messages: only for the messages worth the city's money (`Message.texted`), to users
with a phone number, while NOTIFICATION_SMS_ENABLED."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings

from accounts.sms import send_sms
from hues.city import current_city
from notifications.channels.base import Channel, Message, Outcome
from notifications.models import Delivery, Notification


class SmsChannel(Channel):
    name = Delivery.Channel.SMS

    def carries(self, messages: Sequence[Message]) -> list[bool]:
        enabled = settings.NOTIFICATION_SMS_ENABLED
        # Service accounts (Open311 clients) have no phone number to text.
        return [enabled and m.texted and m.user.phone.startswith("+") for m in messages]

    def send(self, notification: Notification) -> Outcome:
        send_sms(notification.user.phone, f"{current_city().app_name}: {notification.title}")
        return Outcome(Delivery.State.SENT)
