"""Project-level endpoints: health for load balancers, the API's documentation pages."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.decorators import throttle_classes as use_throttles
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hues.health import readiness


@extend_schema(
    responses=inline_serializer("Health", {"status": serializers.CharField()}),
    description="Liveness for load balancers: touches no database.",
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
@use_throttles([])
def health(request: Request) -> Response:
    return Response({"status": "ok"})


def live(request: HttpRequest) -> JsonResponse:
    """GET /health/live: the process answers. Touches nothing (no database, cache or
    session): a load balancer or supervisor restarts an instance that stops answering."""
    response = JsonResponse({"status": "ok"})
    response["Cache-Control"] = "no-store"
    return response


def ready(request: HttpRequest) -> JsonResponse:
    """GET /health/ready: 200 when the database, the cache and the broker answer within
    their short timeouts, else 503 naming what is down (hues.health)."""
    result = readiness()
    body: dict[str, object] = {"status": "ready" if result.ready else "not_ready"}
    if not result.ready:
        body["down"] = result.down
    body["checks"] = result.checks
    response = JsonResponse(body, status=200 if result.ready else 503)
    response["Cache-Control"] = "no-store"
    if not result.ready:
        response["Retry-After"] = "5"
    return response


class _DocsPage(APIView):
    """A documentation page answers OPTIONS in JSON, like the API: the pages render with
    DRF's TemplateHTMLRenderer, which has no template for that answer (a 500)."""

    def get_renderers(self) -> list[BaseRenderer]:
        if self.request.method == "OPTIONS":
            return [JSONRenderer()]
        return super().get_renderers()


class SwaggerDocsView(_DocsPage, SpectacularSwaggerSplitView):
    """/api/docs/: Swagger UI, its start-up script served from its own URL (`?script`) rather
    than inline, so that the Content-Security-Policy allows scripts from this site only."""


class RedocDocsView(_DocsPage, SpectacularRedocView):
    """/api/redoc/."""
