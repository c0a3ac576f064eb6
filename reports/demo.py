"""The demo data of PRODUCT.md: agencies, categories, routing rules and demo users.

Idempotent: running it again updates what is there and creates what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from reports.models import Agency, Area, Category, RoutingRule
from reports.selectors import routing_data_changed
from reports.services import areas_import_geojson

AGENCIES = [
    # code, name (vi), name (en), short name, kind, email
    (
        "hepco",
        "Công ty CP Môi trường và Công trình đô thị Huế (HEPCO)",
        "Hue Environment and Urban Works (HEPCO)",
        "HEPCO",
        Agency.Kind.UTILITY,
        "hepco@hue.gov.vn",
    ),
    (
        "huewaco",
        "Công ty CP Cấp nước Thừa Thiên Huế (HueWACO)",
        "Hue Water Supply (HueWACO)",
        "HueWACO",
        Agency.Kind.UTILITY,
        "huewaco@hue.gov.vn",
    ),
    (
        "hue_power",
        "Công ty Điện lực Thừa Thiên Huế",
        "Hue Power Company",
        "Điện lực Huế",
        Agency.Kind.UTILITY,
        "dienluc@hue.gov.vn",
    ),
    (
        "parks_trees",
        "Trung tâm Công viên cây xanh Huế",
        "Hue Parks and Trees Centre",
        "Công viên cây xanh",
        Agency.Kind.UTILITY,
        "cayxanh@hue.gov.vn",
    ),
    (
        "construction",
        "Sở Xây dựng thành phố Huế",
        "Hue Department of Construction",
        "Sở Xây dựng",
        Agency.Kind.DEPARTMENT,
        "soxaydung@hue.gov.vn",
    ),
    (
        "police",
        "Công an thành phố Huế",
        "Hue City Police",
        "Công an TP Huế",
        Agency.Kind.POLICE,
        "congan@hue.gov.vn",
    ),
    (
        "monuments",
        "Trung tâm Bảo tồn Di tích Cố đô Huế",
        "Hue Monuments Conservation Centre",
        "TT Bảo tồn Di tích",
        Agency.Kind.DEPARTMENT,
        "ditich@hue.gov.vn",
    ),
]

WARD_COMMITTEE = "ward"  # handled by the report area's ward committee
# Deadlines count working hours (7.5 a day, reports.deadlines): PRODUCT.md's "72 h" and
# "10 days" are 3 and 10 working days.
URGENT_HOURS = 23
NORMAL_HOURS = 75

CATEGORIES = [
    # code, vi, en, group, icon, handler, deadline hours
    (
        "urban_order",
        "Trật tự đô thị (lấn chiếm vỉa hè, hàng rong)",
        "Urban order (sidewalk encroachment, street vending)",
        "urban",
        "store",
        WARD_COMMITTEE,
        NORMAL_HOURS,
    ),
    (
        "garbage",
        "Rác thải, vệ sinh môi trường",
        "Garbage and sanitation",
        "environment",
        "trash",
        "hepco",
        NORMAL_HOURS,
    ),
    (
        "drainage",
        "Thoát nước, ngập úng",
        "Drainage and flooding",
        "infrastructure",
        "water",
        "hepco",
        URGENT_HOURS,
    ),
    (
        "street_lighting",
        "Điện chiếu sáng công cộng",
        "Street lighting",
        "infrastructure",
        "lightbulb",
        "hepco",
        NORMAL_HOURS,
    ),
    ("water_supply", "Cấp nước", "Water supply", "utilities", "droplet", "huewaco", NORMAL_HOURS),
    (
        "electricity",
        "Điện lực, lưới điện",
        "Electricity and power grid",
        "utilities",
        "zap",
        "hue_power",
        URGENT_HOURS,
    ),
    (
        "trees_parks",
        "Cây xanh, công viên",
        "Trees and parks",
        "environment",
        "tree",
        "parks_trees",
        NORMAL_HOURS,
    ),
    (
        "road_damage",
        "Hư hỏng đường, hạ tầng giao thông",
        "Road damage and transport infrastructure",
        "infrastructure",
        "construction",
        "construction",
        NORMAL_HOURS,
    ),
    (
        "traffic_order",
        "An toàn giao thông",
        "Traffic safety",
        "safety",
        "traffic-cone",
        "police",
        NORMAL_HOURS,
    ),
    (
        "security_order",
        "An ninh trật tự",
        "Security and public order",
        "safety",
        "shield",
        "police",
        URGENT_HOURS,
    ),
    ("other", "Khác", "Other", "other", "help-circle", None, NORMAL_HOURS),
]

# The one area-specific rule: trees and parks inside the Citadel (Phường Phú Xuân).
PHU_XUAN = "19753"
AREA_RULES = [("trees_parks", PHU_XUAN, "monuments")]

DEMO_USERS = [
    # phone, full name, role, agency code ("ward:<area>" for a ward committee)
    ("+84900000001", "Quản trị viên Demo", "administrator", None),
    ("+84900000002", "Điều phối viên Demo", "dispatcher", None),
    ("+84900000003", "Trưởng phòng HEPCO Demo", "manager", "hepco"),
    ("+84900000004", "Nhân viên HEPCO Demo", "staff", "hepco"),
    ("+84900000005", "Cán bộ phường Phú Xuân Demo", "staff", f"ward-{PHU_XUAN}"),
    ("+84900000006", "Người dân Demo", "citizen", None),
]


@dataclass
class SeedSummary:
    areas: int
    agencies: int
    categories: int
    rules: int
    users: int


def ward_committee_code(area_code: str) -> str:
    return f"ward-{area_code}"


@transaction.atomic
def seed_reference_data(areas_path: Path | None) -> SeedSummary:
    if areas_path is not None:
        areas_import_geojson(areas_path)
    for area in Area.objects.all():
        kind_vi = "xã" if area.kind == Area.Kind.COMMUNE else "phường"
        Agency.objects.update_or_create(
            code=ward_committee_code(area.code),
            defaults={
                "name": f"UBND {kind_vi} {area.name.split(' ', 1)[-1]}",
                "short_name": f"UBND {kind_vi[0].upper()}. {area.name.split(' ', 1)[-1]}",
                "name_en": f"People's Committee of {area.name_en}",
                "kind": Agency.Kind.WARD_COMMITTEE,
                "area": area,
                "is_active": True,
            },
        )
    for code, name, name_en, short_name, kind, email in AGENCIES:
        Agency.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "name_en": name_en,
                "short_name": short_name,
                "kind": kind,
                "email": email,
                "is_active": True,
            },
        )
    agencies = {agency.code: agency for agency in Agency.objects.all()}
    for order, (code, vi, en, group, icon, handler, hours) in enumerate(CATEGORIES):
        fixed = agencies[handler] if handler not in (None, WARD_COMMITTEE) else None
        category, _ = Category.objects.update_or_create(
            code=code,
            defaults={
                "name_vi": vi,
                "name_en": en,
                "group": group,
                "icon": icon,
                "default_agency": fixed,
                "deadline_hours": hours,
                "urgent_deadline_hours": min(hours, URGENT_HOURS),
                "sort_order": order,
                "is_active": True,
            },
        )
        if handler == WARD_COMMITTEE:
            RoutingRule.objects.update_or_create(
                category=category,
                area=None,
                defaults={"agency": None, "to_ward_committee": True},
            )
    for category_code, area_code, agency_code in AREA_RULES:
        rule_area = Area.objects.filter(code=area_code).first()
        if rule_area is not None:
            RoutingRule.objects.update_or_create(
                category=Category.objects.get(code=category_code),
                area=rule_area,
                defaults={"agency": agencies[agency_code], "to_ward_committee": False},
            )
    transaction.on_commit(routing_data_changed)
    return SeedSummary(
        areas=Area.objects.count(),
        agencies=Agency.objects.count(),
        categories=Category.objects.count(),
        rules=RoutingRule.objects.count(),
        users=0,
    )


@transaction.atomic
def seed_demo_users(password: str) -> int:
    from accounts.models import User
    from accounts.services import user_set_role

    count = 0
    for phone, name, role, agency_code in DEMO_USERS:
        agency = Agency.objects.filter(code=agency_code).first() if agency_code else None
        if agency_code and agency is None:
            # No areas, no ward committee: a staff member without an agency cannot exist.
            continue
        user, _ = User.objects.get_or_create(
            phone=phone,
            defaults={"full_name": name, "phone_verified_at": timezone.now()},
        )
        user.full_name = name
        user.phone_verified_at = user.phone_verified_at or timezone.now()
        user.is_active = True
        user.set_password(password)
        user.save()
        user_set_role(user=user, role=role, agency=agency)
        count += 1
    return count
