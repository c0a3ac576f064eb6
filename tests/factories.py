"""factory-boy factories for the test suite."""

from __future__ import annotations

import factory
from django.utils import timezone

from accounts.models import Role, User
from reports.models import Agency, Category, Report


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("phone",)
        skip_postgeneration_save = True

    # +84 90 5xx xxxx: valid Vietnamese mobile numbers, distinct per user.
    phone = factory.Sequence(lambda n: f"+849055{n:05d}")
    full_name = factory.Faker("name", locale="vi_VN")
    role = Role.CITIZEN
    phone_verified_at = factory.LazyFunction(timezone.now)
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-42")

    @factory.post_generation
    def with_role(self, create: bool, extracted: object, **kwargs: object) -> None:
        """Give the user their role's group, as the accounts service does."""
        if create:
            from accounts.services import user_set_role

            self.save()
            user_set_role(user=self, role=self.role, agency=self.agency)


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"agency-{n}")
    name = factory.Sequence(lambda n: f"Đơn vị {n}")
    name_en = factory.Sequence(lambda n: f"Agency {n}")
    kind = Agency.Kind.DEPARTMENT


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"category-{n}")
    name_vi = factory.Sequence(lambda n: f"Lĩnh vực {n}")
    name_en = factory.Sequence(lambda n: f"Category {n}")
    deadline_hours = 240
    urgent_deadline_hours = 72


class ReportFactory(factory.django.DjangoModelFactory):
    """A report row as filing would leave it (no photos: use the service for those)."""

    class Meta:
        model = Report

    reference = factory.Sequence(lambda n: f"HUE-2026-{n + 900000:06d}")
    reporter = factory.SubFactory(UserFactory)
    category = factory.LazyFunction(lambda: Category.objects.get(code="street_lighting"))
    description = "Đèn đường không sáng"
    # Inside Phường Phú Xuân (from ../shared/data/hue_wards_2025.csv).
    lat = 16.4821
    lng = 107.57612
    area = factory.LazyFunction(lambda: _area("19753"))


def _area(code: str):
    from reports.models import Area

    return Area.objects.get(code=code)
