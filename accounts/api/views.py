"""Accounts API: registration, verification, tokens, logout and the user's profile."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from accounts import services
from accounts.api.serializers import (
    LogoutInput,
    MeOutput,
    MeUpdateInput,
    RegisterInput,
    RegisterOutput,
    TokenInput,
    TokenRefreshInput,
    VerifyInput,
)
from accounts.models import User
from accounts.selectors import request_user
from hues.errors import InvalidInput, TooManyRequests


class AuthViewSet(viewsets.GenericViewSet):
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(request=RegisterInput, responses={201: RegisterOutput})
    @action(detail=False, methods=["post"])
    def register(self, request: Request) -> Response:
        data = RegisterInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_register(**data.validated_data)
        body = {
            "phone": user.phone,
            "is_verified": user.is_verified,
            "detail": _("We sent a 6-digit code to your phone."),
        }
        return Response(RegisterOutput(body).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=VerifyInput, responses={200: MeOutput})
    @action(detail=False, methods=["post"])
    def verify(self, request: Request) -> Response:
        data = VerifyInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_verify_phone(**data.validated_data)
        return Response(MeOutput(user).data)

    @extend_schema(request=LogoutInput, responses={204: None})
    @action(detail=False, methods=["post"], permission_classes=[IsAuthenticated])
    def logout(self, request: Request) -> Response:
        data = LogoutInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            token = RefreshToken(data.validated_data["refresh"])
            if str(token.get("user_id")) != str(request.user.pk):
                raise TokenError
            token.blacklist()
        except TokenError as error:
            raise InvalidInput(
                _("The refresh token is invalid or expired."),
                code="token_not_valid",
                field="refresh",
            ) from error
        return Response(status=status.HTTP_204_NO_CONTENT)


class LoginLockedOut(TooManyRequests):
    code = "login_locked"

    def __init__(self) -> None:
        minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
        super().__init__(
            _("Too many failed logins for this phone number. Try again in %(minutes)d minutes.")
            % {"minutes": minutes}
        )


class TokenView(TokenObtainPairView):
    serializer_class = TokenInput
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            return super().post(request, *args, **kwargs)
        except AuthenticationFailed:
            # django-axes marks the request it was given (DRF's) when the phone is locked out.
            if getattr(request, "axes_locked_out", False):
                raise LoginLockedOut() from None
            raise


class TokenRefresh(TokenRefreshView):
    serializer_class = TokenRefreshInput
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"


def _me(request: Request) -> User:
    user = request_user(request)
    if user is None:
        raise NotAuthenticated()
    return user


class MeViewSet(viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated]
    serializer_class = MeOutput

    def retrieve(self, request: Request) -> Response:
        return Response(MeOutput(request.user).data)

    @extend_schema(request=MeUpdateInput, responses={200: MeOutput})
    def partial_update(self, request: Request) -> Response:
        data = MeUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        user = services.user_update_profile(user=_me(request), **data.validated_data)
        return Response(MeOutput(user).data)
