"""The demo users of the city's definition, one per role (only while DEBUG is on:
accounts.backends refuses their password otherwise)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import user_set_role
from hues.city import WARD_COMMITTEE, City
from reports.cities import ward_committee_code
from reports.models import Agency


def _agency_code(agency: str | None) -> str | None:
    """An agency's code, or the ward committee's for "ward_committee:<area code>"."""
    if agency is not None and agency.startswith(f"{WARD_COMMITTEE}:"):
        return ward_committee_code(agency.split(":", 1)[1])
    return agency


@transaction.atomic
def seed_demo_users(city: City) -> int:
    """Create or repair the city's demo users with its demo password; returns how many
    exist. A staff member whose agency does not exist (no areas loaded: no ward committee)
    is skipped."""
    count = 0
    for demo in city.demo_users:
        code = _agency_code(demo.agency)
        agency = Agency.objects.filter(code=code).first() if code else None
        if code and agency is None:
            continue
        user, _ = User.objects.get_or_create(
            phone=demo.phone,
            defaults={"full_name": demo.name, "phone_verified_at": timezone.now()},
        )
        user.full_name = demo.name
        user.phone_verified_at = user.phone_verified_at or timezone.now()
        user.is_active = True
        user.set_password(city.demo_password)
        user.save()
        user_set_role(user=user, role=demo.role, agency=agency)
        count += 1
    return count
