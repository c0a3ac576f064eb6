"""One error shape for the whole API.

Every error is ``{"detail": <message>, "code": <stable code>}``; validation errors add
``"fields": {<field>: [{"message": ..., "code": ...}]}``.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from hues import errors

logger = logging.getLogger(__name__)

# The database is away (restarting, failing over, out of connections): the request may be
# retried as it is, so the answer is 503 with Retry-After, never a 500.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5


def _database_unavailable_body() -> dict[str, str]:
    return {
        "detail": _("The service is briefly unavailable. Try again in a few seconds."),
        "code": "service_unavailable",
    }


DOMAIN_STATUS = {
    errors.InvalidInput: status.HTTP_400_BAD_REQUEST,
    errors.NotPermitted: status.HTTP_403_FORBIDDEN,
    errors.ObjectNotFound: status.HTTP_404_NOT_FOUND,
    errors.Conflict: status.HTTP_409_CONFLICT,
    errors.PayloadTooLarge: status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    errors.UnsupportedMediaType: status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
    errors.Unprocessable: status.HTTP_422_UNPROCESSABLE_ENTITY,
    errors.TooManyRequests: status.HTTP_429_TOO_MANY_REQUESTS,
    errors.ServiceUnavailable: status.HTTP_503_SERVICE_UNAVAILABLE,
}


def domain_status(error: errors.DomainError) -> int:
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
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        return Response(body, status=domain_status(exc), headers=headers)

    if isinstance(exc, DATABASE_UNAVAILABLE):
        logger.error("Database unavailable: %s", exc)
        return Response(
            _database_unavailable_body(),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        # Django refuses a body larger than DATA_UPLOAD_MAX_MEMORY_SIZE while DRF parses it.
        return Response(
            {"detail": _("The request is too large."), "code": "request_too_large"},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    elif isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return Response(
            {"detail": _("The request has too many fields or files."), "code": "invalid"},
            status=status.HTTP_400_BAD_REQUEST,
        )

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


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: a URL no route matches answers in the API's error shape under /api/."""
    if _is_api(request):
        return JsonResponse({"detail": _("Not found."), "code": "not_found"}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: the API's clients get the error shape even from a crash. A database
    that is away (the error raised outside a DRF view: a middleware, the session) is a
    503 with Retry-After, for the API and the admin alike."""
    if isinstance(sys.exc_info()[1], DATABASE_UNAVAILABLE):
        if _is_api(request):
            response: HttpResponse = JsonResponse(_database_unavailable_body(), status=503)
        else:
            response = HttpResponse(
                _database_unavailable_body()["detail"],
                status=503,
                content_type="text/plain; charset=utf-8",
            )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if _is_api(request):
        return JsonResponse(
            {"detail": _("A server error occurred."), "code": "server_error"}, status=500
        )
    return defaults.server_error(request)
