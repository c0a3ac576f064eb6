"""A city is a folder: cities/<slug>/city.toml, data only, picked by the setting CITY.

The definition holds what makes one city's service different from another's: its names, time
zone, reference prefix, office hours, holidays, agencies, categories with their deadlines,
routing rules, the staff's reply templates, demo users and where the GeoJSON of its wards and
communes is. Settings read the city's time zone, prefix and office hours from it;
`reports.cities` loads its reference data into the database (`manage.py seed_demo`); texts
take its names from `current_city()`.

`read_city` parses and checks a definition: every problem is reported with the line of the
file it is on, all of them at once (`CityError.problems`); `check_boundaries` checks the
boundary file it names (`manage.py check_city`).
"""

from __future__ import annotations

import json
import re
import tomllib
import zoneinfo
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.utils.functional import Promise, lazy

from hues.replies import PURPOSES, unknown_placeholders
from hues.workhours import parse_working_hours

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CITIES_DIR = PROJECT_ROOT / "cities"
# The city CITY picks when it is not set: named in cities/default, data like the cities.
DEFAULT_CITY = (CITIES_DIR / "default").read_text(encoding="utf-8").strip()
# A routing rule's target that is no agency: the People's Committee of the report's area.
WARD_COMMITTEE = "ward_committee"
AGENCY_KINDS = ("department", "utility", "police", "other")
ROLES = ("administrator", "dispatcher", "manager", "staff", "citizen", "hotline")
AGENCY_ROLES = ("manager", "staff")
_SLUG = re.compile(r"[a-z][a-z0-9_]*")
_CODE = re.compile(r"[a-z0-9][a-z0-9_-]*")
_PREFIX = re.compile(r"[A-Z]{2,8}")
_PHONE = re.compile(r"\+\d{8,15}")


@dataclass(frozen=True)
class AgencyDefinition:
    code: str
    name: str
    name_en: str
    short_name: str
    kind: str
    email: str


@dataclass(frozen=True)
class CategoryDefinition:
    code: str
    name: str
    name_en: str
    group: str
    icon: str
    agency: str | None  # handles what no rule matches; None: the dispatchers' queue
    deadline_hours: int
    urgent_deadline_hours: int


@dataclass(frozen=True)
class RuleDefinition:
    category: str
    area: str | None  # None: any area
    agency: str  # an agency's code, or WARD_COMMITTEE


@dataclass(frozen=True)
class HolidayDefinition:
    date: date
    name: str
    name_en: str


@dataclass(frozen=True)
class DemoUserDefinition:
    phone: str
    name: str
    role: str
    agency: str | None  # an agency's code, or "ward_committee:<area code>"


@dataclass(frozen=True)
class ReplyTemplateDefinition:
    code: str
    purpose: str  # one of hues.replies.PURPOSES
    name: str
    name_en: str
    category: str | None  # None: any category
    agency: str | None  # None: any agency
    text: str  # Vietnamese
    text_en: str  # empty: no English template


@dataclass(frozen=True)
class City:
    slug: str
    name: str
    name_en: str
    app_name: str
    time_zone: str
    reference_prefix: str
    working_hours: str
    boundaries: Path
    demo_password: str
    agencies: tuple[AgencyDefinition, ...] = ()
    categories: tuple[CategoryDefinition, ...] = ()
    rules: tuple[RuleDefinition, ...] = ()
    holidays: tuple[HolidayDefinition, ...] = ()
    demo_users: tuple[DemoUserDefinition, ...] = ()
    reply_templates: tuple[ReplyTemplateDefinition, ...] = ()

    def display_name(self, language: str) -> str:
        return self.name_en if language == "en" and self.name_en else self.name


@dataclass(frozen=True)
class Problem:
    line: int | None  # the line of city.toml, or None for the file as a whole
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


class CityError(ValueError):
    """A city definition that cannot be used; `problems` says every reason, by line."""

    def __init__(self, path: Path, problems: list[Problem]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(str(problem) for problem in problems))


def city_path(slug: str, cities_dir: Path = CITIES_DIR) -> Path:
    return cities_dir / slug / "city.toml"


def _table_lines(text: str) -> dict[str, list[int]]:
    """The line of each [[table]] header, in order, by table name: where the n-th agency,
    category, rule... begins (tomllib keeps no positions)."""
    lines: dict[str, list[int]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = re.match(r"\s*\[\[\s*([A-Za-z_]+)\s*\]\]", line)
        if match:
            lines.setdefault(match[1], []).append(number)
    return lines


def _key_lines(text: str) -> dict[str, int]:
    """The line of each top-level `key = value` (before the first table)."""
    lines: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(r"\s*\[", line):
            break
        match = re.match(r"\s*([A-Za-z_]+)\s*=", line)
        if match:
            lines.setdefault(match[1], number)
    return lines


@dataclass
class _Reader:
    """Reads one table's fields, noting each problem with the table's line."""

    problems: list[Problem]
    line: int | None
    values: dict[str, Any]
    what: str
    used: set[str] = field(default_factory=set)

    def text(
        self, key: str, *, required: bool = True, pattern: re.Pattern[str] | None = None
    ) -> str:
        self.used.add(key)
        value = self.values.get(key)
        if value is None:
            if required:
                self.problem(f"{self.what} has no {key}.")
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            self.problem(f"{self.what}: {key} must be a non-empty text.")
            return ""
        if pattern is not None and not pattern.fullmatch(value):
            self.problem(f"{self.what}: {key} {value!r} is not valid.")
        return value.strip()

    def number(self, key: str) -> int:
        self.used.add(key)
        value = self.values.get(key)
        if value is None:
            self.problem(f"{self.what} has no {key}.")
            return 0
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            self.problem(f"{self.what}: {key} must be a whole number of hours, at least 1.")
            return 0
        return value

    def problem(self, message: str) -> None:
        self.problems.append(Problem(self.line, message))

    def done(self) -> None:
        for key in sorted(set(self.values) - self.used):
            self.problem(f"{self.what}: unknown key {key!r}.")


def read_city(path: Path, slug: str | None = None) -> City:
    """The city defined in `path`, checked: raises CityError with every problem found."""
    slug = slug or path.parent.name
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CityError(
            path, [Problem(None, f"cannot read the file ({error.strerror}).")]
        ) from error
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise CityError(path, [Problem(None, f"not valid TOML: {error}.")]) from error
    problems: list[Problem] = []
    tables = _table_lines(text)
    keys = _key_lines(text)
    top = _Reader(problems, None, data, "The city")
    top.used |= {"agencies", "categories", "rules", "holidays", "demo_users", "reply_templates"}

    def at(key: str) -> None:
        top.line = keys.get(key)

    at("name")
    name = top.text("name")
    at("name_en")
    name_en = top.text("name_en", required=False)
    at("app_name")
    app_name = top.text("app_name")
    at("time_zone")
    time_zone = top.text("time_zone")
    if time_zone:
        try:
            zoneinfo.ZoneInfo(time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            top.problem(f"unknown time zone {time_zone!r}.")
    at("reference_prefix")
    prefix = top.text("reference_prefix", pattern=_PREFIX)
    at("working_hours")
    working_hours = top.text("working_hours")
    if working_hours:
        try:
            parse_working_hours(working_hours)
        except ValueError as error:
            top.problem(f"working_hours: {error}")
    at("boundaries")
    boundaries_text = top.text("boundaries")
    boundaries = Path(boundaries_text)
    if not boundaries.is_absolute():
        boundaries = PROJECT_ROOT / boundaries
    at("demo_password")
    demo_password = top.text("demo_password")
    top.line = None
    if not _SLUG.fullmatch(slug):
        top.problem(f"the folder name {slug!r} is not a valid city slug (a-z, 0-9, _).")
    top.done()

    def entries(table: str) -> list[tuple[int | None, dict[str, Any]]]:
        items = data.get(table, [])
        if not isinstance(items, list):
            problems.append(Problem(keys.get(table), f"{table} must be a list of [[{table}]]."))
            return []
        lines = tables.get(table, [])
        return [
            (lines[index] if index < len(lines) else None, item)
            for index, item in enumerate(items)
            if isinstance(item, dict)
        ]

    agencies: list[AgencyDefinition] = []
    for line, values in entries("agencies"):
        reader = _Reader(problems, line, values, "An agency")
        code = reader.text("code", pattern=_CODE)
        reader.what = f"Agency {code or '?'}"
        kind = reader.text("kind")
        if kind and kind not in AGENCY_KINDS:
            reader.problem(f"Agency {code}: kind {kind!r} is not one of {', '.join(AGENCY_KINDS)}.")
        agencies.append(
            AgencyDefinition(
                code=code,
                name=reader.text("name"),
                name_en=reader.text("name_en", required=False),
                short_name=reader.text("short_name", required=False),
                kind=kind,
                email=reader.text("email", required=False),
            )
        )
        reader.done()
    agency_codes = _unique(
        problems, tables.get("agencies", []), [a.code for a in agencies], "agency"
    )
    if WARD_COMMITTEE in agency_codes or any(c.startswith("ward-") for c in agency_codes):
        problems.append(
            Problem(None, "agency codes 'ward_committee' and 'ward-…' are the ward committees'.")
        )

    categories: list[CategoryDefinition] = []
    for line, values in entries("categories"):
        reader = _Reader(problems, line, values, "A category")
        code = reader.text("code", pattern=_CODE)
        reader.what = f"Category {code or '?'}"
        agency = reader.text("agency", required=False) or None
        if agency is not None and agency not in agency_codes:
            reader.problem(f"Category {code}: unknown agency {agency!r}.")
        hours = reader.number("deadline_hours")
        urgent = reader.number("urgent_deadline_hours")
        if hours and urgent and urgent > hours:
            reader.problem(f"Category {code}: the urgent deadline is longer than the normal one.")
        categories.append(
            CategoryDefinition(
                code=code,
                name=reader.text("name"),
                name_en=reader.text("name_en", required=False),
                group=reader.text("group", required=False),
                icon=reader.text("icon", required=False),
                agency=agency,
                deadline_hours=hours,
                urgent_deadline_hours=urgent,
            )
        )
        reader.done()
    category_codes = _unique(
        problems, tables.get("categories", []), [c.code for c in categories], "category"
    )
    if not categories:
        problems.append(Problem(None, "the city has no [[categories]]."))

    rules: list[RuleDefinition] = []
    seen: dict[tuple[str, str | None], int | None] = {}
    for line, values in entries("rules"):
        reader = _Reader(problems, line, values, "A rule")
        category = reader.text("category")
        area = reader.text("area", required=False) or None
        agency = reader.text("agency")
        if category and category not in category_codes:
            reader.problem(f"A rule names an unknown category {category!r}.")
        if agency and agency != WARD_COMMITTEE and agency not in agency_codes:
            reader.problem(f"A rule names an unknown agency {agency!r}.")
        if (category, area) in seen:
            reader.problem(
                f"A second rule for category {category!r} and "
                f"{'area ' + repr(area) if area else 'any area'}."
            )
        seen[category, area] = line
        rules.append(RuleDefinition(category=category, area=area, agency=agency))
        reader.done()

    holidays: list[HolidayDefinition] = []
    for line, values in entries("holidays"):
        reader = _Reader(problems, line, values, "A holiday")
        reader.used.add("date")
        day = values.get("date")
        if not isinstance(day, date):
            reader.problem("A holiday needs a date written 2026-09-02.")
        holidays.append(
            HolidayDefinition(
                date=day if isinstance(day, date) else date.min,
                name=reader.text("name"),
                name_en=reader.text("name_en", required=False),
            )
        )
        reader.done()
    _unique(problems, tables.get("holidays", []), [h.date for h in holidays], "holiday date")

    demo_users: list[DemoUserDefinition] = []
    for line, values in entries("demo_users"):
        reader = _Reader(problems, line, values, "A demo user")
        phone = reader.text("phone", pattern=_PHONE)
        role = reader.text("role")
        agency = reader.text("agency", required=False) or None
        if role and role not in ROLES:
            reader.problem(f"Demo user {phone}: role {role!r} is not one of {', '.join(ROLES)}.")
        if (role in AGENCY_ROLES) != (agency is not None):
            reader.problem(f"Demo user {phone}: staff and managers, and only they, have an agency.")
        ward_committee = agency is not None and agency.startswith(f"{WARD_COMMITTEE}:")
        if agency is not None and not ward_committee and agency not in agency_codes:
            reader.problem(f"Demo user {phone}: unknown agency {agency!r}.")
        demo_users.append(
            DemoUserDefinition(phone=phone, name=reader.text("name"), role=role, agency=agency)
        )
        reader.done()
    _unique(problems, tables.get("demo_users", []), [u.phone for u in demo_users], "phone")

    reply_templates = _read_reply_templates(
        problems,
        entries("reply_templates"),
        tables.get("reply_templates", []),
        categories=category_codes,
        agencies=agency_codes,
    )

    if problems:
        raise CityError(path, problems)
    return City(
        slug=slug,
        name=name,
        name_en=name_en,
        app_name=app_name,
        time_zone=time_zone,
        reference_prefix=prefix,
        working_hours=working_hours,
        boundaries=boundaries,
        demo_password=demo_password,
        agencies=tuple(agencies),
        categories=tuple(categories),
        rules=tuple(rules),
        holidays=tuple(holidays),
        demo_users=tuple(demo_users),
        reply_templates=reply_templates,
    )


def _read_reply_templates(
    problems: list[Problem],
    items: list[tuple[int | None, dict[str, Any]]],
    lines: list[int],
    *,
    categories: set[str],
    agencies: set[str],
) -> tuple[ReplyTemplateDefinition, ...]:
    """The [[reply_templates]]: a purpose of hues.replies, the category and agency (if any)
    of this city, only known placeholders in both texts, a code of their own."""
    reply_templates: list[ReplyTemplateDefinition] = []
    for line, values in items:
        reader = _Reader(problems, line, values, "A reply template")
        code = reader.text("code", pattern=_CODE)
        reader.what = f"Reply template {code or '?'}"
        purpose = reader.text("purpose")
        if purpose and purpose not in PURPOSES:
            reader.problem(
                f"Reply template {code}: purpose {purpose!r} is not one of {', '.join(PURPOSES)}."
            )
        category = reader.text("category", required=False) or None
        if category is not None and category not in categories:
            reader.problem(f"Reply template {code}: unknown category {category!r}.")
        agency = reader.text("agency", required=False) or None
        if agency is not None and agency not in agencies:
            reader.problem(f"Reply template {code}: unknown agency {agency!r}.")
        name = reader.text("name")
        text = reader.text("text")
        text_en = reader.text("text_en", required=False)
        for key, value in (("text", text), ("text_en", text_en)):
            unknown = unknown_placeholders(value)
            if unknown:
                reader.problem(
                    f"Reply template {code}: {key} has unknown placeholder(s) "
                    + ", ".join(f"{{{placeholder}}}" for placeholder in unknown)
                    + "."
                )
        reply_templates.append(
            ReplyTemplateDefinition(
                code=code,
                purpose=purpose,
                name=name,
                name_en=reader.text("name_en", required=False) or name,
                category=category,
                agency=agency,
                text=text,
                text_en=text_en,
            )
        )
        reader.done()
    _unique(problems, lines, [t.code for t in reply_templates], "reply template code")
    return tuple(reply_templates)


def _unique(problems: list[Problem], lines: list[int], values: list[Any], what: str) -> set[Any]:
    seen: set[Any] = set()
    for index, value in enumerate(values):
        if value in seen and value:
            line = lines[index] if index < len(lines) else None
            problems.append(Problem(line, f"the {what} {value!r} appears twice."))
        seen.add(value)
    return seen


@lru_cache(maxsize=8)
def load_city(slug: str, cities_dir: Path = CITIES_DIR) -> City:
    """The city of cities_dir/<slug>/city.toml (read once per process)."""
    if not _SLUG.fullmatch(slug):
        raise CityError(city_path(slug, cities_dir), [Problem(None, f"{slug!r} is no city slug.")])
    return read_city(city_path(slug, cities_dir), slug)


def current_city() -> City:
    """The city the settings select (CITY)."""
    from django.conf import settings

    return load_city(settings.CITY, Path(settings.CITIES_DIR))


def available_cities(cities_dir: Path = CITIES_DIR) -> list[str]:
    return sorted(path.parent.name for path in cities_dir.glob("*/city.toml"))


# Boundaries: what `check_city` checks beyond the definition itself.

# Two areas may overlap by slivers that simplification leaves (the shared data: at most
# 0.6% of the smaller one); more than this share of the smaller area is an error.
OVERLAP_SHARE = 0.01


def check_boundaries(city: City) -> tuple[list[str], list[str], list[str]]:
    """(errors, warnings, area codes) of the city's boundary file: it must be a GeoJSON
    FeatureCollection of Polygons and MultiPolygons, each with a code and a name, the codes
    unique, the polygons valid (a self-intersection that make_valid repairs without losing
    area is a warning: the import repairs it), no two overlapping by more than OVERLAP_SHARE
    of the smaller."""
    import shapely
    from shapely.errors import ShapelyError
    from shapely.geometry import shape
    from shapely.strtree import STRtree

    path = city.boundaries
    if not path.is_file():
        return [f"boundaries: no file at {path}."], [], []
    try:
        collection = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        return [f"boundaries: {path} is not JSON ({error})."], [], []
    features = collection.get("features") if isinstance(collection, dict) else None
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        return [f"boundaries: {path} is not a GeoJSON FeatureCollection."], [], []
    if not isinstance(features, list) or not features:
        return [f"boundaries: {path} has no features."], [], []
    errors: list[str] = []
    warnings: list[str] = []
    codes: list[str] = []
    shapes: list[Any] = []
    for number, feature in enumerate(features, start=1):
        properties = feature.get("properties") if isinstance(feature, dict) else None
        code = str((properties or {}).get("code") or "").strip()
        label = f"boundaries: feature {number}" + (f" (area {code})" if code else "")
        if not code or not (properties or {}).get("name"):
            errors.append(f"{label} has no code or no name.")
        try:
            geometry = shape(feature["geometry"])
        except (KeyError, TypeError, ValueError, AttributeError, ShapelyError):
            errors.append(f"{label} has no readable geometry.")
            continue
        if geometry.geom_type not in ("Polygon", "MultiPolygon"):
            errors.append(f"{label} is a {geometry.geom_type}, not a Polygon or MultiPolygon.")
            continue
        if not geometry.is_valid:
            repaired = shapely.make_valid(geometry)
            if geometry.area > 0 and abs(repaired.area - geometry.area) <= 0.001 * geometry.area:
                warnings.append(f"{label} is not a valid polygon; the import repairs it.")
                geometry = repaired
            else:
                errors.append(
                    f"{label} is not a valid polygon ({shapely.is_valid_reason(geometry)})."
                )
                continue
        if geometry.area <= 0:
            errors.append(f"{label} has no area.")
            continue
        codes.append(code)
        shapes.append(geometry)
    for code in sorted({code for code in codes if codes.count(code) > 1}):
        errors.append(f"boundaries: the area code {code} appears twice.")
    tree = STRtree(shapes)
    for first, geometry in enumerate(shapes):
        for second in tree.query(geometry):
            if second <= first:
                continue
            other = shapes[int(second)]
            overlap = geometry.intersection(other).area
            if overlap > OVERLAP_SHARE * min(geometry.area, other.area):
                errors.append(
                    f"boundaries: areas {codes[first]} and {codes[int(second)]} overlap "
                    f"({overlap / min(geometry.area, other.area):.0%} of the smaller)."
                )
    return errors, warnings, codes


def check_city(slug: str, cities_dir: Path = CITIES_DIR) -> tuple[list[str], list[str]]:
    """(errors, warnings) of a city's folder: its definition line by line, then its boundary
    file, then the areas its rules and demo users name, which the boundaries must have."""
    path = city_path(slug, cities_dir)
    if not path.is_file():
        return [f"{path}: no such file (a city is cities/<slug>/city.toml)."], []
    try:
        city = read_city(path, slug)
    except CityError as error:
        return [str(problem) for problem in error.problems], []
    errors, warnings, codes = check_boundaries(city)
    if not codes:
        return errors, warnings
    known = set(codes)
    tables = _table_lines(path.read_text(encoding="utf-8"))
    for index, rule in enumerate(city.rules):
        if rule.area is not None and rule.area not in known:
            line = tables["rules"][index]
            errors.append(f"line {line}: the rule names area {rule.area}, not in the boundaries.")
    for index, user in enumerate(city.demo_users):
        area = (user.agency or "").partition(f"{WARD_COMMITTEE}:")[2]
        if area and area not in known:
            line = tables["demo_users"][index]
            errors.append(
                f"line {line}: demo user {user.phone} names area {area}, not in the boundaries."
            )
    return errors, warnings


def _city_format(template: str | Promise) -> str:
    from hues.languages import active_language

    city = current_city()
    return str(template) % {
        "city": city.display_name(active_language()),
        "app": city.app_name,
        "prefix": city.reference_prefix,
    }


# A translatable text naming the city, formatted when it is shown, in the language then
# active: %(city)s is the city's name, %(app)s the service's, %(prefix)s its reference prefix
# (city_text(_("... %(city)s"))).
city_text = lazy(_city_format, str)
