"""`manage.py check_city <slug>`: a city's folder checked before it is deployed, every problem
on its own line, with the line of city.toml it is on."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from hues.city import CityError, available_cities, check_city, read_city

GOOD = """\
name = "Thành phố Thử"
name_en = "Test City"
app_name = "Thu-S"
time_zone = "Asia/Ho_Chi_Minh"
reference_prefix = "THU"
working_hours = "07:30-11:30,13:30-17:00"
boundaries = "{boundaries}"
demo_password = "thu-demo"

[[agencies]]
code = "water"
name = "Cấp nước"
kind = "utility"

[[categories]]
code = "water_supply"
name = "Cấp nước"
agency = "water"
deadline_hours = 75
urgent_deadline_hours = 23

[[rules]]
category = "water_supply"
area = "1"
agency = "ward_committee"

[[reply_templates]]
code = "water_back"
purpose = "resolution"
category = "water_supply"
agency = "water"
name = "Đã cấp nước lại"
text = "Đã cấp nước lại cho {ward} (phản ánh {reference})."
text_en = "Water is back in {ward} (report {reference})."
"""


def square(x: float, y: float, side: float = 0.1) -> list[list[list[float]]]:
    return [[[x, y], [x + side, y], [x + side, y + side], [x, y + side], [x, y]]]


def feature(code: str, coordinates: list, kind: str = "Polygon") -> dict:
    return {
        "type": "Feature",
        "properties": {"code": code, "name": f"Phường {code}", "type": "Phường"},
        "geometry": {"type": kind, "coordinates": coordinates},
    }


def write_city(tmp_path: Path, toml: str, features: list[dict] | None) -> Path:
    folder = tmp_path / "cities" / "thu"
    folder.mkdir(parents=True)
    boundaries = tmp_path / "wards.geojson"
    if features is not None:
        boundaries.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    # replace, not format: reply templates hold braces of their own ({reference}...).
    text = toml.replace("{boundaries}", str(boundaries))
    (folder / "city.toml").write_text(text, encoding="utf-8")
    return tmp_path / "cities"


TWO_WARDS = [feature("1", square(107.0, 16.0)), feature("2", square(107.1, 16.0))]


@pytest.mark.parametrize("slug", available_cities())
def test_the_shipped_cities_are_complete(slug: str) -> None:
    errors, _warnings = check_city(slug)
    assert errors == []


def test_the_command_says_a_shipped_city_is_complete() -> None:
    out = io.StringIO()
    call_command("check_city", "da_nang", stdout=out)
    assert "da_nang: the city's definition is complete" in out.getvalue()


def test_a_good_city_passes(tmp_path: Path) -> None:
    cities = write_city(tmp_path, GOOD, TWO_WARDS)
    assert check_city("thu", cities) == ([], [])


def test_an_unknown_agency_in_a_rule_is_named_with_its_line(tmp_path: Path) -> None:
    cities = write_city(
        tmp_path, GOOD.replace('agency = "ward_committee"', 'agency = "nope"'), TWO_WARDS
    )

    errors, _ = check_city("thu", cities)

    assert errors == ["line 22: A rule names an unknown agency 'nope'."]


def test_a_category_without_deadline_is_named_with_its_line(tmp_path: Path) -> None:
    cities = write_city(tmp_path, GOOD.replace("deadline_hours = 75\n", ""), TWO_WARDS)

    errors, _ = check_city("thu", cities)

    assert errors == ["line 15: Category water_supply has no deadline_hours."]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    broken = (
        GOOD.replace('agency = "water"\ndeadline', 'agency = "gas"\ndeadline')
        .replace('reference_prefix = "THU"', 'reference_prefix = "thu-1"')
        .replace('time_zone = "Asia/Ho_Chi_Minh"', 'time_zone = "Mars/Olympus"')
    )
    cities = write_city(tmp_path, broken, TWO_WARDS)

    errors, _ = check_city("thu", cities)

    assert errors == [
        "line 4: unknown time zone 'Mars/Olympus'.",
        "line 5: The city: reference_prefix 'thu-1' is not valid.",
        "line 15: Category water_supply: unknown agency 'gas'.",
    ]


def test_a_good_citys_reply_templates_are_read(tmp_path: Path) -> None:
    cities = write_city(tmp_path, GOOD, TWO_WARDS)

    (template,) = read_city(cities / "thu" / "city.toml").reply_templates

    assert (template.code, template.purpose, template.category, template.agency) == (
        "water_back",
        "resolution",
        "water_supply",
        "water",
    )
    assert template.name_en == template.name  # no English name: the Vietnamese one
    assert template.text_en == "Water is back in {ward} (report {reference})."


def test_a_reply_templates_problems_are_named_with_its_line(tmp_path: Path) -> None:
    broken = (
        GOOD.replace('purpose = "resolution"', 'purpose = "thanks"')
        .replace('category = "water_supply"\nagency = "water"\nname', 'category = "gas"\nname')
        .replace("cho {ward}", "cho {phone} ở {ward.name}")
        .replace("(report {reference})", "(report {ref})")
    )
    cities = write_city(tmp_path, broken, TWO_WARDS)

    errors, _ = check_city("thu", cities)

    assert errors == [
        "line 27: Reply template water_back: purpose 'thanks' is not one of public_update, "
        "question, resolution, rejection.",
        "line 27: Reply template water_back: unknown category 'gas'.",
        "line 27: Reply template water_back: text has unknown placeholder(s) {phone}, {ward.name}.",
        "line 27: Reply template water_back: text_en has unknown placeholder(s) {ref}.",
    ]


def test_a_reply_template_for_an_unknown_agency_or_twice_the_same_code_is_an_error(
    tmp_path: Path,
) -> None:
    second = GOOD[GOOD.index("[[reply_templates]]") :].replace('agency = "water"', 'agency = "x"')
    cities = write_city(tmp_path, GOOD + "\n" + second, TWO_WARDS)

    errors, _ = check_city("thu", cities)

    assert errors == [
        "line 36: Reply template water_back: unknown agency 'x'.",
        "line 36: the reply template code 'water_back' appears twice.",
    ]


def test_a_missing_boundary_file_is_an_error(tmp_path: Path) -> None:
    cities = write_city(tmp_path, GOOD, None)

    errors, _ = check_city("thu", cities)

    assert len(errors) == 1
    assert errors[0].startswith("boundaries: no file at")


def test_a_boundary_file_that_is_not_geojson_is_an_error(tmp_path: Path) -> None:
    cities = write_city(tmp_path, GOOD, TWO_WARDS)
    (tmp_path / "wards.geojson").write_text('{"type": "Topology"}')

    errors, _ = check_city("thu", cities)

    assert errors == [
        f"boundaries: {tmp_path / 'wards.geojson'} is not a GeoJSON FeatureCollection."
    ]


def test_overlapping_areas_are_an_error(tmp_path: Path) -> None:
    overlapping = [feature("1", square(107.0, 16.0)), feature("2", square(107.05, 16.0))]
    cities = write_city(tmp_path, GOOD, overlapping)

    errors, _ = check_city("thu", cities)

    assert errors == ["boundaries: areas 1 and 2 overlap (50% of the smaller)."]


def test_an_invalid_polygon_is_an_error(tmp_path: Path) -> None:
    bowtie = [[[107.0, 16.0], [107.1, 16.1], [107.1, 16.0], [107.0, 16.1], [107.0, 16.0]]]
    line = {
        "type": "Feature",
        "properties": {"code": "3", "name": "X"},
        "geometry": {"type": "LineString", "coordinates": [[107, 16], [108, 17]]},
    }
    cities = write_city(tmp_path, GOOD, [*TWO_WARDS, feature("4", bowtie), line])

    errors, warnings = check_city("thu", cities)

    assert (
        "boundaries: feature 4 (area 3) is a LineString, not a Polygon or MultiPolygon." in errors
    )
    assert any("feature 3 (area 4) is not a valid polygon" in e for e in errors + warnings)


def test_a_rule_naming_an_area_the_boundaries_lack_is_an_error(tmp_path: Path) -> None:
    cities = write_city(tmp_path, GOOD.replace('area = "1"', 'area = "9"'), TWO_WARDS)

    errors, _ = check_city("thu", cities)

    assert errors == ["line 22: the rule names area 9, not in the boundaries."]


def test_the_command_fails_and_lists_the_problems(tmp_path: Path, settings) -> None:
    settings.CITIES_DIR = write_city(tmp_path, GOOD.replace("deadline_hours = 75\n", ""), TWO_WARDS)
    err = io.StringIO()

    with pytest.raises(CommandError, match="1 problem"):
        call_command("check_city", "thu", stdout=io.StringIO(), stderr=err)

    assert "line 15: Category water_supply has no deadline_hours." in err.getvalue()


def test_an_unreadable_definition_stops_start_up_with_the_reason(tmp_path: Path) -> None:
    cities = write_city(tmp_path, GOOD.replace("[[rules]]", "[[rules]"), TWO_WARDS)

    with pytest.raises(CityError, match="not valid TOML"):
        read_city(cities / "thu" / "city.toml")


def test_a_bad_city_setting_stops_start_up(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "CITY": "atlantis", "DJANGO_SETTINGS_MODULE": "hues.settings_test"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "CITY='atlantis'" in result.stderr
    assert "no such file" in result.stderr.lower() or "cannot read" in result.stderr
