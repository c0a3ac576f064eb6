"""Project-level endpoints."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.decorators import throttle_classes as use_throttles
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response


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
