"""Keyset ("cursor") pagination of a list in any of its orders (the report feed, the inbox).

A page resumes right after the last row of the previous one, by that row's values of the
ordering fields (e.g. the feed's newest: id; most supported: supporters, id; nearest:
distance, id), so the cost of a page does not grow with its depth and a row added meanwhile
never shifts a page.
DRF's CursorPagination would need one fixed ordering and counts ties with an offset, which
grows without bound when thousands of reports have the same number of supporters.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import BooleanField, Expression, F, Model, QuerySet, Value
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

_MAX_CURSOR_LENGTH = 1000
_MAX_INT = 2**63 - 1


@dataclass(frozen=True)
class Cursor:
    values: tuple[float | int, ...]
    reverse: bool


class KeysetPagination(BasePagination):
    """Pages of the queryset in its own `order_by`, whose fields must be non-null, all in
    the same direction, the last one the id. The cursor (opaque to clients) holds the
    ordering, the values of the row to resume from and the direction; a cursor made for
    another ordering is refused."""

    page_size = 20
    max_page_size = 100
    page_size_query_param = "page_size"
    cursor_query_param = "cursor"
    invalid_cursor_message = _("Invalid cursor.")
    page_size_description = _("Items per page, 1 to %(max)d (default %(default)d).")

    def paginate_queryset(
        self, queryset: QuerySet[Any] | Sequence[Any], request: Request, view: Any = None
    ) -> list[Any]:
        if not isinstance(queryset, QuerySet):
            raise ImproperlyConfigured("Keyset pagination pages querysets.")
        self.request = request
        self.page_size = self.get_page_size(request)
        self.ordering = _ordering(queryset)
        cursor = self.decode_cursor(request)
        if cursor is not None:
            queryset = queryset.filter(self._beyond(cursor))
            if cursor.reverse:
                queryset = queryset.reverse()
        rows = self.fetch(queryset[: self.page_size + 1])
        more = len(rows) > self.page_size
        rows = rows[: self.page_size]
        if cursor is not None and cursor.reverse:
            rows.reverse()
            self.has_next, self.has_previous = bool(rows), more
        else:
            self.has_next, self.has_previous = more, cursor is not None and bool(rows)
        self.page = rows
        return rows

    def fetch(self, page: QuerySet[Any]) -> list[Any]:
        """The rows of the page's queryset (ordered, sliced one beyond the page): a
        subclass may read them its own way."""
        return list(page)

    def get_page_size(self, request: Request) -> int:
        """page_size from the query, at most max_page_size; the default when it is missing
        or not a positive whole number (as DRF's paginations do)."""
        try:
            size = int(request.query_params[self.page_size_query_param])
        except (KeyError, ValueError):
            return self.page_size
        return min(size, self.max_page_size) if size > 0 else self.page_size

    def get_next_link(self) -> str | None:
        if not self.has_next:
            return None
        return self._link(Cursor(self._values(self.page[-1]), reverse=False))

    def get_previous_link(self) -> str | None:
        if not self.has_previous:
            return None
        return self._link(Cursor(self._values(self.page[0]), reverse=True))

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            {
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        link = {"type": "string", "nullable": True, "format": "uri"}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {"next": link, "previous": link, "results": schema},
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": str(
                    _(
                        "The page to show: take it from the next or previous link of a page. "
                        "A cursor belongs to one ordering."
                    )
                ),
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": str(
                    self.page_size_description
                    % {"max": self.max_page_size, "default": self.page_size}
                ),
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]

    def encode_cursor(self, cursor: Cursor) -> str:
        payload = {"o": list(self.ordering_names), "v": list(cursor.values), "r": cursor.reverse}
        data = json.dumps(payload, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    def decode_cursor(self, request: Request) -> Cursor | None:
        """The cursor of the request, or None for the first page; a garbled or foreign
        cursor is invalid input (400), not a missing page."""
        encoded = request.query_params.get(self.cursor_query_param)
        if not encoded:
            return None
        try:
            if len(encoded) > _MAX_CURSOR_LENGTH:
                raise ValueError(encoded)
            padded = encoded + "=" * (-len(encoded) % 4)
            payload = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
            names, values, reverse = payload["o"], payload["v"], payload["r"]
            if names != list(self.ordering_names) or not isinstance(reverse, bool):
                raise ValueError(names)
            if not isinstance(values, list) or len(values) != len(self.ordering):
                raise ValueError(values)
            if not all(_is_key_value(value) for value in values):
                raise ValueError(values)
        except (ValueError, TypeError, KeyError, UnicodeError, binascii.Error) as error:
            raise ValidationError(
                {self.cursor_query_param: [self.invalid_cursor_message]}, code="invalid"
            ) from error
        return Cursor(tuple(values), reverse)

    @property
    def ordering_names(self) -> tuple[str, ...]:
        return tuple(("-" if descending else "") + name for name, descending in self.ordering)

    def _values(self, row: Model) -> tuple[float | int, ...]:
        return tuple(getattr(row, name) for name, _descending in self.ordering)

    def _link(self, cursor: Cursor) -> str:
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, self.encode_cursor(cursor))

    def _beyond(self, cursor: Cursor) -> RowComparison:
        """Rows after the cursor's in the ordering (before it, for a reverse cursor)."""
        descending = self.ordering[0][1]
        return RowComparison(
            [name for name, _descending in self.ordering],
            "<" if descending != cursor.reverse else ">",
            cursor.values,
        )


class RowComparison(Expression):
    """(a, b) < (x, y): a row comparison (lexicographic), which PostgreSQL answers from an
    index on (a, b), starting right at (x, y) even when a thousand rows tie on `a`; the
    equivalent a < x OR (a = x AND b < y) would scan the ties. SQLite has it since 3.15."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, names: Sequence[str], operator: str, values: Sequence[float | int]):
        super().__init__()
        self.operator = operator
        self.lhs: list[Any] = [F(name) for name in names]
        self.rhs: list[Any] = [Value(value) for value in values]

    def get_source_expressions(self) -> list[Any]:
        return [*self.lhs, *self.rhs]

    def set_source_expressions(self, expressions: Sequence[Any]) -> None:
        self.lhs, self.rhs = list(expressions[: len(self.lhs)]), list(expressions[len(self.lhs) :])

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        rows: list[str] = []
        params: list[Any] = []
        for side in (self.lhs, self.rhs):
            parts = []
            for expression in side:
                sql, expression_params = compiler.compile(expression)
                parts.append(sql)
                params.extend(expression_params)
            rows.append(f"({', '.join(parts)})")
        return f"{rows[0]} {self.operator} {rows[1]}", tuple(params)


def _ordering(queryset: QuerySet[Any]) -> Sequence[tuple[str, bool]]:
    fields = [field for field in queryset.query.order_by if isinstance(field, str)]
    directions = {field.startswith("-") for field in fields}
    if (
        len(fields) != len(queryset.query.order_by)
        or fields[-1:] not in (["id"], ["-id"])
        or len(directions) != 1
    ):
        raise ImproperlyConfigured(
            "Keyset pagination needs an order_by of names in one direction, ending in id."
        )
    return [(field.removeprefix("-"), field.startswith("-")) for field in fields]


def _is_key_value(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return abs(value) <= _MAX_INT
    return isinstance(value, float) and math.isfinite(value)
