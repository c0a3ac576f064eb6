"""Writing benchmark rows fast: COPY on PostgreSQL (psycopg 3 `cursor.copy`, binary),
batched INSERTs elsewhere; the secondary indexes and foreign keys of the loaded tables
dropped during a load and rebuilt once at the end, over several connections."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Field as DjangoField
from django.db.models import Model

from reports.models import Event, Photo, Report, Supporter


def columns_of(model: type[Model], names: Sequence[str]) -> list[str]:
    columns = []
    for name in names:
        field = model._meta.get_field(name)
        if not isinstance(field, DjangoField) or not field.column:
            raise TypeError(f"{model.__name__}.{name} is not a column.")
        columns.append(field.column)
    return columns


def write_rows(model: type[Model], names: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    columns = [connection.ops.quote_name(c) for c in columns_of(model, names)]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Binary: the server reads numbers and times as they are, instead of parsing
            # their text (the larger part of a text COPY's time on the server).
            types = _column_types(model, cursor)
            raw = cursor.cursor  # the psycopg cursor under Django's wrapper
            sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
            with raw.copy(sql) as copy:
                copy.set_types([types[c] for c in columns_of(model, names)])
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


def drop_secondary_indexes() -> list[str]:
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


def rebuild(statements: list[str]) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for statement in statements:
            cursor.execute(statement)


def reset_sequences() -> None:
    from django.core.management.color import no_style

    models = [*LOADED_MODELS, get_user_model()]
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)


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


def finish_in_parallel(
    *,
    derive: list[tuple[type[Model], str, dict[str, Any]]],
    dropped: list[str],
    say: Callable[[str], None] = lambda _message: None,
) -> dict[str, int]:
    """Run the statements that derive rows from the committed reports (`derive`: photos,
    timelines, supporters, each with the model it fills), rebuild the dropped indexes, then
    add the foreign keys (NOT VALID at once, validated in parallel: validation locks nothing
    that the others need) and ANALYZE, over PARALLEL_CONNECTIONS connections. Returns the
    rows derived per table. A failure stops the derivation, but the indexes and keys are
    still rebuilt before it is raised."""
    import threading

    from django.db import connections

    tasks: list[_Task] = []
    loaded = [m._meta.db_table for m in LOADED_MODELS]
    for model, sql, params in derive:
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
