"""Reports API: the feed, a report, filing a report, and the reference data."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.db.models import QuerySet
from django.http import HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotAuthenticated, NotFound
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from accounts.permissions import IsVerified
from accounts.selectors import request_user
from hues.api_schema import error_response
from hues.filters import StrictBooleanField
from hues.parsers import JSONParser
from hues.throttling import IPThrottle, ReadAhead, UserThrottle, charge_miss, read_ahead
from reports import idempotency, lifecycle, moderation, selectors, services
from reports.api.etags import feed_etag, not_modified, report_etag
from reports.api.filters import ReportFilter, feed_cache_parameters
from reports.api.pagination import ReportPagination
from reports.api.serializers import (
    AreaOutput,
    CategoryOutput,
    CommentInput,
    EventOutput,
    FlagInput,
    FlagOutput,
    NearbyOutput,
    NearbyQuery,
    RatingInput,
    RatingOutput,
    ReopenInput,
    ReportCreateInput,
    ReportDetailOutput,
    ReportOutput,
    ReportPhotosInput,
    SupportOutput,
)
from reports.models import Report
from reports.services import PhoneNotVerified, Upload

if TYPE_CHECKING:
    from accounts.models import User


IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The ETag of a response you hold: 304 Not Modified while it is still current.",
)


# The reporter's own actions on a report (comment, rate, reopen): a signed-in user, a
# small body in JSON or as a form.
REPORTER_POST: dict[str, Any] = {
    "detail": True,
    "methods": ["post"],
    "permission_classes": [IsAuthenticated],
    "parser_classes": [JSONParser, FormParser, MultiPartParser],
}


class ReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    lookup_field = "reference"
    lookup_value_regex = r"[A-Z]{2,10}-\d{4}-\d{6,}"
    filterset_class = ReportFilter
    pagination_class = ReportPagination
    serializer_class = ReportOutput
    permission_classes = [AllowAny]
    parser_classes = [MultiPartParser, FormParser]

    def get_permissions(self) -> list[Any]:
        if self.action == "create":
            return [IsAuthenticated()]
        return list(super().get_permissions())

    def get_throttles(self) -> list[Any]:
        if self.action == "flags":
            return [*super().get_throttles(), UserThrottle("flag")]
        if self.action == "create":
            return [
                *super().get_throttles(),
                UserThrottle("report_create"),
                IPThrottle("report_create_ip"),
            ]
        return super().get_throttles()

    def get_serializer_class(self) -> type[BaseSerializer]:
        return ReportDetailOutput if self.action == "retrieve" else ReportOutput

    def _mine(self) -> bool:
        try:
            return bool(StrictBooleanField().clean(self.request.query_params.get("mine")))
        except forms.ValidationError:
            return False  # the filter set answers 400 for it

    def get_queryset(self) -> QuerySet[Report]:
        return selectors.report_feed(user=request_user(self.request), mine=self._mine())

    def get_object(self) -> Report:
        report = selectors.report_detail(
            user=request_user(self.request), reference=self.kwargs["reference"]
        )
        if report is None:
            raise NotFound()
        return report

    @extend_schema(
        description=(
            "The public feed (with mine=true, the caller's own reports), newest first unless "
            "ordering says otherwise, a page at a time. The response carries a weak ETag: "
            "send it back in If-None-Match to get 304 Not Modified while the page is unchanged."
        ),
        parameters=[IF_NONE_MATCH],
        responses={
            200: ReportOutput(many=True),
            304: None,
            400: error_response("`invalid` (fields): a filter, the cursor or the ordering."),
        },
    )
    def list(  # type: ignore[override]  # a cached page is bytes, not a DRF Response
        self, request: Request, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        key = self._page_key
        version, cached = self._cached_page(key)
        if cached is not None:
            etag, content = cached
        else:
            self._charge_miss(request)
            page = self.paginate_queryset(self.filter_queryset(self.get_queryset())) or []
            paginator = cast(ReportPagination, self.paginator)
            links = (paginator.get_next_link(), paginator.get_previous_link())
            etag = feed_etag(request, page, links)
            if not_modified(request, etag):
                return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
            body = self.get_paginated_response(self.get_serializer(page, many=True).data).data
            if not key:
                return self._response(etag, body)
            content = self._render(body)
            selectors.feed_cache_set(key, version, (etag, content))
        return self._cached_response(etag, content)

    # Cached pages are kept rendered (JSON bytes): a hit costs one Redis round trip (the
    # throttle's count, with the page and its versions read ahead in the same script) and no
    # query, serialising or rendering. Only for the JSON renderer (the browsable API of DEBUG
    # renders afresh).

    _page_key: str | None = None
    _page_ahead: ReadAhead | None = None

    def check_throttles(self, request: Request) -> None:
        self._page_key = self._cache_key(request)
        if self._page_key is not None:
            keys = selectors.feed_cache_keys(self._page_key, self._page_reference())
            self._page_ahead = read_ahead(request, keys)
        super().check_throttles(request)

    def _charge_miss(self, request: Request) -> None:
        """A cached read the cache could not answer costs what any anonymous request costs
        (hues.throttling.charge_miss)."""
        wait = charge_miss(request)
        if wait is not None:
            self.throttled(request, wait)

    def _page_reference(self) -> str | None:
        return self.kwargs["reference"] if self.action == "retrieve" else None

    def _cache_key(self, request: Request) -> str | None:
        """The cache key of this answer, or None when it is not cached."""
        if not isinstance(getattr(request, "accepted_renderer", None), JSONRenderer):
            return None
        anonymous = request_user(request) is None
        if self.action == "list":
            return selectors.feed_cache_key(
                url=request.build_absolute_uri(request.path),
                parameters=feed_cache_parameters(request.query_params),
                anonymous=anonymous,
            )
        if self.action == "retrieve":
            return selectors.report_cache_key(url=request.build_absolute_uri(), anonymous=anonymous)
        return None

    def _cached_page(self, key: str | None) -> tuple[tuple[str, ...], Any]:
        """The versions and the cached page under `key` (read ahead with the throttle when
        it counted this request)."""
        if key is None:
            return (), None
        found = self._page_ahead.found if self._page_ahead is not None else None
        return selectors.feed_cache_get(key, self._page_reference(), found=found)

    def _render(self, body: Any) -> bytes:
        request = self.request
        content = request.accepted_renderer.render(
            body, request.accepted_media_type, self.get_renderer_context()
        )
        return content.encode() if isinstance(content, str) else content

    def _response(self, etag: str, body: Any) -> Response:
        """An answer rendered by DRF (not cached), or 304 when the client has it."""
        if not_modified(self.request, etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        return Response(body, headers={"ETag": etag})

    def _cached_response(self, etag: str, content: bytes) -> HttpResponseBase:
        if not_modified(self.request, etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        response = HttpResponse(content, content_type=self.request.accepted_renderer.media_type)
        response["ETag"] = etag
        return response

    @extend_schema(
        description=(
            "A public report, or the caller's own. The response carries a weak ETag: send it "
            "back in If-None-Match to get 304 Not Modified while the report is unchanged."
        ),
        parameters=[IF_NONE_MATCH],
        responses={
            200: ReportDetailOutput,
            304: None,
            404: error_response("`not_found`: no such report, or another citizen's private one."),
        },
    )
    def retrieve(  # type: ignore[override]  # as list
        self, request: Request, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        key = self._page_key
        versions, cached = self._cached_page(key)
        if cached is not None:
            etag, content = cached
        else:
            self._charge_miss(request)
            report = self.get_object()
            etag = report_etag(request, report)
            body = self.get_serializer(report).data
            if not key:
                return self._response(etag, body)
            content = self._render(body)
            selectors.report_cache_set(key, versions, (etag, content))
        return self._cached_response(etag, content)

    @extend_schema(
        description=(
            "File a report. With an Idempotency-Key header, retries of the same request "
            "(same fields, same photo bytes) file it once: each answers 201 with that report "
            "as it is now, marked Idempotent-Replayed: true after the first. While the first "
            "request with the key is still at work, 409 idempotency_in_flight (try again); "
            "the key with another body, 422 idempotency_mismatch. Keys are kept 24 hours."
        ),
        parameters=[
            OpenApiParameter(
                idempotency.HEADER,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description=(
                    "A key of your choice for this report (e.g. a UUID), 1 to 255 visible "
                    "ASCII characters; send the same key when you retry."
                ),
            )
        ],
        request={"multipart/form-data": ReportCreateInput},
        responses={
            201: ReportDetailOutput,
            400: error_response(
                "`invalid` (fields), `unknown_category`, `outside_service_area`, "
                "`photo_count`, `invalid_photo`, `idempotency_key_invalid`."
            ),
            403: error_response("`phone_not_verified`: the caller's phone is not verified."),
            409: error_response("`idempotency_in_flight`: the first request is still at work."),
            413: error_response("`request_too_large`, `photo_too_large`."),
            415: error_response("`unsupported_photo_type`, `unsupported_media_type`."),
            422: error_response(
                "`idempotency_mismatch`: the Idempotency-Key was used with another body."
            ),
        },
    )
    def create(self, request: Request) -> Response:
        if not IsVerified().has_permission(request, self):
            raise PhoneNotVerified()
        data = ReportCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        uploads = [Upload(stream=file, size=file.size) for file in fields.pop("photos")]
        reporter = request_user(request)
        if reporter is None:
            raise NotAuthenticated()
        fields.update(reporter=reporter, category_code=fields.pop("category"), photos=uploads)
        key = request.headers.get(idempotency.HEADER)
        replayed = False
        if key is None:
            report = services.report_create(**fields)
        else:
            # The parsers are multipart and form only: the data is a QueryDict.
            body_hash = idempotency.request_hash(cast(QueryDict, request.data).lists())
            report, replayed = idempotency.report_create_once(
                key=key, request_hash=body_hash, **fields
            )
        created = selectors.report_detail(user=reporter, reference=report.reference)
        body = ReportDetailOutput(created, context=self.get_serializer_context()).data
        headers = {"Location": body["links"]["self"]}
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        return Response(body, status=status.HTTP_201_CREATED, headers=headers)

    # Citizen actions on a report. A report the caller may not see (another citizen's private
    # report) answers 404, as everywhere. The reporter-only actions answer 403 `not_reporter`
    # on a public report the caller did not file: they may see it, just not act on it.

    _NOT_REPORTER = error_response("`not_reporter`: a public report the caller did not file.")
    _NOT_FOUND = error_response("`not_found`: no such report, or another citizen's private one.")

    def _caller(self, request: Request) -> User:
        user = request_user(request)
        if user is None:
            raise NotAuthenticated()
        return user

    def _reported_by_caller(self, request: Request) -> Report:
        """The report of a reporter-only action: 404 unless the caller may see it, 403
        unless they filed it (checked before the input, so outsiders learn nothing)."""
        report = self.get_object()
        if report.reporter_id != self._caller(request).pk:
            raise services.NotReporter()
        return report

    def _detail_body(self, request: Request, report: Report) -> dict[str, Any]:
        fresh = selectors.report_detail(user=request_user(request), reference=report.reference)
        return ReportDetailOutput(fresh, context=self.get_serializer_context()).data

    @extend_schema(
        summary="Add photos to my report",
        description=(
            "The reporter adds evidence photos while the report is `submitted` (before an "
            "agency has it), up to 5 on the report in all. The status does not change."
        ),
        request={"multipart/form-data": ReportPhotosInput},
        responses={
            201: ReportDetailOutput,
            400: error_response("`invalid` (fields), `photo_count`, `invalid_photo`."),
            403: _NOT_REPORTER,
            404: _NOT_FOUND,
            409: error_response("`photos_closed`: an agency has the report already."),
            413: error_response("`photo_too_large`."),
            415: error_response("`unsupported_photo_type`."),
        },
    )
    @action(
        detail=True,
        methods=["post"],
        permission_classes=[IsAuthenticated],
        parser_classes=[MultiPartParser, FormParser],
    )
    def photos(self, request: Request, reference: str) -> Response:
        report = self._reported_by_caller(request)
        data = ReportPhotosInput(data=request.data)
        data.is_valid(raise_exception=True)
        uploads = [Upload(stream=file, size=file.size) for file in data.validated_data["photos"]]
        services.report_add_photos(report=report, actor=self._caller(request), photos=uploads)
        return Response(self._detail_body(request, report), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Write to the agency about my report",
        description="The reporter's message joins the timeline; it answers an agency's question.",
        request=CommentInput,
        responses={
            201: EventOutput,
            400: error_response("`invalid` (fields)."),
            403: _NOT_REPORTER,
            404: _NOT_FOUND,
            409: error_response("`transition_not_allowed`: the report is closed or rejected."),
        },
    )
    @action(**REPORTER_POST)
    def comments(self, request: Request, reference: str) -> Response:
        report = self._reported_by_caller(request)
        data = CommentInput(data=request.data)
        data.is_valid(raise_exception=True)
        event = lifecycle.report_comment(
            report=report, actor=self._caller(request), message=data.validated_data["message"]
        )
        return Response(EventOutput(event).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Rate the result of my report",
        description=(
            "1 to 5 stars and an optional comment; the report is closed. With 2 stars or fewer "
            "the answer has `ask_reopen: true`: the app offers to reopen it until "
            "`reopen_until`."
        ),
        request=RatingInput,
        responses={
            200: RatingOutput,
            400: error_response("`invalid` (fields)."),
            403: _NOT_REPORTER,
            404: _NOT_FOUND,
            409: error_response("`transition_not_allowed`: the report is not resolved."),
        },
    )
    @action(**REPORTER_POST)
    def rating(self, request: Request, reference: str) -> Response:
        report = self._reported_by_caller(request)
        data = RatingInput(data=request.data)
        data.is_valid(raise_exception=True)
        rating = services.report_rating_submit(
            report=report, actor=self._caller(request), **data.validated_data
        )
        return Response(RatingOutput(rating).data)

    @extend_schema(
        summary="Reopen my report",
        description=(
            "The problem is not fixed: within 7 days of the resolution the reporter reopens "
            "the report and the same agency works on it again."
        ),
        request=ReopenInput,
        responses={
            200: ReportDetailOutput,
            400: error_response("`invalid` (fields)."),
            403: _NOT_REPORTER,
            404: _NOT_FOUND,
            409: error_response(
                "`reopen_window_passed`: resolved more than 7 days ago; "
                "`transition_not_allowed`: the report is not resolved or closed."
            ),
        },
    )
    @action(**REPORTER_POST)
    def reopen(self, request: Request, reference: str) -> Response:
        report = self._reported_by_caller(request)
        data = ReopenInput(data=request.data)
        data.is_valid(raise_exception=True)
        lifecycle.report_reopen(
            report=report, actor=self._caller(request), reason=data.validated_data["reason"]
        )
        return Response(self._detail_body(request, report))

    @extend_schema(
        summary="Support a report (me too)",
        description=(
            "Any verified user but the reporter, once, while the report is open; counted in "
            "the report's `supporters`."
        ),
        request=None,
        responses={
            201: SupportOutput,
            403: error_response("`phone_not_verified`; `own_report`: the caller filed it."),
            404: _NOT_FOUND,
            409: error_response(
                "`already_supported` (nothing changes); `support_closed`: the report is "
                "no longer open."
            ),
        },
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def support(self, request: Request, reference: str) -> Response:
        report = self.get_object()
        count = services.report_support(report=report, user=self._caller(request))
        body = {"reference": report.reference, "supported": True, "supporters": count}
        return Response(SupportOutput(body).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Withdraw my support",
        request=None,
        responses={
            200: SupportOutput,
            404: _NOT_FOUND,
            409: error_response("`not_supported`: the caller does not support it."),
        },
    )
    @support.mapping.delete
    def support_withdraw(self, request: Request, reference: str) -> Response:
        report = self.get_object()
        count = services.report_support_withdraw(report=report, user=self._caller(request))
        body = {"reference": report.reference, "supported": False, "supporters": count}
        return Response(SupportOutput(body).data)

    @extend_schema(
        summary="Flag a report or a comment as inappropriate",
        description=(
            "Any verified user but the reporter, once per report (or comment: `comment` names "
            "its `id` in the timeline), with a reason code. Flags wait for a moderator; a "
            "report reaching the city's threshold of flags is hidden until one decides."
        ),
        request=FlagInput,
        responses={
            201: FlagOutput,
            400: error_response("`invalid` (fields); `unknown_comment`."),
            403: error_response("`phone_not_verified`; `cannot_flag`: the caller filed it."),
            404: _NOT_FOUND,
            409: error_response("`already_flagged` (nothing changes)."),
        },
    )
    @action(
        detail=True,
        methods=["post"],
        permission_classes=[IsAuthenticated],
        parser_classes=[JSONParser, FormParser, MultiPartParser],
    )
    def flags(self, request: Request, reference: str) -> Response:
        report = self.get_object()
        caller = self._caller(request)
        if not caller.is_verified:
            raise PhoneNotVerified(_("Verify your phone number before flagging a report."))
        data = FlagInput(data=request.data)
        data.is_valid(raise_exception=True)
        comment = data.validated_data["comment"]
        moderation.flag_create(
            report=report, user=caller, reason=data.validated_data["reason"], comment_id=comment
        )
        body = {"reference": report.reference, "comment": comment, "flagged": True}
        return Response(FlagOutput(body).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Likely duplicates near a point",
        description=(
            "Before filing: reports of the same category within the category's radius "
            "(`radius`, metres) that the caller may see, open ones first, then those resolved "
            "in the last 30 days, nearest first; at most 10."
        ),
        parameters=[NearbyQuery],
        responses={
            200: NearbyOutput,
            400: error_response("`invalid` (fields; `unknown_category`)."),
        },
    )
    @action(
        detail=False,
        methods=["get"],
        permission_classes=[IsAuthenticated],
        filter_backends=[],
        pagination_class=None,
    )
    def nearby(self, request: Request) -> Response:
        query = NearbyQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        category = query.validated_data["category"]
        results = selectors.reports_nearby(user=self._caller(request), **query.validated_data)
        body = {"radius": selectors.nearby_radius(category.code), "results": results}
        return Response(NearbyOutput(body, context=self.get_serializer_context()).data)


class CategoryViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = CategoryOutput
    pagination_class = None
    permission_classes = [AllowAny]

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.categories_active()


class AreaViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = AreaOutput
    pagination_class = None
    permission_classes = [AllowAny]

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.areas_all()
