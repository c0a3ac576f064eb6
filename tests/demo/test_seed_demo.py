"""`manage.py seed_demo` loads PRODUCT.md's demo data; `import_areas` loads the boundaries."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accounts.backends import demo_password
from accounts.models import Role, User
from reports.models import Agency, Area, Category, RoutingRule

NAMED_AGENCIES = {
    "hepco",
    "huewaco",
    "hue_power",
    "parks_trees",
    "construction",
    "police",
    "monuments",
}
HANDLERS = {
    "urban_order": None,
    "garbage": "hepco",
    "drainage": "hepco",
    "street_lighting": "hepco",
    "water_supply": "huewaco",
    "electricity": "hue_power",
    "trees_parks": "parks_trees",
    "road_damage": "construction",
    "traffic_order": "police",
    "security_order": "police",
    "other": None,
}
SHORT_DEADLINE = {"drainage", "electricity", "security_order"}
DEMO_USERS = {
    "+84900000001": (Role.ADMINISTRATOR, None),
    "+84900000002": (Role.DISPATCHER, None),
    "+84900000003": (Role.MANAGER, "hepco"),
    "+84900000004": (Role.STAFF, "hepco"),
    "+84900000005": (Role.STAFF, "ward-19753"),
    "+84900000006": (Role.CITIZEN, None),
    "+84900000007": (Role.HOTLINE, None),
}


def _seed(**options):
    call_command("seed_demo", stdout=io.StringIO(), stderr=io.StringIO(), **options)


def _import_areas(path):
    call_command("import_areas", str(path), stdout=io.StringIO(), stderr=io.StringIO())


def _snapshot():
    """Every row seed_demo writes, by natural key, with its id."""
    return {
        "areas": set(Area.objects.values_list("id", "code", "name")),
        "agencies": set(Agency.objects.values_list("id", "code", "area_id", "is_active")),
        "categories": set(Category.objects.values_list("id", "code", "default_agency_id")),
        "rules": set(RoutingRule.objects.values_list("id", "category_id", "area_id", "agency_id")),
        "users": set(User.objects.values_list("id", "phone", "role", "agency_id", "is_staff")),
    }


@pytest.fixture
def demo_on(settings):
    settings.DEBUG = True
    settings.DEMO_USERS_ENABLED = True


@pytest.fixture
def demo_off(settings):
    settings.DEBUG = False
    settings.DEMO_USERS_ENABLED = False


@pytest.fixture
def seeded(db, demo_on):
    _seed()


def test_seeding_loads_the_forty_areas(seeded):
    assert Area.objects.count() == 40
    assert Area.objects.filter(kind=Area.Kind.WARD).count() == 21
    assert Area.objects.filter(kind=Area.Kind.COMMUNE).count() == 19


def test_seeding_gives_every_area_its_ward_committee(seeded):
    for area in Area.objects.all():
        committee = Agency.objects.get(code=f"ward-{area.code}")
        assert committee.kind == Agency.Kind.WARD_COMMITTEE
        assert committee.area == area


def test_seeding_creates_the_named_agencies_and_no_others(seeded):
    others = set(
        Agency.objects.exclude(kind=Agency.Kind.WARD_COMMITTEE).values_list("code", flat=True)
    )

    assert others == NAMED_AGENCIES
    assert Agency.objects.count() == 40 + len(NAMED_AGENCIES)
    assert not Agency.objects.filter(is_active=False).exists()


def test_seeding_creates_the_eleven_categories_with_their_default_handlers(seeded):
    handlers = {
        category.code: category.default_agency.code if category.default_agency else None
        for category in Category.objects.select_related("default_agency")
    }

    assert handlers == HANDLERS
    assert not Category.objects.filter(is_active=False).exists()


def test_seeding_names_the_categories_in_vietnamese_and_english(seeded):
    urban_order = Category.objects.get(code="urban_order")

    assert urban_order.name_vi == "Trật tự đô thị (lấn chiếm vỉa hè, hàng rong)"
    assert urban_order.name_en
    assert not Category.objects.filter(name_en="").exists()


def test_seeding_gives_urgent_prone_categories_3_working_days_and_the_others_10(seeded):
    deadlines = dict(Category.objects.values_list("code", "deadline_hours"))

    # Working hours, 7.5 a day.
    assert deadlines == {code: 23 if code in SHORT_DEADLINE else 75 for code in HANDLERS}


def test_seeding_sends_urban_order_to_the_ward_committee_of_the_area(seeded):
    rule = RoutingRule.objects.get(category__code="urban_order")

    assert rule.area is None
    assert rule.to_ward_committee is True
    assert rule.agency is None


def test_seeding_sends_trees_in_phu_xuan_to_the_monuments_centre(seeded):
    rule = RoutingRule.objects.get(category__code="trees_parks")

    assert rule.area.code == "19753"
    assert rule.agency.code == "monuments"


def test_seeding_creates_exactly_two_routing_rules(seeded):
    assert RoutingRule.objects.count() == 2


def test_seeding_creates_the_seven_demo_users_with_their_roles_and_agencies(seeded):
    users = {
        user.phone: (user.role, user.agency.code if user.agency else None)
        for user in User.objects.select_related("agency")
    }

    assert users == DEMO_USERS


def test_the_demo_users_are_verified_and_use_the_demo_password(seeded):
    for user in User.objects.all():
        assert user.is_verified
        assert user.check_password(demo_password())


def test_the_demo_users_get_their_roles_group_and_admin_access(seeded):
    for user in User.objects.prefetch_related("groups"):
        assert [group.name for group in user.groups.all()] == [user.role]
        assert user.is_staff == (user.role != Role.CITIZEN)


def test_the_demo_hepco_staff_may_work_reports(seeded):
    staff = User.objects.get(phone="+84900000004")

    assert staff.has_perm("reports.work_report")
    assert not staff.has_perm("reports.triage_report")


def test_the_demo_dispatcher_may_triage(seeded):
    assert User.objects.get(phone="+84900000002").has_perm("reports.triage_report")


def test_seeding_twice_changes_nothing(db, demo_on):
    _seed()
    first = _snapshot()

    _seed()

    assert _snapshot() == first


def test_seeding_again_repairs_an_agency_deactivated_by_hand(seeded):
    Agency.objects.filter(code="hepco").update(is_active=False)

    _seed()

    assert Agency.objects.get(code="hepco").is_active is True


def test_seeding_creates_no_demo_user_when_demo_users_are_disabled(db, demo_off):
    _seed()

    assert not User.objects.exists()
    assert Category.objects.count() == 11


def test_seeding_says_why_no_demo_user_was_created(db, demo_off):
    out = io.StringIO()

    call_command("seed_demo", stdout=out, stderr=io.StringIO())

    assert "demo users are not created" in out.getvalue()


def test_seeding_without_the_boundaries_file_keeps_going_without_areas(db, demo_on, tmp_path):
    err = io.StringIO()

    call_command(
        "seed_demo", areas=str(tmp_path / "missing.geojson"), stdout=io.StringIO(), stderr=err
    )

    assert "No area boundaries" in err.getvalue()
    assert Area.objects.count() == 0
    assert Category.objects.count() == 11
    assert RoutingRule.objects.count() == 1


def test_without_areas_the_ward_committee_demo_user_is_not_created(db, demo_on, tmp_path):
    _seed(areas=str(tmp_path / "missing.geojson"))

    assert not User.objects.filter(phone="+84900000005").exists()
    assert User.objects.count() == len(DEMO_USERS) - 1


# Broken boundary files


def _valid_collection(settings):
    return json.loads(Path(settings.AREAS_GEOJSON).read_text(encoding="utf-8"))


def _broken(settings, tmp_path, how):
    """A copy of the real file, broken in one way (the break comes after valid features, so
    a half-done import would show)."""
    path = tmp_path / "broken.geojson"
    if how == "not-json":
        path.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
        return path
    collection = _valid_collection(settings)
    last = collection["features"][-1]
    if how == "no-features":
        collection = {"type": "FeatureCollection"}
    elif how == "features-null":
        collection["features"] = None
    elif how == "not-a-collection":
        collection = [1, 2, 3]
    elif how == "missing-code":
        del last["properties"]["code"]
    elif how == "point-geometry":
        last["geometry"] = {"type": "Point", "coordinates": [107.5, 16.4]}
    elif how == "no-geometry":
        last["geometry"] = None
    elif how == "bad-coordinates":
        last["geometry"] = {"type": "Polygon", "coordinates": [[[107.5], [16.4, 1, 2, 3]]]}
    elif how == "feature-not-an-object":
        collection["features"].append("not a feature")
    elif how == "bad-population":
        last["properties"]["population"] = "many"
    elif how == "code-too-long":
        last["properties"]["code"] = "19753-and-more"
    elif how == "duplicate-code":
        last["properties"]["code"] = collection["features"][0]["properties"]["code"]
    path.write_text(json.dumps(collection), encoding="utf-8")
    return path


BREAKS = [
    "not-json",
    "no-features",
    "features-null",
    "not-a-collection",
    "missing-code",
    "point-geometry",
    "no-geometry",
    "bad-coordinates",
    "feature-not-an-object",
    "bad-population",
    "code-too-long",
    "duplicate-code",
]


@pytest.mark.parametrize("how", BREAKS)
def test_importing_a_broken_file_into_an_empty_database_fails_and_writes_nothing(
    db, settings, tmp_path, how
):
    path = _broken(settings, tmp_path, how)

    with pytest.raises(CommandError):
        _import_areas(path)

    assert not Area.objects.exists()


@pytest.mark.parametrize("how", BREAKS)
def test_importing_a_broken_file_leaves_the_existing_areas_as_they_were(
    db, settings, tmp_path, how
):
    _import_areas(settings.AREAS_GEOJSON)
    Area.objects.filter(code="19753").update(name="Tên cũ")
    before = list(Area.objects.order_by("id").values())

    with pytest.raises(CommandError):
        _import_areas(_broken(settings, tmp_path, how))

    assert list(Area.objects.order_by("id").values()) == before


def test_importing_a_missing_file_fails_cleanly(db, tmp_path):
    with pytest.raises(CommandError, match=r"missing\.geojson"):
        _import_areas(tmp_path / "missing.geojson")


def test_seeding_with_a_broken_boundaries_file_fails_and_writes_nothing(
    db, demo_on, settings, tmp_path
):
    with pytest.raises(CommandError):
        _seed(areas=str(_broken(settings, tmp_path, "missing-code")))

    assert not Area.objects.exists()
    assert not Agency.objects.exists()
    assert not Category.objects.exists()
    assert not User.objects.exists()


def test_importing_the_real_file_creates_forty_areas_and_again_updates_them(db, settings):
    out = io.StringIO()
    call_command("import_areas", str(settings.AREAS_GEOJSON), stdout=out)
    call_command("import_areas", str(settings.AREAS_GEOJSON), stdout=out)

    assert "40 created, 0 updated" in out.getvalue()
    assert "0 created, 40 updated" in out.getvalue()
    assert Area.objects.count() == 40
