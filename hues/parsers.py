"""Request body parsers of the API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# No request of the API nests deeper than a few levels (a GeoJSON polygon: four); a client
# that sends thousands of brackets is refused before any serializer walks the value.
JSON_MAX_DEPTH = 32


class JsonTooDeep(ParseError):
    default_code = "json_too_deep"

    def __init__(self) -> None:
        super().__init__(
            _("The JSON body is nested too deeply (at most %(depth)d levels).")
            % {"depth": JSON_MAX_DEPTH}
        )


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether a parsed JSON value nests more than `limit` arrays and objects; iterative, so
    that it cannot overflow the stack itself."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, Mapping):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with the nesting bounded: Python's decoder answers a body of a few
    thousand nested brackets with RecursionError (a 500), and a value nested a few hundred
    levels deep would still overflow code that walks it recursively."""

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise JsonTooDeep from error
        if _deeper_than(data, JSON_MAX_DEPTH):
            raise JsonTooDeep
        return data
