"""Realistic bulk data for benchmarks: citizens and their reports, with photos, timelines
and supporters, written fast.

PostgreSQL gets the rows through COPY (psycopg 3 `cursor.copy`), with the secondary indexes
of the report tables dropped during the load and rebuilt once at the end; other databases
(SQLite, for tests) get batched INSERTs. The reference data (areas, agencies, categories,
routing rules) comes from `reports.demo.seed_reference_data`, and every generated report is
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
from django.db.models import Field as DjangoField
from django.db.models import Max, Model
from django.utils import timezone

from reports.models import (
    Area,
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

UPDATE_MESSAGES = ["Đơn vị đã tiếp nhận và cử người kiểm tra hiện trường.", "Đang xử lý."]
RESOLVED_MESSAGES = ["Đã xử lý xong.", "Đã khắc phục, mời người dân kiểm tra lại."]
REJECTED_MESSAGES = ["Phản ánh không thuộc thẩm quyền.", "Trùng với phản ánh đã có."]

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


# Writing rows: COPY on PostgreSQL, batched INSERTs elsewhere.


def _columns(model: type[Model], names: Sequence[str]) -> list[str]:
    columns = []
    for name in names:
        field = model._meta.get_field(name)
        if not isinstance(field, DjangoField) or not field.column:
            raise TypeError(f"{model.__name__}.{name} is not a column.")
        columns.append(field.column)
    return columns


def _write(model: type[Model], names: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    columns = [connection.ops.quote_name(c) for c in _columns(model, names)]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Binary: the server reads numbers and times as they are, instead of parsing
            # their text (the larger part of a text COPY's time on the server).
            types = _column_types(model, cursor)
            raw = cursor.cursor  # the psycopg cursor under Django's wrapper
            sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
            with raw.copy(sql) as copy:
                copy.set_types([types[c] for c in _columns(model, names)])
                for row in rows:
                    copy.write_row(row)
            return
        adapt = connection.ops.adapt_datetimefield_value
        marks = ", ".join(["%s"] * len(columns))
        # Table and column names come from the models, never from input.
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
        prepared = [tuple(adapt(v) if isinstance(v, datetime) else v for v in row) for row in rows]
        for start in range(0, len(prepared), 500):
            cursor.executemany(sql, prepared[start : start + 500])


LOADED_MODELS: tuple[type[Model], ...] = (Report, Photo, Event, Supporter)


def _column_types(model: type[Model], cursor: Any) -> dict[str, int]:
    """PostgreSQL: the type (oid) of each column of the model's table."""
    cursor.execute(
        "SELECT attname, atttypid FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
        [model._meta.db_table],
    )
    return dict(cursor.fetchall())


def _drop_secondary_indexes() -> list[str]:
    """PostgreSQL: drop the foreign keys of the loaded tables and their indexes that back no
    constraint, and return the statements that rebuild them after the load. One index build
    and one validating join per constraint at the end are much faster than keeping indexes
    up to date and checking (deferred) foreign keys row by row."""
    tables = [m._meta.db_table for m in LOADED_MODELS]
    rebuild: list[str] = []
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
            FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])
            """,
            [tables],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            """
            SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
            FROM pg_index i
            WHERE i.indrelid = ANY(%s::regclass[])
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
            """,
            [tables],
        )
        indexes = cursor.fetchall()
        for table, name, _definition in constraints:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {connection.ops.quote_name(name)}")
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
    rebuild += [definition for _name, definition in indexes]
    rebuild += [
        f"ALTER TABLE {table} ADD CONSTRAINT {connection.ops.quote_name(name)} {definition}"
        for table, name, definition in constraints
    ]
    return rebuild


def _rebuild(statements: list[str]) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for statement in statements:
            cursor.execute(statement)


def _reset_sequences() -> None:
    from django.core.management.color import no_style

    models = [*LOADED_MODELS, get_user_model()]
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)


# Photos, timelines and supporters follow from a report's row by the same rules in Python
# (any database) and in SQL (PostgreSQL, where the server derives millions of rows faster
# than they can be sent): each transition the report went through has its event, at the
# time the row records; 1 to 3 evidence photos (by id: 70%, 20%, 10%) and a result photo
# once resolved; `supporters_count` supporters, distinct citizens other than the reporter.

EVENT_DATA = {
    K.NEEDS_TRIAGE: '{"reason": "no_rule"}',
    K.ROUTED: '{"reason": "rule:category"}',
    K.CLOSED: '{"auto": true}',
}


def _derive_rows(
    rng: random.Random,
    reports: list[tuple[Any, ...]],
    photo_id: int,
    event_id: int,
    supporter_id: int,
    user_start: int,
    user_count: int,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    photos: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    supporters: list[tuple[Any, ...]] = []
    for row in reports:
        report_id, reporter, status, rating, backers = row[0], row[2], row[9], row[15], row[17]
        created, updated, routed, accepted, resolved, closed = row[19:25]
        timeline: list[tuple[Any, ...]] = [
            (K.CREATED, reporter, "", S.SUBMITTED, "", True, created)
        ]
        if status == S.NEEDS_TRIAGE:
            timeline.append(
                (
                    K.NEEDS_TRIAGE,
                    None,
                    S.SUBMITTED,
                    S.NEEDS_TRIAGE,
                    "",
                    False,
                    created + timedelta(seconds=1),
                )
            )
        if routed is not None:
            timeline.append((K.ROUTED, None, S.SUBMITTED, S.ROUTED, "", True, routed))
        if accepted is not None:
            timeline.append((K.ACCEPTED, None, S.ROUTED, S.IN_PROGRESS, "", True, accepted))
            if report_id % 5 < 2:
                timeline.append(
                    (
                        K.PUBLIC_UPDATE,
                        None,
                        S.IN_PROGRESS,
                        S.IN_PROGRESS,
                        UPDATE_MESSAGES[report_id % 2],
                        True,
                        accepted + ((resolved or updated) - accepted) / 2,
                    )
                )
        if resolved is not None:
            timeline.append(
                (
                    K.RESOLVED,
                    None,
                    S.IN_PROGRESS,
                    S.RESOLVED,
                    RESOLVED_MESSAGES[report_id % 2],
                    True,
                    resolved,
                )
            )
        if status == S.CLOSED:
            if rating is not None:
                timeline.append((K.RATED, reporter, S.RESOLVED, S.CLOSED, "", True, closed))
            else:
                timeline.append((K.CLOSED, None, S.RESOLVED, S.CLOSED, "", True, closed))
        if status == S.REJECTED:
            timeline.append(
                (
                    K.REJECTED,
                    None,
                    S.ROUTED,
                    S.REJECTED,
                    REJECTED_MESSAGES[report_id % 2],
                    True,
                    closed,
                )
            )
        for kind, actor, source, target, message, public, when in timeline:
            data = f'{{"stars": {rating}}}' if kind == K.RATED else EVENT_DATA.get(kind, "{}")
            events.append(
                (event_id, report_id, kind, actor, source, target, message, public, data, when)
            )
            event_id += 1
        evidence = 1 + (report_id % 10 >= 7) + (report_id % 10 >= 9)
        shots = [(Photo.Kind.EVIDENCE, reporter, created)] * evidence
        if resolved is not None:
            shots.append((Photo.Kind.RESULT, None, resolved))
        for kind, by, when in shots:
            month = f"{when.year}/{when.month:02d}"
            name = f"{rng.getrandbits(128):032x}.jpg"
            photos.append(
                (
                    photo_id,
                    report_id,
                    kind,
                    f"photos/{month}/{name}",
                    f"thumbnails/{month}/{name}",
                    1600,
                    1200,
                    by,
                    when,
                )
            )
            photo_id += 1
        for k in range(1, backers + 1):
            user = user_start + (reporter - user_start + k * SUPPORTER_STEP) % user_count
            supporters.append((supporter_id, report_id, user, created + timedelta(hours=k)))
            supporter_id += 1
    return photos, events, supporters


def _derived_statements(
    *, first: int, last: int, user_start: int, user_count: int, parts: int = 1
) -> list[tuple[type[Model], str, dict[str, Any]]]:
    """The rules of `_derive_rows`, as INSERT ... SELECT over the reports first..last: the
    table each fills, the statement and its parameters. The events come in `parts`
    statements over ranges of reports (each report's timeline whole in one), so that
    connections can share them."""
    report = connection.ops.quote_name(Report._meta.db_table)
    event = connection.ops.quote_name(Event._meta.db_table)
    photo = connection.ops.quote_name(Photo._meta.db_table)
    supporter = connection.ops.quote_name(Supporter._meta.db_table)
    between = "id BETWEEN %(first)s AND %(last)s"
    columns = (
        "report_id, kind, actor_id, from_status, to_status, message, is_public, data, created_at"
    )

    def step(
        kind: str,
        actor: str,
        source: str,
        target: str,
        message: str,
        public: bool,
        data: str,
        when: str,
        where: str,
    ) -> str:
        # Names from the models and constants only; the values are parameters.
        sql = f"SELECT id, '{kind}', {actor}, '{source}', '{target}', {message}, {public}, "
        return sql + f"{data}::jsonb, {when} FROM {report} WHERE {between} AND {where}"

    steps = [
        step(K.CREATED, "reporter_id", "", S.SUBMITTED, "''", True, "'{}'", "created_at", "true"),
        step(
            K.NEEDS_TRIAGE,
            "NULL",
            S.SUBMITTED,
            S.NEEDS_TRIAGE,
            "''",
            False,
            f"'{EVENT_DATA[K.NEEDS_TRIAGE]}'",
            "created_at + interval '1 second'",
            f"status = '{S.NEEDS_TRIAGE}'",
        ),
        step(
            K.ROUTED,
            "NULL",
            S.SUBMITTED,
            S.ROUTED,
            "''",
            True,
            f"'{EVENT_DATA[K.ROUTED]}'",
            "routed_at",
            "routed_at IS NOT NULL",
        ),
        step(
            K.ACCEPTED,
            "NULL",
            S.ROUTED,
            S.IN_PROGRESS,
            "''",
            True,
            "'{}'",
            "accepted_at",
            "accepted_at IS NOT NULL",
        ),
        step(
            K.PUBLIC_UPDATE,
            "NULL",
            S.IN_PROGRESS,
            S.IN_PROGRESS,
            "(%(updates)s::text[])[id %% 2 + 1]",
            True,
            "'{}'",
            "accepted_at + (coalesce(resolved_at, updated_at) - accepted_at) / 2",
            "accepted_at IS NOT NULL AND id %% 5 < 2",
        ),
        step(
            K.RESOLVED,
            "NULL",
            S.IN_PROGRESS,
            S.RESOLVED,
            "(%(resolved)s::text[])[id %% 2 + 1]",
            True,
            "'{}'",
            "resolved_at",
            "resolved_at IS NOT NULL",
        ),
        step(
            K.RATED,
            "reporter_id",
            S.RESOLVED,
            S.CLOSED,
            "''",
            True,
            """('{"stars": ' || rating || '}')""",
            "closed_at",
            f"status = '{S.CLOSED}' AND rating IS NOT NULL",
        ),
        step(
            K.CLOSED,
            "NULL",
            S.RESOLVED,
            S.CLOSED,
            "''",
            True,
            f"'{EVENT_DATA[K.CLOSED]}'",
            "closed_at",
            f"status = '{S.CLOSED}' AND rating IS NULL",
        ),
        step(
            K.REJECTED,
            "NULL",
            S.ROUTED,
            S.REJECTED,
            "(%(rejected)s::text[])[id %% 2 + 1]",
            True,
            "'{}'",
            "closed_at",
            f"status = '{S.REJECTED}'",
        ),
    ]
    params: dict[str, Any] = {
        "first": first,
        "last": last,
        "updates": UPDATE_MESSAGES,
        "resolved": RESOLVED_MESSAGES,
        "rejected": REJECTED_MESSAGES,
        "user_start": user_start,
        "user_count": user_count,
        "step": SUPPORTER_STEP,
        "evidence": Photo.Kind.EVIDENCE,
        "result": Photo.Kind.RESULT,
    }
    name = "to_char(shot_at AT TIME ZONE 'UTC', 'YYYY/MM') || '/' || md5(random()::text) || '.jpg'"
    # Table names come from the models and the values are parameters: no input in the SQL.
    events = f"INSERT INTO {event} ({columns}) " + " UNION ALL ".join(steps)
    size = -(-(last - first + 1) // parts)
    statements: list[tuple[type[Model], str, dict[str, Any]]] = [
        (Event, events, {**params, "first": start, "last": min(last, start + size - 1)})
        for start in range(first, last + 1, size)
    ]
    photos, supporters = (
        f"""
        INSERT INTO {photo} (report_id, kind, image, thumbnail, width, height, uploaded_by_id,
                             created_at)
        SELECT id, kind, 'photos/' || name, 'thumbnails/' || name, 1600, 1200, by, shot_at
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
    statements = _derived_statements(
        first=first, last=last, user_start=user_start, user_count=user_count
    )
    with connection.cursor() as cursor:
        for _model, statement, params in statements:
            cursor.execute(statement, params)


# After the reports are committed, the rest (derived rows, index builds, foreign keys,
# statistics) is shared by a few connections, each taking the next statement whose table is
# ready: on PostgreSQL one statement uses one core (the trigram index over a million
# descriptions alone takes over a minute), and while one waits for the disk another computes.
PARALLEL_CONNECTIONS = 3
PHASES = {"load": "photos, timelines, supporters", "index": "indexes", "keys": "keys added"}
PHASES |= {"valid": "keys validated", "analyze": "ANALYZE"}


@dataclass
class _Task:
    sql: str
    params: dict[str, Any] | None = None
    table: str = ""  # the table the statement writes, or builds on
    needs: frozenset[str] = frozenset()  # labels done first
    label: str = ""
    done: bool = False
    taken: bool = False
    rows: int = 0


def _table_of(statement: str) -> str:
    """The table of a CREATE INDEX ... ON or an ALTER TABLE statement."""
    words = statement.replace("(", " ").split()
    if words[0] == "ALTER":
        name = words[2]
    else:
        name = words[words.index("ON") + 1]
        if name == "ONLY":
            name = words[words.index("ON") + 2]
    return name.split(".")[-1].strip('"')


def _finish_in_parallel(
    *,
    dropped: list[str],
    first: int,
    last: int,
    user_start: int,
    user_count: int,
    say: Callable[[str], None] = lambda _message: None,
) -> dict[str, int]:
    """Derive the photos, timelines and supporters of the committed reports first..last,
    rebuild the dropped indexes, then add the foreign keys (NOT VALID at once, validated in
    parallel: validation locks nothing that the others need) and ANALYZE, over
    PARALLEL_CONNECTIONS connections. Returns the rows derived per table. A failure stops
    the derivation, but the indexes and keys are still rebuilt before it is raised."""
    import threading

    from django.db import connections

    tasks: list[_Task] = []
    loaded = [m._meta.db_table for m in LOADED_MODELS]
    for model, sql, params in _derived_statements(
        first=first,
        last=last,
        user_start=user_start,
        user_count=user_count,
        parts=PARALLEL_CONNECTIONS,
    ):
        table = model._meta.db_table
        tasks.append(_Task(sql=sql, params=params, table=table, label=f"load:{table}"))
    # Longest first among what is ready: the reports' trigram index is ready at once.
    indexes = sorted(
        (d for d in dropped if not d.startswith("ALTER TABLE")),
        key=lambda d: ("gin" not in d.lower(), loaded.index(_table_of(d))),
    )
    for position, definition in enumerate(indexes):
        table = _table_of(definition)
        needs = frozenset({f"load:{table}"} & {t.label for t in tasks})
        task = _Task(sql=definition, table=table, needs=needs, label=f"index:{table}")
        # The trigram index goes right after the first derived statement.
        tasks.insert(1 if position == 0 else len(tasks), task)
    constraints = [d for d in dropped if d.startswith("ALTER TABLE")]
    everything = frozenset(t.label for t in tasks)
    for definition in constraints:
        name = definition.split("ADD CONSTRAINT ", 1)[1].split(" ", 1)[0]
        table = _table_of(definition)
        tasks.append(
            _Task(sql=f"{definition} NOT VALID", table=table, needs=everything, label="keys")
        )
        validate = f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}"
        tasks.append(_Task(sql=validate, table=table, needs=frozenset({"keys"}), label="valid"))
    for table in loaded:
        tasks.append(
            _Task(
                sql=f"ANALYZE {connection.ops.quote_name(table)}",
                needs=everything | {"keys"},
                label="analyze",
            )
        )

    lock = threading.Condition()
    errors: list[BaseException] = []
    began = time.monotonic()

    def next_task() -> _Task | None:
        with lock:
            while True:
                if errors:  # no more loading; the schema is still restored
                    for task in tasks:
                        if task.label.startswith("load:") and not task.taken:
                            task.taken = task.done = True
                waiting = [task for task in tasks if not task.taken]
                if not waiting:
                    return None
                pending = {task.label for task in tasks if not task.done}
                for task in waiting:
                    if not task.needs & pending:
                        task.taken = True
                        return task
                lock.wait()

    def work() -> None:
        try:
            with connections["default"].cursor() as cursor:
                cursor.execute("SET maintenance_work_mem = '1GB'")
                cursor.execute("SET synchronous_commit = off")
                while (task := next_task()) is not None:
                    try:
                        cursor.execute(task.sql, task.params)
                        task.rows = max(cursor.rowcount, 0)
                    except Exception as error:  # raised below, once the schema is back
                        with lock:
                            errors.append(error)
                    with lock:
                        task.done = True
                        kind = task.label.split(":")[0]
                        if all(t.done for t in tasks if t.label.startswith(kind)):
                            spent = time.monotonic() - began
                            say(f"  {PHASES.get(kind, kind)} done ({spent:.0f} s).")
                        lock.notify_all()
        finally:
            connections["default"].close()

    threads = [threading.Thread(target=work) for _ in range(PARALLEL_CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    rows: dict[str, int] = {}
    for task in tasks:
        if task.label.startswith("load:"):
            rows[task.table] = rows.get(task.table, 0) + task.rows
    return rows


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
    _write(user_model, names, rows)
    return [start + i for i in range(count)], f"{prefix}{first:07d}"


def _plain_defaults(model: type[Model], names: Sequence[str]) -> dict[str, Any]:
    """The non-null columns of `model` outside `names` that have a plain default value."""
    return {
        f.name: f.default
        for f in model._meta.concrete_fields
        if f.name not in names
        and not f.null
        and f.has_default()
        and not callable(f.default)
        and not f.primary_key
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
    from reports.demo import seed_reference_data

    started = time.monotonic()
    say = log or (lambda _message: None)
    rng = random.Random(seed)  # noqa: S311 (benchmark data, not secrets)
    now = now or timezone.now()
    if users is None:
        users = min(3000, max(20, count // 20))
    heavy_reports = min(heavy_reports, count)
    seed_reference_data(areas_path if areas_path is not None else settings.AREAS_GEOJSON)
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
        photo_id = (Photo.objects.aggregate(m=Max("id"))["m"] or 0) + 1
        event_id = (Event.objects.aggregate(m=Max("id"))["m"] or 0) + 1
        supporter_id = (Supporter.objects.aggregate(m=Max("id"))["m"] or 0) + 1
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

        dropped = _drop_secondary_indexes() if connection.vendor == "postgresql" else []
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
        ]
        photo_names = ["id", "report", "kind", "image", "thumbnail", "width", "height"]
        photo_names += ["uploaded_by", "created_at"]
        event_names = ["id", "report", "kind", "actor", "from_status", "to_status", "message"]
        event_names += ["is_public", "data", "created_at"]
        supporter_names = ["id", "report", "user", "created_at"]

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
                    )
                )
            _write(Report, report_names, reports)
            if connection.vendor != "postgresql":
                photos, events, supporters = _derive_rows(
                    rng, reports, photo_id, event_id, supporter_id, user_start, user_count
                )
                _write(Photo, photo_names, photos)
                _write(Event, event_names, events)
                _write(Supporter, supporter_names, supporters)
                photo_id += len(photos)
                event_id += len(events)
                supporter_id += len(supporters)
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
                _rebuild(dropped)
            _reset_sequences()
    if parallel:
        say(
            "Reports committed; photos, timelines, supporters, then the "
            f"{len(dropped)} indexes and foreign keys, over {PARALLEL_CONNECTIONS} connections "
            f"({time.monotonic() - started:.0f} s)..."
        )
        rows = _finish_in_parallel(
            say=say,
            dropped=dropped,
            first=report_start,
            last=report_start + count - 1,
            user_start=user_start,
            user_count=user_count,
        )
        summary.photos = rows.get(Photo._meta.db_table, 0)
        summary.events = rows.get(Event._meta.db_table, 0)
        summary.supporters = rows.get(Supporter._meta.db_table, 0)
        _reset_sequences()
        say(f"Indexes and foreign keys rebuilt ({time.monotonic() - started:.0f} s).")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            models = [get_user_model()] if parallel else [*LOADED_MODELS, get_user_model()]
            for model in models:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    summary.seconds = time.monotonic() - started
    return summary
