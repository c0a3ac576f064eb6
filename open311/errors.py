"""GeoReport v2 errors: a list of {code, description}, with the code the HTTP status."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

from hues.api_errors import domain_status
from hues.errors import DomainError


def _descriptions(detail: Any, field: str = "") -> list[str]:
    if isinstance(detail, dict):
        return [
            text
            for key, value in detail.items()
            for text in _descriptions(value, "" if key == "non_field_errors" else str(key))
        ]
    if isinstance(detail, list):
        return [text for item in detail for text in _descriptions(item, field)]
    return [f"{field}: {detail}" if field else str(detail)]


def open311_error_response(status_code: int, descriptions: list[str], **headers: str) -> Response:
    body = [{"code": status_code, "description": text} for text in descriptions]
    return Response(body, status=status_code, headers=headers or None)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Domain errors and REST framework's errors as GeoReport v2 errors; anything else is
    left to Django (a 500)."""
    if isinstance(exc, DomainError):
        set_rollback()
        return open311_error_response(domain_status(exc), [str(exc.message)])
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None
    set_rollback()
    headers = {}
    wait = getattr(exc, "wait", None)
    if isinstance(exc, exceptions.Throttled) and wait is not None:
        headers["Retry-After"] = str(int(wait))
    return open311_error_response(exc.status_code, _descriptions(exc.detail), **headers)
