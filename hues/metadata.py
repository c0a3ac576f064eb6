"""The API's answer to OPTIONS."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework.metadata import SimpleMetadata
from rest_framework.request import Request

if TYPE_CHECKING:  # rest_framework.views imports this module while it loads its settings
    from rest_framework.views import APIView


class Metadata(SimpleMetadata):
    """DRF's metadata, for views with and without a serializer class: the actions that parse
    their input with a serializer of their own (registration, verification, logout, password
    reset) have none, where DRF's asserts, answering OPTIONS with a 500. Their input is
    described in the OpenAPI document (/api/schema/)."""

    def determine_actions(self, request: Request, view: APIView) -> dict[str, Any]:
        get_serializer_class = getattr(view, "get_serializer_class", None)
        if get_serializer_class is not None:
            try:
                get_serializer_class()
            except AssertionError:
                return {}
        actions: dict[str, Any] = super().determine_actions(request, view)
        return actions
