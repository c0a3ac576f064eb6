"""Text messages: only for the messages worth the city's money (`Message.texted`), to users
with a phone number, while NOTIFICATION_SMS_ENABLED. They go through the accounts outbox
(`accounts.texts.text_send_now`): the same SMS budget and allowed countries as the codes, one
TextMessage row per notification (kind "notification"), and its delivery report."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings

from accounts.models import TextMessage
from accounts.sms_limits import PhoneNotAllowed
from accounts.texts import text_send_now
from hues.city import current_city
from notifications.channels.base import Channel, DeliveryRefused, Message, Outcome
from notifications.models import Delivery, Notification

# What the outbox gave up on for good.
REFUSED = frozenset({TextMessage.State.FAILED, TextMessage.State.EXPIRED})


class SmsChannel(Channel):
    name = Delivery.Channel.SMS

    def carries(self, messages: Sequence[Message]) -> list[bool]:
        enabled = settings.NOTIFICATION_SMS_ENABLED
        # Service accounts (Open311 clients) have no phone number to text.
        return [enabled and m.texted and m.user.phone.startswith("+") for m in messages]

    def send(self, notification: Notification) -> Outcome:
        """Sent once the gateway took it; refused for good by the gateway or the allowed
        countries; any other failure (the gateway away: TextNotSent; the SMS budget spent:
        SmsBudgetSpent) is retried by the delivery's task, and the same outbox row answers
        again (its key), so the budget counts it once."""
        user = notification.user
        try:
            text = text_send_now(
                phone=user.phone,
                body=f"{current_city().app_name}: {notification.title}",
                user=user,
                key=f"notification:{notification.pk}",
            )
        except PhoneNotAllowed as error:
            raise DeliveryRefused(str(error.message)) from error
        if text.state in REFUSED:
            raise DeliveryRefused(text.last_error or text.state)
        return Outcome(Delivery.State.SENT)
