"""Realistic bulk data for benchmarks: citizens and their reports, with photos, timelines
and supporters, written fast (tests/perf/benchdata/load.py).

PostgreSQL gets the rows through COPY (psycopg 3 `cursor.copy`), with the secondary indexes
of the report tables dropped during the load and rebuilt once at the end; other databases
(SQLite, for tests) get batched INSERTs. The reference data (areas, agencies, categories,
routing rules) comes from `reports.cities.city_load`, and every generated report is
consistent with it: its point lies in its area (as routing locates it), its agency is the
one the routing rules choose, its timeline follows the lifecycle's transitions, and its
status is one of realistic proportions for its age. Photos are rows only: their files are
not written (the feed and detail show URLs, never the bytes).
"""

from __future__ import annotations

import bisect
import random
import time
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Max, Model
from django.utils import timezone

from reports.models import (
    Area,
    Channel,
    Event,
    Photo,
    Priority,
    ReferenceCounter,
    Report,
    ReportStatus,
    Supporter,
)
from reports.routing import decide
from reports.selectors import routing_data_changed, routing_snapshot
from reports.text import search_normalize
from tests.perf.benchdata import timeline
from tests.perf.benchdata.load import (
    LOADED_MODELS,
    PARALLEL_CONNECTIONS,
    columns_of,
    drop_secondary_indexes,
    finish_in_parallel,
    rebuild,
    reset_sequences,
    write_rows,
)

S = ReportStatus
K = Event.Kind

# How often each category is reported (Hue-S: garbage, roads and lighting lead).
CATEGORY_WEIGHTS = {
    "garbage": 20,
    "road_damage": 14,
    "urban_order": 14,
    "drainage": 12,
    "street_lighting": 12,
    "trees_parks": 7,
    "water_supply": 6,
    "electricity": 5,
    "traffic_order": 4,
    "security_order": 3,
    "other": 3,
}

PROBLEMS = {
    "garbage": ["Rác thải tồn đọng", "Bãi rác tự phát", "Thùng rác đầy tràn", "Xả rác bừa bãi"],
    "road_damage": ["Mặt đường bị sụt lún", "Ổ gà lớn", "Nắp hố ga bị vỡ", "Vỉa hè bị hư hỏng"],
    "urban_order": ["Lấn chiếm vỉa hè", "Hàng rong lấn chiếm lòng đường", "Quảng cáo sai quy định"],
    "drainage": ["Ngập úng sau mưa", "Cống thoát nước bị tắc", "Nước thải chảy tràn"],
    "street_lighting": ["Đèn đường không sáng", "Cột đèn bị nghiêng", "Đèn chiếu sáng chập chờn"],
    "trees_parks": ["Cây xanh gãy đổ", "Cành cây có nguy cơ gãy", "Cỏ dại trong công viên"],
    "water_supply": ["Vỡ ống nước", "Mất nước sinh hoạt", "Nước máy có mùi lạ"],
    "electricity": ["Dây điện võng thấp", "Mất điện kéo dài", "Tủ điện hở"],
    "traffic_order": ["Đỗ xe sai quy định", "Đèn tín hiệu giao thông hỏng", "Đua xe trái phép"],
    "security_order": ["Gây mất trật tự ban đêm", "Tụ tập đông người", "Karaoke gây ồn"],
    "other": ["Sự việc cần cơ quan chức năng xem xét", "Biển báo bị che khuất"],
}
DETAILS = [
    "",
    ", đã nhiều ngày chưa được xử lý",
    ", gây nguy hiểm cho người đi đường",
    ", mong cơ quan chức năng sớm kiểm tra",
    ", ảnh hưởng đến sinh hoạt của người dân",
]
STREETS = [
    "Lê Lợi",
    "Hùng Vương",
    "Trần Hưng Đạo",
    "Nguyễn Huệ",
    "Hà Nội",
    "Điện Biên Phủ",
    "Phan Đình Phùng",
    "Bà Triệu",
    "Nguyễn Sinh Cung",
    "Lý Thường Kiệt",
    "Đống Đa",
    "Hai Bà Trưng",
    "Lê Duẩn",
    "Trần Phú",
    "Phạm Văn Đồng",
    "Tố Hữu",
    "Võ Văn Kiệt",
    "Nguyễn Trãi",
    "Mai Thúc Loan",
    "Chi Lăng",
    "Huỳnh Thúc Kháng",
    "Đinh Tiên Hoàng",
    "Ngô Quyền",
    "Nguyễn Công Trứ",
    "Phạm Ngũ Lão",
    "Chu Văn An",
    "Võ Thị Sáu",
    "Kim Long",
    "Nguyễn Phúc Nguyên",
    "Trường Chinh",
]
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Phan", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"]
MIDDLE = ["Văn", "Thị", "Hữu", "Minh", "Thanh", "Quốc", "Ngọc", "Đức", "Thu", "Xuân"]
GIVEN = ["An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Hải", "Hoa", "Hùng", "Lan", "Linh", "Long"]
GIVEN += ["Mai", "Nam", "Nga", "Phúc", "Phương", "Quân", "Tâm", "Thảo", "Trang", "Tuấn", "Vy"]

# The status of a report by its age: recent ones are still being worked on, old ones are
# closed (rated, or closed after 7 days without an answer) or rejected.
STATUS_BY_AGE: list[tuple[timedelta, dict[str, int]]] = [
    (
        timedelta(hours=2),
        {S.SUBMITTED: 2, S.NEEDS_TRIAGE: 6, S.ROUTED: 62, S.IN_PROGRESS: 28, S.REJECTED: 2},
    ),
    (
        timedelta(days=3),
        {S.NEEDS_TRIAGE: 3, S.ROUTED: 22, S.IN_PROGRESS: 45, S.RESOLVED: 25, S.REJECTED: 5},
    ),
    (
        timedelta(days=14),
        {S.NEEDS_TRIAGE: 1, S.ROUTED: 4, S.IN_PROGRESS: 20, S.RESOLVED: 35, S.CLOSED: 34},
    ),
    (timedelta.max, {S.IN_PROGRESS: 3, S.CLOSED: 89, S.REJECTED: 8}),
]
# How far back the reports go, and how the pace grows (more reports lately).
SPAN = timedelta(days=730)
CHUNK = 20_000
CLOSE_AFTER = timedelta(days=7, minutes=5)  # reports.tasks.close_unanswered, hourly
RATINGS = [1, 2, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5]
# Supporters of a report are the citizens this far apart (in ids) from its reporter.
SUPPORTER_STEP = 7919


@dataclass
class Summary:
    reports: int = 0
    users: int = 0
    photos: int = 0
    events: int = 0
    supporters: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    # A citizen who filed exactly `heavy_reporter_reports` of the new reports (for `mine`).
    heavy_reporter_phone: str = ""
    heavy_reporter_reports: int = 0
    seconds: float = 0.0


# Photos, timelines and supporters follow from a report's row by the same rules in Python
# (any database) and in SQL (PostgreSQL, where the server derives millions of rows faster
# than they can be sent): the timeline comes from the lifecycle's transitions
# (tests.perf.benchdata.timeline); 1 to 3 evidence photos (by id: 70%, 20%, 10%) and a
# result photo once resolved; `supporters_count` supporters, distinct citizens other than
# the reporter.


def _derive_rows(
    rng: random.Random,
    reports: list[dict[str, Any]],
    user_start: int,
    user_count: int,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    photos: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    supporters: list[tuple[Any, ...]] = []
    for row in reports:
        report_id, reporter = row["id"], row["reporter"]
        created, resolved = row["created_at"], row["resolved_at"]
        events += timeline.events_of(row)
        evidence = 1 + (report_id % 10 >= 7) + (report_id % 10 >= 9)
        shots = [(Photo.Kind.EVIDENCE, reporter, created)] * evidence
        if resolved is not None:
            shots.append((Photo.Kind.RESULT, None, resolved))
        for kind, by, when in shots:
            name = f"{when.year}/{when.month:02d}/{rng.getrandbits(128):032x}.jpg"
            photos.append(
                (
                    report_id,
                    kind,
                    f"photos/{name}",
                    f"thumbnails/{name}",
                    1600,
                    1200,
                    by,
                    when,
                    *processed(name, when),
                )
            )
        for k in range(1, row["supporters_count"] + 1):
            user = user_start + (reporter - user_start + k * SUPPORTER_STEP) % user_count
            supporters.append((report_id, user, created + timedelta(hours=k)))
    return photos, events, supporters


PHOTO_COLUMNS = ["report", "kind", "image", "thumbnail", "width", "height", "uploaded_by"]
PHOTO_COLUMNS += ["created_at"]
# Generated photos are as the privacy step leaves them (reports.privacy): processed, with
# a public rendition, so the feed shows them as it shows real ones.
PHOTO_COLUMNS += ["public_image", "public_thumbnail", "redaction", "redaction_attempts"]
PHOTO_COLUMNS += ["redaction_error", "redacted_at", "detector_version"]
BENCH_DETECTOR = "generated (tests/perf/benchdata)"


def processed(name: str, when: datetime) -> tuple[Any, ...]:
    """The privacy step's columns of a generated photo (PHOTO_COLUMNS after created_at)."""
    return (f"public/{name}", f"public-thumbnails/{name}", "done", 1, "", when, BENCH_DETECTOR)


SUPPORTER_COLUMNS = ["report", "user", "created_at"]


def derived_statements(
    *, first: int, last: int, user_start: int, user_count: int, parts: int = 1
) -> list[tuple[type[Model], str, dict[str, Any]]]:
    """The rules of `_derive_rows`, as INSERT ... SELECT over the reports first..last: the
    table each fills, the statement and its parameters. The events come in `parts`
    statements over ranges of reports (each report's timeline whole in one), so that
    connections can share them."""
    report = connection.ops.quote_name(Report._meta.db_table)
    photo = connection.ops.quote_name(Photo._meta.db_table)
    supporter = connection.ops.quote_name(Supporter._meta.db_table)
    between = "id BETWEEN %(first)s AND %(last)s"
    events, event_params = timeline.events_sql(
        report,
        connection.ops.quote_name(Event._meta.db_table),
        columns_of(Event, timeline.EVENT_COLUMNS),
    )
    params: dict[str, Any] = {
        "first": first,
        "last": last,
        "user_start": user_start,
        "user_count": user_count,
        "step": SUPPORTER_STEP,
        "evidence": Photo.Kind.EVIDENCE,
        "result": Photo.Kind.RESULT,
        "detector": BENCH_DETECTOR,
    }
    name = "to_char(shot_at AT TIME ZONE 'UTC', 'YYYY/MM') || '/' || md5(random()::text) || '.jpg'"
    size = -(-(last - first + 1) // parts)
    statements: list[tuple[type[Model], str, dict[str, Any]]] = [
        (Event, events, {**event_params, "first": start, "last": min(last, start + size - 1)})
        for start in range(first, last + 1, size)
    ]
    # Table names come from the models and the values are parameters: no input in the SQL.
    photos, supporters = (
        f"""
        INSERT INTO {photo} (report_id, kind, image, thumbnail, width, height, uploaded_by_id,
                             created_at, public_image, public_thumbnail, redaction,
                             redaction_attempts, redaction_error, redacted_at,
                             detector_version)
        SELECT id, kind, 'photos/' || name, 'thumbnails/' || name, 1600, 1200, by, shot_at,
               'public/' || name, 'public-thumbnails/' || name, 'done', 1, '', shot_at,
               %(detector)s
        FROM (
            SELECT id, %(evidence)s AS kind, reporter_id AS by, created_at AS shot_at
            FROM {report}, generate_series(1, 1 + (id %% 10 >= 7)::int + (id %% 10 >= 9)::int)
            WHERE {between}
            UNION ALL
            SELECT id, %(result)s, NULL, resolved_at FROM {report}
            WHERE {between} AND resolved_at IS NOT NULL
        ) shots, LATERAL (SELECT {name} AS name) names
        """,  # noqa: S608
        f"""
        INSERT INTO {supporter} (report_id, user_id, created_at)
        SELECT id,
               %(user_start)s + (reporter_id - %(user_start)s + k * %(step)s) %% %(user_count)s,
               created_at + k * interval '1 hour'
        FROM {report}, generate_series(1, supporters_count) k
        WHERE {between} AND supporters_count > 0
        """,  # noqa: S608
    )
    statements += [(Photo, photos, params), (Supporter, supporters, params)]
    return statements


def _derive_in_database(*, first: int, last: int, user_start: int, user_count: int) -> None:
    """The derived rows over one connection, in the caller's transaction."""
    statements = derived_statements(
        first=first, last=last, user_start=user_start, user_count=user_count
    )
    with connection.cursor() as cursor:
        for _model, statement, params in statements:
            cursor.execute(statement, params)


# The generator.


def _weighted(rng: random.Random, choices: dict[str, int]) -> Callable[[], str]:
    keys = list(choices)
    cumulative: list[int] = []
    total = 0
    for key in keys:
        total += choices[key]
        cumulative.append(total)

    def pick() -> str:
        return keys[bisect.bisect_right(cumulative, rng.random() * total)]

    return pick


def _points(rng: random.Random, areas: list[Area], count: int) -> list[tuple[float, float, str]]:
    """`count` (lat, lng, area code) points inside the areas, as routing locates them,
    spread by population (most reports come from the dense city wards)."""
    import numpy as np
    import shapely
    from shapely.geometry import shape

    snapshot = routing_snapshot()
    weights = np.array([float(a.population or 1000) for a in areas])
    per_area = np.maximum(1, np.round(weights / weights.sum() * count).astype(int))
    generator = np.random.default_rng(rng.getrandbits(32))
    points: list[tuple[float, float, str]] = []
    for area, wanted in zip(areas, per_area, strict=True):
        polygon = shape(area.boundary)
        shapely.prepare(polygon)
        found: list[tuple[float, float, str]] = []
        for _attempt in range(50):
            lng = generator.uniform(area.min_lng, area.max_lng, wanted * 4)
            lat = generator.uniform(area.min_lat, area.max_lat, wanted * 4)
            inside = shapely.contains_xy(polygon, lng, lat)
            for x, y in zip(lng[inside], lat[inside], strict=True):
                # Where simplified polygons overlap, routing decides; keep its answer.
                if snapshot.index.locate(float(x), float(y)) == area.code:
                    found.append((round(float(y), 6), round(float(x), 6), area.code))
                    if len(found) >= wanted:
                        break
            if len(found) >= wanted:
                break
        points.extend(found)
    rng.shuffle(points)
    return points


def _users(rng: random.Random, count: int, now: datetime) -> tuple[list[int], str]:
    """Create `count` verified citizens (no usable password); returns their ids and the
    phone of the first, who files exactly the heavy reporter's share."""
    user_model = get_user_model()
    start = (user_model.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    # +84 9x xxx xxxx, numbered after the highest generated phone so reruns add new ones.
    prefix = "+8498"
    taken = user_model.objects.filter(phone__startswith=prefix).aggregate(m=Max("phone"))["m"]
    first = int(taken[len(prefix) :]) + 1 if taken else 1_000_000
    names = ["id", "password", "phone", "full_name", "email", "role", "phone_verified_at"]
    names += ["is_active", "is_staff", "is_superuser", "date_joined"]
    rows = []
    for i in range(count):
        joined = now - SPAN - timedelta(days=rng.randint(1, 400))
        full_name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        phone = f"{prefix}{first + i:07d}"
        rows.append(
            (
                start + i,
                "!bulk",
                phone,
                full_name,
                "",
                "citizen",
                joined,
                True,
                False,
                False,
                joined,
            )
        )
    # Columns this generator does not know yet get their model default (COPY would leave
    # them NULL).
    defaults = _plain_defaults(user_model, names)
    if defaults:
        names += list(defaults)
        rows = [(*row, *defaults.values()) for row in rows]
    write_rows(user_model, names, rows)
    return [start + i for i in range(count)], f"{prefix}{first:07d}"


def _plain_defaults(model: type[Model], names: Sequence[str]) -> dict[str, Any]:
    """The non-null columns of `model` outside `names` with a plain default: their own, or
    the empty string of a text column without one (as the ORM writes it)."""
    return {
        f.name: f.get_default()
        for f in model._meta.concrete_fields
        if f.name not in names
        and not f.null
        and not f.primary_key
        and (
            (f.has_default() and not callable(f.default))
            or (not f.has_default() and f.empty_strings_allowed and not f.is_relation)
        )
    }


def _photo_name(rng: random.Random, prefix: str, when: datetime) -> str:
    return f"{prefix}/{when:%Y/%m}/{rng.getrandbits(128):032x}.jpg"


def generate_reports(
    *,
    count: int,
    users: int | None = None,
    seed: int = 2026,
    areas_path: Path | None = None,
    now: datetime | None = None,
    heavy_reports: int = 50,
    log: Callable[[str], None] | None = None,
) -> Summary:
    """Add `count` reports (and `users` new citizens, a few thousand at most by default) to
    the database, after loading the reference data. Repeatable with the same seed."""
    from hues.city import current_city
    from reports.cities import city_load

    started = time.monotonic()
    say = log or (lambda _message: None)
    rng = random.Random(seed)
    now = now or timezone.now()
    if users is None:
        users = min(3000, max(20, count // 20))
    heavy_reports = min(heavy_reports, count)
    city_load(
        current_city(),
        boundaries=areas_path if areas_path is not None else settings.AREAS_GEOJSON,
    )
    routing_data_changed()
    snapshot = routing_snapshot()
    areas = list(Area.objects.order_by("code"))
    if not areas:
        raise ValueError("No areas: give the GeoJSON of the wards (AREAS_GEOJSON).")
    from reports.models import Category

    categories = {c.code: c for c in Category.objects.filter(is_active=True)}
    pick_category = _weighted(
        rng, {code: CATEGORY_WEIGHTS.get(code, 3) for code in sorted(categories)}
    )
    area_ids = {a.code: a.pk for a in areas}
    area_names = {a.code: a.name for a in areas}
    agency_for: dict[tuple[str, str], int | None] = {}
    for code in categories:
        for area in areas:
            decision = decide(
                category=code,
                area=area.code,
                rules=snapshot.rules,
                ward_committees=snapshot.ward_committees,
                default_agency=snapshot.default_agencies.get(code),
            )
            agency_for[code, area.code] = snapshot.agency_ids.get(decision.agency or "")
    status_pickers = [(age, _weighted(rng, weights)) for age, weights in STATUS_BY_AGE]

    # Text: every combination once, normalised once.
    texts: dict[str, list[str]] = {}
    for code in categories:
        problems = PROBLEMS.get(code, PROBLEMS["other"])
        texts[code] = [
            f"{problem} trên đường {street}{detail}."
            for problem in problems
            for street in STREETS
            for detail in DETAILS
        ]
    normalized: dict[str, str] = {}

    def norm(text: str) -> str:
        value = normalized.get(text)
        if value is None:
            value = normalized[text] = search_normalize(text)
        return value

    summary = Summary(statuses=dict.fromkeys(S.values, 0))
    # Outside a transaction (the command), the reports are committed first and the rest is
    # shared by several connections; inside one (tests), all of it stays in the caller's.
    parallel = connection.vendor == "postgresql" and not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Check foreign keys at each statement's end, so that no trigger event is pending
            # when the load drops and rebuilds constraints.
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        say(f"Users: {users} new citizens.")
        user_ids, heavy_phone = _users(rng, users, now)
        summary.users = users
        summary.heavy_reporter_phone = heavy_phone
        summary.heavy_reporter_reports = heavy_reports
        heavy_id = user_ids[0]
        others = user_ids[1:] or user_ids
        # A few citizens report a lot, most a little (a Zipf-like spread).
        user_weights = [1.0 / (rank + 1) ** 0.8 for rank in range(len(others))]
        cumulative_users = []
        running = 0.0
        for weight in user_weights:
            running += weight
            cumulative_users.append(running)

        def pick_reporter() -> int:
            return others[bisect.bisect_right(cumulative_users, rng.random() * running)]

        points = _points(rng, areas, min(count, 200_000))
        heavy_at = set(rng.sample(range(count), heavy_reports))

        report_start = (Report.objects.aggregate(m=Max("id"))["m"] or 0) + 1
        counters = dict(ReferenceCounter.objects.values_list("year", "last"))
        prefix = settings.REPORT_REFERENCE_PREFIX
        prefix_norm = search_normalize(prefix)

        # Creation times, oldest first (ids grow with time), the pace doubling over the span.
        latest = Report.objects.aggregate(m=Max("created_at"))["m"]
        begin = max(now - SPAN, latest + timedelta(seconds=1)) if latest else now - SPAN
        span_seconds = (now - begin).total_seconds()
        offsets = sorted(
            span_seconds * (1 - rng.random() ** 1.6) ** (1 / 1.6) for _ in range(count)
        )

        dropped = drop_secondary_indexes() if connection.vendor == "postgresql" else []
        if dropped:
            say(f"Dropped {len(dropped)} indexes and foreign keys for the load.")

        report_names = [
            "id",
            "reference",
            "reporter",
            "category",
            "description",
            "lat",
            "lng",
            "address",
            "area",
            "status",
            "priority",
            "agency",
            "is_public",
            "hide_name",
            "due_at",
            "rating",
            "rating_comment",
            "supporters_count",
            "routing_attempts",
            "created_at",
            "updated_at",
            "routed_at",
            "accepted_at",
            "resolved_at",
            "closed_at",
            "reopen_count",
            "search_text",
            "reporter_public",
            "channel",
        ]
        # Columns this generator does not know yet get their model default (COPY would leave
        # them NULL).
        report_defaults = _plain_defaults(Report, report_names)
        report_names += list(report_defaults)
        app_channel = Channel.objects.filter(code=Channel.APP).values_list("pk", flat=True).first()

        hue = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        user_start, user_count = user_ids[0], len(user_ids)
        pick_supporters = _weighted(rng, {"0": 72, "1": 16, "2": 7, "4": 4, "12": 1})
        pick_status_recent = [(age, pick) for age, pick in status_pickers]
        address_norm: dict[tuple[int, str], str] = {}
        for block_start in range(0, count, CHUNK):
            reports: list[tuple[Any, ...]] = []
            for i in range(block_start, min(count, block_start + CHUNK)):
                report_id = report_start + i
                created = begin + timedelta(seconds=offsets[i])
                age = now - created
                status = next(pick for limit, pick in pick_status_recent if age < limit)()
                year = created.astimezone(hue).year
                counters[year] = number = counters.get(year, 0) + 1
                reference = f"{prefix}-{year}-{number:06d}"
                reporter = heavy_id if i in heavy_at else pick_reporter()
                category = pick_category()
                lat, lng, area_code = points[i % len(points)]
                description = texts[category][rng.randrange(len(texts[category]))]
                street = rng.randrange(len(STREETS))
                house = rng.randint(1, 300)
                address = f"{house} {STREETS[street]}, {area_names[area_code]}"
                place = address_norm.get((street, area_code))
                if place is None:
                    place = search_normalize(f"{STREETS[street]}, {area_names[area_code]}")
                    address_norm[street, area_code] = place
                agency = agency_for[category, area_code]
                if agency is None and status != S.SUBMITTED:
                    status = S.NEEDS_TRIAGE
                if status in (S.SUBMITTED, S.NEEDS_TRIAGE):
                    agency = None
                urgent = rng.random() < 0.05
                hours = categories[category].urgent_deadline_hours if urgent else 0
                hours = hours or categories[category].deadline_hours
                # The lifecycle's timestamps, in its order.
                routed_at = accepted_at = resolved_at = closed_at = due_at = None
                rating: int | None = None
                last = created + timedelta(seconds=1) if status == S.NEEDS_TRIAGE else created
                if agency is not None:
                    elapsed = min(age.total_seconds(), 30 * 86400)
                    last = routed_at = created + timedelta(seconds=0.2 + rng.random() * 2.8)
                    due_at = routed_at + timedelta(hours=hours * 2.2)
                    if status in (S.IN_PROGRESS, S.RESOLVED, S.CLOSED):
                        last = accepted_at = routed_at + timedelta(
                            seconds=(0.02 + rng.random() * 0.18) * elapsed
                        )
                    if status in (S.RESOLVED, S.CLOSED):
                        last = resolved_at = last + timedelta(
                            seconds=(0.05 + rng.random() * 0.25) * elapsed
                        )
                    if status == S.CLOSED:
                        if rng.random() < 0.55:
                            rating = RATINGS[rng.randrange(len(RATINGS))]
                            closed_at = last + timedelta(hours=1 + rng.random() * 99)
                            last = closed_at = min(closed_at, now)
                        elif last + CLOSE_AFTER <= now:
                            last = closed_at = last + CLOSE_AFTER
                        else:
                            status = S.RESOLVED  # not closed automatically yet
                    if status == S.REJECTED:
                        last = closed_at = routed_at + timedelta(
                            seconds=(0.01 + rng.random() * 0.09) * elapsed
                        )
                last = min(last, now)
                summary.statuses[status] += 1
                is_public = rng.random() < 0.95
                backers = min(int(pick_supporters()), user_count - 1) if is_public else 0
                reports.append(
                    (
                        report_id,
                        reference,
                        reporter,
                        categories[category].pk,
                        description,
                        lat,
                        lng,
                        address,
                        area_ids[area_code],
                        status,
                        Priority.URGENT if urgent else Priority.NORMAL,
                        agency,
                        is_public,
                        rng.random() < 0.1,
                        due_at,
                        rating,
                        "",
                        backers,
                        0 if status == S.SUBMITTED else 1,
                        created,
                        last,
                        routed_at,
                        accepted_at,
                        resolved_at,
                        closed_at,
                        0,
                        f"{prefix_norm} {year} {number:06d} {norm(description)} {house} {place}",
                        is_public,
                        app_channel,
                        *report_defaults.values(),
                    )
                )
            write_rows(Report, report_names, reports)
            if connection.vendor != "postgresql":
                rows = [dict(zip(report_names, report, strict=True)) for report in reports]
                photos, events, supporters = _derive_rows(rng, rows, user_start, user_count)
                write_rows(Photo, PHOTO_COLUMNS, photos)
                write_rows(Event, timeline.EVENT_COLUMNS, events)
                write_rows(Supporter, SUPPORTER_COLUMNS, supporters)
            summary.reports += len(reports)
            say(f"Reports: {summary.reports} of {count} ({time.monotonic() - started:.0f} s).")
        for year, last in counters.items():
            ReferenceCounter.objects.update_or_create(year=year, defaults={"last": last})
        if connection.vendor == "postgresql" and not parallel:
            say(
                "Photos, timelines, supporters: derived in the database "
                f"({time.monotonic() - started:.0f} s)..."
            )
            _derive_in_database(
                first=report_start,
                last=report_start + count - 1,
                user_start=user_start,
                user_count=user_count,
            )
        if not parallel:
            summary.photos = Photo.objects.filter(report_id__gte=report_start).count()
            summary.events = Event.objects.filter(report_id__gte=report_start).count()
            summary.supporters = Supporter.objects.filter(report_id__gte=report_start).count()
            if dropped:
                say(
                    f"Rebuilding {len(dropped)} indexes and foreign keys "
                    f"({time.monotonic() - started:.0f} s)..."
                )
                rebuild(dropped)
            reset_sequences()
    if parallel:
        say(
            "Reports committed; photos, timelines, supporters, then the "
            f"{len(dropped)} indexes and foreign keys, over {PARALLEL_CONNECTIONS} connections "
            f"({time.monotonic() - started:.0f} s)..."
        )
        derived = finish_in_parallel(
            say=say,
            dropped=dropped,
            derive=derived_statements(
                first=report_start,
                last=report_start + count - 1,
                user_start=user_start,
                user_count=user_count,
                parts=PARALLEL_CONNECTIONS,
            ),
        )
        summary.photos = derived.get(Photo._meta.db_table, 0)
        summary.events = derived.get(Event._meta.db_table, 0)
        summary.supporters = derived.get(Supporter._meta.db_table, 0)
        reset_sequences()
        say(f"Indexes and foreign keys rebuilt ({time.monotonic() - started:.0f} s).")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            models = [get_user_model()] if parallel else [*LOADED_MODELS, get_user_model()]
            for model in models:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    summary.seconds = time.monotonic() - started
    return summary
