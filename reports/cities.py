"""A city's reference data in the database: its areas (from its boundary file), one People's
Committee per area, its agencies, categories, routing rules, public holidays and the staff's
reply templates, as its definition (cities/<slug>/city.toml, read by hues.city) says.

Idempotent: loading again updates what is there and creates what is missing; nothing is
deleted (an agency a report points to stays).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from hues.city import WARD_COMMITTEE, City
from reports.models import Agency, Area, Category, Holiday, ReplyTemplate, RoutingRule
from reports.selectors import holidays_changed, routing_data_changed
from reports.services import areas_import_geojson


@dataclass
class CitySummary:
    areas: int
    agencies: int
    categories: int
    rules: int
    holidays: int
    reply_templates: int


def ward_committee_code(area_code: str) -> str:
    return f"ward-{area_code}"


# How a unit's People's Committee is named: "UBND phường Phú Xuân", "UBND P. Phú Xuân".
COMMITTEE_NAMES = {
    Area.Kind.WARD: ("phường", "P."),
    Area.Kind.COMMUNE: ("xã", "X."),
    Area.Kind.SPECIAL_ZONE: ("đặc khu", "ĐK."),
}


def _ward_committees() -> None:
    """One People's Committee per area: since July 2025 every ward, commune and special zone
    of Vietnam has one, named the same way in every province."""
    for area in Area.objects.all():
        kind_vi, abbreviation = COMMITTEE_NAMES[Area.Kind(area.kind)]
        # "Phường Phú Xuân" -> "Phú Xuân"
        short = (
            area.name[len(kind_vi) :].strip()
            if area.name.lower().startswith(kind_vi)
            else area.name
        )
        Agency.objects.update_or_create(
            code=ward_committee_code(area.code),
            defaults={
                "name": f"UBND {kind_vi} {short}",
                "short_name": f"UBND {abbreviation} {short}",
                "name_en": f"People's Committee of {area.name_en}",
                "kind": Agency.Kind.WARD_COMMITTEE,
                "area": area,
                "is_active": True,
            },
        )


@transaction.atomic
def city_load(city: City, *, boundaries: Path | None) -> CitySummary:
    """Load the city's reference data; its areas from `boundaries` (None: leave the areas
    as they are). Rules naming an area that does not exist are skipped."""
    if boundaries is not None:
        areas_import_geojson(boundaries)
    _ward_committees()
    for agency in city.agencies:
        Agency.objects.update_or_create(
            code=agency.code,
            defaults={
                "name": agency.name,
                "name_en": agency.name_en,
                "short_name": agency.short_name,
                "kind": agency.kind,
                "email": agency.email,
                "is_active": True,
            },
        )
    agencies = {agency.code: agency for agency in Agency.objects.all()}
    categories = {}
    for order, category in enumerate(city.categories):
        categories[category.code], _ = Category.objects.update_or_create(
            code=category.code,
            defaults={
                "name_vi": category.name,
                "name_en": category.name_en,
                "group": category.group,
                "icon": category.icon,
                "default_agency": agencies[category.agency] if category.agency else None,
                "deadline_hours": category.deadline_hours,
                "urgent_deadline_hours": category.urgent_deadline_hours,
                "sort_order": order,
                "is_active": True,
            },
        )
    areas = {area.code: area for area in Area.objects.filter(code__in={r.area for r in city.rules})}
    for rule in city.rules:
        if rule.area is not None and rule.area not in areas:
            continue
        to_ward_committee = rule.agency == WARD_COMMITTEE
        RoutingRule.objects.update_or_create(
            category=categories[rule.category],
            area=areas[rule.area] if rule.area else None,
            defaults={
                "agency": None if to_ward_committee else agencies[rule.agency],
                "to_ward_committee": to_ward_committee,
            },
        )
    for holiday in city.holidays:
        # A day an administrator already entered is left as they wrote it.
        Holiday.objects.get_or_create(
            date=holiday.date, defaults={"name": holiday.name, "name_en": holiday.name_en}
        )
    for template in city.reply_templates:
        scope = {
            "purpose": template.purpose,
            "category": categories[template.category] if template.category else None,
            "agency": agencies[template.agency] if template.agency else None,
        }
        # A template an administrator or manager already changed is left as they wrote it.
        ReplyTemplate.objects.get_or_create(
            code=template.code,
            language="vi",
            defaults={**scope, "name": template.name, "text": template.text},
        )
        if template.text_en:
            ReplyTemplate.objects.get_or_create(
                code=template.code,
                language="en",
                defaults={**scope, "name": template.name_en, "text": template.text_en},
            )
    transaction.on_commit(routing_data_changed)
    transaction.on_commit(holidays_changed)
    return CitySummary(
        areas=Area.objects.count(),
        agencies=Agency.objects.count(),
        categories=Category.objects.count(),
        rules=RoutingRule.objects.count(),
        holidays=Holiday.objects.count(),
        reply_templates=ReplyTemplate.objects.count(),
    )
