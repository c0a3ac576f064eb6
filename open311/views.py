"""GeoReport v2 (wiki.open311.org/GeoReport_v2) under /open311/v2/, in JSON and XML.

Thin: parse with a serializer, call one selector or service, render with a serializer. Errors
take GeoReport v2's shape (open311.errors); names follow Accept-Language or the `locale`
parameter. Open311 has its own specification, so none of this is in the OpenAPI schema.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import NotAuthenticated, NotFound, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hues.city import city_text
from open311 import selectors, services
from open311.authentication import ApiKeyAuthentication, ApiKeyRateThrottle
from open311.errors import exception_handler
from open311.models import ApiKey
from open311.renderers import Open311XMLRenderer
from open311.serializers import (
    ServiceDefinitionOutput,
    ServiceOutput,
    ServiceRequestCreatedOutput,
    ServiceRequestCreateInput,
    ServiceRequestOutput,
    ServiceRequestsQuery,
    TokenOutput,
)

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this endpoint's services or behaviour last changed.
CHANGESET = "2026-11-23T00:00:00+07:00"


def _language(locale: str) -> str | None:
    """Our language for a `locale` parameter (en, en_US, vi-VN…), or None."""
    code = locale.strip().replace("_", "-").lower()
    if not code:
        return None
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return None


class Open311View(APIView):
    schema = None  # not in the OpenAPI schema of /api/v1
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer, Open311XMLRenderer]
    parser_classes = [FormParser, MultiPartParser]
    metadata_class = None
    # The XML root element, and the element of each item when the body is a list.
    xml_root = "service_requests"
    xml_item = "request"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        language = _language(request.GET.get("locale", ""))
        if language is None:
            return super().dispatch(request, *args, **kwargs)
        with translation.override(language):
            response = super().dispatch(request, *args, **kwargs)
        response.headers["Content-Language"] = language
        return response

    def get_exception_handler(self) -> Callable[..., Response | None]:
        return exception_handler

    def get_throttles(self) -> list[Any]:
        return [*super().get_throttles(), ApiKeyRateThrottle()]


class DiscoveryView(Open311View):
    xml_root = "discovery"

    def get(self, request: Request, format: str | None = None) -> Response:
        discovery = reverse("open311:discovery", kwargs={"format": "json"})
        return Response(
            {
                "changeset": CHANGESET,
                "contact": city_text(_("%(app)s, the citizen feedback service of %(city)s.")),
                "key_service": city_text(
                    _("API keys are issued by the administrators of %(app)s.")
                ),
                "endpoints": [
                    {
                        "specification": SPECIFICATION,
                        "url": request.build_absolute_uri(discovery.rsplit("/", 1)[0]),
                        "changeset": CHANGESET,
                        "type": "test" if settings.DEBUG else "production",
                        "formats": ["text/xml", "application/json"],
                    }
                ],
            }
        )


class ServiceListView(Open311View):
    xml_root = "services"
    xml_item = "service"

    def get(self, request: Request, format: str | None = None) -> Response:
        return Response(ServiceOutput(selectors.services_active(), many=True).data)


class ServiceDefinitionView(Open311View):
    xml_root = "service_definition"

    def get(self, request: Request, service_code: str, format: str | None = None) -> Response:
        service = selectors.service_get(service_code)
        if service is None:
            raise NotFound(_("Unknown service_code."))
        return Response(ServiceDefinitionOutput(service).data)


class ServiceRequestListView(Open311View):
    def get(self, request: Request, format: str | None = None) -> Response:
        query = ServiceRequestsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        codes = filters.get("service_code")
        unknown = selectors.service_codes_unknown(codes) if codes else []
        if unknown:
            message = _("Unknown service_code: %(codes)s") % {"codes": ", ".join(unknown)}
            raise ValidationError({"service_code": [message]})
        reports = selectors.service_requests(
            references=filters.get("service_request_id"),
            service_codes=codes,
            start=filters["start_date"],
            end=filters["end_date"],
            statuses=filters.get("status"),
        )
        context = {"request": request}
        return Response(ServiceRequestOutput(reports, many=True, context=context).data)

    def post(self, request: Request, format: str | None = None) -> Response:
        data = ServiceRequestCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        api_key = request.auth
        if not isinstance(api_key, ApiKey):  # ApiKeyAuthentication refuses it first
            raise NotAuthenticated()
        report = services.service_request_create(
            api_key=api_key,
            service_code=fields["service_code"],
            lat=fields["lat"],
            lng=fields["long"],
            description=fields["description"],
            address=fields["address_string"],
            first_name=fields["first_name"],
            last_name=fields["last_name"],
            email=fields["email"],
            phone=fields["phone"],
            media_url=fields["media_url"],
        )
        body = [ServiceRequestCreatedOutput(report).data]
        return Response(body, status=status.HTTP_201_CREATED)


class ServiceRequestDetailView(Open311View):
    def get(self, request: Request, service_request_id: str, format: str | None = None) -> Response:
        report = selectors.service_request_get(service_request_id)
        if report is None:
            raise NotFound(_("Unknown service_request_id."))
        return Response([ServiceRequestOutput(report, context={"request": request}).data])


class TokenView(Open311View):
    def get(self, request: Request, token: str, format: str | None = None) -> Response:
        report = selectors.service_request_for_token(token)
        if report is None:
            raise NotFound(_("Unknown token."))
        return Response([TokenOutput(report).data])


class NotFoundView(Open311View):
    """Anything else under /open311/v2/: a GeoReport v2 error rather than an HTML page."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # Before authentication: an unknown address is a 404 whatever the method or key.
        self.format_kwarg = self.get_format_suffix(**kwargs)
        raise NotFound()
