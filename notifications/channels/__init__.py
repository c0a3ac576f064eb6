"""The channels a notification reaches a user through besides the inbox: push, SMS, email.

Each is a `Channel` registered here under its name (`Delivery.Channel`); a new channel is a
module with one class and a line in `REGISTRY`, plus its value in `Delivery.Channel`.
"""

from __future__ import annotations

from notifications.channels.base import (
    Channel,
    DeliveryFailed,
    DeliveryRefused,
    Message,
    Outcome,
)
from notifications.channels.email import EmailChannel
from notifications.channels.push import PushChannel
from notifications.channels.sms import SmsChannel

# In the order a notification's deliveries are written.
REGISTRY: dict[str, Channel] = {
    channel.name: channel for channel in (PushChannel(), SmsChannel(), EmailChannel())
}


def channel(name: str) -> Channel:
    return REGISTRY[name]


__all__ = [
    "REGISTRY",
    "Channel",
    "DeliveryFailed",
    "DeliveryRefused",
    "Message",
    "Outcome",
    "channel",
]
