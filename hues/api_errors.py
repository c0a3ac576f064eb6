"""One error shape for the whole API.

Every error is ``{"detail": <message>, "code": <stable code>}``; validation errors add
``"fields": {<field>: [{"message": ..., "code": ...}]}``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from hues import errors

DOMAIN_STATUS = {
    errors.InvalidInput: status.HTTP_400_BAD_REQUEST,
    errors.NotPermitted: status.HTTP_403_FORBIDDEN,
    errors.ObjectNotFound: status.HTTP_404_NOT_FOUND,
    errors.Conflict: status.HTTP_409_CONFLICT,
    errors.PayloadTooLarge: status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    errors.UnsupportedMediaType: status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
    errors.TooManyRequests: status.HTTP_429_TOO_MANY_REQUESTS,
}


def _domain_status(error: errors.DomainError) -> int:
    for cls, code in DOMAIN_STATUS.items():
        if isinstance(error, cls):
            return code
    return status.HTTP_400_BAD_REQUEST


def _field_errors(detail: Any) -> dict[str, list[dict[str, str]]]:
    """Flatten DRF's nested error detail into {field: [{message, code}]}."""
    flat: dict[str, list[dict[str, str]]] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), item)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, exceptions.ErrorDetail):
                    flat.setdefault(prefix, []).append(
                        {"message": str(item), "code": item.code or "invalid"}
                    )
                else:
                    walk(f"{prefix}.{index}" if prefix else str(index), item)
        elif isinstance(value, exceptions.ErrorDetail):
            flat.setdefault(prefix, []).append(
                {"message": str(value), "code": value.code or "invalid"}
            )

    walk("", detail)
    return flat


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, errors.DomainError):
        body: dict[str, Any] = {"detail": str(exc.message), "code": exc.code}
        if exc.field:
            body["fields"] = {exc.field: [{"message": str(exc.message), "code": exc.code}]}
        return Response(body, status=_domain_status(exc))

    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None

    if isinstance(exc, exceptions.ValidationError):
        fields = _field_errors(exc.detail)
        non_field = fields.pop("non_field_errors", None)
        if non_field and not fields:
            response.data = {"detail": non_field[0]["message"], "code": non_field[0]["code"]}
        else:
            response.data = {
                "detail": _("Invalid input."),
                "code": "invalid",
                "fields": fields | ({"non_field_errors": non_field} if non_field else {}),
            }
        return response

    detail = getattr(exc, "detail", None)
    codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else None
    if isinstance(detail, dict):
        # simplejwt answers with {"detail": ..., "code": ..., "messages": [...]}.
        message = str(detail.get("detail", ""))
        code = str(detail.get("code", codes if isinstance(codes, str) else "error"))
        response.data = {"detail": message, "code": code}
    else:
        response.data = {
            "detail": str(detail),
            "code": codes if isinstance(codes, str) else "error",
        }
    return response
