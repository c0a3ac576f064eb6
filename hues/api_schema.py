"""The API's OpenAPI document: one component for the error shape of hues.api_errors, and the
error answers every operation may give, declared where they can happen.

Views declare the answers particular to them (a 403 or 409 with its codes, the 422 of an
Idempotency-Key) with `error_response(...)`; AutoSchema adds, to every operation that does not
declare them itself, the ones that come from the framework: 400 for input, 401 for a missing or
bad bearer token, 404 for an object in the path, 413 and 415 for a request body, 429 when the
operation is throttled, and 503 while the database is away (every operation but the health
check).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse, extend_schema_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny


@extend_schema_serializer(component_name="FieldError")
class FieldErrorOutput(serializers.Serializer):
    message = serializers.CharField()
    code = serializers.CharField()


@extend_schema_serializer(component_name="Error")
class ErrorOutput(serializers.Serializer):
    """The one error shape of the API (hues.api_errors)."""

    detail = serializers.CharField()
    code = serializers.CharField(help_text=_("Stable: clients switch on it."))
    # DRF's metaclass takes declared fields out of the class, so this does not hide
    # Serializer.fields; only the type checker sees a clash.
    fields = serializers.DictField(  # type: ignore[assignment]
        child=FieldErrorOutput(many=True),
        required=False,
        help_text=_("Invalid input: the errors of each field."),
    )


def error_response(description: str) -> OpenApiResponse:
    """An error answer in the API's error shape; `description` names its codes."""
    return OpenApiResponse(ErrorOutput, description=description)


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's AutoSchema, with the framework's error answers documented."""

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code, description in self._framework_errors():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    error_response(description), code, direction=direction
                )
        return dict(sorted(responses.items()))

    def _framework_errors(self) -> list[tuple[str, str]]:
        errors: list[tuple[str, str]] = []
        has_body = self.method in _BODY_METHODS and self.get_request_serializer() is not None
        has_query = any(parameter["in"] == "query" for parameter in self._get_parameters())
        if has_body or has_query:
            errors.append(("400", "`invalid` (fields): the input breaks a rule."))
        if self.view.authentication_classes:
            if self._anyone_may_call():
                errors.append(("401", "A bearer token was sent and is not valid."))
            else:
                errors.append(
                    (
                        "401",
                        "`not_authenticated`: no bearer token; `token_not_valid`, "
                        "`authentication_failed`: a token that is malformed, expired or revoked.",
                    )
                )
        if "{" in self.path:
            errors.append(("404", "`not_found`: no such object, or the caller may not see it."))
        if has_body:
            errors.append(("413", "`request_too_large`: the request body is too large."))
            errors.append(("415", "`unsupported_media_type`: a Content-Type not listed here."))
        if self.view.get_throttles():
            errors.append(("429", "`throttled`: too many requests; see Retry-After."))
        if not self.path.endswith("/health"):  # the health check touches no database
            errors.append(
                (
                    "503",
                    "`service_unavailable`: the database is away for a moment; retry after "
                    "Retry-After.",
                )
            )
        return errors

    def _anyone_may_call(self) -> bool:
        return all(isinstance(permission, AllowAny) for permission in self.view.get_permissions())
