"""The Open311 demo key of PRODUCT.md, `demo-open311-key`, for the city's demo citizen: for
development only."""

from __future__ import annotations

from django.conf import settings

from accounts.models import Role, User
from hues.city import City
from open311.models import ApiKey
from open311.services import DEMO_API_KEY, PREFIX_LENGTH, key_hash, service_account_check


def seed_demo_api_key(city: City) -> ApiKey | None:
    """Create or repair the demo key, for the demo citizen, while demo users are enabled
    (the key is refused otherwise). Idempotent; None when there is no demo citizen."""
    if not settings.DEMO_USERS_ENABLED:
        return None
    phones = [user.phone for user in city.demo_users if user.role == Role.CITIZEN]
    user = User.objects.filter(phone__in=phones).order_by("id").first()
    if user is None:
        return None
    service_account_check(user)
    api_key, _created = ApiKey.objects.update_or_create(
        key_hash=key_hash(DEMO_API_KEY),
        defaults={
            "name": "Open311 demo",
            "prefix": DEMO_API_KEY[:PREFIX_LENGTH],
            "user": user,
            "is_active": True,
        },
    )
    return api_key
