"""What every channel shares: the message to tell, the outcome of a send, and its errors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from accounts.models import User
    from notifications.models import Notification


@dataclass
class Message:
    """One notification to write, before it exists: who, what, and what it is about."""

    user: User
    kind: str
    title: str
    body: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    report_id: int | None = None
    event_id: int | None = None
    # Worth a text message: only the few messages the city pays to send by SMS.
    texted: bool = False


@dataclass(frozen=True)
class Outcome:
    state: str
    note: str = ""


class DeliveryFailed(Exception):
    """A delivery failed in a way a later attempt may cure; the task retries it."""


class DeliveryRefused(Exception):
    """The channel refused this message for good: sending it again would not help."""


class Channel:
    """A way to reach a user outside the app: registered under `name` (Delivery.Channel)."""

    name: ClassVar[str] = ""

    def carries(self, messages: Sequence[Message]) -> list[bool]:
        """For each message of a batch, whether this channel should carry it (one read for
        the whole batch where the channel needs one)."""
        raise NotImplementedError

    def send(self, notification: Notification) -> Outcome:
        """Send one notification: its Outcome, or DeliveryRefused (failed for good), or any
        other exception for a failure a later attempt may cure."""
        raise NotImplementedError
