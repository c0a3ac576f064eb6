"""Use cases for push devices: the app registers its push token and forgets it at sign-out."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Device, User
from hues.errors import ObjectNotFound

# A user signs in on a few phones; more tokens than this are old installs.
MAX_DEVICES_PER_USER = 10


class DeviceNotFound(ObjectNotFound):
    code = "device_not_found"
    message = _("No such device.")


def device_register(*, user: User, token: str, platform: str) -> tuple[Device, bool]:
    """Register a push token, or refresh it when it is known; True when it is new.

    A token belongs to one app install: registering it again moves it to the caller (the
    phone changed accounts), so a signed-out user's notifications never reach it. A user
    keeps at most MAX_DEVICES_PER_USER tokens; the least recently seen go first.
    """
    with transaction.atomic():
        device, created = Device.objects.update_or_create(
            token=token,
            defaults={"user": user, "platform": platform, "last_seen_at": timezone.now()},
        )
        stale = list(
            Device.objects.filter(user=user)
            .order_by("-last_seen_at", "-id")
            .values_list("pk", flat=True)[MAX_DEVICES_PER_USER:]
        )
        if stale:
            Device.objects.filter(pk__in=stale).delete()
    return device, created


def device_forget(*, user: User, token: str) -> None:
    """Forget one of the user's push tokens; another user's token is not found."""
    deleted, _by_model = Device.objects.filter(user=user, token=token).delete()
    if not deleted:
        raise DeviceNotFound()
