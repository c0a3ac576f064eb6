"""Model instances from hand-written SQL, for the hot read paths (issue 17).

On an uncached read, building and compiling the ORM's queries costs several times what
PostgreSQL spends answering them (a report's detail: three queries of 0.1-0.2 ms each,
against milliseconds of queryset cloning, `as_sql` and select-related bookkeeping). A read
path that is requested once per URL over a long tail writes its SQL once, by hand, and turns
each row into the same model instances the ORM would have given, so the serializers, the
ETags and everything else downstream stay exactly as they are:

- `Columns` selects a model's columns (all, or some: the others are deferred, as `.only()`
  leaves them) under a table alias, and builds an instance from its slice of a row with the
  ORM's own converters for the connection's database (booleans and dates on SQLite, JSON),
  the instance `Model.from_db` would give (see `Columns.instance`);
- `prefetched` attaches a list as a reverse relation's prefetched result, as
  `prefetch_related` does, so `report.photos.all()` reads it without a query.

The column lists come from the models' metadata, so a new field is selected without touching
the SQL. tests/reports/test_fast_detail.py checks the instances and the API's answers against
the ORM's for every state a report can be in, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, TypeVar

from django.core.exceptions import EmptyResultSet
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init

M = TypeVar("M", bound=models.Model)

Converter = Callable[[Any, Any, BaseDatabaseWrapper], Any]


class Columns(Generic[M]):
    """Some of `model`'s columns under the table alias `alias`, and the instances built
    from them."""

    def __init__(
        self,
        model: type[M],
        alias: str,
        *,
        only: Iterable[str] | None = None,
        exclude: Iterable[str] = (),
    ) -> None:
        keep = None if only is None else {*only, model._meta.pk.name}
        skip = set(exclude)
        self.model = model
        self.alias = alias
        self.fields = [
            field
            for field in model._meta.concrete_fields
            if (keep is None or field.name in keep) and field.name not in skip
        ]
        if self.fields[0] is not model._meta.pk:
            raise ValueError("The primary key comes first (a LEFT JOIN's missing row).")
        self.attnames = tuple(field.attname for field in self.fields)
        self.width = len(self.fields)
        self._converters: dict[str, list[tuple[int, list[Converter], Any]]] = {}
        # Whether the model has pre_init / post_init receivers (known at the first build,
        # once every app has connected its own).
        self._signals: tuple[bool, bool] | None = None

    def sql(self, connection: BaseDatabaseWrapper) -> str:
        quote = connection.ops.quote_name
        return ", ".join(f"{self.alias}.{quote(str(field.column))}" for field in self.fields)

    def converters(self, connection: BaseDatabaseWrapper) -> list[tuple[int, list[Converter], Any]]:
        """What the ORM's compiler applies to each column's value on this database."""
        found = self._converters.get(connection.vendor)
        if found is None:
            found = []
            for position, field in enumerate(self.fields):
                column = field.get_col(self.alias)
                functions = [
                    *connection.ops.get_db_converters(column),
                    *field.get_db_converters(connection),
                ]
                if functions:
                    found.append((position, functions, column))
            self._converters[connection.vendor] = found
        return found

    def build(self, row: Sequence[Any], start: int, connection: BaseDatabaseWrapper) -> M | None:
        """The instance in row[start:start + width], or None for a LEFT JOIN's missing row."""
        values = list(row[start : start + self.width])
        if values[0] is None:
            return None
        for position, functions, column in self.converters(connection):
            value = values[position]
            for function in functions:
                value = function(value, column, connection)
            values[position] = value
        return self.instance(connection.alias, values)

    def instance(self, db: str, values: list[Any]) -> M:
        """What `Model.from_db(db, attnames, values)` gives, made the way `Model.__init__`
        leaves it for these fields (each column's value under its attname in the instance's
        __dict__, the deferred ones absent, a fresh `_state` not adding, from `db`, then
        post_init) without __init__'s loop through every field's descriptor: a feed page
        builds some 150 instances (tests/reports/test_fast_feed.py compares both)."""
        if self._signals is None:
            model = self.model
            self._signals = (pre_init.has_listeners(model), post_init.has_listeners(model))
        pre, post = self._signals
        if pre:
            return self.model.from_db(db, self.attnames, values)
        instance = self.model.__new__(self.model)
        instance.__dict__.update(zip(self.attnames, values, strict=True))
        state = instance._state = ModelState()
        state.adding = False
        state.db = db
        if post:
            post_init.send(sender=self.model, instance=instance)
        return instance

    def build_present(self, row: Sequence[Any], start: int, connection: BaseDatabaseWrapper) -> M:
        """The instance of a row's own table (never a LEFT JOIN's missing row)."""
        instance = self.build(row, start, connection)
        if instance is None:
            raise ValueError(f"No {self.model.__name__} at column {start} of the row.")
        return instance


def build_joined(
    row: Sequence[Any],
    start: int,
    joined: Iterable[Columns[Any]],
    connection: BaseDatabaseWrapper,
    shared: dict[tuple[type[models.Model], Any], models.Model] | None = None,
) -> tuple[list[Any], int]:
    """The instances of the column groups that follow one another in `row` from `start`
    (None for a LEFT JOIN's missing row), and where the last one ends. With `shared`, the
    rows of one statement (a page) share one instance per joined row, kept there by model
    and primary key: a page's reports share a few categories, areas and agencies."""
    instances = []
    for columns in joined:
        key = (columns.model, row[start])
        instance = shared.get(key) if shared is not None else None
        if instance is None:
            instance = columns.build(row, start, connection)
            if shared is not None and instance is not None:
                shared[key] = instance
        instances.append(instance)
        start += columns.width
    return instances, start


def compiled(queryset: models.QuerySet[Any]) -> tuple[str, Sequence[Any]] | None:
    """The SQL and parameters of a queryset, for a hand-written statement to read it as a
    subquery (the narrow query of a page's filters); None when it can match nothing (an
    empty queryset, or a filter such as `id__in=[]`)."""
    if queryset.query.is_empty():
        return None
    try:
        return queryset.query.sql_with_params()
    except EmptyResultSet:
        return None


T = TypeVar("T")


def per_database(
    make: Callable[[BaseDatabaseWrapper], T],
) -> Callable[[BaseDatabaseWrapper], T]:
    """`make(connection)` (a read's statements and columns) made once per kind of database
    (its vendor) and kept for the process."""
    made: dict[str, T] = {}

    @functools.wraps(make)
    def plan(connection: BaseDatabaseWrapper) -> T:
        found = made.get(connection.vendor)
        if found is None:
            found = made[connection.vendor] = make(connection)
        return found

    return plan


def prefetched(instance: models.Model, related_name: str, objects: list[Any]) -> None:
    """Attach `objects` as the prefetched result of `instance`'s reverse relation
    `related_name` (as prefetch_related leaves it), each pointing back to `instance`."""
    manager = getattr(instance, related_name)
    field = manager.field
    queryset: models.QuerySet[Any] = models.QuerySet(model=manager.model)
    queryset._result_cache = objects
    queryset._prefetch_done = True  # type: ignore[attr-defined]
    for obj in objects:
        field.set_cached_value(obj, instance)
    cache = instance.__dict__.setdefault("_prefetched_objects_cache", {})
    cache[field.remote_field.cache_name] = queryset
