"""Middleware: request guards that run before any view, the probes' short way in, and the
metrics and log line of every request."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.urls import URLPattern, resolve
from django.utils.translation import gettext as _

from hues import logs, metrics


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


class RequestObservationMiddleware:
    """Outermost but for the request id's: times each request, counts it in the metrics by
    route and status (hues.metrics) and writes its one log line (hues.logs)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        with metrics.HTTP_IN_PROGRESS.track_inprogress():
            response = self.get_response(request)
        seconds = time.perf_counter() - started
        route = metrics.route_of(request)
        metrics.observe_request(
            route=route, method=request.method or "", status=response.status_code, seconds=seconds
        )
        logs.log_request(request, response, route=route, seconds=seconds)
        return response


class ProbeMiddleware:
    """Answers the health probes and /metrics (hues.urls.operations) at once, before the host
    check, sessions, authentication and language: a load balancer or Prometheus asks by the
    instance's address, which ALLOWED_HOSTS need not hold, and the liveness probe touches
    nothing. Placed after SecurityMiddleware, whose HTTPS redirect exempts them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        from hues.urls import operations

        self.get_response = get_response
        patterns = [pattern for pattern in operations if isinstance(pattern, URLPattern)]
        self.paths = {f"/{pattern.pattern}": pattern for pattern in patterns}

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        pattern = self.paths.get(request.path_info)
        if pattern is None:
            return self.get_response(request)
        request.resolver_match = resolve(request.path_info)
        return pattern.callback(request)


class ContentSecurityPolicyMiddleware:
    """The Content-Security-Policy of the admin and of the API's documentation pages
    (settings.CONTENT_SECURITY_POLICIES, by path prefix): scripts from this site only, none
    inline, no plugin, no framing, forms posted here only. Styles may be inline (the admin's
    templates and the Swagger and Redoc bundles set them). A policy a view set is kept."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            for prefix, policy in settings.CONTENT_SECURITY_POLICIES.items():
                if request.path_info.startswith(prefix):
                    response["Content-Security-Policy"] = policy
                    break
        return response
