"""Use cases for Open311: issuing and checking API keys, and filing a service request."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from accounts.services import user_set_role
from hues.errors import InvalidInput
from open311.models import ApiKey, Submission
from reports.models import Channel, Report
from reports.services import UnknownCategory, report_create

# The demo key of PRODUCT.md, for development only: refused whenever demo users are disabled.
DEMO_API_KEY = "demo-open311-key"
PREFIX_LENGTH = 8
MAX_KEY_LENGTH = 200
# A key's last use is written at most this often: a write on every request made every
# request of a busy client wait for the one before it, on the key's row.
LAST_USED_PRECISION = timedelta(minutes=1)


class UnknownServiceCode(InvalidInput):
    code = "unknown_service_code"
    message = _("Unknown service_code: use one of the codes listed by services.json.")


class ServiceAccountInvalid(InvalidInput):
    code = "invalid_service_account"
    message = _("The service account must be an active citizen account with a verified phone.")


@dataclass(frozen=True)
class IssuedApiKey:
    api_key: ApiKey
    key: str  # shown to the administrator once, never stored


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _service_account_create(name: str) -> User:
    """A citizen account for one Open311 client: verified, so it may file reports, with no
    number anyone could be texted at and no usable password, so nobody signs in as it."""
    user = User(
        phone=f"open311:{secrets.token_hex(6)}",
        full_name=f"Open311: {name}"[:150],
        role=Role.CITIZEN,
        phone_verified_at=timezone.now(),
    )
    user.set_unusable_password()
    user.save()
    return user_set_role(user=user, role=Role.CITIZEN, agency=None)


def service_account_check(user: User) -> None:
    """Open311 clients file reports as an active citizen account with a verified phone."""
    if not (user.is_active and user.is_verified and user.role == Role.CITIZEN):
        raise ServiceAccountInvalid(field="user")


@transaction.atomic
def api_key_create(*, name: str, user: User | None = None) -> IssuedApiKey:
    """Issue a key to an Open311 client, for a new service account unless one is given
    (an active, verified citizen). The key is returned once; only its hash is kept."""
    name = name.strip()
    if not name:
        raise InvalidInput(_("Name the client that uses the key."), field="name")
    if user is None:
        user = _service_account_create(name)
    else:
        service_account_check(user)
    key = secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        name=name, prefix=key[:PREFIX_LENGTH], key_hash=key_hash(key), user=user
    )
    return IssuedApiKey(api_key=api_key, key=key)


def api_key_authenticate(key: str) -> ApiKey | None:
    """The active key whose service account may file reports, or None. The demo key works
    only while demo users are enabled. Records when the key was last used (to the minute)."""
    if not key or len(key) > MAX_KEY_LENGTH:
        return None
    if key == DEMO_API_KEY and not settings.DEMO_USERS_ENABLED:
        return None
    api_key = (
        ApiKey.objects.select_related("user").filter(key_hash=key_hash(key), is_active=True).first()
    )
    if api_key is None or not api_key.user.is_active or not api_key.user.is_verified:
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_PRECISION:
        api_key.last_used_at = now
        ApiKey.objects.filter(pk=api_key.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_PRECISION)
        ).update(last_used_at=now)
    return api_key


def service_request_create(
    *,
    api_key: ApiKey,
    service_code: str,
    lat: float,
    lng: float,
    description: str,
    address: str = "",
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    phone: str = "",
    media_url: str = "",
) -> Report:
    """File a report for an Open311 client, as its service account: public, with the
    reporter's name hidden, and without photos (Open311 carries none; a media URL is kept as
    given). The person's contact details are kept for the city's staff, never shown in public.
    """
    with transaction.atomic():
        try:
            report = report_create(
                reporter=api_key.user,
                category_code=service_code,
                description=description,
                lat=lat,
                lng=lng,
                photos=[],
                address=address,
                is_public=True,
                hide_name=True,
                min_photos=0,
                channel=Channel.OPEN311,
            )
        except UnknownCategory as error:
            raise UnknownServiceCode(field="service_code") from error
        Submission.objects.create(
            report=report,
            api_key=api_key,
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            email=email.strip(),
            phone=phone.strip(),
            media_url=media_url.strip(),
        )
    return report
