"""Request guards that run before any view."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _


class BodySizeLimitMiddleware:
    """Refuse a request whose declared body is larger than REQUEST_MAX_BODY_SIZE with 413,
    before anything reads it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse(
                {"detail": _("Invalid Content-Length header."), "code": "invalid"}, status=400
            )
        if length > settings.REQUEST_MAX_BODY_SIZE:
            return JsonResponse(
                {"detail": _("The request is too large."), "code": "request_too_large"},
                status=413,
            )
        return self.get_response(request)
